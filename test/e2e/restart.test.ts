/**
 * `npm start` keeps its state under the data dir: a restart (a new process, as a user restarts it)
 * finds the services it had, and a clock moved forward stays moved (the emulator's stored timers are
 * on that clock).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { apiClient } from '../support/api';

type Started = { process: ChildProcess; apiUrl: string; awsUrl: string };

/** Starts `local/start.ts` (what `npm start` runs) on free ports and waits for its banner. */
async function startProcess(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: {
      ...process.env,
      STEWARD_DATA_DIR: dataDir,
      STEWARD_PORT: '0',
      STEWARD_AWS_PORT: '0',
      STEWARD_TASK_STEP_MS: '10',
      STEWARD_TICK_SECONDS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in time:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const api = /HTTP API\s+(http:\/\/\S+)/.exec(output);
      const aws = /AWS endpoint\s+(http:\/\/\S+)/.exec(output);
      if (api && aws) {
        clearTimeout(timer);
        resolve({ process: child, apiUrl: api[1] as string, awsUrl: aws[1] as string });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

async function stopProcess(started: Started): Promise<void> {
  const exited = new Promise((r) => started.process.once('exit', r));
  started.process.kill('SIGTERM');
  await exited;
}

describe('a persisted stack restarted on the same data dir', () => {
  it('keeps its services and its moved clock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'steward-restart-'));
    const first = await startProcess(dataDir);
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
      await stopProcess(first);
    }

    const second = await startProcess(dataDir);
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
      await stopProcess(second);
    }
  }, 60_000);
});
