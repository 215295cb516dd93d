import type { KeyValuePair, Tag } from './validation';

// Internal state of the emulator. Times are epoch milliseconds here; responses convert them to
// epoch seconds (JSON 1.1) and events to ISO-8601 strings.

export const TaskStatus = {
  Provisioning: 'PROVISIONING',
  Pending: 'PENDING',
  Activating: 'ACTIVATING',
  Running: 'RUNNING',
  Deactivating: 'DEACTIVATING',
  Stopping: 'STOPPING',
  Deprovisioning: 'DEPROVISIONING',
  Stopped: 'STOPPED',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const DesiredStatus = { Running: 'RUNNING', Stopped: 'STOPPED' } as const;
export type DesiredStatus = (typeof DesiredStatus)[keyof typeof DesiredStatus];

export const LaunchType = {
  Ec2: 'EC2',
  Fargate: 'FARGATE',
  External: 'EXTERNAL',
  ManagedInstances: 'MANAGED_INSTANCES',
} as const;
export type LaunchType = (typeof LaunchType)[keyof typeof LaunchType];
export const LAUNCH_TYPES: readonly LaunchType[] = Object.values(LaunchType);

export const StopCode = {
  TaskFailedToStart: 'TaskFailedToStart',
  EssentialContainerExited: 'EssentialContainerExited',
  UserInitiated: 'UserInitiated',
  ServiceSchedulerInitiated: 'ServiceSchedulerInitiated',
  SpotInterruption: 'SpotInterruption',
  TerminationNotice: 'TerminationNotice',
} as const;
export type StopCode = (typeof StopCode)[keyof typeof StopCode];

export type CapacityProviderStrategyItem = {
  capacityProvider: string;
  weight: number;
  base: number;
};

export type StoredCluster = {
  clusterArn: string;
  clusterName: string;
  createdAt: number;
  tags: Tag[];
  capacityProviders: string[];
  defaultCapacityProviderStrategy: CapacityProviderStrategyItem[];
  settings: KeyValuePair[];
};

export type TaskDefinitionStatus = 'ACTIVE' | 'INACTIVE';

export type StoredTaskDefinition = {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: TaskDefinitionStatus;
  registeredAt: number;
  deregisteredAt?: number;
  /** The TaskDefinition shape minus the members the registry owns (arn, status, times). */
  definition: Record<string, unknown>;
  tags: Tag[];
};

export type ContainerStatus = 'PENDING' | 'RUNNING' | 'STOPPED';

/** Container and task health as DescribeTasks reports it. */
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

/** What a load balancer's health checks of a container see (steward.emulator/target-health). */
export type TargetHealthStatus = 'healthy' | 'unhealthy';

/** One point of a timeline: `value` holds from `atMs` after RUNNING until the next point. */
export type TimelinePoint<T> = { atMs: number; value: T };

/**
 * Simulated behaviour of a container, from its `steward.emulator/*` docker labels. Times are read
 * from the labels in emulated ms; a task's copy holds them divided by the time scale (clock ms).
 */
export type ContainerWorkload = {
  /** The container exits this long (emulator clock) after the task reaches RUNNING. */
  exitAfterMs?: number;
  /** Exit code of that exit. */
  exitCode: number;
  /** The container never starts; the task stops with TaskFailedToStart and this reason. */
  failToStart?: string;
  /** Health over time for a container with a healthCheck; UNKNOWN before the first point. */
  health?: TimelinePoint<HealthStatus>[];
  /** Simulated CPU use in percent of the container's share; 0 before the first point. */
  cpuPercent?: TimelinePoint<number>[];
  /** Simulated memory use in percent; 0 before the first point. */
  memoryPercent?: TimelinePoint<number>[];
  /** The task registers with load balancer target groups (ACTIVATING and DEACTIVATING steps). */
  loadBalanced?: boolean;
  /**
   * What load balancer health checks of the container see over time; healthy before the first
   * point, and for a container without the label.
   */
  targetHealth?: TimelinePoint<TargetHealthStatus>[];
};

export type StoredContainer = {
  containerArn: string;
  name: string;
  image: string;
  essential: boolean;
  lastStatus: ContainerStatus;
  cpu: string;
  memory?: string;
  memoryReservation?: string;
  runtimeId?: string;
  exitCode?: number;
  reason?: string;
  /** Effective environment after overrides; not part of the Container shape, kept for runners. */
  environment: KeyValuePair[];
  command?: string[];
  /** Simulated behaviour declared in the task definition's docker labels. */
  workload?: ContainerWorkload;
};

export type StoredAttachment = {
  id: string;
  type: string;
  status: string;
  details: KeyValuePair[];
};

/** CPU units, MiB and host ports a task holds on its container instance until it STOPs. */
export type ResourceReservation = {
  cpu: number;
  memory: number;
  tcpPorts: number[];
  udpPorts: number[];
};

/** A simulated EC2 container instance (always ACTIVE, agent connected). */
export type StoredContainerInstance = {
  containerInstanceArn: string;
  ec2InstanceId: string;
  clusterArn: string;
  /** Registered CPU units and MiB. */
  cpu: number;
  memory: number;
  /** Ports the agent reserves at registration (TCP). */
  ports: number[];
  availabilityZone: string;
  registeredAt: number;
};

export type StoredTask = {
  taskId: string;
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  family: string;
  networkMode: string;
  launchType: LaunchType;
  capacityProviderName?: string;
  /** EC2 only: the container instance the task was placed on and what it holds there. */
  containerInstanceArn?: string;
  reservation?: ResourceReservation;
  platformVersion?: string;
  platformFamily?: string;
  cpu?: string;
  memory?: string;
  availabilityZone: string;
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
  version: number;
  containers: StoredContainer[];
  attachments: StoredAttachment[];
  /** Private IPv4 address of the task ENI (awsvpc) once attached. */
  privateIpv4Address?: string;
  startedBy?: string;
  group: string;
  overrides: Record<string, unknown>;
  tags: Tag[];
  enableExecuteCommand: boolean;
  ephemeralStorageGiB?: number;
  createdAt: number;
  updatedAt: number;
  connectivityAt?: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  executionStoppedAt?: number;
  stoppedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  /** When the next lifecycle transition is due (emulator clock), so a restart can resume it. */
  transitionDueAt?: number;
};

export type ClientTokenRecord = {
  clusterArn: string;
  clientToken: string;
  /** Canonical JSON of the request minus clientToken, to tell a retry from a different request. */
  fingerprint: string;
  taskArns: string[];
  /** RunTask failures of the original request, returned again on a retry. */
  failures?: RunTaskFailure[];
  createdAt: number;
};

/** One entry of RunTask's `failures`. */
export type RunTaskFailure = { arn: string; reason: string; detail?: string };

export type PersistedState = {
  format: 1;
  clusters: StoredCluster[];
  taskDefinitions: StoredTaskDefinition[];
  tasks: StoredTask[];
  clientTokens: ClientTokenRecord[];
  /** Added after format 1 was fixed; absent in older files. */
  containerInstances?: StoredContainerInstance[];
  /** Clusters where FARGATE_SPOT has no capacity (setCapacity spotAvailable false). */
  spotUnavailable?: string[];
};

export type ArnContext = { region: string; accountId: string };

/** ARN helpers for the new (long) ARN format. */
export const arns = {
  cluster: (o: ArnContext & { name: string }): string =>
    `arn:aws:ecs:${o.region}:${o.accountId}:cluster/${o.name}`,
  taskDefinition: (o: ArnContext & { family: string; revision: number }): string =>
    `arn:aws:ecs:${o.region}:${o.accountId}:task-definition/${o.family}:${o.revision}`,
  task: (o: ArnContext & { clusterName: string; taskId: string }): string =>
    `arn:aws:ecs:${o.region}:${o.accountId}:task/${o.clusterName}/${o.taskId}`,
  container: (o: ArnContext & { clusterName: string; taskId: string; id: string }): string =>
    `arn:aws:ecs:${o.region}:${o.accountId}:container/${o.clusterName}/${o.taskId}/${o.id}`,
  containerInstance: (o: ArnContext & { clusterName: string; id: string }): string =>
    `arn:aws:ecs:${o.region}:${o.accountId}:container-instance/${o.clusterName}/${o.id}`,
};

/** The resource part of an ECS ARN (`cluster/x`, `task/c/id`), or undefined if not an ECS ARN. */
export const arnResource = (arn: string): string | undefined => {
  const m = /^arn:aws[a-z-]*:ecs:[^:]*:[^:]*:(.+)$/.exec(arn);
  return m?.[1];
};

/** Cluster name from a cluster name or ARN. */
export const clusterNameOf = (clusterOrArn: string): string => {
  const resource = arnResource(clusterOrArn);
  if (resource === undefined) return clusterOrArn;
  return resource.startsWith('cluster/') ? resource.slice('cluster/'.length) : clusterOrArn;
};

/** Task id and (new-format) cluster name from a task id or ARN. */
export const parseTaskRef = (ref: string): { taskId: string; clusterName?: string } => {
  const resource = arnResource(ref);
  if (resource === undefined || !resource.startsWith('task/')) return { taskId: ref };
  const parts = resource.slice('task/'.length).split('/');
  if (parts.length === 2 && parts[0] !== undefined && parts[1] !== undefined) {
    return { clusterName: parts[0], taskId: parts[1] };
  }
  return { taskId: parts[parts.length - 1] ?? ref };
};
