/**
 * The domain model: what a service asks for (spec), what Steward remembers about it (record), and what
 * it knows of each task. Shapes follow ECS CreateService / Task where they overlap.
 */

export const TaskStatus = {
  PROVISIONING: 'PROVISIONING',
  PENDING: 'PENDING',
  ACTIVATING: 'ACTIVATING',
  RUNNING: 'RUNNING',
  DEACTIVATING: 'DEACTIVATING',
  STOPPING: 'STOPPING',
  DEPROVISIONING: 'DEPROVISIONING',
  STOPPED: 'STOPPED',
  DELETED: 'DELETED',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const LaunchType = {
  EC2: 'EC2',
  FARGATE: 'FARGATE',
  EXTERNAL: 'EXTERNAL',
} as const;
export type LaunchType = (typeof LaunchType)[keyof typeof LaunchType];

export type AwsVpcConfiguration = {
  subnets: string[];
  securityGroups?: string[] | undefined;
  assignPublicIp?: 'ENABLED' | 'DISABLED' | undefined;
};

export type NetworkConfiguration = { awsvpcConfiguration: AwsVpcConfiguration };

import type { LaunchFailure, RestartPolicy } from './restart';

export type DeploymentConfiguration = {
  minimumHealthyPercent: number;
  maximumPercent: number;
};

/** The desired state a user declares: ECS CreateService's fields (a growing subset). */
export type ServiceSpec = {
  serviceName: string;
  cluster: string;
  taskDefinition: string;
  desiredCount: number;
  launchType?: LaunchType;
  networkConfiguration?: NetworkConfiguration;
  deploymentConfiguration: DeploymentConfiguration;
  /** Steward's own: backoff and give-up for failing tasks (defaults when absent). */
  restartPolicy?: RestartPolicy;
};

/** A launch Steward has decided on and written down before calling RunTask (DESIGN.md, Claim). */
export type Expectation = {
  /** The RunTask clientToken: the same token always yields the same task. */
  token: string;
  slot: number;
  generation: number;
  taskDefinition: string;
  /** Epoch ms when claimed; an expectation that never materialises expires. */
  createdAt: number;
  /** Epoch ms of the last claimed retry (concurrent reconciles retry a launch once, not each). */
  issuedAt?: number;
};

export type ServicePhase = 'ACTIVE' | 'DRAINING';

export const ConditionType = {
  Steady: 'Steady',
  Progressing: 'Progressing',
  BackingOff: 'BackingOff',
  Failed: 'Failed',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** A condition that holds now, with a message a person can act on. */
export type Condition = {
  type: ConditionType;
  message: string;
  /** BackingOff: when the next launch may go (ISO time). */
  until?: string;
  /** BackingOff and Failed: the consecutive failures behind it (what makes it news when it changes). */
  failures?: number;
};

export type ServiceStatus = {
  phase: ServicePhase;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  observedGeneration: number;
  steady: boolean;
  conditions: Condition[];
};

/** What is stored for one service: spec plus the controller's own bookkeeping. */
export type ServiceRecord = {
  spec: ServiceSpec;
  /** Bumped by every spec change. */
  generation: number;
  /** Bumped by every claim; the optimistic lock between concurrent reconciles. */
  stateVersion: number;
  deleting: boolean;
  expectations: Record<string, Expectation>;
  /** Task ids Steward asked ECS to stop, with the epoch ms of the request. */
  pendingStops: Record<string, number>;
  /** Recent launches ECS refused (newest last, bounded): they count towards the restart policy. */
  launchFailures: LaunchFailure[];
  status: ServiceStatus;
  createdAt: string;
  updatedAt: string;
};

/** Steward's knowledge of one ECS task, written from events, RunTask answers and resync. */
export type TaskRecord = {
  taskId: string;
  taskArn: string;
  clusterArn?: string;
  lastStatus: TaskStatus;
  desiredStatus: string;
  /** ECS's per-task version (`detail.version`); a write with a lower one is stale. */
  version: number;
  slot?: number;
  launchToken?: string;
  generation?: number;
  taskDefinitionArn?: string;
  createdAt?: string;
  startedAt?: string;
  stoppingAt?: string;
  stoppedAt?: string;
  stopCode?: string;
  stoppedReason?: string;
  updatedAt?: string;
};

/** The prefix of RunTask `startedBy` that marks a task as Steward's; the rest is the service name. */
export const STARTED_BY_PREFIX = 'steward/';
/** RunTask's `startedBy` holds at most 128 characters, so a service name at most 120. */
export const MAX_SERVICE_NAME = 128 - STARTED_BY_PREFIX.length;

/** The `startedBy` value for a service's tasks (at most 128 characters, as ECS allows). */
export function startedByFor(serviceName: string): string {
  return `${STARTED_BY_PREFIX}${serviceName}`;
}

/** ECS: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens". */
export const SERVICE_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** The service that owns a task, from its `startedBy`, or undefined if Steward did not start it. */
export function ownerOf(startedBy: string | undefined): string | undefined {
  if (!startedBy?.startsWith(STARTED_BY_PREFIX)) return undefined;
  const name = startedBy.slice(STARTED_BY_PREFIX.length);
  // `steward/a/b` or `steward/` were not written by Steward: not ours.
  return SERVICE_NAME.test(name) ? name : undefined;
}

/** Environment variables Steward sets in every container of a task it launches. */
export const LaunchEnv = {
  /** The task's slot (stable replica index), for the application and for Steward. */
  TASK_INDEX: 'STEWARD_TASK_INDEX',
  /** The RunTask clientToken of the launch, so a task can be tied to its expectation. */
  LAUNCH_TOKEN: 'STEWARD_LAUNCH_TOKEN',
} as const;

/**
 * The slot and launch token a task was launched with, read from its container overrides (ECS puts
 * them in every task event and DescribeTasks answer), or nothing for a task not launched by Steward.
 */
export function launchInfoOf(overrides: unknown): { slot?: number; launchToken?: string } {
  const containers = (overrides as { containerOverrides?: unknown } | null | undefined)
    ?.containerOverrides;
  if (!Array.isArray(containers)) return {};
  for (const c of containers) {
    const env = (c as { environment?: unknown } | null)?.environment;
    if (!Array.isArray(env)) continue;
    const value = (name: string) =>
      (env as { name?: unknown; value?: unknown }[]).find((e) => e?.name === name)?.value;
    const index = value(LaunchEnv.TASK_INDEX);
    const token = value(LaunchEnv.LAUNCH_TOKEN);
    const slot = typeof index === 'string' && /^\d{1,6}$/.test(index) ? Number(index) : undefined;
    if (slot === undefined && typeof token !== 'string') continue;
    return {
      ...(slot !== undefined ? { slot } : {}),
      ...(typeof token === 'string' ? { launchToken: token } : {}),
    };
  }
  return {};
}

/** The task id is the last path segment of its ARN (old and new ARN formats alike). */
export function taskIdOf(taskArn: string): string {
  const slash = taskArn.lastIndexOf('/');
  return slash >= 0 ? taskArn.slice(slash + 1) : taskArn;
}

/** True while ECS still counts the task: everything before STOPPED. */
export function isLive(task: Pick<TaskRecord, 'lastStatus'>): boolean {
  return task.lastStatus !== TaskStatus.STOPPED && task.lastStatus !== TaskStatus.DELETED;
}
