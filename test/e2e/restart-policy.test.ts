/**
 * The restart policy end to end on the local stack: a task definition whose container exits at once
 * backs off (growing delays, said in the service events), gives up after N failures, and recovers
 * after a spec change once a healthy revision of its family exists.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import { registerFargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;
let ecs: ECSClient;

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: JsonObject }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}

const conditionTypes = async () =>
  ((await api('GET', '/services/crashy')).body.conditions as { type: string }[]).map((c) => c.type);
const messages = async () =>
  ((await api('GET', '/services/crashy/events')).body.events as { message: string }[]).map(
    (e) => e.message,
  );

async function register(labels: Record<string, string>) {
  await registerFargateTaskDefinition({
    client: ecs,
    family: 'crashy',
    containers: [{ name: 'app', image: 'app:1', essential: true, dockerLabels: labels }],
  });
}

beforeAll(async () => {
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-restart-')),
    apiPort: 0,
    awsPort: 0,
    taskStepDelayMs: 20,
    tickIntervalMs: 0,
  });
  ecs = new ECSClient({
    endpoint: stack.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
}, 30_000);

afterAll(async () => {
  ecs?.destroy();
  await stack?.stop();
});

describe('restart policy', () => {
  it('backs off a crash loop, gives up after 3 failures, and recovers after a spec change', async () => {
    // Revision 1 exits with code 1 as soon as it runs.
    await register({ 'steward.emulator/exit-after-ms': '0', 'steward.emulator/exit-code': '1' });
    const created = await api('POST', '/services', {
      serviceName: 'crashy',
      taskDefinition: 'crashy',
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      restartPolicy: { baseDelaySeconds: 1, factor: 2, maxConsecutiveFailures: 3, jitter: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.body.restartPolicy).toEqual({
      baseDelaySeconds: 1,
      factor: 2,
      maxDelaySeconds: 900,
      jitter: 0,
      maxConsecutiveFailures: 3,
      healthyAfterSeconds: 60,
    });

    await waitFor({
      what: 'the first backoff',
      probe: async () => ((await conditionTypes()).includes('BackingOff') ? true : undefined),
    });
    const first = (await api('GET', '/services/crashy')).body.conditions.find(
      (c: { type: string }) => c.type === 'BackingOff',
    );
    expect(first.message).toMatch(
      /^1 consecutive failures \(last: EssentialContainerExited: Essential container in task exited\); next attempt at /,
    );

    // The tick retries once the delay is over (1 s, then 2 s); the third failure gives up.
    await waitFor({
      what: 'the service to give up',
      timeoutMs: 20_000,
      intervalMs: 200,
      probe: async () => {
        await stack.tick();
        return (await conditionTypes()).includes('Failed') ? true : undefined;
      },
    });
    const failed = (await api('GET', '/services/crashy')).body;
    expect(failed.conditions).toEqual([
      {
        type: 'Failed',
        message:
          'Stopped starting tasks after 3 consecutive failures (last: EssentialContainerExited: Essential container in task exited). Change the service to try again.',
        failures: 3,
      },
    ]);
    const said = await messages();
    expect(
      said.filter((m) =>
        m.includes('is unable to consistently start tasks successfully: 1 consecutive failures'),
      ),
    ).toHaveLength(1);
    expect(
      said.filter((m) =>
        m.includes('is unable to consistently start tasks successfully: 2 consecutive failures'),
      ),
    ).toHaveLength(1);
    expect(
      said.filter((m) =>
        m.startsWith('(service crashy) Stopped starting tasks after 3 consecutive failures'),
      ),
    ).toHaveLength(1);

    // Given up: more ticks launch nothing.
    const launchedBefore = said.filter((m) => m.includes('has started')).length;
    await stack.tick();
    await stack.tick();
    await stack.drain();
    expect((await messages()).filter((m) => m.includes('has started')).length).toBe(launchedBefore);

    // The fix ships as revision 2. The service names its family, which Steward pinned to revision 1
    // (as ECS pins it); naming the family again picks the latest revision, and that spec change (a
    // deployment) starts a new streak.
    await register({});
    const patched = await api('PATCH', '/services/crashy', {
      taskDefinition: 'crashy',
      restartPolicy: { baseDelaySeconds: 1, maxConsecutiveFailures: 3 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.taskDefinition).toBe('crashy:2');
    const steady = await waitFor({
      what: 'the service to run steadily on the healthy revision',
      timeoutMs: 10_000,
      probe: async () => {
        const s = (await api('GET', '/services/crashy')).body;
        return s.steady ? s : undefined;
      },
    });
    expect(steady.conditions).toEqual([{ type: 'Steady', message: '1 of 1 tasks running.' }]);
  }, 40_000);
});
