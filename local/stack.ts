/**
 * The whole offline Steward in one process: embedded DynamoDB (dynalite), the ECS emulator, local
 * EventBridge, SQS, CloudWatch and ELBv2 target groups behind one AWS-compatible endpoint, the HTTP API, and the schedule — all wired
 * from serverless.yml and running the same handler modules as Lambda. Used by `npm start` and the
 * e2e tests.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createAwsEndpoint } from './aws-endpoint';
import { installClock, makeStackClock, type StackClock } from './clock';
import { LocalCloudWatch } from './cloudwatch/engine';
import { createCloudWatchRequestHandler } from './cloudwatch/http';
import { createControlApi } from './control-api';
import { lockDataDir } from './data-dir-lock';
import { EcsEmulator, type EventBridgeEvent, type RateLimitOptions } from './ecs/emulator';
import { createEcsRequestHandler } from './ecs/http';
import type { ElbV2State } from './elbv2/engine';
import { LocalElbV2 } from './elbv2/engine';
import { createElbV2QueryHandler } from './elbv2/http';
import { loadElbV2State } from './elbv2/persistence';
import { type FaultyTransport, makeFaultyTransport } from './event-faults';
import { type EventRouter, makeEventRouter, type RoutedEvent } from './event-router';
import { createHttpGateway } from './http-gateway';
import { type LocalFunction, loadFunctions } from './lambda-runtime';
import { loadServerlessConfig } from './serverless-config';
import { StateFile } from './state-file';

export type StackOptions = {
  rootDir?: string;
  dataDir?: string;
  /**
   * Keep DynamoDB, ECS and ELBv2 state on disk under dataDir (npm start); tests run in memory.
   */
  persist?: boolean;
  host?: string;
  awsPort?: number;
  apiPort?: number;
  token?: string;
  region?: string;
  /** Delay between simulated task lifecycle steps. */
  taskStepDelayMs?: number;
  /** Overrides the schedule's rate from serverless.yml (demos, tests); 0 turns the schedule off. */
  tickIntervalMs?: number;
  /** Delay before the first retry of a failed asynchronous invoke. */
  retryBaseMs?: number;
  /**
   * Decides how each routed event is delivered (tests drop or delay events with it). It receives
   * what survives the injected faults (`Stack.faults`), which are off by default.
   */
  transport?: (deliver: () => void, event: RoutedEvent) => void;
  /** Random source of the fault injection (a seeded PRNG makes tests reproducible). */
  faultRandom?: () => number;
  /** AWS's ECS request throttling in the emulator: off by default, `true` for AWS's limits. */
  ecsRateLimits?: RateLimitOptions;
  /** Emulated time runs this many times faster (Spot's 2-minute warning, retention, workloads). */
  timeScale?: number;
  /** Where the stack's clock starts (epoch ms; default now); it moves through /_steward/clock. */
  clockStartsAt?: number;
  /**
   * Extra environment for the handlers (e.g. STEWARD_ALLOWED_CLUSTERS). Read when the handler
   * modules are first loaded in this process, as a Lambda container reads its environment.
   */
  environment?: Record<string, string>;
  log?: (line: string) => void;
};

export type Stack = {
  apiUrl: string;
  awsUrl: string;
  token: string;
  tokenFile: string;
  dataDir: string;
  deadLetterFile: string;
  emulator: EcsEmulator;
  /** The stack's clock (also at /_steward/clock): move it forward to reach scheduled actions. */
  clock: StackClock;
  /**
   * The local CloudWatch on the AWS endpoint: custom metrics (PutMetricData), Container Insights
   * computed from `emulator`, metric math; `injectQueryFault` makes queries fail as CloudWatch can.
   */
  cloudwatch: LocalCloudWatch;
  /**
   * The local Elastic Load Balancing v2 on the AWS endpoint (query protocol, Version 2015-12-01):
   * target groups, their attributes and targets, with target health simulated from `emulator`'s
   * tasks on `clock` (see local/elbv2/engine.ts).
   */
  elbv2: LocalElbV2;
  /** Event delivery faults between the emulator (and PutEvents) and the functions; all 0 at start. */
  faults: FaultyTransport;
  functions: Map<string, LocalFunction>;
  /** Requests received by the AWS endpoint, per X-Amz-Target (e.g. `DynamoDB_20120810.Query`). */
  requestCounts(): Record<string, number>;
  resetRequestCounts(): void;
  /** Runs the schedule's functions once, now, and waits for them. */
  tick(): Promise<void>;
  /** Waits until every asynchronous invoke started so far has finished. */
  drain(): Promise<void>;
  stop(): Promise<void>;
};

const ACCOUNT_ID = '000000000000';

