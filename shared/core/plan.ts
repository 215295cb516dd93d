/**
 * plan(): the pure decision of one reconcile (DESIGN.md). Given the service record, its task records and
 * the time, it says which slots to launch, which launches to (re)issue, which tasks to stop and what
 * the status is. No I/O, no clock, no environment: the same input always gives the same plan, and a
 * converged service gives an empty one.
 */
import { createHash } from 'node:crypto';
import {
  type Condition,
  ConditionType,
  type Deployment,
  type DeploymentStatus,
  type Expectation,
  isLive,
  type RecordedTarget,
  type ServiceRecord,
  type ServiceSpec,
  type ServiceStatus,
  sameTarget,
  type Target,
  type TargetGroupsHealth,
  type TaskRecord,
  TaskStatus,
} from './model';
import {
  DEFAULT_RESTART_POLICY,
  failureStreak,
  healthFailureAt,
  LAUNCH_FAILURES_KEPT,
  type LaunchFailure,
  type RestartDecision,
  restartDecision,
} from './restart';
import {
  HEALTH_CHECK_STOP,
  recordedTargets,
  type TargetsView,
  targetsView,
  withRegistered,
} from './targets';

/** How long a written-down launch may stay unseen before it counts as a failed launch. */
export const EXPECTATION_TTL_MS = 5 * 60_000;
/**
 * A younger expectation is assumed to be in the hands of the reconcile that claimed it; an older one
 * lost its claimer (a crash between claim and RunTask) and is issued again with the same token.
 * Longer than a Lambda invocation may run (20 s), so a live claimer is never second-guessed.
 */
export const EXPECTATION_RETRY_AFTER_MS = 30_000;
/**
 * Entries one claim may carry (new expectations, retries, stops, forgotten ones): a claim is one
 * DynamoDB UpdateExpression, which may not exceed 4 KB (about 35 bytes an entry). What does not fit
 * is done by the next reconcile, which the first launches' own events set off.
 */
export const MAX_CLAIM_ENTRIES = 96;
/** Launches in flight at once for one service: bounds the service item (400 KB at most). */
export const MAX_OUTSTANDING_LAUNCHES = 500;

export type StopAction = { taskArn: string; taskId: string; reason: string };

/**
 * A write of a task's recorded targets, conditional on the `targetsVersion` the plan read (absent:
 * none written yet), so a write planned on stale targets loses instead of overwriting newer ones.
 */
export type TargetsWrite = {
  taskId: string;
  record: RecordedTarget[];
  expectedVersion: number | undefined;
};

/** Targets to register for a task, and what its recorded targets become (recorded first). */
export type Registration = TargetsWrite & { targets: Target[] };

export type Plan = {
  /** New expectations to claim, then launch. */
  launches: Expectation[];
  /** Already-claimed expectations whose RunTask answer was never recorded: issue again, same token. */
  retries: Expectation[];
  /** Expectations to forget: fulfilled (their task is recorded) or expired. */
  forget: { token: string; expired: boolean }[];
  stops: StopAction[];
  /** Stops requested earlier that ECS has not acknowledged (the requester died): issue again. */
  stopRetries: StopAction[];
  /** Stop requests that are done (the task stopped or is gone): drop them from the record. */
  forgetStops: string[];
  /** Load-balanced tasks to register with their target groups (recorded on the task first). */
  registrations: Registration[];
  /** Targets to deregister: of tasks about to stop (they drain first) or already stopping. */
  deregistrations: Target[];
  /**
   * Tasks to deregister so they can be stopped once drained: marked as leaving on their records
   * first, then `targets` deregistered (not if the mark loses to a newer write).
   */
  leaving: (TargetsWrite & { targets: Target[] })[];
  /** Tasks gone whose targets have all drained: their recorded targets are released. */
  forgetTargets: TargetsWrite[];
  /** Service events for what changed, said once (when it changes, not at every reconcile). */
  messages: string[];
  /** The service's launch failures with the expired launches added, when there are any. */
  launchFailures?: LaunchFailure[];
  status: ServiceStatus;
  /** The service is draining for deletion and nothing of it is left: remove it. */
  remove: boolean;
  /** The circuit breaker tripped with rollback on: go back to this deployment's launch fields. */
  rollback?: NonNullable<Deployment['previous']>;
};

