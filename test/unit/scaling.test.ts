/**
 * Scaling policies: validation (paths and messages), the metric requests they make, and one
 * evaluation per tick — target tracking and step arithmetic, cooldowns, conflicts between policies,
 * scheduled actions (across a DST change), the deployment hold, bounds, no data and pause.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ValidationError } from '../../shared/core/errors';
import {
  type AdjustmentType,
  evaluateScaling,
  matchingStep,
  metricRequestsOf,
  type ScalingDecision,
  type ScalingPolicy,
  type ScalingState,
  type StepAdjustment,
  scalingPoliciesSchema,
  stepCapacity,
} from '../../shared/core/scaling';
import { parseSchedule, ScheduleError } from '../../shared/core/schedule';
import { parseOrThrow } from '../../shared/core/schemas';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.parse('2026-01-15T12:00:00Z');
const CREATED = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const policiesOf = (input: unknown): ScalingPolicy[] =>
  parseOrThrow({ schema: scalingPoliciesSchema, input, what: 'scaling policies' });

const cpu = (config: Record<string, unknown> = {}) => ({
  policyName: 'cpu-60',
  policyType: 'TargetTrackingScaling',
  targetTrackingScalingPolicyConfiguration: {
    targetValue: 60,
    predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
    ...config,
  },
});

const memory = (config: Record<string, unknown> = {}) => ({
  policyName: 'mem-70',
  policyType: 'TargetTrackingScaling',
  targetTrackingScalingPolicyConfiguration: {
    targetValue: 70,
    predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageMemoryUtilization' },
    ...config,
  },
});

const SQS_METRIC = {
  namespace: 'AWS/SQS',
  metricName: 'ApproximateNumberOfMessagesVisible',
  dimensions: [{ name: 'QueueName', value: 'jobs' }],
  statistic: 'Sum',
};

/** Backlog per task, 10 messages each. */
const backlog = (config: Record<string, unknown> = {}) => ({
  policyName: 'backlog',
  policyType: 'TargetTrackingScaling',
  targetTrackingScalingPolicyConfiguration: {
    targetValue: 10,
    customizedMetricSpecification: SQS_METRIC,
    perTaskMetric: true,
    ...config,
  },
});

/** Oldest message age ≥ 100 s: +2 tasks up to 150 s, +3 beyond. */
const queueSteps = (config: Record<string, unknown> = {}, alarm: Record<string, unknown> = {}) => ({
  policyName: 'queue-steps',
  policyType: 'StepScaling',
  stepScalingPolicyConfiguration: {
    adjustmentType: 'ChangeInCapacity',
    stepAdjustments: [
      { metricIntervalLowerBound: 0, metricIntervalUpperBound: 50, scalingAdjustment: 2 },
      { metricIntervalLowerBound: 50, scalingAdjustment: 3 },
    ],
    ...config,
  },
  alarm: {
    metric: {
      namespace: 'AWS/SQS',
      metricName: 'ApproximateAgeOfOldestMessage',
      dimensions: [{ name: 'QueueName', value: 'jobs' }],
      statistic: 'Maximum',
    },
    threshold: 100,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    ...alarm,
  },
});

/** Fewer than 10 requests a minute: one task less. */
const idleSteps = (config: Record<string, unknown> = {}) => ({
  policyName: 'idle',
  policyType: 'StepScaling',
  stepScalingPolicyConfiguration: {
    adjustmentType: 'ChangeInCapacity',
    stepAdjustments: [{ metricIntervalUpperBound: 0, scalingAdjustment: -1 }],
    ...config,
  },
  alarm: {
    metric: { namespace: 'App', metricName: 'Requests', statistic: 'Sum' },
    threshold: 10,
    comparisonOperator: 'LessThanThreshold',
  },
});

const scheduled = (
  name: string,
  schedule: string,
  action: Record<string, number>,
  extra: Record<string, unknown> = {},
) => ({
  policyName: name,
  policyType: 'Scheduled',
  schedule,
  scalableTargetAction: action,
  ...extra,
});

type Run = {
  policies: unknown[];
  desired: number;
  min?: number;
  max?: number;
  running?: number;
  metrics?: Record<string, number | undefined>;
  state?: ScalingState | undefined;
  now?: number;
  deploymentInProgress?: boolean;
  paused?: boolean;
};

function run(o: Run): ScalingDecision {
  return evaluateScaling({
    serviceName: 'web',
    policies: policiesOf(o.policies),
    capacity: { desiredCount: o.desired, minCapacity: o.min ?? 1, maxCapacity: o.max ?? 20 },
    runningCount: o.running ?? o.desired,
    state: o.state,
    metrics: new Map(Object.entries(o.metrics ?? {})),
    now: o.now ?? T0,
    deploymentInProgress: o.deploymentInProgress ?? false,
    paused: o.paused ?? false,
    createdAt: CREATED,
  });
}

/** A later tick, at T0 + `sinceT0` ms, from where `prev` left the service. */
function next(
  prev: ScalingDecision,
  o: Omit<Run, 'desired' | 'state' | 'now'> & { sinceT0: number },
) {
  return run({
    ...o,
    desired: prev.desiredCount,
    min: o.min ?? prev.minCapacity,
    max: o.max ?? prev.maxCapacity,
    state: prev.state,
    now: T0 + o.sinceT0,
  });
}

const outcomeOf = (d: ScalingDecision, name: string) =>
  d.report.find((r) => r.policyName === name)?.lastOutcome;
const policyState = (d: ScalingDecision, name: string) =>
  d.state.policies.find((p) => p.policyName === name);

describe('target tracking: capacity × metric / target, rounded up', () => {
  it.each<[desired: number, value: number, target: number, expected: number]>([
    [2, 83.1, 60, 3], // 2.77
    [4, 90, 60, 6],
    [3, 60, 60, 3], // at target
    [3, 59.9, 60, 3], // 2.995: scale-in rounds up too, never removing too much
    [4, 40, 60, 3], // 2.67
    [10, 10, 60, 2], // 1.67
    [10, 0, 60, 1], // 0, floored at minCapacity 1
    [3, 0.1, 0.1, 3], // 3 × 0.1 / 0.1 is 3.0000000000000004 in floating point: still 3
  ])('%i tasks at %d against %d: %i tasks', (desired, value, target, expected) => {
    const d = run({
      policies: [cpu({ targetValue: target })],
      desired,
      metrics: { 'cpu-60': value },
    });
    expect(d.desiredCount).toBe(expected);
    expect(d.changed).toBe(expected !== desired);
    expect(d.events).toHaveLength(expected === desired ? 0 : 1);
  });

  it('says what it did, in the event, the report and the state', () => {
    const d = run({ policies: [cpu()], desired: 2, metrics: { 'cpu-60': 83.14 } });
    expect(d.events).toEqual([
      'scaled from 2 to 3 tasks: CPUUtilization 83.1 > target 60 (policy cpu-60)',
    ]);
    expect(d.report).toEqual([
      {
        policyName: 'cpu-60',
        policyType: 'TargetTrackingScaling',
        lastEvaluatedAt: iso(T0),
        lastValue: 83.14,
        lastOutcome: 'scaled out from 2 to 3: CPUUtilization 83.1 > target 60',
      },
    ]);
    expect(policyState(d, 'cpu-60')).toMatchObject({
      scaleOutCooldownUntil: T0 + 300 * S,
      scaleOutFrom: 2,
    });
    const down = run({ policies: [cpu()], desired: 4, metrics: { 'cpu-60': 40 } });
    expect(down.events).toEqual([
      'scaled from 4 to 3 tasks: CPUUtilization 40 < target 60 (policy cpu-60)',
    ]);
  });

  it('a steady service makes no event, but the evaluation is recorded', () => {
    const d = run({ policies: [cpu()], desired: 3, metrics: { 'cpu-60': 60 } });
    expect(d).toMatchObject({ desiredCount: 3, minCapacity: 1, maxCapacity: 20, changed: false });
    expect(d.events).toEqual([]);
    expect(d.report[0]).toEqual({
      policyName: 'cpu-60',
      policyType: 'TargetTrackingScaling',
      lastEvaluatedAt: iso(T0),
      lastValue: 60,
      lastOutcome: 'at target with 3 tasks: CPUUtilization 60, target 60',
    });
    expect(d.state).toEqual({
      lastEvaluatedAt: T0,
      policies: [
        {
          policyName: 'cpu-60',
          lastEvaluatedAt: T0,
          lastValue: 60,
          lastOutcome: 'at target with 3 tasks: CPUUtilization 60, target 60',
        },
      ],
    });
  });
});

