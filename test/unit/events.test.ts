import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../shared/core/errors';
import { parseControllerEvent } from '../../shared/core/events';

/** A fresh copy of a JSON fixture from `events/` (shared with `invoke local`). */
function fixture(name: string): Record<string, unknown> & { detail: Record<string, unknown> } {
  const url = new URL(`../../events/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

const running = () => fixture('ecs-task-state-change-running');
const stopped = () => fixture('ecs-task-state-change-stopped');
const foreign = () => fixture('ecs-task-state-change-foreign');
const serviceChanged = () => fixture('steward-service-changed');

const TASK_ID = '0f4d2c9a8b7e4e6f9a1b2c3d4e5f6a7b';
const TASK_ARN = `arn:aws:ecs:eu-west-1:123456789012:task/default/${TASK_ID}`;
const CLUSTER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:cluster/default';
const TASK_DEFINITION_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3';

/** The fields of a TaskRecord an event may fill in. */
const RECORD_KEYS = [
  'capacityProviderName',
  'privateIp',
  'taskId',
  'taskArn',
  'clusterArn',
  'lastStatus',
  'desiredStatus',
  'version',
  'taskDefinitionArn',
  'createdAt',
  'startedAt',
  'stoppingAt',
  'stoppedAt',
  'stopCode',
  'stoppedReason',
  'updatedAt',
  // Read from the container environment Steward sets at launch.
  'slot',
  'launchToken',
];

const LAUNCH_TOKEN = 'stw-5f0c2a9d41e6b7c3a8f19d2e0b4c6a7d8e9f0a1b';

/** The ValidationError `parseControllerEvent` throws for `event`, or a failure if it does not. */
function rejectionOf(event: unknown): ValidationError {
  try {
    parseControllerEvent(event);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but the event was accepted');
}

describe('parseControllerEvent: fixtures', () => {
  it('a RUNNING task of steward/web becomes its observation, timestamps kept as ISO strings', () => {
    expect(parseControllerEvent(running())).toEqual({
      kind: 'task-state-change',
      observation: {
        serviceName: 'web',
        task: {
          taskId: TASK_ID,
          taskArn: TASK_ARN,
          clusterArn: CLUSTER_ARN,
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          version: 3,
          taskDefinitionArn: TASK_DEFINITION_ARN,
          createdAt: '2025-03-14T09:21:03.512Z',
          startedAt: '2025-03-14T09:21:41.904Z',
          updatedAt: '2025-03-14T09:21:41.904Z',
          capacityProviderName: 'FARGATE',
          // The ENI's address (attachments[].details privateIPv4Address), for ip targets.
          privateIp: '10.0.1.23',
          // From the container environment Steward set at launch.
          slot: 0,
          launchToken: LAUNCH_TOKEN,
        },
      },
    });
  });

  it('a STOPPED task keeps its stop code, reason and stop timestamps', () => {
    expect(parseControllerEvent(stopped())).toEqual({
      kind: 'task-state-change',
      observation: {
        serviceName: 'web',
        task: {
          taskId: TASK_ID,
          taskArn: TASK_ARN,
          clusterArn: CLUSTER_ARN,
          lastStatus: 'STOPPED',
          desiredStatus: 'STOPPED',
          version: 6,
          taskDefinitionArn: TASK_DEFINITION_ARN,
          createdAt: '2025-03-14T09:21:03.512Z',
          startedAt: '2025-03-14T09:21:41.904Z',
          stoppingAt: '2025-03-14T11:04:48.012Z',
          stoppedAt: '2025-03-14T11:05:18.664Z',
          stopCode: 'EssentialContainerExited',
          stoppedReason: 'Essential container in task exited',
          updatedAt: '2025-03-14T11:05:18.664Z',
          capacityProviderName: 'FARGATE',
          privateIp: '10.0.1.23',
          slot: 0,
          launchToken: LAUNCH_TOKEN,
        },
      },
    });
  });

  it('a task of an ECS service (startedBy ecs-svc/…) parses with no owning service', () => {
    const parsed = parseControllerEvent(foreign());
    expect(parsed).toMatchObject({
      kind: 'task-state-change',
      observation: {
        serviceName: undefined,
        task: { taskId: '7c3e91a0b5d24f68a0e1b2c3d4f5a6b7', lastStatus: 'RUNNING', version: 4 },
      },
    });
    if (parsed.kind !== 'task-state-change') throw new Error('wrong kind');
    expect(Object.hasOwn(parsed.observation, 'serviceName')).toBe(true);
  });

  it('a Steward Service Changed event names its service', () => {
    expect(parseControllerEvent(serviceChanged())).toEqual({
      kind: 'service-changed',
      serviceName: 'web',
    });
  });
});

describe('parseControllerEvent: tolerated input', () => {
  type Case = [name: string, change: (e: ReturnType<typeof running>) => void, expected: object];
  it.each<Case>([
    [
      'unknown top-level and detail fields (ECS may add some)',
      (e) => {
        e.futureField = { nested: [1, 2, 3] };
        e.detail.healthStatus = 'HEALTHY';
        e.detail.someNewThing = null;
      },
      { serviceName: 'web', task: { taskId: TASK_ID, version: 3 } },
    ],
    [
      'optional fields absent (startedBy, timestamps, task definition)',
      (e) => {
        for (const k of ['startedBy', 'createdAt', 'startedAt', 'updatedAt', 'taskDefinitionArn'])
          delete e.detail[k];
      },
      {
        serviceName: undefined,
        task: {
          taskId: TASK_ID,
          taskArn: TASK_ARN,
          clusterArn: CLUSTER_ARN,
          lastStatus: 'RUNNING',
          desiredStatus: 'RUNNING',
          version: 3,
        },
      },
    ],
    [
      'old-format task ARN (no cluster segment): the id is the last segment',
      (e) => {
        e.detail.taskArn =
          'arn:aws:ecs:us-east-1:123456789012:task/b99d40b3-5176-4f71-9a52-9dbd6f1cebef';
      },
      { task: { taskId: 'b99d40b3-5176-4f71-9a52-9dbd6f1cebef' } },
    ],
    [
      'another partition (aws-cn)',
      (e) => {
        e.detail.taskArn = `arn:aws-cn:ecs:cn-north-1:123456789012:task/default/${TASK_ID}`;
      },
      { task: { taskId: TASK_ID } },
    ],
    [
      'a DEPROVISIONING task (a real lastStatus value)',
      (e) => {
        e.detail.lastStatus = 'DEPROVISIONING';
      },
      { task: { lastStatus: 'DEPROVISIONING' } },
    ],
    [
      'timestamps with an offset or without fractional seconds',
      (e) => {
        e.detail.createdAt = '2025-03-14T09:21:03+00:00';
        e.detail.startedAt = '2025-03-14T09:21:41Z';
      },
      { task: { createdAt: '2025-03-14T09:21:03+00:00', startedAt: '2025-03-14T09:21:41Z' } },
    ],
    [
      'version 0',
      (e) => {
        e.detail.version = 0;
      },
      { task: { version: 0 } },
    ],
    [
      'a service name with every allowed kind of character',
      (e) => {
        e.detail.startedBy = 'steward/Web_api-2';
      },
      { serviceName: 'Web_api-2' },
    ],
  ])('%s', (_name, change, expected) => {
    const event = running();
    change(event);
    const parsed = parseControllerEvent(event);
    expect(parsed.kind).toBe('task-state-change');
    if (parsed.kind !== 'task-state-change') return;
    expect(parsed.observation).toMatchObject(expected);
    // Only what the task record needs is kept; unknown fields do not leak into the record.
    for (const key of Object.keys(parsed.observation.task)) expect(RECORD_KEYS).toContain(key);
  });

  it('"steward/" alone names no service', () => {
    const event = running();
    event.detail.startedBy = 'steward/';
    const parsed = parseControllerEvent(event);
    expect(parsed.kind === 'task-state-change' && parsed.observation.serviceName).toBeUndefined();
  });

  it('a service-changed event may carry extra fields', () => {
    const event = serviceChanged();
    event.detail.reason = 'spec written';
    expect(parseControllerEvent(event)).toEqual({ kind: 'service-changed', serviceName: 'web' });
  });
});

describe('parseControllerEvent: poison events throw a ValidationError naming the bad fields', () => {
  type Case = [name: string, event: () => unknown, paths: string[]];
  const withDetail = (change: (d: Record<string, unknown>) => void) => () => {
    const e = running();
    change(e.detail);
    return e;
  };
  it.each<Case>([
    ['null', () => null, ['(event)']],
    ['an array', () => [running()], ['(event)']],
    ['a string', () => JSON.stringify(running()), ['(event)']],
    ['a number', () => 42, ['(event)']],
    [
      'string version',
      withDetail((d) => {
        d.version = '3';
      }),
      ['detail.version'],
    ],
    [
      'fractional version',
      withDetail((d) => {
        d.version = 3.5;
      }),
      ['detail.version'],
    ],
    [
      'negative version',
      withDetail((d) => {
        d.version = -1;
      }),
      ['detail.version'],
    ],
    [
      'taskArn missing',
      withDetail((d) => {
        delete d.taskArn;
      }),
      ['detail.taskArn'],
    ],
    [
      'taskArn not a task ARN',
      withDetail((d) => {
        d.taskArn = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/default/abc';
      }),
      ['detail.taskArn'],
    ],
    [
      'clusterArn empty',
      withDetail((d) => {
        d.clusterArn = '';
      }),
      ['detail.clusterArn'],
    ],
    [
      'unknown lastStatus',
      withDetail((d) => {
        d.lastStatus = 'EXPLODED';
      }),
      ['detail.lastStatus'],
    ],
    [
      'timestamp not ISO-8601 (epoch number, as DescribeTasks has it)',
      withDetail((d) => {
        d.startedAt = 1741944101904;
      }),
      ['detail.startedAt'],
    ],
    [
      'timestamp with a space',
      withDetail((d) => {
        d.stoppedAt = '2025-03-14 11:05:18Z';
      }),
      ['detail.stoppedAt'],
    ],
    [
      'detail missing',
      () => {
        const { detail: _detail, ...rest } = running();
        return rest;
      },
      ['detail'],
    ],
    [
      'several bad fields at once',
      withDetail((d) => {
        d.version = 'three';
        delete d.taskArn;
        d.lastStatus = 7;
      }),
      ['detail.taskArn', 'detail.lastStatus', 'detail.version'],
    ],
    [
      'unknown detail-type',
      () => ({ ...running(), 'detail-type': 'ECS Task State Changed' }),
      ['detail-type'],
    ],
    ['detail-type missing', () => ({ ...running(), 'detail-type': undefined }), ['detail-type']],
    ['source not aws.ecs', () => ({ ...running(), source: 'steward' }), ['source']],
    [
      'service-changed from another source',
      () => ({ ...serviceChanged(), source: 'aws.ecs' }),
      ['source'],
    ],
    [
      'service-changed without a service name',
      () => ({ ...serviceChanged(), detail: {} }),
      ['detail.serviceName'],
    ],
    [
      'service-changed with an empty service name',
      () => ({ ...serviceChanged(), detail: { serviceName: '' } }),
      ['detail.serviceName'],
    ],
  ])('%s', (_name, event, paths) => {
    const error = rejectionOf(event());
    expect(error.name).toBe('ValidationError');
    expect(error.errors.map((e) => e.path)).toEqual(paths);
    for (const e of error.errors) expect(e.message).not.toBe('');
    expect(error.message).toBe(`Invalid event: ${paths.join(', ')}`);
  });
});
