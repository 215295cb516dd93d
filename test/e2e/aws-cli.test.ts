/**
 * The real AWS CLI (Debian's awscli at /usr/bin/aws, installed by .ci/run) against the local stack's
 * ECS: every answer must be one the CLI parses (exit 0, JSON output), with the key fields right.
 */

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import { AWS_CLI, awsCli } from '../support/aws-cli';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

const ARN = /^arn:aws:ecs:us-east-1:000000000000:/;
let stack: Stack;

/** Runs `aws ecs … --endpoint-url <local> --output json`; fails with the CLI's stderr if it does. */
const ecs = (...args: string[]): Promise<JsonObject> =>
  awsCli({ endpoint: stack.awsUrl, args: ['ecs', ...args], timeoutMs: 60_000 });

beforeAll(async () => {
  if (!existsSync(AWS_CLI)) {
    throw new Error(
      `The AWS CLI is not at ${AWS_CLI}; install Debian's awscli (apt-get install awscli), as .ci/run does.`,
    );
  }
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-aws-cli-')),
    apiPort: 0,
    awsPort: 0,
    taskStepDelayMs: 40,
    tickIntervalMs: 0,
  });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the AWS CLI parses every ECS answer of the local endpoint', () => {
  it('register-task-definition, run-task, describe-tasks, list-tasks, stop-task', async () => {
    const registered = await ecs(
      'register-task-definition',
      '--family',
      'cli',
      '--requires-compatibilities',
      'FARGATE',
      '--network-mode',
      'awsvpc',
      '--cpu',
      '256',
      '--memory',
      '512',
      '--container-definitions',
      JSON.stringify([
        {
          name: 'web',
          image: 'public.ecr.aws/nginx/nginx:latest',
          essential: true,
          portMappings: [{ containerPort: 80 }],
          environment: [{ name: 'MODE', value: 'cli' }],
        },
      ]),
      '--tags',
      'key=team,value=cli',
    );
    expect(registered.taskDefinition).toMatchObject({
      family: 'cli',
      revision: 1,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      compatibilities: expect.arrayContaining(['FARGATE']),
    });
    expect(registered.taskDefinition.taskDefinitionArn).toMatch(/:task-definition\/cli:1$/);
    expect(registered.tags).toEqual([{ key: 'team', value: 'cli' }]);

    const ran = await ecs(
      'run-task',
      '--task-definition',
      'cli:1',
      '--launch-type',
      'FARGATE',
      '--count',
      '2',
      '--started-by',
      'aws-cli-test',
      '--network-configuration',
      'awsvpcConfiguration={subnets=[subnet-12345678],securityGroups=[sg-12345678],assignPublicIp=DISABLED}',
      '--tags',
      'key=slot,value=0',
    );
    expect(ran.failures).toEqual([]);
    expect(ran.tasks).toHaveLength(2);
    const arns: string[] = ran.tasks.map((t: JsonObject) => t.taskArn);
    for (const task of ran.tasks) {
      expect(task.taskArn).toMatch(ARN);
      expect(task).toMatchObject({
        lastStatus: 'PROVISIONING',
        desiredStatus: 'RUNNING',
        launchType: 'FARGATE',
        startedBy: 'aws-cli-test',
      });
      // The CLI turns epoch seconds into ISO 8601 timestamps.
      expect(Number.isNaN(Date.parse(task.createdAt))).toBe(false);
    }

    const running = await waitFor({
      what: 'both tasks RUNNING (describe-tasks)',
      timeoutMs: 30_000,
      intervalMs: 100,
      probe: async () => {
        const d = await ecs('describe-tasks', '--tasks', ...arns, '--include', 'TAGS');
        return d.tasks.every((t: JsonObject) => t.lastStatus === 'RUNNING') ? d : undefined;
      },
    });
    expect(running.failures).toEqual([]);
    const first = running.tasks[0];
    expect(first.tags).toEqual([{ key: 'slot', value: '0' }]);
    expect(first.containers[0]).toMatchObject({ name: 'web', lastStatus: 'RUNNING' });
    expect(first.attachments[0]).toMatchObject({ type: 'ElasticNetworkInterface' });
    expect(first.attachments[0].details).toEqual(
      expect.arrayContaining([{ name: 'subnetId', value: 'subnet-12345678' }]),
    );
    expect(Date.parse(first.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.createdAt));

    const listed = await ecs('list-tasks', '--started-by', 'aws-cli-test');
    expect([...listed.taskArns].sort()).toEqual([...arns].sort());
    const byFamily = await ecs('list-tasks', '--family', 'cli', '--desired-status', 'RUNNING');
    expect(byFamily.taskArns).toHaveLength(2);

    const stopped = await ecs('stop-task', '--task', arns[0] as string, '--reason', 'cli test');
    expect(stopped.task).toMatchObject({
      taskArn: arns[0],
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'cli test',
    });
    const gone = await waitFor({
      what: 'the stopped task STOPPED',
      timeoutMs: 30_000,
      intervalMs: 100,
      probe: async () => {
        const d = await ecs('describe-tasks', '--tasks', arns[0] as string);
        return d.tasks[0]?.lastStatus === 'STOPPED' ? d.tasks[0] : undefined;
      },
    });
    expect(Number.isNaN(Date.parse(gone.stoppedAt))).toBe(false);
    expect((await ecs('list-tasks', '--started-by', 'aws-cli-test')).taskArns).toEqual([arns[1]]);
    const stoppedList = await ecs('list-tasks', '--desired-status', 'STOPPED');
    expect(stoppedList.taskArns).toContain(arns[0]);

    const missing = await ecs('describe-tasks', '--tasks', '0123456789abcdef0123456789abcdef');
    expect(missing).toMatchObject({ tasks: [], failures: [{ reason: 'MISSING' }] });
  }, 120_000);

  it('describe-clusters and list-clusters', async () => {
    const created = await ecs('create-cluster', '--cluster-name', 'cli-blue');
    expect(created.cluster).toMatchObject({ clusterName: 'cli-blue', status: 'ACTIVE' });

    const listed = await ecs('list-clusters');
    expect(listed.clusterArns).toEqual(
      expect.arrayContaining([
        'arn:aws:ecs:us-east-1:000000000000:cluster/default',
        'arn:aws:ecs:us-east-1:000000000000:cluster/cli-blue',
      ]),
    );

    const described = await ecs(
      'describe-clusters',
      '--clusters',
      'default',
      'cli-blue',
      'nowhere',
      '--include',
      'STATISTICS',
      'TAGS',
    );
    expect(described.clusters.map((c: JsonObject) => c.clusterName)).toEqual([
      'default',
      'cli-blue',
    ]);
    const def = described.clusters[0];
    expect(def).toMatchObject({ status: 'ACTIVE', runningTasksCount: 1 });
    expect(def.clusterArn).toMatch(ARN);
    expect(described.failures).toEqual([
      { arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/nowhere', reason: 'MISSING' },
    ]);
  }, 60_000);
});