/** The RunTask clientToken of a launch: deterministic, at most 64 characters, unique per claim. */
export function launchToken(options: {
  serviceName: string;
  /** The service's creation time: a re-created service of the same name gets new tokens (ECS keeps them up to 24 h). */
  incarnation: string;
  slot: number;
  stateVersion: number;
}): string {
  const digest = createHash('sha256')
    .update(
      `${options.serviceName}\n${options.incarnation}\n${options.slot}\n${options.stateVersion}`,
    )
    .digest('hex');
  return `stw-${digest.slice(0, 40)}`;
}

const PENDING_STATES: ReadonlySet<string> = new Set([
  TaskStatus.PROVISIONING,
  TaskStatus.PENDING,
  TaskStatus.ACTIVATING,
]);

/**
 * Decides what one reconcile does. `now` is epoch ms. `targetHealth` is what reconcile read of the
 * target groups of a load-balanced service (see targets.ts); absent, no target group is known.
 */
export function plan(input: {
  service: ServiceRecord;
  tasks: TaskRecord[];
  now: number;
  targetHealth?: TargetGroupsHealth;
}): Plan {
  const { service, tasks, now } = input;
  const lb = targetsView({ service, tasks, health: input.targetHealth, now });
  const { spec } = service;
  const desired = service.deleting || spec.paused === true ? 0 : spec.desiredCount;
  const deploymentId = service.deployment.id;
  const fallbackUntil = spotFallbackUntil({ spec, service, tasks });
  const inFallback = fallbackUntil !== undefined && now < fallbackUntil;
  // A task that fails its target health checks after its grace period is replaced as ECS replaces
  // an unhealthy task: a healthy replacement first (within maximumPercent), then it drains and stops.
  const unhealthy = new Map<string, string>();
  for (const t of tasks) {
    const failed = lb.failedHealthCheck(t);
    if (failed === undefined) continue;
    const { reason, description, state } = failed.health;
    const why = `${reason ?? state}${description ? ` (${description})` : ''}`;
    unhealthy.set(
      t.taskId,
      `${HEALTH_CHECK_STOP} (target-group ${failed.target.targetGroupArn}): ${why}`,
    );
  }
  // A task to replace: deregistered to be stopped, unhealthy in a target group, launched for an
  // older deployment, past the maximum lifetime, or an on-demand stand-in for Spot now that Spot
  // may have capacity again.
  const replacementReason = (t: TaskRecord): string | undefined => {
    if (lb.leaving(t.taskId) !== undefined) return 'leaving';
    if (unhealthy.has(t.taskId)) return 'unhealthy';
    if ((t.deployment ?? 0) !== deploymentId) return 'deployment';
    if (lifetimeExceeded(spec, t, now)) return 'lifetime';
    if (t.fallback === true && !inFallback && spec.spotFallback?.enabled === true)
      return 'spot-back';
    return undefined;
  };
  const outdated = (t: TaskRecord) => replacementReason(t) !== undefined;
  const { maximumPercent, minimumHealthyPercent } = spec.deploymentConfiguration;
  // ECS: maximumPercent bounds RUNNING + PENDING tasks, rounded down; minimumHealthyPercent is the
  // floor of RUNNING tasks, rounded up.
  const maxLive = Math.floor((desired * maximumPercent) / 100);
  const minRunning = Math.ceil((desired * minimumHealthyPercent) / 100);

  const recordedTokens = new Set(tasks.flatMap((t) => (t.launchToken ? [t.launchToken] : [])));
  const forget: Plan['forget'] = [];
  const outstanding: Expectation[] = [];
  for (const e of sortedExpectations(service)) {
    if (recordedTokens.has(e.token)) forget.push({ token: e.token, expired: false });
    else if (now - e.createdAt > EXPECTATION_TTL_MS) forget.push({ token: e.token, expired: true });
    // No longer wanted (scaled in, or deleting): never issued again. If its task did start, it
    // shows up without a slot and is stopped as misplaced.
    else if (e.slot >= desired) forget.push({ token: e.token, expired: false });
    else outstanding.push(e);
  }
  // The claim's budget, spent in order: clean-up first, then retries, launches and stops.
  let budget = MAX_CLAIM_ENTRIES;
  const spend = <T>(items: T[]): T[] => {
    const out = items.slice(0, Math.max(0, budget));
    budget -= out.length;
    return out;
  };
  const forgetNow = spend(forget);

  const live = tasks.filter(isLive);
  const stopRequested = (t: TaskRecord) =>
    t.desiredStatus === 'STOPPED' || service.pendingStops[t.taskId] !== undefined;
  const keeping = live.filter((t) => !stopRequested(t));
  const liveIds = new Set(live.map((t) => t.taskId));
  const forgetStops = spend(
    Object.keys(service.pendingStops)
      .filter((id) => !liveIds.has(id))
      .sort(),
  );
  // A launch whose claimer died is issued again with its token, unless the deployment changed
  // since: the same token with other launch fields is a ConflictException. It is forgotten instead;
  // if its task did start, it shows up as a task of an older deployment and is replaced.
  const due = outstanding.filter(
    (e) => now - (e.issuedAt ?? e.createdAt) >= EXPECTATION_RETRY_AFTER_MS,
  );
  const superseded = due.filter((e) => (e.deployment ?? 0) !== deploymentId);
  const retries = spend(due.filter((e) => (e.deployment ?? 0) === deploymentId));
  forgetNow.push(...spend(superseded.map((e) => ({ token: e.token, expired: false }))));

  // Which task holds which slot: a current task before an outdated one, then the oldest. A task
  // without a slot, a second holder of a slot, or one whose slot is not below desired is misplaced:
  // replaced into a free slot, then stopped. A slot held by an outdated task only is replaceable: a
  // current task is launched into it, and once that one runs the outdated one is misplaced.
  const holders = new Map<number, TaskRecord>();
  const misplaced: TaskRecord[] = [];
  const currentFirst = (a: TaskRecord, b: TaskRecord) =>
    Number(outdated(a)) - Number(outdated(b)) || byAge(a, b);
  for (const t of [...keeping].sort(currentFirst)) {
    if (t.slot === undefined || t.slot >= desired || holders.has(t.slot)) misplaced.push(t);
    else holders.set(t.slot, t);
  }
  const outstandingSlots = new Set(outstanding.map((e) => e.slot));
  const occupied = new Set<number>([...holders.keys(), ...outstandingSlots]);
  const replaceable = [...holders]
    .filter(([slot, t]) => outdated(t) && !outstandingSlots.has(slot))
    .map(([slot]) => slot)
    .sort((a, b) => a - b);

  // An outstanding expectation may already be a live task we could not tie to its slot yet, so it
  // is counted on both sides: that can delay a launch, never cause an extra one.
  const liveCount = live.length + outstanding.length;
  const keepCount = keeping.length + outstanding.length;

  // The restart policy may hold new launches back; a spec change (updatedAt) starts a new streak.
  const policy = spec.restartPolicy ?? DEFAULT_RESTART_POLICY;
  const since = Date.parse(service.updatedAt);
  const streak = failureStreak({
    tasks,
    launchFailures: service.launchFailures,
    since: Number.isFinite(since) ? since : 0,
    now,
    policy,
  });
  const decision: RestartDecision = service.deleting
    ? { kind: 'go' }
    : restartDecision({ streak, policy, now, seed: `${spec.serviceName}\n${service.generation}` });

  const free: number[] = [];
  for (let slot = 0; slot < desired; slot++) if (!occupied.has(slot)) free.push(slot);
  // Empty slots first, then replacements (a deployment never delays filling a hole).
  const targets = [...free, ...replaceable];
  const breaker = circuitBreakerOf({
    service,
    tasks,
    desired,
    now,
    ...(lb.balanced ? { serving: lb.serving } : {}),
  });
  const room =
    decision.kind === 'go' && !breaker.tripped
      ? Math.max(
          0,
          Math.min(maxLive - liveCount, MAX_OUTSTANDING_LAUNCHES - outstanding.length, budget),
        )
      : 0;
  const launches: Expectation[] = targets.slice(0, room).map((slot) => ({
    token: launchToken({
      serviceName: spec.serviceName,
      incarnation: service.createdAt,
      slot,
      stateVersion: service.stateVersion,
    }),
    slot,
    generation: service.generation,
    taskDefinition: spec.taskDefinition,
    createdAt: now,
    deployment: deploymentId,
    ...(inFallback ? { fallback: true } : {}),
  }));
  budget -= launches.length;

  // Stop misplaced tasks: those in excess of desired once the launches count, and, when the bound
  // leaves no room to launch into a free slot, one per blocked slot to make room. Never while a
  // launch is unaccounted for (its task may be the one without a slot), and never taking RUNNING
  // tasks below the minimum healthy count.
  // A replaceable slot the bound leaves no room to launch into is freed by stopping its outdated
  // holder (within the minimum healthy count): stop first, then launch, as ECS does at 100%.
  // With load balancers, "running" means serving (healthy in every target group), and a task is
  // deregistered and left to drain before it is stopped.
  const stops: StopAction[] = [];
  const deregistrations: Target[] = [];
  /** Unhealthy tasks leaving now (deregistered, or stopped when nothing was registered). */
  const failedHealth: string[] = [];
  const leaving: Plan['leaving'] = [];
  if (outstanding.length === 0) {
    const excess = keepCount + launches.length - desired;
    const blockedSlots = targets.slice(launches.length);
    const blockedHolders = blockedSlots.flatMap((slot) => {
      const holder = holders.get(slot);
      return holder && outdated(holder) ? [holder] : [];
    });
    const candidates = [
      ...[...misplaced].sort(stopOrder(desired, lb)),
      ...blockedHolders.sort(stopOrder(desired, lb)),
    ];
    let wanted = Math.min(candidates.length, Math.max(excess, 0) + blockedSlots.length);
    let running = keeping.filter(lb.serving).length;
    for (const t of candidates) {
      if (wanted === 0 || budget <= 0) break;
      const isServing = lb.serving(t);
      if (isServing && running - 1 < minRunning) continue;
      if (isServing) running -= 1;
      wanted -= 1;
      const leaves = lb.toDeregister(t);
      const fresh = lb.leaving(t.taskId) === undefined;
      if (fresh && unhealthy.has(t.taskId) && (leaves.length > 0 || lb.drained(t)))
        failedHealth.push(t.taskId);
      const reason = stopReason(service, t, replacementReason(t), unhealthy, lb);
      if (!lb.drained(t)) {
        // Deregistered now, stopped by a later reconcile once its targets have drained; marked as
        // leaving (recorded on the task), so it stays on its way out whatever its targets show.
        if (!fresh) deregistrations.push(...leaves);
        if (fresh && leaves.length > 0) {
          // What it leaves: its records, and anything ELB lists for it that was not recorded.
          const known = lb.recorded(t.taskId);
          const unrecorded = leaves.filter((x) => !known.some((k) => sameTarget(k, x)));
          const record = [...known, ...unrecorded].map((x) => ({
            ...x,
            deregisteredAt: now,
            reason,
          }));
          leaving.push({
            taskId: t.taskId,
            record,
            expectedVersion: t.targetsVersion,
            targets: leaves,
          });
        }
        continue;
      }
      budget -= 1;
      stops.push({ taskArn: t.taskArn, taskId: t.taskId, reason });
    }
  }
  // Tasks on their way out (stop requested, stopping, stopped) leave their target groups at once,
  // whether recorded or only listed by ELB; their recorded targets are released once drained.
  const forgetTargets: TargetsWrite[] = [];
  const recorded = recordedTargets(tasks);
  for (const t of [...tasks].sort(byAge)) {
    if (isLive(t) && !stopRequested(t)) continue;
    deregistrations.push(...lb.toDeregister(t));
    if (!isLive(t) && recorded[t.taskId] && lb.drained(t)) {
      const record = (t.targets ?? []).map((x) => ({ ...x, released: true }));
      forgetTargets.push({ taskId: t.taskId, record, expectedVersion: t.targetsVersion });
    }
  }

  // The current tasks that hold their slots join their target groups once they run (recorded on
  // the task first, then registered); a misplaced or outdated task, on its way out, never does.
  const registrations: Registration[] = [...holders.values()]
    .filter((t) => !outdated(t))
    .sort(byAge)
    .flatMap((t) => {
      const targets = lb.toRegister(t);
      return targets.length === 0
        ? []
        : [
            {
              taskId: t.taskId,
              targets,
              record: withRegistered(lb.recorded(t.taskId), targets, now),
              expectedVersion: t.targetsVersion,
            },
          ];
    });

  const runningCount = live.filter((t) => t.lastStatus === TaskStatus.RUNNING).length;
  const pendingCount =
    live.filter((t) => PENDING_STATES.has(t.lastStatus)).length +
    outstanding.length +
    launches.length;
  const steady =
    launches.length === 0 &&
    stops.length === 0 &&
    outstanding.length === 0 &&
    misplaced.length === 0 &&
    replaceable.length === 0 &&
    registrations.length === 0 &&
    deregistrations.length === 0 &&
    leaving.length === 0 &&
    live.length === desired &&
    keeping.length === desired &&
    keeping.every(lb.serving);
  const stopRetries: StopAction[] = spend(
    live
      .filter((t) => {
        const at = service.pendingStops[t.taskId];
        return (
          at !== undefined &&
          t.desiredStatus !== 'STOPPED' &&
          now - at >= EXPECTATION_RETRY_AFTER_MS
        );
      })
      .map((t) => ({
        taskArn: t.taskArn,
        taskId: t.taskId,
        reason: `Steward: stop of service ${spec.serviceName} task requested earlier`,
      })),
  );

  // At this desired count the bounds may leave no room at all: no task may be added (maximum) and
  // none stopped (minimum healthy). Invariant 1 forbids the first; the user must change the bounds.
  // A target group that is gone blocks every task from serving: the user must act on that too.
  const blocked =
    replaceable.length > 0 && maxLive <= desired && minRunning >= desired
      ? `Tasks cannot be replaced (deployment ${deploymentId}): with desiredCount ${desired}, minimumHealthyPercent ${minimumHealthyPercent} and maximumPercent ${maximumPercent} no task may be added or stopped. Raise maximumPercent or lower minimumHealthyPercent.`
      : lb.missingGroups.length > 0
        ? `Tasks cannot be registered: target group ${lb.missingGroups.join(', ')} does not exist. Create it, or change loadBalancers.`
        : undefined;
  const conditions = conditionsOf({
    breaker,
    deploymentId,
    decision,
    steady,
    runningCount,
    pendingCount,
    desired,
    busy: launches.length + stops.length + outstanding.length + (live.length - keeping.length) > 0,
    blocked,
    ...(lb.balanced ? { healthyCount: keeping.filter(lb.serving).length } : {}),
  });
  // A launch that never showed up counts as a failed launch for the restart policy.
  const expiredFailures: LaunchFailure[] = forgetNow
    .filter((f) => f.expired)
    .map(() => ({
      at: now,
      reason: 'the launched task never appeared (no event, not found by resync)',
      retryable: true,
    }));
  const started = tasks
    .filter((t) => forgetNow.some((f) => !f.expired && f.token === t.launchToken))
    .map((t) => t.taskId)
    .sort();
  const deployment = deploymentStatusOf({
    service,
    live,
    outstanding,
    launches,
    desired,
    breaker,
    serving: lb.serving,
  });
  const messages = messagesOf({
    name: spec.serviceName,
    previous: service.status,
    deployment,
    conditions,
    steady,
    started,
    expired: forgetNow.filter((f) => f.expired).length,
  });
  messages.push(
    ...targetMessages({
      name: spec.serviceName,
      registrations,
      deregistrations: [...leaving.flatMap((l) => l.targets), ...deregistrations],
    }),
  );
  for (const id of failedHealth) {
    const why = (unhealthy.get(id) ?? '').replace(/^Steward: task /, '');
    messages.push(`(service ${spec.serviceName}) (task ${id}) ${why}; replacing it.`);
  }

  return {
    launches,
    retries,
    forget: forgetNow,
    stops,
    stopRetries,
    forgetStops,
    registrations,
    deregistrations,
    leaving,
    forgetTargets,
    messages,
    ...(expiredFailures.length > 0
      ? {
          launchFailures: [...service.launchFailures, ...expiredFailures].slice(
            -LAUNCH_FAILURES_KEPT,
          ),
        }
      : {}),
    status: {
      phase: service.deleting ? 'DRAINING' : 'ACTIVE',
      desiredCount: desired,
      runningCount,
      pendingCount,
      observedGeneration: service.generation,
      steady,
      conditions,
      deployment,
    },
    // Removed once nothing of it is left, in ECS or in its target groups.
    remove:
      service.deleting &&
      live.length === 0 &&
      outstanding.length === 0 &&
      deregistrations.length === 0 &&
      leaving.length === 0 &&
      tasks.every((t) => recorded[t.taskId] === undefined || lb.drained(t)),
    ...(breaker.tripped &&
    spec.deploymentConfiguration.deploymentCircuitBreaker?.rollback === true &&
    service.deployment.previous !== undefined &&
    !service.deleting
      ? { rollback: service.deployment.previous }
      : {}),
  };
}

