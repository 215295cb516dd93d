/**
 * The local CloudWatch behind the stack's AWS endpoint: PutMetricData into an in-memory store (three
 * hours kept), GetMetricData over those custom metrics, over Container Insights computed live from
 * the ECS emulator (container-insights.ts), and over metric math (metric-math.ts). Both protocols
 * (http.ts) hand it the same nested request; it answers protocol-neutral results and throws
 * CloudWatchError for what CloudWatch would reject.
 *
 * Periods: datapoints are aggregated per period from the start time rounded down to the minute (to
 * the period below one minute), as CloudWatch does for recent data; EndTime is exclusive.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  CONTAINER_INSIGHTS_NAMESPACE,
  type ContainerInsightsSource,
  containerInsightsSamples,
} from './container-insights';
import {
  CloudWatchError,
  CloudWatchErrorCode,
  invalidCombination,
  invalidParameter,
  invalidValue,
  missingParameter,
} from './errors';
import {
  evaluate,
  type MathContext,
  MathError,
  type MathValue,
  type Node,
  parseExpression,
  type QueryMessage,
  type QueryStatus,
  referencedIds,
  type Series,
} from './metric-math';
import {
  type Dimension,
  isStatistic,
  type MetricIdentity,
  MetricStore,
  mergeInto,
  STATISTICS,
  type Statistic,
  type StatSet,
  statisticOf,
} from './metric-store';
import { RequestReader } from './request-reader';

export type { QueryMessage, QueryStatus } from './metric-math';

export type LocalCloudWatchOptions = {
  /** The ECS emulator, for ECS/ContainerInsights; without it that namespace has no data. */
  containerInsights?: ContainerInsightsSource;
  /** Clock of PutMetricData's default timestamp and of retention; default Date.now. */
  now?: () => number;
  /** How long datapoints are kept, default three hours. */
  retentionMs?: number;
  /** Datapoints per GetMetricData answer before a NextToken, default CloudWatch's 100,800. */
  maxDatapointsPerPage?: number;
};

/** One MetricDataResult; timestamps in epoch ms, ordered as ScanBy asks. */
export type MetricDataResult = {
  id: string;
  label: string;
  timestamps: number[];
  values: number[];
  statusCode: QueryStatus;
  messages: QueryMessage[];
};

export type GetMetricDataOutput = {
  results: MetricDataResult[];
  nextToken?: string;
  messages: QueryMessage[];
};

/** A test control: matching metric queries answer this status (no datapoints unless PartialData). */
export type QueryFault = {
  namespace?: string;
  metricName?: string;
  statusCode: Exclude<QueryStatus, 'Complete'>;
  message?: string;
};

const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const CONTAINER_INSIGHTS_UNITS: Record<string, string> = {
  CpuUtilized: 'None',
  CpuReserved: 'None',
  MemoryUtilized: 'Megabytes',
  MemoryReserved: 'Megabytes',
  RunningTaskCount: 'Count',
};

const ID_PATTERN = /^[a-z][a-zA-Z0-9_]*$/;
const MINUTE_MS = 60_000;
const MAX_PAST_MS = 14 * 24 * 3_600_000;
const MAX_FUTURE_MS = 2 * 3_600_000;
// CloudWatch rejects values outside ±2^360.
const MAX_MAGNITUDE = 2 ** 360;
const DEFAULT_MAX_DATAPOINTS = 100_800;
const SNAPSHOT_TTL_MS = 10 * MINUTE_MS;
const MAX_SNAPSHOTS = 100;

type MetricQuery = {
  kind: 'metric';
  id: string;
  label: string;
  returnData: boolean;
  metric: MetricIdentity;
  periodSeconds: number;
  stat: Statistic;
  unit?: string;
};
type ExpressionQuery = {
  kind: 'expression';
  id: string;
  label: string;
  returnData: boolean;
  node: Node;
};
type Query = MetricQuery | ExpressionQuery;

type Snapshot = {
  fingerprint: string;
  results: MetricDataResult[];
  limit: number;
  createdAt: number;
};

export class LocalCloudWatch {
  private readonly store: MetricStore;
  private readonly now: () => number;
  private readonly containerInsights: ContainerInsightsSource | undefined;
  private readonly maxDatapointsPerPage: number;
  private readonly faults = new Set<QueryFault>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly calls = new Map<string, number>();

