import { randomBytes } from 'node:crypto';
import type { ClusterRegistry } from './clusters';
import { invalidParameter } from './errors';
import {
  type ArnContext,
  arnResource,
  arns,
  type ResourceReservation,
  type RunTaskFailure,
  type StoredContainerInstance,
  type StoredTask,
  TaskStatus,
} from './model';
import { paginate } from './pagination';
import { RequestReader } from './validation';

// Simulated EC2 capacity: container instances set by the test control setCapacity (there is no
// RegisterContainerInstance), tasks placed on them by RunTask, and whether FARGATE_SPOT has
// capacity. What an instance has left is derived from the tasks placed on it that are not STOPPED,
// so a stopped task releases its resources without bookkeeping and a restart loses nothing.

/** The failure ECS reports when Fargate (Spot) has no capacity for a task (repost.aws). */
export const CAPACITY_UNAVAILABLE_REASON =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/** One simulated instance as setCapacity takes it. */
export type InstanceSpec = {
  cpu: number;
  memory: number;
  ports?: number[];
  availabilityZone?: string;
};

/** Where a task goes: an instance, or the failure RunTask reports for it. */
export type Placement =
  | { ok: true; instance: StoredContainerInstance }
  | { ok: false; failure: RunTaskFailure };

export type CapacityRegistryOptions = ArnContext & {
  now: () => number;
  clusters: ClusterRegistry;
  /** Every task the emulator knows (resources held are derived from them). */
  tasks: () => Iterable<StoredTask>;
  instances?: readonly StoredContainerInstance[];
  spotUnavailable?: readonly string[];
};

type Remaining = { cpu: number; memory: number; tcpPorts: Set<number>; udpPorts: Set<number> };

// ECS checks resources in this order; the failure names the first one an instance lacks.
const CHECKS = ['RESOURCE:MEMORY', 'RESOURCE:CPU', 'RESOURCE:PORTS'] as const;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

const integerResource = (name: string, value: number): Record<string, unknown> => ({
  name,
  type: 'INTEGER',
  doubleValue: 0,
  longValue: 0,
  integerValue: value,
});

const portsResource = (name: string, ports: Iterable<number>): Record<string, unknown> => ({
  name,
  type: 'STRINGSET',
  doubleValue: 0,
  longValue: 0,
  integerValue: 0,
  stringSetValue: [...ports].sort((a, b) => a - b).map(String),
});

const holdsResources = (task: StoredTask): boolean => task.lastStatus !== TaskStatus.Stopped;

/** Container instances per cluster, EC2 placement, and Fargate Spot availability. */
export class CapacityRegistry {
  private readonly ctx: ArnContext;
  private readonly now: () => number;
  private readonly clusters: ClusterRegistry;
  private readonly tasks: () => Iterable<StoredTask>;
  private readonly byCluster = new Map<string, StoredContainerInstance[]>();
  private readonly spotUnavailable = new Set<string>();

  constructor(options: CapacityRegistryOptions) {
    this.ctx = { region: options.region, accountId: options.accountId };
    this.now = options.now;
    this.clusters = options.clusters;
    this.tasks = options.tasks;
    for (const i of options.instances ?? []) {
      this.byCluster.set(i.clusterArn, [...(this.byCluster.get(i.clusterArn) ?? []), i]);
    }
    for (const arn of options.spotUnavailable ?? []) this.spotUnavailable.add(arn);
  }

  /** Everything to persist. */
  snapshot(): { containerInstances: StoredContainerInstance[]; spotUnavailable: string[] } {
    return {
      containerInstances: [...this.byCluster.values()].flat(),
      spotUnavailable: [...this.spotUnavailable],
    };
  }

  /**
   * Replaces a cluster's instances (when `instances` is given) and sets Spot availability (when
   * `spotAvailable` is given). Tasks on replaced instances keep running; they no longer count
   * against any instance. Returns the cluster's instance ARNs.
   */
  set(o: { cluster?: string; spotAvailable?: boolean; instances?: readonly InstanceSpec[] }): {
    containerInstanceArns: string[];
  } {
    const cluster = this.clusters.get(o.cluster);
    if (o.instances !== undefined) {
      if (!Array.isArray(o.instances)) throw invalidParameter('instances must be a list.');
      const registeredAt = this.now();
      const created = o.instances.map((spec, i) =>
        this.newInstance({ spec, index: i, clusterName: cluster.clusterName, registeredAt }),
      );
      this.byCluster.set(cluster.clusterArn, created);
    }
    if (o.spotAvailable !== undefined) {
      if (typeof o.spotAvailable !== 'boolean') {
        throw invalidParameter('spotAvailable must be true or false.');
      }
      if (o.spotAvailable) this.spotUnavailable.delete(cluster.clusterArn);
      else this.spotUnavailable.add(cluster.clusterArn);
    }
    return { containerInstanceArns: this.instancesOf(cluster.clusterArn).map(this.arnOf) };
  }

