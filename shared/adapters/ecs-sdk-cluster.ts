/**
 * EcsCluster on the AWS SDK's ECS client. SDK exceptions become domain results here: a request ECS
 * rejects (4xx) is a failed launch with its reason; throttling and 5xx are rethrown so the caller's
 * retry (and Lambda's) applies.
 */
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ECSServiceException,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { dropUndefined } from '../core/events';
import {
  LaunchEnv,
  launchInfoOf,
  privateIpOf,
  type TaskRecord,
  type TaskStatus,
  taskIdOf,
} from '../core/model';
import type { EcsCluster, LaunchRequest, LaunchResult } from '../ports/ecs-cluster';

/** ECS answers these when the request itself is wrong; retrying the same request cannot help. */
const REJECTIONS = new Set([
  'ClientException',
  'InvalidParameterException',
  'ClusterNotFoundException',
  'ConflictException',
  'AccessDeniedException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
  'UnsupportedFeatureException',
  'BlockedException',
]);

const DESCRIBE_BATCH = 100;
/** `family` alone means "latest revision", which can change; a pinned revision never does. */
const UNPINNED_CACHE_MS = 60_000;

/** Builds the adapter; `now` is only used to age the container-name cache. */
export function makeEcsSdkCluster(options: { client: ECSClient; now?: () => number }): EcsCluster {
  const { client } = options;
  const now = options.now ?? Date.now;
  // The promise is cached, so launches running in parallel share one DescribeTaskDefinition call.
  const containerNames = new Map<
    string,
    { names: Promise<string[]>; at: number; pinned: boolean }
  >();

  /** Container names of a task definition, to put STEWARD_TASK_INDEX in each container. */
  const namesOf = (taskDefinition: string): Promise<string[]> => {
    const cached = containerNames.get(taskDefinition);
    if (cached && (cached.pinned || now() - cached.at < UNPINNED_CACHE_MS)) return cached.names;
    const names = client
      .send(new DescribeTaskDefinitionCommand({ taskDefinition }))
      .then((out) =>
        (out.taskDefinition?.containerDefinitions ?? []).flatMap((c) => (c.name ? [c.name] : [])),
      );
    containerNames.set(taskDefinition, { names, at: now(), pinned: /:\d+$/.test(taskDefinition) });
    // A failed describe is not remembered: the next launch asks again.
    names.catch(() => {
      if (containerNames.get(taskDefinition)?.names === names)
        containerNames.delete(taskDefinition);
    });
    return names;
  };

  return {
    async launch(request: LaunchRequest): Promise<LaunchResult> {
      try {
        const names = await namesOf(request.taskDefinition);
        const out = await client.send(
          new RunTaskCommand({
            cluster: request.cluster,
            taskDefinition: request.taskDefinition,
            count: 1,
            startedBy: request.startedBy,
            clientToken: request.clientToken,
            launchType: request.launchType as RunTaskCommand['input']['launchType'],
            capacityProviderStrategy: request.capacityProviderStrategy,
            platformVersion: request.platformVersion,
            networkConfiguration: request.networkConfiguration,
            placementConstraints: request.placementConstraints,
            placementStrategy: request.placementStrategy,
            propagateTags: request.propagateTags,
            enableExecuteCommand: request.enableExecuteCommand,
            tags: [
              ...(request.tags ?? []),
              { key: 'steward:service', value: request.serviceName },
              { key: 'steward:slot', value: String(request.slot) },
            ],
            overrides: {
              containerOverrides: names.map((name) => ({
                name,
                environment: [
                  { name: LaunchEnv.TASK_INDEX, value: String(request.slot) },
                  { name: LaunchEnv.LAUNCH_TOKEN, value: request.clientToken },
                  { name: LaunchEnv.DEPLOYMENT, value: String(request.deployment) },
                  ...(request.fallback ? [{ name: LaunchEnv.FALLBACK, value: '1' }] : []),
                ],
              })),
            },
          }),
        );
        const task = out.tasks?.[0];
        if (task) return { ok: true, task: toTaskRecord(task) };
        const failure = out.failures?.[0];
        const reason = failure
          ? [failure.reason, failure.detail].filter(Boolean).join(': ')
          : 'RunTask returned no task and no failure';
        // RESOURCE:*, AGENT, capacity: the cluster may have room later.
        return { ok: false, reason, retryable: true };
      } catch (error) {
        if (error instanceof ECSServiceException && REJECTIONS.has(error.name)) {
          return { ok: false, reason: `${error.name}: ${error.message}`, retryable: false };
        }
        throw error;
      }
    },

    async stop({ cluster, taskArn, reason }) {
      // ECS shows at most 255 characters of a stop reason.
      await client.send(
        new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, 255) }),
      );
    },

    async listRunningTaskArns(cluster) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const out = await client.send(
          new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100, nextToken }),
        );
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return arns;
    },

    async describe({ cluster, taskArns }) {
      const tasks: { startedBy?: string; task: TaskRecord }[] = [];
      const missing: string[] = [];
      for (let i = 0; i < taskArns.length; i += DESCRIBE_BATCH) {
        const out = await client.send(
          new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + DESCRIBE_BATCH) }),
        );
        for (const t of out.tasks ?? []) {
          tasks.push(
            t.startedBy === undefined
              ? { task: toTaskRecord(t) }
              : { startedBy: t.startedBy, task: toTaskRecord(t) },
          );
        }
        for (const f of out.failures ?? [])
          if (f.reason === 'MISSING' && f.arn) missing.push(f.arn);
      }
      return { tasks, missing };
    },
  };
}

/** An SDK Task (epoch Date timestamps) as a TaskRecord (ISO strings, like events). */
export function toTaskRecord(task: Task): TaskRecord {
  const iso = (d: Date | undefined) => d?.toISOString();
  const taskArn = task.taskArn ?? '';
  return dropUndefined<TaskRecord>({
    taskId: taskIdOf(taskArn),
    taskArn,
    clusterArn: task.clusterArn,
    lastStatus: (task.lastStatus ?? 'PROVISIONING') as TaskStatus,
    desiredStatus: task.desiredStatus ?? 'RUNNING',
    version: task.version ?? 0,
    taskDefinitionArn: task.taskDefinitionArn,
    createdAt: iso(task.createdAt),
    startedAt: iso(task.startedAt),
    stoppingAt: iso(task.stoppingAt),
    stoppedAt: iso(task.stoppedAt),
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    capacityProviderName: task.capacityProviderName,
    privateIp: privateIpOf(task.attachments),
    updatedAt: undefined,
    ...launchInfoOf(task.overrides),
  });
}