/** The circuit breaker's view of the current deployment (ECS-FACTS, deployment circuit breaker). */
export type Breaker = { tripped: boolean; failedTasks: number; threshold: number; reason?: string };

/**
 * ECS's deployment circuit breaker: tasks of the current deployment that fail to start (stopped
 * without ever running, or refused by RunTask) are counted until one of them runs; at
 * clamp(ceil(desired / 2), 3, 200) the deployment has FAILED: no more launches for it, and with
 * `rollback` the spec goes back to the last completed deployment. A failed deployment stays failed
 * until the next one starts.
 */
export function circuitBreakerOf(o: {
  service: ServiceRecord;
  tasks: TaskRecord[];
  desired: number;
  now: number;
  /** Whether a task serves (load balanced: healthy in its target groups); default: it started. */
  serving?: (task: TaskRecord) => boolean;
}): Breaker {
  const { service } = o;
  const id = service.deployment.id;
  const threshold = Math.min(200, Math.max(3, Math.ceil(o.desired / 2)));
  const quiet = { tripped: false, failedTasks: 0, threshold };
  const previous = service.status.deployment;
  if (service.spec.deploymentConfiguration.deploymentCircuitBreaker?.enable !== true) return quiet;
  if (previous?.id === id && previous.rolloutState === 'FAILED') {
    return { tripped: true, failedTasks: previous.failedTasks ?? threshold, threshold };
  }
  // A deployment that completed is done with; one with nothing to run cannot fail.
  if (previous?.id === id && previous.rolloutState === 'COMPLETED') return quiet;
  if (o.desired === 0) return quiet;
  const mine = o.tasks.filter((t) => (t.deployment ?? 0) === id);
  // One task of the deployment reached RUNNING (load balanced: passed its health checks): the
  // deployment works; the breaker stands down.
  const works = o.serving ?? ((t: TaskRecord) => t.startedAt !== undefined);
  if (mine.some(works)) return quiet;
  const since = Date.parse(service.deployment.startedAt);
  // Failed to start, in ECS's words, or failed its target health checks (ECS's second stage);
  // tasks Steward stopped itself (scale-in, pause) do not count.
  const failedToStart = mine.filter(
    (t) =>
      (t.lastStatus === TaskStatus.STOPPED &&
        (t.stopCode === 'TaskFailedToStart' ||
          (t.stoppedReason?.startsWith(HEALTH_CHECK_STOP) ?? false))) ||
      healthFailureAt(t) !== undefined,
  );
  // RunTask refusals that no retry can fix; capacity shortages are the Spot fallback's business.
  const refused = service.launchFailures.filter((f) => !f.retryable && !(f.at < since));
  const failedTasks = failedToStart.length + refused.length;
  const last = [...failedToStart.map((t) => t.stoppedReason), ...refused.map((f) => f.reason)].find(
    (r) => r !== undefined,
  );
  return {
    tripped: failedTasks >= threshold,
    failedTasks,
    threshold,
    ...(last !== undefined ? { reason: last } : {}),
  };
}

