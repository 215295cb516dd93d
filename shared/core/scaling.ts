/**
 * Scaling policies, pure: their validation, the metric queries they need, and one evaluation per
 * tick that turns metrics, schedules and the service's capacity into a new desired count (and
 * min/max), with a sentence for each change. Time is `now`; the metrics are read by the caller
 * through the metrics port; the small state kept between ticks is input and output.
 *
 * Steward follows Application Auto Scaling (AAS), the service that scales ECS services, rule by rule:
 * - Target tracking — proportional to the metric, no scaling without data (INSUFFICIENT_DATA is not
 *   low utilization), rounding that never adds too little nor removes too much, scale-in off during
 *   deployments:
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html
 *   https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html
 * - Target tracking cooldowns, disableScaleIn and its defaults (300 s for ECS services):
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_TargetTrackingScalingPolicyConfiguration.html
 *   "While the cooldown period is in effect, the capacity that has been added by the previous scale
 *   out event that initiated the cooldown is calculated as part of the desired capacity for the next
 *   scale out"; scale-in cooldown "block[s] subsequent scale in requests until it has expired …
 *   if another alarm triggers a scale-out activity during the scale-in cooldown period, Application
 *   Auto Scaling scales out the target immediately. In this case, the scale-in cooldown period stops".
 * - Several policies: "scales based on the policy that provides the largest capacity for both scale
 *   in and scale out" (target tracking guide); "if the step scaling policy initiates a scale-in
 *   activity before the target tracking policy is ready to scale in, the scale-in activity will not
 *   be blocked" (PutScalingPolicy). Out when any target-tracking policy wants out, in only when all
 *   with scale-in enabled agree, is how the AAS guide's "Multiple scaling policies" section states it
 *   (the section's text was not in the reference corpus when this was written; the largest-capacity
 *   rule above implies it):
 *   https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
 *   https://awscli.amazonaws.com/v2/documentation/api/2.0.34/reference/application-autoscaling/put-scaling-policy.html
 * - Step scaling — adjustment types, MinAdjustmentMagnitude, cooldown (default 300), bounds relative
 *   to the alarm threshold, inclusive/exclusive as the breach is above/below it, and the rules for a
 *   valid set of steps:
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepScalingPolicyConfiguration.html
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_StepAdjustment.html
 *   PercentChangeInCapacity rounds as EC2 Auto Scaling's "scaling adjustment types" documents it
 *   (|x| > 1 truncated toward zero, 0 < |x| < 1 to ±1), which AWS's step example shows: 30 % of 11
 *   = 3.3 adds 3, 10 % of 14 = 1.4 removes 1 (quoted in
 *   https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/awsx/classes/classic.autoscaling.StepScalingPolicy.html):
 *   https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-simple-step.html
 * - Scheduled scaling — at the fire time, capacity below the new minimum scales out to it and
 *   capacity above the new maximum scales in to it; min/max optional, at least one:
 *   https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-policy-overview.html
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html
 *
 * Steward's own choices, where AAS has no equivalent:
 * - A StepScaling policy carries its `alarm` (Steward has no CloudWatch alarm to attach it to); the
 *   alarm is read as one datapoint per tick, the latest in METRIC_WINDOW_SECONDS.
 * - `perTaskMetric` on target tracking: the metric is a total (a queue's backlog) and the target is per
 *   task, so the capacity needed is ceil(metric / target), which also scales from and to zero.
 * - `desiredCount` in a scheduled action sets the desired count (within the action's bounds).
 * - In the minute a scheduled action changes the desired count, dynamic policies may only scale out
 *   past it (largest capacity wins); their scale-in waits for a metric that reflects the new capacity.
 */
import { z } from 'zod';
import type { MetricDimension, MetricQuery, MetricRequest } from '../ports/metrics';
import {
  isTimeZone,
  lastFireBetween,
  nextFireAfter,
  parseSchedule,
  type Schedule,
  ScheduleError,
} from './schedule';

/** Metrics are read at one-minute resolution, as Container Insights publishes them. */
export const METRIC_PERIOD_SECONDS = 60;
/**
 * A policy sees the latest datapoint of the last five minutes. Container Insights publishes each
 * minute a minute or two late, so a shorter window would see "no data" on a healthy service; a
 * datapoint older than five minutes is stale and counts as no data, as an AAS alarm would go to
 * INSUFFICIENT_DATA, so an old value never drives scaling.
 */
export const METRIC_WINDOW_SECONDS = 300;

/** AAS's default cooldown for ECS services, both ways. */
export const DEFAULT_COOLDOWN_SECONDS = 300;
export const MAX_SCALING_POLICIES = 50;
/** ECS's limit on desiredCount. */
export const MAX_CAPACITY = 10_000;
/** When there is no previous evaluation, a scheduled action that fired this long ago still applies. */
export const SCHEDULE_LOOKBACK_MS = 60_000;
const PAUSED = 'paused:';
/** Bound on each stored outcome text, so the state stays small. */
const MAX_OUTCOME_CHARS = 240;

// ---------------------------------------------------------------------------------------------
// Schemas

/** A capacity: an ECS desired count. */
export const capacitySchema = z.int().min(0).max(MAX_CAPACITY);

const cooldownSchema = z.int().min(0).max(86_400);

const policyNameSchema = z
  .string()
  .regex(/^[^\p{C}]{1,256}$/u, 'must be 1-256 printable characters');

const dimensionSchema = z.strictObject({
  name: z.string().min(1).max(255),
  value: z.string().min(1).max(1024),
});

const metricSchema = z.strictObject({
  namespace: z.string().min(1).max(255),
  metricName: z.string().min(1).max(255),
  dimensions: z.array(dimensionSchema).max(30).optional(),
});

export const STATISTICS = ['Average', 'Minimum', 'Maximum', 'SampleCount', 'Sum'] as const;

/** One query of a metric-math metric: CloudWatch's MetricDataQuery, as AAS takes it. */
const metricDataQuerySchema = z
  .strictObject({
    id: z
      .string()
      .regex(
        /^[a-z][A-Za-z0-9_]{0,254}$/,
        'must start with a lower-case letter and hold only letters, digits and underscores (at most 255)',
      ),
    expression: z.string().min(1).max(2048).optional(),
    metricStat: z
      .strictObject({
        metric: metricSchema,
        stat: z.string().min(1).max(100),
        unit: z.string().min(1).max(100).optional(),
      })
      .optional(),
    label: z.string().min(1).max(2048).optional(),
    returnData: z.boolean().optional(),
  })
  .superRefine((q, ctx) => {
    if ((q.expression === undefined) === (q.metricStat === undefined))
      ctx.addIssue({ code: 'custom', message: 'needs exactly one of expression or metricStat' });
  });