  constructor(options: LocalCloudWatchOptions = {}) {
    this.now = options.now ?? Date.now;
    this.store = new MetricStore({
      now: this.now,
      ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
    });
    this.containerInsights = options.containerInsights;
    this.maxDatapointsPerPage = options.maxDatapointsPerPage ?? DEFAULT_MAX_DATAPOINTS;
  }

  /** Counts one call of an operation (the HTTP layer calls it, also for rejected requests). */
  count(operation: string): void {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
  }

  /** Calls received per operation. */
  counters(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  resetCounters(): void {
    this.calls.clear();
  }

  /** What the custom-metric store holds (metrics, storage buckets) after expiring old data. */
  storeSize(): { metrics: number; buckets: number } {
    return this.store.size();
  }

  /**
   * Test control: metric queries matching `fault` (by namespace and/or metric name) answer its
   * status and message, as CloudWatch does when it can not read a metric. Returns its remover.
   */
  injectQueryFault(fault: QueryFault): () => void {
    this.faults.add(fault);
    return () => {
      this.faults.delete(fault);
    };
  }

  clearQueryFaults(): void {
    this.faults.clear();
  }

  /** PutMetricData: validates every datum first, so a rejected request stores nothing. */
  putMetricData(body: Record<string, unknown>): void {
    const r = new RequestReader({ body });
    const namespace = r.string('Namespace', { max: 255 });
    if (namespace.startsWith('AWS/')) {
      throw invalidValue({
        parameter: 'Namespace',
        value: namespace,
        why: "Namespaces starting with 'AWS/' are reserved for AWS services.",
      });
    }
    if (namespace === CONTAINER_INSIGHTS_NAMESPACE) {
      throw invalidValue({
        parameter: 'Namespace',
        value: namespace,
        why: 'Locally it is computed from the ECS emulator and can not be written.',
      });
    }
    if (r.has('EntityMetricData')) {
      throw invalidParameter('EntityMetricData is not supported by the local CloudWatch.');
    }
    const data = r.structs('MetricData', { max: 1000 });
    if (data.length === 0) throw missingParameter('MetricData');
    const now = this.now();
    const puts = data.map((d) => {
      const metric: MetricIdentity = {
        namespace,
        metricName: d.string('MetricName', { max: 255 }),
        dimensions: readDimensions(d),
      };
      const timestamp = d.optionalTimestamp('Timestamp') ?? now;
      if (timestamp < now - MAX_PAST_MS || timestamp > now + MAX_FUTURE_MS) {
        throw invalidValue({
          parameter: d.nameOf('Timestamp'),
          value: new Date(timestamp).toISOString(),
          why: 'The timestamp must be within the last two weeks and no more than two hours ahead.',
        });
      }
      const unit = readUnit(d) ?? 'None';
      const storageResolution = d.optionalInteger('StorageResolution') ?? 60;
      if (storageResolution !== 1 && storageResolution !== 60) {
        throw invalidValue({
          parameter: d.nameOf('StorageResolution'),
          value: storageResolution,
          why: 'Valid values are 1 and 60.',
        });
      }
      return { metric, unit, timestamp, storageResolution, set: readStatSet(d) };
    });
    for (const p of puts) if (p.set !== undefined) this.store.put({ ...p, set: p.set });
  }

  /** GetMetricData: one page of results, with a NextToken when more datapoints remain. */
  getMetricData(body: Record<string, unknown>): GetMetricDataOutput {
    const r = new RequestReader({ body });
    const nextToken = r.optionalString('NextToken');
    const fingerprint = fingerprintOf(body);
    if (nextToken !== undefined) return this.nextPage({ token: nextToken, fingerprint });

    const queryReaders = r.structs('MetricDataQueries', { max: 500 });
    if (queryReaders.length === 0) throw missingParameter('MetricDataQueries');
    const start = r.timestamp('StartTime');
    const end = r.timestamp('EndTime');
    if (start >= end) {
      throw invalidParameter('The parameter StartTime must be less than the parameter EndTime.');
    }
    const scanBy = r.optionalString('ScanBy') ?? 'TimestampDescending';
    if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
      throw invalidValue({
        parameter: 'ScanBy',
        value: scanBy,
        why: 'Valid values are TimestampDescending and TimestampAscending.',
      });
    }
    const maxDatapoints = r.optionalInteger('MaxDatapoints');
    if (maxDatapoints !== undefined && maxDatapoints < 1) {
      throw invalidValue({ parameter: 'MaxDatapoints', value: maxDatapoints });
    }
    const queries = readQueries(queryReaders);
    const results = this.evaluateQueries({ queries, start, end }).map((result) => {
      const order = result.timestamps.map((t, i) => [t, result.values[i] as number] as const);
      order.sort((a, b) => (scanBy === 'TimestampAscending' ? a[0] - b[0] : b[0] - a[0]));
      return { ...result, timestamps: order.map((p) => p[0]), values: order.map((p) => p[1]) };
    });
    const snapshot: Snapshot = {
      fingerprint,
      results,
      limit: maxDatapoints ?? this.maxDatapointsPerPage,
      createdAt: this.now(),
    };
    return this.page({ snapshot, offset: 0 });
  }

