/**
 * reconcile(service): read the whole state, plan, claim, act, record (DESIGN.md). Level-triggered and
 * idempotent: any number of concurrent or repeated runs converge on the same state, and no slot is
 * launched twice because every launch is claimed (a conditional write) before RunTask is called, with
 * a clientToken that makes a repeated RunTask return the same task.
 *
 * The RunTask answer needs no write: the task carries its slot and launch token in its environment,
 * so the task's own events (or resync) tie it to its expectation. A replacement costs one claim.
 */
import { mapLimit } from '../core/concurrency';
import {
  type Expectation,
  ROLLBACK_FIELDS,
  type ServiceRecord,
  type ServiceSpec,
  startedByFor,
  type Target,
  type TargetGroupsHealth,
  type TaskRecord,
  targetKey,
} from '../core/model';
import { needsClaim, needsSettle, type Plan, plan, type TargetsWrite } from '../core/plan';
import { LAUNCH_FAILURES_KEPT, type LaunchFailure } from '../core/restart';
import { serviceFieldsSchema, toFieldErrors } from '../core/schemas';
import { byTargetGroup, targetGroupsToRead } from '../core/targets';
import type { EcsCluster, LaunchResult } from '../ports/ecs-cluster';
import { type LoadBalancing, LoadBalancingRefusal } from '../ports/load-balancing';
import type { ServiceStore } from '../ports/service-store';

export type ReconcileDeps = {
  store: ServiceStore;
  ecs: EcsCluster;
  loadBalancing: LoadBalancing;
  clock: () => number;
};

export type ReconcileResult = {
  serviceName: string;
  outcome: 'missing' | 'removed' | 'converged' | 'acted' | 'contended';
  launched: number;
  stopped: number;
  failedLaunches: string[];
};

/** A claim lost this many times in a row means others are reconciling this service right now. */
const MAX_ATTEMPTS = 5;
/** Where a Spot fallback launches. */
const ON_DEMAND = [{ capacityProvider: 'FARGATE', weight: 1 }];

/** RunTask calls in flight at once for one service (each launches one slot). */
const LAUNCH_CONCURRENCY = 10;
/** Target record writes (and reads) in flight at once for one service. */
const RECORD_CONCURRENCY = 10;

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
    // A load-balanced service's targets are read first: whether its tasks serve, drain or failed
    // their health checks is ELB's to say.
    const targetHealth = await readTargetHealth(deps.loadBalancing, service, state.tasks);
    const now = deps.clock();
    const p = plan({ service, tasks: state.tasks, now, ...(targetHealth ? { targetHealth } : {}) });
    let version = service.stateVersion;

    // The circuit breaker tripped with rollback on: the spec goes back to the last completed
    // deployment, whose tasks are current again (a spec write like any other, then plan anew).
    // A rollback the API would refuse is said once, and the failed deployment stays as it is.
    if (p.rollback && (await rollBack(deps, service, p)) !== 'invalid') continue;

    if (p.remove) {
      const removed = await deps.store.removeService({ serviceName, expectedVersion: version });
      if (removed.ok) return { ...base, outcome: 'removed' };
      if (removed.reason === 'not-found') return { ...base, outcome: 'missing' };
      continue;
    }
    // One conditional write decides: new launches and stops (the claim), or just the status.
    if (needsClaim(p) || needsSettle(p, service.status)) {
      const written = needsClaim(p)
        ? await deps.store.claim({
            serviceName,
            expectedVersion: version,
            add: p.launches,
            forget: p.forget.map((f) => f.token),
            // Reissued stops are claimed too (a fresh time), so concurrent reconciles reissue once.
            stops: [...p.stops, ...p.stopRetries].map((s) => ({ taskId: s.taskId, at: now })),
            forgetStops: p.forgetStops,
            reissue: p.retries.map((e) => ({ token: e.token, at: now })),
            ...(p.launchFailures ? { launchFailures: p.launchFailures } : {}),
            status: p.status,
          })
        : await deps.store.settle({
            serviceName,
            expectedVersion: version,
            forget: [],
            forgetStops: p.forgetStops,
            status: p.status,
          });
      if (!written.ok) {
        if (written.reason === 'not-found') return { ...base, outcome: 'missing' };
        continue; // another reconcile moved the state: read it again and plan anew
      }
      version += 1;
      // Said by the reconcile whose write won, so each is said once.
      if (p.messages.length > 0) await appendEvents(deps, serviceName, p.messages);
    }
    return { ...base, ...(await act({ deps, service, plan: p, version })) };
  }
  return { ...base, outcome: 'contended' };
}

