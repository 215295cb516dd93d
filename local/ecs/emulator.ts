import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from '../eventbridge-event';
import { StateFile } from '../state-file';
import { CAPACITY_UNAVAILABLE_REASON, CapacityRegistry, type InstanceSpec } from './capacity';
import { ClusterRegistry, DEFAULT_CLUSTER } from './clusters';
import { EcsApiError, EcsErrorType, invalidParameter } from './errors';
import {
  type ArnContext,
  arnResource,
  arns,
  type ClientTokenRecord,
  DesiredStatus,
  LAUNCH_TYPES,
  LaunchType,
  type PersistedState,
  parseTaskRef,
  type RunTaskFailure,
  StopCode,
  type StoredCluster,
  type StoredContainer,
  type StoredContainerInstance,
  type StoredTask,
  type TargetHealthStatus,
  TaskStatus,
  type TimelinePoint,
} from './model';
import { paginate } from './pagination';
import { loadStateFile } from './persistence';
import {
  type BucketDemand,
  OPERATION_BUCKETS,
  RateLimiter,
  type RateLimitOptions,
  resolveRateLimits,
} from './rate-limits';
import { type LaunchPlan, planRunTask, runTaskFingerprint } from './run-task';
import {
  applyTransition,
  DEFAULT_USER_STOP_REASON,
  exitContainer,
  interruptSpot,
  nextTransition,
  requestStop,
} from './state-machine';
import { TaskDefinitionRegistry } from './task-definitions';
import { renderTask, renderTaskEventDetail } from './task-view';
import {
  checkClientToken,
  parseCpuUnits,
  parseMemoryMiB,
  RequestReader,
  readTags,
  type Tag,
} from './validation';
import { scaleWorkload, timelineValueAt } from './workload';

export type { EventBridgeEvent } from '../eventbridge-event';
export type { InstanceSpec } from './capacity';
export type { BucketLimit, BucketName, RateLimitOptions } from './rate-limits';

export type EcsEmulatorOptions = {
  region?: string;
  accountId?: string;
  /** If set: state is loaded at start and saved (debounced, atomically) after changes. */
  stateFile?: string;
  /** Delay between lifecycle steps, default 300 ms. */
  stepDelayMs?: number;
  /** How long STOPPED tasks stay visible, default one hour of emulator clock. */
  stoppedRetentionMs?: number;
  /** Clock in ms, default Date.now. */
  now?: () => number;
  /** Called once for every task state change, in order (may be called inside handle()). */
  emit?: (event: EventBridgeEvent) => void;
  /**
   * AWS request throttling as token buckets on the emulator clock; off by default. `true` uses the
   * documented limits, an object overrides some of them.
   */
  rateLimits?: RateLimitOptions;
  /**
   * How many emulated ms pass per clock ms, default 1; 60 makes an emulated minute one second.
   * Divides every emulated delay: lifecycle steps, workload exit-after-ms, Spot's two-minute
   * warning, stopped-task and client-token retention, health and usage timelines. Rate limits stay
   * per clock second, as the callers' request rate is real.
   */
  timeScale?: number;
};

/** setCapacity's argument: a cluster's simulated EC2 instances and/or FARGATE_SPOT availability. */
export type SetCapacityOptions = {
  cluster?: string;
  spotAvailable?: boolean;
  instances?: InstanceSpec[];
};

/** interruptSpot's argument: one task, or `count` RUNNING FARGATE_SPOT tasks (default 1). */
export type InterruptSpotOptions = { cluster?: string; task?: string; count?: number };

/** usage's argument: which RUNNING tasks to average over (serviceGroup is the task `group`). */
export type UsageOptions = { cluster?: string; serviceGroup?: string; startedBy?: string };

/** Average simulated utilisation of the matching RUNNING tasks (0 when there are none). */
export type Usage = { tasks: number; cpuPercent: number; memoryPercent: number };

/**
 * What one RUNNING task reserves (CPU units, MiB: task-level cpu/memory, else its reservation, i.e.
 * the sum over its containers) and uses (the reservation times its simulated percent / 100).
 */
export type RunningTaskUsage = {
  clusterName: string;
  family: string;
  cpuReserved: number;
  cpuUtilized: number;
  memoryReserved: number;
  memoryUtilized: number;
};

/** runningTaskUsage's answer: the emulator clock's now, every cluster, and each RUNNING task. */
export type RunningTaskUsageSnapshot = {
  now: number;
  clusterNames: string[];
  tasks: RunningTaskUsage[];
};

/**
 * What a load balancer's health checks can know of the task holding a private IPv4 address:
 * taskByPrivateIp's answer. Times are on the emulator clock.
 */
export type TaskAtAddress = {
  taskArn: string;
  lastStatus: TaskStatus;
  /** When the task reached RUNNING; workload timelines count from here. */
  startedAt?: number;
  availabilityZone: string;
  containers: {
    name: string;
    running: boolean;
    /** containerPort of each of the definition's portMappings (in awsvpc, also the host port). */
    containerPorts: number[];
    /** From steward.emulator/target-health, on the emulator clock; absent: always healthy. */
    targetHealth?: readonly TimelinePoint<TargetHealthStatus>[];
  }[];
};

/** Calls received per operation, and how many of them were answered ThrottlingException. */
export type EcsCounters = { calls: Record<string, number>; throttled: Record<string, number> };

export type EcsResponse = { status: number; body: unknown; errorType?: string };