describe('target tracking per task (perTaskMetric): ceil(total / target per task)', () => {
  it.each<[desired: number, running: number, total: number, expected: number]>([
    [3, 3, 120, 12],
    [3, 3, 30, 3], // 10 per task: at target
    [5, 5, 21, 3], // 2.1
    [0, 0, 5, 1], // from zero
    [2, 2, 0, 0], // to zero
    [4, 1, 40, 4], // three tasks still starting: the backlog still needs four
  ])('%i desired, %i running, backlog %d: %i tasks', (desired, running, total, expected) => {
    const d = run({
      policies: [backlog()],
      desired,
      running,
      min: 0,
      metrics: { backlog: total },
    });
    expect(d.desiredCount).toBe(expected);
  });

  it('reports the value per task', () => {
    const d = run({ policies: [backlog()], desired: 3, min: 0, metrics: { backlog: 120 } });
    expect(d.events).toEqual([
      'scaled from 3 to 12 tasks: ApproximateNumberOfMessagesVisible 120 / 3 tasks = 40 per task > target 10 (policy backlog)',
    ]);
    expect(d.report[0]?.lastValue).toBe(120);
  });
});

describe('step scaling arithmetic', () => {
  it.each<
    [AdjustmentType, adjustment: number, from: number, magnitude: number | undefined, to: number]
  >([
    ['ChangeInCapacity', 2, 4, undefined, 6],
    ['ChangeInCapacity', -1, 4, undefined, 3],
    ['ExactCapacity', 5, 2, undefined, 5],
    ['ExactCapacity', 0, 7, undefined, 0],
    ['PercentChangeInCapacity', 50, 4, undefined, 6],
    ['PercentChangeInCapacity', 30, 11, undefined, 14], // AWS: 3.3 rounded down to 3
    ['PercentChangeInCapacity', -10, 14, undefined, 13], // AWS: 1.4 rounded down to 1
    ['PercentChangeInCapacity', 10, 5, undefined, 6], // 0.5 is one task
    ['PercentChangeInCapacity', -10, 5, undefined, 4], // -0.5 is one task
    ['PercentChangeInCapacity', -50, 5, undefined, 3], // -2.5 truncated toward zero
    ['PercentChangeInCapacity', 30, 10, undefined, 13], // exactly 3
    ['PercentChangeInCapacity', 200, 10, undefined, 30], // AWS's PutScalingPolicy example
    ['PercentChangeInCapacity', 25, 4, 2, 6], // AWS: 25 % of 4 is 1, MinAdjustmentMagnitude 2
    ['PercentChangeInCapacity', -25, 4, 2, 2],
    ['PercentChangeInCapacity', 25, 12, 2, 15], // 3 already at least 2
    ['PercentChangeInCapacity', 50, 0, undefined, 0], // a percentage of nothing
    ['PercentChangeInCapacity', 50, 0, 1, 1], // ... unless a magnitude is set
  ])('%s %i from %i (MinAdjustmentMagnitude %s): %i', (adjustmentType, adj, from, mam, to) => {
    expect(
      stepCapacity({
        adjustmentType,
        scalingAdjustment: adj,
        capacity: from,
        minAdjustmentMagnitude: mam,
      }),
    ).toBe(to);
  });

  // AWS's example: threshold 50; [0, 10) is 50 ≤ metric < 60, (-10, 0] is 40 < metric ≤ 50.
  const above: StepAdjustment[] = [
    { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
    { metricIntervalLowerBound: 10, scalingAdjustment: 3 },
  ];
  const below: StepAdjustment[] = [
    { metricIntervalLowerBound: -10, metricIntervalUpperBound: 0, scalingAdjustment: -1 },
    { metricIntervalUpperBound: -10, scalingAdjustment: -2 },
  ];
  it.each<
    [
      name: string,
      steps: StepAdjustment[],
      difference: number,
      isAbove: boolean,
      adj: number | undefined,
    ]
  >([
    ['at the threshold, above: lower bound inclusive', above, 0, true, 1],
    ['just under the next bound', above, 9.99, true, 1],
    ['on the next bound: upper bound exclusive', above, 10, true, 3],
    ['far above: open-ended', above, 1000, true, 3],
    ['under the threshold: no step', above, -0.5, true, undefined],
    ['at the threshold, below: upper bound inclusive', below, 0, false, -1],
    ['on the bound below: lower bound exclusive', below, -10, false, -2],
    ['far below: open-ended', below, -1000, false, -2],
  ])('%s', (_name, steps, difference, isAbove, adj) => {
    expect(matchingStep({ steps, difference, above: isAbove })?.scalingAdjustment).toBe(adj);
  });

  it('applies the step the breach falls in, relative to the alarm threshold', () => {
    const small = run({ policies: [queueSteps()], desired: 4, metrics: { 'queue-steps': 130 } });
    expect(small.desiredCount).toBe(6);
    expect(small.events).toEqual([
      'scaled from 4 to 6 tasks: ApproximateAgeOfOldestMessage 130 >= threshold 100, step +2 tasks (policy queue-steps)',
    ]);
    const big = run({ policies: [queueSteps()], desired: 4, metrics: { 'queue-steps': 150 } });
    expect(big.desiredCount).toBe(7);
  });

  it('does nothing while the alarm is not breached', () => {
    const d = run({ policies: [queueSteps()], desired: 4, metrics: { 'queue-steps': 99 } });
    expect(d).toMatchObject({ desiredCount: 4, changed: false, events: [] });
    expect(outcomeOf(d, 'queue-steps')).toBe(
      'alarm OK: ApproximateAgeOfOldestMessage 99, alarm when >= 100',
    );
  });

  it('scales in on a low alarm, by percentage with a minimum magnitude, or to an exact capacity', () => {
    expect(run({ policies: [idleSteps()], desired: 4, metrics: { idle: 3 } }).desiredCount).toBe(3);
    const percent = queueSteps({
      adjustmentType: 'PercentChangeInCapacity',
      stepAdjustments: [{ metricIntervalLowerBound: 0, scalingAdjustment: 25 }],
      minAdjustmentMagnitude: 2,
    });
    const p = run({ policies: [percent], desired: 4, metrics: { 'queue-steps': 120 } });
    expect(p.desiredCount).toBe(6);
    expect(p.events[0]).toMatch(/step \+25% \(policy queue-steps\)$/);
    const exact = queueSteps({
      adjustmentType: 'ExactCapacity',
      stepAdjustments: [{ metricIntervalLowerBound: 0, scalingAdjustment: 8 }],
    });
    expect(
      run({ policies: [exact], desired: 3, metrics: { 'queue-steps': 120 } }).desiredCount,
    ).toBe(8);
  });
});

describe('cooldowns', () => {
  it('scale-out: the capacity the last scale-out added counts until the cooldown ends', () => {
    const first = run({ policies: [cpu()], desired: 2, metrics: { 'cpu-60': 90 } });
    expect(first.desiredCount).toBe(3);
    // A minute later the metric has not caught up: from 2 tasks, 90 % needs 3, which it has.
    const lagging = next(first, { policies: [cpu()], sinceT0: MIN, metrics: { 'cpu-60': 90 } });
    expect(lagging).toMatchObject({ desiredCount: 3, changed: false, events: [] });
    expect(outcomeOf(lagging, 'cpu-60')).toBe(
      `scale-out held: cooldown until ${iso(T0 + 300 * S)} (CPUUtilization 90, target 60)`,
    );
    // A larger scale-out goes ahead within the cooldown: from 2 tasks, 200 % needs 7.
    const surge = next(first, { policies: [cpu()], sinceT0: MIN, metrics: { 'cpu-60': 200 } });
    expect(surge.desiredCount).toBe(7);
    // After the cooldown, the capacity now is the base: 3 × 90 / 60 = 4.5, so 5.
    const after = next(lagging, { policies: [cpu()], sinceT0: 301 * S, metrics: { 'cpu-60': 90 } });
    expect(after.desiredCount).toBe(5);
  });

  it('scale-out, step scaling: AWS example, +2 then +3 within the cooldown adds only 1', () => {
    const first = run({ policies: [queueSteps()], desired: 4, metrics: { 'queue-steps': 130 } });
    expect(first.desiredCount).toBe(6);
    const worse = next(first, {
      policies: [queueSteps()],
      sinceT0: MIN,
      metrics: { 'queue-steps': 160 },
    });
    expect(worse.desiredCount).toBe(7);
    expect(worse.events).toEqual([
      'scaled from 6 to 7 tasks: ApproximateAgeOfOldestMessage 160 >= threshold 100, step +3 tasks (policy queue-steps)',
    ]);
    const same = next(first, {
      policies: [queueSteps()],
      sinceT0: MIN,
      metrics: { 'queue-steps': 130 },
    });
    expect(same.desiredCount).toBe(6);
    expect(outcomeOf(same, 'queue-steps')).toMatch(
      /^scale-out held: cooldown until 2026-01-15T12:05:00.000Z, the 2 tasks added count toward it/,
    );
  });

  it('scale-in: blocked until the cooldown has expired', () => {
    const first = run({ policies: [cpu()], desired: 6, metrics: { 'cpu-60': 40 } });
    expect(first.desiredCount).toBe(4);
    const blocked = next(first, { policies: [cpu()], sinceT0: MIN, metrics: { 'cpu-60': 30 } });
    expect(blocked).toMatchObject({ desiredCount: 4, changed: false, events: [] });
    expect(outcomeOf(blocked, 'cpu-60')).toBe(
      `scale-in to 2 held: cooldown until ${iso(T0 + 300 * S)} (CPUUtilization 30 < target 60)`,
    );
    const later = next(blocked, {
      policies: [cpu()],
      sinceT0: 301 * S,
      metrics: { 'cpu-60': 30 },
    });
    expect(later.desiredCount).toBe(2);
    // Step scaling the same way, with its single cooldown.
    const s1 = run({ policies: [idleSteps()], desired: 4, metrics: { idle: 3 } });
    const s2 = next(s1, { policies: [idleSteps()], sinceT0: MIN, metrics: { idle: 3 } });
    const s3 = next(s2, { policies: [idleSteps()], sinceT0: 301 * S, metrics: { idle: 3 } });
    expect([s1.desiredCount, s2.desiredCount, s3.desiredCount]).toEqual([3, 3, 2]);
  });

  it('a scale-out interrupts a scale-in cooldown, which then does not complete', () => {
    const scaledIn = run({ policies: [cpu()], desired: 6, metrics: { 'cpu-60': 40 } });
    expect(policyState(scaledIn, 'cpu-60')?.scaleInCooldownUntil).toBe(T0 + 300 * S);
    const out = next(scaledIn, { policies: [cpu()], sinceT0: MIN, metrics: { 'cpu-60': 90 } });
    expect(out.desiredCount).toBe(6);
    expect(policyState(out, 'cpu-60')?.scaleInCooldownUntil).toBeUndefined();
    // So the next scale-in is not held by the earlier one's cooldown.
    const back = next(out, { policies: [cpu()], sinceT0: 2 * MIN, metrics: { 'cpu-60': 20 } });
    expect(back.desiredCount).toBe(2);
  });

  it('cooldowns are configurable, 0 included', () => {
    const policies = [cpu({ scaleOutCooldown: 0 })];
    const first = run({ policies, desired: 2, metrics: { 'cpu-60': 90 } });
    const again = next(first, { policies, sinceT0: MIN, metrics: { 'cpu-60': 90 } });
    expect([first.desiredCount, again.desiredCount]).toEqual([3, 5]);
  });
});

describe('several policies', () => {
  it('any policy may scale out, and the largest capacity wins', () => {
    const outAndIn = run({
      policies: [cpu(), memory()],
      desired: 4,
      metrics: { 'cpu-60': 90, 'mem-70': 10 },
    });
    expect(outAndIn.desiredCount).toBe(6);
    const bothOut = run({
      policies: [cpu(), memory()],
      desired: 4,
      metrics: { 'cpu-60': 90, 'mem-70': 140 },
    });
    expect(bothOut.desiredCount).toBe(8);
    expect(bothOut.events).toEqual([
      'scaled from 4 to 8 tasks: MemoryUtilization 140 > target 70 (policy mem-70)',
    ]);
    expect(outcomeOf(bothOut, 'cpu-60')).toBe(
      'scale-out to 6: CPUUtilization 90 > target 60; policy mem-70 asked for more (8)',
    );
    // Both took part in the scale-out: both are in their cooldown.
    expect(policyState(bothOut, 'cpu-60')?.scaleOutCooldownUntil).toBe(T0 + 300 * S);
    expect(policyState(bothOut, 'mem-70')?.scaleOutCooldownUntil).toBe(T0 + 300 * S);
  });

  it('target tracking scales in only when every policy agrees, to the largest capacity', () => {
    const one = run({
      policies: [cpu(), memory()],
      desired: 6,
      metrics: { 'cpu-60': 20, 'mem-70': 70 },
    });
    expect(one).toMatchObject({ desiredCount: 6, changed: false, events: [] });
    expect(outcomeOf(one, 'cpu-60')).toBe(
      'scale-in to 2: CPUUtilization 20 < target 60; waits for policy mem-70 (every target-tracking policy must agree to scale in)',
    );
    const both = run({
      policies: [cpu(), memory()],
      desired: 6,
      metrics: { 'cpu-60': 20, 'mem-70': 35 },
    });
    expect(both.desiredCount).toBe(3);
    expect(both.events).toEqual([
      'scaled from 6 to 3 tasks: MemoryUtilization 35 < target 70 (policy mem-70)',
    ]);
  });

  it('a policy without data does not agree to scale in', () => {
    const d = run({ policies: [cpu(), memory()], desired: 6, metrics: { 'cpu-60': 20 } });
    expect(d.desiredCount).toBe(6);
  });

  it('a policy with scale-in disabled never scales in and has no say in it', () => {
    const d = run({
      policies: [cpu(), memory({ disableScaleIn: true })],
      desired: 6,
      metrics: { 'cpu-60': 20, 'mem-70': 10 },
    });
    expect(d.desiredCount).toBe(2);
    expect(outcomeOf(d, 'mem-70')).toBe(
      'scale-in disabled (would be 1): MemoryUtilization 10 < target 70',
    );
    const alone = run({
      policies: [cpu({ disableScaleIn: true })],
      desired: 6,
      metrics: { 'cpu-60': 10 },
    });
    expect(alone.desiredCount).toBe(6);
  });

  it('step scale-in is not blocked by target tracking (as AAS warns)', () => {
    const d = run({
      policies: [cpu(), idleSteps()],
      desired: 4,
      metrics: { 'cpu-60': 60, idle: 3 },
    });
    expect(d.desiredCount).toBe(3);
  });

  it('scheduled and dynamic: a new minimum stands against a scale-in in the same minute', () => {
    const policies = [scheduled('scale-up', 'cron(0 12 * * ? *)', { minCapacity: 5 }), cpu()];
    const d = run({ policies, desired: 2, metrics: { 'cpu-60': 10 } });
    expect(d).toMatchObject({ desiredCount: 5, minCapacity: 5, maxCapacity: 20, changed: true });
    expect(d.events).toEqual([
      'scheduled action scale-up set minCapacity 5 (cron(0 12 * * ? *) UTC)',
      'scaled from 2 to 5 tasks: minCapacity 5 set by scheduled action scale-up',
    ]);
  });

  it('scheduled and dynamic: a scheduled desired count stands this minute unless a policy needs more', () => {
    const burst = scheduled('burst', 'cron(0 12 * * ? *)', { desiredCount: 8 });
    const calm = run({ policies: [burst, cpu()], desired: 2, metrics: { 'cpu-60': 20 } });
    expect(calm.desiredCount).toBe(8);
    expect(outcomeOf(calm, 'cpu-60')).toMatch(/skipped: a scheduled action set the capacity/);
    const busy = run({ policies: [burst, cpu()], desired: 2, metrics: { 'cpu-60': 300 } });
    expect(busy.desiredCount).toBe(10);
    expect(busy.events).toEqual([
      'scaled from 2 to 8 tasks: desiredCount 8 set by scheduled action burst',
      'scaled from 8 to 10 tasks: CPUUtilization 300 > target 60 (policy cpu-60)',
    ]);
  });

  it('scheduled bounds bound the dynamic policies', () => {
    const policies = [scheduled('cap', 'cron(0 12 * * ? *)', { maxCapacity: 3 }), cpu()];
    const d = run({ policies, desired: 2, metrics: { 'cpu-60': 150 } });
    expect(d).toMatchObject({ desiredCount: 3, maxCapacity: 3 });
    expect(d.events).toEqual([
      'scheduled action cap set maxCapacity 3 (cron(0 12 * * ? *) UTC)',
      'scaled from 2 to 3 tasks: CPUUtilization 150 > target 60 (policy cpu-60) (capped at maxCapacity 3)',
    ]);
  });
});

describe('scheduled actions', () => {
  const morning = scheduled('morning', 'cron(0 8 * * ? *)', { minCapacity: 5 });
  const evening = scheduled('evening', 'cron(0 18 * * ? *)', { minCapacity: 1, maxCapacity: 4 });

  it('apply every action fired since the last evaluation, oldest first, scheduled actions ignoring cooldowns', () => {
    const state: ScalingState = {
      lastEvaluatedAt: Date.parse('2026-01-15T07:00:00Z'),
      policies: [
        { policyName: 'cpu-60', scaleInCooldownUntil: Date.parse('2026-01-15T20:00:00Z') },
      ],
    };
    const d = run({
      policies: [evening, morning, cpu()],
      desired: 2,
      state,
      now: Date.parse('2026-01-15T19:00:00Z'),
    });
    expect(d).toMatchObject({ desiredCount: 4, minCapacity: 1, maxCapacity: 4 });
    expect(d.events).toEqual([
      'scheduled action morning set minCapacity 5 (cron(0 8 * * ? *) UTC)',
      'scaled from 2 to 5 tasks: minCapacity 5 set by scheduled action morning',
      'scheduled action evening set minCapacity 1, maxCapacity 4 (cron(0 18 * * ? *) UTC)',
      'scaled from 5 to 4 tasks: maxCapacity 4 set by scheduled action evening',
    ]);
    expect(d.report.find((r) => r.policyName === 'evening')).toEqual({
      policyName: 'evening',
      policyType: 'Scheduled',
      lastEvaluatedAt: '2026-01-15T19:00:00.000Z',
      lastValue: null,
      lastOutcome:
        'fired at 2026-01-15T18:00:00.000Z: set minCapacity 1, maxCapacity 4; scaled from 5 to 4 tasks',
      nextScheduledAt: '2026-01-16T18:00:00.000Z',
    });
  });

  it('apply only the latest fire of each, once', () => {
    const every10 = scheduled('every-10', 'rate(10 minutes)', { minCapacity: 2 });
    const state: ScalingState = { lastEvaluatedAt: T0 - 60 * MIN, policies: [] };
    const d = run({ policies: [every10], desired: 1, state });
    expect(d.desiredCount).toBe(2);
    expect(outcomeOf(d, 'every-10')).toBe(
      'fired at 2026-01-15T12:00:00.000Z: set minCapacity 2; scaled from 1 to 2 tasks',
    );
    // Evaluated again at the same instant (a retried tick): nothing fires twice.
    const again = run({ policies: [every10], desired: 1, min: 1, state: d.state });
    expect(again).toMatchObject({ desiredCount: 1, changed: false, events: [] });
  });

  it('a first evaluation looks back one minute only', () => {
    const d = run({
      policies: [morning],
      desired: 1,
      now: Date.parse('2026-01-15T08:00:59Z'),
    });
    expect(d.events).toHaveLength(2);
    const late = run({ policies: [morning], desired: 1, now: Date.parse('2026-01-15T08:01:00Z') });
    expect(late.events).toEqual([]);
    expect(outcomeOf(late, 'morning')).toBe('not fired yet');
  });

  it('a new max below the desired count lowers it; a bound not given yields to one given', () => {
    const lower = scheduled('night', 'cron(0 12 * * ? *)', { maxCapacity: 2 });
    const d = run({ policies: [lower], desired: 6, min: 3, max: 10 });
    expect(d).toMatchObject({ desiredCount: 2, minCapacity: 2, maxCapacity: 2 });
  });

  it('respect startTime and endTime', () => {
    const window = scheduled(
      'campaign',
      'cron(0 12 * * ? *)',
      { minCapacity: 4 },
      { startTime: '2026-01-16T00:00:00+01:00', endTime: '2026-01-31T00:00:00+01:00' },
    );
    expect(run({ policies: [window], desired: 1 }).events).toEqual([]);
    const d = run({ policies: [window], desired: 1, now: T0 + 86_400 * S });
    expect(d.desiredCount).toBe(4);
    expect(d.report[0]?.nextScheduledAt).toBe('2026-01-17T12:00:00.000Z');
  });

  it('fires at its local minute across the Europe/Berlin DST change (2026-03-29)', () => {
    const officeHours = {
      ...scheduled('office-hours', 'cron(0 8 * * ? *)', { minCapacity: 2, maxCapacity: 10 }),
      timezone: 'Europe/Berlin',
    };
    const policies = policiesOf([officeHours]);
    let state: ScalingState | undefined;
    const firedAt: string[] = [];
    const events: string[] = [];
    // Every minute from Saturday to Monday, as the schedule runs; each fire starts from 1 task.
    for (
      let now = Date.parse('2026-03-28T00:00:00Z');
      now < Date.parse('2026-03-31T00:00:00Z');
      now += MIN
    ) {
      const d = evaluateScaling({
        serviceName: 'web',
        policies,
        capacity: { desiredCount: 1, minCapacity: 0, maxCapacity: 5 },
        runningCount: 1,
        state,
        metrics: new Map(),
        now,
        deploymentInProgress: false,
        paused: false,
        createdAt: CREATED,
      });
      if (d.events.length > 0) {
        firedAt.push(iso(now));
        events.push(...d.events);
      }
      state = d.state;
    }
    // 08:00 CET is 07:00Z; from Sunday 08:00 CEST is 06:00Z.
    expect(firedAt).toEqual([
      '2026-03-28T07:00:00.000Z',
      '2026-03-29T06:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
    ]);
    expect(events.slice(0, 2)).toEqual([
      'scheduled action office-hours set minCapacity 2, maxCapacity 10 (cron(0 8 * * ? *) Europe/Berlin)',
      'scaled from 1 to 2 tasks: minCapacity 2 set by scheduled action office-hours',
    ]);
    const saturday = run({
      policies: [officeHours],
      desired: 2,
      min: 2,
      max: 10,
      now: Date.parse('2026-03-28T07:00:00Z'),
    });
    expect(saturday.report[0]?.nextScheduledAt).toBe('2026-03-29T06:00:00.000Z');
  });
});

describe('holds, bounds, no data, pause', () => {
  it('holds a scale-in while a deployment is in progress, and says so once', () => {
    const held = run({
      policies: [cpu()],
      desired: 6,
      metrics: { 'cpu-60': 20 },
      deploymentInProgress: true,
    });
    expect(held).toMatchObject({ desiredCount: 6, changed: false });
    expect(held.events).toEqual(['scale-in to 2 held: deployment in progress']);
    expect(outcomeOf(held, 'cpu-60')).toBe(
      'scale-in to 2: CPUUtilization 20 < target 60; held: deployment in progress',
    );
    const still = next(held, {
      policies: [cpu()],
      sinceT0: MIN,
      metrics: { 'cpu-60': 20 },
      deploymentInProgress: true,
    });
    expect(still.events).toEqual([]);
    const done = next(still, { policies: [cpu()], sinceT0: 2 * MIN, metrics: { 'cpu-60': 20 } });
    expect(done.desiredCount).toBe(2);
    // Scale-out goes on during a deployment.
    const out = run({
      policies: [cpu()],
      desired: 2,
      metrics: { 'cpu-60': 90 },
      deploymentInProgress: true,
    });
    expect(out.desiredCount).toBe(3);
  });

  it('keeps the result within [minCapacity, maxCapacity]', () => {
    const capped = run({ policies: [cpu()], desired: 8, max: 10, metrics: { 'cpu-60': 120 } });
    expect(capped.desiredCount).toBe(10);
    expect(capped.events).toEqual([
      'scaled from 8 to 10 tasks: CPUUtilization 120 > target 60 (policy cpu-60) (capped at maxCapacity 10)',
    ]);
    const floored = run({ policies: [cpu()], desired: 6, min: 3, metrics: { 'cpu-60': 10 } });
    expect(floored.events).toEqual([
      'scaled from 6 to 3 tasks: CPUUtilization 10 < target 60 (policy cpu-60) (floored at minCapacity 3)',
    ]);
    const atMax = run({ policies: [cpu()], desired: 10, max: 10, metrics: { 'cpu-60': 120 } });
    expect(atMax).toMatchObject({ desiredCount: 10, changed: false, events: [] });
    expect(outcomeOf(atMax, 'cpu-60')).toBe(
      'scale-out to 20: CPUUtilization 120 > target 60; no change: already at maxCapacity 10',
    );
  });

  it('brings a desired count set by hand outside the bounds back inside them', () => {
    const high = run({ policies: [cpu()], desired: 15, max: 10 });
    expect(high.desiredCount).toBe(10);
    expect(high.events).toEqual(['scaled from 15 to 10 tasks: desiredCount above maxCapacity 10']);
    const low = run({ policies: [cpu()], desired: 0, min: 2 });
    expect(low.events).toEqual(['scaled from 0 to 2 tasks: desiredCount below minCapacity 2']);
    // Inside the bounds, a desired count set by hand stands until a policy decides otherwise.
    expect(run({ policies: [cpu()], desired: 7 })).toMatchObject({
      desiredCount: 7,
      changed: false,
    });
  });

  it('no datapoint: no action, and no value reported', () => {
    const d = run({
      policies: [cpu(), queueSteps()],
      desired: 3,
      metrics: { 'cpu-60': undefined, 'queue-steps': Number.NaN },
    });
    expect(d).toMatchObject({ desiredCount: 3, changed: false, events: [] });
    expect(d.report.map((r) => [r.lastValue, r.lastOutcome])).toEqual([
      [null, 'no data: no datapoint of CPUUtilization in the last 5 minutes'],
      [null, 'no data: no datapoint of ApproximateAgeOfOldestMessage in the last 5 minutes'],
    ]);
  });

  it('paused: no change at all, the report says so, and the schedule catches up on resume', () => {
    const policies = [scheduled('at-11', 'cron(0 11 * * ? *)', { minCapacity: 3 }), cpu()];
    const before = run({ policies, desired: 2, now: T0 - 2 * 60 * MIN });
    const paused = next(before, {
      policies,
      sinceT0: -30 * MIN, // 11:30, the 11:00 fire is in the past
      metrics: { 'cpu-60': 95 },
      paused: true,
    });
    expect(paused).toMatchObject({ desiredCount: 2, minCapacity: 1, changed: false, events: [] });
    expect(outcomeOf(paused, 'cpu-60')).toBe('paused: no scaling while the service is paused');
    expect(paused.state.lastEvaluatedAt).toBe(T0 - 2 * 60 * MIN);
    const resumed = next(paused, { policies, sinceT0: 0 });
    expect(resumed).toMatchObject({ desiredCount: 3, minCapacity: 3 });
    const later = next(resumed, { policies, sinceT0: MIN, metrics: { 'cpu-60': 60 } });
    expect(outcomeOf(later, 'at-11')).toBe(
      'fired at 2026-01-15T11:00:00.000Z: set minCapacity 3; scaled from 2 to 3 tasks',
    );
    // Paused again and resumed before the next fire: the report no longer says paused.
    const pausedAgain = next(later, { policies, sinceT0: 2 * MIN, paused: true });
    const back = next(pausedAgain, { policies, sinceT0: 3 * MIN });
    expect(outcomeOf(pausedAgain, 'at-11')).toBe('paused: no scaling while the service is paused');
    expect(outcomeOf(back, 'at-11')).toBe('last fired at 2026-01-15T11:00:00.000Z');
  });

  it('keeps state for current policies only, as plain JSON', () => {
    const state: ScalingState = {
      lastEvaluatedAt: T0 - MIN,
      policies: [
        { policyName: 'removed', lastOutcome: 'x' },
        { policyName: 'cpu-60', lastValue: 50 },
      ],
    };
    const d = run({ policies: [cpu()], desired: 3, state, metrics: { 'cpu-60': undefined } });
    expect(d.state.policies.map((p) => p.policyName)).toEqual(['cpu-60']);
    expect(JSON.parse(JSON.stringify(d.state))).toEqual(d.state);
  });

  it('property: the result is within the bounds and the same input gives the same decision', () => {
    const value = fc.option(fc.double({ min: 0, max: 500, noNaN: true }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            cpu: value,
            mem: value,
            age: value,
            idle: value,
            deploying: fc.boolean(),
            afterS: fc.integer({ min: 1, max: 600 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 0, max: 30 }),
        (ticks, min, extra, desired) => {
          const policies = policiesOf([cpu(), memory(), queueSteps(), idleSteps()]);
          let now = T0;
          let capacity = { desiredCount: desired, minCapacity: min, maxCapacity: min + extra };
          let state: ScalingState | undefined;
          for (const t of ticks) {
            now += t.afterS * S;
            const input = {
              serviceName: 'web',
              policies,
              capacity,
              runningCount: capacity.desiredCount,
              state,
              metrics: new Map<string, number | undefined>([
                ['cpu-60', t.cpu],
                ['mem-70', t.mem],
                ['queue-steps', t.age],
                ['idle', t.idle],
              ]),
              now,
              deploymentInProgress: t.deploying,
              paused: false,
              createdAt: CREATED,
            };
            const d = evaluateScaling(input);
            expect(evaluateScaling(input)).toEqual(d);
            expect(d.desiredCount).toBeGreaterThanOrEqual(d.minCapacity);
            expect(d.desiredCount).toBeLessThanOrEqual(d.maxCapacity);
            if (!d.changed) expect(d.events.every((e) => e.includes('held'))).toBe(true);
            capacity = {
              desiredCount: d.desiredCount,
              minCapacity: d.minCapacity,
              maxCapacity: d.maxCapacity,
            };
            state = d.state;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('metricRequestsOf', () => {
  it('maps predefined metrics to Container Insights utilization, and customized ones as given', () => {
    const mathMetric = {
      metrics: [
        {
          id: 'visible',
          metricStat: {
            metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible' },
            stat: 'Sum',
          },
          returnData: false,
        },
        { id: 'e1', expression: 'visible / 100', label: 'Backlog', returnData: true },
      ],
    };
    const requests = metricRequestsOf({
      cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/default',
      taskDefinitionFamily: 'web',
      policies: policiesOf([
        scheduled('s', 'cron(0 8 * * ? *)', { minCapacity: 1 }),
        cpu(),
        memory(),
        backlog(),
        {
          ...backlog(),
          policyName: 'math',
          targetTrackingScalingPolicyConfiguration: {
            targetValue: 1,
            customizedMetricSpecification: mathMetric,
          },
        },
        queueSteps(),
      ]),
    });
    const dimensions = [
      { name: 'ClusterName', value: 'default' },
      { name: 'TaskDefinitionFamily', value: 'web' },
    ];
    const ci = (id: string, metricName: string) => ({
      id,
      metricStat: {
        metric: { namespace: 'ECS/ContainerInsights', metricName, dimensions },
        stat: 'Sum',
      },
      returnData: false,
    });
    expect(requests).toEqual([
      {
        key: 'cpu-60',
        queries: [
          ci('used', 'CpuUtilized'),
          ci('reserved', 'CpuReserved'),
          {
            id: 'utilization',
            expression: '100 * used / reserved',
            label: 'CPUUtilization',
            returnData: true,
          },
        ],
      },
      {
        key: 'mem-70',
        queries: [
          ci('used', 'MemoryUtilized'),
          ci('reserved', 'MemoryReserved'),
          {
            id: 'utilization',
            expression: '100 * used / reserved',
            label: 'MemoryUtilization',
            returnData: true,
          },
        ],
      },
      {
        key: 'backlog',
        queries: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'AWS/SQS',
                metricName: 'ApproximateNumberOfMessagesVisible',
                dimensions: [{ name: 'QueueName', value: 'jobs' }],
              },
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
      { key: 'math', queries: mathMetric.metrics },
      {
        key: 'queue-steps',
        queries: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'AWS/SQS',
                metricName: 'ApproximateAgeOfOldestMessage',
                dimensions: [{ name: 'QueueName', value: 'jobs' }],
              },
              stat: 'Maximum',
            },
            returnData: true,
          },
        ],
      },
    ]);
    // A cluster given by name is used as is.
    const byName = metricRequestsOf({
      cluster: 'prod',
      taskDefinitionFamily: 'api',
      policies: policiesOf([cpu()]),
    });
    expect(byName[0]?.queries[0]?.metricStat?.metric.dimensions?.[0]).toEqual({
      name: 'ClusterName',
      value: 'prod',
    });
  });
});

describe('scalingPoliciesSchema', () => {
  /** The errors `fn` throws as a ValidationError, or a failure if it does not throw one. */
  function errorsOf(input: unknown): { path: string; message: string }[] {
    try {
      policiesOf(input);
    } catch (error) {
      if (error instanceof ValidationError) return error.errors;
      throw error;
    }
    throw new Error('expected a ValidationError, but the input was accepted');
  }
  const scheduleMessage = (expression: string) => {
    try {
      parseSchedule(expression);
    } catch (error) {
      if (error instanceof ScheduleError) return error.message;
    }
    throw new Error(`${expression} parsed`);
  };
  const officeHours = scheduled('office-hours', 'cron(0 8 ? * MON-FRI *)', {
    minCapacity: 2,
    maxCapacity: 10,
  });
  const TT = '[0].targetTrackingScalingPolicyConfiguration';
  const SS = '[0].stepScalingPolicyConfiguration';
  const ttWith = (config: Record<string, unknown>) => ({
    ...cpu(),
    targetTrackingScalingPolicyConfiguration: { targetValue: 60, ...config },
  });
  const custom = (metric: Record<string, unknown>) =>
    ttWith({ customizedMetricSpecification: metric });
  const steps = (stepAdjustments: unknown[], extra: Record<string, unknown> = {}) =>
    queueSteps({ stepAdjustments, ...extra });

  it('accepts valid policies and fills in the defaults', () => {
    const [s, t, step] = policiesOf([officeHours, cpu(), queueSteps()]);
    expect(s).toMatchObject({ timezone: 'UTC' });
    expect(t).toMatchObject({
      targetTrackingScalingPolicyConfiguration: {
        scaleOutCooldown: 300,
        scaleInCooldown: 300,
        disableScaleIn: false,
      },
    });
    expect(step).toMatchObject({ stepScalingPolicyConfiguration: { cooldown: 300 } });
    expect(policiesOf([])).toEqual([]);
  });

  type Bad = [name: string, input: unknown, errors: { path: string; message: string | RegExp }[]];
  const ANY = /\S/;
  it.each<Bad>([
    [
      'a duplicate name',
      [cpu(), cpu()],
      [{ path: '[1].policyName', message: 'duplicates the policyName of [0]' }],
    ],
    [
      'a duplicate name beside another error',
      [
        cpu(),
        ttWith({
          predefinedMetricSpecification: {
            predefinedMetricType: 'ECSServiceAverageCPUUtilization',
          },
          targetValue: 0,
        }),
      ],
      [
        {
          path: '[1].targetTrackingScalingPolicyConfiguration.targetValue',
          message: 'must be greater than 0',
        },
        { path: '[1].policyName', message: 'duplicates the policyName of [0]' },
      ],
    ],
    [
      'an empty name',
      [{ ...cpu(), policyName: '' }],
      [{ path: '[0].policyName', message: 'must be 1-256 printable characters' }],
    ],
    [
      'a name of 257 characters',
      [{ ...cpu(), policyName: 'x'.repeat(257) }],
      [{ path: '[0].policyName', message: 'must be 1-256 printable characters' }],
    ],
    [
      'an unknown policyType',
      [{ ...cpu(), policyType: 'PredictiveScaling' }],
      [{ path: '[0].policyType', message: /Scheduled/ }],
    ],
    [
      'a bad cron expression',
      [{ ...officeHours, schedule: 'cron(0 8 * * * *)' }],
      [{ path: '[0].schedule', message: scheduleMessage('cron(0 8 * * * *)') }],
    ],
    [
      'not an expression',
      [{ ...officeHours, schedule: 'every day' }],
      [{ path: '[0].schedule', message: scheduleMessage('every day') }],
    ],
    [
      'an unknown time zone',
      [{ ...officeHours, timezone: 'Mars/Olympus' }],
      [{ path: '[0].timezone', message: 'is not an IANA time zone' }],
    ],
    [
      'a start time without an offset',
      [{ ...officeHours, startTime: '2026-03-30T08:00:00' }],
      [
        {
          path: '[0].startTime',
          message:
            'must be an ISO 8601 date-time with an offset, such as 2026-03-30T08:00:00+02:00',
        },
      ],
    ],
    [
      'an end time before the start time',
      [{ ...officeHours, startTime: '2026-03-30T08:00:00+02:00', endTime: '2026-03-30T05:59:59Z' }],
      [{ path: '[0].endTime', message: 'must be after startTime' }],
    ],
    [
      'an empty action',
      [{ ...officeHours, scalableTargetAction: {} }],
      [
        {
          path: '[0].scalableTargetAction',
          message: 'needs at least one of minCapacity, maxCapacity or desiredCount',
        },
      ],
    ],
    [
      'min above max',
      [{ ...officeHours, scalableTargetAction: { minCapacity: 5, maxCapacity: 4 } }],
      [{ path: '[0].scalableTargetAction.maxCapacity', message: 'must be at least minCapacity' }],
    ],
    [
      'a desired count above the action max',
      [{ ...officeHours, scalableTargetAction: { maxCapacity: 4, desiredCount: 5 } }],
      [{ path: '[0].scalableTargetAction.desiredCount', message: 'must be at most maxCapacity' }],
    ],
    [
      'a capacity above 10000',
      [{ ...officeHours, scalableTargetAction: { maxCapacity: 10_001 } }],
      [{ path: '[0].scalableTargetAction.maxCapacity', message: ANY }],
    ],
    [
      'both a predefined and a customized metric',
      [
        ttWith({
          predefinedMetricSpecification: {
            predefinedMetricType: 'ECSServiceAverageCPUUtilization',
          },
          customizedMetricSpecification: SQS_METRIC,
        }),
      ],
      [
        {
          path: TT,
          message:
            'needs exactly one of predefinedMetricSpecification or customizedMetricSpecification',
        },
      ],
    ],
    [
      'no metric',
      [ttWith({})],
      [
        {
          path: TT,
          message:
            'needs exactly one of predefinedMetricSpecification or customizedMetricSpecification',
        },
      ],
    ],
    [
      'an unknown predefined metric',
      [
        ttWith({
          predefinedMetricSpecification: { predefinedMetricType: 'ALBRequestCountPerTarget' },
        }),
      ],
      [{ path: `${TT}.predefinedMetricSpecification.predefinedMetricType`, message: ANY }],
    ],
    [
      'a customized metric without a statistic',
      [custom({ namespace: 'App', metricName: 'Load' })],
      [
        {
          path: `${TT}.customizedMetricSpecification.statistic`,
          message: 'is required (or give metrics)',
        },
      ],
    ],
    [
      'metrics together with a metric name',
      [custom({ metricName: 'Load', metrics: [{ id: 'e1', expression: '1', returnData: true }] })],
      [
        {
          path: `${TT}.customizedMetricSpecification.metricName`,
          message: 'cannot be combined with metrics',
        },
      ],
    ],
    [
      'two queries returning data',
      [
        custom({
          metrics: [
            { id: 'a', expression: '1', returnData: true },
            { id: 'b', expression: 'a', returnData: true },
          ],
        }),
      ],
      [
        {
          path: `${TT}.customizedMetricSpecification.metrics`,
          message: 'exactly one query must have returnData: true (found 2)',
        },
      ],
    ],
    [
      'no query returning data',
      [
        custom({
          metrics: [
            { id: 'a', expression: '1' },
            { id: 'b', expression: 'a' },
          ],
        }),
      ],
      [
        {
          path: `${TT}.customizedMetricSpecification.metrics`,
          message: 'exactly one query must have returnData: true (found 0)',
        },
      ],
    ],
    [
      'a query with neither expression nor metricStat',
      [custom({ metrics: [{ id: 'a', returnData: true }] })],
      [
        {
          path: `${TT}.customizedMetricSpecification.metrics[0]`,
          message: 'needs exactly one of expression or metricStat',
        },
      ],
    ],
    [
      'a query id in capitals',
      [custom({ metrics: [{ id: 'Load', expression: '1', returnData: true }] })],
      [{ path: `${TT}.customizedMetricSpecification.metrics[0].id`, message: /lower-case letter/ }],
    ],
    [
      'duplicate query ids',
      [
        custom({
          metrics: [
            { id: 'a', expression: '1', returnData: true },
            { id: 'a', expression: '2', returnData: false },
          ],
        }),
      ],
      [
        {
          path: `${TT}.customizedMetricSpecification.metrics[1].id`,
          message: 'duplicates the id of metrics[0]',
        },
      ],
    ],
    [
      'a cooldown over a day',
      [cpu({ scaleInCooldown: 90_000 })],
      [{ path: `${TT}.scaleInCooldown`, message: ANY }],
    ],
    [
      'perTaskMetric on a predefined metric',
      [cpu({ perTaskMetric: true })],
      [
        {
          path: `${TT}.perTaskMetric`,
          message:
            'only applies to a customizedMetricSpecification (a predefined one is an average)',
        },
      ],
    ],
    [
      'an unknown field',
      [cpu({ estimatedInstanceWarmup: 60 })],
      [{ path: `${TT}.estimatedInstanceWarmup`, message: 'is not a known field' }],
    ],
    [
      'overlapping steps',
      [
        steps([
          { metricIntervalLowerBound: 0, metricIntervalUpperBound: 20, scalingAdjustment: 1 },
          { metricIntervalLowerBound: 10, scalingAdjustment: 2 },
        ]),
      ],
      [
        {
          path: `${SS}.stepAdjustments`,
          message: 'stepAdjustments[0] and stepAdjustments[1] overlap',
        },
      ],
    ],
    [
      'a gap between steps',
      [
        steps([
          { metricIntervalLowerBound: 20, scalingAdjustment: 2 },
          { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
        ]),
      ],
      [
        {
          path: `${SS}.stepAdjustments`,
          message: 'stepAdjustments[1] and stepAdjustments[0] leave a gap (10 to 20)',
        },
      ],
    ],
    [
      'two steps without an upper bound',
      [
        steps([
          { metricIntervalLowerBound: 0, scalingAdjustment: 1 },
          { metricIntervalLowerBound: 10, scalingAdjustment: 2 },
        ]),
      ],
      [
        {
          path: `${SS}.stepAdjustments`,
          message: 'at most one step may leave out metricIntervalUpperBound',
        },
      ],
    ],
    [
      'a step without bounds',
      [steps([{ scalingAdjustment: 1 }])],
      [
        {
          path: `${SS}.stepAdjustments[0]`,
          message: 'needs metricIntervalLowerBound or metricIntervalUpperBound (or both)',
        },
      ],
    ],
    [
      'an upper bound not above the lower',
      [
        steps([
          { metricIntervalLowerBound: 10, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
        ]),
      ],
      [
        {
          path: `${SS}.stepAdjustments[0].metricIntervalUpperBound`,
          message: 'must be greater than metricIntervalLowerBound',
        },
      ],
    ],
    [
      'a positive upper bound with nothing above it',
      [
        steps([
          { metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1 },
        ]),
      ],
      [
        {
          path: `${SS}.stepAdjustments`,
          message:
            'a positive metricIntervalUpperBound needs a step without an upper bound above it',
        },
      ],
    ],
    [
      'a negative lower bound with nothing below it',
      [
        {
          ...idleSteps({
            stepAdjustments: [
              { metricIntervalLowerBound: -5, metricIntervalUpperBound: 0, scalingAdjustment: -1 },
            ],
          }),
        },
      ],
      [
        {
          path: `${SS}.stepAdjustments`,
          message:
            'a negative metricIntervalLowerBound needs a step without a lower bound below it',
        },
      ],
    ],
    [
      'steps on the wrong side of the alarm',
      [steps([{ metricIntervalUpperBound: 0, scalingAdjustment: -1 }])],
      [
        {
          path: `${SS}.stepAdjustments`,
          message:
            'must cover every breach of GreaterThanOrEqualToThreshold: from 0 (or below) with no upper bound',
        },
      ],
    ],
    [
      'minAdjustmentMagnitude without PercentChangeInCapacity',
      [queueSteps({ minAdjustmentMagnitude: 2 })],
      [
        {
          path: `${SS}.minAdjustmentMagnitude`,
          message: 'is only allowed with adjustmentType PercentChangeInCapacity',
        },
      ],
    ],
    [
      'a negative exact capacity',
      [
        queueSteps({
          adjustmentType: 'ExactCapacity',
          stepAdjustments: [
            { metricIntervalLowerBound: 0, metricIntervalUpperBound: 50, scalingAdjustment: 5 },
            { metricIntervalLowerBound: 50, scalingAdjustment: -1 },
          ],
        }),
      ],
      [
        {
          path: `${SS}.stepAdjustments[1].scalingAdjustment`,
          message: 'must not be negative with ExactCapacity',
        },
      ],
    ],
    [
      'more than 40 steps',
      [
        steps(
          Array.from({ length: 41 }, (_, i) => ({
            metricIntervalLowerBound: i,
            metricIntervalUpperBound: i + 1,
            scalingAdjustment: 1,
          })),
        ),
      ],
      [{ path: `${SS}.stepAdjustments`, message: ANY }],
    ],
    [
      'an unknown comparison operator',
      [queueSteps({}, { comparisonOperator: 'Above' })],
      [{ path: '[0].alarm.comparisonOperator', message: ANY }],
    ],
    [
      'an alarm metric without a namespace',
      [queueSteps({}, { metric: { metricName: 'Load', statistic: 'Average' } })],
      [{ path: '[0].alarm.metric.namespace', message: 'is required (or give metrics)' }],
    ],
    [
      '51 policies',
      Array.from({ length: 51 }, (_, i) => ({ ...cpu(), policyName: `p${i}` })),
      [{ path: '(body)', message: 'at most 50 scaling policies' }],
    ],
    ['not an array', cpu(), [{ path: '(body)', message: ANY }]],
  ])('rejects %s', (_name, input, expected) => {
    const errors = errorsOf(input);
    expect(errors.map((e) => e.path)).toEqual(expected.map((e) => e.path));
    errors.forEach((e, i) => {
      const want = expected[i]?.message ?? ANY;
      if (typeof want === 'string') expect(e.message).toBe(want);
      else expect(e.message).toMatch(want);
    });
  });
});

describe('reports read as they should', () => {
  it('a per-task policy at its target during a scale-out cooldown says it is at target, not held', () => {
    const policy = scalingPoliciesSchema.parse([
      {
        policyName: 'queue',
        policyType: 'TargetTrackingScaling',
        targetTrackingScalingPolicyConfiguration: {
          targetValue: 100,
          perTaskMetric: true,
          customizedMetricSpecification: {
            namespace: 'App',
            metricName: 'QueueDepth',
            statistic: 'Sum',
          },
        },
      },
    ]);
    const now = Date.UTC(2026, 2, 29, 10, 0);
    const decision = evaluateScaling({
      serviceName: 'web',
      policies: policy,
      capacity: { desiredCount: 5, minCapacity: 1, maxCapacity: 10 },
      runningCount: 5,
      state: {
        policies: [{ policyName: 'queue', scaleOutCooldownUntil: now + 60_000, scaleOutFrom: 2 }],
      },
      metrics: new Map([['queue', 450.00000000000006]]),
      now,
      deploymentInProgress: false,
      paused: false,
      createdAt: now - 86_400_000,
    });
    expect(decision.desiredCount).toBe(5);
    expect(decision.report[0]?.lastOutcome).toMatch(/^at target with 5 tasks/);
    expect(decision.report[0]?.lastValue).toBe(450);
  });
});
