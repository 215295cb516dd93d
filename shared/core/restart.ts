/**
 * Restart policy: exponential backoff with jitter for a service whose tasks keep failing, and a
 * give-up after N consecutive failures. Pure: everything is derived from the task records, the
 * service's recent launch failures, and `now`.
 *
 * A failure is a task that failed to start (TaskFailedToStart), or whose essential container exited
 * before the task had run `healthyAfterSeconds` (ECS's own throttle ignores those: a crash loop that
 * gets to RUNNING goes unchecked there), or a launch ECS refused. A task that ran `healthyAfterSeconds`
 * ends the streak; so does a spec change.
 */
import { createHash } from 'node:crypto';
import type { TaskRecord } from './model';
import { HEALTH_CHECK_STOP } from './targets';

export type RestartPolicy = {
  baseDelaySeconds: number;
  factor: number;
  maxDelaySeconds: number;
  /** Spread of each delay: 0.2 means ±20%, so services failing together do not retry together. */
  jitter: number;
  /** Give up after this many consecutive failures; null never gives up (as ECS). */
  maxConsecutiveFailures: number | null;
  /** A task that has run this long is healthy: it ends the failure streak. */
  healthyAfterSeconds: number;
};

/** ECS's throttle caps its delay at 15 minutes; Steward starts at 10 s and gives up after 10. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseDelaySeconds: 10,
  factor: 2,
  maxDelaySeconds: 900,
  jitter: 0.2,
  maxConsecutiveFailures: 10,
  healthyAfterSeconds: 60,
};

/** A launch ECS refused (RunTask failure or rejection), remembered on the service record. */
export type LaunchFailure = {
  at: number;
  reason: string;
  slot?: number;
  /** Capacity and other transient refusals: they delay the next launch but never make Steward give up. */
  retryable?: boolean;
};

/** Launch failures remembered for the restart policy (more than any sensible give-up count). */
export const LAUNCH_FAILURES_KEPT = 50;

/**
 * The streak is per slot: ten replicas failing at once is one failure of each, not ten in a row.
 * `count` drives the backoff; `giveUpCount` leaves out retryable launch failures (capacity).
 */
export type FailureStreak =
  | { count: number; giveUpCount: number; lastAt: number; lastReason: string }
  | { count: 0 };

export type RestartDecision =
  | { kind: 'go' }
  | { kind: 'backoff'; streak: number; until: number; reason: string }
  | { kind: 'give-up'; streak: number; reason: string };

const FAILED_STOP_CODES: ReadonlySet<string> = new Set([
  'TaskFailedToStart',
  'EssentialContainerExited',
]);

/**
 * When the task failed (epoch ms), or undefined if its end was not a failure. A failure counts from
 * the moment ECS decides the task stops (desiredStatus STOPPED with a failure stop code), not when
 * it is finally STOPPED: its slot is free from then on, and a replacement must already wait.
 */
export function failureTime(task: TaskRecord, policy: RestartPolicy): number | undefined {
  const started = Date.parse(task.startedAt ?? '');
  // Failed its target health checks: from when Steward took it out of its groups (it drains, still
  // RUNNING, before it stops).
  const unhealthyAt = healthFailureAt(task);
  if (unhealthyAt !== undefined) {
    return Number.isFinite(started) && unhealthyAt - started >= policy.healthyAfterSeconds * 1000
      ? undefined
      : unhealthyAt;
  }
  const stopping = task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED';
  if (!stopping || !FAILED_STOP_CODES.has(task.stopCode ?? '')) return undefined;
  const stopped = Date.parse(task.stoppedAt ?? task.stoppingAt ?? task.updatedAt ?? '');
  if (!Number.isFinite(stopped)) return undefined;
  if (Number.isFinite(started) && stopped - started >= policy.healthyAfterSeconds * 1000)
    return undefined;
  return stopped;
}

/**
 * When Steward deregistered a task because it failed its target health checks (the leaving mark on
 * its recorded targets), or undefined.
 */
export function healthFailureAt(task: TaskRecord): number | undefined {
  let at: number | undefined;
  for (const x of task.targets ?? []) {
    if (x.deregisteredAt === undefined || !(x.reason?.startsWith(HEALTH_CHECK_STOP) ?? false))
      continue;
    at = at === undefined ? x.deregisteredAt : Math.min(at, x.deregisteredAt);
  }
  return at;
}

