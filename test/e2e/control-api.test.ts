/**
 * The emulator's control API (`/_steward/…` on the AWS endpoint) driving a Steward service on the
 * local stack: a task killed with exit code 137 is replaced; with every event dropped nothing reacts
 * until the tick; with events duplicated and reordered everything still converges; counters show
 * what was injected. Also Spot interruption, capacity and usage.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import { registerFargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

const TOKEN = 'control-api-token-0123456789abcdefghij';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const network = { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } };
let stack: Stack;
let ecs: ECSClient;

/** mulberry32: a seeded PRNG, so the injected faults are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.awsUrl}/_steward/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}

async function running(serviceName: string): Promise<Task[]> {
  const listed = await ecs.send(new ListTasksCommand({ startedBy: `steward/${serviceName}` }));
  if (!listed.taskArns?.length) return [];
  const out = await ecs.send(new DescribeTasksCommand({ tasks: listed.taskArns }));
  return (out.tasks ?? []).filter((t) => t.lastStatus === 'RUNNING');
}

/** Waits until the service is steady with `count` tasks RUNNING in ECS; returns them. */
async function converged(serviceName: string, count: number): Promise<Task[]> {
  return waitFor({
    what: `${serviceName} steady with ${count} RUNNING tasks`,
    timeoutMs: 20_000,
    probe: async () => {
      const view = (await api('GET', `/services/${serviceName}`)).body;
      const tasks = await running(serviceName);
      return view.steady && view.runningCount === count && tasks.length === count
        ? tasks
        : undefined;
    },
  });
}

async function describeTask(arn: string, cluster?: string): Promise<Task | undefined> {
  const out = await ecs.send(
    new DescribeTasksCommand({ tasks: [arn], ...(cluster ? { cluster } : {}) }),
  );
  return out.tasks?.[0];
}

beforeAll(async () => {
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-control-')),
    apiPort: 0,
    awsPort: 0,
    token: TOKEN,
    taskStepDelayMs: 40,
    tickIntervalMs: 0,
    retryBaseMs: 20,
    faultRandom: seeded(7),
  });
  ecs = new ECSClient({ endpoint: stack.awsUrl, region: 'us-east-1', credentials });
  await registerFargateTaskDefinition({
    client: ecs,
    family: 'ctl',
    containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:latest', essential: true }],
  });
  const created = await api('POST', '/services', {
    serviceName: 'ctl',
    taskDefinition: 'ctl',
    desiredCount: 3,
    launchType: 'FARGATE',
    networkConfiguration: network,
    // A container that exits after RUNNING is not a failed start here: replace it at once.
    restartPolicy: { healthyAfterSeconds: 0 },
  });
  expect(created.status).toBe(201);
  await converged('ctl', 3);
}, 30_000);

afterAll(async () => {
  ecs?.destroy();
  await stack?.stop();
});

describe('the control API answers', () => {
  it('rejects bad requests naming the field, and unknown routes', async () => {
    const noTask = await control('POST', 'tasks/kill', { exitCode: 1 });
    expect(noTask).toEqual({ status: 400, body: { message: 'task is required' } });
    const badCode = await control('POST', 'tasks/kill', { task: 'x', exitCode: 'oom' });
    expect(badCode.status).toBe(400);
    expect(badCode.body.message).toMatch(/^exitCode/);
    const extra = await control('POST', 'tasks/kill', { task: 'x', exitCode: 1, signal: 9 });
    expect(extra.body.message).toMatch(/^signal/);
    expect((await control('POST', 'tasks/kill', '{"task":')).body.message).toMatch(
      /not valid JSON/,
    );
    const unknownTask = await control('POST', 'tasks/kill', {
      task: '0123456789abcdef0123456789abcdef',
      exitCode: 1,
    });
    expect(unknownTask.status).toBe(404);
    expect((await control('PUT', 'faults', { drop: 2 })).body.message).toMatch(/^drop/);
    expect((await control('PUT', 'faults', { delayMs: -5 })).status).toBe(400);
    expect((await control('PUT', 'faults', { jitter: 1 })).body.message).toMatch(/^jitter/);
    expect((await control('PUT', 'capacity', { spotAvailable: 'yes' })).body.message).toMatch(
      /^spotAvailable/,
    );
    expect((await control('PUT', 'capacity', { instances: [{ cpu: 1024 }] })).body.message).toMatch(
      /^instances\[0\]\.memory/,
    );
    expect((await control('POST', 'spot/interrupt', { count: 0 })).body.message).toMatch(/^count/);
    expect((await control('GET', 'usage?color=blue')).body.message).toMatch(/^color/);
    expect((await control('GET', 'nowhere')).status).toBe(404);
    const wrongMethod = await control('GET', 'tasks/kill');
    expect(wrongMethod.status).toBe(405);
    // Nothing was changed by any of these.
    expect((await control('GET', 'faults')).body.rates).toEqual({
      drop: 0,
      duplicate: 0,
      delay: 0,
      delayMs: 0,
      reorder: 0,
    });
  });
});

