/**
 * reconcile(service): read the whole state, plan, claim, act, record (DESIGN.md). Level-triggered and
 * idempotent: any number of concurrent or repeated runs converge on the same state, and no slot is
 * launched twice because every launch is claimed (a conditional write) before RunTask is called, with
 * a clientToken that makes a repeated RunTask return the same task.
 */
import { mapLimit } from '../core/concurrency';
import type { Expectation, ServiceRecord } from '../core/model';
import { startedByFor } from '../core/model';
import { needsClaim, type Plan, plan } from '../core/plan';
import type { EcsCluster, LaunchResult } from '../ports/ecs-cluster';
import type { ServiceStore } from '../ports/service-store';

export type ReconcileDeps = { store: ServiceStore; ecs: EcsCluster; clock: () => number };

export type ReconcileResult = {
  serviceName: string;
  outcome: 'missing' | 'removed' | 'converged' | 'acted' | 'contended';
  launched: number;
  stopped: number;
  failedLaunches: string[];
};

/** A claim lost this many times in a row means others are reconciling this service right now. */
const MAX_ATTEMPTS = 5;
/** RunTask calls in flight at once for one service (each launches one slot). */
const LAUNCH_CONCURRENCY = 10;

/** Brings one service towards its spec. Throws only on transient infrastructure errors. */
export async function reconcile(
  deps: ReconcileDeps,
  input: { serviceName: string },
): Promise<ReconcileResult> {
  const { serviceName } = input;
  const base: ReconcileResult = {
    serviceName,
    outcome: 'converged',
    launched: 0,
    stopped: 0,
    failedLaunches: [],
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const state = await deps.store.readState(serviceName);
    if (!state) return { ...base, outcome: 'missing' };
    const { service } = state;
    const now = deps.clock();
    const p = plan({ service, tasks: state.tasks, now });
    let version = service.stateVersion;

    if (p.remove) {
      const removed = await deps.store.removeService({ serviceName, expectedVersion: version });
      if (removed.ok) return { ...base, outcome: 'removed' };
      if (removed.reason === 'not-found') return { ...base, outcome: 'missing' };
      continue;
    }
    if (needsClaim(p)) {
      const claimed = await deps.store.claim({
        serviceName,
        expectedVersion: version,
        add: p.launches,
        forget: p.forget.map((f) => f.token),
        stops: p.stops.map((s) => ({ taskId: s.taskId, at: now })),
      });
      if (!claimed.ok) {
        if (claimed.reason === 'not-found') return { ...base, outcome: 'missing' };
        continue; // another reconcile moved the state: read it again and plan anew
      }
      version += 1;
    }
    const acted = await act({ deps, service, plan: p, version });
    // Nothing was done but the status lost to a newer reconcile: look again, it may need ours.
    if (acted.statusLost && acted.result.outcome === 'converged') continue;
    return { ...base, ...acted.result };
  }
  return { ...base, outcome: 'contended' };
}

type Acted = {
  /** The status write lost to a newer reconcile. */
  statusLost: boolean;
  result: Pick<ReconcileResult, 'outcome' | 'launched' | 'stopped' | 'failedLaunches'>;
};

/** Launches and stops what the plan says, records the outcome, and writes the status and events. */
async function act(options: {
  deps: ReconcileDeps;
  service: ServiceRecord;
  plan: Plan;
  version: number;
}): Promise<Acted> {
  const { deps, service, plan: p, version } = options;
  const { spec } = service;
  const name = spec.serviceName;

  const toLaunch = [...p.retries, ...p.launches];
  const outcomes = await mapLimit(toLaunch, LAUNCH_CONCURRENCY, (e) => launch(deps, service, e));
  const started: string[] = [];
  const failures: string[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const e = toLaunch[i] as Expectation;
    if (outcome.ok) {
      // Record the task (with its slot) before forgetting the expectation, so a concurrent plan
      // always sees one or the other and never finds the slot free.
      await deps.store.recordLaunch({
        serviceName: name,
        task: outcome.task,
        slot: e.slot,
        launchToken: e.token,
        generation: e.generation,
      });
      started.push(outcome.task.taskId);
    } else {
      failures.push(outcome.reason);
    }
  }
  for (const s of p.stops)
    await deps.ecs.stop({ cluster: spec.cluster, taskArn: s.taskArn, reason: s.reason });

  const messages: string[] = [];
  if (started.length > 0)
    messages.push(
      `(service ${name}) has started ${started.length} tasks: ${started.map((id) => `(task ${id})`).join(' ')}.`,
    );
  if (p.stops.length > 0)
    messages.push(
      `(service ${name}) has stopped ${p.stops.length} running tasks: ${p.stops.map((s) => `(task ${s.taskId})`).join(' ')}.`,
    );
  for (const reason of new Set(failures))
    messages.push(`(service ${name}) is unable to start tasks: ${reason}`);
  const expired = p.forget.filter((f) => f.expired).length;
  if (expired > 0)
    messages.push(
      `(service ${name}) did not see ${expired} launched tasks appear within 5 minutes; launching again.`,
    );

  const status = {
    ...p.status,
    pendingCount: Math.max(0, p.status.pendingCount - failures.length),
  };
  const settled = toLaunch.map((e) => e.token);
  const changed = JSON.stringify(status) !== JSON.stringify(service.status);
  let statusLost = false;
  if (changed || settled.length > 0 || p.forgetStops.length > 0) {
    const written = await deps.store.settle({
      serviceName: name,
      expectedVersion: version,
      forget: settled,
      forgetStops: p.forgetStops,
      status,
    });
    statusLost = !written.ok;
    // A transition is announced only by the reconcile whose status write won, so it is said once.
    if (written.ok && status.steady && !service.status.steady)
      messages.push(`(service ${name}) has reached a steady state.`);
  }
  if (messages.length > 0) {
    await deps.store.appendEvents({
      serviceName: name,
      messages,
      now: new Date(deps.clock()).toISOString(),
    });
  }
  const actedOnEcs = toLaunch.length > 0 || p.stops.length > 0;
  return {
    statusLost,
    result: {
      outcome: actedOnEcs ? 'acted' : 'converged',
      launched: started.length,
      stopped: p.stops.length,
      failedLaunches: failures,
    },
  };
}

function launch(
  deps: ReconcileDeps,
  service: ServiceRecord,
  e: Expectation,
): Promise<LaunchResult> {
  const { spec } = service;
  return deps.ecs.launch({
    cluster: spec.cluster,
    taskDefinition: e.taskDefinition,
    ...(spec.launchType ? { launchType: spec.launchType } : {}),
    ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
    startedBy: startedByFor(spec.serviceName),
    clientToken: e.token,
    slot: e.slot,
    serviceName: spec.serviceName,
  });
}
