/**
 * The reconcile loop on real local engines, for adversarial integration tests: dynalite for the
 * store, the ECS emulator over real HTTP (every task event captured, in order), the real SDK
 * adapters, and a clock the test moves. Plus the tools to judge the result from ECS's side (what
 * the emulator says ran), to count calls through a port, and to deliver events out of order.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import type { EcsEmulator, EventBridgeEvent } from '../../local/ecs/emulator';
import { makeDynamoDbServiceStore } from '../../shared/adapters/dynamodb-service-store';
import { makeEcsSdkCluster } from '../../shared/adapters/ecs-sdk-cluster';
import type { ReconcileDeps } from '../../shared/app/reconcile';
import { LaunchEnv, type ServiceSpec } from '../../shared/core/model';
import type { EcsCluster } from '../../shared/ports/ecs-cluster';
import type { ServiceStore } from '../../shared/ports/service-store';
import {
  createServicesTable,
  type DynamoDbEngine,
  makeLocalDynamoDbClient,
  startDynalite,
} from './dynamodb-engines';
import { registerFargateTaskDefinition, startEmulatorServer } from './emulator-server';
import { noLoadBalancing } from './no-load-balancing';

/** A clock the test moves: real time plus an offset, so time passes and can also jump. */
export type TestClock = { now: () => number; advance: (ms: number) => void };

export function makeTestClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}

export type Harness = {
  store: ServiceStore;
  ecsClient: ECSClient;
  cluster: EcsCluster;
  emulator: EcsEmulator;
  /** Every ECS task event the emulator emitted, in emission order. Delivered only by the test. */
  events: EventBridgeEvent[];
  clock: TestClock;
  deps: ReconcileDeps;
  close: () => Promise<void>;
};

/** Starts dynalite, a fresh table, the emulator over HTTP, and registers task definition `app:1`. */
export async function startHarness(options: {
  label: string;
  stepDelayMs?: number;
}): Promise<Harness> {
  const engine: DynamoDbEngine = await startDynalite();
  const ddb: DynamoDBClient = makeLocalDynamoDbClient(engine.endpoint);
  const store = makeDynamoDbServiceStore({
    client: ddb,
    tableName: await createServicesTable(ddb, options.label),
  });
  const {
    emulator,
    client: ecsClient,
    events,
    stop,
  } = await startEmulatorServer({
    stepDelayMs: options.stepDelayMs ?? 5,
    capture: 'cloned',
    maxAttempts: 1,
  });
  await registerFargateTaskDefinition({
    client: ecsClient,
    family: 'app',
    containers: [{ name: 'app', image: 'app:1', essential: true }],
  });
  const clock = makeTestClock();
  const cluster = makeEcsSdkCluster({ client: ecsClient });
  return {
    store,
    ecsClient,
    cluster,
    emulator,
    events,
    clock,
    deps: { store, ecs: cluster, loadBalancing: noLoadBalancing, clock: clock.now },
    close: async () => {
      await stop();
      ddb.destroy();
      await engine.stop();
    },
  };
}

/** Creates an extra ECS cluster in the emulator. */
export async function createCluster(h: Harness, clusterName: string): Promise<void> {
  await h.ecsClient.send(new CreateClusterCommand({ clusterName }));
}

/** A Fargate service spec on task definition `app:1`. */
export function serviceSpec(options: {
  serviceName: string;
  desiredCount: number;
  maximumPercent?: number;
  minimumHealthyPercent?: number;
  cluster?: string;
}): ServiceSpec {
  return {
    serviceName: options.serviceName,
    cluster: options.cluster ?? 'default',
    taskDefinition: 'app:1',
    desiredCount: options.desiredCount,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
    deploymentConfiguration: {
      minimumHealthyPercent: options.minimumHealthyPercent ?? 100,
      maximumPercent: options.maximumPercent ?? 200,
    },
  };
}

