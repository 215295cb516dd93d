/**
 * The ECS adapter against the local ECS emulator, over real HTTP with the real SDK client.
 */

import {
  DescribeTasksCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EcsEmulator } from '../../local/ecs/emulator';
import { makeEcsSdkCluster } from '../../shared/adapters/ecs-sdk-cluster';
import type { EcsCluster, LaunchRequest } from '../../shared/ports/ecs-cluster';
import {
  type EmulatorServer,
  registerFargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';
import { waitFor } from '../support/wait';

let stack: EmulatorServer;
let emulator: EcsEmulator;
let client: ECSClient;
let cluster: EcsCluster;

const network = { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } };
const request = (overrides: Partial<LaunchRequest> = {}): LaunchRequest => ({
  cluster: 'default',
  taskDefinition: 'pair:1',
  launchType: 'FARGATE',
  networkConfiguration: network,
  startedBy: 'steward/pair',
  clientToken: 'stw-token-0',
  slot: 0,
  deployment: 1,
  serviceName: 'pair',
  ...overrides,
});

beforeAll(async () => {
  // The SDK's default retries, and no event capture.
  stack = await startEmulatorServer({ stepDelayMs: 10, capture: 'none' });
  ({ emulator, client } = stack);
  cluster = makeEcsSdkCluster({ client });
  await registerFargateTaskDefinition({
    client,
    family: 'pair',
    containers: [
      { name: 'app', image: 'app:1', essential: true },
      { name: 'sidecar', image: 'sidecar:1', essential: false },
    ],
  });
});

afterAll(async () => {
  await stack.stop();
});

describe('launch', () => {
  it('starts one task with its slot in every container and as a tag', async () => {
    const result = await cluster.launch(request({ clientToken: 'stw-slot-3', slot: 3 }));
    if (!result.ok) throw new Error(result.reason);
    expect(result.task).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING' });
    expect(result.task.taskArn).toMatch(
      /^arn:aws:ecs:us-east-1:\d{12}:task\/default\/[0-9a-f]{32}$/,
    );
    const described = await client.send(
      new DescribeTasksCommand({ tasks: [result.task.taskArn], include: ['TAGS'] }),
    );
    const task = described.tasks?.[0];
    expect(task?.startedBy).toBe('steward/pair');
    expect(task?.tags).toEqual(
      expect.arrayContaining([
        { key: 'steward:slot', value: '3' },
        { key: 'steward:service', value: 'pair' },
      ]),
    );
    const env = (task?.overrides?.containerOverrides ?? []).map((c) => [
      c.name,
      c.environment?.find((e) => e.name === 'STEWARD_TASK_INDEX')?.value,
    ]);
    expect(env).toEqual([
      ['app', '3'],
      ['sidecar', '3'],
    ]);
  });

  it("passes the service's launch fields to RunTask and marks the deployment and a Spot fallback", async () => {
    const { launchType: _none, ...withoutLaunchType } = request();
    const result = await cluster.launch({
      ...withoutLaunchType,
      ...{
        clientToken: 'stw-fields',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
        platformVersion: '1.4.0',
        tags: [{ key: 'team', value: 'payments' }],
        enableExecuteCommand: true,
        deployment: 7,
        fallback: true,
      },
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.task).toMatchObject({ deployment: 7, fallback: true, slot: 0 });
    const described = await client.send(
      new DescribeTasksCommand({ tasks: [result.task.taskArn], include: ['TAGS'] }),
    );
    const task = described.tasks?.[0];
    expect(task).toMatchObject({
      capacityProviderName: 'FARGATE',
      platformVersion: '1.4.0',
      enableExecuteCommand: true,
    });
    expect(task?.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'payments' },
        { key: 'steward:service', value: 'pair' },
      ]),
    );
    const env = task?.overrides?.containerOverrides?.[0]?.environment ?? [];
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'STEWARD_DEPLOYMENT', value: '7' },
        { name: 'STEWARD_FALLBACK', value: '1' },
      ]),
    );
  });

  it('returns the same task when a launch is retried with the same token', async () => {
    const first = await cluster.launch(request({ clientToken: 'stw-retry' }));
    const again = await cluster.launch(request({ clientToken: 'stw-retry' }));
    if (!first.ok || !again.ok) throw new Error('launch failed');
    expect(again.task.taskArn).toBe(first.task.taskArn);
    const running = await cluster.listRunningTaskArns('default');
    expect(running.filter((arn) => arn === first.task.taskArn)).toHaveLength(1);
  });

  it.each([
    {
      what: 'an unknown task definition',
      req: { clientToken: 'stw-bad-td', taskDefinition: 'nope:1' },
      reason: /^ClientException: /,
    },
    {
      what: 'Fargate without a network',
      req: { clientToken: 'stw-no-net', networkConfiguration: undefined },
      reason: /^InvalidParameterException: .*[Nn]etwork/,
    },
    {
      what: 'an unknown cluster',
      req: { clientToken: 'stw-no-cluster', cluster: 'nowhere' },
      reason: /^ClusterNotFoundException: /,
    },
  ])('reports $what as a failed launch that a retry cannot fix', async ({ req, reason }) => {
    const { networkConfiguration, ...rest } = { ...request(), ...req };
    const result = await cluster.launch(
      networkConfiguration ? { ...rest, networkConfiguration } : rest,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.retryable).toBe(false);
    expect(result.reason).toMatch(reason);
  });
});

