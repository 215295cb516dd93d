import { EcsApiError, EcsErrorType } from './errors';

// ECS throttles API calls per account and Region with token buckets (API reference, "Request
// throttling"), and Fargate adds its own RunTask call and task launch buckets (developer guide,
// "AWS Fargate throttling quotas"). The emulator reproduces them on its own clock, so a test can
// freeze or advance time and see exactly the figures AWS documents.

/** The token buckets the emulator enforces. */
export type BucketName =
  | 'taskLifecycle'
  | 'fargateRunTask'
  | 'fargateLaunches'
  | 'reads'
  | 'registerTaskDefinition'
  | 'clusterModify';

/** A bucket's size (`burst` tokens) and refill rate (`perSecond` tokens per second). */
export type BucketLimit = { burst: number; perSecond: number };

/** `true` turns on the documented limits; an object turns them on and overrides some. */
export type RateLimitOptions = boolean | Partial<Record<BucketName, BucketLimit>>;

/** The AWS defaults (ECS-FACTS §3.1/§3.2). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<BucketName, BucketLimit>> = {
  taskLifecycle: { burst: 100, perSecond: 40 },
  fargateRunTask: { burst: 20, perSecond: 20 },
  fargateLaunches: { burst: 100, perSecond: 20 },
  reads: { burst: 100, perSecond: 20 },
  registerTaskDefinition: { burst: 20, perSecond: 1 },
  clusterModify: { burst: 20, perSecond: 1 },
};

const BUCKETS = Object.keys(DEFAULT_RATE_LIMITS);

/** The bucket each operation draws one token from; RunTask's buckets depend on its launch. */
export const OPERATION_BUCKETS: Readonly<Record<string, BucketName>> = {
  StartTask: 'taskLifecycle',
  StopTask: 'taskLifecycle',
  DescribeTasks: 'reads',
  ListTasks: 'reads',
  DescribeContainerInstances: 'reads',
  ListContainerInstances: 'reads',
  DescribeClusters: 'reads',
  ListClusters: 'reads',
  DescribeTaskDefinition: 'reads',
  ListTaskDefinitions: 'reads',
  ListTagsForResource: 'reads',
  RegisterTaskDefinition: 'registerTaskDefinition',
  // AWS puts DeregisterTaskDefinition in the same "task definition modify" category.
  DeregisterTaskDefinition: 'registerTaskDefinition',
  CreateCluster: 'clusterModify',
};

/** Tokens one call needs from one bucket. */
export type BucketDemand = { bucket: BucketName; tokens: number };

/** The ThrottlingException ECS answers when a bucket is empty. */
export const throttlingError = (): EcsApiError =>
  new EcsApiError({ type: EcsErrorType.Throttling, message: 'Rate exceeded' });

/** Turns the option into the limits in force, or undefined when rate limiting is off. */
export const resolveRateLimits = (
  option: RateLimitOptions | undefined,
): Record<BucketName, BucketLimit> | undefined => {
  if (option === undefined || option === false) return undefined;
  const limits = { ...DEFAULT_RATE_LIMITS };
  if (option !== true) {
    for (const [name, limit] of Object.entries(option)) {
      if (!Object.hasOwn(DEFAULT_RATE_LIMITS, name)) {
        throw new Error(`rateLimits.${name} is not a bucket; known: ${BUCKETS.join(', ')}`);
      }
      if (limit !== undefined) limits[name as BucketName] = limit;
    }
  }
  for (const [name, limit] of Object.entries(limits)) {
    const ok =
      Number.isFinite(limit.burst) &&
      limit.burst >= 0 &&
      Number.isFinite(limit.perSecond) &&
      limit.perSecond >= 0;
    if (!ok) throw new Error(`rateLimits.${name} needs burst and perSecond of at least 0`);
  }
  return limits;
};

// Tokens are kept in thousandths so that refilling by elapsed milliseconds × perSecond stays in
// integers for integer clocks: 0.1 s at 20/s is exactly 2 tokens, never 1.9999….
const MILLI = 1000;

type Bucket = { limit: BucketLimit; milliTokens: number; refilledAt: number };

export type RateLimiterOptions = {
  limits: Record<BucketName, BucketLimit>;
  /** The emulator clock in ms; buckets refill continuously as it advances. */
  now: () => number;
};

/** Token buckets that refill on the emulator clock; a call takes all it needs or nothing. */
export class RateLimiter {
  private readonly buckets: Map<BucketName, Bucket>;
  private readonly now: () => number;

  constructor(options: RateLimiterOptions) {
    this.now = options.now;
    const start = this.now();
    this.buckets = new Map(
      Object.entries(options.limits).map(([name, limit]) => [
        name as BucketName,
        // Buckets start full, as an account that has been idle.
        { limit, milliTokens: limit.burst * MILLI, refilledAt: start },
      ]),
    );
  }

  /**
   * Takes the demanded tokens if every bucket has enough; otherwise takes none and throws the
   * ThrottlingException, so a throttled call leaves no trace in any bucket.
   */
  take(demands: readonly BucketDemand[]): void {
    const now = this.now();
    for (const bucket of this.buckets.values()) this.refill({ bucket, now });
    const needed = new Map<Bucket, number>();
    for (const d of demands) {
      const bucket = this.buckets.get(d.bucket);
      if (!bucket || d.tokens <= 0) continue;
      needed.set(bucket, (needed.get(bucket) ?? 0) + d.tokens * MILLI);
    }
    for (const [bucket, milli] of needed) {
      if (bucket.milliTokens < milli) throw throttlingError();
    }
    for (const [bucket, milli] of needed) bucket.milliTokens -= milli;
  }

  /** Whole tokens left in a bucket now, for diagnostics. */
  available(bucket: BucketName): number {
    const b = this.buckets.get(bucket);
    if (!b) return Number.POSITIVE_INFINITY;
    this.refill({ bucket: b, now: this.now() });
    return Math.floor(b.milliTokens / MILLI);
  }

  private refill(o: { bucket: Bucket; now: number }): void {
    const { bucket, now } = o;
    // A clock set back (a test resetting its fake clock) refills nothing and restarts from there.
    const elapsed = Math.max(0, now - bucket.refilledAt);
    bucket.milliTokens = Math.min(
      bucket.limit.burst * MILLI,
      bucket.milliTokens + elapsed * bucket.limit.perSecond,
    );
    bucket.refilledAt = now;
  }
}
