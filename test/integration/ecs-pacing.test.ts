/**
 * Pacing against the emulator with AWS's rate limits on: a paced client gets no ThrottlingException
 * from a burst that an unpaced client (the control) gets throttled by.
 */

import { DescribeTasksCommand, type ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { EcsEmulator } from '../../local/ecs/emulator';
import { paceEcsClient } from '../../shared/adapters/ecs-pacing';
import {
  type EmulatorServer,
  registerFargateTaskDefinition,
  startEmulatorServer,
} from '../support/emulator-server';

let stack: EmulatorServer;
let emulator: EcsEmulator;

/**
 * A fresh rate-limited emulator, and a client that does not retry, so every ThrottlingException is
 * visible in the emulator's counters.
 */
async function start(): Promise<ECSClient> {
  stack = await startEmulatorServer({
    stepDelayMs: 5,
    rateLimits: true,
    capture: 'none',
    maxAttempts: 1,
  });
  emulator = stack.emulator;
  return stack.client;
}

afterEach(async () => {
  await stack.stop();
});

async function burst(client: ECSClient): Promise<void> {
  // 150 reads (budget: 100 burst, 20/s) and 40 Fargate RunTask calls (20 burst, 20/s), all at once.
  const reads = Array.from({ length: 150 }, () =>
    client
      .send(new DescribeTasksCommand({ tasks: ['00000000000000000000000000000000'] }))
      .catch(() => undefined),
  );
  const runs = Array.from({ length: 40 }, () =>
    client
      .send(
        new RunTaskCommand({
          taskDefinition: 'p',
          launchType: 'FARGATE',
          networkConfiguration: { awsvpcConfiguration: { subnets: ['s-1'] } },
        }),
      )
      .catch(() => undefined),
  );
  await Promise.all([...reads, ...runs]);
}

/** 12 Fargate RunTask calls of 10 tasks each, all at once: 120 launches (budget: 100 burst, 20/s). */
async function launchBurst(client: ECSClient): Promise<void> {
  await Promise.all(
    Array.from({ length: 12 }, () =>
      client
        .send(
          new RunTaskCommand({
            taskDefinition: 'p',
            launchType: 'FARGATE',
            count: 10,
            networkConfiguration: { awsvpcConfiguration: { subnets: ['s-1'] } },
          }),
        )
        .catch(() => undefined),
    ),
  );
}

async function register(client: ECSClient) {
  await registerFargateTaskDefinition({
    client,
    family: 'p',
    containers: [{ name: 'a', image: 'a' }],
  });
}

describe('ECS pacing', () => {
  it('an unpaced burst is throttled (the control)', async () => {
    const client = await start();
    await register(client);
    emulator.resetCounters();
    await burst(client);
    const { throttled } = emulator.counters();
    expect((throttled.DescribeTasks ?? 0) + (throttled.RunTask ?? 0)).toBeGreaterThan(0);
    client.destroy();
  });

  it('the same burst through a paced client is never throttled', async () => {
    const client = paceEcsClient(await start());
    await register(client);
    emulator.resetCounters();
    await burst(client);
    const { calls, throttled } = emulator.counters();
    expect(calls.DescribeTasks).toBe(150);
    expect(calls.RunTask).toBe(40);
    expect(throttled).toEqual({});
    client.destroy();
  }, 20_000);

  it('a burst of Fargate task launches: throttled unpaced, never when paced', async () => {
    const unpaced = await start();
    await register(unpaced);
    emulator.resetCounters();
    await launchBurst(unpaced);
    expect(emulator.counters().throttled.RunTask ?? 0).toBeGreaterThan(0);
    await stack.stop();

    const paced = paceEcsClient(await start());
    await register(paced);
    emulator.resetCounters();
    await launchBurst(paced);
    const { calls, throttled } = emulator.counters();
    expect(calls.RunTask).toBe(12);
    expect(throttled).toEqual({});
    paced.destroy();
  }, 20_000);
});