  // ---- GetMetricData internals ---------------------------------------------------------------

  private evaluateQueries(o: { queries: Query[]; start: number; end: number }): MetricDataResult[] {
    const { queries, start, end } = o;
    const byId = new Map(queries.map((q) => [q.id, q]));
    let snapshot: ReturnType<ContainerInsightsSource['runningTaskUsage']> | undefined;
    const usage = () => {
      snapshot ??= this.containerInsights?.runningTaskUsage();
      return snapshot;
    };
    const metricSeries = new Map<string, Series>();
    const seriesOf = (q: MetricQuery): Series => {
      let s = metricSeries.get(q.id);
      if (!s) {
        s = this.metricSeries({ query: q, start, end, usage });
        metricSeries.set(q.id, s);
      }
      return s;
    };
    const values = new Map<string, MathValue>();
    const evaluating: string[] = [];
    const firstMetric = queries.find((q): q is MetricQuery => q.kind === 'metric');
    const context: MathContext = {
      resolve: (id) => {
        const q = byId.get(id);
        if (!q) throw new MathError(`Unrecognized identifier ${id}.`);
        return q.kind === 'metric' ? { kind: 'series', series: seriesOf(q) } : expressionValue(q);
      },
      metrics: (filter) =>
        queries
          .filter((q): q is MetricQuery => q.kind === 'metric' && q.id.includes(filter))
          .map(seriesOf),
      periodOf: (id) => {
        const q = byId.get(id);
        return q?.kind === 'metric' ? q.periodSeconds : undefined;
      },
      emptySeries: () => {
        const grid = firstMetric
          ? gridOf({ start, end, periodSeconds: firstMetric.periodSeconds })
          : gridOf({ start, end, periodSeconds: 60 });
        return { ...grid, points: new Map(), label: '', status: 'Complete', messages: [] };
      },
    };
    const expressionValue = (q: ExpressionQuery): MathValue => {
      const known = values.get(q.id);
      if (known) return known;
      if (evaluating.includes(q.id)) {
        throw new MathError(
          `Circular reference: ${[...evaluating.slice(evaluating.indexOf(q.id)), q.id].join(' → ')}.`,
        );
      }
      evaluating.push(q.id);
      try {
        const value = evaluate({ node: q.node, context });
        values.set(q.id, value);
        return value;
      } catch (error) {
        // Reported against the innermost expression that went wrong.
        if (error instanceof MathError)
          throw invalidParameter(`Error in expression ${q.id}: ${error.message}`);
        throw error;
      } finally {
        evaluating.pop();
      }
    };

    const results: MetricDataResult[] = [];
    for (const q of queries) {
      if (!q.returnData) continue;
      if (q.kind === 'metric') {
        results.push(resultOf({ id: q.id, label: q.label, series: seriesOf(q) }));
        continue;
      }
      const value = expressionValue(q);
      if (value.kind === 'series') {
        results.push(resultOf({ id: q.id, label: q.label, series: value.series }));
      } else if (value.kind === 'array') {
        for (const item of value.items) {
          const label = q.label === q.id ? item.label : `${q.label} ${item.label}`;
          results.push(resultOf({ id: q.id, label, series: item }));
        }
      } else {
        throw invalidParameter(
          `Error in expression ${q.id}: it returns ${value.kind === 'scalar' ? 'a single number' : `'${value.kind === 'string' ? value.value : value.name}'`}; the result of an expression must be a time series or an array of time series.`,
        );
      }
    }
    return results;
  }

