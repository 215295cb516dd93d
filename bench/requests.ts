/**
 * Benchmark: AWS requests per controller event, and ECS reads per resync, on the local stack, counted
 * at the one AWS endpoint (DynamoDB and ECS alike). Figures are printed; nothing is asserted.
 *   npm run bench:requests
 * Goals (issue 3): a duplicate or stale event costs 1 DynamoDB request and no ECS call; an event that
 * causes a replacement costs at most 3 DynamoDB requests and 1 RunTask; resync reads ECS in pages of
 * 100 (ListTasks) and batches of 100 (DescribeTasks). A load-balanced service adds one
 * DescribeTargetHealth per target group to each of its reconciles, and is reconciled by every tick.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RoutedEvent } from '../local/event-router';
import { startStack } from '../local/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';

const captured: RoutedEvent[] = [];
let hold = false;
const held: (() => void)[] = [];
const stack = await startStack({
  dataDir: mkdtempSync(join(tmpdir(), 'steward-bench-req-')),
  apiPort: 0,
  awsPort: 0,
  taskStepDelayMs: 10,
  tickIntervalMs: 0,
  // Benchmarks run under AWS's ECS rate limits (ThrottlingException past the budget).
  ecsRateLimits: true,
  transport: (deliver, event) => {
    if (event['detail-type'] === 'ECS Task State Change') captured.push(structuredClone(event));
    if (hold) held.push(deliver);
    else deliver();
  },
});
const ecs = new ECSClient({
  endpoint: stack.awsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
});
const taskEvents = stack.functions.get('taskEvents');
if (!taskEvents) throw new Error('no taskEvents function');
const api = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(async (r) => (await r.json()) as Record<string, unknown>);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, probe: () => Promise<boolean>) {
  for (let i = 0; i < 600; i++) {
    if (await probe()) return;
    await sleep(50);
  }
  throw new Error(`timed out: ${what}`);
}
const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } };

/** Requests made while `fn` runs (and everything it set off), grouped by service. */
async function measure(fn: () => Promise<unknown>) {
  await stack.drain();
  stack.resetRequestCounts();
  await fn();
  await stack.drain();
  const counts = stack.requestCounts();
  const pick = (prefix: string) =>
    Object.entries(counts)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, n]) => [k.slice(prefix.length), n] as const);
  const ddb = pick('DynamoDB_20120810.');
  const ecsCalls = pick('AmazonEC2ContainerServiceV20141113.');
  const elbCalls = pick('ElasticLoadBalancing_v10.');
  const sum = (xs: readonly (readonly [string, number])[]) => xs.reduce((a, [, n]) => a + n, 0);
  const fmt = (xs: readonly (readonly [string, number])[]) =>
    xs.map(([k, n]) => `${k} ${n}`).join(', ') || '-';
  return {
    ddb: sum(ddb),
    ecs: sum(ecsCalls),
    detail: `DynamoDB: ${fmt(ddb)}; ECS: ${fmt(ecsCalls)}${elbCalls.length > 0 ? `; ELB: ${fmt(elbCalls)}` : ''}`,
  };
}

await ecs.send(
  new RegisterTaskDefinitionCommand({
    family: 'web',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'app:1', essential: true }],
  }),
);
await api('POST', '/services', {
  serviceName: 'web',
  taskDefinition: 'web:1',
  desiredCount: 3,
  launchType: 'FARGATE',
  networkConfiguration: network,
});
await until('web steady', async () => (await api('GET', '/services/web')).steady === true);

const rows: [string, { ddb: number; ecs: number; detail: string }][] = [];
const ofTask = (arn: string) => captured.filter((e) => e.detail.taskArn === arn);
const running = captured.filter(
  (e) => e.detail.lastStatus === 'RUNNING' && e.detail.desiredStatus === 'RUNNING',
);
const a = running[0] as RoutedEvent;
const aPending = ofTask(String(a.detail.taskArn)).find(
  (e) => e.detail.lastStatus === 'PENDING',
) as RoutedEvent;

// A fresh event: news for the record, nothing for the plan (a newer version of a running task).
const fresh = structuredClone(a);
fresh.detail.version = Number(a.detail.version) + 1;
fresh.detail.updatedAt = new Date().toISOString();
rows.push([
  'fresh event (new version, no change for the plan)',
  await measure(() => taskEvents.invoke(fresh)),
]);
rows.push(['duplicate event (same version again)', await measure(() => taskEvents.invoke(fresh))]);
rows.push([
  'stale event (older version: PENDING after RUNNING)',
  await measure(() => taskEvents.invoke(aPending)),
]);

// A replacement: stop task B with deliveries held, then deliver only its first stop event.
const b = running[1] as RoutedEvent;
hold = true;
const before = captured.length;
await ecs.send(new StopTaskCommand({ task: String(b.detail.taskArn), reason: 'bench' }));
await until('the stop event', async () =>
  captured
    .slice(before)
    .some((e) => e.detail.taskArn === b.detail.taskArn && e.detail.desiredStatus === 'STOPPED'),
);
const stopEvent = captured
  .slice(before)
  .find(
    (e) => e.detail.taskArn === b.detail.taskArn && e.detail.desiredStatus === 'STOPPED',
  ) as RoutedEvent;