describe('launches in parallel', () => {
  it('describe a new task definition once, not once per launch', async () => {
    await client.send(
      new RegisterTaskDefinitionCommand({
        family: 'fresh',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'app', image: 'app:1', essential: true }],
      }),
    );
    emulator.resetCounters();
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((slot) =>
        cluster.launch(
          request({ taskDefinition: 'fresh:1', clientToken: `stw-par-${slot}`, slot }),
        ),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(emulator.counters().calls).toMatchObject({ DescribeTaskDefinition: 1, RunTask: 5 });
  });
});

describe('stop, list and describe', () => {
  it('stops a task with the reason shown by DescribeTasks', async () => {
    const launched = await cluster.launch(request({ clientToken: 'stw-to-stop' }));
    if (!launched.ok) throw new Error(launched.reason);
    await cluster.stop({
      cluster: 'default',
      taskArn: launched.task.taskArn,
      reason: `Steward: ${'x'.repeat(300)}`,
    });
    const stopped = await waitFor({
      what: 'the task to stop',
      probe: async () => {
        const d = await cluster.describe({ cluster: 'default', taskArns: [launched.task.taskArn] });
        return d.tasks[0]?.task.lastStatus === 'STOPPED' ? d.tasks[0] : undefined;
      },
    });
    expect(stopped.startedBy).toBe('steward/pair');
    expect(stopped.task.stopCode).toBe('UserInitiated');
    expect(stopped.task.stoppedReason).toHaveLength(255);
  });

  it('lists every running task across pages and describes more than 100 in chunks', async () => {
    for (let i = 0; i < 11; i++) {
      await client.send(
        new RunTaskCommand({
          taskDefinition: 'pair:1',
          count: 10,
          launchType: 'FARGATE',
          networkConfiguration: network,
          startedBy: 'bulk',
        }),
      );
    }
    const running = await cluster.listRunningTaskArns('default');
    expect(running.length).toBeGreaterThanOrEqual(110);
    expect(new Set(running).size).toBe(running.length);
    const ghosts = Array.from(
      { length: 40 },
      (_, i) =>
        `arn:aws:ecs:us-east-1:000000000000:task/default/${i.toString(16).padStart(32, '0')}`,
    );
    const described = await cluster.describe({
      cluster: 'default',
      taskArns: [...running, ...ghosts],
    });
    expect(described.tasks).toHaveLength(running.length);
    expect(described.missing.sort()).toEqual([...ghosts].sort());
    expect(described.tasks.filter((t) => t.startedBy === 'bulk')).toHaveLength(110);
  });
});
