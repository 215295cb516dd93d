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
import type { ScalingPolicy, ScalingState } from './scaling';

export type DeploymentConfiguration = {
  minimumHealthyPercent: number;
  maximumPercent: number;
  /** ECS's circuit breaker: a deployment whose tasks keep failing is stopped (and rolled back). */
  deploymentCircuitBreaker?: { enable: boolean; rollback: boolean };
};

export type CapacityProviderStrategyItem = {
  capacityProvider: string;
  weight?: number;
  base?: number;
};
export type PlacementConstraint = { type: 'distinctInstance' | 'memberOf'; expression?: string };
export type PlacementStrategy = { type: 'random' | 'spread' | 'binpack'; field?: string };
export type Tag = { key: string; value?: string };

/**
 * ECS LoadBalancer, for Application and Network Load Balancer target groups: each task's
 * `containerName` container is registered at `containerPort` (ip targets: awsvpc tasks only).
 */
export type LoadBalancer = { targetGroupArn: string; containerName: string; containerPort: number };

/** One target Steward registered for a task: its private IP and port in one target group. */
export type Target = { targetGroupArn: string; id: string; port: number };

/**
 * A target as the service record keeps it: when its registration was claimed (epoch ms), and once
 * Steward deregistered it to stop its task, when and why (the task is on its way out from then on).
 */
export type RecordedTarget = Target & {
  registeredAt?: number;
  deregisteredAt?: number;
  reason?: string;
  /** Deregistered and drained, its task gone: kept only as the task's history (restart policy). */
  released?: boolean;
};

/** ELB's target health states (DescribeTargetHealth). */
export type TargetHealthState =
  | 'initial'
  | 'healthy'
  | 'unhealthy'
  | 'unhealthy.draining'
  | 'unused'
  | 'draining'
  | 'unavailable';

/** A target's health as ELB reports it. */
export type TargetHealth = { state: TargetHealthState; reason?: string; description?: string };

/**
 * What reconcile read of the target groups it needs: per target group ARN, the registered targets'
 * health by `id:port` (an unlisted target is not registered), or `missing` if the group is gone.
 */
export type TargetGroupsHealth = ReadonlyMap<
  string,
  { missing: true } | { missing?: false; targets: ReadonlyMap<string, TargetHealth> }
>;

/** The key of a target in TargetGroupsHealth's per-group map. */
export function targetKey(target: Pick<Target, 'id' | 'port'>): string {
  return `${target.id}:${target.port}`;
}

/** Whether two targets are the same: one IP and port in one target group. */
export function sameTarget(a: Target, b: Target): boolean {
  return a.targetGroupArn === b.targetGroupArn && a.id === b.id && a.port === b.port;
}
export type PropagateTags = 'TASK_DEFINITION' | 'SERVICE' | 'NONE';

/** Steward's own: launch on on-demand Fargate while Fargate Spot has no capacity, then go back. */
export type SpotFallback = {
  enabled: boolean;
  /** How long after the last Spot capacity failure or interruption launches stay on-demand. */
  retrySpotAfterSeconds: number;
};

/** The desired state a user declares: ECS CreateService's fields plus Steward's own. */
export type ServiceSpec = {
  serviceName: string;
  cluster: string;
  taskDefinition: string;
  desiredCount: number;
  launchType?: LaunchType;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
  deploymentConfiguration: DeploymentConfiguration;
  placementConstraints?: PlacementConstraint[];
  placementStrategy?: PlacementStrategy[];
  /** Target groups each task is registered with once RUNNING, and drained from before it stops. */
  loadBalancers?: LoadBalancer[];
  /** Seconds after a task starts during which failing target health checks do not stop it. */
  healthCheckGracePeriodSeconds?: number;
  tags?: Tag[];
  propagateTags?: PropagateTags;
  enableExecuteCommand?: boolean;
  /** Steward's own: backoff and give-up for failing tasks (defaults when absent). */
  restartPolicy?: RestartPolicy;
  /** Steward's own: bounds for scaling policies (and for nothing else). */
  minCapacity?: number;
  maxCapacity?: number;
  scalingPolicies?: ScalingPolicy[];
  /** Steward's own: a RUNNING task older than this many seconds is replaced (rolling). */
  maxTaskLifetime?: number;
  spotFallback?: SpotFallback;
  /** Steward's own: no tasks run while paused; `desiredCount` is kept and applies again on resume. */
  paused?: boolean;
};

/**
 * The spec fields that shape a task: changing one starts a deployment (every task is replaced, within
 * the deployment configuration's bounds), as ECS UpdateService does.
 */
export const LAUNCH_FIELDS = [
  'taskDefinition',
  'launchType',
  'capacityProviderStrategy',
  'platformVersion',
  'networkConfiguration',
  'placementConstraints',
  'placementStrategy',
  'loadBalancers',
  'tags',
  'propagateTags',
  'enableExecuteCommand',
] as const satisfies readonly (keyof ServiceSpec)[];

/** The launch fields that differ between two specs (deep comparison). */
export function changedLaunchFields(a: ServiceSpec, b: ServiceSpec): string[] {
  return LAUNCH_FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}

/** The capacity providers that are Fargate's own. */
export const FARGATE_PROVIDERS: ReadonlySet<string> = new Set(['FARGATE', 'FARGATE_SPOT']);

/** Whether a spec launches on Fargate: its launch type, or a strategy naming a Fargate provider. */
export function launchesOnFargate(spec: {
  launchType?: string | undefined;
  capacityProviderStrategy?: readonly { capacityProvider: string }[] | undefined;
}): boolean {
  return (
    spec.launchType === LaunchType.FARGATE ||
    (spec.capacityProviderStrategy?.some((i) => FARGATE_PROVIDERS.has(i.capacityProvider)) ?? false)
  );
}