  instancesOf(clusterArn: string): StoredContainerInstance[] {
    return this.byCluster.get(clusterArn) ?? [];
  }

  spotAvailable(clusterArn: string): boolean {
    return !this.spotUnavailable.has(clusterArn);
  }

  /**
   * Picks an instance with room for `demand`: the one with the least memory left that fits
   * (binpack by memory). Without one, the failure names an instance and the resource it lacks,
   * preferring the instance that passed the most checks.
   */
  place(o: { clusterArn: string; demand: ResourceReservation }): Placement {
    const { demand } = o;
    let best: { instance: StoredContainerInstance; memoryLeft: number } | undefined;
    let nearest: { instance: StoredContainerInstance; failedCheck: number } | undefined;
    for (const instance of this.instancesOf(o.clusterArn)) {
      const left = this.remaining(instance);
      const portsFree =
        demand.tcpPorts.every((p) => !left.tcpPorts.has(p)) &&
        demand.udpPorts.every((p) => !left.udpPorts.has(p));
      const passes = [demand.memory <= left.memory, demand.cpu <= left.cpu, portsFree];
      const failedCheck = passes.indexOf(false);
      if (failedCheck < 0) {
        if (!best || left.memory < best.memoryLeft) best = { instance, memoryLeft: left.memory };
      } else if (!nearest || failedCheck > nearest.failedCheck) {
        nearest = { instance, failedCheck };
      }
    }
    if (best) return { ok: true, instance: best.instance };
    return {
      ok: false,
      failure: {
        arn: nearest ? nearest.instance.containerInstanceArn : o.clusterArn,
        reason: CHECKS[nearest?.failedCheck ?? 0] ?? 'RESOURCE:MEMORY',
      },
    };
  }

  /** ListContainerInstances. */
  list(body: unknown): { containerInstanceArns: string[]; nextToken?: string } {
    const req = new RequestReader({ body });
    const cluster = this.clusters.get(req.string('cluster'));
    const status = req.enumString({
      member: 'status',
      values: ['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'],
    });
    if (req.string('filter') !== undefined) {
      throw invalidParameter('The ECS emulator does not support cluster query language filters.');
    }
    // Simulated instances are always ACTIVE.
    const items =
      status === undefined || status === 'ACTIVE' ? [...this.instancesOf(cluster.clusterArn)] : [];
    items.sort((a, b) => (a.containerInstanceArn < b.containerInstanceArn ? -1 : 1));
    const page = paginate({ items, keyOf: this.arnOf, request: req });
    const containerInstanceArns = page.items.map(this.arnOf);
    return page.nextToken
      ? { containerInstanceArns, nextToken: page.nextToken }
      : { containerInstanceArns };
  }

  /** DescribeContainerInstances. */
  describe(body: unknown): { containerInstances: unknown[]; failures: RunTaskFailure[] } {
    const req = new RequestReader({ body });
    const cluster = this.clusters.get(req.string('cluster'));
    const refs = req.stringList('containerInstances');
    if (refs === undefined || refs.length === 0) {
      throw invalidParameter('containerInstances can not be empty.');
    }
    if (refs.length > 100) throw invalidParameter('containerInstances can have at most 100 items.');
    const includeTags = (req.stringList('include') ?? []).includes('TAGS');
    const containerInstances: unknown[] = [];
    const failures: RunTaskFailure[] = [];
    for (const ref of new Set(refs)) {
      const instance = this.findInstance({ clusterArn: cluster.clusterArn, ref });
      if (instance) {
        containerInstances.push({
          ...this.render(instance),
          ...(includeTags ? { tags: [] } : {}),
        });
      } else {
        const arn =
          arnResource(ref) === undefined
            ? arns.containerInstance({ ...this.ctx, clusterName: cluster.clusterName, id: ref })
            : ref;
        failures.push({ arn, reason: 'MISSING' });
      }
    }
    return { containerInstances, failures };
  }

