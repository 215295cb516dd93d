/**
 * The one place that reads configuration and builds real clients, once per Lambda container.
 * A missing variable fails the cold start, not the first request that needs it.
 * Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECS, …), so the
 * same code talks to AWS or to the local stack.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { makeCloudWatchMetrics } from './adapters/cloudwatch-metrics';
import { makeDynamoDbServiceStore } from './adapters/dynamodb-service-store';
import { paceEcsClient } from './adapters/ecs-pacing';
import { makeEcsSdkCluster } from './adapters/ecs-sdk-cluster';
import { makeEcsTaskDefinitions } from './adapters/ecs-task-definitions';
import { makeElbv2LoadBalancing } from './adapters/elbv2-load-balancing';
import { makeEventBridgeReconcileQueue } from './adapters/eventbridge-reconcile-queue';
import { makeSqsDeadLetters } from './adapters/sqs-dead-letters';
import { type AccessPolicy, listSetting } from './core/access';
import { systemOrLocalNow } from './local-clock';
import { logger } from './observability';
import type { DeadLetters } from './ports/dead-letters';
import type { EcsCluster } from './ports/ecs-cluster';
import type { LoadBalancing } from './ports/load-balancing';
import type { Metrics } from './ports/metrics';
import type { ReconcileQueue } from './ports/reconcile-queue';
import type { ServiceStore } from './ports/service-store';
import type { TaskDefinitions } from './ports/task-definitions';

export type Config = {
  tableName: string;
  eventBusName: string;
  deadLetterQueueUrl: string | undefined;
  orphanGraceMs: number;
  /** STEWARD_ALLOWED_CLUSTERS / _ROLE_ARNS / _TARGET_GROUPS (comma-separated; unset: any). */
  access: AccessPolicy;
};

export type Deps = {
  config: Config;
  store: ServiceStore;
  ecs: EcsCluster;
  taskDefinitions: TaskDefinitions;
  loadBalancing: LoadBalancing;
  access: AccessPolicy;
  queue: ReconcileQueue;
  deadLetters: DeadLetters;
  clock: () => number;
};

/** Reads Steward's configuration from the environment; throws naming every missing variable. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const missing = ['TABLE_NAME'].filter((k) => !env[k]);
  if (missing.length > 0) throw new Error(`Missing environment variables: ${missing.join(', ')}`);
  const grace = Number(env.ORPHAN_GRACE_SECONDS ?? '120');
  if (!Number.isFinite(grace) || grace < 0)
    throw new Error('ORPHAN_GRACE_SECONDS must be a number of seconds');
  return {
    tableName: env.TABLE_NAME as string,
    eventBusName: env.EVENT_BUS_NAME || 'default',
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL || undefined,
    orphanGraceMs: grace * 1000,
    access: accessPolicyOf(env),
  };
}

function accessPolicyOf(env: NodeJS.ProcessEnv): AccessPolicy {
  const clusters = listSetting(env.STEWARD_ALLOWED_CLUSTERS, 'STEWARD_ALLOWED_CLUSTERS');
  const roleArns = listSetting(env.STEWARD_ALLOWED_ROLE_ARNS, 'STEWARD_ALLOWED_ROLE_ARNS');
  const targetGroupArns = listSetting(
    env.STEWARD_ALLOWED_TARGET_GROUPS,
    'STEWARD_ALLOWED_TARGET_GROUPS',
  );
  return {
    ...(clusters === undefined ? {} : { clusters }),
    ...(roleArns === undefined ? {} : { roleArns }),
    ...(targetGroupArns === undefined ? {} : { targetGroupArns }),
  };
}

/** SDK settings shared by every client: bounded waits and the SDK's adaptive retry with backoff. */
const clientSettings = {
  maxAttempts: 4,
  retryMode: 'adaptive',
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
} as const;

/**
 * The scaling policies' metrics (CloudWatch). Only the tick reads metrics, so only it builds this;
 * the other functions' bundles and cold starts do without the CloudWatch client.
 */
export function wireMetrics(): Metrics {
  return makeCloudWatchMetrics({
    client: new CloudWatchClient(clientSettings),
    onIssue: (issue) => logger.warn('A metric could not be read', { ...issue }),
  });
}

/** Builds the real dependencies from the environment. */
export function wire(env: NodeJS.ProcessEnv = process.env): Deps {
  const config = readConfig(env);
  const deadLetters: DeadLetters = config.deadLetterQueueUrl
    ? makeSqsDeadLetters({
        client: new SQSClient(clientSettings),
        queueUrl: config.deadLetterQueueUrl,
      })
    : {
        async send() {
          throw new Error('DEAD_LETTER_QUEUE_URL is not set: the event cannot be dead-lettered');
        },
      };
  const ecsClient = paceEcsClient(new ECSClient(clientSettings));
  return {
    config,
    store: makeDynamoDbServiceStore({
      client: new DynamoDBClient(clientSettings),
      tableName: config.tableName,
    }),
    ecs: makeEcsSdkCluster({ client: ecsClient }),
    taskDefinitions: makeEcsTaskDefinitions({ client: ecsClient }),
    loadBalancing: makeElbv2LoadBalancing({
      client: new ElasticLoadBalancingV2Client(clientSettings),
    }),
    access: config.access,
    queue: makeEventBridgeReconcileQueue({
      client: new EventBridgeClient(clientSettings),
      eventBusName: config.eventBusName,
    }),
    deadLetters,
    // The system clock, or the local stack's controllable one (shared/local-clock.ts).
    clock: systemOrLocalNow,
  };
}
