/**
 * The emulator's control API, served by the local AWS endpoint under `/_steward/` (requests without
 * `X-Amz-Target`): kill tasks, interrupt Spot tasks, set capacity, read usage, inject event delivery
 * faults, read counters, and read or move the stack's clock. JSON in and out; errors are `{ "message": … }` with 400, 404, 405 or 501.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StackClock } from './clock';
import type { EcsCounters, EcsEmulator } from './ecs/emulator';
import { EcsApiError } from './ecs/errors';
import { checkFaultRates, type FaultRates, type FaultyTransport } from './event-faults';
import { readBody } from './http-body';

/** Path prefix of every control route. */
export const CONTROL_PREFIX = '/_steward/';

const MAX_BODY_BYTES = 1024 * 1024;

/** Capacity and Spot controls the emulator may offer (called only if it has them). */
type CapacityControls = {
  setCapacity(o: {
    cluster?: string;
    spotAvailable?: boolean;
    instances?: { cpu: number; memory: number; ports?: number[]; availabilityZone?: string }[];
  }): { containerInstanceArns: string[] };
  interruptSpot(o: { cluster?: string; task?: string; count?: number }): string[];
  usage(o: { cluster?: string; serviceGroup?: string; startedBy?: string }): {
    tasks: number;
    cpuPercent: number;
    memoryPercent: number;
  };
};

/** What the control API acts on. */
export type ControlApiOptions = {
  emulator: EcsEmulator;
  faults: FaultyTransport;
  /** The stack's clock; the standalone emulator has none (its clock is the system's). */
  clock?: StackClock;
  /** The AWS endpoint's requests per X-Amz-Target. */
  requestCounts: () => Record<string, number>;
};

/** What GET /_steward/counters answers. */
export type ControlCounters = {
  ecs: EcsCounters;
  faults: ReturnType<FaultyTransport['counters']>;
  requests: Record<string, number>;
};

