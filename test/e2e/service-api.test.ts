/**
 * The service API end to end, over HTTP on the local stack: task definitions from JSON and YAML,
 * inline task definitions, PUT (replace and deploy), PATCH (pause and resume), redeploy, the tasks
 * listing, and the error codes a client must be able to rely on.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import type { Stack } from '../../local/stack';
import { type ApiCall, startApiStack } from '../support/api';
import { fargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;
let api: ApiCall;

const network = { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } };

/** A Fargate task definition body (RegisterTaskDefinition) with `containers` containers. */
function fargateDefinition(family: string, containers = 1, image = 'nginx:1.27'): JsonObject {
  return fargateTaskDefinition({
    family,
    containers: Array.from({ length: containers }, (_, i) => ({
      name: `c${i}`,
      image,
      essential: i === 0,
      memoryReservation: 32,
    })),
  });
}

/** A service body on Fargate with the given task definition. */
function fargateService(serviceName: string, taskDefinition: unknown, desiredCount: number) {
  return {
    serviceName,
    taskDefinition,
    desiredCount,
    launchType: 'FARGATE',
    networkConfiguration: network,
  };
}

type TaskView = JsonObject & { slot: number; deployment: number; lastStatus: string };

/** The service's tasks that are still live, from GET /services/{name}/tasks (all pages). */
async function liveTasks(name: string): Promise<TaskView[]> {
  const out: TaskView[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api(
      'GET',
      `/services/${name}/tasks${nextToken ? `?nextToken=${encodeURIComponent(nextToken)}` : ''}`,
    );
    expect(page.status).toBe(200);
    out.push(...(page.body.tasks as TaskView[]));
    nextToken = page.body.nextToken;
  } while (nextToken);
  return out.filter((t) => t.lastStatus !== 'STOPPED');
}

/** Waits until the service is steady with `count` RUNNING tasks, all of deployment `deployment`. */
async function settled(name: string, count: number, deployment?: number): Promise<TaskView[]> {
  return waitFor({
    what: `${name} to run ${count} tasks${deployment ? ` of deployment ${deployment}` : ''}`,
    timeoutMs: 20_000,
    probe: async () => {
      const service = await api('GET', `/services/${name}`);
      if (!service.body.steady) return undefined;
      const tasks = await liveTasks(name);
      const done =
        tasks.length === count &&
        tasks.every((t) => t.lastStatus === 'RUNNING') &&
        (deployment === undefined || tasks.every((t) => t.deployment === deployment));
      return done ? tasks : undefined;
    },
  });
}

async function messagesOf(name: string): Promise<string[]> {
  const events = await api('GET', `/services/${name}/events`);
  return (events.body.events as { message: string }[]).map((e) => e.message);
}

beforeAll(async () => {
  ({ stack, api } = await startApiStack('api'));
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the OpenAPI document', () => {
  it('is served without a token and describes every operation with its statuses', async () => {
    const doc = await api('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.body.paths as JsonObject).flatMap(([path, item]) =>
      Object.keys(item as JsonObject)
        .filter((k) => ['get', 'put', 'post', 'patch', 'delete'].includes(k))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(
      [
        'DELETE /services/{serviceName}',
        'GET /health',
        'GET /openapi.json',
        'GET /services',
        'GET /services/{serviceName}',
        'GET /services/{serviceName}/events',
        'GET /services/{serviceName}/tasks',
        'GET /task-definitions/{family}',
        'PATCH /services/{serviceName}',
        'POST /services',
        'POST /services/{serviceName}/redeploy',
        'POST /task-definitions',
        'PUT /services/{serviceName}',
      ].sort(),
    );
    expect(Object.keys(doc.body.paths['/services'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '413', '415']),
    );
  });
});

describe('task definitions', () => {
  it('registers one from JSON and lists the family, newest first', async () => {
    const first = await api('POST', '/task-definitions', { body: fargateDefinition('web') });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ family: 'web', revision: 1, status: 'ACTIVE' });
    expect(first.headers.get('location')).toBe('/task-definitions/web');
    const second = await api('POST', '/task-definitions', {
      body: fargateDefinition('web', 1, 'nginx:1.28'),
    });
    expect(second.body.revision).toBe(2);
    // `web-api` shares the prefix but is another family: not listed under web.
    await api('POST', '/task-definitions', { body: fargateDefinition('web-api') });

    const listed = await api('GET', '/task-definitions/web');
    expect(listed.status).toBe(200);
    expect(listed.body.revisions.map((r: JsonObject) => r.revision)).toEqual([2, 1]);
  });

  it('registers a YAML definition with 10 containers and refuses one with 11, saying why', async () => {
    const ten = await api('POST', '/task-definitions', {
      raw: stringify(fargateDefinition('ten', 10)),
      contentType: 'application/yaml',
    });
    expect(ten.status).toBe(201);
    expect(ten.body.containers).toHaveLength(10);

    const eleven = await api('POST', '/task-definitions', {
      raw: stringify(fargateDefinition('eleven', 11)),
      contentType: 'application/yaml',
    });
    expect(eleven.status).toBe(400);
    expect(eleven.body.errors).toEqual([
      { path: 'containerDefinitions', message: expect.stringMatching(/at most 10/) },
    ]);
    expect((await api('GET', '/task-definitions/eleven')).status).toBe(404);
  });

  it('names the line of a YAML syntax error, and refuses another media type with 415', async () => {
    const broken = await api('POST', '/task-definitions', {
      raw: 'family: web\ncontainerDefinitions:\n  - name: a\n    image: [unclosed\n',
      contentType: 'application/yaml',
    });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0]).toMatchObject({ path: '(body)' });
    expect(broken.body.errors[0].message).toMatch(/line \d+/);

    const text = await api('POST', '/task-definitions', {
      raw: 'family: web',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
  });

  it('answers 404 for a family with no revisions and 400 for a malformed family name', async () => {
    expect((await api('GET', '/task-definitions/nothing-here')).status).toBe(404);
    expect((await api('GET', '/task-definitions/bad.name')).status).toBe(400);
  });
});