const SIMPLE_METRIC_FIELDS = [
  'metricName',
  'namespace',
  'dimensions',
  'statistic',
  'unit',
] as const;

/**
 * A customized metric, as AAS's CustomizedMetricSpecification: one metric with a statistic, or
 * `metrics`, a metric-math query set of which exactly one query returns the value.
 */
export const customizedMetricSchema = z
  .strictObject({
    metricName: z.string().min(1).max(255).optional(),
    namespace: z.string().min(1).max(255).optional(),
    dimensions: z.array(dimensionSchema).max(30).optional(),
    statistic: z.enum(STATISTICS).optional(),
    unit: z.string().min(1).max(100).optional(),
    metrics: z.array(metricDataQuerySchema).min(1).max(10).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.metrics === undefined) {
      for (const field of ['metricName', 'namespace', 'statistic'] as const)
        if (m[field] === undefined)
          ctx.addIssue({ code: 'custom', path: [field], message: 'is required (or give metrics)' });
      return;
    }
    for (const field of SIMPLE_METRIC_FIELDS)
      if (m[field] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'cannot be combined with metrics',
        });
    const returning = m.metrics.filter((q) => q.returnData === true).length;
    const lone = m.metrics.length === 1 && m.metrics[0]?.returnData === undefined;
    if (returning !== 1 && !lone)
      ctx.addIssue({
        code: 'custom',
        path: ['metrics'],
        message: `exactly one query must have returnData: true (found ${returning})`,
      });
    const seen = new Map<string, number>();
    m.metrics.forEach((q, i) => {
      const first = seen.get(q.id);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', i, 'id'],
          message: `duplicates the id of metrics[${first}]`,
        });
      else seen.set(q.id, i);
    });
  });
export type CustomizedMetric = z.output<typeof customizedMetricSchema>;

const scalableTargetActionSchema = z
  .strictObject({
    minCapacity: capacitySchema.optional(),
    maxCapacity: capacitySchema.optional(),
    desiredCount: capacitySchema.optional(),
  })
  .superRefine((a, ctx) => {
    if (
      a.minCapacity === undefined &&
      a.maxCapacity === undefined &&
      a.desiredCount === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs at least one of minCapacity, maxCapacity or desiredCount',
      });
      return;
    }
    if (a.minCapacity !== undefined && a.maxCapacity !== undefined && a.minCapacity > a.maxCapacity)
      ctx.addIssue({
        code: 'custom',
        path: ['maxCapacity'],
        message: 'must be at least minCapacity',
      });
    else if (a.desiredCount !== undefined) {
      if (a.minCapacity !== undefined && a.desiredCount < a.minCapacity)
        ctx.addIssue({
          code: 'custom',
          path: ['desiredCount'],
          message: 'must be at least minCapacity',
        });
      if (a.maxCapacity !== undefined && a.desiredCount > a.maxCapacity)
        ctx.addIssue({
          code: 'custom',
          path: ['desiredCount'],
          message: 'must be at most maxCapacity',
        });
    }
  });

const isoWithOffset = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with an offset, such as 2026-03-30T08:00:00+02:00',
});

const scheduledPolicySchema = z
  .strictObject({
    policyName: policyNameSchema,
    policyType: z.literal('Scheduled'),
    schedule: z.string().superRefine((expression, ctx) => {
      try {
        parseSchedule(expression);
      } catch (error) {
        if (!(error instanceof ScheduleError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
      }
    }),
    timezone: z.string().refine(isTimeZone, 'is not an IANA time zone').default('UTC'),
    startTime: isoWithOffset.optional(),
    endTime: isoWithOffset.optional(),
    scalableTargetAction: scalableTargetActionSchema,
  })
  .superRefine((p, ctx) => {
    if (
      p.startTime !== undefined &&
      p.endTime !== undefined &&
      Date.parse(p.endTime) <= Date.parse(p.startTime)
    )
      ctx.addIssue({ code: 'custom', path: ['endTime'], message: 'must be after startTime' });
  });

export const PREDEFINED_METRIC_TYPES = [
  'ECSServiceAverageCPUUtilization',
  'ECSServiceAverageMemoryUtilization',
] as const;
export type PredefinedMetricType = (typeof PREDEFINED_METRIC_TYPES)[number];

const targetTrackingPolicySchema = z.strictObject({
  policyName: policyNameSchema,
  policyType: z.literal('TargetTrackingScaling'),
  targetTrackingScalingPolicyConfiguration: z
    .strictObject({
      targetValue: z.number().gt(0, 'must be greater than 0'),
      predefinedMetricSpecification: z
        .strictObject({ predefinedMetricType: z.enum(PREDEFINED_METRIC_TYPES) })
        .optional(),
      customizedMetricSpecification: customizedMetricSchema.optional(),
      scaleOutCooldown: cooldownSchema.default(DEFAULT_COOLDOWN_SECONDS),
      scaleInCooldown: cooldownSchema.default(DEFAULT_COOLDOWN_SECONDS),
      disableScaleIn: z.boolean().default(false),
      /** Steward's own: the metric is a total; divide it by the running tasks to compare it. */
      perTaskMetric: z.boolean().optional(),
    })
    .superRefine((c, ctx) => {
      const given =
        Number(c.predefinedMetricSpecification !== undefined) +
        Number(c.customizedMetricSpecification !== undefined);
      if (given !== 1)
        ctx.addIssue({
          code: 'custom',
          message:
            'needs exactly one of predefinedMetricSpecification or customizedMetricSpecification',
        });
      else if (c.perTaskMetric === true && c.predefinedMetricSpecification !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['perTaskMetric'],
          message:
            'only applies to a customizedMetricSpecification (a predefined one is an average)',
        });
    }),
});

const stepAdjustmentSchema = z
  .strictObject({
    metricIntervalLowerBound: z.number().optional(),
    metricIntervalUpperBound: z.number().optional(),
    scalingAdjustment: z.int(),
  })
  .superRefine((s, ctx) => {
    if (s.metricIntervalLowerBound === undefined && s.metricIntervalUpperBound === undefined)
      ctx.addIssue({
        code: 'custom',
        message: 'needs metricIntervalLowerBound or metricIntervalUpperBound (or both)',
      });
    else if (
      s.metricIntervalLowerBound !== undefined &&
      s.metricIntervalUpperBound !== undefined &&
      s.metricIntervalUpperBound <= s.metricIntervalLowerBound
    )
      ctx.addIssue({
        code: 'custom',
        path: ['metricIntervalUpperBound'],
        message: 'must be greater than metricIntervalLowerBound',
      });
  });
export type StepAdjustment = z.output<typeof stepAdjustmentSchema>;

export const ADJUSTMENT_TYPES = [
  'ChangeInCapacity',
  'ExactCapacity',
  'PercentChangeInCapacity',
] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];

