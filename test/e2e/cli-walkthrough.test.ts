/**
 * The README's walkthrough with the real AWS CLI (Debian's awscli, installed by .ci/run) against the
 * local stack, at `npm start`'s default pace (1 s per task lifecycle step). Prints how long a
 * replacement takes from StopTask to RUNNING.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import { awsCli } from '../support/aws-cli';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;

/** Runs `aws … --endpoint-url <local> --output json` and parses what it prints. */
const aws = (...args: string[]): Promise<JsonObject> => awsCli({ endpoint: stack.awsUrl, args });

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonObject };
}

beforeAll(async () => {
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-cli-')),
    apiPort: 0,
    awsPort: 0,
    tickIntervalMs: 0,
  });
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the README walkthrough, with the AWS CLI', () => {
  it('registers a task definition, runs a service, and replaces a task stopped with the CLI', async () => {
    const registered = await aws(
      'ecs',
      'register-task-definition',
      '--family',
      'hello',
      '--requires-compatibilities',
      'FARGATE',
      '--network-mode',
      'awsvpc',
      '--cpu',
      '256',
      '--memory',
      '512',
      '--container-definitions',
      JSON.stringify([
        {
          name: 'web',
          image: 'public.ecr.aws/nginx/nginx:latest',
          essential: true,
          portMappings: [{ containerPort: 80 }],
        },
      ]),
    );
    expect(registered.taskDefinition.taskDefinitionArn).toMatch(/:task-definition\/hello:1$/);

    const created = await api('POST', '/services', {
      serviceName: 'hello',
      taskDefinition: 'hello:1',
      desiredCount: 2,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-12345678'], assignPublicIp: 'ENABLED' },
      },
    });
    expect(created.status).toBe(201);

    const listed = await waitFor({
      what: 'two RUNNING tasks',
      timeoutMs: 30_000,
      intervalMs: 200,
      probe: async () => {
        const arns: string[] = (await aws('ecs', 'list-tasks', '--started-by', 'steward/hello'))
          .taskArns;
        if (arns.length !== 2) return undefined;
        const tasks = (await aws('ecs', 'describe-tasks', '--tasks', ...arns)).tasks as {
          lastStatus: string;
        }[];
        return tasks.every((t) => t.lastStatus === 'RUNNING') ? arns : undefined;
      },
    });

    const victim = listed[0] as string;
    const started = Date.now();
    const stopped = await aws('ecs', 'stop-task', '--task', victim, '--reason', 'walkthrough');
    expect(stopped.task.desiredStatus).toBe('STOPPED');

    await waitFor({
      what: 'a replacement RUNNING',
      timeoutMs: 30_000,
      intervalMs: 100,
      probe: async () => {
        const arns: string[] = (await aws('ecs', 'list-tasks', '--started-by', 'steward/hello'))
          .taskArns;
        const fresh = arns.filter((a) => !listed.includes(a));
        if (fresh.length !== 1) return undefined;
        const [task] = (await aws('ecs', 'describe-tasks', '--tasks', ...fresh)).tasks as {
          lastStatus: string;
        }[];
        return task?.lastStatus === 'RUNNING' ? true : undefined;
      },
    });
    const elapsed = Date.now() - started;
    const view = await waitFor({
      what: 'runningCount back at 2',
      timeoutMs: 10_000,
      probe: async () => {
        const got = await api('GET', '/services/hello');
        return got.body.runningCount === 2 && got.body.steady ? got.body : undefined;
      },
    });
    expect(view.desiredCount).toBe(2);
    process.stdout.write(
      `CLI walkthrough: stop-task -> replacement RUNNING in ${elapsed} ms (1 s per lifecycle step, CLI polling included)\n`,
    );
  }, 90_000);
});
