/**
 * Benchmark: how long from StopTask to the replacement task RUNNING, on the local stack.
 * The emulator needs 2 lifecycle steps (PROVISIONING → PENDING → RUNNING) for any new task, so the
 * controller's own share is `elapsed − 2 × step`: event delivery, the version-guarded write,
 * reconcile and RunTask. Figures are printed; nothing is asserted.
 *   npm run bench -- [runs=20] [stepMs=1000]
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { RoutedEvent } from '../local/event-router';
import { startStack } from '../local/stack';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const runs = Number(process.argv[2] ?? 20);
const stepMs = Number(process.argv[3] ?? 1000);

/** Resolvers waiting for a RUNNING event of a task not in the `known` set. */
let waiting: { known: Set<string>; resolve: (at: number) => void } | undefined;
const stack = await startStack({
  dataDir: mkdtempSync(join(tmpdir(), 'steward-bench-')),
  apiPort: 0,
  awsPort: 0,
  taskStepDelayMs: stepMs,
  tickIntervalMs: 0,
  // Benchmarks run under AWS's ECS rate limits (ThrottlingException past the budget).
  ecsRateLimits: true,
  transport: (deliver, event: RoutedEvent) => {
    const d = event.detail as { taskArn?: string; lastStatus?: string; startedBy?: string };
    if (
      waiting &&
      d.lastStatus === 'RUNNING' &&
      d.startedBy === 'steward/bench' &&
      d.taskArn &&
      !waiting.known.has(d.taskArn)
    ) {
      waiting.resolve(performance.now());
      waiting = undefined;
    }
    deliver();
  },
});
const ecs = new ECSClient({
  endpoint: stack.awsUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
await ecs.send(
  new RegisterTaskDefinitionCommand({
    family: 'bench',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image: 'app:1', essential: true }],
  }),
);
const res = await fetch(`${stack.apiUrl}/services`, {
  method: 'POST',
  headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
  body: JSON.stringify({
    serviceName: 'bench',
    taskDefinition: 'bench',
    desiredCount: 3,
    launchType: 'FARGATE',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
  }),
});
if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);

async function runningArns(): Promise<string[]> {
  const listed = await ecs.send(new ListTasksCommand({ startedBy: 'steward/bench' }));
  if (!listed.taskArns?.length) return [];
  const described = await ecs.send(new DescribeTasksCommand({ tasks: listed.taskArns }));
  return (described.tasks ?? [])
    .filter((t) => t.lastStatus === 'RUNNING')
    .map((t) => t.taskArn as string);
}

async function steady(): Promise<string[]> {
  for (;;) {
    const arns = await runningArns();
    if (arns.length === 3) return arns;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const samples: number[] = [];
for (let i = 0; i < runs; i++) {
  const arns = await steady();
  const replaced = new Promise<number>((resolve) => {
    waiting = { known: new Set(arns), resolve };
  });
  const t0 = performance.now();
  await ecs.send(new StopTaskCommand({ task: arns[i % 3], reason: 'bench' }));
  samples.push((await replaced) - t0);
}
ecs.destroy();
await stack.stop();

samples.sort((a, b) => a - b);
const pct = (p: number) =>
  samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))] as number;
const floor = 2 * stepMs;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
console.log(
  `replacement: StopTask -> replacement RUNNING, ${runs} runs, lifecycle step ${stepMs} ms (floor ${floor} ms)`,
);
console.log(
  `  elapsed    min ${fmt(pct(0))}  median ${fmt(pct(50))}  p95 ${fmt(pct(95))}  max ${fmt(pct(100))}`,
);
console.log(
  `  controller min ${fmt(pct(0) - floor)}  median ${fmt(pct(50) - floor)}  p95 ${fmt(pct(95) - floor)}  max ${fmt(pct(100) - floor)}`,
);
