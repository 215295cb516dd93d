import { type HealthStatus, type StoredContainer, type StoredTask, TaskStatus } from './model';
import { timelineValueAt } from './workload';

type Time = (ms: number | undefined) => number | string | undefined;

const epochSeconds: Time = (ms) => (ms === undefined ? undefined : ms / 1000);
const isoString: Time = (ms) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Drops undefined members so JSON matches what ECS sends (absent, not null). */
const compact = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

type ViewOptions = { task: StoredTask; time: Time; forEvent: boolean; now: number };

/**
 * A container's health at `now`: UNKNOWN without a health check or before the task runs; the
 * timeline is read up to when the task's containers stopped, so a stopped task keeps its last one.
 */
export const containerHealth = (o: {
  task: StoredTask;
  container: StoredContainer;
  now: number;
}): HealthStatus => {
  const timeline = o.container.workload?.health;
  const { startedAt, executionStoppedAt } = o.task;
  if (!timeline || startedAt === undefined) return 'UNKNOWN';
  const at = Math.min(o.now, executionStoppedAt ?? o.now);
  return timelineValueAt({ timeline, elapsedMs: at - startedAt, before: 'UNKNOWN' });
};

/**
 * Task health as ECS derives it: UNHEALTHY if an essential container is, HEALTHY if every
 * essential container with a health check is (and there is one), else UNKNOWN.
 */
export const taskHealth = (o: { task: StoredTask; now: number }): HealthStatus => {
  const checked = o.task.containers.filter((c) => c.essential && c.workload?.health);
  const states = checked.map((container) => containerHealth({ ...o, container }));
  if (states.includes('UNHEALTHY')) return 'UNHEALTHY';
  if (states.length > 0 && states.every((h) => h === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
};

const renderContainer = (
  o: ViewOptions & { container: StoredContainer },
): Record<string, unknown> => {
  const { task, container: c } = o;
  const eniAttached = task.networkMode === 'awsvpc' && task.lastStatus !== TaskStatus.Provisioning;
  const attachment = task.attachments[0];
  return compact({
    containerArn: c.containerArn,
    taskArn: task.taskArn,
    name: c.name,
    image: c.image,
    runtimeId: c.runtimeId,
    lastStatus: c.lastStatus,
    exitCode: c.exitCode,
    reason: c.reason,
    networkBindings: [],
    networkInterfaces:
      eniAttached && attachment
        ? [{ attachmentId: attachment.id, privateIpv4Address: task.privateIpv4Address }]
        : [],
    // Health is not part of task state change events (containers-roadmap#1515).
    healthStatus: o.forEvent ? undefined : containerHealth({ task, container: c, now: o.now }),
    cpu: c.cpu,
    memory: c.memory,
    memoryReservation: c.memoryReservation,
  });
};

const render = (o: ViewOptions): Record<string, unknown> => {
  const { task: t, time } = o;
  return compact({
    attachments: t.attachments.map((a) => ({
      id: a.id,
      // DescribeTasks names the ENI attachment type in full; events use the short form.
      type: o.forEvent && a.type === 'ElasticNetworkInterface' ? 'eni' : a.type,
      status: a.status,
      details: a.details.map((d) => ({ ...d })),
    })),
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: t.availabilityZone,
    capacityProviderName: t.capacityProviderName,
    clusterArn: t.clusterArn,
    connectivity: t.connectivityAt === undefined ? undefined : 'CONNECTED',
    containerInstanceArn: t.containerInstanceArn,
    connectivityAt: time(t.connectivityAt),
    containers: t.containers.map((container) => renderContainer({ ...o, container })),
    cpu: t.cpu,
    createdAt: time(t.createdAt),
    desiredStatus: t.desiredStatus,
    enableExecuteCommand: t.enableExecuteCommand,
    ephemeralStorage:
      t.ephemeralStorageGiB === undefined ? undefined : { sizeInGiB: t.ephemeralStorageGiB },
    executionStoppedAt: time(t.executionStoppedAt),
    group: t.group,
    healthStatus: o.forEvent ? undefined : taskHealth({ task: t, now: o.now }),
    lastStatus: t.lastStatus,
    launchType: t.launchType,
    memory: t.memory,
    overrides: structuredClone(t.overrides),
    platformVersion: t.platformVersion,
    platformFamily: t.platformFamily,
    pullStartedAt: time(t.pullStartedAt),
    pullStoppedAt: time(t.pullStoppedAt),
    startedAt: time(t.startedAt),
    startedBy: t.startedBy,
    stopCode: t.stopCode,
    stoppedAt: time(t.stoppedAt),
    stoppedReason: t.stoppedReason,
    stoppingAt: time(t.stoppingAt),
    taskArn: t.taskArn,
    taskDefinitionArn: t.taskDefinitionArn,
    version: t.version,
  });
};

/**
 * The Task shape as DescribeTasks returns it (epoch-second timestamps; tags only on request);
 * health is evaluated at `now`.
 */
export const renderTask = (o: {
  task: StoredTask;
  includeTags: boolean;
  now: number;
}): Record<string, unknown> => {
  const view = render({ task: o.task, time: epochSeconds, forEvent: false, now: o.now });
  return o.includeTags ? { ...view, tags: o.task.tags.map((t) => ({ ...t })) } : view;
};

/** The `detail` of an "ECS Task State Change" event: ISO timestamps, no tags, plus updatedAt. */
export const renderTaskEventDetail = (task: StoredTask): Record<string, unknown> => ({
  ...render({ task, time: isoString, forEvent: true, now: task.updatedAt }),
  updatedAt: isoString(task.updatedAt),
});
