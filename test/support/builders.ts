/**
 * Builders for core test inputs: a valid service record or task record with sensible defaults, so a
 * test names only the fields its case is about.
 */
import type {
  Expectation,
  ServiceRecord,
  ServiceSpec,
  TaskRecord,
  TaskStatus,
} from '../../shared/core/model';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CLUSTER_NAME = 'default';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER_NAME}`;

/** A fixed "now" (2025-01-01T00:00:00Z) so that ages are easy to read. */
export const NOW = Date.UTC(2025, 0, 1);

export type ServiceOverrides = Partial<Omit<ServiceRecord, 'spec'>> & {
  spec?: Partial<ServiceSpec>;
  /** Shorthands for the two spec fields most cases vary. */
  desiredCount?: number;
  maximumPercent?: number;
  minimumHealthyPercent?: number;
};

/** A service record for `web` (desired 3, maximumPercent 200) with no expectations or stops. */
export function aService(overrides: ServiceOverrides = {}): ServiceRecord {
  const { spec, desiredCount, maximumPercent, minimumHealthyPercent, ...rest } = overrides;
  const baseSpec: ServiceSpec = {
    serviceName: 'web',
    cluster: CLUSTER_NAME,
    taskDefinition: 'web:3',
    desiredCount: desiredCount ?? 3,
    deploymentConfiguration: {
      minimumHealthyPercent: minimumHealthyPercent ?? 100,
      maximumPercent: maximumPercent ?? 200,
    },
  };
  return {
    spec: { ...baseSpec, ...spec },
    generation: 1,
    deployment: { id: 1, startedAt: '2025-01-01T00:00:00.000Z', reason: 'service created' },
    stateVersion: 7,
    deleting: false,
    expectations: {},
    pendingStops: {},
    launchFailures: [],
    status: {
      phase: 'ACTIVE',
      desiredCount: desiredCount ?? 3,
      runningCount: 0,
      pendingCount: 0,
      observedGeneration: 1,
      steady: false,
      conditions: [],
    },
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...rest,
  };
}

/** A 32-hex task id derived from a short name, like the new ECS ARN format. */
export function taskIdFor(name: string): string {
  const hex = Buffer.from(name).toString('hex');
  return hex.padEnd(32, '0').slice(0, 32);
}

/** A RUNNING task of `web` named `id` (desired RUNNING), optionally in a slot. */
export function aTask(
  overrides: Partial<TaskRecord> & { name?: string; slot?: number } = {},
): TaskRecord {
  const { name, ...rest } = overrides;
  const taskId = rest.taskId ?? taskIdFor(name ?? `task-${String(rest.slot ?? 'x')}`);
  return {
    taskId,
    taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER_NAME}/${taskId}`,
    clusterArn: CLUSTER_ARN,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    version: 3,
    deployment: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    ...rest,
  };
}

/** Tasks with the given status in slots 0..n-1. */
export function tasksInSlots(n: number, lastStatus: TaskStatus = 'RUNNING'): TaskRecord[] {
  return Array.from({ length: n }, (_, slot) => aTask({ slot, lastStatus }));
}

/** An expectation (a claimed launch) for `slot`, created `ageMs` before `now`. */
export function anExpectation(options: {
  slot: number;
  ageMs: number;
  now?: number;
  token?: string;
}): Expectation {
  return {
    token: options.token ?? `tok-slot-${options.slot}-age-${options.ageMs}`,
    slot: options.slot,
    generation: 1,
    taskDefinition: 'web:3',
    createdAt: (options.now ?? NOW) - options.ageMs,
    deployment: 1,
  };
}

/** The `expectations` map of a service record, keyed by token as the store keeps it. */
export function expectationsOf(...list: Expectation[]): Record<string, Expectation> {
  return Object.fromEntries(list.map((e) => [e.token, e]));
}
