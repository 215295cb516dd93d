import {
  DesiredStatus,
  StopCode,
  type StoredContainer,
  type StoredTask,
  TaskStatus,
} from './model';

// The task lifecycle as data. A task moves only through rows of TRANSITIONS; the emulator's
// scheduler asks `nextTransition` what is due, waits `delayMs`, then `applyTransition`s it. Every
// applied transition and every accepted request (stop, container exit) is one state change:
// version + 1 and one event. New behaviour (load balancer ACTIVATING/DEACTIVATING, Spot
// interruption, a time scale) is a new row, a new `when`, or a new request function here. A row
// without `to` is a change inside the current status (a container exits, a start fails): its
// `effect` runs and the task keeps its lastStatus.

/** Exit code of a container stopped by `docker stop` that exits on SIGTERM (128 + 15). */
export const SIGTERM_EXIT_CODE = 143;

/**
 * What a row's delay may depend on; `now` is the emulator clock when the step is planned. Delays
 * arrive already divided by the emulator's time scale.
 */
export type DelayContext = {
  task: StoredTask;
  stepDelayMs: number;
  /** How long a Fargate Spot task keeps running after its interruption warning. */
  spotWarningMs: number;
  now: number;
};

/** What entering a status or a row's effect works on. */
export type EnterContext = { task: StoredTask; now: number };

/** One row of the lifecycle table. */
export type Transition = {
  name: string;
  from: readonly TaskStatus[];
  /** The status entered; absent when the change stays inside the current status. */
  to?: TaskStatus;
  when: (task: StoredTask) => boolean;
  delayMs: (ctx: DelayContext) => number;
  /** Runs after entering `to` (if any), before the version bump. */
  effect?: (ctx: EnterContext) => void;
};

const wantsRunning = (task: StoredTask): boolean => task.desiredStatus === DesiredStatus.Running;
const wantsStopped = (task: StoredTask): boolean => task.desiredStatus === DesiredStatus.Stopped;
const usesEni = (task: StoredTask): boolean => task.networkMode === 'awsvpc';
const oneStep = (ctx: DelayContext): number => ctx.stepDelayMs;

const failsToStart = (task: StoredTask): boolean =>
  task.containers.some((c) => c.workload?.failToStart !== undefined);

/** ECS adds ACTIVATING/DEACTIVATING for tasks that register with load balancer target groups. */
const loadBalanced = (task: StoredTask): boolean =>
  task.containers.some((c) => c.workload?.loadBalanced === true);

/** The running container whose simulated exit is due first, and when (emulator clock). */
const nextContainerExit = (
  task: StoredTask,
): { container: StoredContainer; dueAt: number } | undefined => {
  if (task.startedAt === undefined) return undefined;
  let next: { container: StoredContainer; dueAt: number } | undefined;
  for (const container of task.containers) {
    const after = container.workload?.exitAfterMs;
    if (container.lastStatus !== 'RUNNING' || after === undefined) continue;
    const dueAt = task.startedAt + after;
    if (!next || dueAt < next.dueAt) next = { container, dueAt };
  }
  return next;
};

