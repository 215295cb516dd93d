import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { EcsEmulatorOptions } from '../../local/ecs/emulator';
import {
  type EmulatorServer,
  fargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';

// Lifecycle steps are irrelevant here; long ones keep tasks quietly in PROVISIONING.
const STEP_MS = 60_000;
const START = Date.UTC(2030, 0, 1);

type Stack = Omit<EmulatorServer, 'events'> & {
  /** Moves the frozen emulator clock forward. */
  advance: (ms: number) => void;
};

/** A real HTTP server on loopback in front of a fresh emulator on a frozen, controllable clock. */
const startStack = async (options: EcsEmulatorOptions = {}): Promise<Stack> => {
  let clock = START;
  // maxAttempts 1: the SDK would otherwise retry ThrottlingException on its own.
  const { emulator, client, endpoint, stop } = await startEmulatorServer({
    stepDelayMs: STEP_MS,
    now: () => clock,
    capture: 'none',
    maxAttempts: 1,
    ...options,
  });
  return {
    emulator,
    client,
    endpoint,
    advance: (ms) => {
      clock += ms;
    },
    stop,
  };
};

/** Runs a stack for one test and always stops it. */
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

const FARGATE_TD = fargateTaskDefinition({
  family: 'web',
  containers: [{ name: 'app', image: 'nginx:1.27' }],
});

const fargateRun = (extra: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput => ({
  taskDefinition: 'web',
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a1'] } },
  ...extra,
});

type Outcome = 'ok' | 'throttled';

/** 'throttled' for a ThrottlingException, 'ok' for an answer; any other error fails the test. */
const outcome = async (call: Promise<unknown>): Promise<Outcome> => {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if ((error as Error).name === 'ThrottlingException') return 'throttled';
    throw error;
  }
};

/** The error of a call expected to fail. */
const errorOf = async (call: Promise<unknown>): Promise<Error> => {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
};

/** How many calls in a row are answered before the first ThrottlingException (bounded). */
const untilThrottled = async (o: {
  call: () => Promise<unknown>;
  max?: number;
}): Promise<number> => {
  const max = o.max ?? 1000;
  for (let n = 0; n < max; n++) {
    if ((await outcome(o.call())) === 'throttled') return n;
  }
  throw new Error(`no ThrottlingException within ${max} calls`);
};

/**
 * Sustained rate: over `seconds` of simulated time in 100 ms steps, calls as fast as allowed after
 * every step; returns successful calls (times `perCall`, e.g. tasks per RunTask) per second.
 */
const sustainedRate = async (o: {
  stack: Stack;
  call: () => Promise<unknown>;
  seconds?: number;
  perCall?: number;
}): Promise<number> => {
  const seconds = o.seconds ?? 10;
  const stepMs = 100;
  let ok = 0;
  for (let t = 0; t < (seconds * 1000) / stepMs; t++) {
    o.stack.advance(stepMs);
    ok += await untilThrottled({ call: o.call });
  }
  return (ok * (o.perCall ?? 1)) / seconds;
};

type Figure = {
  bucket: string;
  burst: number;
  afterOneSecond?: number;
  sustainedPerSecond: number;
};
const figures: Figure[] = [];

const ANY_TASK = 'arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef';

describe('ECS emulator rate limits (token buckets on the emulator clock)', () => {
  afterAll(() => {
    const lines = figures.map(
      (f) =>
        `  ${f.bucket.padEnd(24)} burst before first throttle: ${String(f.burst).padStart(3)}` +
        (f.afterOneSecond === undefined ? '' : `, after +1 s: ${f.afterOneSecond}`) +
        `, sustained over simulated 10 s: ${f.sustainedPerSecond}/s\n`,
    );
    process.stdout.write(`ECS emulator measured throttle figures:\n${lines.join('')}`);
  });

  it('reads: 100 DescribeTasks, then ThrottlingException; +1 s allows 20 more, not 21', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      const describe = () => stack.client.send(new DescribeTasksCommand({ tasks: [ANY_TASK] }));
      const burst = await untilThrottled({ call: describe });
      expect(burst).toBe(100);

      const err = await errorOf(describe());
      expect(err.name).toBe('ThrottlingException');
      expect(err.message).toBe('Rate exceeded');
      expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(
        400,
      );
      // The wire format AWS uses.
      const raw = await fetch(stack.endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'AmazonEC2ContainerServiceV20141113.ListTasks',
        },
        body: '{}',
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
      // ListTasks shares the bucket.
      expect(await outcome(stack.client.send(new ListTasksCommand({})))).toBe('throttled');

      stack.advance(1000);
      const afterOneSecond = await untilThrottled({ call: describe });
      expect(afterOneSecond).toBe(20);

      const sustained = await sustainedRate({ stack, call: describe });
      expect(sustained).toBe(20);
      figures.push({ bucket: 'reads', burst, afterOneSecond, sustainedPerSecond: sustained });
    });
  });

  it('taskLifecycle: 100 StopTask calls, then throttled, and RunTask with them', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      const run = await stack.client.send(new RunTaskCommand(fargateRun({ startedBy: 'lc' })));
      const taskArn = run.tasks?.[0]?.taskArn ?? '';
      // Refill after the RunTask so the StopTask burst starts from a full bucket.
      stack.advance(10_000);
      // A repeated StopTask of the same task is a harmless 200 that still counts as a call.
      const stop = () => stack.client.send(new StopTaskCommand({ task: taskArn }));
      const burst = await untilThrottled({ call: stop });
      expect(burst).toBe(100);
      expect(await outcome(stack.client.send(new RunTaskCommand(fargateRun())))).toBe('throttled');

      stack.advance(1000);
      const afterOneSecond = await untilThrottled({ call: stop });
      expect(afterOneSecond).toBe(40);
      const sustained = await sustainedRate({ stack, call: stop });
      expect(sustained).toBe(40);
      figures.push({
        bucket: 'taskLifecycle',
        burst,
        afterOneSecond,
        sustainedPerSecond: sustained,
      });
    });
  });

  it('fargateRunTask: 20 Fargate RunTask calls, then throttled, while other lifecycle calls pass', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      const runOne = () => stack.client.send(new RunTaskCommand(fargateRun({ startedBy: 'frt' })));
      const burst = await untilThrottled({ call: runOne });
      expect(burst).toBe(20);

      // FARGATE_SPOT through a strategy is Fargate too.
      const { launchType: _omit, ...noLaunchType } = fargateRun();
      const spot = stack.client.send(
        new RunTaskCommand({
          ...noLaunchType,
          capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        }),
      );
      expect(await outcome(spot)).toBe('throttled');
      // An EC2 RunTask is not subject to the Fargate bucket: it gets ECS's own answer instead.
      const ec2 = await errorOf(
        stack.client.send(new RunTaskCommand(fargateRun({ launchType: 'EC2' }))),
      );
      expect(ec2.name).toBe('InvalidParameterException');
      expect(ec2.message).toBe('No Container Instances were found in your cluster.');
      // StopTask only needs the task lifecycle bucket, which has room.
      const listed = await stack.client.send(new ListTasksCommand({ startedBy: 'frt' }));
      expect(listed.taskArns).toHaveLength(20);
      const first = listed.taskArns?.[0] ?? '';
      expect(await outcome(stack.client.send(new StopTaskCommand({ task: first })))).toBe('ok');

      stack.advance(1000);
      const afterOneSecond = await untilThrottled({ call: runOne });
      expect(afterOneSecond).toBe(20);
      const sustained = await sustainedRate({ stack, call: runOne });
      expect(sustained).toBe(20);
      figures.push({
        bucket: 'fargateRunTask',
        burst,
        afterOneSecond,
        sustainedPerSecond: sustained,
      });
    });
  });

  it('fargateLaunches: 10 RunTask of count 10 launch 100 tasks, then the next is throttled', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      const runTen = () =>
        stack.client.send(new RunTaskCommand(fargateRun({ count: 10, startedBy: 'fl' })));
      const calls = await untilThrottled({ call: runTen });
      expect(calls).toBe(10);
      // Even a single task is throttled though the call buckets (lifecycle, Fargate RunTask) have room.
      expect(
        await outcome(stack.client.send(new RunTaskCommand(fargateRun({ startedBy: 'fl' })))),
      ).toBe('throttled');
      const listed = await stack.client.send(
        new ListTasksCommand({ startedBy: 'fl', maxResults: 100 }),
      );
      expect(listed.taskArns).toHaveLength(100);
      const first = listed.taskArns?.[0] ?? '';
      expect(await outcome(stack.client.send(new StopTaskCommand({ task: first })))).toBe('ok');

      stack.advance(1000);
      // 20 tasks per second: two calls of ten.
      const afterOneSecond = await untilThrottled({ call: runTen });
      expect(afterOneSecond).toBe(2);
      const sustained = await sustainedRate({ stack, call: runTen, perCall: 10 });
      expect(sustained).toBe(20);
      figures.push({
        bucket: 'fargateLaunches (tasks)',
        burst: calls * 10,
        afterOneSecond: afterOneSecond * 10,
        sustainedPerSecond: sustained,
      });
    });
  });

  it('a throttled RunTask consumes no clientToken and launches nothing; the token works later', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      await untilThrottled({
        call: () => stack.client.send(new RunTaskCommand(fargateRun({ startedBy: 'filler' }))),
      });
      const input = fargateRun({ clientToken: 'slot-7-gen-1', startedBy: 'idem' });
      expect(await outcome(stack.client.send(new RunTaskCommand(input)))).toBe('throttled');
      const none = await stack.client.send(new ListTasksCommand({ startedBy: 'idem' }));
      expect(none.taskArns).toEqual([]);

      stack.advance(1000);
      const later = await stack.client.send(new RunTaskCommand(input));
      const task = later.tasks?.[0];
      expect(task).toMatchObject({ lastStatus: 'PROVISIONING', version: 1, startedBy: 'idem' });
      // The token now belongs to that task: a retry returns it, launching nothing new.
      const retry = await stack.client.send(new RunTaskCommand(input));
      expect(retry.tasks?.map((t) => t.taskArn)).toEqual([task?.taskArn]);
      const listed = await stack.client.send(new ListTasksCommand({ startedBy: 'idem' }));
      expect(listed.taskArns).toEqual([task?.taskArn]);
    });
  });

  it('registerTaskDefinition and cluster modify: burst 20, then 1 per second', async () => {
    await withStack({ rateLimits: true }, async (stack) => {
      const register = () => stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      const registerBurst = await untilThrottled({ call: register });
      expect(registerBurst).toBe(20);
      const create = () => stack.client.send(new CreateClusterCommand({ clusterName: 'c1' }));
      const createBurst = await untilThrottled({ call: create });
      expect(createBurst).toBe(20);

      stack.advance(1000);
      expect(await untilThrottled({ call: register })).toBe(1);
      expect(await untilThrottled({ call: create })).toBe(1);
      const registerRate = await sustainedRate({ stack, call: register });
      expect(registerRate).toBe(1);
      // The cluster bucket refilled meanwhile; start its measurement empty as well.
      await untilThrottled({ call: create });
      const createRate = await sustainedRate({ stack, call: create });
      expect(createRate).toBe(1);
      figures.push(
        {
          bucket: 'registerTaskDefinition',
          burst: registerBurst,
          afterOneSecond: 1,
          sustainedPerSecond: registerRate,
        },
        {
          bucket: 'clusterModify',
          burst: createBurst,
          afterOneSecond: 1,
          sustainedPerSecond: createRate,
        },
      );
    });
  });

  it('an options object overrides single buckets and keeps the defaults for the others', async () => {
    await withStack({ rateLimits: { reads: { burst: 5, perSecond: 2 } } }, async (stack) => {
      const describe = () => stack.client.send(new DescribeTasksCommand({ tasks: [ANY_TASK] }));
      expect(await untilThrottled({ call: describe })).toBe(5);
      stack.advance(1000);
      expect(await untilThrottled({ call: describe })).toBe(2);
      const register = () => stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      expect(await untilThrottled({ call: register })).toBe(20);
    });
  });

  it('is off by default: 300 DescribeTasks on a frozen clock all succeed', async () => {
    await withStack({}, async (stack) => {
      let ok = 0;
      for (let i = 0; i < 300; i++) {
        if (
          (await outcome(stack.client.send(new DescribeTasksCommand({ tasks: [ANY_TASK] })))) ===
          'ok'
        ) {
          ok++;
        }
      }
      expect(ok).toBe(300);
      expect(stack.emulator.counters().throttled).toEqual({});
    });
  });
});