export type KillTaskOptions = {
  cluster?: string;
  task: string;
  exitCode: number;
  /** Container-level reason, e.g. "OutOfMemoryError: Container killed due to memory usage". */
  reason?: string;
  /** Which container exits; default the first essential one. */
  container?: string;
};

const HOUR_MS = 3_600_000;
const CLIENT_TOKEN_TTL_MS = 24 * HOUR_MS;
// Fargate Spot's warning before it takes a task back (ECS-FACTS §1.6).
const SPOT_WARNING_MS = 120_000;
const FARGATE_SPOT = 'FARGATE_SPOT';
const STOP_REASON_MAX = 255;
const ENI_ATTACHMENT_TYPE = 'ElasticNetworkInterface';

type Operation = (body: unknown) => unknown;

// Operations that change state; the others are reads and skip the save.
const MUTATING = new Set([
  'CreateCluster',
  'RegisterTaskDefinition',
  'DeregisterTaskDefinition',
  'RunTask',
  'StopTask',
  'TagResource',
  'UntagResource',
]);

/** A validated RunTask: a retry of an earlier request (same clientToken) or a new launch. */
type PreparedRunTask =
  | { kind: 'retry'; taskArns: string[]; failures: RunTaskFailure[] }
  | {
      kind: 'launch';
      plan: LaunchPlan;
      cluster: StoredCluster;
      fingerprint: string;
      clientToken?: string;
    };

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/**
 * Local stand-in for Amazon ECS speaking the JSON 1.1 protocol's operations. Tasks move through
 * the lifecycle in state-machine.ts on timers; each state change is emitted as an EventBridge
 * "ECS Task State Change" event.
 */
export class EcsEmulator {
  private readonly ctx: ArnContext;
  private readonly timeScale: number;
  private readonly stepDelayMs: number;
  private readonly stoppedRetentionMs: number;
  private readonly spotWarningMs: number;
  private readonly hourMs: number;
  private readonly clientTokenTtlMs: number;
  private readonly capacity: CapacityRegistry;
  private readonly now: () => number;
  private readonly emitEvent: ((event: EventBridgeEvent) => void) | undefined;
  private readonly clusters: ClusterRegistry;
  private readonly taskDefinitions: TaskDefinitionRegistry;
  private readonly tasks = new Map<string, StoredTask>();
  private readonly clientTokens = new Map<string, ClientTokenRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly stateFile: StateFile<PersistedState> | undefined;
  private readonly operations: Record<string, Operation>;
  private readonly limiter: RateLimiter | undefined;
  private readonly calls = new Map<string, number>();
  private readonly throttled = new Map<string, number>();
  private closed = false;

  constructor(options: EcsEmulatorOptions = {}) {
    this.ctx = {
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? '000000000000',
    };
    this.timeScale = options.timeScale ?? 1;
    if (!Number.isFinite(this.timeScale) || this.timeScale <= 0) {
      throw new Error(`timeScale must be a positive number, got ${String(options.timeScale)}`);
    }
    this.stepDelayMs = this.scaled(options.stepDelayMs ?? 300);
    this.stoppedRetentionMs = this.scaled(options.stoppedRetentionMs ?? HOUR_MS);
    this.spotWarningMs = this.scaled(SPOT_WARNING_MS);
    this.hourMs = this.scaled(HOUR_MS);
    this.clientTokenTtlMs = this.scaled(CLIENT_TOKEN_TTL_MS);
    this.now = options.now ?? Date.now;
    this.emitEvent = options.emit;
    const limits = resolveRateLimits(options.rateLimits);
    this.limiter = limits ? new RateLimiter({ limits, now: this.now }) : undefined;

    const loaded = options.stateFile ? loadStateFile(options.stateFile) : undefined;
    this.clusters = new ClusterRegistry({
      ...this.ctx,
      now: this.now,
      clusters: loaded?.clusters ?? [],
      taskCounts: (clusterArn) => this.taskCounts(clusterArn),
      instanceCount: (clusterArn) => this.capacity.instancesOf(clusterArn).length,
    });
    this.capacity = new CapacityRegistry({
      ...this.ctx,
      now: this.now,
      clusters: this.clusters,
      tasks: () => this.tasks.values(),
      instances: loaded?.containerInstances ?? [],
      spotUnavailable: loaded?.spotUnavailable ?? [],
    });
    this.taskDefinitions = new TaskDefinitionRegistry({
      ...this.ctx,
      now: this.now,
      definitions: loaded?.taskDefinitions ?? [],
    });
    for (const t of loaded?.tasks ?? []) this.tasks.set(t.taskArn, t);
    for (const r of loaded?.clientTokens ?? []) this.clientTokens.set(this.tokenKey(r), r);
    this.stateFile = options.stateFile
      ? new StateFile({
          path: options.stateFile,
          snapshot: () => this.snapshot(),
          what: 'ECS emulator',
        })
      : undefined;

    this.operations = {
      CreateCluster: (b) => this.clusters.create(b),
      DescribeClusters: (b) => this.clusters.describe(b),
      ListClusters: (b) => this.clusters.list(b),
      RegisterTaskDefinition: (b) => this.taskDefinitions.register(b),
      DescribeTaskDefinition: (b) => this.taskDefinitions.describe(b),
      ListTaskDefinitions: (b) => this.taskDefinitions.list(b),
      DeregisterTaskDefinition: (b) => this.taskDefinitions.deregister(b),
      RunTask: (b) => this.runTask(b),
      StopTask: (b) => this.stopTask(b),
      DescribeTasks: (b) => this.describeTasks(b),
      ListTasks: (b) => this.listTasks(b),
      ListContainerInstances: (b) => this.capacity.list(b),
      DescribeContainerInstances: (b) => this.capacity.describe(b),
      TagResource: (b) => this.tagResource(b),
      UntagResource: (b) => this.untagResource(b),
      ListTagsForResource: (b) => this.listTagsForResource(b),
    };

    // Resume lifecycles interrupted by a restart where they left off.
    for (const task of this.tasks.values()) this.schedule({ task, resume: true });
  }