/**
 * The current deployment's progress: COMPLETED once no live task of an older deployment is left and
 * its own tasks run at the desired count; it stays COMPLETED until the next deployment starts.
 */
function deploymentStatusOf(o: {
  service: ServiceRecord;
  live: TaskRecord[];
  outstanding: Expectation[];
  launches: Expectation[];
  desired: number;
  breaker: Breaker;
  serving: (task: TaskRecord) => boolean;
}): DeploymentStatus {
  const { id, reason, startedAt } = o.service.deployment;
  const current = o.live.filter((t) => (t.deployment ?? 0) === id);
  const runningCount = current.filter((t) => t.lastStatus === TaskStatus.RUNNING).length;
  const pendingCount =
    current.filter((t) => PENDING_STATES.has(t.lastStatus)).length +
    o.outstanding.length +
    o.launches.length;
  const outdatedCount = o.live.length - current.length;
  const previous = o.service.status.deployment;
  // Nothing to run (desired 0, paused) completes nothing: the deployment completes once it runs
  // (load balanced: once its tasks are healthy in their target groups).
  const done =
    (previous?.id === id && previous.rolloutState === 'COMPLETED') ||
    (o.desired > 0 &&
      outdatedCount === 0 &&
      pendingCount === 0 &&
      current.filter(o.serving).length >= o.desired);
  return {
    id,
    rolloutState: o.breaker.tripped ? 'FAILED' : done ? 'COMPLETED' : 'IN_PROGRESS',
    reason,
    startedAt,
    runningCount,
    pendingCount,
    outdatedCount,
    ...(o.breaker.failedTasks > 0 ? { failedTasks: o.breaker.failedTasks } : {}),
  };
}

