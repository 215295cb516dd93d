// Container Insights for the local stack, computed live from the ECS emulator instead of stored.
//
// In AWS, each task sends one performance event a minute and CloudWatch extracts metrics from them:
// CpuUtilized, CpuReserved, MemoryUtilized and MemoryReserved therefore have one sample per RUNNING
// task (Sum = the tasks' total, Average = per task, SampleCount = tasks), and RunningTaskCount is one
// sample, the count. The dimension sets served are {ClusterName} and {ClusterName,
// TaskDefinitionFamily}; as in AWS, a family (or cluster) with no RUNNING task reports no CPU or
// memory data, and a family none reports no RunningTaskCount; a cluster reports 0 running tasks.
//
// The emulator only knows the present: a query gets one datapoint, the value now (emulator clock),
// in the period that holds now — never a history. Locally Container Insights is always on.
import type { RunningTaskUsageSnapshot } from '../ecs/emulator';
import type { MetricIdentity, StatSet } from './metric-store';

export const CONTAINER_INSIGHTS_NAMESPACE = 'ECS/ContainerInsights';

/** What the local Container Insights reads: the emulator's runningTaskUsage(). */
export type ContainerInsightsSource = { runningTaskUsage(): RunningTaskUsageSnapshot };

const PER_TASK = {
  CpuUtilized: 'cpuUtilized',
  CpuReserved: 'cpuReserved',
  MemoryUtilized: 'memoryUtilized',
  MemoryReserved: 'memoryReserved',
} as const;

/** The Container Insights metric names served locally. */
export const CONTAINER_INSIGHTS_METRICS = [...Object.keys(PER_TASK), 'RunningTaskCount'] as const;

/**
 * The samples of one Container Insights metric now, as one statistic set; undefined when the metric
 * has no data (unknown name or dimension set, no such cluster, no RUNNING task where one is needed).
 */
export function containerInsightsSamples(o: {
  snapshot: RunningTaskUsageSnapshot;
  metric: MetricIdentity;
}): StatSet | undefined {
  const { snapshot, metric } = o;
  if (metric.namespace !== CONTAINER_INSIGHTS_NAMESPACE) return undefined;
  const dims = new Map(metric.dimensions.map((d) => [d.name, d.value]));
  const cluster = dims.get('ClusterName');
  const family = dims.get('TaskDefinitionFamily');
  const expected = family === undefined ? 1 : 2;
  if (cluster === undefined || dims.size !== expected || metric.dimensions.length !== expected)
    return undefined;
  if (!snapshot.clusterNames.includes(cluster)) return undefined;
  const tasks = snapshot.tasks.filter(
    (t) => t.clusterName === cluster && (family === undefined || t.family === family),
  );
  if (metric.metricName === 'RunningTaskCount') {
    if (family !== undefined && tasks.length === 0) return undefined;
    return { sampleCount: 1, sum: tasks.length, minimum: tasks.length, maximum: tasks.length };
  }
  const field = PER_TASK[metric.metricName as keyof typeof PER_TASK];
  if (field === undefined || tasks.length === 0) return undefined;
  const values = tasks.map((t) => t[field]);
  return {
    sampleCount: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    minimum: Math.min(...values),
    maximum: Math.max(...values),
  };
}
