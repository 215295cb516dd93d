/**
 * The allow-lists of clusters and IAM roles (STEWARD_ALLOWED_CLUSTERS, STEWARD_ALLOWED_ROLE_ARNS): a
 * service on another cluster, or a task definition naming a role outside the list, is refused with
 * 403 and changes nothing, so an API caller cannot launch tasks with a role it should not hold.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '../../local/stack';
import { type ApiCall, startApiStack } from '../support/api';
import { fargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';

const ACCOUNT = '000000000000';
const ALLOWED_ROLE = `arn:aws:iam::${ACCOUNT}:role/steward-tasks-web`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/admin`;

let stack: Stack;
let api: ApiCall;

const definition = (family: string, taskRoleArn?: string): JsonObject => ({
  ...fargateTaskDefinition({ family, containers: [{ name: 'app', image: 'nginx:1.27' }] }),
  ...(taskRoleArn ? { taskRoleArn } : {}),
});

const service = (serviceName: string, taskDefinition: unknown, cluster?: string) => ({
  serviceName,
  ...(cluster ? { cluster } : {}),
  taskDefinition,
  desiredCount: 0,
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
});

beforeAll(async () => {
  ({ stack, api } = await startApiStack('allow', {
    environment: {
      STEWARD_ALLOWED_CLUSTERS: 'default',
      STEWARD_ALLOWED_ROLE_ARNS: `arn:aws:iam::${ACCOUNT}:role/steward-tasks-*`,
    },
  }));
}, 30_000);

afterAll(async () => {
  await stack?.stop();
});

describe('allow-lists', () => {
  it('refuses a service on a cluster outside the list with 403, and creates nothing', async () => {
    const refused = await api('POST', '/services', {
      body: service('elsewhere', 'web:1', 'payments'),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/payments is not in Steward's allowed clusters/);
    expect((await api('GET', '/services/elsewhere')).status).toBe(404);
  });

  it('registers a task definition with an allowed role and refuses one with another role', async () => {
    const ok = await api('POST', '/task-definitions', { body: definition('web', ALLOWED_ROLE) });
    expect(ok.status).toBe(201);
    const refused = await api('POST', '/task-definitions', {
      body: definition('admin-web', OTHER_ROLE),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain(OTHER_ROLE);
    expect((await api('GET', '/task-definitions/admin-web')).status).toBe(404);
  });

  it('refuses an inline definition with another role, and a reference to one registered behind its back', async () => {
    const inline = await api('POST', '/services', {
      body: service('inline-admin', definition('inline-admin', OTHER_ROLE)),
    });
    expect(inline.status).toBe(403);
    expect((await api('GET', '/task-definitions/inline-admin')).status).toBe(404);

    // Registered directly with ECS, bypassing Steward's check: referencing it is still refused.
    const direct = await stack.emulator.handle(
      'RegisterTaskDefinition',
      definition('direct', OTHER_ROLE),
    );
    expect(direct.status).toBe(200);
    const byReference = await api('POST', '/services', { body: service('by-ref', 'direct:1') });
    expect(byReference.status).toBe(403);
    expect((await api('GET', '/services/by-ref')).status).toBe(404);
  });

  it('pins an allowed reference to the revision it checked', async () => {
    const created = await api('POST', '/services', { body: service('pinned', 'web') });
    expect(created.status).toBe(201);
    expect(created.body.taskDefinition).toBe('web:1');
  });

  it('answers 400, not 403, for a reference that does not exist', async () => {
    const missing = await api('POST', '/services', { body: service('missing', 'nope:3') });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { path: 'taskDefinition', message: 'nope:3 is not a registered task definition' },
    ]);
  });
});
