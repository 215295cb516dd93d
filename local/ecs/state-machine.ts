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
// version + 1 and one event. New behaviour (load balancer ACTIVATING/DEACTIVATING, start failures,
// Spot interruption, a time scale) is a new row, a new `when`, or a new request function here.

/** Exit code of a container stopped by `docker stop` that exits on SIGTERM (128 + 15). */
export const SIGTERM_EXIT_CODE = 143;

export type DelayContext = { task: StoredTask; stepDelayMs: number };

export type Transition = {
  name: string;
  from: readonly TaskStatus[];
  to: TaskStatus;
  when: (task: StoredTask) => boolean;
  delayMs: (ctx: DelayContext) => number;
};

const wantsRunning = (task: StoredTask): boolean => task.desiredStatus === DesiredStatus.Running;
const wantsStopped = (task: StoredTask): boolean => task.desiredStatus === DesiredStatus.Stopped;
const usesEni = (task: StoredTask): boolean => task.networkMode === 'awsvpc';
const oneStep = (ctx: DelayContext): number => ctx.stepDelayMs;

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
    name: 'started',
    from: [TaskStatus.Pending],
    to: TaskStatus.Running,
    when: wantsRunning,
    delayMs: oneStep,
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

type EnterContext = { task: StoredTask; now: number };

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

/** Moves a task along one transition: new lastStatus, entry effects, version + 1. */
export const applyTransition = (o: {
  task: StoredTask;
  transition: Transition;
  now: number;
}): void => {
  o.task.lastStatus = o.transition.to;
  ENTER[o.transition.to]({ task: o.task, now: o.now });
  bump(o);
};

export const DEFAULT_USER_STOP_REASON = 'Task stopped by user';
export const ESSENTIAL_CONTAINER_EXITED_REASON = 'Essential container in task exited';

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
  task.desiredStatus = DesiredStatus.Stopped;
  task.stopCode = o.stopCode;
  task.stoppedReason = o.reason;
  task.stoppingAt = o.now;
  bump(o);
  return true;
};

/**
 * An essential container exits on its own: the container is STOPPED with its exit code and the
 * task is asked to stop with EssentialContainerExited. Returns false if the task is not running.
 */
export const exitEssentialContainer = (o: {
  task: StoredTask;
  now: number;
  container: StoredContainer;
  exitCode: number;
  reason?: string;
}): boolean => {
  const { task, container } = o;
  if (task.lastStatus !== TaskStatus.Running || task.desiredStatus !== DesiredStatus.Running) {
    return false;
  }
  container.lastStatus = 'STOPPED';
  container.exitCode = o.exitCode;
  if (o.reason !== undefined) container.reason = o.reason;
  task.desiredStatus = DesiredStatus.Stopped;
  task.stopCode = StopCode.EssentialContainerExited;
  task.stoppedReason = ESSENTIAL_CONTAINER_EXITED_REASON;
  task.stoppingAt = o.now;
  bump(o);
  return true;
};