describe('faults and kills against a service of 3', () => {
  it('kills a task with exit code 137: it stops as EssentialContainerExited and Steward replaces it', async () => {
    const before = await converged('ctl', 3);
    const victim = before[0]?.taskArn as string;
    const killed = await control('POST', 'tasks/kill', {
      task: victim,
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage',
    });
    expect(killed.status).toBe(200);
    expect(killed.body.task.taskArn).toBe(victim);

    const stopped = await waitFor({
      what: 'the killed task STOPPED',
      probe: async () => {
        const t = await describeTask(victim);
        return t?.lastStatus === 'STOPPED' ? t : undefined;
      },
    });
    expect(stopped).toMatchObject({ stopCode: 'EssentialContainerExited' });
    expect(stopped.containers?.[0]).toMatchObject({
      exitCode: 137,
      reason: 'OutOfMemoryError: Container killed due to memory usage',
    });
    const after = await converged('ctl', 3);
    expect(after.map((t) => t.taskArn)).not.toContain(victim);
  });

  it('with every event dropped, a stopped task is not replaced until the tick', async () => {
    const countersBefore = (await control('GET', 'faults')).body.counters;
    const set = await control('PUT', 'faults', { drop: 1 });
    expect(set.status).toBe(200);
    expect(set.body.rates).toMatchObject({ drop: 1 });
    try {
      const before = await converged('ctl', 3);
      const victim = before[1]?.taskArn as string;
      await ecs.send(new StopTaskCommand({ task: victim, reason: 'control: events dropped' }));
      await waitFor({
        what: 'the victim STOPPED in ECS',
        probe: async () =>
          (await describeTask(victim))?.lastStatus === 'STOPPED' ? true : undefined,
      });
      await stack.drain();
      await new Promise((r) => setTimeout(r, 200));
      expect(await running('ctl')).toHaveLength(2);
      expect((await api('GET', '/services/ctl')).body.runningCount).toBe(3);
      const counters = (await control('GET', 'faults')).body.counters;
      // STOPPING, DEPROVISIONING?, STOPPED: at least two changes were lost.
      expect(counters.dropped - countersBefore.dropped).toBeGreaterThanOrEqual(2);
      expect(counters.delivered).toBe(countersBefore.delivered);
    } finally {
      await control('PUT', 'faults', { drop: 0 });
    }
    await stack.tick();
    await converged('ctl', 3);
  });

  it('with events duplicated and reordered, everything still converges', async () => {
    const countersBefore = (await control('GET', 'faults')).body.counters;
    await control('PUT', 'faults', { duplicate: 1, reorder: 0.5 });
    try {
      const before = await converged('ctl', 3);
      await ecs.send(
        new StopTaskCommand({ task: before[0]?.taskArn, reason: 'control: shuffled' }),
      );
      await control('POST', 'tasks/kill', { task: before[2]?.taskArn, exitCode: 1 });
      const after = await converged('ctl', 3);
      expect(after.map((t) => t.taskArn)).not.toContain(before[0]?.taskArn);
      expect(after.map((t) => t.taskArn)).not.toContain(before[2]?.taskArn);
      // A scale-out goes through the "Steward Service Changed" event, faulty too.
      expect((await api('PATCH', '/services/ctl', { desiredCount: 4 })).status).toBe(200);
      await converged('ctl', 4);
      expect((await api('PATCH', '/services/ctl', { desiredCount: 3 })).status).toBe(200);
      await converged('ctl', 3);
    } finally {
      await control('PUT', 'faults', { duplicate: 0, reorder: 0 });
    }
    const faults = (await control('GET', 'faults')).body;
    const duplicated = faults.counters.duplicated - countersBefore.duplicated;
    const delivered = faults.counters.delivered - countersBefore.delivered;
    expect(duplicated).toBeGreaterThanOrEqual(8);
    // Every event was delivered twice (none dropped, no delay).
    expect(delivered).toBe(2 * duplicated);
    expect(faults.counters.reordered - countersBefore.reordered).toBeGreaterThan(0);
    expect(faults.counters.dropped).toBe(countersBefore.dropped);
  });

  it('counts ECS calls, injected faults and endpoint requests', async () => {
    const counters = (await control('GET', 'counters')).body;
    expect(Object.keys(counters).sort()).toEqual(['ecs', 'faults', 'requests']);
    expect(counters.ecs.calls.RunTask).toBeGreaterThanOrEqual(3 + 1 + 1 + 2 + 1);
    expect(counters.ecs.calls.StopTask).toBeGreaterThanOrEqual(3);
    expect(counters.ecs.throttled).toEqual({});
    expect(counters.faults).toEqual((await control('GET', 'faults')).body.counters);
    expect(counters.faults.dropped).toBeGreaterThanOrEqual(2);
    expect(counters.faults.duplicated).toBeGreaterThan(0);
    expect(counters.faults.reordered).toBeGreaterThan(0);
    expect(counters.requests['AmazonEC2ContainerServiceV20141113.StopTask']).toBeGreaterThanOrEqual(
      3,
    );
    expect(counters.requests['DynamoDB_20120810.Query']).toBeGreaterThan(0);
    // Control requests are not AWS requests.
    expect(Object.keys(counters.requests).some((k) => k === '' || k.includes('_steward'))).toBe(
      false,
    );
  });
});

