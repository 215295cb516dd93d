/**
 * The walking skeleton, end to end, as a user drives it: the local stack (real dynalite, the ECS
 * emulator, local EventBridge, the same handler modules as Lambda) over real HTTP and the real AWS SDK.
 */

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RoutedEvent } from '../../local/event-router';
import { type Stack, startStack } from '../../local/stack';
import { registerFargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

const TOKEN = 'e2e-token-0123456789abcdefghijklmnop';
let stack: Stack;
let ecs: ECSClient;
/** While true, ECS task events are lost on the way to the controller (only the tick can notice). */
let dropTaskEvents = false;

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as JsonObject) : {} };
}

async function serviceTasks(
  serviceName: string,
  desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING',
): Promise<Task[]> {
  const listed = await ecs.send(
    new ListTasksCommand({ startedBy: `steward/${serviceName}`, desiredStatus }),
  );
  if (!listed.taskArns?.length) return [];
  const out = await ecs.send(
    new DescribeTasksCommand({ tasks: listed.taskArns, include: ['TAGS'] }),
  );
  return out.tasks ?? [];
}

const slotOf = (t: Task) => t.tags?.find((tag) => tag.key === 'steward:slot')?.value;
const envIndexOf = (t: Task) =>
  t.overrides?.containerOverrides?.[0]?.environment?.find((e) => e.name === 'STEWARD_TASK_INDEX')
    ?.value;

const fargate = (serviceName: string, desiredCount: number) => ({
  serviceName,
  taskDefinition: 'web',
  desiredCount,
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } },
});

beforeAll(async () => {
  // Orphans are stopped at the first tick that sees them (the default waits 2 minutes).
  process.env.ORPHAN_GRACE_SECONDS = '0';
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-e2e-')),
    apiPort: 0,
    awsPort: 0,
    token: TOKEN,
    taskStepDelayMs: 40,
    tickIntervalMs: 0,
    retryBaseMs: 20,
    transport: (deliver, event: RoutedEvent) => {
      if (dropTaskEvents && event['detail-type'] === 'ECS Task State Change') return;
      deliver();
    },
  });
  ecs = new ECSClient({ endpoint: stack.awsUrl, region: 'us-east-1', credentials });
  await registerFargateTaskDefinition({
    client: ecs,
    family: 'web',
    containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:latest', essential: true }],
  });
}, 30_000);

afterAll(async () => {
  ecs?.destroy();
  await stack?.stop();
});