  /** An instance of the cluster by ARN or id. */
  findInstance(o: { clusterArn: string; ref: string }): StoredContainerInstance | undefined {
    const id = o.ref.split('/').at(-1);
    return this.instancesOf(o.clusterArn).find(
      (i) => i.containerInstanceArn === o.ref || i.containerInstanceArn.split('/').at(-1) === id,
    );
  }

  private readonly arnOf = (i: StoredContainerInstance): string => i.containerInstanceArn;

  private remaining(instance: StoredContainerInstance): Remaining {
    const left: Remaining = {
      cpu: instance.cpu,
      memory: instance.memory,
      tcpPorts: new Set(instance.ports),
      udpPorts: new Set(),
    };
    for (const task of this.tasksOn(instance)) {
      if (!holdsResources(task) || !task.reservation) continue;
      left.cpu -= task.reservation.cpu;
      left.memory -= task.reservation.memory;
      for (const p of task.reservation.tcpPorts) left.tcpPorts.add(p);
      for (const p of task.reservation.udpPorts) left.udpPorts.add(p);
    }
    return left;
  }

  private *tasksOn(instance: StoredContainerInstance): Iterable<StoredTask> {
    for (const task of this.tasks()) {
      if (task.containerInstanceArn === instance.containerInstanceArn) yield task;
    }
  }

  private render(instance: StoredContainerInstance): Record<string, unknown> {
    const left = this.remaining(instance);
    let running = 0;
    let pending = 0;
    for (const task of this.tasksOn(instance)) {
      if (task.lastStatus === TaskStatus.Running) running++;
      else if (holdsResources(task)) pending++;
    }
    return {
      containerInstanceArn: instance.containerInstanceArn,
      ec2InstanceId: instance.ec2InstanceId,
      version: 1,
      versionInfo: {
        agentVersion: '1.89.0',
        agentHash: 'emulated',
        dockerVersion: 'DockerVersion: 25.0.8',
      },
      // ECS lists the ports in use (reserved at registration plus taken by tasks) as "remaining".
      remainingResources: [
        integerResource('CPU', left.cpu),
        integerResource('MEMORY', left.memory),
        portsResource('PORTS', left.tcpPorts),
        portsResource('PORTS_UDP', left.udpPorts),
      ],
      registeredResources: [
        integerResource('CPU', instance.cpu),
        integerResource('MEMORY', instance.memory),
        portsResource('PORTS', instance.ports),
        portsResource('PORTS_UDP', []),
      ],
      status: 'ACTIVE',
      agentConnected: true,
      runningTasksCount: running,
      pendingTasksCount: pending,
      attributes: [],
      registeredAt: instance.registeredAt / 1000,
      attachments: [],
    };
  }

  private newInstance(o: {
    spec: InstanceSpec;
    index: number;
    clusterName: string;
    registeredAt: number;
  }): StoredContainerInstance {
    const { spec } = o;
    const where = `instances[${o.index}]`;
    const positive = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
    if (!positive(spec.cpu)) throw invalidParameter(`${where}.cpu must be a positive integer.`);
    if (!positive(spec.memory)) {
      throw invalidParameter(`${where}.memory must be a positive integer.`);
    }
    const ports = spec.ports ?? [];
    if (!Array.isArray(ports) || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
      throw invalidParameter(`${where}.ports must be a list of port numbers.`);
    }
    if (spec.availabilityZone !== undefined && typeof spec.availabilityZone !== 'string') {
      throw invalidParameter(`${where}.availabilityZone must be a string.`);
    }
    return {
      containerInstanceArn: arns.containerInstance({
        ...this.ctx,
        clusterName: o.clusterName,
        id: hex(16),
      }),
      ec2InstanceId: `i-${hex(9).slice(0, 17)}`,
      clusterArn: arns.cluster({ ...this.ctx, name: o.clusterName }),
      cpu: spec.cpu,
      memory: spec.memory,
      ports: [...new Set(ports)],
      // Spread over three zones unless told, as an Auto Scaling group would.
      availabilityZone: spec.availabilityZone ?? `${this.ctx.region}${'abc'[o.index % 3] ?? 'a'}`,
      registeredAt: o.registeredAt,
    };
  }
}
