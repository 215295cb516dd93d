/** The real AWS CLI (Debian's awscli at /usr/bin/aws) against a local endpoint, JSON in and out. */
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import type { JsonObject } from './json';

const run = promisify(execFile);

/** Where .ci/run installs the AWS CLI. */
export const AWS_CLI = '/usr/bin/aws';

/** Runs `aws <args> --endpoint-url <endpoint> --output json`, fake credentials; fails with stderr. */
export async function awsCli(o: {
  endpoint: string;
  args: string[];
  /** Kills the CLI after this long; unset: no limit. */
  timeoutMs?: number;
}): Promise<JsonObject> {
  try {
    const { stdout } = await run(
      AWS_CLI,
      [...o.args, '--endpoint-url', o.endpoint, '--output', 'json'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_PAGER: '',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          HOME: tmpdir(),
        },
        ...(o.timeoutMs === undefined ? {} : { timeout: o.timeoutMs }),
      },
    );
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as JsonObject);
  } catch (error) {
    const e = error as { stderr?: string; code?: unknown };
    throw new Error(
      `aws ${o.args.slice(0, 2).join(' ')} failed (exit ${String(e.code)}): ${e.stderr ?? error}`,
    );
  }
}
