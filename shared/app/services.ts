/**
 * The service API's use cases: `(deps, input) → result`. Each validates its input, makes one
 * conditional write, and asks the controller to reconcile (an event; the tick repairs a lost one).
 */
import {
  ConflictError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../core/errors';
import type { Condition, ServiceRecord, ServiceSpec } from '../core/model';
import {
  createServiceSchema,
  parseOrThrow,
  restartPolicyOf,
  serviceNameSchema,
  updateServiceSchema,
} from '../core/schemas';
import type { ReconcileQueue } from '../ports/reconcile-queue';
import type { Page, ServiceEvent, ServiceStore, WriteResult } from '../ports/service-store';

export type ServiceDeps = { store: ServiceStore; queue: ReconcileQueue; clock: () => number };

/** A service as the API shows it: DescribeServices' shape, plus Steward's generation bookkeeping. */
export type ServiceView = ServiceSpec & {
  status: 'ACTIVE' | 'DRAINING';
  runningCount: number;
  pendingCount: number;
  generation: number;
  observedGeneration: number;
  steady: boolean;
  conditions: Condition[];
  createdAt: string;
  updatedAt: string;
};

/** The result of a write: the service, and whether the reconcile request went out. */
export type WriteOutcome = { service: ServiceView; reconcileRequested: boolean };

const DEFAULT_DEPLOYMENT = { minimumHealthyPercent: 100, maximumPercent: 200 };

/** Creates a service (ECS CreateService's body); ConflictError if the name is taken. */
export async function createService(deps: ServiceDeps, body: unknown): Promise<WriteOutcome> {
  const input = parseOrThrow({ schema: createServiceSchema, input: body, what: 'service' });
  if (input.launchType === 'FARGATE' && input.networkConfiguration === undefined) {
    throw new ValidationError('Invalid service: networkConfiguration', [
      {
        path: 'networkConfiguration',
        message: 'is required for launchType FARGATE (tasks use the awsvpc network mode)',
      },
    ]);
  }
  const spec: ServiceSpec = {
    serviceName: input.serviceName,
    cluster: input.cluster ?? 'default',
    taskDefinition: input.taskDefinition,
    desiredCount: input.desiredCount,
    ...(input.launchType ? { launchType: input.launchType } : {}),
    ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration } : {}),
    deploymentConfiguration: {
      minimumHealthyPercent:
        input.deploymentConfiguration?.minimumHealthyPercent ??
        DEFAULT_DEPLOYMENT.minimumHealthyPercent,
      maximumPercent:
        input.deploymentConfiguration?.maximumPercent ?? DEFAULT_DEPLOYMENT.maximumPercent,
    },
    restartPolicy: restartPolicyOf(input.restartPolicy),
  };
  const now = new Date(deps.clock()).toISOString();
  const written = await deps.store.createService({ spec, now });
  if (!written.ok) throw new ConflictError(`Service ${spec.serviceName} already exists`);
  return afterWrite(deps, spec.serviceName);
}

/** Reads one service; NotFoundError if there is none. */
export async function getService(
  deps: ServiceDeps,
  input: { serviceName: string },
): Promise<ServiceView> {
  const record = await deps.store.getService(validName(input.serviceName));
  if (!record) throw new NotFoundError(`Service ${input.serviceName} not found`);
  return toView(record);
}

