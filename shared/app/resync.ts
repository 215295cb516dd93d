/**
 * The tick's resync: events are hints and can be lost, so once a period every cluster that has
 * services is read from ECS, task records are corrected (tasks that stopped without an event, tasks
 * never recorded, tasks ECS no longer knows), orphans are stopped, and every service is reconciled.
 */
import { isLive, ownerOf, type ServiceRecord, type TaskRecord } from '../core/model';
import { needsClaim, needsSettle, plan } from '../core/plan';
import { targetGroupsToRead } from '../core/targets';
import type { ServiceState, ServiceStore } from '../ports/service-store';
import { type ReconcileDeps, reconcile } from './reconcile';

export type ResyncDeps = ReconcileDeps & {
  /** An owned task whose service is gone is stopped only when older than this (launch races). */
  orphanGraceMs: number;
};

export type ResyncResult = {
  clusters: number;
  services: number;
  tasksDescribed: number;
  corrected: number;
  vanished: number;
  orphansStopped: number;
  reconciled: number;
  errors: { serviceName?: string; cluster?: string; message: string }[];
};

/** A live record that ECS does not know is only declared gone after this long (RunTask is eventually consistent). */
const MISSING_GRACE_MS = 2 * 60_000;

/** Reads every cluster with services from ECS, corrects the records and reconciles every service. */
export async function resync(deps: ResyncDeps): Promise<ResyncResult> {
  const result: ResyncResult = {
    clusters: 0,
    services: 0,
    tasksDescribed: 0,
    corrected: 0,
    vanished: 0,
    orphansStopped: 0,
    reconciled: 0,
    errors: [],
  };
  const services = await allServices(deps.store);
  result.services = services.length;
  // Clusters with services, and clusters that once had some: an orphan can outlive every service
  // of its cluster (a launch that raced the deletion of its service).
  const byCluster = new Map<string, ServiceRecord[]>();
  for (const cluster of await deps.store.listClusters()) byCluster.set(cluster, []);
  for (const s of services)
    byCluster.set(s.spec.cluster, [...(byCluster.get(s.spec.cluster) ?? []), s]);
  const known = new Set(services.map((s) => s.spec.serviceName));
  // Services whose records this resync corrected: they are reconciled whatever their status says.
  const touched = new Set<string>();
  // The state each service had when resync read it: what decides whether it needs a reconcile.
  const states = new Map<string, ServiceState>();

  for (const [cluster, members] of byCluster) {
    result.clusters += 1;
    try {
      await resyncCluster({ deps, cluster, members, known, touched, states, result });
    } catch (error) {
      result.errors.push({ cluster, message: messageOf(error) });
    }
  }
  for (const s of services) {
    const state = states.get(s.spec.serviceName);
    if (!touched.has(s.spec.serviceName) && state && !hasWork(state, deps.clock())) continue;
    try {
      await reconcile(deps, { serviceName: s.spec.serviceName });
      result.reconciled += 1;
    } catch (error) {
      result.errors.push({ serviceName: s.spec.serviceName, message: messageOf(error) });
    }
  }
  return result;
}

async function resyncCluster(options: {
  deps: ResyncDeps;
  cluster: string;
  members: ServiceRecord[];
  known: Set<string>;
  touched: Set<string>;
  states: Map<string, ServiceState>;
  result: ResyncResult;
}): Promise<void> {
  const { deps, cluster, members, known, touched, states, result } = options;
  const now = deps.clock();
  const recorded = new Map<string, { serviceName: string; task: TaskRecord }>();
  for (const s of members) {
    const state = await deps.store.readState(s.spec.serviceName);
    if (state) states.set(s.spec.serviceName, state);
    for (const task of state?.tasks ?? [])
      recorded.set(task.taskArn, { serviceName: s.spec.serviceName, task });
  }
  const liveRecorded = [...recorded.values()]
    .filter((r) => isLive(r.task))
    .map((r) => r.task.taskArn);
  const running = await deps.ecs.listRunningTaskArns(cluster);
  const arns = [...new Set([...running, ...liveRecorded])];
  const described = await deps.ecs.describe({ cluster, taskArns: arns });
  result.tasksDescribed += described.tasks.length;

  for (const { startedBy, task } of described.tasks) {
    const owner = ownerOf(startedBy);
    if (owner === undefined) continue;
    if (known.has(owner)) {
      const stored = recorded.get(task.taskArn)?.task;
      // Only news is written: at steady state a resync reads ECS and writes nothing (a rejected
      // conditional write would still cost a request and write capacity for every task).
      if (!stored || task.version > stored.version) {
        const written = await deps.store.recordObservation({ serviceName: owner, task });
        if (written.ok) {
          result.corrected += 1;
          touched.add(owner);
        }
      } else if (!isLive(stored) && isLive(task) && task.desiredStatus !== 'STOPPED') {
        // ECS runs a task Steward has recorded as stopped (ECS never restarts a stopped task, so
        // the record or the environment was tampered with). Nothing counts it: stop it, as an orphan.
        await deps.ecs.stop({
          cluster,
          taskArn: task.taskArn,
          reason: 'Steward: task runs but was recorded as stopped',
        });
        result.orphansStopped += 1;
      }
    } else if (
      isLive(task) &&
      task.desiredStatus !== 'STOPPED' &&
      ageMs(task.createdAt, now) > deps.orphanGraceMs
    ) {
      await deps.ecs.stop({
        cluster,
        taskArn: task.taskArn,
        reason: `Steward: orphan task, service ${owner} does not exist`,
      });
      result.orphansStopped += 1;
    }
  }
  for (const arn of described.missing) {
    const entry = recorded.get(arn);
    if (
      !entry ||
      !isLive(entry.task) ||
      ageMs(entry.task.updatedAt ?? entry.task.createdAt, now) <= MISSING_GRACE_MS
    )
      continue;
    const stoppedAt = new Date(now).toISOString();
    const written = await deps.store.recordObservation({
      serviceName: entry.serviceName,
      task: {
        ...entry.task,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        // One past the last version seen: newer than anything recorded, and a real later event still wins.
        version: entry.task.version + 1,
        stoppedAt,
        updatedAt: stoppedAt,
        stoppedReason: 'Task is no longer known to ECS (DescribeTasks answered MISSING)',
      },
    });
    if (written.ok) {
      result.vanished += 1;
      touched.add(entry.serviceName);
    }
  }
}

/**
 * Whether the plan for this state would do or record anything. Decided from the state itself, not
 * from the stored status: a reconcile that failed after its event was recorded leaves a status that
 * still says "steady", and only the tick is left to notice.
 */
function hasWork(state: ServiceState, now: number): boolean {
  // Target health changes without any ECS event (a task turns unhealthy, a target finishes
  // draining): a load-balanced service is reconciled by every tick, which reads its target groups.
  if (targetGroupsToRead(state.service, state.tasks).length > 0) return true;
  const p = plan({ service: state.service, tasks: state.tasks, now });
  return (
    needsClaim(p) || needsSettle(p, state.service.status) || p.remove || p.stopRetries.length > 0
  );
}

/** Every service, all pages. */
export async function allServices(store: ServiceStore): Promise<ServiceRecord[]> {
  const out: ServiceRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await store.listServices(nextToken === undefined ? {} : { nextToken });
    out.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

function ageMs(iso: string | undefined, now: number): number {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isFinite(t) ? now - t : Number.POSITIVE_INFINITY;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