/** The slot and launch token a task carries in its container environment overrides. */
export function launchEnvOf(overrides: unknown): { slot?: number; token?: string } {
  const containers =
    (overrides as { containerOverrides?: { environment?: { name?: string; value?: string }[] }[] })
      ?.containerOverrides ?? [];
  const env = containers.flatMap((c) => c.environment ?? []);
  const index = env.find((e) => e.name === LaunchEnv.TASK_INDEX)?.value;
  const token = env.find((e) => e.name === LaunchEnv.LAUNCH_TOKEN)?.value;
  return {
    ...(index === undefined ? {} : { slot: Number(index) }),
    ...(token === undefined ? {} : { token }),
  };
}

/** One task as ECS reports it, with the slot and token read from its overrides. */
export type EcsTaskView = {
  taskArn: string;
  lastStatus: string;
  desiredStatus: string;
  slot?: number;
  token?: string;
};

/**
 * ECS's own answer (ListTasks for both desired statuses, then DescribeTasks): every task the
 * emulator still knows that was started for `serviceName`. Independent of Steward's adapters.
 */
export async function ecsTasksOf(
  h: Harness,
  options: { serviceName: string; cluster?: string },
): Promise<EcsTaskView[]> {
  const cluster = options.cluster ?? 'default';
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
    let nextToken: string | undefined;
    do {
      const out = await h.ecsClient.send(
        new ListTasksCommand({
          cluster,
          desiredStatus,
          startedBy: `steward/${options.serviceName}`,
          nextToken,
        }),
      );
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await h.ecsClient.send(
      new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }),
    );
    tasks.push(...(out.tasks ?? []));
  }
  return tasks.map((t) => ({
    taskArn: t.taskArn ?? '',
    lastStatus: t.lastStatus ?? '',
    desiredStatus: t.desiredStatus ?? '',
    ...launchEnvOf(t.overrides),
  }));
}

/** Distinct task ARNs per slot among `tasks` (a task without a slot is counted under -1). */
export function tasksPerSlot(tasks: EcsTaskView[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const t of tasks) {
    const slot = t.slot ?? -1;
    out.set(slot, [...new Set([...(out.get(slot) ?? []), t.taskArn])]);
  }
  return out;
}

/** Task events (in emitted order) of one service, from `from` on. */
export function serviceEvents(
  events: EventBridgeEvent[],
  serviceName: string,
  from = 0,
): EventBridgeEvent[] {
  return events.slice(from).filter((e) => e.detail.startedBy === `steward/${serviceName}`);
}

/**
 * The most tasks of `serviceName` that were live (not STOPPED) at once, replaying the ordered
 * event stream: ECS emits every change in order, so this is the live count at every moment.
 */
export function maxLiveFromEvents(events: EventBridgeEvent[], serviceName: string): number {
  const live = new Set<string>();
  let max = 0;
  for (const e of serviceEvents(events, serviceName)) {
    const arn = String(e.detail.taskArn);
    if (e.detail.lastStatus === 'STOPPED') live.delete(arn);
    else live.add(arn);
    max = Math.max(max, live.size);
  }
  return max;
}

/** mulberry32: a small seeded PRNG, so a failing shuffle is reproduced by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates in place with the given PRNG. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** Calls per method name through a counting proxy. */
export type CallCounts = Record<string, number>;

/**
 * Wraps a port (an object of async methods) so every method call is counted by name; `reset`
 * zeroes the counts. Calls go through unchanged.
 */
export function counting<T extends object>(
  target: T,
): { port: T; counts: CallCounts; reset: () => void } {
  const counts: CallCounts = {};
  const port = new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        counts[prop] = (counts[prop] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
  return {
    port,
    counts,
    reset: () => {
      for (const k of Object.keys(counts)) delete counts[k];
    },
  };
}

/** Sum of all counts. */
export function totalCalls(counts: CallCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the emulator has emitted nothing new for `quietMs` (every lifecycle step done). */
export async function waitForQuiet(h: Harness, quietMs = 60, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = h.events.length;
  let since = Date.now();
  for (;;) {
    await sleep(10);
    if (h.events.length !== seen) {
      seen = h.events.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    if (Date.now() > deadline) throw new Error('The emulator kept emitting events');
  }
}