  /** Runs one ECS operation; client mistakes come back as 400 with `__type`, never as throws. */
  async handle(operation: string, body: unknown): Promise<EcsResponse> {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const response = this.dispatch(operation, body);
    if (response.errorType === EcsErrorType.Throttling) {
      this.throttled.set(operation, (this.throttled.get(operation) ?? 0) + 1);
    }
    return response;
  }

  /** Calls received per operation since the start or the last resetCounters(). */
  counters(): EcsCounters {
    return {
      calls: Object.fromEntries(this.calls),
      throttled: Object.fromEntries(this.throttled),
    };
  }

  /** Sets all call counters back to zero (rate limit buckets keep their tokens). */
  resetCounters(): void {
    this.calls.clear();
    this.throttled.clear();
  }

  private dispatch(operation: string, body: unknown): EcsResponse {
    const op = Object.hasOwn(this.operations, operation) ? this.operations[operation] : undefined;
    if (!op) {
      const error = new EcsApiError({
        type: EcsErrorType.UnknownOperation,
        message: `Operation ${operation} is not supported by this ECS emulator.`,
      });
      return { status: error.status, body: error.toBody(), errorType: error.type };
    }
    try {
      // AWS throttles at the front door, before looking at the request; RunTask takes its tokens
      // itself because how many it needs depends on where its tasks launch.
      const bucket = Object.hasOwn(OPERATION_BUCKETS, operation)
        ? OPERATION_BUCKETS[operation]
        : undefined;
      if (bucket) this.limiter?.take([{ bucket, tokens: 1 }]);
      this.expire();
      const result = op(body);
      if (MUTATING.has(operation)) this.stateFile?.markDirty();
      return { status: 200, body: result };
    } catch (error) {
      if (error instanceof EcsApiError) {
        return { status: error.status, body: error.toBody(), errorType: error.type };
      }
      // Internal details stay out of the response body.
      return {
        status: 500,
        body: { __type: EcsErrorType.Server, message: 'Internal error in the ECS emulator.' },
        errorType: EcsErrorType.Server,
      };
    }
  }

  /**
   * Test control: a container exits with `exitCode`; for an essential one (the default) the task
   * stops with stopCode EssentialContainerExited. Throws EcsApiError if the task is unknown or not
   * RUNNING, or the container has already stopped.
   */
  killTask(options: KillTaskOptions): Record<string, unknown> {
    this.expire();
    const cluster = this.clusters.get(options.cluster);
    const task = this.findTask({ cluster, ref: options.task });
    if (!task) throw invalidParameter('The referenced task was not found.');
    const container =
      options.container === undefined
        ? task.containers.find((c) => c.essential)
        : task.containers.find((c) => c.name === options.container);
    if (!container) throw invalidParameter(`Container ${options.container ?? ''} not found.`);
    const changed = exitContainer({
      task,
      now: this.now(),
      container,
      exitCode: options.exitCode,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    });
    if (!changed) {
      throw invalidParameter(
        container.lastStatus === 'STOPPED'
          ? `Container ${container.name} has already stopped.`
          : `Task is ${task.lastStatus}, not RUNNING.`,
      );
    }
    this.afterChange(task);
    return renderTask({ task, includeTags: false, now: this.now() });
  }

  /**
   * Test control: replaces a cluster's simulated EC2 container instances (when `instances` is
   * given) and turns FARGATE_SPOT capacity on or off (when `spotAvailable` is given). Tasks on
   * replaced instances keep running. Returns the cluster's container instance ARNs.
   */
  setCapacity(o: SetCapacityOptions): { containerInstanceArns: string[] } {
    this.expire();
    const result = this.capacity.set(o);
    this.stateFile?.markDirty();
    return result;
  }

  /**
   * Test control: Fargate Spot takes tasks back. Interrupts `task`, or the `count` (default 1)
   * oldest RUNNING FARGATE_SPOT tasks of the cluster: a warning change (desired STOPPED,
   * SpotInterruption) now, the stop two emulated minutes later. Returns the interrupted task ARNs.
   */
  interruptSpot(o: InterruptSpotOptions): string[] {
    this.expire();
    const cluster = this.clusters.get(o.cluster);
    const interruptible = (t: StoredTask): boolean =>
      t.capacityProviderName === FARGATE_SPOT &&
      t.lastStatus === TaskStatus.Running &&
      t.desiredStatus === DesiredStatus.Running;
    let targets: StoredTask[];
    if (o.task !== undefined) {
      if (o.count !== undefined) throw invalidParameter('Give either task or count, not both.');
      const task = this.findTask({ cluster, ref: o.task });
      if (!task) throw invalidParameter('The referenced task was not found.');
      if (task.capacityProviderName !== FARGATE_SPOT) {
        throw invalidParameter(`Task ${task.taskArn} does not run on FARGATE_SPOT.`);
      }
      if (!interruptible(task)) {
        throw invalidParameter(
          `Task ${task.taskArn} is ${task.lastStatus} with desired status ${task.desiredStatus}, not RUNNING.`,
        );
      }
      targets = [task];
    } else {
      const count = o.count ?? 1;
      if (!Number.isSafeInteger(count) || count < 1) {
        throw invalidParameter('count must be a positive integer.');
      }
      targets = [...this.tasks.values()]
        .filter((t) => t.clusterArn === cluster.clusterArn && interruptible(t))
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(0, count);
    }
    const now = this.now();
    const interrupted: string[] = [];
    for (const task of targets) {
      if (!interruptSpot({ task, now })) continue;
      this.afterChange(task);
      interrupted.push(task.taskArn);
    }
    return interrupted;
  }