  private metricSeries(o: {
    query: MetricQuery;
    start: number;
    end: number;
    usage: () => ReturnType<ContainerInsightsSource['runningTaskUsage']> | undefined;
  }): Series {
    const { query: q, end } = o;
    const grid = gridOf({ start: o.start, end, periodSeconds: q.periodSeconds });
    const bucketOf = (t: number) =>
      grid.start + Math.floor((t - grid.start) / grid.periodMs) * grid.periodMs;
    const sets = new Map<number, StatSet>();
    if (q.metric.namespace === CONTAINER_INSIGHTS_NAMESPACE) {
      const snapshot = o.usage();
      const set = snapshot && containerInsightsSamples({ snapshot, metric: q.metric });
      const unitMatches =
        q.unit === undefined || q.unit === CONTAINER_INSIGHTS_UNITS[q.metric.metricName];
      // The emulator knows only now: its value stands for the period holding now, and for a window
      // that ended less than one period ago; nothing further back.
      if (snapshot && set && unitMatches && snapshot.now - end <= grid.periodMs) {
        const observedAt = Math.min(snapshot.now, end - 1);
        if (observedAt >= grid.start) sets.set(bucketOf(observedAt), set);
      }
    } else {
      for (const b of this.store.read({
        metric: q.metric,
        ...(q.unit === undefined ? {} : { unit: q.unit }),
        from: grid.start,
        to: end,
      })) {
        const at = bucketOf(b.timestamp);
        const existing = sets.get(at);
        if (existing) mergeInto({ into: existing, add: b.set });
        else sets.set(at, { ...b.set });
      }
    }
    const fault = [...this.faults].find(
      (f) =>
        (f.namespace === undefined || f.namespace === q.metric.namespace) &&
        (f.metricName === undefined || f.metricName === q.metric.metricName),
    );
    const points = new Map<number, number>();
    if (!fault || fault.statusCode === 'PartialData') {
      for (const [at, set] of [...sets].sort((a, b) => a[0] - b[0]))
        points.set(at, statisticOf({ set, stat: q.stat }));
    }
    return {
      ...grid,
      points,
      label: q.label,
      status: fault?.statusCode ?? 'Complete',
      messages: fault
        ? [{ code: fault.statusCode, value: fault.message ?? `Injected ${fault.statusCode}.` }]
        : [],
    };
  }

  private page(o: { snapshot: Snapshot; offset: number }): GetMetricDataOutput {
    const { snapshot, offset } = o;
    const limit = snapshot.limit;
    const total = snapshot.results.reduce((n, r) => n + r.timestamps.length, 0);
    const results: MetricDataResult[] = [];
    let index = 0;
    for (const r of snapshot.results) {
      const from = Math.max(offset - index, 0);
      const to = Math.min(offset + limit - index, r.timestamps.length);
      const count = r.timestamps.length;
      index += count;
      // A result with no datapoint is answered once, on the first page.
      if (to <= from && !(count === 0 && offset === 0)) continue;
      const more = to < count;
      results.push({
        ...r,
        timestamps: r.timestamps.slice(from, Math.max(from, to)),
        values: r.values.slice(from, Math.max(from, to)),
        statusCode: more && r.statusCode === 'Complete' ? 'PartialData' : r.statusCode,
      });
    }
    const next = offset + limit;
    if (next >= total) return { results, messages: [] };
    const id = randomUUID();
    this.remember(id, snapshot);
    return {
      results,
      nextToken: Buffer.from(JSON.stringify({ s: id, o: next })).toString('base64url'),
      messages: [],
    };
  }

  private nextPage(o: { token: string; fingerprint: string }): GetMetricDataOutput {
    let parsed: { s?: unknown; o?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.from(o.token, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      // Reported below.
    }
    const snapshot = typeof parsed.s === 'string' ? this.snapshots.get(parsed.s) : undefined;
    if (
      !snapshot ||
      typeof parsed.o !== 'number' ||
      snapshot.fingerprint !== o.fingerprint ||
      this.now() - snapshot.createdAt > SNAPSHOT_TTL_MS
    ) {
      throw new CloudWatchError({
        code: CloudWatchErrorCode.InvalidNextToken,
        message: 'The NextToken is invalid or expired, or was returned for a different request.',
      });
    }
    return this.page({ snapshot, offset: parsed.o });
  }

  /** Keeps a paginated answer so later pages come from the same data (bounded, expiring). */
  private remember(id: string, snapshot: Snapshot): void {
    const now = this.now();
    for (const [key, s] of this.snapshots) {
      if (now - s.createdAt > SNAPSHOT_TTL_MS) this.snapshots.delete(key);
    }
    while (this.snapshots.size >= MAX_SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest === undefined) break;
      this.snapshots.delete(oldest);
    }
    this.snapshots.set(id, snapshot);
  }
}

