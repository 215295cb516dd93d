/**
 * `npm start` as a separate process, as a user runs it: on free ports with a given data dir, fast
 * lifecycle steps and no schedule. For tests of what survives a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export type LocalProcess = { process: ChildProcess; apiUrl: string; awsUrl: string };

/** Starts `local/start.ts` and waits for its banner (killed if it does not come in 30 s). */
export async function startLocalProcess(dataDir: string): Promise<LocalProcess> {
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
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner in time:\n${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const api = /HTTP API\s+(http:\/\/\S+)/.exec(output);
      const aws = /AWS endpoint\s+(http:\/\/\S+)/.exec(output);
      if (api && aws) {
        clearTimeout(timer);
        resolve({ process: child, apiUrl: api[1] as string, awsUrl: aws[1] as string });
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

/** Stops it as Ctrl-C would (SIGTERM) and waits for it to exit. */
export async function stopLocalProcess(started: LocalProcess): Promise<void> {
  if (started.process.exitCode !== null) return;
  const exited = new Promise((r) => started.process.once('exit', r));
  started.process.kill('SIGTERM');
  await exited;
}