  /**
   * Test control: average simulated CPU and memory utilisation (steward.emulator/cpu-percent and
   * memory-percent labels) over the cluster's RUNNING tasks matching the filter, as CloudWatch's
   * service CPUUtilization averages over a service's tasks.
   */
  usage(o: UsageOptions): Usage {
    this.expire();
    const cluster = this.clusters.get(o.cluster);
    const now = this.now();
    const running = [...this.tasks.values()].filter(
      (t) =>
        t.clusterArn === cluster.clusterArn &&
        t.lastStatus === TaskStatus.Running &&
        (o.serviceGroup === undefined || t.group === o.serviceGroup) &&
        (o.startedBy === undefined || t.startedBy === o.startedBy),
    );
    if (running.length === 0) return { tasks: 0, cpuPercent: 0, memoryPercent: 0 };
    let cpu = 0;
    let memory = 0;
    for (const task of running) {
      cpu += this.taskPercent({ task, now, of: (c) => c.workload?.cpuPercent });
      memory += this.taskPercent({ task, now, of: (c) => c.workload?.memoryPercent });
    }
    return {
      tasks: running.length,
      cpuPercent: cpu / running.length,
      memoryPercent: memory / running.length,
    };
  }

  /**
   * Read-only (changes no state, emits nothing): per cluster and task definition family, what each
   * RUNNING task reserves and uses now on the emulator clock — the local Container Insights source.
   */
  runningTaskUsage(): RunningTaskUsageSnapshot {
    const now = this.now();
    const clusterNames = this.clusters.all().map((c) => c.clusterName);
    const nameOf = new Map(this.clusters.all().map((c) => [c.clusterArn, c.clusterName]));
    const tasks: RunningTaskUsage[] = [];
    for (const task of this.tasks.values()) {
      if (task.lastStatus !== TaskStatus.Running) continue;
      const clusterName = nameOf.get(task.clusterArn);
      if (clusterName === undefined) continue;
      const cpuReserved =
        (task.cpu === undefined ? undefined : parseCpuUnits(task.cpu)) ??
        task.reservation?.cpu ??
        task.containers.reduce((sum, c) => sum + (Number(c.cpu) || 0), 0);
      const memoryReserved =
        (task.memory === undefined ? undefined : parseMemoryMiB(task.memory)) ??
        task.reservation?.memory ??
        task.containers.reduce((sum, c) => sum + (Number(c.memoryReservation ?? c.memory) || 0), 0);
      const cpuPercent = this.taskPercent({ task, now, of: (c) => c.workload?.cpuPercent });
      const memoryPercent = this.taskPercent({ task, now, of: (c) => c.workload?.memoryPercent });
      tasks.push({
        clusterName,
        family: task.family,
        cpuReserved,
        cpuUtilized: (cpuReserved * cpuPercent) / 100,
        memoryReserved,
        memoryUtilized: (memoryReserved * memoryPercent) / 100,
      });
    }
    return { now, clusterNames, tasks };
  }

  /**
   * Read-only (changes no state, emits nothing): the task whose ENI holds `ip` (awsvpc tasks
   * only), for the local ELBv2's health checks. An address the emulator handed out twice goes to
   * a task that has not STOPPED before one that has, then to the newest.
   */
  /**
   * A private IPv4 address no task that has not stopped holds (as a subnet hands out addresses), so
   * a target group's `ip:port` names one task.
   */
  private freePrivateIp(): string {
    const taken = new Set<string>();
    for (const t of this.tasks.values()) {
      if (t.privateIpv4Address !== undefined && t.lastStatus !== TaskStatus.Stopped)
        taken.add(t.privateIpv4Address);
    }
    // 10.0.0.4–10.0.255.253: 64,000 addresses, far more than an emulator runs.
    for (let attempt = 0; attempt < 1_000_000; attempt++) {
      const [a = 0, b = 0] = randomBytes(2);
      const ip = `10.0.${a}.${(b % 250) + 4}`;
      if (!taken.has(ip)) return ip;
    }
    throw new Error('The emulator has no free private IPv4 address left in 10.0.0.0/16');
  }