describe('Spot, capacity and usage', () => {
  it('reports usage of the service tasks', async () => {
    const usage = await control('GET', 'usage?cluster=default&startedBy=steward/ctl');
    expect(usage.status).toBe(200);
    expect(usage.body).toEqual({
      tasks: 3,
      cpuPercent: expect.any(Number),
      memoryPercent: expect.any(Number),
    });
    expect((await control('GET', 'usage?startedBy=nobody')).body.tasks).toBe(0);
    expect((await control('GET', 'usage?cluster=nowhere')).status).toBe(404);
  });

  it('interrupts a FARGATE_SPOT task: a SpotInterruption warning while it still runs', async () => {
    await ecs.send(
      new CreateClusterCommand({
        clusterName: 'spot',
        capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      }),
    );
    const ran = await ecs.send(
      new RunTaskCommand({
        cluster: 'spot',
        taskDefinition: 'ctl',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        networkConfiguration: network,
        startedBy: 'spot-probe',
      }),
    );
    const arn = ran.tasks?.[0]?.taskArn as string;
    expect(ran.tasks?.[0]?.capacityProviderName).toBe('FARGATE_SPOT');
    // Not RUNNING yet: nothing to interrupt.
    expect((await control('POST', 'spot/interrupt', { cluster: 'spot' })).body).toEqual({
      taskArns: [],
    });
    const seen: string[] = [];
    await waitFor({
      what: 'the Spot task RUNNING',
      probe: async () => {
        const t = await describeTask(arn, 'spot');
        const step = `${t?.lastStatus}/${t?.desiredStatus}`;
        if (seen.at(-1) !== step) seen.push(step);
        return t?.lastStatus === 'RUNNING' ? true : undefined;
      },
    });
    const interrupted = await control('POST', 'spot/interrupt', { cluster: 'spot', task: arn });
    expect(interrupted).toEqual({ status: 200, body: { taskArns: [arn] } });
    const warned = await describeTask(arn, 'spot');
    seen.push(`${warned?.lastStatus}/${warned?.desiredStatus}`);
    expect(warned).toMatchObject({
      lastStatus: 'RUNNING',
      desiredStatus: 'STOPPED',
      stopCode: 'SpotInterruption',
    });
    expect(seen.at(-2)).toBe('RUNNING/RUNNING');
    expect(seen.at(-1)).toBe('RUNNING/STOPPED');
    // Already warned: a second interruption is refused.
    expect((await control('POST', 'spot/interrupt', { cluster: 'spot', task: arn })).status).toBe(
      400,
    );
  });

  it('sets EC2 capacity: the container instances exist in ECS', async () => {
    const set = await control('PUT', 'capacity', {
      cluster: 'spot',
      spotAvailable: false,
      instances: [
        { cpu: 2048, memory: 4096, availabilityZone: 'us-east-1a' },
        { cpu: 2048, memory: 4096, ports: [22], availabilityZone: 'us-east-1b' },
      ],
    });
    expect(set.status).toBe(200);
    expect(set.body.containerInstanceArns).toHaveLength(2);
    const listed = await ecs.send(new ListContainerInstancesCommand({ cluster: 'spot' }));
    expect([...(listed.containerInstanceArns ?? [])].sort()).toEqual(
      [...set.body.containerInstanceArns].sort(),
    );
    expect((await control('PUT', 'capacity', { cluster: 'nowhere' })).status).toBe(404);
  });
});