/** Launches and stops what the plan says; records what ECS refused. */
async function act(options: {
  deps: ReconcileDeps;
  service: ServiceRecord;
  plan: Plan;
  version: number;
}): Promise<Pick<ReconcileResult, 'outcome' | 'launched' | 'stopped' | 'failedLaunches'>> {
  const { deps, service, plan: p, version } = options;
  const { spec } = service;
  const name = spec.serviceName;
  const retried = new Set(p.retries.map((e) => e.token));

  // Target records are written conditionally on the version the plan read: a write planned on
  // stale targets loses, and the ELB call it stood for is not made (the next reconcile decides).
  const record = async (w: TargetsWrite) =>
    (
      await deps.store.recordTargets({
        serviceName: name,
        taskId: w.taskId,
        targets: w.record,
        expectedVersion: w.expectedVersion,
      })
    ).ok;
  // Tasks about to stop leave their target groups first (they drain; a later reconcile stops them),
  // marked as leaving on their records before they are deregistered.
  const marked = await mapLimit(p.leaving, RECORD_CONCURRENCY, record);
  const refusals: string[] = [];
  await changeTargets({
    lb: deps.loadBalancing,
    targets: [
      ...p.leaving.filter((_, i) => marked[i]).flatMap((l) => l.targets),
      ...p.deregistrations,
    ],
    op: 'deregister',
    refusals,
  });

  const toLaunch = [...p.retries, ...p.launches];
  const outcomes = await mapLimit(toLaunch, LAUNCH_CONCURRENCY, (e) => launch(deps, service, e));
  const failed: { token: string; reason: string; slot: number; retryable: boolean }[] = [];
  let launched = 0;
  for (const [i, outcome] of outcomes.entries()) {
    const e = toLaunch[i] as Expectation;
    if (!outcome.ok) {
      failed.push({
        token: e.token,
        reason: outcome.reason,
        slot: e.slot,
        retryable: outcome.retryable,
      });
      continue;
    }
    launched += 1;
    // A retried launch is one whose claimer died; its task may have missed its events. Record it
    // now (version-guarded, so an event that got there first wins).
    if (retried.has(e.token))
      await deps.store.recordObservation({ serviceName: name, task: outcome.task });
  }
  // Recorded first: a task is always deregistered from what it may have joined.
  const recorded = await mapLimit(p.registrations, RECORD_CONCURRENCY, record);
  const registering = p.registrations.filter((_, i) => recorded[i]);
  await changeTargets({
    lb: deps.loadBalancing,
    targets: registering.flatMap((r) => r.targets),
    op: 'register',
    refusals,
  });
  // A record deleted meanwhile (the task's service removed, its records with it) would leave the
  // targets registered with nothing to deregister them by: they are taken out again at once.
  await mapLimit(registering, RECORD_CONCURRENCY, async (r) => {
    if (await deps.store.readTargets({ serviceName: name, taskId: r.taskId })) return;
    await changeTargets({ lb: deps.loadBalancing, targets: r.targets, op: 'deregister', refusals });
  });
  await mapLimit(p.forgetTargets, RECORD_CONCURRENCY, record);
  const stops = [...p.stops, ...p.stopRetries];
  for (const s of stops)
    await deps.ecs.stop({ cluster: spec.cluster, taskArn: s.taskArn, reason: s.reason });
  if (refusals.length > 0) {
    await appendEvents(
      deps,
      name,
      refusals.map((r) => `(service ${name}) ${r}`),
    );
  }

  if (failed.length > 0) {
    const now = deps.clock();
    const failures: LaunchFailure[] = failed.map((f) => ({
      at: now,
      reason: f.reason,
      slot: f.slot,
      retryable: f.retryable,
    }));
    await deps.store.settle({
      serviceName: name,
      expectedVersion: version,
      forget: failed.map((f) => f.token),
      forgetStops: [],
      status: {
        ...p.status,
        pendingCount: Math.max(0, p.status.pendingCount - failed.length),
        steady: false,
      },
      launchFailures: {
        all: [...(p.launchFailures ?? service.launchFailures), ...failures].slice(
          -LAUNCH_FAILURES_KEPT,
        ),
        added: failures,
      },
    });
    const reasons = [...new Set(failed.map((f) => f.reason))];
    await appendEvents(
      deps,
      name,
      reasons.map((r) => `(service ${name}) is unable to start tasks: ${r}`),
    );
  }
  return {
    outcome: toLaunch.length > 0 || stops.length > 0 ? 'acted' : 'converged',
    launched,
    stopped: stops.length,
    failedLaunches: failed.map((f) => f.reason),
  };
}