const stepScalingConfigurationSchema = z
  .strictObject({
    adjustmentType: z.enum(ADJUSTMENT_TYPES),
    stepAdjustments: z.array(stepAdjustmentSchema).min(1, 'needs at least one step').max(40),
    minAdjustmentMagnitude: z.int().min(1).max(MAX_CAPACITY).optional(),
    cooldown: cooldownSchema.default(DEFAULT_COOLDOWN_SECONDS),
    /** Accepted as AAS does; Steward reads the alarm metric's own statistic (see the header). */
    metricAggregationType: z.enum(['Average', 'Minimum', 'Maximum']).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.minAdjustmentMagnitude !== undefined && c.adjustmentType !== 'PercentChangeInCapacity')
      ctx.addIssue({
        code: 'custom',
        path: ['minAdjustmentMagnitude'],
        message: 'is only allowed with adjustmentType PercentChangeInCapacity',
      });
    if (c.adjustmentType === 'ExactCapacity')
      c.stepAdjustments.forEach((s, i) => {
        if (s.scalingAdjustment < 0)
          ctx.addIssue({
            code: 'custom',
            path: ['stepAdjustments', i, 'scalingAdjustment'],
            message: 'must not be negative with ExactCapacity',
          });
      });
    const problem = stepSetProblem(c.stepAdjustments);
    if (problem !== undefined)
      ctx.addIssue({ code: 'custom', path: ['stepAdjustments'], message: problem });
  });

/** Each step has a bound and a non-empty interval (else it is reported at that step, not as a set). */
function stepsWellFormed(steps: readonly StepAdjustment[]): boolean {
  return steps.every(
    (s) => (s.metricIntervalLowerBound ?? -Infinity) < (s.metricIntervalUpperBound ?? Infinity),
  );
}

/** AAS's rules for a set of steps (API_StepAdjustment), or undefined when they hold. */
function stepSetProblem(steps: readonly StepAdjustment[]): string | undefined {
  if (!stepsWellFormed(steps)) return undefined;
  const lowerOf = (s: StepAdjustment) => s.metricIntervalLowerBound ?? -Infinity;
  const upperOf = (s: StepAdjustment) => s.metricIntervalUpperBound ?? Infinity;
  const openBelow = steps.filter((s) => s.metricIntervalLowerBound === undefined).length;
  const openAbove = steps.filter((s) => s.metricIntervalUpperBound === undefined).length;
  if (openBelow > 1) return 'at most one step may leave out metricIntervalLowerBound';
  if (openAbove > 1) return 'at most one step may leave out metricIntervalUpperBound';
  const sorted = steps.map((s, i) => ({ s, i })).sort((a, b) => lowerOf(a.s) - lowerOf(b.s));
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1];
    const b = sorted[k];
    if (a === undefined || b === undefined) continue;
    const [ua, lb] = [upperOf(a.s), lowerOf(b.s)];
    if (ua > lb) return `stepAdjustments[${a.i}] and stepAdjustments[${b.i}] overlap`;
    if (ua < lb)
      return `stepAdjustments[${a.i}] and stepAdjustments[${b.i}] leave a gap (${ua} to ${lb})`;
  }
  if (steps.some((s) => lowerOf(s) < 0) && openBelow === 0)
    return 'a negative metricIntervalLowerBound needs a step without a lower bound below it';
  if (steps.some((s) => upperOf(s) > 0) && openAbove === 0)
    return 'a positive metricIntervalUpperBound needs a step without an upper bound above it';
  return undefined;
}

export const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

const stepScalingPolicySchema = z
  .strictObject({
    policyName: policyNameSchema,
    policyType: z.literal('StepScaling'),
    stepScalingPolicyConfiguration: stepScalingConfigurationSchema,
    alarm: z.strictObject({
      metric: customizedMetricSchema,
      threshold: z.number(),
      comparisonOperator: z.enum(COMPARISON_OPERATORS),
    }),
  })
  .superRefine((p, ctx) => {
    // Every breach must find a step: above the threshold up to +∞, or below it down to -∞.
    const steps = p.stepScalingPolicyConfiguration.stepAdjustments;
    if (!stepsWellFormed(steps) || stepSetProblem(steps) !== undefined) return;
    const above = p.alarm.comparisonOperator.startsWith('Greater');
    const covered = above
      ? steps.some((s) => s.metricIntervalUpperBound === undefined) &&
        steps.some((s) => (s.metricIntervalLowerBound ?? -Infinity) <= 0)
      : steps.some((s) => s.metricIntervalLowerBound === undefined) &&
        steps.some((s) => (s.metricIntervalUpperBound ?? Infinity) >= 0);
    if (!covered)
      ctx.addIssue({
        code: 'custom',
        path: ['stepScalingPolicyConfiguration', 'stepAdjustments'],
        message: above
          ? `must cover every breach of ${p.alarm.comparisonOperator}: from 0 (or below) with no upper bound`
          : `must cover every breach of ${p.alarm.comparisonOperator}: up to 0 (or above) with no lower bound`,
      });
  });

export const scalingPolicySchema = z.discriminatedUnion('policyType', [
  scheduledPolicySchema,
  targetTrackingPolicySchema,
  stepScalingPolicySchema,
]);

/**
 * A service's scaling policies: at most 50 (AAS's limit per scalable target), names unique. Errors
 * name their path relative to the array (`[2].policyName`); the API nests it.
 */
export const scalingPoliciesSchema = z
  .array(scalingPolicySchema)
  .max(MAX_SCALING_POLICIES, `at most ${MAX_SCALING_POLICIES} scaling policies`)
  .check(
    // Runs even when some policy is invalid, so a duplicate name is reported with the rest.
    z.superRefine(
      (policies, ctx) => {
        const seen = new Map<string, number>();
        policies.forEach((p, i) => {
          const name: unknown = (p as { policyName?: unknown } | null)?.policyName;
          if (typeof name !== 'string') return;
          const first = seen.get(name);
          if (first !== undefined)
            ctx.addIssue({
              code: 'custom',
              path: [i, 'policyName'],
              message: `duplicates the policyName of [${first}]`,
            });
          else seen.set(name, i);
        });
      },
      { when: (payload) => Array.isArray(payload.value) },
    ),
  );