/** The deployment tasks are launched for: the generation at which their launch fields last changed. */
export type Deployment = {
  /** Tasks launched for it carry it as STEWARD_DEPLOYMENT; tasks of a lower one are replaced. */
  id: number;
  startedAt: string;
  /** Why it started ("service created", "taskDefinition changed", "redeploy requested"). */
  reason: string;
  /** The last completed deployment before it: what the circuit breaker rolls back to. */
  previous?: { id: number; launch: Partial<ServiceSpec> };
};

/**
 * What a rollback restores: the launch fields, and `spotFallback`, which only makes sense with the
 * capacity strategy it was given with (it starts no deployment of its own).
 */
export const ROLLBACK_FIELDS = [...LAUNCH_FIELDS, 'spotFallback'] as const;

/** The fields a rollback restores, of a spec (those absent are absent). */
export function launchFieldsOf(spec: ServiceSpec): Partial<ServiceSpec> {
  const out: Partial<ServiceSpec> = {};
  for (const f of ROLLBACK_FIELDS) {
    if (spec[f] !== undefined) (out as Record<string, unknown>)[f] = spec[f];
  }
  return out;
}

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
  /** The deployment it launches for (absent on expectations written before deployments existed). */
  deployment?: number;
  /** Launched on on-demand capacity because Fargate Spot had none (spotFallback). */
  fallback?: boolean;
};

export type ServicePhase = 'ACTIVE' | 'DRAINING';

export const ConditionType = {
  Steady: 'Steady',
  Progressing: 'Progressing',
  BackingOff: 'BackingOff',
  Failed: 'Failed',
  /** A deployment the deployment configuration leaves no room to make progress. */
  Blocked: 'Blocked',
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

/** How far the current deployment has come, as DescribeServices' deployments show it. */
export type DeploymentStatus = {
  id: number;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  reason: string;
  startedAt: string;
  /** Live tasks of this deployment, RUNNING and not yet. */
  runningCount: number;
  pendingCount: number;
  /** Live tasks of older deployments still to be replaced. */
  outdatedCount: number;
  /** Tasks of this deployment that failed to start, as the circuit breaker counts them. */
  failedTasks?: number;
};

export type ServiceStatus = {
  phase: ServicePhase;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  observedGeneration: number;
  steady: boolean;
  conditions: Condition[];
  /** Absent on records written before deployments existed. */
  deployment?: DeploymentStatus;
};

/** What is stored for one service: spec plus the controller's own bookkeeping. */
export type ServiceRecord = {
  spec: ServiceSpec;
  /** Bumped by every spec change. */
  generation: number;
  /** The current deployment (id 0: the service predates deployments; all its tasks are current). */
  deployment: Deployment;
  /** What the scaling policies remember between evaluations (cooldowns, last values, fires). */
  scaling?: ScalingState;
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
  /** The deployment the task was launched for (STEWARD_DEPLOYMENT). */
  deployment?: number;
  /** Launched on on-demand capacity as a Spot fallback (STEWARD_FALLBACK). */
  fallback?: boolean;
  taskDefinitionArn?: string;
  capacityProviderName?: string;
  /** The task's private IPv4 address (awsvpc: its ENI's), registered as an ip target. */
  privateIp?: string;
  /**
   * The targets Steward registered (or is about to register) for the task: what it deregisters
   * before the task stops, whatever the spec says by then. Written by reconcile, not by events.
   */
  targets?: RecordedTarget[];
  /** Bumped by every write of `targets`: such writes are conditional on the version read. */
  targetsVersion?: number;
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
  /** The deployment the task belongs to: a task of an older one is replaced. */
  DEPLOYMENT: 'STEWARD_DEPLOYMENT',
  /** `1` on a task launched on-demand as a Spot fallback, replaced by Spot when it has capacity. */
  FALLBACK: 'STEWARD_FALLBACK',
} as const;

/** What a task's environment tells about its launch. */
export type LaunchInfo = {
  slot?: number;
  launchToken?: string;
  deployment?: number;
  fallback?: boolean;
};

/**
 * The slot and launch token a task was launched with, read from its container overrides (ECS puts
 * them in every task event and DescribeTasks answer), or nothing for a task not launched by Steward.
 */
export function launchInfoOf(overrides: unknown): LaunchInfo {
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
    const deploymentValue = value(LaunchEnv.DEPLOYMENT);
    const slot = typeof index === 'string' && /^\d{1,6}$/.test(index) ? Number(index) : undefined;
    if (slot === undefined && typeof token !== 'string') continue;
    const deployment =
      typeof deploymentValue === 'string' && /^\d{1,15}$/.test(deploymentValue)
        ? Number(deploymentValue)
        : undefined;
    return {
      ...(slot !== undefined ? { slot } : {}),
      ...(typeof token === 'string' ? { launchToken: token } : {}),
      ...(deployment !== undefined ? { deployment } : {}),
      ...(value(LaunchEnv.FALLBACK) === '1' ? { fallback: true } : {}),
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

/**
 * The private IPv4 address of a task's elastic network interface (awsvpc), from the `attachments`
 * that ECS puts in every task event and DescribeTasks answer once the interface exists.
 */
export function privateIpOf(attachments: unknown): string | undefined {
  if (!Array.isArray(attachments)) return undefined;
  for (const a of attachments) {
    const details = (a as { details?: unknown } | null)?.details;
    if (!Array.isArray(details)) continue;
    const ip = (details as { name?: unknown; value?: unknown }[]).find(
      (d) => d?.name === 'privateIPv4Address',
    )?.value;
    if (typeof ip === 'string' && IPV4.test(ip)) return ip;
  }
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