/** A RUNNING task older than the service's maxTaskLifetime. */
function lifetimeExceeded(spec: ServiceSpec, t: TaskRecord, now: number): boolean {
  if (spec.maxTaskLifetime === undefined || t.startedAt === undefined) return false;
  const started = Date.parse(t.startedAt);
  return Number.isFinite(started) && now - started >= spec.maxTaskLifetime * 1000;
}

/** ECS's words for "Fargate (Spot) has no capacity for this task" (ECS-FACTS §4). */
const SPOT_CAPACITY_FAILURE = /Capacity is unavailable at this time|RESOURCE:FARGATE/;

/**
 * Until when launches go to on-demand Fargate instead of Spot: the last sign that Spot lacks
 * capacity (a launch refused for capacity, a Spot interruption) plus `retrySpotAfterSeconds`.
 */
export function spotFallbackUntil(o: {
  spec: ServiceSpec;
  service: Pick<ServiceRecord, 'launchFailures'>;
  tasks: TaskRecord[];
}): number | undefined {
  const fallback = o.spec.spotFallback;
  if (fallback?.enabled !== true) return undefined;
  let last: number | undefined;
  const seen = (at: number) => {
    if (Number.isFinite(at) && (last === undefined || at > last)) last = at;
  };
  for (const f of o.service.launchFailures) if (SPOT_CAPACITY_FAILURE.test(f.reason)) seen(f.at);
  for (const t of o.tasks) {
    if (t.stopCode === 'SpotInterruption') seen(Date.parse(t.stoppingAt ?? t.stoppedAt ?? ''));
  }
  return last === undefined ? undefined : last + fallback.retrySpotAfterSeconds * 1000;
}

