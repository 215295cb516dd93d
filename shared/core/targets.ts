/**
 * Load balancer targets (pure): which of a service's tasks are registered with its target groups,
 * which serve (RUNNING and healthy in every group), which failed their health checks, and what to
 * register and deregister. ECS does this for its own services; tasks started with RunTask join no
 * target group, so Steward registers each one (ip targets: the task's private IP and the container's
 * port) once it runs, and deregisters it, letting it drain, before it stops.
 *
 * What is registered is recorded on the task's record (`targets`) before RegisterTargets is called,
 * so a task is always deregistered from what it joined, whatever the spec says by then.
 */
import {
  type RecordedTarget,
  type ServiceRecord,
  sameTarget,
  type Target,
  type TargetGroupsHealth,
  type TargetHealth,
  type TaskRecord,
  TaskStatus,
  targetKey,
} from './model';

/**
 * Where a target stands: `registered` (listed and not draining, whatever its health), `draining`,
 * `absent` (not listed, or its group is gone), or `unknown` (its group was not read).
 */
type TargetPhase = 'registered' | 'draining' | 'absent' | 'unknown';

/** The prefix of the stop reason for a task that failed its target health checks. */
export const HEALTH_CHECK_STOP = 'Steward: task failed ELB health checks in';

/**
 * A registration claimed this recently may not have reached ELB yet (its claimer calls
 * RegisterTargets after the claim): its absence proves nothing, so its task is not taken as drained
 * and it is not registered again. Longer than a Lambda invocation may run (20 s), as
 * EXPECTATION_RETRY_AFTER_MS; after it, an absent target is registered again (its claimer died).
 */
export const REGISTRATION_SETTLE_MS = 30_000;

const UNHEALTHY: ReadonlySet<string> = new Set(['unhealthy', 'unhealthy.draining']);

export type TargetsView = {
  /** Whether any task of the service has or should have targets (target health was read). */
  balanced: boolean;
  /** The targets recorded for a task id (registered, or about to be). */
  recorded(taskId: string): RecordedTarget[];
  /** RUNNING and, if it is load balanced, healthy in every target group. */
  serving(task: TaskRecord): boolean;
  /**
   * The first target group in which a RUNNING task is unhealthy, once its grace period is over, or
   * undefined: such a task is stopped, as ECS stops one that fails its ELB health checks.
   */
  failedHealthCheck(task: TaskRecord): { target: Target; health: TargetHealth } | undefined;
  /** The spec's target groups that ELB says do not exist. */
  missingGroups: string[];
  /**
   * Why Steward deregistered the task to stop it (recorded, so it stays on its way out however
   * its targets look meanwhile), or undefined for a task it did not.
   */
  leaving(taskId: string): string | undefined;
  /** A current task's targets still to register (known to be absent from groups that exist). */
  toRegister(task: TaskRecord): Target[];
  /**
   * A task's targets that are registered and not draining, to deregister before it stops: those
   * recorded, and those ELB lists for its IP in the spec's groups (a record may lag its registration).
   */
  toDeregister(task: TaskRecord): Target[];
  /**
   * Whether nothing of the task is registered or draining any more, as far as ELB's answer shows
   * (its stop may go): not while a recorded registration may still be on its way, nor while a group
   * it may be in was not read.
   */
  drained(task: TaskRecord): boolean;
};