rows.push([
  'replacement-causing event (task stopped)',
  await measure(() => taskEvents.invoke(stopEvent)),
]);
const afterStop = captured.length;
await until('the replacement to run', async () =>
  captured.slice(afterStop).some((e) => e.detail.lastStatus === 'RUNNING'),
);
const followUps = held.length;
const rest = await measure(async () => {
  hold = false;
  for (const deliver of held.splice(0)) deliver();
});
rows.push([`the ${followUps} follow-up events of that replacement, together`, rest]);
await until('web steady again', async () => (await api('GET', '/services/web')).steady === true);

// A load-balanced service of 3 tasks in one target group, healthy and steady.
const elb = new ElasticLoadBalancingV2Client({
  endpoint: stack.awsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
});
const group = await elb.send(
  new CreateTargetGroupCommand({
    Name: 'lbweb',
    Protocol: 'HTTP',
    Port: 8080,
    VpcId: 'vpc-1',
    TargetType: 'ip',
    HealthCheckIntervalSeconds: 5,
    HealthCheckTimeoutSeconds: 2,
    HealthyThresholdCount: 2,
  }),
);
await ecs.send(
  new RegisterTaskDefinitionCommand({
    family: 'lbweb',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'app', image: 'app:1', essential: true, portMappings: [{ containerPort: 8080 }] },
    ],
  }),
);
const beforeLb = captured.length;
await api('POST', '/services', {
  serviceName: 'lbweb',
  taskDefinition: 'lbweb:1',
  desiredCount: 3,
  launchType: 'FARGATE',
  networkConfiguration: network,
  loadBalancers: [
    {
      targetGroupArn: group.TargetGroups?.[0]?.TargetGroupArn,
      containerName: 'app',
      containerPort: 8080,
    },
  ],
});
await until('lbweb registered', async () => {
  const tasks = (await api('GET', '/services/lbweb/tasks')).tasks as { targets?: unknown }[];
  return tasks.length === 3 && tasks.every((t) => t.targets !== undefined);
});
// Registered (claimed, then RegisterTargets) and healthy 10 s of the stack's clock later.
stack.clock.advance(10_000);
await until('lbweb steady', async () => {
  await stack.tick();
  return (await api('GET', '/services/lbweb')).steady === true;
});
const lbRunning = captured
  .slice(beforeLb)
  .find((e) => e.detail.lastStatus === 'RUNNING' && e.detail.desiredStatus === 'RUNNING');
if (!lbRunning) throw new Error('no RUNNING event of lbweb');
const freshLb = structuredClone(lbRunning);
freshLb.detail.version = Number(lbRunning.detail.version) + 1;
freshLb.detail.updatedAt = new Date().toISOString();
rows.push([
  'fresh event of a load-balanced service (1 target group)',
  await measure(() => taskEvents.invoke(freshLb)),
]);
rows.push([
  'tick: web and lbweb steady (lbweb is reconciled every tick)',
  await measure(() => stack.tick()),
]);
await api('DELETE', '/services/lbweb');
elb.destroy();

const throttledInEvents = stack.emulator.counters().throttled;
// Resync of 1,000 tasks: 10 services of 100 whose tasks were started directly in ECS and whose
// events are all lost, so only the tick can find them. One tick records every task; the next has
// nothing to correct (steady state).
hold = true;
for (let s = 0; s < 10; s++) {
  await api('POST', '/services', {
    serviceName: `bulk${s}`,
    taskDefinition: 'web:1',
    desiredCount: 100,
    launchType: 'FARGATE',
    networkConfiguration: network,
  });
}
let ran = 0;
for (let s = 0; s < 10; s++) {
  for (let slot = 0; slot < 100; slot++) {
    await ecs.send(
      new RunTaskCommand({
        taskDefinition: 'web:1',
        launchType: 'FARGATE',
        networkConfiguration: network,
        startedBy: `steward/bulk${s}`,
        overrides: {
          containerOverrides: [
            {
              name: 'app',
              // As Steward launches them: slot and deployment (1, the services' first).
              environment: [
                { name: 'STEWARD_TASK_INDEX', value: String(slot) },
                { name: 'STEWARD_DEPLOYMENT', value: '1' },
              ],
            },
          ],
        },
      }),
    );
    ran += 1;
  }
}
await sleep(200);
// The bulk tasks above were started by this benchmark's own (unpaced) client; count only Steward's.
stack.emulator.resetCounters();
const first = await measure(() => stack.tick());
const second = await measure(() => stack.tick());
rows.push([`resync, ${ran} tasks unknown to Steward (first tick)`, first]);
rows.push(['resync, the same tasks, nothing to correct (next tick)', second]);
held.splice(0);
const throttledInTicks = stack.emulator.counters().throttled;

ecs.destroy();
await stack.stop();
console.log('requests per event / per resync (local stack, counted at the AWS endpoint)');
console.log(
  `  ECS calls of Steward throttled (rate limits on): events ${JSON.stringify(throttledInEvents)}, ticks ${JSON.stringify(throttledInTicks)}`,
);
for (const [label, m] of rows)
  console.log(
    `  ${label.padEnd(58)} DynamoDB ${String(m.ddb).padStart(4)}  ECS ${String(m.ecs).padStart(4)}   (${m.detail})`,
  );
