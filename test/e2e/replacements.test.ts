/**
 * Replacements ECS does not do, end to end on the local stack: Spot → on-demand fallback when Fargate
 * Spot has no capacity, and back to Spot once it may have some; a maximum task lifetime. The stack's
 * clock is moved forward instead of waiting, and the tick is run by hand as the schedule would.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '../../local/stack';
import { type ApiCall, startApiStack } from '../support/api';
import { fargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;
let api: ApiCall;

const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } };

/** Spot capacity on or off, through the emulator's control API. */
async function spotAvailable(available: boolean): Promise<void> {
  const res = await fetch(`${stack.awsUrl}/_steward/capacity`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spotAvailable: available }),
  });
  expect(res.status).toBe(200);
}

type TaskView = JsonObject & { slot: number; lastStatus: string };

async function liveTasks(name: string): Promise<TaskView[]> {
  const page = await api('GET', `/services/${name}/tasks`);
  return (page.body.tasks as TaskView[]).filter((t) => t.lastStatus !== 'STOPPED');
}

/** Ticks (as the schedule would) until `done` holds for the live tasks. */
async function tickUntil(what: string, done: (tasks: TaskView[]) => boolean): Promise<TaskView[]> {
  return waitFor({
    what,
    timeoutMs: 15_000,
    intervalMs: 100,
    probe: async () => {
      await stack.tick();
      const tasks = await liveTasks(what.split(' ')[0] as string);
      return done(tasks) ? tasks : undefined;
    },
  });
}

beforeAll(async () => {
  ({ stack, api } = await startApiStack('replace'));
  const created = await api('POST', '/task-definitions', {
    body: fargateTaskDefinition({
      family: 'app',
      containers: [{ name: 'app', image: 'nginx:1.27' }],
    }),
  });
  expect(created.status).toBe(201);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('Spot fallback', () => {
  it('runs on on-demand Fargate while Spot has no capacity, and goes back to Spot later', async () => {
    await spotAvailable(false);
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'spotty',
        taskDefinition: 'app:1',
        desiredCount: 2,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: network,
        spotFallback: { enabled: true, retrySpotAfterSeconds: 600 },
        restartPolicy: { baseDelaySeconds: 1, factor: 1, jitter: 0 },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.spotFallback).toEqual({ enabled: true, retrySpotAfterSeconds: 600 });

    const onDemand = await tickUntil(
      'spotty to run 2 on-demand tasks',
      (tasks) =>
        tasks.length === 2 &&
        tasks.every((t) => t.lastStatus === 'RUNNING' && t.capacityProviderName === 'FARGATE'),
    );
    expect(onDemand.every((t) => t.fallback === true)).toBe(true);
    const messages = (await api('GET', '/services/spotty/events')).body.events.map(
      (e: JsonObject) => e.message,
    );
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^\(service spotty\) is unable to start tasks: .*Capacity is unavailable/,
      ),
    );

    // Spot has capacity again; after retrySpotAfterSeconds each stand-in is replaced by a Spot task.
    await spotAvailable(true);
    stack.clock.advance(601_000);
    const back = await tickUntil(
      'spotty to run 2 Spot tasks again',
      (tasks) =>
        tasks.length === 2 &&
        tasks.every((t) => t.lastStatus === 'RUNNING' && t.capacityProviderName === 'FARGATE_SPOT'),
    );
    expect(back.map((t) => t.slot).sort()).toEqual([0, 1]);
    expect(back.some((t) => t.fallback === true)).toBe(false);
  }, 30_000);

  it('refuses spotFallback without a FARGATE_SPOT strategy, naming the field', async () => {
    const refused = await api('POST', '/services', {
      body: {
        serviceName: 'nospot',
        taskDefinition: 'app:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        spotFallback: { enabled: true },
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { path: 'spotFallback', message: 'needs a capacityProviderStrategy that uses FARGATE_SPOT' },
    ]);
  });
});

describe('maximum task lifetime', () => {
  it('replaces a task once it has run maxTaskLifetime seconds, new one first, same slot', async () => {
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'ephemeral',
        taskDefinition: 'app:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        maxTaskLifetime: 3600,
      },
    });
    expect(created.status).toBe(201);
    const [first] = await tickUntil(
      'ephemeral to run its task',
      (tasks) => tasks.length === 1 && tasks[0]?.lastStatus === 'RUNNING',
    );
    // An hour later the task is replaced: the old one stops only once the new one runs.
    stack.clock.advance(3_601_000);
    const [second] = await tickUntil(
      'ephemeral to run a new task',
      (tasks) =>
        tasks.length === 1 &&
        tasks[0]?.lastStatus === 'RUNNING' &&
        tasks[0]?.taskId !== first?.taskId,
    );
    expect(second?.slot).toBe(0);
    const stopped = (await api('GET', '/services/ephemeral/tasks')).body.tasks.find(
      (t: JsonObject) => t.taskId === first?.taskId,
    );
    expect(stopped.stoppedReason).toBe(
      'Steward: task reached the maxTaskLifetime of service ephemeral (3600 s)',
    );
  }, 30_000);
});