/** Lists services, optionally of one cluster, a page at a time. */
export async function listServices(
  deps: ServiceDeps,
  input: { cluster?: string; maxResults?: string; nextToken?: string },
): Promise<Page<ServiceView>> {
  let limit: number | undefined;
  if (input.maxResults !== undefined) {
    limit = Number(input.maxResults);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new ValidationError('Invalid query: maxResults', [
        { path: 'maxResults', message: 'must be a whole number from 1 to 100' },
      ]);
    }
  }
  const page = await deps.store.listServices({
    ...(input.cluster !== undefined ? { cluster: input.cluster } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
  return { ...page, items: page.items.map(toView) };
}

/** Applies a partial update (PATCH) and bumps the generation. */
export async function updateService(
  deps: ServiceDeps,
  input: { serviceName: string; body: unknown; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  const body = parseOrThrow({ schema: updateServiceSchema, input: input.body, what: 'update' });
  if (Object.keys(body).length === 0) {
    throw new ValidationError('Invalid update: it names no field to change', [
      { path: '(body)', message: 'names no field to change' },
    ]);
  }
  const change: Partial<ServiceSpec> = {
    ...(body.desiredCount === undefined ? {} : { desiredCount: body.desiredCount }),
    ...(body.restartPolicy === undefined
      ? {}
      : { restartPolicy: restartPolicyOf(body.restartPolicy) }),
  };
  const now = new Date(deps.clock()).toISOString();
  const expectedGeneration = await generationOf(deps, { serviceName, ifMatch: input.ifMatch });
  expectWritten(
    await deps.store.updateSpec({
      serviceName,
      change,
      now,
      ...(expectedGeneration === undefined ? {} : { expectedGeneration }),
    }),
    serviceName,
  );
  return afterWrite(deps, serviceName);
}

/** Starts deleting a service: its tasks are stopped, then it is removed. */
export async function deleteService(
  deps: ServiceDeps,
  input: { serviceName: string; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  const now = new Date(deps.clock()).toISOString();
  const expectedGeneration = await generationOf(deps, { serviceName, ifMatch: input.ifMatch });
  expectWritten(
    await deps.store.markDeleting({
      serviceName,
      now,
      ...(expectedGeneration === undefined ? {} : { expectedGeneration }),
    }),
    serviceName,
  );
  return afterWrite(deps, serviceName);
}

/** The service's events, newest first. */
export async function listServiceEvents(
  deps: ServiceDeps,
  input: { serviceName: string; nextToken?: string },
): Promise<Page<ServiceEvent>> {
  const serviceName = validName(input.serviceName);
  if (!(await deps.store.getService(serviceName)))
    throw new NotFoundError(`Service ${serviceName} not found`);
  return deps.store.listEvents({
    serviceName,
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
}

async function afterWrite(deps: ServiceDeps, serviceName: string): Promise<WriteOutcome> {
  let reconcileRequested = true;
  try {
    await deps.queue.enqueue(serviceName);
  } catch {
    // The write is accepted either way; the next tick reconciles every service.
    reconcileRequested = false;
  }
  // Strongly consistent: an eventually consistent read could miss the write just made.
  const record = await deps.store.getService(serviceName, { consistent: true });
  if (!record) throw new NotFoundError(`Service ${serviceName} not found`);
  return { service: toView(record), reconcileRequested };
}

/** The service's ETag: its generation, as a strong entity tag. */
export function etagOf(service: { generation: number }): string {
  return `"${service.generation}"`;
}

/**
 * The generation an If-Match header asks for: undefined without the header or with `*` (any
 * existing service); a value that is no ETag of ours can match nothing, so it fails the precondition.
 */
async function generationOf(
  deps: ServiceDeps,
  o: { serviceName: string; ifMatch: string | undefined },
): Promise<number | undefined> {
  const header = o.ifMatch?.trim();
  if (header === undefined || header === '' || header === '*') return undefined;
  const tags = header.split(',').map((t) => t.trim());
  const generations = tags.flatMap((t) => {
    const m = /^"([1-9]\d{0,15})"$/.exec(t);
    return m ? [Number(m[1])] : [];
  });
  if (generations.length === 0) {
    throw new PreconditionFailedError(
      `If-Match ${header} matches no version of service ${o.serviceName}`,
    );
  }
  if (generations.length === 1) return generations[0];
  // Several tags: the write may go at whichever is current.
  const current = await deps.store.getService(o.serviceName, { consistent: true });
  if (!current) throw new NotFoundError(`Service ${o.serviceName} not found`);
  if (!generations.includes(current.generation)) {
    throw new PreconditionFailedError(
      `If-Match ${header} does not match the service's current ETag ${etagOf(current)}`,
    );
  }
  return current.generation;
}

function expectWritten(written: WriteResult, serviceName: string): void {
  if (written.ok) return;
  if (written.reason === 'not-found') throw new NotFoundError(`Service ${serviceName} not found`);
  if (written.reason === 'precondition-failed') {
    throw new PreconditionFailedError(
      `Service ${serviceName} has changed since the version in If-Match; read it again (GET) and retry with its ETag`,
    );
  }
  throw new ConflictError(`Service ${serviceName} is being deleted and cannot be changed`);
}

function validName(serviceName: string): string {
  return parseOrThrow({
    schema: serviceNameSchema,
    input: serviceName,
    what: 'serviceName',
    root: 'serviceName',
  });
}

/** The API's view of a stored service. */
function toView(record: ServiceRecord): ServiceView {
  return {
    ...record.spec,
    // A draining service is on its way to zero, whatever its spec said.
    desiredCount: record.deleting ? 0 : record.spec.desiredCount,
    status: record.deleting ? 'DRAINING' : 'ACTIVE',
    runningCount: record.status.runningCount,
    pendingCount: record.status.pendingCount,
    generation: record.generation,
    observedGeneration: record.status.observedGeneration,
    // Steady means the latest spec is applied, not only that the last one was.
    steady: record.status.steady && record.status.observedGeneration === record.generation,
    conditions: record.status.conditions,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
