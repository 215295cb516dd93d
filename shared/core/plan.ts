/**
 * plan(): the pure decision of one reconcile (DESIGN.md). Given the service record, its task records and
 * the time, it says which slots to launch, which launches to (re)issue, which tasks to stop and what
 * the status is. No I/O, no clock, no environment: the same input always gives the same plan, and a
 * converged service gives an empty one.
 */
import { createHash } from 'node:crypto';
import {
  type Expectation,
  isLive,
  type ServiceRecord,
  type ServiceStatus,
  type TaskRecord,
  TaskStatus,
} from './model';

/** How long a written-down launch may stay unseen before it counts as a failed launch. */
export const EXPECTATION_TTL_MS = 5 * 60_000;
/**
 * A younger expectation is assumed to be in the hands of the reconcile that claimed it; an older one
 * lost its claimer (a crash between claim and record) and is issued again with the same token.
 */
export const EXPECTATION_RETRY_AFTER_MS = 15_000;

export type StopAction = { taskArn: string; taskId: string; reason: string };

export type Plan = {
  /** New expectations to claim, then launch. */
  launches: Expectation[];
  /** Already-claimed expectations whose RunTask answer was never recorded: issue again, same token. */
  retries: Expectation[];
  /** Expectations to forget: fulfilled (their task is recorded) or expired. */
  forget: { token: string; expired: boolean }[];
  stops: StopAction[];
  /** Stop requests that are done (the task stopped or is gone): drop them from the record. */
  forgetStops: string[];
  status: ServiceStatus;
  /** The service is draining for deletion and nothing of it is left: remove it. */
  remove: boolean;
};

/** The RunTask clientToken of a launch: deterministic, at most 64 characters, unique per claim. */
export function launchToken(options: {
  serviceName: string;
  slot: number;
  stateVersion: number;
}): string {
  const digest = createHash('sha256')
    .update(`${options.serviceName}\n${options.slot}\n${options.stateVersion}`)
    .digest('hex');
  return `stw-${digest.slice(0, 40)}`;
}

const PENDING_STATES: ReadonlySet<string> = new Set([
  TaskStatus.PROVISIONING,
  TaskStatus.PENDING,
  TaskStatus.ACTIVATING,
]);

/** Decides what one reconcile does. `now` is epoch ms. */
export function plan(input: { service: ServiceRecord; tasks: TaskRecord[]; now: number }): Plan {
  const { service, tasks, now } = input;
  const { spec } = service;
  const desired = service.deleting ? 0 : spec.desiredCount;
  // ECS: maximumPercent bounds RUNNING + PENDING tasks, rounded down.
  const maxLive = Math.floor((desired * spec.deploymentConfiguration.maximumPercent) / 100);

  const recordedTokens = new Set(tasks.flatMap((t) => (t.launchToken ? [t.launchToken] : [])));
  const forget: Plan['forget'] = [];
  const outstanding: Expectation[] = [];
  for (const e of sortedExpectations(service)) {
    if (recordedTokens.has(e.token)) forget.push({ token: e.token, expired: false });
    else if (now - e.createdAt > EXPECTATION_TTL_MS) forget.push({ token: e.token, expired: true });
    else outstanding.push(e);
  }

  const live = tasks.filter(isLive);
  const stopRequested = (t: TaskRecord) =>
    t.desiredStatus === 'STOPPED' || service.pendingStops[t.taskId] !== undefined;
  const keeping = live.filter((t) => !stopRequested(t));

  // Which task holds which slot; a second holder of a slot, or a task without one, is surplus.
  const holders = new Map<number, TaskRecord>();
  const surplus: TaskRecord[] = [];
  for (const t of [...keeping].sort(byAge)) {
    if (t.slot === undefined || holders.has(t.slot)) surplus.push(t);
    else holders.set(t.slot, t);
  }
  const occupied = new Set<number>([...holders.keys(), ...outstanding.map((e) => e.slot)]);

  // An outstanding expectation may already be a live task we could not tie to its slot yet, so it
  // is counted on both sides: that can delay a launch, never cause an extra one.
  const liveCount = live.length + outstanding.length;
  const keepCount = keeping.length + outstanding.length;

  const launches: Expectation[] = [];
  const room = Math.min(desired - keepCount, maxLive - liveCount);
  for (let slot = 0; slot < desired && launches.length < room; slot++) {
    if (occupied.has(slot)) continue;
    launches.push({
      token: launchToken({
        serviceName: spec.serviceName,
        slot,
        stateVersion: service.stateVersion,
      }),
      slot,
      generation: service.generation,
      taskDefinition: spec.taskDefinition,
      createdAt: now,
    });
  }

  // Scale in only once every launch is accounted for, so a task is never stopped for a slot whose
  // launch is still in flight. Surplus first, then the highest slots.
  const stops: StopAction[] = [];
  const excess = keepCount - desired;
  if (excess > 0 && outstanding.length === 0) {
    const bySlotDesc = [...holders.entries()].sort((a, b) => b[0] - a[0]).map(([, t]) => t);
    for (const t of [...surplus, ...bySlotDesc].slice(0, excess)) {
      stops.push({ taskArn: t.taskArn, taskId: t.taskId, reason: stopReason(service) });
    }
  }

  const runningCount = live.filter((t) => t.lastStatus === TaskStatus.RUNNING).length;
  const pendingCount =
    live.filter((t) => PENDING_STATES.has(t.lastStatus)).length +
    outstanding.length +
    launches.length;
  const steady =
    launches.length === 0 &&
    stops.length === 0 &&
    outstanding.length === 0 &&
    live.length === desired &&
    runningCount === desired;

  const liveIds = new Set(live.map((t) => t.taskId));
  const forgetStops = Object.keys(service.pendingStops)
    .filter((id) => !liveIds.has(id))
    .sort();

  return {
    launches,
    retries: outstanding.filter((e) => now - e.createdAt >= EXPECTATION_RETRY_AFTER_MS),
    forget,
    stops,
    forgetStops,
    status: {
      phase: service.deleting ? 'DRAINING' : 'ACTIVE',
      desiredCount: desired,
      runningCount,
      pendingCount,
      observedGeneration: service.generation,
      steady,
    },
    remove: service.deleting && live.length === 0 && outstanding.length === 0,
  };
}

/** True when acting on the plan changes something in ECS or in the claimed state. */
export function needsClaim(p: Plan): boolean {
  return p.launches.length > 0 || p.stops.length > 0 || p.forget.length > 0;
}

function stopReason(service: ServiceRecord): string {
  return service.deleting
    ? `Steward: service ${service.spec.serviceName} is being deleted`
    : `Steward: scaling service ${service.spec.serviceName} in to ${service.spec.desiredCount}`;
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