/** The service's targets, given what reconcile read of its target groups (undefined: nothing read). */
export function targetsView(o: {
  service: ServiceRecord;
  tasks: TaskRecord[];
  health: TargetGroupsHealth | undefined;
  now: number;
}): TargetsView {
  const { service, health, now: at } = o;
  const { spec } = service;
  const balancers = spec.loadBalancers ?? [];
  const recordedMap = recordedTargets(o.tasks);
  const recorded = (taskId: string) => recordedMap[taskId] ?? [];
  /** Recorded for a task, registration claimed within REGISTRATION_SETTLE_MS. */
  const settling = (taskId: string, target: Target) =>
    recorded(taskId).some(
      (r) =>
        sameTarget(r, target) &&
        r.registeredAt !== undefined &&
        at - r.registeredAt < REGISTRATION_SETTLE_MS,
    );
  const current = (t: TaskRecord) => (t.deployment ?? 0) === service.deployment.id;
  const wanted = (t: TaskRecord): Target[] =>
    t.privateIp === undefined
      ? []
      : balancers.map((lb) => ({
          targetGroupArn: lb.targetGroupArn,
          id: t.privateIp as string,
          port: lb.containerPort,
        }));
  const isBalanced = (t: TaskRecord) =>
    (current(t) && balancers.length > 0) || recorded(t.taskId).length > 0;
  const targetsOf = (t: TaskRecord) =>
    current(t) && balancers.length > 0 ? wanted(t) : recorded(t.taskId);
  const healthOf = (target: Target): TargetHealth | undefined => {
    const group = health?.get(target.targetGroupArn);
    if (group === undefined) return undefined;
    if (group.missing === true) {
      return { state: 'unused', reason: 'TargetGroupNotFound' };
    }
    return (
      group.targets.get(targetKey(target)) ?? { state: 'unused', reason: 'Target.NotRegistered' }
    );
  };
  const phaseOf = (target: Target): TargetPhase => {
    const group = health?.get(target.targetGroupArn);
    if (group === undefined) return 'unknown';
    if (group.missing === true) return 'absent';
    const h = group.targets.get(targetKey(target));
    if (h === undefined) return 'absent';
    return h.state === 'draining' ? 'draining' : 'registered';
  };
  const leaving = (taskId: string) => {
    const marked = recorded(taskId).find((x) => x.deregisteredAt !== undefined);
    return marked === undefined ? undefined : (marked.reason ?? '');
  };
  const serving = (t: TaskRecord) => {
    if (t.lastStatus !== TaskStatus.RUNNING) return false;
    if (leaving(t.taskId) !== undefined) return false;
    if (!isBalanced(t)) return true;
    const targets = targetsOf(t);
    return targets.length > 0 && targets.every((x) => healthOf(x)?.state === 'healthy');
  };
  return {
    balanced: balancers.length > 0 || Object.keys(recordedMap).length > 0,
    recorded,
    serving,
    failedHealthCheck(t) {
      if (t.lastStatus !== TaskStatus.RUNNING || !isBalanced(t)) return undefined;
      const started = Date.parse(t.startedAt ?? '');
      const grace = (spec.healthCheckGracePeriodSeconds ?? 0) * 1000;
      if (!Number.isFinite(started) || at < started + grace) return undefined;
      for (const target of targetsOf(t)) {
        const h = healthOf(target);
        if (h !== undefined && UNHEALTHY.has(h.state)) return { target, health: h };
      }
      return undefined;
    },
    missingGroups: balancers
      .map((lb) => lb.targetGroupArn)
      .filter((arn) => health?.get(arn)?.missing === true),
    leaving,
    toRegister(t) {
      if (!current(t) || t.lastStatus !== TaskStatus.RUNNING) return [];
      return wanted(t).filter(
        (x) =>
          phaseOf(x) === 'absent' &&
          health?.get(x.targetGroupArn)?.missing !== true &&
          !settling(t.taskId, x),
      );
    },
    toDeregister(t) {
      const out: Target[] = [];
      const seen = new Set<string>();
      for (const x of [...recorded(t.taskId), ...wanted(t)]) {
        const key = `${x.targetGroupArn} ${targetKey(x)}`;
        if (seen.has(key) || phaseOf(x) !== 'registered') continue;
        seen.add(key);
        out.push({ targetGroupArn: x.targetGroupArn, id: x.id, port: x.port });
      }
      return out;
    },
    drained(t) {
      return (
        recorded(t.taskId).every((x) => phaseOf(x) === 'absent' && !settling(t.taskId, x)) &&
        wanted(t).every((x) => phaseOf(x) === 'absent')
      );
    },
  };
}

/** A task's recorded targets that are not released (still Steward's to deregister or watch). */
export function activeTargets(task: TaskRecord): RecordedTarget[] {
  return (task.targets ?? []).filter((x) => x.released !== true);
}

/** The active targets recorded on task records, by task id (tasks with none left out). */
export function recordedTargets(tasks: TaskRecord[]): Record<string, RecordedTarget[]> {
  const out: Record<string, RecordedTarget[]> = {};
  for (const t of tasks) {
    const active = activeTargets(t);
    if (active.length > 0) out[t.taskId] = active;
  }
  return out;
}

/** The target groups whose health reconcile must read: the spec's and those tasks are recorded in. */
export function targetGroupsToRead(service: ServiceRecord, tasks: TaskRecord[]): string[] {
  const arns = new Set((service.spec.loadBalancers ?? []).map((lb) => lb.targetGroupArn));
  for (const t of tasks) for (const x of activeTargets(t)) arns.add(x.targetGroupArn);
  return [...arns].sort();
}

/** A task's recorded targets after registering `added` at `now` (re-registered ones renewed). */
export function withRegistered(
  recorded: RecordedTarget[],
  added: Target[],
  now: number,
): RecordedTarget[] {
  const key = (t: Target) => `${t.targetGroupArn} ${targetKey(t)}`;
  const renewed = new Set(added.map(key));
  return [
    ...recorded.filter((t) => !renewed.has(key(t))),
    ...added.map((t) => ({ ...t, registeredAt: now })),
  ];
}

/** Groups targets by target group (one Register/DeregisterTargets call each). */
export function byTargetGroup(targets: Target[]): Map<string, Target[]> {
  const out = new Map<string, Target[]>();
  for (const t of targets) {
    const list = out.get(t.targetGroupArn);
    if (list) list.push(t);
    else out.set(t.targetGroupArn, [t]);
  }
  return out;
}