/** Ordered: the first row whose `from` and `when` match is the next transition. */
export const TRANSITIONS: readonly Transition[] = [
  {
    name: 'provisioned',
    from: [TaskStatus.Provisioning],
    to: TaskStatus.Pending,
    when: wantsRunning,
    delayMs: oneStep,
  },
  {
    // A declared start failure (e.g. an image that cannot be pulled) ends the task in PENDING:
    // the stop request is its own change, then the stop rows below take it to STOPPED.
    name: 'failed-to-start',
    from: [TaskStatus.Pending],
    when: (t) => wantsRunning(t) && failsToStart(t),
    delayMs: oneStep,
    effect: ({ task, now }) => failStart({ task, now }),
  },
  {
    // Target group registration happens here, before the task counts as RUNNING.
    name: 'activating',
    from: [TaskStatus.Pending],
    to: TaskStatus.Activating,
    when: (t) => wantsRunning(t) && loadBalanced(t),
    delayMs: oneStep,
  },
  {
    name: 'started',
    from: [TaskStatus.Pending, TaskStatus.Activating],
    to: TaskStatus.Running,
    when: wantsRunning,
    delayMs: oneStep,
  },
  {
    // A simulated workload exits on its own, timed from when the task reached RUNNING.
    name: 'container-exited',
    from: [TaskStatus.Running],
    when: (t) => wantsRunning(t) && nextContainerExit(t) !== undefined,
    delayMs: ({ task, now }) => Math.max(0, (nextContainerExit(task)?.dueAt ?? now) - now),
    effect: ({ task, now }) => {
      const due = nextContainerExit(task);
      if (!due) return;
      containerExits({
        task,
        now,
        container: due.container,
        exitCode: due.container.workload?.exitCode ?? 1,
      });
    },
  },
  {
    // Stopped before an ENI was attached: release it; nothing ran, so no STOPPING.
    name: 'cancel-provisioning',
    from: [TaskStatus.Provisioning],
    to: TaskStatus.Deprovisioning,
    when: (t) => wantsStopped(t) && usesEni(t),
    delayMs: oneStep,
  },
  {
    name: 'cancel-provisioning-no-eni',
    from: [TaskStatus.Provisioning],
    to: TaskStatus.Stopped,
    when: (t) => wantsStopped(t) && !usesEni(t),
    delayMs: oneStep,
  },
  {
    // A Spot interruption is a two-minute warning: the task keeps RUNNING (desired STOPPED) until
    // it is over, then stops as any other.
    name: 'spot-warning-over',
    from: [TaskStatus.Running],
    to: TaskStatus.Stopping,
    when: (t) => wantsStopped(t) && t.stopCode === StopCode.SpotInterruption,
    delayMs: ({ task, now, spotWarningMs }) =>
      Math.max(0, (task.stoppingAt ?? now) + spotWarningMs - now),
  },
  {
    // Deregistration from target groups (connection draining) before the containers stop.
    name: 'deactivating',
    from: [TaskStatus.Activating, TaskStatus.Running],
    to: TaskStatus.Deactivating,
    when: (t) => wantsStopped(t) && loadBalanced(t),
    delayMs: oneStep,
  },
  {
    name: 'stop-containers',
    from: [TaskStatus.Pending, TaskStatus.Activating, TaskStatus.Running, TaskStatus.Deactivating],
    to: TaskStatus.Stopping,
    when: wantsStopped,
    delayMs: oneStep,
  },
  {
    name: 'containers-stopped-release-eni',
    from: [TaskStatus.Stopping],
    to: TaskStatus.Deprovisioning,
    when: usesEni,
    delayMs: oneStep,
  },
  {
    name: 'containers-stopped',
    from: [TaskStatus.Stopping],
    to: TaskStatus.Stopped,
    when: (t) => !usesEni(t),
    delayMs: oneStep,
  },
  {
    name: 'deprovisioned',
    from: [TaskStatus.Deprovisioning],
    to: TaskStatus.Stopped,
    when: () => true,
    delayMs: oneStep,
  },
];

/** The transition due next for a task, or undefined when it is settled (RUNNING or STOPPED). */
export const nextTransition = (task: StoredTask): Transition | undefined =>
  TRANSITIONS.find((t) => t.from.includes(task.lastStatus) && t.when(task));

const stopContainers = (ctx: EnterContext): void => {
  for (const c of ctx.task.containers) {
    if (c.lastStatus === 'STOPPED') continue;
    // A container that never ran has no exit code, as in ECS.
    if (c.lastStatus === 'RUNNING' && c.exitCode === undefined) c.exitCode = SIGTERM_EXIT_CODE;
    c.lastStatus = 'STOPPED';
  }
  ctx.task.executionStoppedAt ??= ctx.now;
};

const setAttachmentStatus = (o: { task: StoredTask; status: string }): void => {
  for (const a of o.task.attachments) a.status = o.status;
};

// What entering each status does besides setting lastStatus.
const ENTER: Record<TaskStatus, (ctx: EnterContext) => void> = {
  PROVISIONING: () => {},
  PENDING: ({ task, now }) => {
    setAttachmentStatus({ task, status: 'ATTACHED' });
    task.connectivityAt = now;
    task.pullStartedAt = now;
  },
  ACTIVATING: () => {},
  RUNNING: ({ task, now }) => {
    task.pullStoppedAt ??= now;
    task.startedAt = now;
    task.containers.forEach((c: StoredContainer, i) => {
      c.lastStatus = 'RUNNING';
      c.runtimeId = `${task.taskId}-${String(1_000_000_000 + i)}`;
    });
  },
  DEACTIVATING: () => {},
  STOPPING: ({ task, now }) => {
    task.stoppingAt ??= now;
  },
  DEPROVISIONING: (ctx) => {
    ctx.task.stoppingAt ??= ctx.now;
    stopContainers(ctx);
  },
  STOPPED: (ctx) => {
    const { task, now } = ctx;
    task.stoppingAt ??= now;
    if (task.pullStartedAt !== undefined) task.pullStoppedAt ??= now;
    stopContainers(ctx);
    setAttachmentStatus({ task, status: 'DELETED' });
    task.stoppedAt = now;
  },
};

