/**
 * Optimistic concurrency over HTTP: the ETag carries the generation, If-Match makes PATCH and DELETE
 * conditional. Two clients working from the same read: one wins, the other gets 412, nothing is lost.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import type { JsonObject } from '../support/json';

let stack: Stack;

async function call(method: string, path: string, o: { body?: unknown; ifMatch?: string } = {}) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.token}`,
      'content-type': 'application/json',
      ...(o.ifMatch === undefined ? {} : { 'if-match': o.ifMatch }),
    },
    ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
  });
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    body: (await res.json()) as JsonObject,
  };
}

beforeAll(async () => {
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-occ-')),
    apiPort: 0,
    awsPort: 0,
    taskStepDelayMs: 10,
    tickIntervalMs: 0,
  });
  // The services here run no task, but their task definition must exist (as for CreateService).
  const registered = await call('POST', '/task-definitions', {
    body: { family: 'none', containerDefinitions: [{ name: 'app', image: 'app:1', memory: 128 }] },
  });
  expect(registered.status).toBe(201);
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('ETag and If-Match', () => {
  it('lets one of two clients with the same read win; the other gets 412 and loses nothing', async () => {
    const created = await call('POST', '/services', {
      body: { serviceName: 'shared', taskDefinition: 'none:1', desiredCount: 0 },
    });
    expect(created.status).toBe(201);
    expect(created.etag).toBe('"1"');

    // Both clients read the same version.
    const read = await call('GET', '/services/shared');
    expect(read.etag).toBe('"1"');

    const a = await call('PATCH', '/services/shared', {
      body: { desiredCount: 0, restartPolicy: { maxConsecutiveFailures: 3 } },
      ifMatch: read.etag ?? '',
    });
    expect(a.status).toBe(200);
    expect(a.etag).toBe('"2"');

    const b = await call('PATCH', '/services/shared', {
      body: { restartPolicy: { maxConsecutiveFailures: 7 } },
      ifMatch: read.etag ?? '',
    });
    expect(b.status).toBe(412);
    expect(b.body.errors).toEqual([
      { path: 'headers.if-match', message: expect.stringMatching(/has changed/) },
    ]);

    // A's write stands, B's did not happen: nothing was overwritten silently.
    const after = await call('GET', '/services/shared');
    expect(after.etag).toBe('"2"');
    expect(after.body.restartPolicy.maxConsecutiveFailures).toBe(3);

    // B reads again and retries with the current ETag.
    const retried = await call('PATCH', '/services/shared', {
      body: { restartPolicy: { maxConsecutiveFailures: 7 } },
      ifMatch: after.etag ?? '',
    });
    expect(retried.status).toBe(200);
    expect(retried.body.restartPolicy.maxConsecutiveFailures).toBe(7);
  });

  it('makes DELETE conditional too, accepts * and a list of ETags, and refuses what is no ETag of ours', async () => {
    await call('POST', '/services', {
      body: { serviceName: 'doomed', taskDefinition: 'none:1', desiredCount: 0 },
    });
    expect((await call('DELETE', '/services/doomed', { ifMatch: '"7"' })).status).toBe(412);
    expect(
      (await call('PATCH', '/services/doomed', { body: { desiredCount: 0 }, ifMatch: 'W/"1"' }))
        .status,
    ).toBe(412);
    expect(
      (await call('PATCH', '/services/doomed', { body: { desiredCount: 0 }, ifMatch: '"9", "1"' }))
        .status,
    ).toBe(200);
    expect((await call('GET', '/services/doomed')).body.status).toBe('ACTIVE');
    const deleted = await call('DELETE', '/services/doomed', { ifMatch: '*' });
    expect(deleted.status).toBe(202);
    expect(deleted.body.status).toBe('DRAINING');
  });

  it('without If-Match, a write is unconditional (the last writer wins), as documented', async () => {
    await call('POST', '/services', {
      body: { serviceName: 'free', taskDefinition: 'none:1', desiredCount: 0 },
    });
    expect((await call('PATCH', '/services/free', { body: { desiredCount: 0 } })).etag).toBe('"2"');
    expect((await call('PATCH', '/services/free', { body: { desiredCount: 0 } })).etag).toBe('"3"');
  });
});
