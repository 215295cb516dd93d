/**
 * Client-side pacing of ECS calls under the account's API budgets (ECS-FACTS §3.1): every call waits
 * for a token from its buckets before it is sent, so a burst of launches or a resync of a large
 * cluster spreads itself out instead of collecting ThrottlingExceptions. Throttling that still
 * happens (other callers share the account budget) is retried by the SDK's adaptive retry.
 *
 * The buckets live in one Lambda container: concurrent containers each get the full rate. The tick
 * runs with reserved concurrency 1, so its reads are bounded account-wide by this pacing.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';

export type BucketLimit = { burst: number; perSecond: number };

/**
 * ECS's documented budgets (RunTask/StopTask 100 burst 40/s; Fargate RunTask 20/s; reads 100 burst
 * 20/s), at 90%. The headroom is needed: ECS's bucket starts draining when the first request
 * arrives, a network latency after ours, so a client that spends the exact budget runs a few tokens
 * ahead of the server (measured: 2 of 150 reads throttled at 100%, none at 90%), and other callers
 * in the account draw from the same buckets.
 */
export const ECS_BUDGETS = {
  lifecycle: { burst: 90, perSecond: 36 },
  runTask: { burst: 18, perSecond: 18 },
  reads: { burst: 90, perSecond: 18 },
} as const satisfies Record<string, BucketLimit>;

/** Which buckets a command draws from (unlisted commands are not paced). */
const BUCKETS_OF: Record<string, (keyof typeof ECS_BUDGETS)[]> = {
  RunTaskCommand: ['lifecycle', 'runTask'],
  StopTaskCommand: ['lifecycle'],
  DescribeTasksCommand: ['reads'],
  ListTasksCommand: ['reads'],
  DescribeTaskDefinitionCommand: ['reads'],
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

  /** Waits for one token. */
  take(): Promise<void> {
    const turn = this.queue.then(async () => {
      for (;;) {
        const t = this.now();
        this.tokens = Math.min(
          this.limit.burst,
          this.tokens + ((t - this.last) / 1000) * this.limit.perSecond,
        );
        this.last = t;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await this.sleep(Math.ceil(((1 - this.tokens) / this.limit.perSecond) * 1000));
      }
    });
    this.queue = turn;
    return turn;
  }
}

/** Adds pacing to an ECS client (in place) and returns it. */
export function paceEcsClient(
  client: ECSClient,
  options: {
    budgets?: Partial<Record<keyof typeof ECS_BUDGETS, BucketLimit>>;
    now?: () => number;
  } = {},
): ECSClient {
  const buckets = Object.fromEntries(
    Object.entries(ECS_BUDGETS).map(([name, limit]) => [
      name,
      new TokenBucket(options.budgets?.[name as keyof typeof ECS_BUDGETS] ?? limit, options.now),
    ]),
  ) as Record<keyof typeof ECS_BUDGETS, TokenBucket>;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      for (const name of BUCKETS_OF[context.commandName ?? ''] ?? []) await buckets[name].take();
      return next(args);
    },
    { step: 'initialize', name: 'stewardEcsPacing' },
  );
  return client;
}