const bump = (o: { task: StoredTask; now: number }): void => {
  o.task.version += 1;
  o.task.updatedAt = o.now;
};

/** Moves a task along one transition: new lastStatus, entry effects, the row's effect, version + 1. */
export const applyTransition = (o: {
  task: StoredTask;
  transition: Transition;
  now: number;
}): void => {
  const { to, effect } = o.transition;
  if (to !== undefined) {
    o.task.lastStatus = to;
    ENTER[to]({ task: o.task, now: o.now });
  }
  effect?.({ task: o.task, now: o.now });
  bump(o);
};

export const DEFAULT_USER_STOP_REASON = 'Task stopped by user';
export const SPOT_INTERRUPTION_REASON = 'Your Spot Task was interrupted.';
export const ESSENTIAL_CONTAINER_EXITED_REASON = 'Essential container in task exited';

// The stop request itself, shared by StopTask, container exits and start failures; no bump, so
// each caller's single state change bumps the version once.
const markStopRequested = (o: {
  task: StoredTask;
  now: number;
  stopCode: StopCode;
  reason: string;
}): void => {
  o.task.desiredStatus = DesiredStatus.Stopped;
  o.task.stopCode = o.stopCode;
  o.task.stoppedReason = o.reason;
  o.task.stoppingAt = o.now;
};

const failStart = (o: EnterContext): void => {
  let reason: string | undefined;
  for (const c of o.task.containers) {
    const failure = c.workload?.failToStart;
    if (failure === undefined) continue;
    c.reason = failure;
    reason ??= failure;
  }
  markStopRequested({ ...o, stopCode: StopCode.TaskFailedToStart, reason: reason ?? '' });
};

// One container exits: it alone stops, unless it is essential, which asks the whole task to stop.
const containerExits = (o: {
  task: StoredTask;
  now: number;
  container: StoredContainer;
  exitCode: number;
  reason?: string;
}): void => {
  const { container } = o;
  container.lastStatus = 'STOPPED';
  container.exitCode = o.exitCode;
  if (o.reason !== undefined) container.reason = o.reason;
  if (container.essential) {
    markStopRequested({
      task: o.task,
      now: o.now,
      stopCode: StopCode.EssentialContainerExited,
      reason: ESSENTIAL_CONTAINER_EXITED_REASON,
    });
  }
};

/**
 * Sets desiredStatus STOPPED with a stop code and reason. Returns false (no state change) when the
 * task is already on its way to STOPPED, so a repeated StopTask keeps the first reason.
 */
export const requestStop = (o: {
  task: StoredTask;
  now: number;
  stopCode: StopCode;
  reason: string;
}): boolean => {
  const { task } = o;
  if (task.desiredStatus === DesiredStatus.Stopped || task.lastStatus === TaskStatus.Stopped) {
    return false;
  }
  markStopRequested(o);
  bump(o);
  return true;
};

/**
 * A container exits on its own with `exitCode`: it becomes STOPPED; if it is essential the task is
 * asked to stop with EssentialContainerExited. Returns false (no change) if the task is not
 * running or the container has already stopped.
 */
export const exitContainer = (o: {
  task: StoredTask;
  now: number;
  container: StoredContainer;
  exitCode: number;
  reason?: string;
}): boolean => {
  const { task, container } = o;
  if (
    task.lastStatus !== TaskStatus.Running ||
    task.desiredStatus !== DesiredStatus.Running ||
    container.lastStatus !== 'RUNNING'
  ) {
    return false;
  }
  containerExits(o);
  bump(o);
  return true;
};

/**
 * Fargate Spot takes the task back: one change to desired STOPPED with stopCode SpotInterruption
 * while it stays RUNNING (the warning); the `spot-warning-over` row stops it later. Returns false
 * (no change) unless the task is RUNNING and not already stopping.
 */
export const interruptSpot = (o: { task: StoredTask; now: number }): boolean => {
  const { task } = o;
  if (task.lastStatus !== TaskStatus.Running || task.desiredStatus !== DesiredStatus.Running) {
    return false;
  }
  markStopRequested({
    task,
    now: o.now,
    stopCode: StopCode.SpotInterruption,
    reason: SPOT_INTERRUPTION_REASON,
  });
  bump(o);
  return true;
};