// ---- request parsing ----------------------------------------------------------------------------

const readDimensions = (r: RequestReader): Dimension[] => {
  const dimensions = r.structs('Dimensions', { max: 30 }).map((d) => ({
    name: d.string('Name', { max: 255 }),
    value: d.string('Value', { max: 1024 }),
  }));
  const names = new Set<string>();
  for (const d of dimensions) {
    if (names.has(d.name)) {
      throw invalidValue({
        parameter: r.nameOf('Dimensions'),
        why: `The dimension ${d.name} appears more than once.`,
      });
    }
    names.add(d.name);
  }
  return dimensions;
};

const readUnit = (r: RequestReader): string | undefined => {
  const unit = r.optionalString('Unit');
  if (unit !== undefined && !UNITS.has(unit)) {
    throw invalidValue({ parameter: r.nameOf('Unit'), value: unit });
  }
  return unit;
};

const checkMagnitude = (o: { parameter: string; value: number }): number => {
  if (Math.abs(o.value) > MAX_MAGNITUDE) {
    throw invalidValue({
      parameter: o.parameter,
      value: o.value,
      why: 'Values must be in the range of -2^360 to 2^360.',
    });
  }
  return o.value;
};

/** The statistic set of one datum; undefined when its counts are all zero (nothing to store). */
const readStatSet = (d: RequestReader): StatSet | undefined => {
  const value = d.optionalNumber('Value');
  const statistics = d.optionalStruct('StatisticValues');
  const values = d.numbers('Values', { max: 150 });
  const counts = d.numbers('Counts', { max: 150 });
  const given = [value !== undefined, statistics !== undefined, values.length > 0].filter(Boolean);
  if (given.length > 1) {
    throw invalidCombination(
      `The parameters ${d.nameOf('Value')}, ${d.nameOf('StatisticValues')} and ${d.nameOf('Values')} are mutually exclusive.`,
    );
  }
  if (given.length === 0) {
    throw new CloudWatchError({
      code: CloudWatchErrorCode.MissingParameter,
      message: `One of the parameters ${d.nameOf('Value')}, ${d.nameOf('StatisticValues')} or ${d.nameOf('Values')} is required.`,
    });
  }
  if (counts.length > 0 && counts.length !== values.length) {
    throw invalidCombination(
      `${d.nameOf('Counts')} must have as many members as ${d.nameOf('Values')}.`,
    );
  }
  if (value !== undefined) {
    checkMagnitude({ parameter: d.nameOf('Value'), value });
    return { sampleCount: 1, sum: value, minimum: value, maximum: value };
  }
  if (statistics !== undefined) {
    const set: StatSet = {
      sampleCount: statistics.number('SampleCount'),
      sum: checkMagnitude({ parameter: statistics.nameOf('Sum'), value: statistics.number('Sum') }),
      minimum: checkMagnitude({
        parameter: statistics.nameOf('Minimum'),
        value: statistics.number('Minimum'),
      }),
      maximum: checkMagnitude({
        parameter: statistics.nameOf('Maximum'),
        value: statistics.number('Maximum'),
      }),
    };
    if (set.sampleCount <= 0) {
      throw invalidValue({ parameter: statistics.nameOf('SampleCount'), value: set.sampleCount });
    }
    if (set.minimum > set.maximum) {
      throw invalidParameter(
        `The parameter ${statistics.nameOf('Minimum')} must not be greater than ${statistics.nameOf('Maximum')}.`,
      );
    }
    return set;
  }
  let set: StatSet | undefined;
  values.forEach((v, i) => {
    checkMagnitude({ parameter: `${d.nameOf('Values')}.member.${i + 1}`, value: v });
    const count = counts[i] ?? 1;
    if (count < 0) {
      throw invalidValue({ parameter: `${d.nameOf('Counts')}.member.${i + 1}`, value: count });
    }
    if (count === 0) return;
    const one = { sampleCount: count, sum: v * count, minimum: v, maximum: v };
    set = set ? mergeInto({ into: set, add: one }) : one;
  });
  return set;
};

const VALID_SHORT_PERIODS = new Set([1, 5, 10, 20, 30]);

