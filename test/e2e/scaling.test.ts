/**
 * Scaling policies end to end, offline: the local stack's clock is moved to the minutes that matter
 * and the tick is run by hand, as the one-minute schedule would. A scheduled action fires at its
 * minute in Europe/Berlin on the day daylight saving starts; target tracking follows a custom metric
 * (put with PutMetricData) out and back in, holding scale-in during its cooldown; target tracking on
 * CPU follows the emulator's simulated load (Container Insights).
 */

import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '../../local/stack';
import { type ApiCall, startApiStack } from '../support/api';
import { fargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

/** Each task of `busy` runs at 90% CPU for its first 5 s, then at 10% (emulator timeline). */
const BUSY_CPU = '90,10@5000';

/** 2026-03-29, 06:58 UTC: Berlin has just moved to CEST (UTC+2), so 09:00 there is 07:00 UTC. */
const START = Date.parse('2026-03-29T06:58:00Z');

let stack: Stack;
let api: ApiCall;
let cloudwatch: CloudWatchClient;

const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } };

function definition(family: string, cpuPercent?: string): JsonObject {
  return fargateTaskDefinition({
    family,
    containers: [
      {
        name: 'app',
        image: 'nginx:1.27',
        ...(cpuPercent === undefined
          ? {}
          : { dockerLabels: { 'steward.emulator/cpu-percent': cpuPercent } }),
      },
    ],
  });
}