  taskByPrivateIp(ip: string): TaskAtAddress | undefined {
    let found: StoredTask | undefined;
    for (const task of this.tasks.values()) {
      if (task.privateIpv4Address !== ip) continue;
      const stopped = (t: StoredTask): boolean => t.lastStatus === TaskStatus.Stopped;
      if (
        !found ||
        (stopped(found) && !stopped(task)) ||
        (stopped(found) === stopped(task) && task.createdAt >= found.createdAt)
      ) {
        found = task;
      }
    }
    if (!found) return undefined;
    const definitions = this.taskDefinitions.byArnExact(found.taskDefinitionArn)?.definition
      .containerDefinitions;
    const portsOf = (name: string): number[] => {
      const definition = Array.isArray(definitions)
        ? (definitions as Record<string, unknown>[]).find((d) => d.name === name)
        : undefined;
      const mappings = Array.isArray(definition?.portMappings) ? definition.portMappings : [];
      return (mappings as Record<string, unknown>[])
        .map((m) => m.containerPort)
        .filter((p): p is number => typeof p === 'number');
    };
    return {
      taskArn: found.taskArn,
      lastStatus: found.lastStatus,
      ...(found.startedAt === undefined ? {} : { startedAt: found.startedAt }),
      availabilityZone: found.availabilityZone,
      containers: found.containers.map((c) => ({
        name: c.name,
        running: c.lastStatus === 'RUNNING',
        containerPorts: portsOf(c.name),
        ...(c.workload?.targetHealth === undefined
          ? {}
          : { targetHealth: c.workload.targetHealth.map((p) => ({ ...p })) }),
      })),
    };
  }