const readQueries = (readers: RequestReader[]): Query[] => {
  const ids = new Set<string>();
  const queries = readers.map((q): Query => {
    const id = q.string('Id', { max: 255 });
    if (!ID_PATTERN.test(id)) {
      throw invalidValue({
        parameter: q.nameOf('Id'),
        value: id,
        why: 'An Id must start with a lower-case letter and hold only letters, digits and underscores.',
      });
    }
    if (ids.has(id)) {
      throw invalidValue({
        parameter: q.nameOf('Id'),
        value: id,
        why: 'Ids must be unique within a request.',
      });
    }
    ids.add(id);
    const label = q.optionalString('Label');
    const returnData = q.optionalBoolean('ReturnData') ?? true;
    q.optionalInteger('Period');
    const hasStat = q.has('MetricStat');
    const hasExpression = q.has('Expression');
    if (hasStat && hasExpression) {
      throw invalidCombination(
        `The parameters ${q.nameOf('MetricStat')} and ${q.nameOf('Expression')} are mutually exclusive.`,
      );
    }
    if (!hasStat && !hasExpression) {
      throw new CloudWatchError({
        code: CloudWatchErrorCode.MissingParameter,
        message: `One of the parameters ${q.nameOf('MetricStat')} or ${q.nameOf('Expression')} is required.`,
      });
    }
    if (hasExpression) {
      const text = q.string('Expression', { max: 2048 });
      if (/^\s*SELECT\b/i.test(text)) {
        throw invalidParameter(
          `Error in expression ${id}: Metrics Insights queries (SELECT …) are not supported by the local CloudWatch.`,
        );
      }
      let node: Node;
      try {
        node = parseExpression(text);
      } catch (error) {
        if (error instanceof MathError)
          throw invalidParameter(`Error in expression ${id}: ${error.message}`);
        throw error;
      }
      return { kind: 'expression', id, label: label ?? id, returnData, node };
    }
    const stat = q.struct('MetricStat');
    const metricReader = stat.struct('Metric');
    const metric: MetricIdentity = {
      namespace: metricReader.string('Namespace', { max: 255 }),
      metricName: metricReader.string('MetricName', { max: 255 }),
      dimensions: readDimensions(metricReader),
    };
    const periodSeconds = stat.optionalInteger('Period');
    if (periodSeconds === undefined) throw missingParameter(stat.nameOf('Period'));
    if (
      periodSeconds <= 0 ||
      !(VALID_SHORT_PERIODS.has(periodSeconds) || periodSeconds % 60 === 0)
    ) {
      throw invalidValue({
        parameter: stat.nameOf('Period'),
        value: periodSeconds,
        why: 'Valid values are 1, 5, 10, 20, 30, 60 and any multiple of 60.',
      });
    }
    const statName = stat.string('Stat');
    if (!isStatistic(statName)) {
      throw invalidValue({
        parameter: stat.nameOf('Stat'),
        value: statName,
        why: `The local CloudWatch computes ${STATISTICS.join(', ')} (no percentiles or trimmed statistics).`,
      });
    }
    const unit = readUnit(stat);
    return {
      kind: 'metric',
      id,
      label: label ?? metric.metricName,
      returnData,
      metric,
      periodSeconds,
      stat: statName,
      ...(unit === undefined ? {} : { unit }),
    };
  });
  // Every id an expression names must be a query of this request.
  for (const q of queries) {
    if (q.kind !== 'expression') continue;
    for (const ref of referencedIds(q.node)) {
      if (!ids.has(ref))
        throw invalidParameter(`Error in expression ${q.id}: Unrecognized identifier ${ref}.`);
    }
  }
  return queries;
};

/** The grid of one period length: buckets from the start rounded down, as CloudWatch aligns them. */
const gridOf = (o: {
  start: number;
  end: number;
  periodSeconds: number;
}): { start: number; end: number; periodMs: number } => {
  const periodMs = o.periodSeconds * 1000;
  const align = o.periodSeconds % 60 === 0 ? MINUTE_MS : periodMs;
  return { start: Math.floor(o.start / align) * align, end: o.end, periodMs };
};

const resultOf = (o: { id: string; label: string; series: Series }): MetricDataResult => {
  const points = [...o.series.points].filter(([t]) => t < o.series.end);
  return {
    id: o.id,
    label: o.label,
    timestamps: points.map((p) => p[0]),
    values: points.map((p) => p[1]),
    statusCode: o.series.status,
    messages: o.series.messages,
  };
};

/** Identifies a request across its pages (everything but NextToken). */
const fingerprintOf = (body: Record<string, unknown>): string => {
  const { NextToken: _ignored, ...rest } = body;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
};