/** Starts the stack; resolves when every part is listening. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const rootDir = resolve(options.rootDir ?? process.cwd());
  const dataDir = resolve(rootDir, options.dataDir ?? '.steward');
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? (() => undefined);
  mkdirSync(dataDir, { recursive: true });
  const unlock = options.persist ? lockDataDir(dataDir) : () => undefined;
  const deadLetterFile = join(dataDir, 'dead-letters.jsonl');
  const config = loadServerlessConfig({ path: join(rootDir, 'serverless.yml'), stage: 'local' });

  const db = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.persist ? { path: join(dataDir, 'dynamodb') } : {}),
  });
  // Emulator events wait here until the router exists (the emulator may resume tasks on load).
  let router: EventRouter | undefined;
  const early: EventBridgeEvent[] = [];
  // A moved clock is kept with the data (the emulator's stored timers are on it), so a restart
  // resumes at the same offset from real time.
  const clockFile = join(dataDir, 'clock.json');
  const savedOffset = options.persist ? readClockOffset(clockFile) : undefined;
  const clock = makeStackClock(
    options.clockStartsAt ?? (savedOffset === undefined ? undefined : Date.now() + savedOffset),
    options.persist
      ? (offsetMs) => writeFileSync(clockFile, `${JSON.stringify({ offsetMs })}\n`)
      : undefined,
  );
  installClock(clock);
  const emulator = new EcsEmulator({
    region,
    accountId: ACCOUNT_ID,
    now: clock.now,
    stepDelayMs: options.taskStepDelayMs ?? 1000,
    ...(options.ecsRateLimits === undefined ? {} : { rateLimits: options.ecsRateLimits }),
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(options.persist ? { stateFile: join(dataDir, 'ecs-state.json') } : {}),
    emit: (event) => (router ? router.deliver(event) : early.push(event)),
  });
  const routerProxy: EventRouter = {
    deliver: (e) => requireRouter().deliver(e),
    putEvents: (entries) => requireRouter().putEvents(entries),
    get delivered() {
      return router?.delivered ?? 0;
    },
  };
  const requireRouter = () => {
    if (!router) throw new Error('The event router is not ready yet');
    return router;
  };
  const cloudwatch = new LocalCloudWatch({ containerInsights: emulator, now: clock.now });
  const elbv2StatePath = join(dataDir, 'elbv2-state.json');
  let elbv2StateFile: StateFile<ElbV2State> | undefined;
  const savedElbV2 = options.persist ? loadElbV2State(elbv2StatePath) : undefined;
  const elbv2 = new LocalElbV2({
    region,
    accountId: ACCOUNT_ID,
    now: clock.now,
    tasks: emulator,
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(savedElbV2 === undefined ? {} : { state: savedElbV2 }),
    onChange: () => elbv2StateFile?.markDirty(),
  });
  if (options.persist) {
    elbv2StateFile = new StateFile({
      path: elbv2StatePath,
      snapshot: () => elbv2.snapshot(),
      what: 'The local ELBv2',
    });
  }
  const requestCounts = new Map<string, number>();
  const faults = makeFaultyTransport({
    ...(options.faultRandom ? { random: options.faultRandom } : {}),
    ...(options.transport ? { next: options.transport } : {}),
  });
  const endpoint = createAwsEndpoint({
    ecs: createEcsRequestHandler(emulator),
    dynamodb: db.listeners('request')[0] as RequestListener,
    events: routerProxy,
    deadLetterFile,
    onRequest: (target) => requestCounts.set(target, (requestCounts.get(target) ?? 0) + 1),
    cloudwatch: createCloudWatchRequestHandler(cloudwatch),
    elbv2: createElbV2QueryHandler(elbv2),
    control: createControlApi({
      emulator,
      faults,
      clock,
      requestCounts: () => Object.fromEntries(requestCounts),
    }),
  });
  const awsPort = await listen(endpoint, host, options.awsPort ?? 4566);
  const awsUrl = `http://${host}:${awsPort}`;

  // The handlers build their SDK clients from these, exactly as in Lambda.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: awsUrl,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    TABLE_NAME: config.table.TableName,
    EVENT_BUS_NAME: 'default',
    DEAD_LETTER_QUEUE_URL: `${awsUrl}/${ACCOUNT_ID}/${config.service}-local-dead-letters`,
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    ...options.environment,
  });
  await ensureTable({ endpoint: awsUrl, region, table: config.table });

  const loaded = await loadFunctions({
    rootDir,
    service: config.service,
    stage: config.stage,
    region,
    accountId: ACCOUNT_ID,
    deadLetterFile,
    retryBaseMs: options.retryBaseMs ?? 1000,
    functions: config.functions,
    onError: ({ functionName, attempt, error, final }) =>
      log(
        `${functionName} failed (attempt ${attempt + 1})${final ? ', sent to the dead-letter file' : ', retrying'}: ${(error as Error)?.message ?? String(error)}`,
      ),
  });
  router = makeEventRouter({
    functions: loaded.functions.values(),
    region,
    accountId: ACCOUNT_ID,
    transport: faults.transport,
  });
  for (const e of early.splice(0)) router.deliver(e);

  const token = options.token ?? readOrCreateToken(join(dataDir, 'api-token'));
  const tokenFile = join(dataDir, 'api-token');
  if (options.token !== undefined) writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const gateway = createHttpGateway({
    functions: loaded.functions.values(),
    token,
    accountId: ACCOUNT_ID,
  });
  const apiPort = await listen(gateway, host, options.apiPort ?? 3000);

  const scheduled = [...loaded.functions.values()].flatMap((fn) =>
    fn.config.schedules.map((s) => ({ fn, s })),
  );
  const running = new Set<string>();
  const runScheduled = async (fn: LocalFunction, expression: string) => {
    // reservedConcurrency 1 in serverless.yml: a tick never overlaps the previous one.
    if (running.has(fn.config.name)) return;
    running.add(fn.config.name);
    try {
      await fn.invoke(
        scheduledEvent({
          region,
          expression,
          name: `${config.service}-${config.stage}-${fn.config.name}`,
        }),
      );
    } catch (error) {
      log(`${fn.config.name} failed: ${(error as Error)?.message ?? String(error)}`);
    } finally {
      running.delete(fn.config.name);
    }
  };
  const timers = scheduled
    .map(({ fn, s }) => {
      const every = options.tickIntervalMs ?? s.rateMs;
      return every > 0 ? setInterval(() => void runScheduled(fn, s.expression), every) : undefined;
    })
    .filter((t) => t !== undefined);

  let stopped = false;
  return {
    apiUrl: `http://${host}:${apiPort}`,
    awsUrl,
    token,
    tokenFile,
    dataDir,
    deadLetterFile,
    emulator,
    clock,
    cloudwatch,
    elbv2,
    faults,
    functions: loaded.functions,
    requestCounts: () => Object.fromEntries(requestCounts),
    resetRequestCounts: () => requestCounts.clear(),
    tick: async () => {
      await Promise.all(scheduled.map(({ fn, s }) => runScheduled(fn, s.expression)));
    },
    drain: loaded.drain,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const t of timers) clearInterval(t);
      await close(gateway);
      await emulator.close();
      faults.close();
      // In-flight invocations get a few seconds to finish; the guard timer must not outlive them.
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([loaded.drain(), new Promise((r) => (guard = setTimeout(r, 5000)))]);
      clearTimeout(guard);
      await close(endpoint);
      // After the endpoint: no request can change the target groups any more.
      await elbv2StateFile?.flush();
      await new Promise<void>((r) => {
        // dynalite's close() also closes its leveldb store.
        (db as unknown as { close(cb: () => void): void }).close(() => r());
      });
      unlock();
    },
  };
}

function readOrCreateToken(file: string): string {
  const fromEnv = process.env.STEWARD_API_TOKEN;
  if (fromEnv) return fromEnv;
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved.length >= 32) return saved;
  }
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function ensureTable(o: {
  endpoint: string;
  region: string;
  table: ReturnType<typeof loadServerlessConfig>['table'];
}) {
  const client = new DynamoDBClient({
    endpoint: o.endpoint,
    region: o.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(new DescribeTableCommand({ TableName: o.table.TableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const {
    TableName,
    AttributeDefinitions,
    KeySchema,
    GlobalSecondaryIndexes,
    BillingMode,
    TimeToLiveSpecification,
  } = o.table;
  await client.send(
    new CreateTableCommand({
      TableName,
      AttributeDefinitions,
      KeySchema,
      BillingMode,
      ...(GlobalSecondaryIndexes ? { GlobalSecondaryIndexes } : {}),
    } as ConstructorParameters<typeof CreateTableCommand>[0]),
  );
  if (TimeToLiveSpecification) {
    // dynalite has no UpdateTimeToLive; history items then simply stay.
    await client
      .send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification }))
      .catch(() => undefined);
  }
  client.destroy();
}

function scheduledEvent(o: { region: string; expression: string; name: string }) {
  return {
    version: '0',
    id: randomBytes(16).toString('hex'),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: ACCOUNT_ID,
    time: new Date().toISOString(),
    region: o.region,
    resources: [`arn:aws:events:${o.region}:${ACCOUNT_ID}:rule/${o.name}`],
    detail: {},
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((r) => {
    server.close(() => r());
    server.closeAllConnections?.();
  });
}

/** The clock offset a persisted stack saved, if any (a file that does not parse is ignored). */
function readClockOffset(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const offset = (JSON.parse(readFileSync(file, 'utf8')) as { offsetMs?: unknown }).offsetMs;
    return typeof offset === 'number' && Number.isFinite(offset) ? offset : undefined;
  } catch {
    return undefined;
  }
}
