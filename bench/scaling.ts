/**
 * Benchmark: one tick's scaling pass for many services, without I/O. Each service has a scheduled
 * action (cron in a time zone), a target-tracking policy and a step-scaling policy; the pass builds
 * the metric requests, packs them into GetMetricData calls of at most 500 queries (counted with a
 * stand-in client), and evaluates every service. Compared with the tick's budget (its 55 s Lambda
 * timeout) in the same run. Figures are printed; nothing is asserted.
 *   npm run bench:scaling -- [services=2000] [rounds=5]
 */

import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { makeCloudWatchMetrics } from '../shared/adapters/cloudwatch-metrics';
import {
  evaluateScaling,
  METRIC_PERIOD_SECONDS,
  METRIC_WINDOW_SECONDS,
  metricRequestsOf,
  type ScalingPolicy,
  type ScalingState,
  scalingPoliciesSchema,
} from '../shared/core/scaling';

const services = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 5);
const TICK_BUDGET_MS = 55_000;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC', 'Australia/Sydney'];

const policiesFor = (i: number): ScalingPolicy[] =>
  scalingPoliciesSchema.parse([
    {
      policyName: 'office-hours',
      policyType: 'Scheduled',
      schedule: 'cron(0 8 ? * MON-FRI *)',
      timezone: ZONES[i % ZONES.length],
      scalableTargetAction: { minCapacity: 2 },
    },
    {
      policyName: 'cpu-60',
      policyType: 'TargetTrackingScaling',
      targetTrackingScalingPolicyConfiguration: {
        targetValue: 60,
        predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      },
    },
    {
      policyName: 'queue-steps',
      policyType: 'StepScaling',
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ChangeInCapacity',
        stepAdjustments: [
          { metricIntervalLowerBound: 0, metricIntervalUpperBound: 100, scalingAdjustment: 1 },
          { metricIntervalLowerBound: 100, scalingAdjustment: 3 },
        ],
      },
      alarm: {
        metric: { namespace: 'App', metricName: 'Backlog', statistic: 'Average' },
        threshold: 50,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    },
  ]);

const fleet = Array.from({ length: services }, (_, i) => ({
  name: `svc-${i}`,
  policies: policiesFor(i),
  state: undefined as ScalingState | undefined,
  desired: 2 + (i % 5),
}));

// A stand-in CloudWatch client: answers every query with one datapoint and counts the calls.
let calls = 0;
let queries = 0;
const client = {
  send: async (command: {
    input: { MetricDataQueries?: { Id?: string; ReturnData?: boolean }[] };
  }) => {
    calls += 1;
    const q = command.input.MetricDataQueries ?? [];
    queries += q.length;
    return {
      MetricDataResults: q
        .filter((x) => x.ReturnData !== false)
        .map((x, n) => ({
          Id: x.Id,
          StatusCode: 'Complete',
          Timestamps: [new Date()],
          Values: [40 + (n % 50)],
        })),
    };
  },
} as unknown as CloudWatchClient;
const metrics = makeCloudWatchMetrics({ client });

const start = Date.parse('2026-03-30T05:58:00Z');
const timings: number[] = [];
const heapBefore = process.memoryUsage().heapUsed;
let changed = 0;
for (let round = 0; round < rounds; round++) {
  const now = start + round * 60_000;
  calls = 0;
  queries = 0;
  const t0 = performance.now();
  const requests = fleet.flatMap((s) =>
    metricRequestsOf({ cluster: 'prod', taskDefinitionFamily: s.name, policies: s.policies }).map(
      (r) => ({ ...r, key: `${s.name}/${r.key}` }),
    ),
  );
  const values = await metrics.latest({
    requests,
    now,
    periodSeconds: METRIC_PERIOD_SECONDS,
    windowSeconds: METRIC_WINDOW_SECONDS,
  });
  for (const s of fleet) {
    const own = new Map<string, number | undefined>();
    for (const p of s.policies) own.set(p.policyName, values.get(`${s.name}/${p.policyName}`));
    const decision = evaluateScaling({
      serviceName: s.name,
      policies: s.policies,
      capacity: { desiredCount: s.desired, minCapacity: 1, maxCapacity: 20 },
      runningCount: s.desired,
      state: s.state,
      metrics: own,
      now,
      deploymentInProgress: false,
      paused: false,
      createdAt: start - 86_400_000,
    });
    s.state = decision.state;
    s.desired = decision.desiredCount;
    if (decision.changed) changed += 1;
  }
  timings.push(performance.now() - t0);
  console.log(
    `round ${round + 1}: ${timings.at(-1)?.toFixed(0)} ms for ${services} services, ${requests.length} metric requests in ${calls} GetMetricData calls (${queries} queries)`,
  );
}
const sorted = [...timings].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
console.log(
  `scaling pass: median ${median.toFixed(0)} ms for ${services} services (${((median * 1000) / services).toFixed(0)} µs a service), ${((median / TICK_BUDGET_MS) * 100).toFixed(2)}% of the tick's ${TICK_BUDGET_MS / 1000} s budget; ${changed} decisions changed capacity; heap +${heapMb.toFixed(1)} MB`,
);
