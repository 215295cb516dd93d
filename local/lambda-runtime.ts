/**
 * Runs the same handler modules Lambda runs, in this process: synchronous invokes for the HTTP API,
 * asynchronous invokes (retries with backoff, then the dead-letter file) for events and schedules,
 * as Lambda's asynchronous invocation does.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import type { FunctionConfig } from './serverless-config';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export type LocalFunction = {
  config: FunctionConfig;
  invoke(event: unknown): Promise<unknown>;
  invokeAsync(event: unknown): void;
};

export type RuntimeOptions = {
  rootDir: string;
  service: string;
  stage: string;
  region: string;
  accountId: string;
  deadLetterFile: string;
  /** Delay before the first retry of a failed asynchronous invoke; doubles after. Lambda waits ~1 min. */
  retryBaseMs: number;
  onError?: (info: {
    functionName: string;
    attempt: number;
    error: unknown;
    final: boolean;
  }) => void;
};

/** Loads every function's handler module and returns invokers keyed by function name. */
export async function loadFunctions(
  options: RuntimeOptions & { functions: FunctionConfig[] },
): Promise<{
  functions: Map<string, LocalFunction>;
  /** Resolves when every asynchronous invoke started so far has finished (for clean shutdown and tests). */
  drain(): Promise<void>;
}> {
  const inFlight = new Set<Promise<void>>();
  const functions = new Map<string, LocalFunction>();
  for (const config of options.functions) {
    const mod = (await import(resolve(options.rootDir, config.module))) as Record<string, unknown>;
    const handler = mod[config.exportName];
    if (typeof handler !== 'function') {
      throw new Error(`${config.module} does not export a function named ${config.exportName}`);
    }
    const functionName = `${options.service}-${options.stage}-${config.name}`;
    const invoke = (event: unknown) =>
      (handler as Handler)(
        event,
        makeContext({ ...options, functionName, timeoutSeconds: config.timeoutSeconds }),
      );

    const invokeAsync = (event: unknown) => {
      const run = (async () => {
        for (let attempt = 0; attempt <= config.maximumRetryAttempts; attempt++) {
          if (attempt > 0) await sleep(options.retryBaseMs * 2 ** (attempt - 1));
          try {
            await invoke(event);
            return;
          } catch (error) {
            const final = attempt === config.maximumRetryAttempts;
            options.onError?.({ functionName: config.name, attempt, error, final });
            if (final) {
              await appendFile(
                options.deadLetterFile,
                `${JSON.stringify({
                  source: config.name,
                  reason:
                    error instanceof Error ? `${error.name}: ${error.message}` : String(error),
                  attempts: attempt + 1,
                  at: new Date().toISOString(),
                  payload: event,
                })}\n`,
              );
            }
          }
        }
      })();
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    };
    functions.set(config.name, { config, invoke, invokeAsync });
  }
  return {
    functions,
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function makeContext(
  o: RuntimeOptions & { functionName: string; timeoutSeconds: number },
): Context {
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: o.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${o.region}:${o.accountId}:function:${o.functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${o.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
