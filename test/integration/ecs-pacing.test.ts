/**
 * Pacing against the emulator with AWS's rate limits on: a paced client gets no ThrottlingException
 * from a burst that an unpaced client (the control) gets throttled by.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { EcsEmulator } from '../../local/ecs/emulator';
import { createEcsRequestHandler } from '../../local/ecs/http';
import { paceEcsClient } from '../../shared/adapters/ecs-pacing';

let emulator: EcsEmulator;
let server: Server;

async function start(): Promise<string> {
  emulator = new EcsEmulator({ stepDelayMs: 5, rateLimits: true });
  server = createServer(createEcsRequestHandler(emulator));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await emulator.close();
  await new Promise((r) => server.close(r));
});

/** A client that does not retry, so every ThrottlingException is visible in the emulator's counters. */
const clientFor = (endpoint: string) =>
  new ECSClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
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

async function register(client: ECSClient) {
  await client.send(
    new RegisterTaskDefinitionCommand({
      family: 'p',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'a', image: 'a' }],
    }),
  );
}

describe('ECS pacing', () => {
  it('an unpaced burst is throttled (the control)', async () => {
    const client = clientFor(await start());
    await register(client);
    emulator.resetCounters();
    await burst(client);
    const { throttled } = emulator.counters();
    expect((throttled.DescribeTasks ?? 0) + (throttled.RunTask ?? 0)).toBeGreaterThan(0);
    client.destroy();
  });

  it('the same burst through a paced client is never throttled', async () => {
    const client = paceEcsClient(clientFor(await start()));
    await register(client);
    emulator.resetCounters();
    await burst(client);
    const { calls, throttled } = emulator.counters();
    expect(calls.DescribeTasks).toBe(150);
    expect(calls.RunTask).toBe(40);
    expect(throttled).toEqual({});
    client.destroy();
  }, 20_000);
});