/** Why the task failed, as a person would read it. */
export function failureReason(task: TaskRecord): string {
  // Taken out for failed health checks and still draining: the reason it was taken out for.
  const marked = (task.targets ?? []).find((x) => x.reason?.startsWith(HEALTH_CHECK_STOP))?.reason;
  const reason = task.stoppedReason ?? marked;
  return [task.stopCode, reason].filter(Boolean).join(': ');
}

/** Consecutive failures since the last healthy task and since `since` (the last spec change). */
export function failureStreak(o: {
  tasks: TaskRecord[];
  launchFailures: LaunchFailure[];
  since: number;
  now: number;
  policy: RestartPolicy;
}): FailureStreak {
  const healthyMs = o.policy.healthyAfterSeconds * 1000;
  // The moment each task proved healthy: it was still up `healthyAfterSeconds` after starting.
  let lastHealthy = o.since;
  for (const t of o.tasks) {
    const started = Date.parse(t.startedAt ?? '');
    if (!Number.isFinite(started)) continue;
    const provenAt = started + healthyMs;
    const stopped = Date.parse(t.stoppedAt ?? '');
    // A task that failed its health checks was up (serving) only until it was taken out.
    const upUntil =
      healthFailureAt(t) ??
      (t.lastStatus === 'STOPPED' ? (Number.isFinite(stopped) ? stopped : started) : o.now);
    if (upUntil >= provenAt && provenAt <= o.now) lastHealthy = Math.max(lastHealthy, provenAt);
  }
  const failures: LaunchFailure[] = [];
  for (const t of o.tasks) {
    const at = failureTime(t, o.policy);
    if (at !== undefined && at > lastHealthy) {
      failures.push({
        at,
        reason: failureReason(t),
        ...(t.slot !== undefined ? { slot: t.slot } : {}),
      });
    }
  }
  for (const f of o.launchFailures) if (f.at > lastHealthy) failures.push(f);
  if (failures.length === 0) return { count: 0 };
  const worstSlot = (fs: LaunchFailure[]) => {
    const perSlot = new Map<string, number>();
    for (const f of fs)
      perSlot.set(String(f.slot ?? '-'), (perSlot.get(String(f.slot ?? '-')) ?? 0) + 1);
    return Math.max(0, ...perSlot.values());
  };
  const last = failures.reduce((a, b) => (b.at > a.at ? b : a));
  return {
    count: worstSlot(failures),
    giveUpCount: worstSlot(failures.filter((f) => !f.retryable)),
    lastAt: last.at,
    lastReason: last.reason,
  };
}

/** The delay before attempt `streak + 1`: exponential, capped, with deterministic jitter. */
export function backoffDelayMs(o: { streak: number; policy: RestartPolicy; seed: string }): number {
  const { policy } = o;
  const raw = Math.min(
    policy.maxDelaySeconds,
    policy.baseDelaySeconds * policy.factor ** Math.max(0, o.streak - 1),
  );
  // A stable pseudo-random in [-1, 1) per service and attempt: the same input, the same plan.
  const h = createHash('sha256').update(`${o.seed}\n${o.streak}`).digest();
  const u = (h.readUInt32BE(0) / 0x1_0000_0000) * 2 - 1;
  const jittered = raw * (1 + policy.jitter * u);
  return Math.round(Math.min(policy.maxDelaySeconds, Math.max(0, jittered)) * 1000);
}

/** Whether launches may go ahead now, must wait, or have been given up on. */
export function restartDecision(o: {
  streak: FailureStreak;
  policy: RestartPolicy;
  now: number;
  seed: string;
}): RestartDecision {
  const { streak, policy } = o;
  if (!('lastAt' in streak)) return { kind: 'go' };
  if (
    policy.maxConsecutiveFailures !== null &&
    streak.giveUpCount >= policy.maxConsecutiveFailures
  ) {
    return { kind: 'give-up', streak: streak.giveUpCount, reason: streak.lastReason };
  }
  const until = streak.lastAt + backoffDelayMs({ streak: streak.count, policy, seed: o.seed });
  return o.now < until
    ? { kind: 'backoff', streak: streak.count, until, reason: streak.lastReason }
    : { kind: 'go' };
}