async function rollBack(
  deps: ReconcileDeps,
  service: ServiceRecord,
  p: Plan,
): Promise<'written' | 'lost' | 'invalid'> {
  const to = p.rollback;
  if (!to) return 'invalid';
  const { spec } = service;
  // The breaker's own words ("Deployment 2 failed: 3 tasks failed to start …").
  const why = p.status.conditions.find((c) =>
    c.message.startsWith(`Deployment ${service.deployment.id} failed`),
  );
  const failed = service.deployment.id;
  const replace = { ...withoutLaunchFields(spec), ...to.launch } as ServiceSpec;
  const now = new Date(deps.clock()).toISOString();
  // The rolled-back spec must be one the API would take (fields set since may not fit it).
  const valid = serviceFieldsSchema.safeParse(replace);
  if (!valid.success) {
    // Said when the deployment is first seen failed; later reconciles keep it FAILED quietly.
    if (service.status.deployment?.rolloutState === 'FAILED') return 'invalid';
    await appendEvents(deps, spec.serviceName, [
      `(service ${spec.serviceName}) deployment ${failed} failed and cannot be rolled back to deployment ${to.id}: ${toFieldErrors(
        valid.error,
      )
        .map((e) => `${e.path} ${e.message}`)
        .join('; ')}.`,
    ]);
    return 'invalid';
  }
  const written = await deps.store.updateSpec({
    serviceName: spec.serviceName,
    replace,
    // No `previous`: a rollback that fails too is not rolled back again.
    deployment: {
      id: to.id,
      startedAt: now,
      reason: `rolled back after deployment ${failed} failed`,
    },
    now,
    expectedGeneration: service.generation,
  });
  if (!written.ok) return 'lost';
  await appendEvents(deps, spec.serviceName, [
    `(service ${spec.serviceName}) ${why ? `${why.message} ` : ''}Rolling back to deployment ${to.id}.`,
  ]);
  return 'written';
}

function withoutLaunchFields(spec: ServiceSpec): Partial<ServiceSpec> {
  const out: Record<string, unknown> = { ...spec };
  for (const f of ROLLBACK_FIELDS) delete out[f];
  return out as Partial<ServiceSpec>;
}

/**
 * What ELB says of the target groups a service uses (the spec's, and those its tasks were
 * registered with), or undefined for a service without load balancers.
 */
async function readTargetHealth(
  lb: LoadBalancing,
  service: ServiceRecord,
  tasks: TaskRecord[],
): Promise<TargetGroupsHealth | undefined> {
  const arns = targetGroupsToRead(service, tasks);
  if (arns.length === 0) return undefined;
  const read = await Promise.all(arns.map((arn) => lb.targetHealth(arn)));
  return new Map(
    arns.map((arn, i) => {
      const group = read[i];
      return [
        arn,
        group === undefined || group.missing === true
          ? { missing: true as const }
          : { targets: new Map(group.targets.map((d) => [targetKey(d.target), d.health])) },
      ];
    }),
  );
}

/** Registers or deregisters targets, one call per target group; ELB's refusals become events. */
async function changeTargets(o: {
  lb: LoadBalancing;
  targets: Target[];
  op: 'register' | 'deregister';
  refusals: string[];
}): Promise<void> {
  await Promise.all(
    [...byTargetGroup(o.targets)].map(async ([arn, targets]) => {
      const ids = targets.map((t) => ({ id: t.id, port: t.port }));
      try {
        await (o.op === 'register' ? o.lb.register(arn, ids) : o.lb.deregister(arn, ids));
      } catch (error) {
        if (!(error instanceof LoadBalancingRefusal)) throw error;
        o.refusals.push(`is unable to ${o.op} targets in (target-group ${arn}): ${error.message}`);
      }
    }),
  );
}

function appendEvents(deps: ReconcileDeps, serviceName: string, messages: string[]): Promise<void> {
  return deps.store.appendEvents({
    serviceName,
    messages,
    now: new Date(deps.clock()).toISOString(),
  });
}

function launch(
  deps: ReconcileDeps,
  service: ServiceRecord,
  e: Expectation,
): Promise<LaunchResult> {
  const { spec } = service;
  // A Spot fallback launches on on-demand Fargate, whatever the service's strategy says.
  const strategy = e.fallback ? ON_DEMAND : spec.capacityProviderStrategy;
  // A strategy and a launch type exclude each other in RunTask.
  const launchType = e.fallback ? undefined : spec.launchType;
  const tags = spec.propagateTags === 'SERVICE' ? spec.tags : undefined;
  return deps.ecs.launch({
    cluster: spec.cluster,
    taskDefinition: e.taskDefinition,
    ...(launchType ? { launchType } : {}),
    ...(strategy ? { capacityProviderStrategy: strategy } : {}),
    ...(spec.platformVersion ? { platformVersion: spec.platformVersion } : {}),
    ...(spec.networkConfiguration ? { networkConfiguration: spec.networkConfiguration } : {}),
    ...(spec.placementConstraints ? { placementConstraints: spec.placementConstraints } : {}),
    ...(spec.placementStrategy ? { placementStrategy: spec.placementStrategy } : {}),
    ...(tags ? { tags } : {}),
    ...(spec.propagateTags === 'TASK_DEFINITION' ? { propagateTags: 'TASK_DEFINITION' } : {}),
    ...(spec.enableExecuteCommand !== undefined
      ? { enableExecuteCommand: spec.enableExecuteCommand }
      : {}),
    startedBy: startedByFor(spec.serviceName),
    clientToken: e.token,
    slot: e.slot,
    deployment: e.deployment ?? service.deployment.id,
    ...(e.fallback ? { fallback: true } : {}),
    serviceName: spec.serviceName,
  });
}