describe('authentication', () => {
  it('takes the bearer scheme in any case, and checks the token before the method', async () => {
    const lower = await fetch(`${stack.apiUrl}/services`, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lower.status).toBe(200);
    const put = await fetch(`${stack.apiUrl}/services/web`, { method: 'PUT' });
    expect(put.status).toBe(401);
    expect(await put.json()).toEqual({ message: expect.any(String), errors: [] });
    const unknown = await fetch(`${stack.apiUrl}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'Not Found', errors: [] });
  });

  it('serves /health without a token and refuses the API without the right one', async () => {
    expect((await fetch(`${stack.apiUrl}/health`)).status).toBe(200);
    expect((await fetch(`${stack.apiUrl}/services`)).status).toBe(401);
    const wrong = await fetch(`${stack.apiUrl}/services`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('a service, from create to delete', () => {
  it('creates a service whose 3 tasks run, each in its own slot', async () => {
    const created = await api('POST', '/services', fargate('web', 3));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      serviceName: 'web',
      cluster: 'default',
      desiredCount: 3,
      status: 'ACTIVE',
      generation: 1,
    });

    const service = await waitFor({
      what: 'web to report 3 running tasks',
      probe: async () => {
        const got = await api('GET', '/services/web');
        return got.body.runningCount === 3 && got.body.steady ? got.body : undefined;
      },
    });
    expect(service).toMatchObject({
      runningCount: 3,
      pendingCount: 0,
      desiredCount: 3,
      observedGeneration: 1,
    });

    const tasks = await serviceTasks('web');
    expect(tasks.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(tasks.map(slotOf).sort()).toEqual(['0', '1', '2']);
    expect(tasks.map(envIndexOf).sort()).toEqual(['0', '1', '2']);
    expect(new Set(tasks.map((t) => t.startedBy))).toEqual(new Set(['steward/web']));

    const events = await api('GET', '/services/web/events');
    const messages = events.body.events.map((e: { message: string }) => e.message);
    expect(messages[0]).toBe('(service web) has reached a steady state.');
    expect(messages.filter((m: string) => m.includes('steady state'))).toHaveLength(1);
  });

  it('replaces a task stopped through the ECS API, in the same slot', async () => {
    const before = await serviceTasks('web');
    const victim = before[1] as Task;
    const started = Date.now();
    await ecs.send(new StopTaskCommand({ task: victim.taskArn, reason: 'e2e: stopped by hand' }));

    const replacement = await waitFor({
      what: 'a replacement task to be RUNNING',
      probe: async () => {
        const now = await serviceTasks('web');
        const fresh = now.filter(
          (t) => !before.some((b) => b.taskArn === t.taskArn) && t.lastStatus === 'RUNNING',
        );
        return fresh.length === 1 && now.filter((t) => t.lastStatus === 'RUNNING').length === 3
          ? fresh[0]
          : undefined;
      },
    });
    const elapsed = Date.now() - started;
    expect(slotOf(replacement)).toBe(slotOf(victim));
    await waitFor({
      what: 'runningCount back at 3',
      probe: async () =>
        (await api('GET', '/services/web')).body.runningCount === 3 ? true : undefined,
    });
    const stopped = await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn as string] }));
    expect(stopped.tasks?.[0]).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'e2e: stopped by hand',
    });
    process.stdout.write(
      `replacement RUNNING ${elapsed} ms after StopTask (task step delay 40 ms)\n`,
    );
  });

  it('repairs a task that stopped while its events were lost, at the next tick', async () => {
    const before = await serviceTasks('web');
    const victim = before[0] as Task;
    dropTaskEvents = true;
    try {
      await ecs.send(
        new StopTaskCommand({ task: victim.taskArn, reason: 'e2e: stopped with events lost' }),
      );
      await waitFor({
        what: 'the victim to be STOPPED in ECS',
        probe: async () => {
          const d = await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn as string] }));
          return d.tasks?.[0]?.lastStatus === 'STOPPED' ? true : undefined;
        },
      });
      await stack.drain();
      // Without events nothing noticed: still 2 RUNNING in ECS, and Steward still believes 3.
      expect((await serviceTasks('web')).length).toBe(2);
      expect((await api('GET', '/services/web')).body.runningCount).toBe(3);
    } finally {
      dropTaskEvents = false;
    }
    await stack.tick();
    await waitFor({
      what: 'the tick to bring web back to 3 running tasks',
      probe: async () => {
        const running = (await serviceTasks('web')).filter((t) => t.lastStatus === 'RUNNING');
        const view = (await api('GET', '/services/web')).body;
        return running.length === 3 && view.runningCount === 3 ? true : undefined;
      },
    });
    expect((await serviceTasks('web')).map(slotOf).sort()).toEqual(['0', '1', '2']);
  });

  it('scales in from the highest slot when desiredCount drops', async () => {
    const patched = await api('PATCH', '/services/web', { desiredCount: 1 });
    expect(patched.status).toBe(200);
    // Accepted, not yet applied: the status still describes generation 1, so it is not steady.
    expect(patched.body).toMatchObject({
      desiredCount: 1,
      generation: 2,
      observedGeneration: 1,
      steady: false,
    });
    const remaining = await waitFor({
      what: 'web to scale in to 1 task',
      probe: async () => {
        const running = await serviceTasks('web');
        const view = (await api('GET', '/services/web')).body;
        return running.length === 1 && view.runningCount === 1 && view.steady ? running : undefined;
      },
    });
    expect(slotOf(remaining[0] as Task)).toBe('0');
  });

  it('drains the tasks on DELETE, then the service is gone', async () => {
    const deleted = await api('DELETE', '/services/web');
    expect(deleted.status).toBe(202);
    expect(deleted.body).toMatchObject({ status: 'DRAINING', desiredCount: 0, steady: false });
    await waitFor({
      what: 'web to be removed',
      probe: async () => ((await api('GET', '/services/web')).status === 404 ? true : undefined),
    });
    expect(await serviceTasks('web')).toEqual([]);
    expect((await api('GET', '/services')).body.services).toEqual([]);
  });
});

describe('client mistakes get a clear 4xx and change nothing', () => {
  it('rejects a bad body with every bad field named', async () => {
    const res = await api('POST', '/services', {
      serviceName: 'bad name!',
      taskDefinition: 'web',
      desiredCount: -1,
      color: 'blue',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'color',
      'desiredCount',
      'serviceName',
    ]);
    expect((await api('GET', '/services')).body.services).toEqual([]);
  });

  it.each([
    {
      what: 'malformed JSON',
      body: '{"serviceName":',
      contentType: 'application/json',
      status: 400,
    },
    {
      what: 'a non-JSON media type',
      body: 'serviceName=x',
      contentType: 'application/x-www-form-urlencoded',
      status: 415,
    },
    {
      what: 'a body over 64 KiB',
      body: JSON.stringify({ serviceName: 'x'.repeat(70_000) }),
      contentType: 'application/json',
      status: 413,
    },
  ])('answers $what with $status', async ({ body, contentType, status }) => {
    const res = await api('POST', '/services', body, { 'content-type': contentType });
    expect(res.status).toBe(status);
    expect(typeof res.body.message).toBe('string');
    expect((await api('GET', '/services')).body.services).toEqual([]);
  });

  it('answers 409 for a duplicate, 404 for an unknown service, 405 for a wrong method', async () => {
    expect((await api('POST', '/services', fargate('dup', 0))).status).toBe(201);
    const again = await api('POST', '/services', fargate('dup', 2));
    expect(again.status).toBe(409);
    expect((await api('GET', '/services/dup')).body.desiredCount).toBe(0);
    expect((await api('GET', '/services/nope')).status).toBe(404);
    const badName = await api('GET', '/services/a%2Fb');
    expect(badName.status).toBe(400);
    expect(badName.body.errors).toEqual([
      { path: 'serviceName', message: expect.stringMatching(/letters, digits/) },
    ]);
    expect((await api('PATCH', '/services/nope', { desiredCount: 1 })).status).toBe(404);
    const wrongMethod = await api('POST', '/services/dup', fargate('dup', 1));
    expect(wrongMethod.status).toBe(405);
    expect((await api('GET', '/services/dup')).body.desiredCount).toBe(0);
    expect((await api('DELETE', '/services/dup')).status).toBe(202);
  });

  it('requires a network configuration for Fargate, naming the field', async () => {
    const res = await api('POST', '/services', {
      serviceName: 'nonet',
      taskDefinition: 'web',
      desiredCount: 1,
      launchType: 'FARGATE',
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'networkConfiguration' })]);
  });
});

describe('orphans', () => {
  it('stops a task started for a service that no longer exists, even in a cluster with no services left', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'blue' }));
    const created = await api('POST', '/services', { ...fargate('lonely', 1), cluster: 'blue' });
    expect(created.status).toBe(201);
    await waitFor({
      what: 'lonely to run',
      probe: async () => ((await api('GET', '/services/lonely')).body.steady ? true : undefined),
    });
    const run = (startedBy: string) =>
      ecs.send(
        new RunTaskCommand({
          cluster: 'blue',
          taskDefinition: 'web',
          launchType: 'FARGATE',
          networkConfiguration: fargate('x', 1).networkConfiguration,
          startedBy,
        }),
      );
    // A launch that lost the race with its service's deletion, and a task that is none of Steward's.
    const phantom = (await run('steward/phantom')).tasks?.[0]?.taskArn as string;
    const foreign = (await run('someone-else')).tasks?.[0]?.taskArn as string;
    expect((await api('DELETE', '/services/lonely')).status).toBe(202);
    await waitFor({
      what: 'lonely to be removed',
      probe: async () => ((await api('GET', '/services/lonely')).status === 404 ? true : undefined),
    });

    await stack.tick();
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: 'blue', tasks: [phantom, foreign] }),
    );
    const byArn = new Map((described.tasks ?? []).map((t) => [t.taskArn, t]));
    expect(byArn.get(phantom)?.desiredStatus).toBe('STOPPED');
    expect(byArn.get(phantom)?.stoppedReason).toBe(
      'Steward: orphan task, service phantom does not exist',
    );
    expect(byArn.get(foreign)?.desiredStatus).toBe('RUNNING');
  });
});

describe('poison events', () => {
  it('sends an unparseable task event to the dead-letter target once, without retries', async () => {
    const events = new EventBridgeClient({
      endpoint: stack.awsUrl,
      region: 'us-east-1',
      credentials,
    });
    const detail = {
      taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/default/0123',
      startedBy: 'steward/web',
      version: 'seven',
    };
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'aws.ecs',
            DetailType: 'ECS Task State Change',
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    events.destroy();
    expect(out.FailedEntryCount).toBe(0);
    await stack.drain();
    expect(existsSync(stack.deadLetterFile)).toBe(true);
    const letters = readFileSync(stack.deadLetterFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ours = letters.filter((l) => l.body?.payload?.detail?.version === 'seven');
    expect(ours).toHaveLength(1);
    expect(ours[0].body.reason).toMatch(/detail\.version/);
  });
});
