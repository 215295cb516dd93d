// Custom metrics from PutMetricData, in memory. Each datum is folded into a statistic set per storage
// bucket as CloudWatch stores it (one minute, or one second for StorageResolution 1), so memory per
// metric is bounded by the retention (default three hours) divided by the resolution, whatever the
// rate of PutMetricData.

export type Dimension = { name: string; value: string };

/** A metric: CloudWatch identifies one by namespace, name and its whole set of dimensions. */
export type MetricIdentity = { namespace: string; metricName: string; dimensions: Dimension[] };

/** What CloudWatch keeps of the values of one bucket: enough for the five basic statistics. */
export type StatSet = { sampleCount: number; sum: number; minimum: number; maximum: number };

/** The statistics the local CloudWatch computes (no percentiles or trimmed means). */
export const STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;
export type Statistic = (typeof STATISTICS)[number];

export const isStatistic = (s: string): s is Statistic =>
  (STATISTICS as readonly string[]).includes(s);

/** One statistic of a set. */
export const statisticOf = (o: { set: StatSet; stat: Statistic }): number => {
  const { set } = o;
  switch (o.stat) {
    case 'Average':
      return set.sum / set.sampleCount;
    case 'Sum':
      return set.sum;
    case 'Minimum':
      return set.minimum;
    case 'Maximum':
      return set.maximum;
    case 'SampleCount':
      return set.sampleCount;
  }
};

/** Folds `add` into `into` (mutates and returns `into`). */
export const mergeInto = (o: { into: StatSet; add: StatSet }): StatSet => {
  const { into: a, add: b } = o;
  a.sampleCount += b.sampleCount;
  a.sum += b.sum;
  a.minimum = Math.min(a.minimum, b.minimum);
  a.maximum = Math.max(a.maximum, b.maximum);
  return a;
};

/** A stable key for a metric: dimensions are a set, so their order does not matter. */
export const metricKey = (m: MetricIdentity): string =>
  JSON.stringify([
    m.namespace,
    m.metricName,
    [...m.dimensions]
      .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
      .map((d) => [d.name, d.value]),
  ]);

const MINUTE_MS = 60_000;
const DEFAULT_RETENTION_MS = 3 * 3_600_000;

type StoredMetric = {
  /** unit → bucket start (epoch ms) → statistic set. */
  byUnit: Map<string, Map<number, StatSet>>;
};

/** One stored bucket, as read back. */
export type StoredBucket = { timestamp: number; unit: string; set: StatSet };

export class MetricStore {
  private readonly metrics = new Map<string, StoredMetric>();
  private readonly now: () => number;
  readonly retentionMs: number;
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(options: { now: () => number; retentionMs?: number }) {
    this.now = options.now;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  }

  /** Adds one datum (already validated); data older than the retention is dropped, as it would expire. */
  put(o: {
    metric: MetricIdentity;
    unit: string;
    timestamp: number;
    set: StatSet;
    /** 1 (high resolution) or 60 seconds. */
    storageResolution: number;
  }): void {
    this.sweep();
    if (o.timestamp < this.now() - this.retentionMs) return;
    const key = metricKey(o.metric);
    let stored = this.metrics.get(key);
    if (!stored) {
      stored = { byUnit: new Map() };
      this.metrics.set(key, stored);
    }
    let buckets = stored.byUnit.get(o.unit);
    if (!buckets) {
      buckets = new Map();
      stored.byUnit.set(o.unit, buckets);
    }
    const resolutionMs = o.storageResolution === 1 ? 1000 : MINUTE_MS;
    const at = Math.floor(o.timestamp / resolutionMs) * resolutionMs;
    const existing = buckets.get(at);
    if (existing) mergeInto({ into: existing, add: o.set });
    else buckets.set(at, { ...o.set });
  }

  /** The stored buckets of one metric in [from, to), of one unit or of all. */
  read(o: { metric: MetricIdentity; unit?: string; from: number; to: number }): StoredBucket[] {
    this.sweep();
    const stored = this.metrics.get(metricKey(o.metric));
    if (!stored) return [];
    const out: StoredBucket[] = [];
    const from = Math.max(o.from, this.now() - this.retentionMs);
    for (const [unit, buckets] of stored.byUnit) {
      if (o.unit !== undefined && unit !== o.unit) continue;
      for (const [timestamp, set] of buckets) {
        if (timestamp >= from && timestamp < o.to) out.push({ timestamp, unit, set });
      }
    }
    return out;
  }

  /** How much is held (tests check that memory stays bounded). */
  size(): { metrics: number; buckets: number } {
    this.sweep({ force: true });
    let buckets = 0;
    for (const m of this.metrics.values()) for (const b of m.byUnit.values()) buckets += b.size;
    return { metrics: this.metrics.size, buckets };
  }

  /** Drops expired buckets and metrics left empty; at most once a minute unless forced. */
  private sweep(o: { force?: boolean } = {}): void {
    const now = this.now();
    if (!o.force && now - this.lastSweep < MINUTE_MS) return;
    this.lastSweep = now;
    const oldest = now - this.retentionMs;
    for (const [key, stored] of this.metrics) {
      for (const [unit, buckets] of stored.byUnit) {
        for (const at of buckets.keys()) if (at < oldest) buckets.delete(at);
        if (buckets.size === 0) stored.byUnit.delete(unit);
      }
      if (stored.byUnit.size === 0) this.metrics.delete(key);
    }
  }
}