function conditionsOf(o: {
  breaker: Breaker;
  deploymentId: number;
  decision: RestartDecision;
  steady: boolean;
  runningCount: number;
  pendingCount: number;
  desired: number;
  busy: boolean;
  blocked: string | undefined;
  /** Load balanced: the tasks healthy in all their target groups. */
  healthyCount?: number;
}): Condition[] {
  const out: Condition[] = [];
  if (o.blocked !== undefined) out.push({ type: ConditionType.Blocked, message: o.blocked });
  if (o.breaker.tripped) {
    out.push({
      type: ConditionType.Failed,
      message: `Deployment ${o.deploymentId} failed: ${o.breaker.failedTasks} tasks failed to start (circuit breaker threshold ${o.breaker.threshold})${o.breaker.reason ? `; last: ${o.breaker.reason}` : ''}.`,
      failures: o.breaker.failedTasks,
    });
  }
  const { decision } = o;
  if (decision.kind === 'give-up') {
    out.push({
      type: ConditionType.Failed,
      message: `Stopped starting tasks after ${decision.streak} consecutive failures (last: ${decision.reason}). Change the service to try again.`,
      failures: decision.streak,
    });
  } else if (decision.kind === 'backoff') {
    const until = new Date(decision.until).toISOString();
    out.push({
      type: ConditionType.BackingOff,
      message: `${decision.streak} consecutive failures (last: ${decision.reason}); next attempt at ${until}.`,
      until,
      failures: decision.streak,
    });
  }
  if (o.steady) {
    out.push({
      type: ConditionType.Steady,
      message: `${o.runningCount} of ${o.desired} tasks running.`,
    });
  } else if (o.busy || o.pendingCount > 0 || o.healthyCount !== undefined) {
    const healthy =
      o.healthyCount === undefined ? '' : ` (${o.healthyCount} healthy in their target groups)`;
    out.push({
      type: ConditionType.Progressing,
      message: `${o.runningCount} of ${o.desired} tasks running${healthy}, ${o.pendingCount} pending.`,
    });
  }
  return out;
}