describe('ECS emulator call counters', () => {
  it('counts calls per operation, rejected ones included, and throttled answers', async () => {
    await withStack({ rateLimits: { reads: { burst: 2, perSecond: 1 } } }, async (stack) => {
      await stack.client.send(new RegisterTaskDefinitionCommand(FARGATE_TD));
      await stack.client.send(new RunTaskCommand(fargateRun()));
      const badRun = await errorOf(
        stack.client.send(new RunTaskCommand(fargateRun({ taskDefinition: 'missing' }))),
      );
      expect(badRun.name).toBe('ClientException');
      for (let i = 0; i < 3; i++) {
        await outcome(stack.client.send(new DescribeTasksCommand({ tasks: [ANY_TASK] })));
      }
      await stack.emulator.handle('Explode', {});

      expect(stack.emulator.counters()).toEqual({
        calls: { RegisterTaskDefinition: 1, RunTask: 2, DescribeTasks: 3, Explode: 1 },
        throttled: { DescribeTasks: 1 },
      });

      stack.emulator.resetCounters();
      expect(stack.emulator.counters()).toEqual({ calls: {}, throttled: {} });
      await stack.client.send(new ListTasksCommand({})).catch(() => undefined);
      expect(stack.emulator.counters()).toEqual({
        calls: { ListTasks: 1 },
        throttled: { ListTasks: 1 },
      });
    });
  });
});