  /** Stops all timers and writes the state file. Tasks resume from it on the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.stateFile?.flush();
  }

  // ---- tasks ------------------------------------------------------------------------------

  private runTask(body: unknown): unknown {
    const req = new RequestReader({ body });
    // Everything up to the launch only reads state, so the rate limit can be decided after it
    // without a throttled call leaving anything behind (no token recorded, no task created).
    let prepared: PreparedRunTask | undefined;
    let rejection: unknown;
    try {
      prepared = this.prepareRunTask(req);
    } catch (error) {
      rejection = error;
    }
    this.limiter?.take(this.runTaskDemand({ req, prepared }));
    if (!prepared) throw rejection;
    if (prepared.kind === 'retry') {
      // A retry: the original tasks, as they are now; nothing new is launched.
      const now = this.now();
      const tasks = prepared.taskArns
        .map((arn) => this.tasks.get(arn))
        .filter((t): t is StoredTask => t !== undefined)
        .map((task) => renderTask({ task, includeTags: false, now }));
      return { tasks, failures: prepared.failures };
    }
    const { plan, cluster, clientToken, fingerprint } = prepared;
    const now = this.now();
    // Tasks are placed one by one, so each sees what the previous ones took; a task that finds
    // no capacity becomes a failure and the call succeeds with the others, as in ECS.
    const created: StoredTask[] = [];
    const failures: RunTaskFailure[] = [];
    for (let index = 0; index < plan.count; index++) {
      if (
        plan.capacityProviders[index] === FARGATE_SPOT &&
        !this.capacity.spotAvailable(cluster.clusterArn)
      ) {
        failures.push({ arn: cluster.clusterArn, reason: CAPACITY_UNAVAILABLE_REASON });
        continue;
      }
      let instance: StoredContainerInstance | undefined;
      if (plan.launchType === LaunchType.Ec2) {
        const placement = this.capacity.place({
          clusterArn: cluster.clusterArn,
          demand: plan.reservation,
        });
        if (!placement.ok) {
          failures.push(placement.failure);
          continue;
        }
        instance = placement.instance;
      }
      created.push(
        this.createTask({ plan, cluster, index, now, ...(instance ? { instance } : {}) }),
      );
    }
    if (clientToken !== undefined) {
      const record: ClientTokenRecord = {
        clusterArn: cluster.clusterArn,
        clientToken,
        fingerprint,
        taskArns: created.map((t) => t.taskArn),
        ...(failures.length > 0 ? { failures } : {}),
        createdAt: now,
      };
      this.clientTokens.set(this.tokenKey(record), record);
    }
    for (const task of created) this.afterChange(task);
    return {
      tasks: created.map((task) => renderTask({ task, includeTags: false, now })),
      failures,
    };
  }

  /** Validates a RunTask request and resolves its clientToken; changes nothing. */
  private prepareRunTask(req: RequestReader): PreparedRunTask {
    const cluster = this.clusters.get(req.string('cluster'));
    const clientToken = req.string('clientToken');
    if (clientToken !== undefined) checkClientToken(clientToken);
    const fingerprint = runTaskFingerprint({
      body: req.snapshot(),
      clusterArn: cluster.clusterArn,
    });
    if (clientToken !== undefined) {
      const previous = this.clientTokens.get(
        this.tokenKey({ clusterArn: cluster.clusterArn, clientToken }),
      );
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          throw new EcsApiError({
            type: EcsErrorType.Conflict,
            message:
              'The specified client token is already in use with a different RunTask request.',
            fields: { resourceIds: [...previous.taskArns] },
          });
        }
        return {
          kind: 'retry',
          taskArns: [...previous.taskArns],
          failures: (previous.failures ?? []).map((f) => ({ ...f })),
        };
      }
    }
    const plan = planRunTask({
      req,
      cluster,
      taskDefinitions: this.taskDefinitions,
      hasInstances: this.capacity.instancesOf(cluster.clusterArn).length > 0,
    });
    return {
      kind: 'launch',
      plan,
      cluster,
      fingerprint,
      ...(clientToken === undefined ? {} : { clientToken }),
    };
  }

  /**
   * Tokens a RunTask call needs: one from the task lifecycle bucket; on Fargate also one from the
   * Fargate RunTask bucket and one per launched task from the Fargate launch bucket.
   */
  private runTaskDemand(o: {
    req: RequestReader;
    prepared: PreparedRunTask | undefined;
  }): BucketDemand[] {
    const demands: BucketDemand[] = [{ bucket: 'taskLifecycle', tokens: 1 }];
    const { prepared } = o;
    let fargate: boolean;
    if (prepared?.kind === 'launch') {
      fargate = prepared.plan.launchType === LaunchType.Fargate;
      if (fargate) demands.push({ bucket: 'fargateLaunches', tokens: prepared.plan.count });
    } else if (prepared?.kind === 'retry') {
      fargate = prepared.taskArns.some(
        (arn) => this.tasks.get(arn)?.launchType === LaunchType.Fargate,
      );
    } else {
      // A rejected request launches nothing, but still counts as a call; judge from what it asked.
      const body = o.req.snapshot();
      const strategy = body.capacityProviderStrategy;
      fargate =
        body.launchType === LaunchType.Fargate ||
        (body.launchType === undefined && Array.isArray(strategy) && strategy.length > 0);
    }
    if (fargate) demands.push({ bucket: 'fargateRunTask', tokens: 1 });
    return demands;
  }

  private createTask(o: {
    plan: LaunchPlan;
    cluster: StoredCluster;
    index: number;
    now: number;
    /** EC2: the container instance the task is placed on. */
    instance?: StoredContainerInstance;
  }): StoredTask {
    const { plan, cluster, now, instance } = o;
    const taskId = hex(16);
    const taskArn = arns.task({ ...this.ctx, clusterName: cluster.clusterName, taskId });
    const subnet = plan.subnets[o.index % Math.max(plan.subnets.length, 1)];
    const privateIp = this.freePrivateIp();
    const attachments =
      plan.networkMode === 'awsvpc'
        ? [
            {
              id: randomUUID(),
              type: ENI_ATTACHMENT_TYPE,
              status: 'PRECREATED',
              details: [
                { name: 'subnetId', value: subnet ?? '' },
                { name: 'networkInterfaceId', value: `eni-${hex(9).slice(0, 17)}` },
                {
                  name: 'macAddress',
                  // 02: a locally administered unicast address, as virtual NICs use.
                  value: ['02', ...Array.from({ length: 5 }, () => hex(1))].join(':'),
                },
                {
                  name: 'privateDnsName',
                  value: `ip-${privateIp.replaceAll('.', '-')}.ec2.internal`,
                },
                { name: 'privateIPv4Address', value: privateIp },
              ],
            },
          ]
        : [];
    const provider = plan.capacityProviders[o.index];
    const task: StoredTask = {
      taskId,
      taskArn,
      clusterArn: cluster.clusterArn,
      taskDefinitionArn: plan.taskDefinition.taskDefinitionArn,
      family: plan.taskDefinition.family,
      networkMode: plan.networkMode,
      launchType: plan.launchType,
      ...(provider === undefined ? {} : { capacityProviderName: provider }),
      ...(instance === undefined
        ? {}
        : {
            containerInstanceArn: instance.containerInstanceArn,
            reservation: {
              ...plan.reservation,
              tcpPorts: [...plan.reservation.tcpPorts],
              udpPorts: [...plan.reservation.udpPorts],
            },
          }),
      ...(plan.platformVersion === undefined
        ? {}
        : { platformVersion: plan.platformVersion, platformFamily: 'Linux' }),
      ...(plan.cpu === undefined ? {} : { cpu: plan.cpu }),
      ...(plan.memory === undefined ? {} : { memory: plan.memory }),
      availabilityZone: instance?.availabilityZone ?? this.availabilityZone(subnet),
      lastStatus: TaskStatus.Provisioning,
      desiredStatus: DesiredStatus.Running,
      version: 1,
      containers: plan.containers.map((c) => ({
        containerArn: arns.container({
          ...this.ctx,
          clusterName: cluster.clusterName,
          taskId,
          id: randomUUID(),
        }),
        name: c.name,
        image: c.image,
        essential: c.essential,
        lastStatus: 'PENDING',
        cpu: c.cpu,
        ...(c.memory === undefined ? {} : { memory: c.memory }),
        ...(c.memoryReservation === undefined ? {} : { memoryReservation: c.memoryReservation }),
        environment: c.environment,
        ...(c.command === undefined ? {} : { command: c.command }),
        ...(c.workload === undefined
          ? {}
          : { workload: scaleWorkload({ workload: c.workload, scale: (ms) => this.scaled(ms) }) }),
      })),
      attachments,
      ...(plan.networkMode === 'awsvpc' ? { privateIpv4Address: privateIp } : {}),
      ...(plan.startedBy === undefined ? {} : { startedBy: plan.startedBy }),
      group: plan.group,
      overrides: structuredClone(plan.overrides),
      tags: plan.tags.map((t) => ({ ...t })),
      enableExecuteCommand: plan.enableExecuteCommand,
      ...(plan.ephemeralStorageGiB === undefined
        ? {}
        : { ephemeralStorageGiB: plan.ephemeralStorageGiB }),
      createdAt: now,
      updatedAt: now,
    };
    this.tasks.set(taskArn, task);
    return task;
  }

  private stopTask(body: unknown): unknown {
    const req = new RequestReader({ body });
    const cluster = this.clusters.get(req.string('cluster'));
    const ref = req.requiredString('task');
    const reason = req.string('reason');
    if (reason !== undefined && reason.length > STOP_REASON_MAX) {
      throw invalidParameter(`reason can have at most ${STOP_REASON_MAX} characters.`);
    }
    const task = this.findTask({ cluster, ref });
    if (!task) throw invalidParameter('The referenced task was not found.');
    const changed = requestStop({
      task,
      now: this.now(),
      stopCode: StopCode.UserInitiated,
      reason: reason === undefined || reason === '' ? DEFAULT_USER_STOP_REASON : reason,
    });
    if (changed) {
      // The StopTask API reference: "Any tags associated with the task will be deleted."
      task.tags = [];
      this.afterChange(task);
    }
    return { task: renderTask({ task, includeTags: false, now: this.now() }) };
  }

  private describeTasks(body: unknown): unknown {
    const req = new RequestReader({ body });
    const cluster = this.clusters.get(req.string('cluster'));
    const refs = req.stringList('tasks');
    if (refs === undefined || refs.length === 0) throw invalidParameter('Tasks cannot be empty.');
    if (refs.length > 100) throw invalidParameter('taskIds can have at most 100 items.');
    const includeTags = (req.stringList('include') ?? []).includes('TAGS');
    const tasks: Record<string, unknown>[] = [];
    const failures: { arn: string; reason: string }[] = [];
    const now = this.now();
    for (const ref of new Set(refs)) {
      const task = this.findTask({ cluster, ref });
      if (task) {
        tasks.push(renderTask({ task, includeTags, now }));
      } else {
        const arn =
          arnResource(ref) === undefined
            ? arns.task({ ...this.ctx, clusterName: cluster.clusterName, taskId: ref })
            : ref;
        failures.push({ arn, reason: 'MISSING' });
      }
    }
    return { tasks, failures };
  }

  private listTasks(body: unknown): unknown {
    const req = new RequestReader({ body });
    const cluster = this.clusters.get(req.string('cluster'));
    const family = req.string('family');
    const startedBy = req.string('startedBy');
    const launchType = req.enumString({ member: 'launchType', values: LAUNCH_TYPES });
    const desired =
      req.enumString({ member: 'desiredStatus', values: ['RUNNING', 'PENDING', 'STOPPED'] }) ??
      'RUNNING';
    if (req.string('serviceName') !== undefined) {
      throw new EcsApiError({ type: EcsErrorType.ServiceNotFound, message: 'Service not found.' });
    }
    // By ARN or id; a task keeps its instance ARN after setCapacity replaced the instance.
    const instanceRef = req.string('containerInstance');
    const instanceId = instanceRef?.split('/').at(-1);
    const keyOf = (t: StoredTask): string =>
      `${String(t.createdAt).padStart(15, '0')}/${t.taskArn}`;
    const items = [...this.tasks.values()]
      .filter(
        (t) =>
          (instanceId === undefined || t.containerInstanceArn?.split('/').at(-1) === instanceId) &&
          t.clusterArn === cluster.clusterArn &&
          t.desiredStatus === desired &&
          (family === undefined || t.family === family) &&
          (startedBy === undefined || t.startedBy === startedBy) &&
          (launchType === undefined || t.launchType === launchType),
      )
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    const page = paginate({ items, keyOf, request: req });
    const taskArns = page.items.map((t) => t.taskArn);
    return page.nextToken ? { taskArns, nextToken: page.nextToken } : { taskArns };
  }

  // ---- tags -------------------------------------------------------------------------------

  private tagResource(body: unknown): unknown {
    const req = new RequestReader({ body });
    const holder = this.taggable(req.requiredString('resourceArn'));
    const tags = readTags(req);
    if (!tags) throw invalidParameter('tags can not be blank.');
    const merged = new Map(holder.tags.map((t) => [t.key, t.value]));
    for (const t of tags) merged.set(t.key, t.value);
    if (merged.size > 50) throw invalidParameter('A resource can have at most 50 tags.');
    holder.tags = [...merged].map(([key, value]) => ({ key, value }));
    return {};
  }

  private untagResource(body: unknown): unknown {
    const req = new RequestReader({ body });
    const holder = this.taggable(req.requiredString('resourceArn'));
    const keys = req.stringList('tagKeys');
    if (!keys) throw invalidParameter('tagKeys can not be blank.');
    holder.tags = holder.tags.filter((t) => !keys.includes(t.key));
    return {};
  }

  private listTagsForResource(body: unknown): unknown {
    const req = new RequestReader({ body });
    const arn = req.requiredString('resourceArn');
    let holder: { tags: Tag[] };
    try {
      holder = this.taggable(arn);
    } catch (error) {
      // Unlike Tag/UntagResource, ListTagsForResource declares no ResourceNotFoundException in the
      // ECS model: an unknown resource is an invalid parameter there.
      if (error instanceof EcsApiError && error.type === EcsErrorType.ResourceNotFound) {
        throw invalidParameter(`The specified resource could not be found: ${arn}.`);
      }
      throw error;
    }
    return { tags: holder.tags.map((t) => ({ ...t })) };
  }

  private taggable(arn: string): { tags: Tag[] } {
    const resource = arnResource(arn);
    if (resource === undefined) throw invalidParameter(`Invalid resource ARN: ${arn}.`);
    const found = resource.startsWith('cluster/')
      ? this.clusters.find(arn)
      : resource.startsWith('task-definition/')
        ? this.taskDefinitions.byArnExact(arn)
        : resource.startsWith('task/')
          ? this.tasks.get(this.canonicalTaskArn(arn))
          : undefined;
    if (!found) {
      throw new EcsApiError({
        type: EcsErrorType.ResourceNotFound,
        message: 'The specified resource could not be found.',
      });
    }
    return found;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /** Emits the change, re-plans the task's next transition and saves. */
  private afterChange(task: StoredTask): void {
    this.emit(task);
    this.schedule({ task });
    this.stateFile?.markDirty();
  }

  private schedule(o: { task: StoredTask; resume?: boolean }): void {
    const { task } = o;
    const existing = this.timers.get(task.taskArn);
    if (existing) clearTimeout(existing);
    this.timers.delete(task.taskArn);
    const transition = nextTransition(task);
    if (!transition) {
      delete task.transitionDueAt;
      return;
    }
    const now = this.now();
    if (!o.resume || task.transitionDueAt === undefined) {
      task.transitionDueAt =
        now +
        transition.delayMs({
          task,
          stepDelayMs: this.stepDelayMs,
          spotWarningMs: this.spotWarningMs,
          now,
        });
    }
    if (this.closed) return;
    const timer = setTimeout(
      () => this.advance(task.taskArn),
      Math.max(0, task.transitionDueAt - now),
    );
    // The emulator's owner (server, test) decides how long the process lives, not pending steps.
    timer.unref();
    this.timers.set(task.taskArn, timer);
  }

  private advance(taskArn: string): void {
    this.timers.delete(taskArn);
    if (this.closed) return;
    const task = this.tasks.get(taskArn);
    if (!task) return;
    const transition = nextTransition(task);
    if (!transition) return;
    applyTransition({ task, transition, now: this.now() });
    this.afterChange(task);
  }

  private emit(task: StoredTask): void {
    if (!this.emitEvent) return;
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: this.ctx.accountId,
      time: new Date(task.updatedAt).toISOString(),
      region: this.ctx.region,
      resources: [task.taskArn],
      detail: renderTaskEventDetail(task),
    };
    try {
      this.emitEvent(event);
    } catch {
      // A failing listener must not break the lifecycle; delivery is the listener's concern.
    }
  }

  /** Drops STOPPED tasks past retention and client tokens past their lifetime. */
  private expire(): void {
    const now = this.now();
    for (const [arn, task] of this.tasks) {
      if (
        task.lastStatus === TaskStatus.Stopped &&
        task.stoppedAt !== undefined &&
        now - task.stoppedAt >= this.stoppedRetentionMs
      ) {
        this.tasks.delete(arn);
        this.stateFile?.markDirty();
      }
    }
    // ECS keeps a token for 24 h or the tasks' lifetime plus one hour, whichever ends first.
    for (const [key, record] of this.clientTokens) {
      const allGone = record.taskArns.every((arn) => {
        const t = this.tasks.get(arn);
        return !t || (t.stoppedAt !== undefined && now - t.stoppedAt >= this.hourMs);
      });
      if (allGone || now - record.createdAt >= this.clientTokenTtlMs) {
        this.clientTokens.delete(key);
        this.stateFile?.markDirty();
      }
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  /** An emulated duration on the emulator clock (rounded up so a step never becomes instant). */
  private scaled(emulatedMs: number): number {
    return Math.ceil(emulatedMs / this.timeScale);
  }

  /**
   * A task's simulated use of CPU or memory: the sum over its running containers of their
   * labelled percentages (each label is the container's part of the task), at most 100.
   */
  private taskPercent(o: {
    task: StoredTask;
    now: number;
    of: (c: StoredContainer) => TimelinePoint<number>[] | undefined;
  }): number {
    const elapsedMs = o.now - (o.task.startedAt ?? o.now);
    let sum = 0;
    for (const c of o.task.containers) {
      const timeline = o.of(c);
      if (c.lastStatus !== 'RUNNING' || !timeline) continue;
      sum += timelineValueAt({ timeline, elapsedMs, before: 0 });
    }
    return Math.min(100, sum);
  }

  private findTask(o: { cluster: StoredCluster; ref: string }): StoredTask | undefined {
    const { taskId, clusterName } = parseTaskRef(o.ref);
    if (clusterName !== undefined && clusterName !== o.cluster.clusterName) return undefined;
    return this.tasks.get(arns.task({ ...this.ctx, clusterName: o.cluster.clusterName, taskId }));
  }

  private canonicalTaskArn(arn: string): string {
    const { taskId, clusterName } = parseTaskRef(arn);
    return arns.task({ ...this.ctx, clusterName: clusterName ?? DEFAULT_CLUSTER, taskId });
  }

  private tokenKey(o: { clusterArn: string; clientToken: string }): string {
    return `${o.clusterArn}\n${o.clientToken}`;
  }

  private availabilityZone(subnet: string | undefined): string {
    if (subnet === undefined) return `${this.ctx.region}a`;
    const letter = 'abc'[(createHash('sha1').update(subnet).digest()[0] ?? 0) % 3] ?? 'a';
    return `${this.ctx.region}${letter}`;
  }

  private taskCounts(clusterArn: string): { running: number; pending: number } {
    let running = 0;
    let pending = 0;
    for (const t of this.tasks.values()) {
      if (t.clusterArn !== clusterArn) continue;
      if (t.lastStatus === TaskStatus.Running) running++;
      else if (
        t.lastStatus === TaskStatus.Provisioning ||
        t.lastStatus === TaskStatus.Pending ||
        t.lastStatus === TaskStatus.Activating
      ) {
        pending++;
      }
    }
    return { running, pending };
  }

  private snapshot(): PersistedState {
    return {
      format: 1,
      clusters: this.clusters.all(),
      taskDefinitions: this.taskDefinitions.all(),
      tasks: [...this.tasks.values()],
      clientTokens: [...this.clientTokens.values()],
      ...this.capacity.snapshot(),
    };
  }
}