export type ScalingPolicy = z.output<typeof scalingPolicySchema>;
export type ScalingPolicyInput = z.input<typeof scalingPolicySchema>;
export type ScheduledPolicy = Extract<ScalingPolicy, { policyType: 'Scheduled' }>;
export type TargetTrackingPolicy = Extract<ScalingPolicy, { policyType: 'TargetTrackingScaling' }>;
export type StepScalingPolicy = Extract<ScalingPolicy, { policyType: 'StepScaling' }>;
type DynamicPolicy = TargetTrackingPolicy | StepScalingPolicy;

// ---------------------------------------------------------------------------------------------
// Metrics

const CONTAINER_INSIGHTS = 'ECS/ContainerInsights';
const PREDEFINED: Record<PredefinedMetricType, { used: string; reserved: string; label: string }> =
  {
    ECSServiceAverageCPUUtilization: {
      used: 'CpuUtilized',
      reserved: 'CpuReserved',
      label: 'CPUUtilization',
    },
    ECSServiceAverageMemoryUtilization: {
      used: 'MemoryUtilized',
      reserved: 'MemoryReserved',
      label: 'MemoryUtilization',
    },
  };

/** A cluster's name from its name or ARN. */
function clusterNameOf(cluster: string): string {
  const i = cluster.indexOf(':cluster/');
  return i === -1 ? cluster : cluster.slice(i + ':cluster/'.length);
}

/**
 * One metric request per target-tracking and step policy, keyed by policy name. A predefined
 * metric is Container Insights' task-level utilization, `100 * used / reserved` summed over the
 * cluster's tasks of the service's task definition family (Container Insights reports tasks started
 * with RunTask by `TaskDefinitionFamily`; it has no dimension for a Steward service, so services
 * sharing a family in a cluster share the metric).
 */
export function metricRequestsOf(o: {
  cluster: string;
  taskDefinitionFamily: string;
  policies: ScalingPolicy[];
}): MetricRequest[] {
  const dimensions: MetricDimension[] = [
    { name: 'ClusterName', value: clusterNameOf(o.cluster) },
    { name: 'TaskDefinitionFamily', value: o.taskDefinitionFamily },
  ];
  const requests: MetricRequest[] = [];
  for (const p of o.policies) {
    if (p.policyType === 'Scheduled') continue;
    if (p.policyType === 'StepScaling') {
      requests.push({ key: p.policyName, queries: customizedQueries(p.alarm.metric) });
      continue;
    }
    const c = p.targetTrackingScalingPolicyConfiguration;
    if (c.customizedMetricSpecification !== undefined) {
      requests.push({
        key: p.policyName,
        queries: customizedQueries(c.customizedMetricSpecification),
      });
    } else if (c.predefinedMetricSpecification !== undefined) {
      const m = PREDEFINED[c.predefinedMetricSpecification.predefinedMetricType];
      const stat = (id: string, metricName: string): MetricQuery => ({
        id,
        metricStat: {
          metric: { namespace: CONTAINER_INSIGHTS, metricName, dimensions },
          stat: 'Sum',
        },
        returnData: false,
      });
      requests.push({
        key: p.policyName,
        queries: [
          stat('used', m.used),
          stat('reserved', m.reserved),
          {
            id: 'utilization',
            expression: '100 * used / reserved',
            label: m.label,
            returnData: true,
          },
        ],
      });
    }
  }
  return requests;
}

function customizedQueries(m: CustomizedMetric): MetricQuery[] {
  if (m.metrics !== undefined) {
    return m.metrics.map((q) => ({
      id: q.id,
      ...(q.expression !== undefined ? { expression: q.expression } : {}),
      ...(q.metricStat !== undefined
        ? {
            metricStat: {
              metric: metricSpecOf(q.metricStat.metric),
              stat: q.metricStat.stat,
              ...(q.metricStat.unit !== undefined ? { unit: q.metricStat.unit } : {}),
            },
          }
        : {}),
      ...(q.label !== undefined ? { label: q.label } : {}),
      ...(q.returnData !== undefined ? { returnData: q.returnData } : {}),
    }));
  }
  return [
    {
      id: 'm1',
      metricStat: {
        metric: metricSpecOf({
          namespace: m.namespace ?? '',
          metricName: m.metricName ?? '',
          dimensions: m.dimensions,
        }),
        stat: m.statistic ?? 'Average',
        ...(m.unit !== undefined ? { unit: m.unit } : {}),
      },
      returnData: true,
    },
  ];
}

function metricSpecOf(m: {
  namespace: string;
  metricName: string;
  dimensions?: { name: string; value: string }[] | undefined;
}) {
  return {
    namespace: m.namespace,
    metricName: m.metricName,
    ...(m.dimensions !== undefined ? { dimensions: m.dimensions.map((d) => ({ ...d })) } : {}),
  };
}

/** How a policy's metric is named in events: the predefined metric, the metric name, or the answer's label. */
function metricLabelOf(p: DynamicPolicy): string {
  if (p.policyType === 'StepScaling') return customizedLabel(p.alarm.metric);
  const c = p.targetTrackingScalingPolicyConfiguration;
  if (c.predefinedMetricSpecification !== undefined)
    return PREDEFINED[c.predefinedMetricSpecification.predefinedMetricType].label;
  return c.customizedMetricSpecification === undefined
    ? 'metric'
    : customizedLabel(c.customizedMetricSpecification);
}

