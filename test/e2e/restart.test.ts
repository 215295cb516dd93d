/**
 * `npm start` keeps its state under the data dir: a restart (a new process, as a user restarts it)
 * finds the services it had, and a clock moved forward stays moved (the emulator's stored timers are
 * on that clock).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api';
import { startLocalProcess, stopLocalProcess } from '../support/local-process';

describe('a persisted stack restarted on the same data dir', () => {
  it('keeps its services and its moved clock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'steward-restart-'));
    const first = await startLocalProcess(dataDir);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    try {
      const api = apiClient({ apiUrl: first.apiUrl, token });
      const registered = await api('POST', '/task-definitions', {
        body: {
          family: 'none',
          containerDefinitions: [{ name: 'app', image: 'app:1', memory: 128 }],
        },
      });
      expect(registered.status).toBe(201);
      const created = await api('POST', '/services', {
        body: { serviceName: 'kept', taskDefinition: 'none:1', desiredCount: 0 },
      });
      expect(created.status).toBe(201);
      const moved = await fetch(`${first.awsUrl}/_steward/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: 7200 }),
      });
      expect(moved.status).toBe(200);
    } finally {
      await stopLocalProcess(first);
    }

    const second = await startLocalProcess(dataDir);
    try {
      const api = apiClient({ apiUrl: second.apiUrl, token });
      expect((await api('GET', '/services/kept')).status).toBe(200);
      const clock = (await (await fetch(`${second.awsUrl}/_steward/clock`)).json()) as {
        offsetSeconds: number;
      };
      // Two hours ahead, give or take the seconds the restart took.
      expect(clock.offsetSeconds).toBeGreaterThanOrEqual(7190);
      expect(clock.offsetSeconds).toBeLessThanOrEqual(7200);
    } finally {
      await stopLocalProcess(second);
    }
  }, 60_000);
});
