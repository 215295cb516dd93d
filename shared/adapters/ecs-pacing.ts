/**
 * Client-side pacing of ECS calls under the account's API budgets (ECS-FACTS §3.1, §3.2): every
 * attempt waits for tokens from its buckets before it is sent, so a burst of launches or a resync of a large
 * cluster spreads itself out instead of collecting ThrottlingExceptions. Throttling that still
 * happens (other callers share the account budget) is retried by the SDK's adaptive retry.
 *
 * The buckets live in one Lambda container: concurrent containers each get the full rate. The tick
 * runs with reserved concurrency 1, so its reads are bounded account-wide by this pacing.
 */
import type { ECSClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-ecs';
import type { FinalizeRequestMiddleware } from '@smithy/types';

export type BucketLimit = { burst: number; perSecond: number };

/**
 * ECS's documented budgets (RunTask/StopTask 100 burst 40/s; Fargate RunTask 20 burst 20/s; Fargate
 * task launches 100 burst 20/s; reads 100 burst 20/s), with headroom. ECS counts a request when it
 * arrives, we count it when we send it, and the time in between varies (network, a busy event
 * loop): sends spread by up to J seconds can arrive bunched together. A client bucket of burst b
 * and rate r below a server bucket of burst B and rate R is never throttled while
 * r·J ≤ (B − b) + (R − r)·t for every span t, so each bucket keeps at least 250 ms of arrival
 * jitter in hand (r·0.25 ≤ B − b) and refills at 90%. Other callers in the account draw from the
 * same buckets; what they cause is retried by the SDK.
 */
export const ECS_BUDGETS = {
  lifecycle: { burst: 90, perSecond: 36 },
  runTask: { burst: 15, perSecond: 18 },
  fargateLaunches: { burst: 90, perSecond: 18 },
  reads: { burst: 90, perSecond: 18 },
} as const satisfies Record<string, BucketLimit>;

type BucketName = keyof typeof ECS_BUDGETS;

/** Tokens one attempt of a command needs, per bucket (commands not listed are not paced). */
type Demand = { bucket: BucketName; tokens: number };

/** Whether a RunTask call launches on Fargate; without a launch type the default may be Fargate. */
const launchesOnFargate = (input: {
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider?: string }[];
}): boolean => {
  if (input.launchType !== undefined) return input.launchType === 'FARGATE';
  const strategy = input.capacityProviderStrategy;
  if (strategy === undefined || strategy.length === 0) return true;
  return strategy.some((item) => item.capacityProvider?.startsWith('FARGATE') === true);
};

const demandsOf = (command: string, input: Record<string, unknown>): Demand[] => {
  switch (command) {
    case 'RunTaskCommand': {
      // The narrow Fargate buckets first: a call that waits there has not yet spent the shared
      // lifecycle token, so StopTask calls sent meanwhile are not bunched behind it.
      const lifecycle: Demand = { bucket: 'lifecycle', tokens: 1 };
      if (!launchesOnFargate(input)) return [lifecycle];
      const count = typeof input.count === 'number' && input.count > 1 ? input.count : 1;
      return [
        { bucket: 'runTask', tokens: 1 },
        { bucket: 'fargateLaunches', tokens: count },
        lifecycle,
      ];
    }
    case 'StopTaskCommand':
      return [{ bucket: 'lifecycle', tokens: 1 }];
    case 'DescribeTasksCommand':
    case 'ListTasksCommand':
    case 'DescribeTaskDefinitionCommand':
      return [{ bucket: 'reads', tokens: 1 }];
    default:
      return [];
  }
};

/** A token bucket on a clock; `take` resolves once a token is available (callers queue in order). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly limit: BucketLimit,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {
    this.tokens = limit.burst;
    this.last = now();
  }

  /** Waits for `count` tokens (at most the bucket's burst). */
  take(count = 1): Promise<void> {
    const need = Math.min(count, this.limit.burst);
    const turn = this.queue.then(async () => {
      for (;;) {
        const t = this.now();
        this.tokens = Math.min(
          this.limit.burst,
          this.tokens + ((t - this.last) / 1000) * this.limit.perSecond,
        );
        this.last = t;
        if (this.tokens >= need) {
          this.tokens -= need;
          return;
        }
        await this.sleep(Math.ceil(((need - this.tokens) / this.limit.perSecond) * 1000));
      }
    });
    this.queue = turn;
    return turn;
  }
}

/**
 * Adds pacing to an ECS client (in place) and returns it. Every attempt waits, retries included
 * (each one spends ECS budget), and it waits just before the request is signed and sent, so the
 * time between our count and ECS's is as short as it can be.
 */
export function paceEcsClient(
  client: ECSClient,
  options: {
    budgets?: Partial<Record<BucketName, BucketLimit>>;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): ECSClient {
  const buckets = Object.fromEntries(
    Object.entries(ECS_BUDGETS).map(([name, limit]) => [
      name,
      new TokenBucket(options.budgets?.[name as BucketName] ?? limit, options.now, options.sleep),
    ]),
  ) as Record<BucketName, TokenBucket>;
  const pace: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      for (const { bucket, tokens } of demandsOf(context.commandName ?? '', input)) {
        await buckets[bucket].take(tokens);
      }
      return next(args);
    };
  client.middlewareStack.addRelativeTo(pace, {
    name: 'stewardEcsPacing',
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
  });
  return client;
}