function customizedLabel(m: CustomizedMetric): string {
  if (m.metrics === undefined) return m.metricName ?? 'metric';
  const answer = m.metrics.find((q) => q.returnData === true) ?? m.metrics[0];
  return answer?.label ?? answer?.metricStat?.metric.metricName ?? answer?.id ?? 'metric';
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** What the service has now: its desired count and the bounds scaling keeps it in. */
export type Capacity = { desiredCount: number; minCapacity: number; maxCapacity: number };

/** What Steward remembers of one policy between ticks (stored with the service; small and bounded). */
export type PolicyState = {
  policyName: string;
  /** Epoch ms of the last evaluation. */
  lastEvaluatedAt?: number;
  /** The metric value last read (absent when there was no datapoint). */
  lastValue?: number;
  /** What the policy did or wanted, in words (at most 240 characters). */
  lastOutcome?: string;
  /** The scale-out cooldown runs until then (epoch ms) ... */
  scaleOutCooldownUntil?: number;
  /** ... and this was the capacity before the scale-out that started it (AAS counts the added capacity). */
  scaleOutFrom?: number;
  /** The scale-in cooldown runs until then (epoch ms); a scale-out ends it. */
  scaleInCooldownUntil?: number;
  /** Scheduled: the fire time (epoch ms) last applied, so no fire applies twice. */
  lastFiredAt?: number;
};

/** Scaling state of a service: one entry per current policy (at most 50). */
export type ScalingState = {
  /**
   * Epoch ms of the last evaluation that was not paused: scheduled actions that fired after it apply
   * at the next one (a paused service catches up with its schedule on resume).
   */
  lastEvaluatedAt?: number;
  /** The scale-in hold last reported, so a hold is reported once rather than every minute. */
  heldScaleIn?: string;
  policies: PolicyState[];
};

/** One policy in the service's status. */
export type PolicyReport = {
  policyName: string;
  policyType: ScalingPolicy['policyType'];
  lastEvaluatedAt: string | null;
  lastValue: number | null;
  lastOutcome: string | null;
  /** Scheduled policies only: the next fire time, null when none is left. */
  nextScheduledAt?: string | null;
};

export type ScalingInput = {
  serviceName: string;
  policies: ScalingPolicy[];
  capacity: Capacity;
  runningCount: number;
  state: ScalingState | undefined;
  /** Each dynamic policy's metric by policy name (metricRequestsOf); undefined is no data. */
  metrics: Map<string, number | undefined>;
  now: number;
  deploymentInProgress: boolean;
  paused: boolean;
  /** When the service (its scaling) was created: rate() schedules without startTime count from it. */
  createdAt: number;
};

export type ScalingDecision = Capacity & {
  /** True when desiredCount, minCapacity or maxCapacity differs from the input. */
  changed: boolean;
  /** One sentence per change, none when nothing changed. */
  events: string[];
  state: ScalingState;
  report: PolicyReport[];
};

/** What one dynamic policy wants this tick. */
type Proposal = {
  policy: DynamicPolicy;
  direction: 'out' | 'in' | 'none';
  /** The capacity it asks for (out/in). */
  capacity: number;
  /** Why, for events: "CPUUtilization 83.1 > target 60". */
  reason: string;
  /** Its outcome if nothing else happens. */
  outcome: string;
  /** A target-tracking policy that must agree to a scale-in (scale-in enabled). */
  votesOnScaleIn: boolean;
};

/** Evaluates every policy for one tick: scheduled actions, then target tracking and step scaling. */
export function evaluateScaling(input: ScalingInput): ScalingDecision {
  const { now } = input;
  const prev = new Map((input.state?.policies ?? []).map((p) => [p.policyName, p]));
  const next = new Map<string, PolicyState>(
    input.policies.map((p) => [
      p.policyName,
      { ...prev.get(p.policyName), policyName: p.policyName, lastEvaluatedAt: now },
    ]),
  );
  const stateOf = (name: string): PolicyState => next.get(name) ?? { policyName: name };
  const setOutcome = (name: string, outcome: string) => {
    stateOf(name).lastOutcome = truncate(outcome);
  };

  if (input.paused) {
    for (const p of input.policies)
      setOutcome(p.policyName, `${PAUSED} no scaling while the service is paused`);
    const state = stateFrom({
      lastEvaluatedAt: input.state?.lastEvaluatedAt,
      heldScaleIn: undefined,
      policies: input.policies.map((p) => stateOf(p.policyName)),
    });
    return {
      ...input.capacity,
      changed: false,
      events: [],
      state,
      report: scalingReport({ policies: input.policies, state, now, createdAt: input.createdAt }),
    };
  }

  const events: string[] = [];
  const cap: Capacity = { ...input.capacity };
  const clamp = (n: number) => Math.max(cap.minCapacity, Math.min(cap.maxCapacity, n));

  // 1. Scheduled actions: the latest fire of each since the last evaluation, oldest first.
  const since = input.state?.lastEvaluatedAt ?? now - SCHEDULE_LOOKBACK_MS;
  const fires: { policy: ScheduledPolicy; index: number; at: number }[] = [];
  input.policies.forEach((p, index) => {
    if (p.policyType !== 'Scheduled') return;
    const ps = stateOf(p.policyName);
    try {
      const schedule = parseSchedule(p.schedule);
      const at = lastFireBetween_(schedule, p, input.createdAt, {
        from: Math.max(since, ps.lastFiredAt ?? -Infinity),
        to: now,
      });
      if (at !== undefined) fires.push({ policy: p, index, at });
      else if (ps.lastOutcome === undefined || ps.lastOutcome.startsWith(PAUSED))
        ps.lastOutcome =
          ps.lastFiredAt === undefined ? 'not fired yet' : `last fired at ${iso(ps.lastFiredAt)}`;
    } catch (error) {
      setOutcome(p.policyName, `schedule not evaluated: ${messageOf(error)}`);
    }
  });
  fires.sort((a, b) => a.at - b.at || a.index - b.index);
  let scheduledDesired = false;
  for (const { policy, at } of fires) {
    const a = policy.scalableTargetAction;
    const before = { ...cap };
    const min = a.minCapacity ?? cap.minCapacity;
    const max = a.maxCapacity ?? cap.maxCapacity;
    // A bound the action does not set yields to the one it sets, so min ≤ max always holds.
    cap.minCapacity = a.minCapacity === undefined ? Math.min(min, max) : min;
    cap.maxCapacity = a.maxCapacity === undefined ? Math.max(min, max) : max;
    if (a.desiredCount !== undefined) cap.desiredCount = a.desiredCount;
    cap.desiredCount = clamp(cap.desiredCount);
    const sets = [
      a.minCapacity !== undefined ? `minCapacity ${a.minCapacity}` : undefined,
      a.maxCapacity !== undefined ? `maxCapacity ${a.maxCapacity}` : undefined,
      a.desiredCount !== undefined ? `desiredCount ${a.desiredCount}` : undefined,
    ]
      .filter((s) => s !== undefined)
      .join(', ');
    const where = `${policy.schedule} ${policy.timezone}`;
    if (before.minCapacity !== cap.minCapacity || before.maxCapacity !== cap.maxCapacity)
      events.push(`scheduled action ${policy.policyName} set ${sets} (${where})`);
    if (before.desiredCount !== cap.desiredCount) {
      scheduledDesired = true;
      events.push(
        `scaled from ${before.desiredCount} to ${cap.desiredCount} tasks: ${scheduledCause(a, before, cap)} set by scheduled action ${policy.policyName}`,
      );
    }
    const ps = stateOf(policy.policyName);
    ps.lastFiredAt = at;
    setOutcome(
      policy.policyName,
      `fired at ${iso(at)}: set ${sets}` +
        (before.desiredCount !== cap.desiredCount
          ? `; scaled from ${before.desiredCount} to ${cap.desiredCount} tasks`
          : ''),
    );
  }

  // 2. A desired count outside the bounds (set by hand, or bounds changed) is brought inside them.
  if (cap.desiredCount !== clamp(cap.desiredCount)) {
    const from = cap.desiredCount;
    cap.desiredCount = clamp(from);
    events.push(
      from > cap.desiredCount
        ? `scaled from ${from} to ${cap.desiredCount} tasks: desiredCount above maxCapacity ${cap.maxCapacity}`
        : `scaled from ${from} to ${cap.desiredCount} tasks: desiredCount below minCapacity ${cap.minCapacity}`,
    );
  }

  // 3. Dynamic policies: what each wants.
  const current = cap.desiredCount;
  const proposals: Proposal[] = [];
  for (const p of input.policies) {
    if (p.policyType === 'Scheduled') continue;
    const ps = stateOf(p.policyName);
    const raw = input.metrics.get(p.policyName);
    const value = raw !== undefined && Number.isFinite(raw) ? raw : undefined;
    if (value === undefined) delete ps.lastValue;
    // Twelve significant digits: 80.00000000000001 (float sums of a metric) reads 80.
    else ps.lastValue = Number(value.toPrecision(12));
    const proposal =
      value === undefined
        ? noData(p)
        : p.policyType === 'TargetTrackingScaling'
          ? targetTrackingProposal({
              policy: p,
              value,
              current,
              metricCapacity: input.capacity.desiredCount,
              runningCount: input.runningCount,
              state: ps,
              now,
            })
          : stepProposal({ policy: p, value, current, state: ps, now });
    proposals.push(proposal);
    setOutcome(p.policyName, proposal.outcome);
  }

  // 4. Which proposal wins: any scale-out, the largest; else a scale-in all target tracking agrees
  //    on (the largest of theirs) or a step scale-in, the largest capacity of those.
  const outs = proposals.filter((p) => p.direction === 'out');
  let participants: Proposal[] = [];
  let winner: Proposal | undefined;
  if (outs.length > 0) {
    participants = outs;
    winner = largest(outs);
  } else {
    const voters = proposals.filter((p) => p.votesOnScaleIn);
    const ttIns = voters.filter((p) => p.direction === 'in');
    const agreed = voters.length > 0 && ttIns.length === voters.length;
    if (!agreed && ttIns.length > 0) {
      const dissent = voters.find((p) => p.direction !== 'in');
      for (const p of ttIns)
        setOutcome(
          p.policy.policyName,
          `${p.outcome}; waits for policy ${dissent?.policy.policyName ?? '?'} (every target-tracking policy must agree to scale in)`,
        );
    }
    const stepIns = proposals.filter(
      (p) => p.direction === 'in' && p.policy.policyType === 'StepScaling',
    );
    participants = [...(agreed ? ttIns : []), ...stepIns];
    winner = participants.length > 0 ? largest(participants) : undefined;
    if (winner !== undefined && scheduledDesired) {
      for (const p of participants)
        setOutcome(
          p.policy.policyName,
          `${p.outcome}; skipped: a scheduled action set the capacity this minute`,
        );
      winner = undefined;
    }
  }

  // 5. Apply it, within the bounds; scale-in waits while a deployment is in progress.
  let heldScaleIn: string | undefined;
  if (winner !== undefined) {
    const target = clamp(winner.capacity);
    const bound =
      target < winner.capacity
        ? ` (capped at maxCapacity ${cap.maxCapacity})`
        : target > winner.capacity
          ? ` (floored at minCapacity ${cap.minCapacity})`
          : '';
    const name = winner.policy.policyName;
    if (target === current) {
      for (const p of participants)
        setOutcome(
          p.policy.policyName,
          `${p.outcome}; no change: already at ${target < p.capacity ? 'maxCapacity' : 'minCapacity'} ${target}`,
        );
    } else if (target < current && input.deploymentInProgress) {
      heldScaleIn = `scale-in to ${target} held: deployment in progress`;
      if (input.state?.heldScaleIn !== heldScaleIn) events.push(heldScaleIn);
      for (const p of participants)
        setOutcome(p.policy.policyName, `${p.outcome}; held: deployment in progress`);
    } else {
      cap.desiredCount = target;
      events.push(
        `scaled from ${current} to ${target} tasks: ${winner.reason} (policy ${name})${bound}`,
      );
      const out = target > current;
      for (const p of participants) {
        const ps = stateOf(p.policy.policyName);
        if (out) {
          // The cooldown a scale-out starts keeps the capacity it started from while it runs.
          const running = (ps.scaleOutCooldownUntil ?? -Infinity) > now;
          ps.scaleOutFrom = running ? Math.min(ps.scaleOutFrom ?? current, current) : current;
          ps.scaleOutCooldownUntil = now + cooldownsOf(p.policy).out * 1000;
        } else {
          ps.scaleInCooldownUntil = now + cooldownsOf(p.policy).in * 1000;
        }
        setOutcome(
          p.policy.policyName,
          p === winner
            ? `scaled ${out ? 'out' : 'in'} from ${current} to ${target}: ${p.reason}${bound}`
            : `${p.outcome}; policy ${name} asked for more (${winner.capacity})`,
        );
      }
      // A scale-out ends every scale-in cooldown (AAS: "the scale-in cooldown period stops").
      if (out) for (const ps of next.values()) delete ps.scaleInCooldownUntil;
    }
  }

  const state = stateFrom({
    lastEvaluatedAt: now,
    heldScaleIn,
    policies: input.policies.map((p) => stateOf(p.policyName)),
  });
  const changed =
    cap.desiredCount !== input.capacity.desiredCount ||
    cap.minCapacity !== input.capacity.minCapacity ||
    cap.maxCapacity !== input.capacity.maxCapacity;
  return {
    ...cap,
    changed,
    events,
    state,
    report: scalingReport({ policies: input.policies, state, now, createdAt: input.createdAt }),
  };
}

/** The status of each policy from the stored state: what the API shows. */
export function scalingReport(o: {
  policies: ScalingPolicy[];
  state: ScalingState | undefined;
  now: number;
  createdAt: number;
}): PolicyReport[] {
  const byName = new Map((o.state?.policies ?? []).map((p) => [p.policyName, p]));
  return o.policies.map((p) => {
    const s = byName.get(p.policyName);
    const report: PolicyReport = {
      policyName: p.policyName,
      policyType: p.policyType,
      lastEvaluatedAt: s?.lastEvaluatedAt === undefined ? null : iso(s.lastEvaluatedAt),
      lastValue: s?.lastValue ?? null,
      lastOutcome: s?.lastOutcome ?? null,
    };
    if (p.policyType !== 'Scheduled') return report;
    let nextAt: number | undefined;
    try {
      const schedule = parseSchedule(p.schedule);
      nextAt = nextFireAfter_(schedule, p, o.createdAt, o.now);
    } catch {
      nextAt = undefined;
    }
    const valid = nextAt !== undefined && Number.isFinite(new Date(nextAt).getTime());
    return { ...report, nextScheduledAt: valid ? iso(nextAt as number) : null };
  });
}

// ---------------------------------------------------------------------------------------------
// Target tracking

/** Rounds up, forgiving float noise (3 × 60 / 60 must not become 4). */
function ceilCapacity(x: number): number {
  return Math.max(0, Math.ceil(x - 1e-9));
}

function targetTrackingProposal(o: {
  policy: TargetTrackingPolicy;
  value: number;
  /** The desired count now (after scheduled actions). */
  current: number;
  /** The desired count the metric was measured at (before this tick). */
  metricCapacity: number;
  runningCount: number;
  state: PolicyState;
  now: number;
}): Proposal {
  const c = o.policy.targetTrackingScalingPolicyConfiguration;
  const target = c.targetValue;
  const label = metricLabelOf(o.policy);
  const inOutCooldown = (o.state.scaleOutCooldownUntil ?? -Infinity) > o.now;
  let metricText: string;
  let outNeed: number;
  let inNeed: number;
  if (c.perTaskMetric === true) {
    // Each task should carry `target`: the capacity needed is the total over the target.
    metricText =
      o.runningCount > 0
        ? `${label} ${fmt(o.value)} / ${o.runningCount} tasks = ${fmt(o.value / o.runningCount)} per task`
        : `${label} ${fmt(o.value)} with no task running`;
    outNeed = ceilCapacity(o.value / target);
    inNeed = outNeed;
  } else {
    // Proportional: capacity × metric / target. During a scale-out cooldown the capacity that
    // scale-out added is not yet in the metric, so a further scale-out counts from before it.
    metricText = `${label} ${fmt(o.value)}`;
    const outBase = inOutCooldown
      ? Math.min(o.state.scaleOutFrom ?? o.metricCapacity, o.metricCapacity)
      : o.metricCapacity;
    outNeed = ceilCapacity((outBase * o.value) / target);
    inNeed = ceilCapacity((o.metricCapacity * o.value) / target);
  }
  const base = { policy: o.policy, votesOnScaleIn: !c.disableScaleIn };
  if (outNeed > o.current) {
    const reason = `${metricText} > target ${fmt(target)}`;
    return {
      ...base,
      direction: 'out',
      capacity: outNeed,
      reason,
      outcome: `scale-out to ${outNeed}: ${reason}`,
    };
  }
  if (inNeed < o.current) {
    const reason = `${metricText} < target ${fmt(target)}`;
    if (c.disableScaleIn)
      return {
        ...base,
        direction: 'none',
        capacity: o.current,
        reason,
        outcome: `scale-in disabled (would be ${inNeed}): ${reason}`,
      };
    const until = o.state.scaleInCooldownUntil ?? -Infinity;
    if (until > o.now)
      return {
        ...base,
        direction: 'none',
        capacity: o.current,
        reason,
        outcome: `scale-in to ${inNeed} held: cooldown until ${iso(until)} (${reason})`,
      };
    return {
      ...base,
      direction: 'in',
      capacity: inNeed,
      reason,
      outcome: `scale-in to ${inNeed}: ${reason}`,
    };
  }
  const reason = `${metricText}, target ${fmt(target)}`;
  // Held only where the cooldown changed the answer: a per-task metric's need ignores it.
  const heldOut =
    inOutCooldown &&
    c.perTaskMetric !== true &&
    ceilCapacity((o.metricCapacity * o.value) / target) > o.current;
  return {
    ...base,
    direction: 'none',
    capacity: o.current,
    reason,
    outcome: heldOut
      ? `scale-out held: cooldown until ${iso(o.state.scaleOutCooldownUntil ?? o.now)} (${reason})`
      : `at target with ${o.current} tasks: ${reason}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Step scaling

const OPERATOR_SYMBOL: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: '>=',
  GreaterThanThreshold: '>',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '<=',
};

function breaches(value: number, threshold: number, op: ComparisonOperator): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * The step a breach falls in. Bounds are relative to the threshold; above it the lower bound is
 * inclusive and the upper exclusive, below it the other way round (API_StepAdjustment).
 */
export function matchingStep(o: {
  steps: readonly StepAdjustment[];
  difference: number;
  above: boolean;
}): StepAdjustment | undefined {
  const d = o.difference;
  return o.steps.find((s) => {
    const lo = s.metricIntervalLowerBound ?? -Infinity;
    const hi = s.metricIntervalUpperBound ?? Infinity;
    return o.above ? lo <= d && d < hi : lo < d && d <= hi;
  });
}

/**
 * The capacity a step asks for from `capacity`. PercentChangeInCapacity: a change of more than one
 * task is truncated toward zero, a smaller non-zero one is one task, and then at least
 * MinAdjustmentMagnitude tasks.
 */
export function stepCapacity(o: {
  adjustmentType: AdjustmentType;
  scalingAdjustment: number;
  capacity: number;
  minAdjustmentMagnitude?: number | undefined;
}): number {
  const adj = o.scalingAdjustment;
  switch (o.adjustmentType) {
    case 'ExactCapacity':
      return adj;
    case 'ChangeInCapacity':
      return o.capacity + adj;
    case 'PercentChangeInCapacity': {
      const raw = (o.capacity * adj) / 100;
      const abs = Math.abs(raw);
      // Truncate with a little tolerance so 0.3 × 10 does not round down to 2.
      let change = abs === 0 ? 0 : Math.sign(raw) * (abs < 1 ? 1 : Math.floor(abs + 1e-9));
      const min = o.minAdjustmentMagnitude;
      if (min !== undefined && adj !== 0 && Math.abs(change) < min) change = Math.sign(adj) * min;
      return o.capacity + change;
    }
  }
}

function stepProposal(o: {
  policy: StepScalingPolicy;
  value: number;
  current: number;
  state: PolicyState;
  now: number;
}): Proposal {
  const { alarm } = o.policy;
  const c = o.policy.stepScalingPolicyConfiguration;
  const label = metricLabelOf(o.policy);
  const symbol = OPERATOR_SYMBOL[alarm.comparisonOperator];
  const base = { policy: o.policy, votesOnScaleIn: false, capacity: o.current };
  const metricText = `${label} ${fmt(o.value)}`;
  if (!breaches(o.value, alarm.threshold, alarm.comparisonOperator)) {
    const reason = `${metricText}, alarm when ${symbol} ${fmt(alarm.threshold)}`;
    return { ...base, direction: 'none', reason, outcome: `alarm OK: ${reason}` };
  }
  const step = matchingStep({
    steps: c.stepAdjustments,
    difference: o.value - alarm.threshold,
    above: alarm.comparisonOperator.startsWith('Greater'),
  });
  const breach = `${metricText} ${symbol} threshold ${fmt(alarm.threshold)}`;
  if (step === undefined)
    return {
      ...base,
      direction: 'none',
      reason: breach,
      outcome: `${breach}, but no step matches`,
    };
  const adjustment = describeAdjustment(c.adjustmentType, step.scalingAdjustment);
  const reason = `${breach}, step ${adjustment}`;
  const magnitude = { minAdjustmentMagnitude: c.minAdjustmentMagnitude };
  const wanted = stepCapacity({
    adjustmentType: c.adjustmentType,
    scalingAdjustment: step.scalingAdjustment,
    capacity: o.current,
    ...magnitude,
  });
  if (wanted > o.current) {
    const outUntil = o.state.scaleOutCooldownUntil ?? -Infinity;
    if (outUntil > o.now) {
      // During the cooldown the capacity the last scale-out added counts toward this one.
      const from = Math.min(o.state.scaleOutFrom ?? o.current, o.current);
      const counted = stepCapacity({
        adjustmentType: c.adjustmentType,
        scalingAdjustment: step.scalingAdjustment,
        capacity: from,
        ...magnitude,
      });
      if (counted <= o.current)
        return {
          ...base,
          direction: 'none',
          reason,
          outcome: `scale-out held: cooldown until ${iso(outUntil)}, the ${o.current - from} tasks added count toward it (${reason})`,
        };
      return {
        ...base,
        direction: 'out',
        capacity: counted,
        reason,
        outcome: `scale-out to ${counted}: ${reason}`,
      };
    }
    return {
      ...base,
      direction: 'out',
      capacity: wanted,
      reason,
      outcome: `scale-out to ${wanted}: ${reason}`,
    };
  }
  if (wanted < o.current) {
    const inUntil = o.state.scaleInCooldownUntil ?? -Infinity;
    if (inUntil > o.now)
      return {
        ...base,
        direction: 'none',
        reason,
        outcome: `scale-in to ${Math.max(0, wanted)} held: cooldown until ${iso(inUntil)} (${reason})`,
      };
    const capacity = Math.max(0, wanted);
    return {
      ...base,
      direction: 'in',
      capacity,
      reason,
      outcome: `scale-in to ${capacity}: ${reason}`,
    };
  }
  return {
    ...base,
    direction: 'none',
    reason,
    outcome: `no change with ${o.current} tasks: ${reason}`,
  };
}

function describeAdjustment(type: AdjustmentType, adj: number): string {
  const signed = adj > 0 ? `+${adj}` : String(adj);
  switch (type) {
    case 'ExactCapacity':
      return `exactly ${adj} tasks`;
    case 'ChangeInCapacity':
      return `${signed} tasks`;
    case 'PercentChangeInCapacity':
      return `${signed}%`;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function noData(policy: DynamicPolicy): Proposal {
  return {
    policy,
    direction: 'none',
    capacity: 0,
    reason: 'no data',
    outcome: `no data: no datapoint of ${metricLabelOf(policy)} in the last ${METRIC_WINDOW_SECONDS / 60} minutes`,
    // No data is not low utilization: the policy does not agree to a scale-in.
    votesOnScaleIn:
      policy.policyType === 'TargetTrackingScaling' &&
      !policy.targetTrackingScalingPolicyConfiguration.disableScaleIn,
  };
}

function cooldownsOf(p: DynamicPolicy): { out: number; in: number } {
  if (p.policyType === 'StepScaling') {
    const cd = p.stepScalingPolicyConfiguration.cooldown;
    return { out: cd, in: cd };
  }
  const c = p.targetTrackingScalingPolicyConfiguration;
  return { out: c.scaleOutCooldown, in: c.scaleInCooldown };
}

/** The proposal asking for the largest capacity; the first such on a tie. */
function largest(ps: Proposal[]): Proposal | undefined {
  return ps.reduce<Proposal | undefined>(
    (a, b) => (a === undefined || b.capacity > a.capacity ? b : a),
    undefined,
  );
}

function scheduledCause(
  a: ScheduledPolicy['scalableTargetAction'],
  before: Capacity,
  after: Capacity,
): string {
  if (a.desiredCount !== undefined) return `desiredCount ${a.desiredCount}`;
  return after.desiredCount > before.desiredCount
    ? `minCapacity ${after.minCapacity}`
    : `maxCapacity ${after.maxCapacity}`;
}

/** The fire window of a scheduled policy: its time zone, start/end, and what rate() counts from. */
function windowOf(schedule: Schedule, p: ScheduledPolicy, createdAt: number) {
  const startTime = p.startTime === undefined ? undefined : Date.parse(p.startTime);
  const endTime = p.endTime === undefined ? undefined : Date.parse(p.endTime);
  // With a start time a rate() runs first at it (AAS); without, it counts from the creation time.
  const anchor =
    startTime !== undefined && schedule.kind === 'rate' ? startTime - schedule.everyMs : createdAt;
  return {
    timezone: p.timezone,
    anchor,
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
  };
}

function lastFireBetween_(
  schedule: Schedule,
  p: ScheduledPolicy,
  createdAt: number,
  o: { from: number; to: number },
): number | undefined {
  return lastFireBetween(schedule, { ...windowOf(schedule, p, createdAt), ...o });
}

function nextFireAfter_(
  schedule: Schedule,
  p: ScheduledPolicy,
  createdAt: number,
  after: number,
): number | undefined {
  return nextFireAfter(schedule, { ...windowOf(schedule, p, createdAt), after });
}

/** The state as stored: no undefined values (DynamoDB refuses them). */
function stateFrom(o: {
  lastEvaluatedAt: number | undefined;
  heldScaleIn: string | undefined;
  policies: PolicyState[];
}): ScalingState {
  return {
    ...(o.lastEvaluatedAt !== undefined ? { lastEvaluatedAt: o.lastEvaluatedAt } : {}),
    ...(o.heldScaleIn !== undefined ? { heldScaleIn: o.heldScaleIn } : {}),
    policies: o.policies.map(
      (p) =>
        Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as PolicyState,
    ),
  };
}

/** A number as people read it: integers as they are, others to one decimal (two significant digits below 1). */
function fmt(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 1 ? String(Number(n.toFixed(1))) : String(Number(n.toPrecision(2)));
}

/** ISO time of an epoch ms; a time no Date can hold (past any schedule's horizon) reads "never". */
function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : 'never';
}

function truncate(s: string): string {
  return s.length <= MAX_OUTCOME_CHARS ? s : `${s.slice(0, MAX_OUTCOME_CHARS - 1)}…`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