/** The service events to record, each only when its condition appears or changes. */
function messagesOf(o: {
  name: string;
  previous: ServiceStatus;
  deployment: DeploymentStatus;
  conditions: Condition[];
  steady: boolean;
  started: string[];
  expired: number;
}): string[] {
  const out: string[] = [];
  // A condition is news when it appears, or when its failure count changes (its text may move
  // slightly as the same failure is observed more precisely; that is not news).
  const before = new Map(
    (o.previous.conditions ?? []).map((c) => [c.type, c.failures ?? c.message]),
  );
  const svc = `(service ${o.name})`;
  if (o.started.length > 0) {
    out.push(
      `${svc} has started ${o.started.length} tasks: ${o.started.map((id) => `(task ${id})`).join(' ')}.`,
    );
  }
  if (o.expired > 0) {
    out.push(
      `${svc} did not see ${o.expired} launched tasks appear within 5 minutes; launching again.`,
    );
  }
  for (const c of o.conditions) {
    if (before.get(c.type) === (c.failures ?? c.message)) continue;
    if (c.type === ConditionType.BackingOff)
      out.push(`${svc} is unable to consistently start tasks successfully: ${c.message}`);
    if (c.type === ConditionType.Failed || c.type === ConditionType.Blocked)
      out.push(`${svc} ${c.message}`);
  }
  const earlier = o.previous.deployment;
  if (
    o.deployment.rolloutState === 'COMPLETED' &&
    !(earlier?.id === o.deployment.id && earlier.rolloutState === 'COMPLETED')
  ) {
    out.push(`${svc} (deployment ${o.deployment.id}) deployment completed.`);
  }
  if (o.steady && !o.previous.steady) out.push(`${svc} has reached a steady state.`);
  return out;
}