/** True for a request the control API serves (no X-Amz-Target, path under /_steward/). */
export function isControlRequest(req: IncomingMessage): boolean {
  return req.headers['x-amz-target'] === undefined && (req.url ?? '').startsWith(CONTROL_PREFIX);
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;
type Route = {
  method: string;
  /** Reads a JSON body first (PUT, POST). */
  body: boolean;
  run: (o: { body: Body; query: URLSearchParams }) => unknown;
};

/** Builds the control API's request handler. */
export function createControlApi(options: ControlApiOptions) {
  const { emulator, faults } = options;
  const capacity = emulator as EcsEmulator & Partial<CapacityControls>;
  const unsupported = (name: string) =>
    new ControlError(
      501,
      `This ECS emulator has no ${name}() yet (EC2 capacity and Spot are not implemented in it).`,
    );

  const requireClock = (): StackClock => {
    if (!options.clock)
      throw new ControlError(
        501,
        'This endpoint has no controllable clock (run it with npm start).',
      );
    return options.clock;
  };
  /** The clock at `now` (default: read now), as the control API shows it. */
  const clockView = (now = requireClock().now()) => {
    return {
      now: new Date(now).toISOString(),
      offsetSeconds: Math.round((now - Date.now()) / 1000),
    };
  };

  const routes: Record<string, Route[]> = {
    'tasks/kill': [
      {
        method: 'POST',
        body: true,
        run: ({ body }) => {
          only(body, ['cluster', 'task', 'exitCode', 'reason', 'container']);
          const task = requiredString(body, 'task');
          const exitCode = body.exitCode;
          if (typeof exitCode !== 'number' || !Number.isInteger(exitCode) || exitCode < 0)
            throw new ControlError(400, 'exitCode must be a whole number, 0 or more');
          const cluster = optionalString(body, 'cluster');
          const reason = optionalString(body, 'reason');
          const container = optionalString(body, 'container');
          const killed = ecsCall(() =>
            emulator.killTask({
              task,
              exitCode,
              ...(cluster === undefined ? {} : { cluster }),
              ...(reason === undefined ? {} : { reason }),
              ...(container === undefined ? {} : { container }),
            }),
          );
          return { task: killed };
        },
      },
    ],
    'spot/interrupt': [
      {
        method: 'POST',
        body: true,
        run: ({ body }) => {
          only(body, ['cluster', 'task', 'count']);
          const cluster = optionalString(body, 'cluster');
          const task = optionalString(body, 'task');
          const count = body.count;
          if (
            count !== undefined &&
            (typeof count !== 'number' || !Number.isInteger(count) || count < 1)
          )
            throw new ControlError(400, 'count must be a whole number, 1 or more');
          if (typeof capacity.interruptSpot !== 'function') throw unsupported('interruptSpot');
          const interrupt = capacity.interruptSpot.bind(emulator);
          const taskArns = ecsCall(() =>
            interrupt({
              ...(cluster === undefined ? {} : { cluster }),
              ...(task === undefined ? {} : { task }),
              ...(count === undefined ? {} : { count }),
            }),
          );
          return { taskArns };
        },
      },
    ],
    capacity: [
      {
        method: 'PUT',
        body: true,
        run: ({ body }) => {
          only(body, ['cluster', 'spotAvailable', 'instances']);
          const cluster = optionalString(body, 'cluster');
          const spotAvailable = body.spotAvailable;
          if (spotAvailable !== undefined && typeof spotAvailable !== 'boolean')
            throw new ControlError(400, 'spotAvailable must be true or false');
          const instances = readInstances(body.instances);
          if (typeof capacity.setCapacity !== 'function') throw unsupported('setCapacity');
          const set = capacity.setCapacity.bind(emulator);
          return ecsCall(() =>
            set({
              ...(cluster === undefined ? {} : { cluster }),
              ...(spotAvailable === undefined ? {} : { spotAvailable }),
              ...(instances === undefined ? {} : { instances }),
            }),
          );
        },
      },
    ],
    usage: [
      {
        method: 'GET',
        body: false,
        run: ({ query }) => {
          for (const key of query.keys()) {
            if (!['cluster', 'serviceGroup', 'startedBy'].includes(key))
              throw new ControlError(
                400,
                `${key} is not a usage parameter (cluster, serviceGroup, startedBy)`,
              );
          }
          const filter: { cluster?: string; serviceGroup?: string; startedBy?: string } = {};
          for (const key of ['cluster', 'serviceGroup', 'startedBy'] as const) {
            const value = query.get(key);
            if (value !== null && value !== '') filter[key] = value;
          }
          if (typeof capacity.usage !== 'function') throw unsupported('usage');
          const usage = capacity.usage.bind(emulator);
          return ecsCall(() => usage(filter));
        },
      },
    ],
    faults: [
      {
        method: 'GET',
        body: false,
        run: () => ({ rates: faults.rates(), counters: faults.counters() }),
      },
      {
        method: 'PUT',
        body: true,
        run: ({ body }) => {
          const problem = checkFaultRates(body);
          if (problem) throw new ControlError(400, problem.message);
          faults.setRates(body as Partial<FaultRates>);
          return { rates: faults.rates(), counters: faults.counters() };
        },
      },
    ],
    clock: [
      {
        method: 'GET',
        body: false,
        run: () => clockView(),
      },
      {
        method: 'POST',
        body: true,
        run: ({ body }) => {
          only(body, ['now', 'advanceSeconds']);
          const clock = requireClock();
          const { now, advanceSeconds } = body;
          if ((now === undefined) === (advanceSeconds === undefined))
            throw new ControlError(400, 'give either now (an ISO time) or advanceSeconds');
          let moved: number;
          try {
            if (now !== undefined) {
              const at = typeof now === 'string' ? Date.parse(now) : Number.NaN;
              if (!Number.isFinite(at))
                throw new ControlError(
                  400,
                  'now must be an ISO 8601 time, e.g. 2026-03-29T06:59:30Z',
                );
              moved = clock.set(at);
            } else {
              if (typeof advanceSeconds !== 'number' || !(advanceSeconds >= 0))
                throw new ControlError(400, 'advanceSeconds must be a number, 0 or more');
              moved = clock.advance(advanceSeconds * 1000);
            }
          } catch (error) {
            if (error instanceof RangeError) throw new ControlError(400, error.message);
            throw error;
          }
          // The time moved to, not a later reading: a caller that set 07:00 is told 07:00.
          return clockView(moved);
        },
      },
    ],
    counters: [
      {
        method: 'GET',
        body: false,
        run: (): ControlCounters => ({
          ecs: emulator.counters(),
          faults: faults.counters(),
          requests: options.requestCounts(),
        }),
      },
    ],
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const name = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
      const candidates = Object.hasOwn(routes, name) ? routes[name] : undefined;
      if (!candidates) throw new ControlError(404, `No control route ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        const allow = candidates.map((r) => r.method).join(', ');
        throw new ControlError(405, `${url.pathname} accepts ${allow}`, { allow });
      }
      const body = route.body ? await readJsonObject(req) : {};
      if (!route.body) req.resume();
      send(res, 200, route.run({ body, query: url.searchParams }));
    })().catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ControlError) {
        send(res, error.status, { message: error.message }, error.headers);
      } else {
        send(res, 500, { message: `Control API failure: ${String(error)}` });
      }
    });
  };
}

/** Runs an emulator call; its EcsApiErrors become 404 (not found) or 400. */
function ecsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EcsApiError) {
      const notFound = /NotFound/.test(error.type) || /not found/i.test(error.message);
      throw new ControlError(notFound ? 404 : 400, `${error.type}: ${error.message}`);
    }
    throw error;
  }
}

async function readJsonObject(req: IncomingMessage): Promise<Body> {
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === undefined) throw new ControlError(400, 'Request body is larger than 1 MiB');
  const text = raw.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ControlError(400, 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ControlError(400, 'Request body must be a JSON object');
  return parsed as Body;
}

function only(body: Body, fields: string[]): void {
  for (const key of Object.keys(body)) {
    if (!fields.includes(key))
      throw new ControlError(400, `${key} is not accepted here (expected ${fields.join(', ')})`);
  }
}

function requiredString(body: Body, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined) throw new ControlError(400, `${field} is required`);
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '')
    throw new ControlError(400, `${field} must be a non-empty string`);
  return value;
}

type Instance = { cpu: number; memory: number; ports?: number[]; availabilityZone?: string };

function readInstances(value: unknown): Instance[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new ControlError(400, 'instances must be a list');
  return value.map((item: unknown, i): Instance => {
    const at = `instances[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new ControlError(400, `${at} must be an object`);
    const o = item as Body;
    for (const key of Object.keys(o)) {
      if (!['cpu', 'memory', 'ports', 'availabilityZone'].includes(key))
        throw new ControlError(
          400,
          `${at}.${key} is not accepted (expected cpu, memory, ports, availabilityZone)`,
        );
    }
    for (const field of ['cpu', 'memory'] as const) {
      const n = o[field];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
        throw new ControlError(400, `${at}.${field} must be a whole number, 1 or more`);
    }
    const ports = o.ports;
    if (
      ports !== undefined &&
      (!Array.isArray(ports) ||
        !ports.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65_535))
    )
      throw new ControlError(400, `${at}.ports must be a list of port numbers (0 to 65535)`);
    const zone = o.availabilityZone;
    if (zone !== undefined && (typeof zone !== 'string' || zone === ''))
      throw new ControlError(400, `${at}.availabilityZone must be a non-empty string`);
    return {
      cpu: o.cpu as number,
      memory: o.memory as number,
      ...(ports === undefined ? {} : { ports: ports as number[] }),
      ...(zone === undefined ? {} : { availabilityZone: zone as string }),
    };
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}