/** Moves the stack's clock through the control API, as a user would with curl. */
async function clockAt(iso: string): Promise<void> {
  const res = await fetch(`${stack.awsUrl}/_steward/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now: iso }),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as JsonObject).now).toBe(new Date(iso).toISOString());
}

async function desiredOf(name: string): Promise<number> {
  return (await api('GET', `/services/${name}`)).body.desiredCount;
}

async function messagesOf(name: string): Promise<string[]> {
  const events = await api('GET', `/services/${name}/events`);
  return (events.body.events as { message: string }[]).map((e) => e.message);
}

async function backlog(value: number): Promise<void> {
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: 'Steward/Test',
      MetricData: [
        { MetricName: 'Backlog', Dimensions: [{ Name: 'Queue', Value: 'jobs' }], Value: value },
      ],
    }),
  );
}

beforeAll(async () => {
  ({ stack, api } = await startApiStack('scaling', {
    clockStartsAt: START,
  }));
  cloudwatch = new CloudWatchClient({
    endpoint: stack.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  for (const d of [definition('office'), definition('worker'), definition('busy', BUSY_CPU)]) {
    expect((await api('POST', '/task-definitions', { body: d })).status).toBe(201);
  }
}, 30_000);

afterAll(async () => {
  cloudwatch?.destroy();
  await stack?.stop();
});

describe('scheduled scaling in a time zone', () => {
  it('fires at 09:00 Europe/Berlin, which is 07:00 UTC on the day daylight saving starts', async () => {
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'office',
        taskDefinition: 'office:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        minCapacity: 0,
        maxCapacity: 10,
        scalingPolicies: [
          {
            policyName: 'office-hours',
            policyType: 'Scheduled',
            schedule: 'cron(0 9 * * ? *)',
            timezone: 'Europe/Berlin',
            scalableTargetAction: { minCapacity: 3 },
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.scaling.policies[0]).toMatchObject({
      policyName: 'office-hours',
      nextScheduledAt: '2026-03-29T07:00:00.000Z',
    });

    await stack.tick();
    await clockAt('2026-03-29T06:59:30Z');
    await stack.tick();
    expect(await desiredOf('office')).toBe(1);

    await clockAt('2026-03-29T07:00:20Z');
    await stack.tick();
    const service = (await api('GET', '/services/office')).body;
    expect(service).toMatchObject({ desiredCount: 3, minCapacity: 3, maxCapacity: 10 });
    // The next one is a day later, still 07:00 UTC (CEST holds until October).
    expect(service.scaling.policies[0]).toMatchObject({
      nextScheduledAt: '2026-03-30T07:00:00.000Z',
      lastOutcome: expect.stringMatching(/minCapacity 3/),
    });
    const messages = await messagesOf('office');
    expect(messages).toContainEqual(expect.stringMatching(/^\(service office\) .*office-hours/));
    await waitFor({
      what: 'office to run 3 tasks',
      probe: async () =>
        (await api('GET', '/services/office')).body.runningCount === 3 ? 1 : undefined,
    });
  });
});

describe('target tracking', () => {
  it('follows a custom metric per task out and back in, holding scale-in during its cooldown', async () => {
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'worker',
        taskDefinition: 'worker:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        minCapacity: 1,
        maxCapacity: 8,
        scalingPolicies: [
          {
            policyName: 'backlog-10',
            policyType: 'TargetTrackingScaling',
            targetTrackingScalingPolicyConfiguration: {
              targetValue: 10,
              perTaskMetric: true,
              customizedMetricSpecification: {
                namespace: 'Steward/Test',
                metricName: 'Backlog',
                statistic: 'Average',
                dimensions: [{ name: 'Queue', value: 'jobs' }],
              },
              scaleOutCooldown: 300,
              scaleInCooldown: 300,
            },
          },
        ],
      },
    });
    expect(created.status).toBe(201);

    // No datapoint yet: no action.
    await clockAt('2026-03-29T07:10:10Z');
    await stack.tick();
    expect(await desiredOf('worker')).toBe(1);

    // 80 jobs, 10 per task: 8 tasks.
    await backlog(80);
    await stack.tick();
    expect(await desiredOf('worker')).toBe(8);

    // The backlog halves a minute later: in to 4; the scale-in cooldown starts.
    await clockAt('2026-03-29T07:11:10Z');
    await backlog(40);
    await stack.tick();
    expect(await desiredOf('worker')).toBe(4);

    // It halves again within the cooldown: held at 4.
    await clockAt('2026-03-29T07:12:10Z');
    await backlog(20);
    await stack.tick();
    expect(await desiredOf('worker')).toBe(4);
    const held = (await api('GET', '/services/worker')).body.scaling.policies[0];
    expect(held.lastValue).toBe(20);
    expect(held.lastOutcome).toMatch(/cooldown/);

    // After the cooldown the same reading scales in.
    await clockAt('2026-03-29T07:16:20Z');
    await backlog(20);
    await stack.tick();
    expect(await desiredOf('worker')).toBe(2);

    const messages = await messagesOf('worker');
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^\(service worker\) scaled from 1 to 8 tasks: .*\(policy backlog-10\)/,
      ),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^\(service worker\) scaled from 4 to 2 tasks: .*\(policy backlog-10\)/,
      ),
    );
  });

  it('follows the simulated CPU load of its tasks out and back in (Container Insights)', async () => {
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'busy',
        taskDefinition: 'busy:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        minCapacity: 1,
        maxCapacity: 4,
        scalingPolicies: [
          {
            policyName: 'cpu-60',
            policyType: 'TargetTrackingScaling',
            targetTrackingScalingPolicyConfiguration: {
              targetValue: 60,
              predefinedMetricSpecification: {
                predefinedMetricType: 'ECSServiceAverageCPUUtilization',
              },
            },
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    await waitFor({
      what: 'busy to run its task',
      probe: async () =>
        (await api('GET', '/services/busy')).body.runningCount === 1 ? 1 : undefined,
    });
    await stack.tick();
    // 90% on one task against a 60% target: ceil(1 × 90 / 60) = 2.
    expect(await desiredOf('busy')).toBe(2);
    const report = (await api('GET', '/services/busy')).body.scaling.policies[0];
    expect(report.lastValue).toBeCloseTo(90, 5);
    expect(await messagesOf('busy')).toContainEqual(
      expect.stringMatching(
        /^\(service busy\) scaled from 1 to 2 tasks: .*90.*60.*\(policy cpu-60\)/,
      ),
    );

    // The load drops (each task's timeline goes to 10% after 5 s of running): back in to 1.
    await waitFor({
      what: 'busy to run 2 tasks at 10% CPU',
      timeoutMs: 20_000,
      intervalMs: 250,
      probe: async () => {
        const service = (await api('GET', '/services/busy')).body;
        const usage = (await (
          await fetch(`${stack.awsUrl}/_steward/usage?cluster=default&startedBy=steward/busy`)
        ).json()) as { tasks: number; cpuPercent: number };
        return service.runningCount === 2 && usage.tasks === 2 && usage.cpuPercent < 11
          ? 1
          : undefined;
      },
    });
    await stack.tick();
    // 10% on two tasks: ceil(2 × 10 / 60) = 1, within minCapacity 1.
    expect(await desiredOf('busy')).toBe(1);
    expect(await messagesOf('busy')).toContainEqual(
      expect.stringMatching(
        /^\(service busy\) scaled from 2 to 1 tasks: .*10.*60.*\(policy cpu-60\)/,
      ),
    );
  });
});

describe('manual scale and pause', () => {
  it('a manual desiredCount stands until a policy decides otherwise; pause stops scaling too', async () => {
    // The backlog is still 20 (2 tasks wanted): a manual 5 stands only until the next tick.
    const manual = await api('PATCH', '/services/worker', { body: { desiredCount: 5 } });
    expect(manual.body.desiredCount).toBe(5);
    await clockAt('2026-03-29T07:17:20Z');
    await backlog(20);
    await stack.tick();
    // Scale-in from 5 to 2: the cooldown of the last scale-in (07:16:20) still holds it.
    expect(await desiredOf('worker')).toBe(5);

    const paused = await api('PATCH', '/services/worker', { body: { paused: true } });
    expect(paused.body).toMatchObject({ paused: true, desiredCount: 5 });
    await clockAt('2026-03-29T07:30:20Z');
    await backlog(80);
    await stack.tick();
    // Paused: no task runs and the policies change nothing.
    expect(await desiredOf('worker')).toBe(5);
    await waitFor({
      what: 'worker to stop every task',
      probe: async () =>
        (await api('GET', '/services/worker')).body.runningCount === 0 ? 1 : undefined,
    });

    const resumed = await api('PATCH', '/services/worker', { body: { paused: false } });
    expect(resumed.body.desiredCount).toBe(5);
    await stack.tick();
    expect(await desiredOf('worker')).toBe(8);
  });
});