/** Service events for targets registered and deregistered, one per target group, in ECS's words. */
function targetMessages(o: {
  name: string;
  registrations: Registration[];
  deregistrations: Target[];
}): string[] {
  const count = (targets: Target[]) => {
    const n = new Map<string, number>();
    for (const t of targets) n.set(t.targetGroupArn, (n.get(t.targetGroupArn) ?? 0) + 1);
    return [...n].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  return [
    ...count(o.registrations.flatMap((r) => r.targets)).map(
      ([arn, n]) => `(service ${o.name}) registered ${n} targets in (target-group ${arn})`,
    ),
    ...count(o.deregistrations).map(
      ([arn, n]) => `(service ${o.name}) deregistered ${n} targets in (target-group ${arn})`,
    ),
  ];
}

/** True when acting on the plan changes something in ECS, its target groups or the claimed state. */
export function needsClaim(p: Plan): boolean {
  return (
    p.registrations.length > 0 ||
    p.deregistrations.length > 0 ||
    p.leaving.length > 0 ||
    p.forgetTargets.length > 0 ||
    p.launches.length > 0 ||
    p.retries.length > 0 ||
    p.stops.length > 0 ||
    p.stopRetries.length > 0 ||
    p.forget.length > 0
  );
}

/** True when the plan's status differs from the stored one, or stop requests are done: a write is due. */
export function needsSettle(p: Plan, previous: ServiceStatus): boolean {
  return p.forgetStops.length > 0 || JSON.stringify(p.status) !== JSON.stringify(previous);
}

function stopReason(
  service: ServiceRecord,
  task: TaskRecord,
  replacement: string | undefined,
  unhealthy: ReadonlyMap<string, string>,
  lb: TargetsView,
): string {
  const name = service.spec.serviceName;
  // Said when it was deregistered (it has drained since).
  const said = lb.leaving(task.taskId);
  if (said) return said;
  if (service.deleting) return `Steward: service ${name} is being deleted`;
  if (service.spec.paused === true) return `Steward: service ${name} is paused`;
  // A failed health check is a failure (restart policy, circuit breaker), so its reason says so.
  const failed = unhealthy.get(task.taskId);
  if (failed !== undefined) return failed;
  if (replacement === 'deployment') {
    return `Steward: replaced by deployment ${service.deployment.id} of service ${name} (${service.deployment.reason})`;
  }
  if (replacement === 'lifetime') {
    return `Steward: task reached the maxTaskLifetime of service ${name} (${service.spec.maxTaskLifetime} s)`;
  }
  if (replacement === 'spot-back') {
    return `Steward: replacing an on-demand fallback task of service ${name} with Fargate Spot`;
  }
  if (task.slot !== undefined && task.slot >= service.spec.desiredCount) {
    return `Steward: scaling service ${name} in to ${service.spec.desiredCount}`;
  }
  if (task.slot === undefined) return `Steward: task has no slot in service ${name}`;
  return `Steward: slot ${task.slot} of service ${name} is held by an older task`;
}

/**
 * Which misplaced task to stop first: one not yet RUNNING; then a duplicate holder of a slot, then
 * one without a slot, then the highest slot beyond desired (scale-in removes the highest first).
 */
function stopOrder(desired: number, lb: TargetsView): (a: TaskRecord, b: TaskRecord) => number {
  const rank = (t: TaskRecord) => (t.slot === undefined ? 1 : t.slot < desired ? 0 : 2);
  return (a, b) => {
    const running = Number(lb.serving(a)) - Number(lb.serving(b));
    if (running !== 0) return running;
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (a.slot !== b.slot) return (b.slot ?? 0) - (a.slot ?? 0);
    return byAge(a, b);
  };
}

function sortedExpectations(service: ServiceRecord): Expectation[] {
  return Object.values(service.expectations).sort(
    (a, b) => a.slot - b.slot || a.createdAt - b.createdAt,
  );
}

/** Oldest first, so the first-launched holder of a slot keeps it; ties broken by id for determinism. */
function byAge(a: TaskRecord, b: TaskRecord): number {
  const ta = a.createdAt ?? '';
  const tb = b.createdAt ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0;
}
