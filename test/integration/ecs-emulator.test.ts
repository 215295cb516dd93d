import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EcsEmulatorOptions } from '../../local/ecs/emulator';
import {
  type EmulatorServer,
  fargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';

const STEP_MS = 20;

type Stack = EmulatorServer;

/** A real HTTP server on loopback in front of a fresh emulator, and an SDK client for it. */
const startStack = (options: EcsEmulatorOptions = {}): Promise<Stack> =>
  startEmulatorServer({ stepDelayMs: STEP_MS, maxAttempts: 1, ...options });

const FARGATE_TD = fargateTaskDefinition({
  family: 'web',
  containers: [
    { name: 'app', image: 'nginx:1.27', environment: [{ name: 'MODE', value: 'base' }] },
  ],
});

const fargateRun = (extra: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput => ({
  taskDefinition: 'web',
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a1'] } },
  ...extra,
});

/** The error the SDK throws for a command, so tests can assert its name. */
const errorOf = async (p: Promise<unknown>): Promise<Error & { resourceIds?: string[] }> => {
  try {
    await p;
  } catch (error) {
    return error as Error & { resourceIds?: string[] };
  }
  throw new Error('expected the call to fail');
};

const describeOne = async (o: { client: ECSClient; taskArn: string; cluster?: string }) => {
  const out = await o.client.send(
    new DescribeTasksCommand({
      tasks: [o.taskArn],
      include: ['TAGS'],
      ...(o.cluster ? { cluster: o.cluster } : {}),
    }),
  );
  return out.tasks?.[0];
};

/** Polls DescribeTasks until the task reaches `status` (bounded: 3 s). */
const waitForStatus = async (o: {
  client: ECSClient;
  taskArn: string;
  status: string;
  cluster?: string;
}): Promise<Task> => {
  const deadline = Date.now() + 3000;
  for (;;) {
    const task = await describeOne(o);
    if (task?.lastStatus === o.status) return task;
    if (Date.now() > deadline) {
      throw new Error(`task ${o.taskArn} is ${task?.lastStatus}, wanted ${o.status}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
};

const runOne = async (o: { client: ECSClient; input?: Partial<RunTaskCommandInput> }) => {
  const out = await o.client.send(new RunTaskCommand(fargateRun(o.input)));
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error('RunTask returned no task');
  return arn;
};

describe('ECS emulator over HTTP with the AWS SDK', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('registers a Fargate task definition with computed fields and revisions', async () => {
    const second = await stack.client.send(
      new RegisterTaskDefinitionCommand({
        ...FARGATE_TD,
        family: 'revs',
        cpu: '1 vCPU',
        memory: '2 GB',
      }),
    );
    const third = await stack.client.send(
      new RegisterTaskDefinitionCommand({
        ...FARGATE_TD,
        family: 'revs',
        tags: [{ key: 'a', value: 'b' }],
      }),
    );
    expect(second.taskDefinition).toMatchObject({
      family: 'revs',
      revision: 1,
      status: 'ACTIVE',
      cpu: '1024',
      memory: '2048',
      compatibilities: expect.arrayContaining(['EC2', 'FARGATE']),
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/revs:1',
    });
    expect(second.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(third.taskDefinition?.revision).toBe(2);
    expect(third.tags).toEqual([{ key: 'a', value: 'b' }]);

    await stack.client.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'revs:2' }));
    const latest = await stack.client.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'revs' }),
    );
    expect(latest.taskDefinition?.revision).toBe(1);
    const inactive = await stack.client.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'revs:2', include: ['TAGS'] }),
    );
    expect(inactive.taskDefinition?.status).toBe('INACTIVE');
    expect(inactive.tags).toEqual([{ key: 'a', value: 'b' }]);
    const err = await errorOf(
      stack.client.send(new RunTaskCommand(fargateRun({ taskDefinition: 'revs:2' }))),
    );
    expect(err.name).toBe('ClientException');

    const listed = await stack.client.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'revs', status: 'INACTIVE' }),
    );
    expect(listed.taskDefinitionArns).toEqual([
      'arn:aws:ecs:us-east-1:000000000000:task-definition/revs:2',
    ]);
  });

  it('rejects task definitions ECS rejects', async () => {
    const badPair = await errorOf(
      stack.client.send(
        new RegisterTaskDefinitionCommand({ ...FARGATE_TD, cpu: '256', memory: '4096' }),
      ),
    );
    expect(badPair.name).toBe('ClientException');
    expect(badPair.message).toContain('No Fargate configuration exists');
    const tooMany = await errorOf(
      stack.client.send(
        new RegisterTaskDefinitionCommand({
          ...FARGATE_TD,
          containerDefinitions: Array.from({ length: 11 }, (_, i) => ({
            name: `c${i}`,
            image: 'x',
          })),
        }),
      ),
    );
    expect(tooMany.name).toBe('ClientException');
    expect(tooMany.message).toBe('Too many containers.');
  });

  it('runs a Fargate task through the lifecycle to RUNNING and stops it, emitting each change once', async () => {
    const run = await stack.client.send(
      new RunTaskCommand(
        fargateRun({
          startedBy: 'steward/web',
          tags: [{ key: 'slot', value: '0' }],
          overrides: {
            containerOverrides: [{ name: 'app', environment: [{ name: 'SLOT', value: '0' }] }],
          },
        }),
      ),
    );
    expect(run.failures).toEqual([]);
    const created = run.tasks?.[0];
    const taskArn = created?.taskArn ?? '';
    expect(taskArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/default\/[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      launchType: 'FARGATE',
      capacityProviderName: 'FARGATE',
      platformVersion: '1.4.0',
      cpu: '256',
      memory: '512',
      group: 'family:web',
      startedBy: 'steward/web',
      version: 1,
      overrides: {
        containerOverrides: [{ name: 'app', environment: [{ name: 'SLOT', value: '0' }] }],
      },
    });
    expect(created?.tags).toBeUndefined();

    const running = await waitForStatus({ client: stack.client, taskArn, status: 'RUNNING' });
    expect(running.version).toBe(3);
    expect(running.startedAt).toBeInstanceOf(Date);
    expect(running.connectivity).toBe('CONNECTED');
    expect(running.tags).toEqual([{ key: 'slot', value: '0' }]);
    expect(running.attachments?.[0]).toMatchObject({
      type: 'ElasticNetworkInterface',
      status: 'ATTACHED',
    });
    expect(running.containers?.[0]?.networkInterfaces?.[0]?.privateIpv4Address).toMatch(/^10\.0\./);
    expect(running.ephemeralStorage).toEqual({ sizeInGiB: 20 });

    const stopped = await stack.client.send(
      new StopTaskCommand({ task: taskArn, reason: 'scaling in' }),
    );
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated' });

    const final = await waitForStatus({ client: stack.client, taskArn, status: 'STOPPED' });
    expect(final).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'scaling in',
      version: 7,
    });
    expect(final.containers?.[0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 143 });
    expect(final.stoppedAt).toBeInstanceOf(Date);
    expect(final.executionStoppedAt).toBeInstanceOf(Date);

    const mine = stack.events.filter((e) => e.resources[0] === taskArn);
    expect(mine.map((e) => e.detail.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(mine.map((e) => e.detail.lastStatus)).toEqual([
      'PROVISIONING',
      'PENDING',
      'RUNNING',
      'RUNNING',
      'STOPPING',
      'DEPROVISIONING',
      'STOPPED',
    ]);
    expect(mine.map((e) => e.detail.desiredStatus)).toEqual([
      'RUNNING',
      'RUNNING',
      'RUNNING',
      'STOPPED',
      'STOPPED',
      'STOPPED',
      'STOPPED',
    ]);
    const last = mine[6];
    expect(last).toMatchObject({
      version: '0',
      'detail-type': 'ECS Task State Change',
      source: 'aws.ecs',
      account: '000000000000',
      region: 'us-east-1',
      resources: [taskArn],
    });
    expect(last?.detail).toMatchObject({
      taskArn,
      stopCode: 'UserInitiated',
      stoppedReason: 'scaling in',
      startedBy: 'steward/web',
    });
    expect(last?.detail.tags).toBeUndefined();
    expect(last?.detail.healthStatus).toBeUndefined();
    expect(last?.detail.stoppedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/));
    expect(last?.detail.updatedAt).toEqual(last?.time);

    // Stopping a STOPPED task changes nothing.
    const again = await stack.client.send(new StopTaskCommand({ task: taskArn, reason: 'again' }));
    expect(again.task).toMatchObject({ version: 7, stoppedReason: 'scaling in' });
    expect(stack.events.filter((e) => e.resources[0] === taskArn)).toHaveLength(7);
  });

  it('makes RunTask idempotent per clientToken and cluster', async () => {
    await stack.client.send(new CreateClusterCommand({ clusterName: 'other' }));
    const input = fargateRun({
      clientToken: 'steward-web-slot-3-gen-1',
      startedBy: 'idem',
      count: 2,
    });
    const first = await stack.client.send(new RunTaskCommand(input));
    const arns = first.tasks?.map((t) => t.taskArn);
    expect(arns).toHaveLength(2);

    const retry = await stack.client.send(new RunTaskCommand({ ...input }));
    expect(retry.tasks?.map((t) => t.taskArn)).toEqual(arns);
    const listed = await stack.client.send(new ListTasksCommand({ startedBy: 'idem' }));
    expect(listed.taskArns?.sort()).toEqual([...(arns ?? [])].sort());

    const conflict = await errorOf(stack.client.send(new RunTaskCommand({ ...input, count: 1 })));
    expect(conflict.name).toBe('ConflictException');
    expect(conflict.resourceIds).toEqual(arns);

    // Same token in another cluster is a different request.
    const elsewhere = await stack.client.send(new RunTaskCommand({ ...input, cluster: 'other' }));
    expect(elsewhere.tasks?.[0]?.clusterArn).toBe(
      'arn:aws:ecs:us-east-1:000000000000:cluster/other',
    );
    expect(elsewhere.tasks?.map((t) => t.taskArn)).not.toEqual(arns);
  });

  it('rejects out-of-range counts and batch sizes with InvalidParameterException', async () => {
    const eleven = await errorOf(stack.client.send(new RunTaskCommand(fargateRun({ count: 11 }))));
    expect(eleven.name).toBe('InvalidParameterException');
    const zero = await errorOf(stack.client.send(new RunTaskCommand(fargateRun({ count: 0 }))));
    expect(zero.name).toBe('InvalidParameterException');
    const tasks = Array.from({ length: 101 }, (_, i) => i.toString(16).padStart(32, '0'));
    const describe101 = await errorOf(stack.client.send(new DescribeTasksCommand({ tasks })));
    expect(describe101.name).toBe('InvalidParameterException');
    const longStartedBy = await errorOf(
      stack.client.send(new RunTaskCommand(fargateRun({ startedBy: 'x'.repeat(129) }))),
    );
    expect(longStartedBy.name).toBe('InvalidParameterException');
  });

  it('reports unknown clusters, missing network configuration and missing capacity like ECS', async () => {
    const run = await errorOf(
      stack.client.send(new RunTaskCommand(fargateRun({ cluster: 'nope' }))),
    );
    expect(run.name).toBe('ClusterNotFoundException');
    expect(run.message).toBe('Cluster not found.');
    const list = await errorOf(stack.client.send(new ListTasksCommand({ cluster: 'nope' })));
    expect(list.name).toBe('ClusterNotFoundException');

    const noNetwork = await errorOf(
      stack.client.send(new RunTaskCommand({ taskDefinition: 'web', launchType: 'FARGATE' })),
    );
    expect(noNetwork.name).toBe('InvalidParameterException');
    expect(noNetwork.message).toContain("networkMode 'awsvpc'");

    const ec2 = await errorOf(
      stack.client.send(new RunTaskCommand(fargateRun({ launchType: 'EC2' }))),
    );
    expect(ec2.message).toBe('No Container Instances were found in your cluster.');

    const both = await errorOf(
      stack.client.send(
        new RunTaskCommand(
          fargateRun({
            capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
          }),
        ),
      ),
    );
    expect(both.name).toBe('InvalidParameterException');

    const unknownTd = await errorOf(
      stack.client.send(new RunTaskCommand(fargateRun({ taskDefinition: 'does-not-exist' }))),
    );
    expect(unknownTd.name).toBe('ClientException');
  });

  it('places tasks on FARGATE_SPOT through a capacity provider strategy', async () => {
    const { launchType: _omit, ...input } = fargateRun();
    const out = await stack.client.send(
      new RunTaskCommand({
        ...input,
        count: 5,
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE', base: 1, weight: 0 },
          { capacityProvider: 'FARGATE_SPOT', weight: 1 },
        ],
      }),
    );
    expect(out.tasks?.map((t) => t.capacityProviderName)).toEqual([
      'FARGATE',
      'FARGATE_SPOT',
      'FARGATE_SPOT',
      'FARGATE_SPOT',
      'FARGATE_SPOT',
    ]);
    expect(out.tasks?.every((t) => t.launchType === 'FARGATE')).toBe(true);
  });

  it('paginates ListTasks with maxResults and an opaque nextToken', async () => {
    const out = await stack.client.send(
      new RunTaskCommand(fargateRun({ count: 10, startedBy: 'pages' })),
    );
    const expected = (out.tasks ?? []).map((t) => t.taskArn).sort();
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await stack.client.send(
        new ListTasksCommand({
          startedBy: 'pages',
          maxResults: 3,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      pageSizes.push(page.taskArns?.length ?? 0);
      seen.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(pageSizes).toEqual([3, 3, 3, 1]);
    expect(seen.sort()).toEqual(expected);

    const bad = await errorOf(stack.client.send(new ListTasksCommand({ nextToken: 'garbage' })));
    expect(bad.name).toBe('InvalidParameterException');
    const tooBig = await errorOf(stack.client.send(new ListTasksCommand({ maxResults: 101 })));
    expect(tooBig.name).toBe('InvalidParameterException');
    const stoppedNone = await stack.client.send(
      new ListTasksCommand({ startedBy: 'pages', desiredStatus: 'STOPPED' }),
    );
    expect(stoppedNone.taskArns).toEqual([]);
  });

  it('killTask makes the essential container exit and the task stop', async () => {
    const taskArn = await runOne({ client: stack.client, input: { startedBy: 'kill' } });
    await waitForStatus({ client: stack.client, taskArn, status: 'RUNNING' });
    stack.emulator.killTask({
      task: taskArn.split('/').at(-1) ?? '',
      exitCode: 137,
      reason: 'OOM',
    });
    const task = await waitForStatus({ client: stack.client, taskArn, status: 'STOPPED' });
    expect(task).toMatchObject({
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
    });
    expect(task.containers?.[0]).toMatchObject({
      exitCode: 137,
      reason: 'OOM',
      lastStatus: 'STOPPED',
    });
    const listed = await stack.client.send(
      new ListTasksCommand({ startedBy: 'kill', desiredStatus: 'STOPPED' }),
    );
    expect(listed.taskArns).toEqual([taskArn]);
  });

  it('answers unknown operations and malformed bodies with JSON 1.1 errors', async () => {
    const call = async (o: { target: string; body: string }) => {
      const res = await fetch(stack.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': o.target },
        body: o.body,
      });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
    };
    const unknown = await call({
      target: 'AmazonEC2ContainerServiceV20141113.Explode',
      body: '{}',
    });
    expect(unknown).toMatchObject({
      status: 400,
      type: 'application/x-amz-json-1.1',
      body: { __type: 'UnknownOperationException' },
    });
    const badJson = await call({
      target: 'AmazonEC2ContainerServiceV20141113.ListTasks',
      body: '{',
    });
    expect(badJson.status).toBe(400);
    const wrongType = await call({
      target: 'AmazonEC2ContainerServiceV20141113.RunTask',
      body: JSON.stringify({ taskDefinition: 'web', count: 'two' }),
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({ __type: 'SerializationException' });
    const missing = await call({
      target: 'AmazonEC2ContainerServiceV20141113.RunTask',
      body: '{}',
    });
    expect(missing.body).toMatchObject({ __type: 'InvalidParameterException' });
    expect(String((missing.body as { message: string }).message)).toContain('taskDefinition');
  });
});

describe('ECS emulator persistence', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecs-emulator-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps clusters, task definitions and tasks across a restart and resumes lifecycles', async () => {
    const stateFile = join(dir, 'ecs-state.json');
    // Slow steps in the first process so the second task is surely mid-lifecycle at close.
    const first = await startStack({ stateFile, stepDelayMs: 150 });
    await first.client.send(new CreateClusterCommand({ clusterName: 'kept' }));
    await first.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
    const runningArn = await runOne({ client: first.client, input: { cluster: 'kept' } });
    await waitForStatus({
      client: first.client,
      taskArn: runningArn,
      status: 'RUNNING',
      cluster: 'kept',
    });
    // Stopped mid-lifecycle: the next process must finish it.
    const midArn = await runOne({ client: first.client, input: { cluster: 'kept' } });
    await first.stop();

    const second = await startStack({ stateFile });
    try {
      const running = await describeOne({
        client: second.client,
        taskArn: runningArn,
        cluster: 'kept',
      });
      expect(running).toMatchObject({ lastStatus: 'RUNNING', version: 3 });
      const resumed = await waitForStatus({
        client: second.client,
        taskArn: midArn,
        status: 'RUNNING',
        cluster: 'kept',
      });
      expect(resumed.version).toBe(3);
      // It resumes where it left off: no replayed PROVISIONING, just the remaining steps.
      expect(
        second.events.filter((e) => e.resources[0] === midArn).map((e) => e.detail.lastStatus),
      ).toEqual(['PENDING', 'RUNNING']);
      const td = await second.client.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: 'web' }),
      );
      expect(td.taskDefinition?.revision).toBe(1);
    } finally {
      await second.stop();
    }
  });
});

describe('ECS emulator retention of stopped tasks', () => {
  it('forgets STOPPED tasks an hour after they stopped, by the emulator clock', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const stack = await startStack({ now: () => clock });
    try {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      const taskArn = await runOne({ client: stack.client, input: { startedBy: 'retention' } });
      await waitForStatus({ client: stack.client, taskArn, status: 'RUNNING' });
      await stack.client.send(new StopTaskCommand({ task: taskArn }));
      const stopped = await waitForStatus({ client: stack.client, taskArn, status: 'STOPPED' });
      expect(stopped.stoppedReason).toBe('Task stopped by user');
      expect(stopped.stoppedAt?.getTime()).toBe(clock);

      clock += 59 * 60_000;
      const stillThere = await stack.client.send(
        new ListTasksCommand({ startedBy: 'retention', desiredStatus: 'STOPPED' }),
      );
      expect(stillThere.taskArns).toEqual([taskArn]);

      clock += 2 * 60_000;
      const gone = await stack.client.send(new DescribeTasksCommand({ tasks: [taskArn] }));
      expect(gone.tasks).toEqual([]);
      expect(gone.failures).toEqual([{ arn: taskArn, reason: 'MISSING' }]);
      const listed = await stack.client.send(
        new ListTasksCommand({ startedBy: 'retention', desiredStatus: 'STOPPED' }),
      );
      expect(listed.taskArns).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});