describe('services', () => {
  it('registers an inline task definition and pins its revision', async () => {
    const created = await api('POST', '/services', {
      body: fargateService('inline', fargateDefinition('inline-def'), 1),
    });
    expect(created.status).toBe(201);
    expect(created.body.taskDefinition).toBe('inline-def:1');
    const tasks = await settled('inline', 1);
    expect(tasks[0]?.taskDefinitionArn).toMatch(/task-definition\/inline-def:1$/);
  });

  it('refuses a reference to a task definition that is not registered, or no longer ACTIVE', async () => {
    const ghost = await api('POST', '/services', { body: fargateService('ghost', 'ghost:1', 1) });
    expect(ghost.status).toBe(400);
    expect(ghost.body.errors).toEqual([
      { path: 'taskDefinition', message: 'ghost:1 is not a registered task definition' },
    ]);
    await api('POST', '/task-definitions', { body: fargateDefinition('retired') });
    const deregistered = await stack.emulator.handle('DeregisterTaskDefinition', {
      taskDefinition: 'retired:1',
    });
    expect(deregistered.status).toBe(200);
    const retired = await api('POST', '/services', {
      body: fargateService('retired', 'retired:1', 1),
    });
    expect(retired.status).toBe(400);
    expect(retired.body.errors[0].message).toMatch(/retired:1 is INACTIVE/);
    expect((await api('GET', '/services/ghost')).status).toBe(404);
    expect((await api('GET', '/services/retired')).status).toBe(404);
  });

  it('refuses a bad inline task definition, naming the field under taskDefinition', async () => {
    const definition = fargateDefinition('bad-inline');
    definition.cpu = '300';
    const refused = await api('POST', '/services', {
      body: fargateService('bad-inline', definition, 1),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: JsonObject) => e.path)).toEqual(['taskDefinition.cpu']);
    expect((await api('GET', '/services/bad-inline')).status).toBe(404);
  });

  it('PUT replaces the spec and rolls every task to the new deployment, in the same slots', async () => {
    await api('POST', '/task-definitions', { body: fargateDefinition('roll') });
    await api('POST', '/task-definitions', { body: fargateDefinition('roll', 1, 'nginx:1.28') });
    const created = await api('POST', '/services', {
      body: {
        ...fargateService('roll', 'roll:1', 3),
        restartPolicy: { maxConsecutiveFailures: 4 },
      },
    });
    expect(created.status).toBe(201);
    const before = await settled('roll', 3, 1);

    const replaced = await api('PUT', '/services/roll', {
      body: fargateService('roll', 'roll:2', 3),
      ifMatch: created.etag ?? '',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.etag).toBe('"2"');
    expect(replaced.body).toMatchObject({
      taskDefinition: 'roll:2',
      generation: 2,
      deployment: { id: 2, reason: 'taskDefinition changed' },
    });
    // The rollback target is bookkeeping, not part of the API's view.
    expect(replaced.body.deployment.previous).toBeUndefined();
    // A field the PUT left out is back to its default.
    expect(replaced.body.restartPolicy.maxConsecutiveFailures).toBe(10);

    const after = await settled('roll', 3, 2);
    expect(after.map((t) => t.slot).sort()).toEqual([0, 1, 2]);
    expect(after.every((t) => String(t.taskDefinitionArn).endsWith(':2'))).toBe(true);
    const oldIds = new Set(before.map((t) => t.taskId));
    expect(after.some((t) => oldIds.has(t.taskId))).toBe(false);
    const service = await api('GET', '/services/roll');
    expect(service.body.deployment).toMatchObject({
      id: 2,
      rolloutState: 'COMPLETED',
      runningCount: 3,
      outdatedCount: 0,
    });
    const messages = await messagesOf('roll');
    expect(messages).toContain('(service roll) started deployment 2: taskDefinition changed.');
    expect(messages).toContain('(service roll) (deployment 2) deployment completed.');
  });

  it('PUT refuses a stale If-Match (412), another name (400) and another cluster (400)', async () => {
    const stale = await api('PUT', '/services/roll', {
      body: fargateService('roll', 'roll:1', 3),
      ifMatch: '"1"',
    });
    expect(stale.status).toBe(412);
    const renamed = await api('PUT', '/services/roll', {
      body: fargateService('other', 'roll:1', 3),
    });
    expect(renamed.status).toBe(400);
    expect(renamed.body.errors[0].path).toBe('serviceName');
    const moved = await api('PUT', '/services/roll', {
      body: { ...fargateService('roll', 'roll:1', 3), cluster: 'elsewhere' },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.errors[0].path).toBe('cluster');
    // Nothing changed.
    const service = await api('GET', '/services/roll');
    expect(service.body).toMatchObject({ generation: 2, taskDefinition: 'roll:2' });
  });

  it('redeploy replaces every task with the same spec, keeping the slots', async () => {
    const before = await liveTasks('roll');
    const redeployed = await api('POST', '/services/roll/redeploy');
    expect(redeployed.status).toBe(202);
    expect(redeployed.body.deployment).toMatchObject({ id: 3, reason: 'redeploy requested' });
    const after = await settled('roll', 3, 3);
    expect(after.map((t) => t.slot).sort()).toEqual([0, 1, 2]);
    const oldIds = new Set(before.map((t) => t.taskId));
    expect(after.some((t) => oldIds.has(t.taskId))).toBe(false);
  });

  it('pause stops every task and keeps desiredCount; resume brings them back', async () => {
    const paused = await api('PATCH', '/services/roll', { body: { paused: true } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, desiredCount: 3 });
    await waitFor({
      what: 'roll to have no live task',
      probe: async () => ((await liveTasks('roll')).length === 0 ? true : undefined),
    });
    const resumed = await api('PATCH', '/services/roll', { body: { paused: false } });
    expect(resumed.body).toMatchObject({ paused: false, desiredCount: 3 });
    await settled('roll', 3);
    const messages = await messagesOf('roll');
    expect(messages).toContain(
      '(service roll) paused: its tasks are stopped; desiredCount 3 is kept for resume.',
    );
    expect(messages).toContain('(service roll) resumed at desiredCount 3.');
  });

  it('the circuit breaker fails a deployment whose tasks cannot start and rolls back', async () => {
    await api('POST', '/task-definitions', { body: fargateDefinition('breaker') });
    const broken = fargateDefinition('breaker');
    broken.containerDefinitions = (broken.containerDefinitions as JsonObject[]).map((c) => ({
      ...c,
      dockerLabels: {
        'steward.emulator/fail-to-start': 'CannotPullContainerError: pull access denied',
      },
    }));
    await api('POST', '/task-definitions', { body: broken });
    const created = await api('POST', '/services', {
      body: {
        ...fargateService('breaker', 'breaker:1', 2),
        deploymentConfiguration: {
          minimumHealthyPercent: 100,
          maximumPercent: 200,
          deploymentCircuitBreaker: { enable: true, rollback: true },
        },
        restartPolicy: { baseDelaySeconds: 1, factor: 1, jitter: 0 },
      },
    });
    expect(created.status).toBe(201);
    const healthy = await settled('breaker', 2, 1);

    const updated = await api('PATCH', '/services/breaker', {
      body: { taskDefinition: 'breaker:2' },
    });
    expect(updated.body.deployment).toMatchObject({ id: 2 });
    const rolledBack = await waitFor({
      what: 'the failed deployment to be rolled back',
      timeoutMs: 20_000,
      intervalMs: 200,
      probe: async () => {
        // The schedule's part: relaunch once the restart policy's backoff has passed.
        await stack.tick();
        const got = await api('GET', '/services/breaker');
        return got.body.taskDefinition === 'breaker:1' ? got.body : undefined;
      },
    });
    expect(rolledBack.deployment).toMatchObject({
      id: 1,
      reason: 'rolled back after deployment 2 failed',
    });
    // The old tasks never stopped: minimumHealthyPercent 100 kept them until a replacement ran.
    const after = await settled('breaker', 2, 1);
    expect(new Set(after.map((t) => t.taskId))).toEqual(new Set(healthy.map((t) => t.taskId)));
    const messages = await messagesOf('breaker');
    // Launches go two at a time (the surge), so the count that trips the breaker is 3 or 4.
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^\(service breaker\) Deployment 2 failed: [34] tasks failed to start \(circuit breaker threshold 3\); last: CannotPullContainerError: pull access denied\. Rolling back to deployment 1\.$/,
      ),
    );
  }, 30_000);

  it('lists tasks a page at a time and refuses a bad page size or token', async () => {
    const first = await api('GET', '/services/roll/tasks?maxResults=1');
    expect(first.status).toBe(200);
    expect(first.body.tasks).toHaveLength(1);
    expect(typeof first.body.nextToken).toBe('string');
    expect(first.body.tasks[0]).toEqual(
      expect.objectContaining({ taskArn: expect.any(String), slot: expect.any(Number) }),
    );
    expect((await api('GET', '/services/roll/tasks?maxResults=0')).status).toBe(400);
    expect((await api('GET', '/services/roll/tasks?nextToken=garbage')).status).toBe(400);
    expect((await api('GET', '/services/nope/tasks')).status).toBe(404);
  });

  it('PATCH checks the merged spec as a whole (launchType and a strategy cannot both be set)', async () => {
    const refused = await api('PATCH', '/services/roll', {
      body: { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].path).toBe('capacityProviderStrategy');
  });

  it('answers 4xx, not 5xx, to the malformed requests the fuzz found', async () => {
    const token = (key: JsonObject) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const cases: [string, string, number, JsonObject?][] = [
      ['GET', '/services/roll/tasks?maxResults=1e1', 400],
      ['GET', `/services/roll/tasks?nextToken=${token({ PK: 'SERVICE#roll', SK: '' })}`, 400],
      ['GET', `/services/roll/events?nextToken=${token({ PK: 'EVENTS#roll', SK: '' })}`, 400],
      ['GET', '/services/%E0%A4', 400],
      ['DELETE', '/services/roll', 412, { 'if-match': '"9999999999999999"' }],
    ];
    for (const [method, path, status, headers] of cases) {
      const res = await api(method, path, headers ? { headers } : {});
      expect([method, path, res.status]).toEqual([method, path, status]);
    }
    const deep = `{"family":"x","containerDefinitions":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const nested = await api('POST', '/task-definitions', { raw: deep });
    expect(nested.status).toBe(400);
    expect(nested.body.errors).toEqual([
      { path: '(body)', message: 'nests deeper than 32 levels' },
    ]);
    // Nothing was deleted by the refused DELETE.
    expect((await api('GET', '/services/roll')).body.status).toBe('ACTIVE');
  });

  it('answers 413 for a body over 64 KB and 415 for a body that is not JSON', async () => {
    const big = await api('POST', '/services', {
      raw: JSON.stringify({ serviceName: 'big', pad: 'x'.repeat(70_000) }),
    });
    expect(big.status).toBe(413);
    const form = await api('POST', '/services', {
      raw: 'serviceName=web',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect((await api('GET', '/services/big')).status).toBe(404);
  });

  it('refuses loadBalancers that name no target group, changing nothing (see load-balancers.test.ts)', async () => {
    const refused = await api('POST', '/services', {
      body: {
        ...fargateService('lb', 'roll:1', 1),
        loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:x', containerName: 'c0' }],
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        path: 'loadBalancers[0].targetGroupArn',
        message:
          'must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)',
      },
      { path: 'loadBalancers[0].containerPort', message: expect.any(String) },
    ]);
    expect((await api('GET', '/services/lb')).status).toBe(404);
  });
});
