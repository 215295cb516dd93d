import {
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EcsEmulatorOptions } from '../../local/ecs/emulator';
import {
  type EmulatorServer,
  registerFargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';

const STEP_MS = 5;
const SPOT_REASON = 'Your Spot Task was interrupted.';
const NO_CAPACITY =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

type Stack = EmulatorServer & {
  /** Moves the emulator clock (real time plus an offset) forward. */
  advance: (ms: number) => void;
};

/** A real HTTP server on loopback in front of a fresh emulator whose clock can jump ahead. */
const startStack = async (options: EcsEmulatorOptions = {}): Promise<Stack> => {
  let offset = 0;
  const server = await startEmulatorServer({
    stepDelayMs: STEP_MS,
    now: () => Date.now() + offset,
    maxAttempts: 1,
    ...options,
  });
  return {
    ...server,
    advance: (ms) => {
      offset += ms;
    },
  };
};

const withStack = async (
  options: EcsEmulatorOptions,
  body: (stack: Stack) => Promise<void>,
): Promise<void> => {
  const stack = await startStack(options);
  try {
    await body(stack);
  } finally {
    await stack.stop();
  }
};

const NETWORK: RunTaskCommandInput['networkConfiguration'] = {
  awsvpcConfiguration: { subnets: ['subnet-a1'] },
};

const runSpot = async (o: { client: ECSClient; family: string; count?: number }) =>
  o.client.send(
    new RunTaskCommand({
      taskDefinition: o.family,
      count: o.count ?? 1,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      networkConfiguration: NETWORK,
    }),
  );

const describeOne = async (o: { client: ECSClient; taskArn: string }): Promise<Task> => {
  const out = await o.client.send(new DescribeTasksCommand({ tasks: [o.taskArn] }));
  const task = out.tasks?.[0];
  if (!task) throw new Error(`task ${o.taskArn} is missing`);
  return task;
};

/** Polls DescribeTasks until `done` holds (bounded: 5 s). */
const waitFor = async (o: {
  client: ECSClient;
  taskArn: string;
  done: (task: Task) => boolean;
}): Promise<Task> => {
  const deadline = Date.now() + 5000;
  for (;;) {
    const task = await describeOne(o);
    if (o.done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${o.taskArn} stuck at ${task.lastStatus}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const isRunning = (t: Task): boolean => t.lastStatus === 'RUNNING';

type Detail = {
  version: number;
  lastStatus: string;
  desiredStatus: string;
  stopCode?: string;
  stoppedReason?: string;
  healthStatus?: string;
  containers: { healthStatus?: string }[];
};
const detailsOf = (o: { stack: Stack; taskArn: string }): Detail[] =>
  o.stack.events
    .filter((e) => e.resources[0] === o.taskArn)
    .map((e) => e.detail as unknown as Detail);

const rejection = async (p: Promise<unknown>): Promise<Error> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error,
  );

describe('ECS emulator Fargate Spot', () => {
  it('interrupts with a two-minute warning first: RUNNING, desired STOPPED, SpotInterruption', async () => {
    await withStack({}, async (stack) => {
      await registerFargateTaskDefinition({
        client: stack.client,
        family: 'spot',
        containers: [{ name: 'app', image: 'nginx' }],
      });
      const out = await runSpot({ client: stack.client, family: 'spot' });
      const taskArn = out.tasks?.[0]?.taskArn ?? '';
      expect(out.tasks?.[0]?.capacityProviderName).toBe('FARGATE_SPOT');
      await waitFor({ client: stack.client, taskArn, done: isRunning });

      expect(stack.emulator.interruptSpot({ task: taskArn })).toEqual([taskArn]);
      const warned = await describeOne({ client: stack.client, taskArn });
      expect(warned).toMatchObject({
        lastStatus: 'RUNNING',
        desiredStatus: 'STOPPED',
        stopCode: 'SpotInterruption',
        stoppedReason: SPOT_REASON,
        version: 4,
      });
      // Far more than the lifecycle steps later, the task still runs out its warning at scale 1.
      await new Promise((r) => setTimeout(r, 40 * STEP_MS));
      expect(await describeOne({ client: stack.client, taskArn })).toMatchObject({
        lastStatus: 'RUNNING',
        desiredStatus: 'STOPPED',
      });
      const details = detailsOf({ stack, taskArn });
      expect(details.map((d) => `${d.version}:${d.lastStatus}/${d.desiredStatus}`)).toEqual([
        '1:PROVISIONING/RUNNING',
        '2:PENDING/RUNNING',
        '3:RUNNING/RUNNING',
        '4:RUNNING/STOPPED',
      ]);
      expect(details[3]).toMatchObject({
        stopCode: 'SpotInterruption',
        stoppedReason: SPOT_REASON,
      });

      // A StopTask during the warning changes nothing: the interruption stays the reason.
      await stack.client.send(new StopTaskCommand({ task: taskArn }));
      expect((await describeOne({ client: stack.client, taskArn })).stopCode).toBe(
        'SpotInterruption',
      );
      // Only RUNNING Spot tasks can be interrupted.
      expect(() => stack.emulator.interruptSpot({ task: taskArn })).toThrow('not RUNNING');
    });
  });

  it('at timeScale 60 the two-minute warning takes about two seconds, then the task stops', async () => {
    await withStack({ timeScale: 60, now: Date.now }, async (stack) => {
      await registerFargateTaskDefinition({
        client: stack.client,
        family: 'spot',
        containers: [{ name: 'app', image: 'nginx' }],
      });
      const out = await runSpot({ client: stack.client, family: 'spot', count: 3 });
      const arns = out.tasks?.map((t) => t.taskArn ?? '') ?? [];
      for (const taskArn of arns) await waitFor({ client: stack.client, taskArn, done: isRunning });

      // count picks the oldest RUNNING Spot tasks.
      const interrupted = stack.emulator.interruptSpot({ count: 2 });
      expect(interrupted).toHaveLength(2);
      const [taskArn = ''] = interrupted;
      // Half a real second is 30 emulated seconds: well inside the warning.
      await new Promise((r) => setTimeout(r, 500));
      expect(await describeOne({ client: stack.client, taskArn })).toMatchObject({
        lastStatus: 'RUNNING',
        desiredStatus: 'STOPPED',
      });
      const final = await waitFor({
        client: stack.client,
        taskArn,
        done: (t) => t.lastStatus === 'STOPPED',
      });
      expect(final).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: SPOT_REASON });
      expect(
        detailsOf({ stack, taskArn }).map((d) => `${d.lastStatus}/${d.desiredStatus}`),
      ).toEqual([
        'PROVISIONING/RUNNING',
        'PENDING/RUNNING',
        'RUNNING/RUNNING',
        'RUNNING/STOPPED',
        'STOPPING/STOPPED',
        'DEPROVISIONING/STOPPED',
        'STOPPED/STOPPED',
      ]);
      const untouched = arns.find((a) => !interrupted.includes(a)) ?? '';
      expect((await describeOne({ client: stack.client, taskArn: untouched })).desiredStatus).toBe(
        'RUNNING',
      );
    });
  }, 10_000);

  it('answers a Spot shortage with capacity failures and launches again once capacity is back', async () => {
    await withStack({}, async (stack) => {
      await registerFargateTaskDefinition({
        client: stack.client,
        family: 'spot',
        containers: [{ name: 'app', image: 'nginx' }],
      });
      stack.emulator.setCapacity({ spotAvailable: false });
      const none = await runSpot({ client: stack.client, family: 'spot', count: 2 });
      expect(none.tasks).toEqual([]);
      expect(none.failures).toEqual([
        { arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default', reason: NO_CAPACITY },
        { arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default', reason: NO_CAPACITY },
      ]);
      // Fargate never substitutes on-demand capacity, but on-demand tasks of a mixed strategy launch.
      const mixed = await stack.client.send(
        new RunTaskCommand({
          taskDefinition: 'spot',
          count: 2,
          capacityProviderStrategy: [
            { capacityProvider: 'FARGATE', weight: 1 },
            { capacityProvider: 'FARGATE_SPOT', weight: 1 },
          ],
          networkConfiguration: NETWORK,
        }),
      );
      expect(mixed.tasks?.map((t) => t.capacityProviderName)).toEqual(['FARGATE']);
      expect(mixed.failures?.map((f) => f.reason)).toEqual([NO_CAPACITY]);
      const listed = await stack.client.send(new ListTasksCommand({}));
      expect(listed.taskArns).toHaveLength(1);

      stack.emulator.setCapacity({ spotAvailable: true });
      const back = await runSpot({ client: stack.client, family: 'spot' });
      expect(back.failures).toEqual([]);
      expect(back.tasks?.[0]?.capacityProviderName).toBe('FARGATE_SPOT');
      const onDemand = mixed.tasks?.[0]?.taskArn ?? '';
      expect(() => stack.emulator.interruptSpot({ task: onDemand })).toThrow(
        'does not run on FARGATE_SPOT',
      );
    });
  });
});

describe('ECS emulator health checks and simulated usage', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  const healthCheck = { command: ['CMD-SHELL', 'true'], interval: 5 };

  it('reports health from the label timeline in DescribeTasks, never in events', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'health',
      containers: [
        {
          name: 'app',
          image: 'nginx',
          healthCheck,
          dockerLabels: { 'steward.emulator/health': 'HEALTHY@0,UNHEALTHY@30000' },
        },
        // A bare status becomes known after the startPeriod (10 s).
        {
          name: 'slow',
          image: 'nginx',
          healthCheck: { ...healthCheck, startPeriod: 10 },
          dockerLabels: { 'steward.emulator/health': 'HEALTHY' },
        },
        // A non-essential container's health does not decide the task's.
        {
          name: 'sidecar',
          image: 'envoy',
          essential: false,
          healthCheck,
          dockerLabels: { 'steward.emulator/health': 'UNHEALTHY@0' },
        },
        { name: 'plain', image: 'busybox', essential: false },
      ],
    });
    const out = await stack.client.send(
      new RunTaskCommand({
        taskDefinition: 'health',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
      }),
    );
    const taskArn = out.tasks?.[0]?.taskArn ?? '';
    expect(out.tasks?.[0]?.healthStatus).toBe('UNKNOWN');
    const health = (t: Task): Record<string, string | undefined> => ({
      task: t.healthStatus,
      ...Object.fromEntries((t.containers ?? []).map((c) => [c.name, c.healthStatus])),
    });

    const running = await waitFor({ client: stack.client, taskArn, done: isRunning });
    expect(health(running)).toEqual({
      task: 'UNKNOWN',
      app: 'HEALTHY',
      slow: 'UNKNOWN',
      sidecar: 'UNHEALTHY',
      plain: 'UNKNOWN',
    });
    stack.advance(10_000);
    expect(health(await describeOne({ client: stack.client, taskArn }))).toMatchObject({
      task: 'HEALTHY',
      slow: 'HEALTHY',
    });
    stack.advance(20_000);
    const sick = await describeOne({ client: stack.client, taskArn });
    expect(health(sick)).toMatchObject({ task: 'UNHEALTHY', app: 'UNHEALTHY', slow: 'HEALTHY' });
    // Health changes are not state changes: no version bump, no event, no healthStatus in events.
    expect(sick.version).toBe(3);
    const details = detailsOf({ stack, taskArn });
    expect(details).toHaveLength(3);
    for (const d of details) {
      expect(d.healthStatus).toBeUndefined();
      for (const c of d.containers) expect(c.healthStatus).toBeUndefined();
    }
  });

  it('rejects invalid health and usage labels with a ClientException naming the label', async () => {
    const attempt = (o: { labels: Record<string, string>; withCheck?: boolean }) =>
      rejection(
        registerFargateTaskDefinition({
          client: stack.client,
          family: 'bad-labels',
          containers: [
            {
              name: 'app',
              image: 'busybox',
              dockerLabels: o.labels,
              ...(o.withCheck === false ? {} : { healthCheck }),
            },
          ],
        }),
      );
    for (const [labels, withCheck] of [
      [{ 'steward.emulator/health': 'SICK' }, true],
      [{ 'steward.emulator/health': 'HEALTHY@10,UNHEALTHY@5' }, true],
      [{ 'steward.emulator/health': 'HEALTHY' }, false],
      [{ 'steward.emulator/cpu-percent': '120' }, true],
      [{ 'steward.emulator/memory-percent': 'lots' }, true],
    ] as const) {
      const error = await attempt({ labels, withCheck });
      expect(error.name).toBe('ClientException');
      expect(error.message).toContain(Object.keys(labels)[0]);
    }
  });

  it('averages simulated CPU and memory over RUNNING tasks matching the filter', async () => {
    await registerFargateTaskDefinition({
      client: stack.client,
      family: 'busy',
      containers: [
        {
          name: 'app',
          image: 'nginx',
          dockerLabels: {
            'steward.emulator/cpu-percent': '10@0,80@60000',
            'steward.emulator/memory-percent': '50',
          },
        },
        {
          name: 'sidecar',
          image: 'envoy',
          dockerLabels: { 'steward.emulator/cpu-percent': '5' },
        },
      ],
    });
    const runBusy = async (o: { group: string; startedBy: string; count: number }) => {
      const out = await stack.client.send(
        new RunTaskCommand({
          taskDefinition: 'busy',
          launchType: 'FARGATE',
          networkConfiguration: NETWORK,
          ...o,
        }),
      );
      return out.tasks?.map((t) => t.taskArn ?? '') ?? [];
    };
    const a = await runBusy({ group: 'service:a', startedBy: 'svc-a', count: 2 });
    const b = await runBusy({ group: 'service:b', startedBy: 'svc-b', count: 1 });
    // Not RUNNING yet: nothing to average.
    expect(stack.emulator.usage({ serviceGroup: 'service:a' })).toEqual({
      tasks: 0,
      cpuPercent: 0,
      memoryPercent: 0,
    });
    for (const taskArn of [...a, ...b])
      await waitFor({ client: stack.client, taskArn, done: isRunning });

    // A task's use is the sum of its containers' labels.
    expect(stack.emulator.usage({ serviceGroup: 'service:a' })).toEqual({
      tasks: 2,
      cpuPercent: 15,
      memoryPercent: 50,
    });
    stack.advance(60_000);
    expect(stack.emulator.usage({ startedBy: 'svc-a' })).toEqual({
      tasks: 2,
      cpuPercent: 85,
      memoryPercent: 50,
    });
    await stack.client.send(new StopTaskCommand({ task: a[0] ?? '' }));
    await waitFor({
      client: stack.client,
      taskArn: a[0] ?? '',
      done: (t) => t.lastStatus === 'STOPPED',
    });
    expect(stack.emulator.usage({ serviceGroup: 'service:a', startedBy: 'svc-a' }).tasks).toBe(1);
    expect(stack.emulator.usage({ startedBy: 'svc-b' })).toMatchObject({
      tasks: 1,
      cpuPercent: 85,
    });
    expect(stack.emulator.usage({ serviceGroup: 'service:none' }).tasks).toBe(0);
  });
});
