import {
  DescribeTasksCommand,
  type ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from '../../local/ecs/emulator';
import {
  type EmulatorServer,
  registerFargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';

const STEP_MS = 15;

type Stack = EmulatorServer;

/** A real HTTP server on loopback in front of a fresh emulator, and an SDK client for it. */
const startStack = (): Promise<Stack> =>
  startEmulatorServer({ stepDelayMs: STEP_MS, maxAttempts: 1 });

const run = async (o: { client: ECSClient; family: string }): Promise<string> => {
  const out = await o.client.send(
    new RunTaskCommand({
      taskDefinition: o.family,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a1'] } },
    }),
  );
  const arn = out.tasks?.[0]?.taskArn;
  if (!arn) throw new Error('RunTask returned no task');
  return arn;
};

const describeOne = async (o: { client: ECSClient; taskArn: string }): Promise<Task> => {
  const out = await o.client.send(new DescribeTasksCommand({ tasks: [o.taskArn] }));
  const task = out.tasks?.[0];
  if (!task) throw new Error(`task ${o.taskArn} is missing`);
  return task;
};

/** Polls DescribeTasks until `done` holds (bounded: 3 s). */
const waitFor = async (o: {
  client: ECSClient;
  taskArn: string;
  done: (task: Task) => boolean;
}): Promise<Task> => {
  const deadline = Date.now() + 3000;
  for (;;) {
    const task = await describeOne(o);
    if (o.done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${o.taskArn} stuck at ${task.lastStatus}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const eventsOf = (o: { stack: Stack; taskArn: string }): EventBridgeEvent[] =>
  o.stack.events.filter((e) => e.resources[0] === o.taskArn);

type Detail = {
  version: number;
  lastStatus: string;
  desiredStatus: string;
  startedAt?: string;
  containers: { name: string; lastStatus: string; exitCode?: number; reason?: string }[];
};
const detailOf = (e: EventBridgeEvent): Detail => e.detail as unknown as Detail;

const PULL_FAILURE =
  'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nope:latest: not found';

describe('ECS emulator simulated workloads (docker labels)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('passes a load-balanced task through ACTIVATING and DEACTIVATING, as ECS does for target groups', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'behind-alb',
      containers: [
        {
          name: 'web',
          image: 'web:1',
          essential: true,
          dockerLabels: { 'steward.emulator/load-balanced': 'true' },
        },
      ],
    });
    const taskArn = await run({ client: stack.client, family: 'behind-alb' });
    await waitFor({ client: stack.client, taskArn, done: (t) => t.lastStatus === 'RUNNING' });
    await stack.client.send(new StopTaskCommand({ task: taskArn, reason: 'drain' }));
    await waitFor({ client: stack.client, taskArn, done: (t) => t.lastStatus === 'STOPPED' });
    const statuses = eventsOf({ stack, taskArn }).map(
      (e) => `${detailOf(e).lastStatus}/${detailOf(e).desiredStatus}`,
    );
    expect(statuses).toEqual([
      'PROVISIONING/RUNNING',
      'PENDING/RUNNING',
      'ACTIVATING/RUNNING',
      'RUNNING/RUNNING',
      'RUNNING/STOPPED',
      'DEACTIVATING/STOPPED',
      'STOPPING/STOPPED',
      'DEPROVISIONING/STOPPED',
      'STOPPED/STOPPED',
    ]);
    // A task without the label goes straight from PENDING to RUNNING.
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'plain',
      containers: [{ name: 'web', image: 'web:1', essential: true }],
    });
    const plain = await run({ client: stack.client, family: 'plain' });
    await waitFor({
      client: stack.client,
      taskArn: plain,
      done: (t) => t.lastStatus === 'RUNNING',
    });
    expect(eventsOf({ stack, taskArn: plain }).map((e) => detailOf(e).lastStatus)).not.toContain(
      'ACTIVATING',
    );
  });

  it('rejects a load-balanced label that is not true or false', async () => {
    await expect(
      registerFargateTaskDefinition({
        client: stack.client,
        family: 'bad-lb',
        containers: [
          {
            name: 'web',
            image: 'web:1',
            dockerLabels: { 'steward.emulator/load-balanced': 'yes' },
          },
        ],
      }),
    ).rejects.toMatchObject({ name: 'ClientException' });
  });

  it('stops the task when an essential container exits after exit-after-ms with its exit code', async () => {
    const td = await registerFargateTaskDefinition({
      client: stack.client,
      family: 'exits',
      containers: [
        {
          name: 'app',
          image: 'busybox',
          dockerLabels: {
            'steward.emulator/exit-after-ms': '50',
            'steward.emulator/exit-code': '3',
          },
        },
        { name: 'sidecar', image: 'envoy', essential: false },
      ],
    });
    // The behaviour is visible to anyone reading the task definition.
    expect(td.taskDefinition?.containerDefinitions?.[0]?.dockerLabels).toEqual({
      'steward.emulator/exit-after-ms': '50',
      'steward.emulator/exit-code': '3',
    });

    const taskArn = await run({ client: stack.client, family: 'exits' });
    const final = await waitFor({
      client: stack.client,
      taskArn,
      done: (t) => t.lastStatus === 'STOPPED',
    });
    expect(final).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      version: 7,
    });
    expect(final.startedAt).toBeInstanceOf(Date);
    const byName = new Map(final.containers?.map((c) => [c.name, c]));
    expect(byName.get('app')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 3 });
    // The other container is stopped as by StopTask.
    expect(byName.get('sidecar')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 143 });
    // It ran at least exit-after-ms before the exit was recorded.
    expect(
      (final.stoppingAt?.getTime() ?? 0) - (final.startedAt?.getTime() ?? 0),
    ).toBeGreaterThanOrEqual(50);

    const mine = eventsOf({ stack, taskArn }).map(detailOf);
    expect(mine.map((d) => d.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(mine.map((d) => `${d.lastStatus}/${d.desiredStatus}`)).toEqual([
      'PROVISIONING/RUNNING',
      'PENDING/RUNNING',
      'RUNNING/RUNNING',
      'RUNNING/STOPPED',
      'STOPPING/STOPPED',
      'DEPROVISIONING/STOPPED',
      'STOPPED/STOPPED',
    ]);
    // The exit itself is one change: the app container stopped with its code, the task asked to stop.
    expect(mine[3]?.containers.find((c) => c.name === 'app')).toMatchObject({
      lastStatus: 'STOPPED',
      exitCode: 3,
    });
    expect(mine[3]?.containers.find((c) => c.name === 'sidecar')?.lastStatus).toBe('RUNNING');
  });

  it('defaults the exit code to 1', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'exits-default',
      containers: [
        { name: 'app', image: 'busybox', dockerLabels: { 'steward.emulator/exit-after-ms': '0' } },
      ],
    });
    const taskArn = await run({ client: stack.client, family: 'exits-default' });
    const final = await waitFor({
      client: stack.client,
      taskArn,
      done: (t) => t.lastStatus === 'STOPPED',
    });
    expect(final.stopCode).toBe('EssentialContainerExited');
    expect(final.containers?.[0]?.exitCode).toBe(1);
  });

  it('keeps the task RUNNING when a non-essential container exits: one change, one event', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'sidecar-exits',
      containers: [
        { name: 'app', image: 'nginx' },
        {
          name: 'init',
          image: 'busybox',
          essential: false,
          dockerLabels: {
            'steward.emulator/exit-after-ms': '30',
            'steward.emulator/exit-code': '0',
          },
        },
      ],
    });
    const taskArn = await run({ client: stack.client, family: 'sidecar-exits' });
    const after = await waitFor({
      client: stack.client,
      taskArn,
      done: (t) => t.containers?.find((c) => c.name === 'init')?.lastStatus === 'STOPPED',
    });
    expect(after).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 4 });
    expect(after.stopCode).toBeUndefined();
    const byName = new Map(after.containers?.map((c) => [c.name, c]));
    expect(byName.get('init')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(byName.get('app')?.lastStatus).toBe('RUNNING');
    expect(byName.get('app')?.exitCode).toBeUndefined();

    // Nothing else happens on its own.
    await new Promise((r) => setTimeout(r, 5 * STEP_MS));
    const mine = eventsOf({ stack, taskArn }).map(detailOf);
    expect(mine.map((d) => `${d.version}:${d.lastStatus}/${d.desiredStatus}`)).toEqual([
      '1:PROVISIONING/RUNNING',
      '2:PENDING/RUNNING',
      '3:RUNNING/RUNNING',
      '4:RUNNING/RUNNING',
    ]);

    await stack.client.send(new StopTaskCommand({ task: taskArn }));
    const final = await waitFor({
      client: stack.client,
      taskArn,
      done: (t) => t.lastStatus === 'STOPPED',
    });
    const finalByName = new Map(final.containers?.map((c) => [c.name, c]));
    expect(finalByName.get('app')?.exitCode).toBe(143);
    expect(finalByName.get('init')?.exitCode).toBe(0);
    expect(final.stopCode).toBe('UserInitiated');
  });

  it('fails to start: never RUNNING, no startedAt, TaskFailedToStart with the label as reason', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'bad-image',
      containers: [
        {
          name: 'app',
          image: 'docker.io/library/nope:latest',
          dockerLabels: { 'steward.emulator/fail-to-start': PULL_FAILURE },
        },
      ],
    });
    const taskArn = await run({ client: stack.client, family: 'bad-image' });
    const final = await waitFor({
      client: stack.client,
      taskArn,
      done: (t) => t.lastStatus === 'STOPPED',
    });
    expect(final).toMatchObject({
      desiredStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: PULL_FAILURE,
    });
    expect(final.startedAt).toBeUndefined();
    expect(final.containers?.[0]).toMatchObject({ lastStatus: 'STOPPED', reason: PULL_FAILURE });
    expect(final.containers?.[0]?.exitCode).toBeUndefined();

    const mine = eventsOf({ stack, taskArn }).map(detailOf);
    expect(mine.map((d) => d.version)).toEqual(mine.map((_, i) => i + 1));
    expect(mine.map((d) => d.lastStatus)).not.toContain('RUNNING');
    expect(mine.every((d) => d.startedAt === undefined)).toBe(true);
    expect(mine.map((d) => `${d.lastStatus}/${d.desiredStatus}`)).toEqual([
      'PROVISIONING/RUNNING',
      'PENDING/RUNNING',
      'PENDING/STOPPED',
      'STOPPING/STOPPED',
      'DEPROVISIONING/STOPPED',
      'STOPPED/STOPPED',
    ]);
  });

  it('rejects invalid workload labels with a ClientException naming the label', async () => {
    const attempt = async (labels: Record<string, string>) => {
      try {
        await registerFargateTaskDefinition({
          client: stack.client,
          family: 'bad-labels',
          containers: [{ name: 'app', image: 'busybox', dockerLabels: labels }],
        });
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected RegisterTaskDefinition to fail');
    };
    const nonNumeric = await attempt({ 'steward.emulator/exit-after-ms': 'soon' });
    expect(nonNumeric.name).toBe('ClientException');
    expect(nonNumeric.message).toContain('steward.emulator/exit-after-ms');
    const badCode = await attempt({
      'steward.emulator/exit-after-ms': '10',
      'steward.emulator/exit-code': '-1',
    });
    expect(badCode.name).toBe('ClientException');
    expect(badCode.message).toContain('steward.emulator/exit-code');
    const typo = await attempt({ 'steward.emulator/exit-after': '10' });
    expect(typo.name).toBe('ClientException');
    expect(typo.message).toContain('steward.emulator/exit-after');
    // Other labels are the workload's own business.
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'other-labels',
      containers: [{ name: 'app', image: 'busybox', dockerLabels: { team: 'payments' } }],
    });
  });
});
