/**
 * The CloudWatch metrics adapter against the local CloudWatch, over real HTTP with the real SDK
 * client, behind the local AWS endpoint (with the ECS emulator on the same endpoint, feeding
 * Container Insights). The emulator and the local CloudWatch share a clock the tests move.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createAwsEndpoint } from '../../local/aws-endpoint';
import { LocalCloudWatch, type LocalCloudWatchOptions } from '../../local/cloudwatch/engine';
import { createCloudWatchRequestHandler } from '../../local/cloudwatch/http';
import { EcsEmulator } from '../../local/ecs/emulator';
import { createEcsRequestHandler } from '../../local/ecs/http';
import {
  type MetricReadIssue,
  makeCloudWatchMetrics,
} from '../../shared/adapters/cloudwatch-metrics';
import type { MetricQuery, MetricRequest, Metrics } from '../../shared/ports/metrics';
import { AWS_CLI, awsCli } from '../support/aws-cli';
import { registerFargateTaskDefinition } from '../support/emulator-server';
import { waitFor } from '../support/wait';

const GET_METRIC_DATA = 'GraniteServiceVersion20100801.GetMetricData';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The local AWS endpoint with only ECS and CloudWatch behind it, on a clock the test moves. */
type Local = {
  url: string;
  cloudwatch: LocalCloudWatch;
  emulator: EcsEmulator;
  client: CloudWatchClient;
  ecs: ECSClient;
  metrics: Metrics;
  issues: MetricReadIssue[];
  /** Requests the endpoint received, per X-Amz-Target. */
  requests: Map<string, number>;
  now: () => number;
  advance: (ms: number) => void;
  stop: () => Promise<void>;
};

async function startLocal(options: Omit<LocalCloudWatchOptions, 'now'> = {}): Promise<Local> {
  let offset = 0;
  const now = () => Date.now() + offset;
  const emulator = new EcsEmulator({ stepDelayMs: 5, now });
  const cloudwatch = new LocalCloudWatch({ containerInsights: emulator, now, ...options });
  const requests = new Map<string, number>();
  const server: Server = createAwsEndpoint({
    ecs: createEcsRequestHandler(emulator),
    dynamodb: (_req, res) => {
      res.writeHead(501);
      res.end();
    },
    events: {
      deliver: () => 0,
      putEvents: () => ({ FailedEntryCount: 0, Entries: [] }),
      delivered: 0,
    },
    deadLetterFile: join(mkdtempSync(join(tmpdir(), 'steward-cw-')), 'dead-letters.jsonl'),
    onRequest: (target) => requests.set(target, (requests.get(target) ?? 0) + 1),
    cloudwatch: createCloudWatchRequestHandler(cloudwatch),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new CloudWatchClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  const ecs = new ECSClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS });
  const issues: MetricReadIssue[] = [];
  return {
    url,
    cloudwatch,
    emulator,
    client,
    ecs,
    metrics: makeCloudWatchMetrics({ client, onIssue: (i) => issues.push(i) }),
    issues,
    requests,
    now,
    advance: (ms) => {
      offset += ms;
    },
    stop: async () => {
      client.destroy();
      ecs.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await emulator.close();
    },
  };
}

/** A metric query with the statistic `stat`. */
const stat = (o: {
  id: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  stat?: string;
  returnData?: boolean;
}): MetricQuery => ({
  id: o.id,
  metricStat: {
    metric: {
      namespace: o.namespace,
      metricName: o.metricName,
      dimensions: Object.entries(o.dimensions ?? {}).map(([name, value]) => ({ name, value })),
    },
    stat: o.stat ?? 'Average',
  },
  ...(o.returnData === undefined ? {} : { returnData: o.returnData }),
});

const one = (key: string, query: MetricQuery): MetricRequest => ({ key, queries: [query] });

let local: Local;

beforeAll(async () => {
  local = await startLocal();
});

afterAll(async () => {
  await local.stop();
});

beforeEach(() => {
  local.issues.length = 0;
  local.requests.clear();
  local.cloudwatch.clearQueryFaults();
});

const latest = (
  requests: MetricRequest[],
  o: { windowSeconds?: number; periodSeconds?: number } = {},
) =>
  local.metrics.latest({
    requests,
    now: local.now(),
    periodSeconds: o.periodSeconds ?? 60,
    windowSeconds: o.windowSeconds ?? 300,
  });

const put = (input: PutMetricDataCommandInput) =>
  local.client.send(new PutMetricDataCommand(input));

describe('custom metrics from PutMetricData', () => {
  it('reads back the statistics of what was put, per exact set of dimensions', async () => {
    const dims = [
      { Name: 'Service', Value: 'web' },
      { Name: 'Env', Value: 'prod' },
    ];
    await put({
      Namespace: 'Shop',
      MetricData: [
        { MetricName: 'Queue', Dimensions: dims, Value: 4 },
        { MetricName: 'Queue', Dimensions: [...dims].reverse(), Value: 8 },
        {
          MetricName: 'Queue',
          Dimensions: [dims[0] as { Name: string; Value: string }],
          Value: 100,
        },
      ],
    });
    const queue = (id: string, s: string, dimensions = { Service: 'web', Env: 'prod' }) =>
      stat({ id, namespace: 'Shop', metricName: 'Queue', dimensions, stat: s });
    const out = await latest([
      one('avg', queue('q', 'Average')),
      one('sum', queue('q', 'Sum')),
      one('min', queue('q', 'Minimum')),
      one('max', queue('q', 'Maximum')),
      one('n', queue('q', 'SampleCount')),
      one('webOnly', queue('q', 'Sum', { Service: 'web' } as never)),
      one('otherEnv', queue('q', 'Sum', { Service: 'web', Env: 'dev' })),
    ]);
    expect(Object.fromEntries(out)).toEqual({
      avg: 6,
      sum: 12,
      min: 4,
      max: 8,
      n: 2,
      webOnly: 100,
      otherEnv: undefined,
    });
    expect(local.issues).toEqual([]);
  });

  it('aggregates Values/Counts and StatisticValues', async () => {
    await put({
      Namespace: 'Batch',
      MetricData: [
        { MetricName: 'Latency', Values: [10, 20], Counts: [1, 3] },
        {
          MetricName: 'Latency',
          StatisticValues: { SampleCount: 2, Sum: 100, Minimum: 5, Maximum: 95 },
        },
      ],
    });
    const q = (s: string) => stat({ id: 'l', namespace: 'Batch', metricName: 'Latency', stat: s });
    const out = await latest([
      one('sum', q('Sum')),
      one('n', q('SampleCount')),
      one('min', q('Minimum')),
      one('max', q('Maximum')),
      one('avg', q('Average')),
    ]);
    expect(Object.fromEntries(out)).toEqual({ sum: 170, n: 6, min: 5, max: 95, avg: 170 / 6 });
  });

  it('answers undefined when there is no datapoint (no data is not zero)', async () => {
    const out = await latest([
      one('nothing', stat({ id: 'x', namespace: 'None', metricName: 'Nope' })),
    ]);
    expect(out.has('nothing')).toBe(true);
    expect(out.get('nothing')).toBeUndefined();
    expect(local.issues).toEqual([]);
  });

  it('takes the newest datapoint inside the window and nothing older', async () => {
    const minutesAgo = (m: number) => new Date(local.now() - m * 60_000);
    await put({
      Namespace: 'Window',
      MetricData: [
        { MetricName: 'Old', Value: 1, Timestamp: minutesAgo(10) },
        { MetricName: 'Both', Value: 1, Timestamp: minutesAgo(20) },
        { MetricName: 'Both', Value: 2, Timestamp: minutesAgo(3) },
      ],
    });
    const old = one('old', stat({ id: 'o', namespace: 'Window', metricName: 'Old' }));
    const both = one('both', stat({ id: 'b', namespace: 'Window', metricName: 'Both' }));
    expect(Object.fromEntries(await latest([old, both], { windowSeconds: 300 }))).toEqual({
      old: undefined,
      both: 2,
    });
    expect(Object.fromEntries(await latest([old, both], { windowSeconds: 900 }))).toEqual({
      old: 1,
      both: 2,
    });
  });

  it('accepts a gzip-compressed body, as the SDK sends a large PutMetricData', async () => {
    const encodings: string[] = [];
    local.client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
        encodings.push(headers['content-encoding'] ?? 'identity');
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordEncoding' },
    );
    try {
      await put({
        Namespace: 'Bulk',
        MetricData: Array.from({ length: 1000 }, (_, i) => ({
          MetricName: 'Items',
          Dimensions: [{ Name: 'Shard', Value: `shard-${i}` }],
          Value: i,
        })),
      });
    } finally {
      local.client.middlewareStack.remove('recordEncoding');
    }
    expect(encodings).toEqual(['gzip']);
    const out = await latest([
      one(
        's999',
        stat({
          id: 'x',
          namespace: 'Bulk',
          metricName: 'Items',
          dimensions: { Shard: 'shard-999' },
        }),
      ),
    ]);
    expect(out.get('s999')).toBe(999);

    // The same by hand: a gzip JSON 1.0 body with Content-Encoding.
    const response = await fetch(local.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData',
        'content-encoding': 'gzip',
      },
      body: gzipSync(
        JSON.stringify({ Namespace: 'Bulk', MetricData: [{ MetricName: 'Raw', Value: 3 }] }),
      ),
    });
    expect(response.status).toBe(200);
    expect(
      (await latest([one('raw', stat({ id: 'r', namespace: 'Bulk', metricName: 'Raw' }))])).get(
        'raw',
      ),
    ).toBe(3);
  });

  it('rejects bad data with CloudWatch errors and stores nothing of a rejected request', async () => {
    const rejection = (input: PutMetricDataCommandInput) =>
      put(input).then(
        () => {
          throw new Error('accepted');
        },
        (e: Error & { Code?: string }) => e,
      );
    const reserved = await rejection({
      Namespace: 'AWS/ECS',
      MetricData: [{ MetricName: 'X', Value: 1 }],
    });
    expect(reserved.name).toBe('InvalidParameterValueException');
    expect(reserved.message).toContain('AWS/ECS');
    const missing = await rejection({ Namespace: 'Bad', MetricData: [{ MetricName: 'X' }] });
    expect(missing.name).toBe('MissingRequiredParameterException');
    expect(missing.Code).toBe('MissingParameter');
    const both = await rejection({
      Namespace: 'Bad',
      MetricData: [
        { MetricName: 'Kept', Value: 1 },
        {
          MetricName: 'Y',
          Value: 1,
          StatisticValues: { SampleCount: 1, Sum: 1, Minimum: 1, Maximum: 1 },
        },
      ],
    });
    expect(both.name).toBe('InvalidParameterCombinationException');
    const late = await rejection({
      Namespace: 'Bad',
      MetricData: [{ MetricName: 'X', Value: 1, Timestamp: new Date(local.now() + 3 * 3_600_000) }],
    });
    expect(late.message).toContain('MetricData.member.1.Timestamp');
    expect(
      (await latest([one('kept', stat({ id: 'k', namespace: 'Bad', metricName: 'Kept' }))])).get(
        'kept',
      ),
    ).toBeUndefined();
  });
});

describe('Container Insights from the ECS emulator', () => {
  beforeAll(async () => {
    await registerFargateTaskDefinition({
      client: local.ecs,
      family: 'busy',
      containers: [
        {
          name: 'app',
          image: 'app:1',
          essential: true,
          dockerLabels: {
            'steward.emulator/cpu-percent': '10@0,80@60000',
            'steward.emulator/memory-percent': '50',
          },
        },
      ],
    });
    await local.ecs.send(
      new RunTaskCommand({
        taskDefinition: 'busy',
        count: 2,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      }),
    );
    await waitFor({
      what: 'two busy tasks RUNNING',
      probe: () =>
        local.emulator.runningTaskUsage().tasks.filter((t) => t.family === 'busy').length === 2
          ? true
          : undefined,
    });
  });

  const ci = (o: {
    id: string;
    metricName: string;
    stat?: string;
    family?: string | null;
    returnData?: boolean;
  }) =>
    stat({
      id: o.id,
      namespace: 'ECS/ContainerInsights',
      metricName: o.metricName,
      dimensions:
        o.family === null
          ? { ClusterName: 'default' }
          : { ClusterName: 'default', TaskDefinitionFamily: o.family ?? 'busy' },
      stat: o.stat ?? 'Sum',
      ...(o.returnData === undefined ? {} : { returnData: o.returnData }),
    });
  const utilisation: MetricRequest = {
    key: 'cpuPercent',
    queries: [
      ci({ id: 'used', metricName: 'CpuUtilized', returnData: false }),
      ci({ id: 'reserved', metricName: 'CpuReserved', returnData: false }),
      { id: 'utilisation', expression: '100 * used / reserved', returnData: true },
    ],
  };

  it('serves CPU and memory used and reserved, and running tasks, from the simulated workload', async () => {
    const out = await latest([
      one('cpuUsed', ci({ id: 'c', metricName: 'CpuUtilized' })),
      one('cpuReserved', ci({ id: 'c', metricName: 'CpuReserved' })),
      one('cpuPerTask', ci({ id: 'c', metricName: 'CpuUtilized', stat: 'Average' })),
      one('memoryUsed', ci({ id: 'm', metricName: 'MemoryUtilized' })),
      one('memoryReserved', ci({ id: 'm', metricName: 'MemoryReserved' })),
      one('tasks', ci({ id: 't', metricName: 'RunningTaskCount', stat: 'Average' })),
      one('samples', ci({ id: 't', metricName: 'CpuUtilized', stat: 'SampleCount' })),
      one('clusterTasks', ci({ id: 't', metricName: 'RunningTaskCount', family: null })),
      one('otherFamily', ci({ id: 'o', metricName: 'CpuUtilized', family: 'idle' })),
      utilisation,
    ]);
    // Two Fargate tasks of 256 CPU units and 512 MiB, at 10% CPU and 50% memory.
    expect(Object.fromEntries(out)).toEqual({
      cpuUsed: 51.2,
      cpuReserved: 512,
      cpuPerTask: 25.6,
      memoryUsed: 512,
      memoryReserved: 1024,
      tasks: 2,
      samples: 2,
      clusterTasks: expect.any(Number),
      otherFamily: undefined,
      cpuPercent: 10,
    });
    expect(out.get('clusterTasks')).toBeGreaterThanOrEqual(2);
  });

  it('moves with the emulator clock', async () => {
    local.advance(60_000);
    const out = await latest([
      utilisation,
      one('cpuUsed', ci({ id: 'c', metricName: 'CpuUtilized' })),
    ]);
    expect(Object.fromEntries(out)).toEqual({ cpuPercent: 80, cpuUsed: 409.6 });
  });

  it('has no history: a window that ended before now sees nothing', async () => {
    const out = await local.metrics.latest({
      requests: [one('past', ci({ id: 'c', metricName: 'CpuUtilized' }))],
      now: local.now() - 30 * 60_000,
      periodSeconds: 60,
      windowSeconds: 600,
    });
    expect(out.get('past')).toBeUndefined();
  });
});

describe('metric math', () => {
  beforeAll(async () => {
    await put({
      Namespace: 'Math',
      MetricData: [
        { MetricName: 'A', Value: 6 },
        { MetricName: 'B', Value: 4 },
        { MetricName: 'Zero', Value: 0 },
      ],
    });
  });
  const a = (o: { id?: string } = {}) =>
    stat({ id: o.id ?? 'a', namespace: 'Math', metricName: 'A', stat: 'Sum', returnData: false });
  const b = stat({ id: 'b', namespace: 'Math', metricName: 'B', stat: 'Sum', returnData: false });
  const math = (
    key: string,
    expression: string,
    extra: MetricQuery[] = [a(), b],
  ): MetricRequest => ({
    key,
    queries: [...extra, { id: 'e', expression, returnData: true }],
  });

  it('evaluates arithmetic, aggregates, FILL, IF, METRICS and PERIOD', async () => {
    const missing = stat({
      id: 'gone',
      namespace: 'Math',
      metricName: 'Missing',
      returnData: false,
    });
    const out = await latest([
      math('ratio', '100 * a / (a + b)'),
      math('power', '-b ^ 2 + 2 * 3'),
      math('sum', 'SUM([a, b])'),
      math('avg', 'AVG([a, b])'),
      math('min', 'MIN([a, b])'),
      math('max', 'MAX([a, b]) - MAX(a)'),
      math('abs', 'ABS(b - a) + FLOOR(2.7) + CEIL(0.2)'),
      math('fill', 'FILL(gone, 7)', [missing]),
      math('fillSeries', 'FILL(gone, a)', [a(), missing]),
      math('ifTrue', 'IF(a > 5 AND b < 5, a, b)'),
      math('ifFalse', 'IF(a > 100, a, b)'),
      math('ifDropped', 'IF(a > 100, a)'),
      math('all', 'SUM(METRICS())'),
      math('filtered', 'SUM(METRICS("b"))'),
      math('perSecond', 'a / PERIOD(a)'),
      math('nested', 'e2 * 2', [a(), b, { id: 'e2', expression: 'a - b', returnData: false }]),
      math('noData', 'gone * 2', [missing]),
    ]);
    expect(Object.fromEntries(out)).toEqual({
      ratio: 60,
      power: -10,
      sum: 10,
      avg: 5,
      min: 4,
      max: 0,
      abs: 5,
      fill: 7,
      fillSeries: 6,
      ifTrue: 6,
      ifFalse: 4,
      ifDropped: undefined,
      all: 10,
      filtered: 4,
      perSecond: 0.1,
      nested: 4,
      noData: undefined,
    });
    expect(local.issues).toEqual([]);
  });

  it('drops a division by zero and says so (ArithmeticError) without failing the read', async () => {
    const zero = stat({
      id: 'z',
      namespace: 'Math',
      metricName: 'Zero',
      stat: 'Sum',
      returnData: false,
    });
    const out = await latest([math('divided', 'a / z', [a(), zero]), math('fine', 'a + b')]);
    expect(Object.fromEntries(out)).toEqual({ divided: undefined, fine: 10 });
    expect(local.issues).toEqual([
      expect.objectContaining({
        key: 'divided',
        effect: 'warning',
        messages: [expect.objectContaining({ code: 'ArithmeticError' })],
      }),
    ]);
  });

  it('reads a request CloudWatch refuses as no data, naming why, and still answers the others', async () => {
    // RATE is refused by the local CloudWatch (InvalidParameterValue for the whole call); the
    // adapter reads each request of the refused call alone, so only the bad one goes without.
    const out = await latest([math('rate', 'RATE(a)'), math('fine', 'a + b')]);
    expect(Object.fromEntries(out)).toEqual({ rate: undefined, fine: 10 });
    expect(local.issues).toEqual([
      expect.objectContaining({
        key: 'rate',
        effect: 'no-data',
        reason: expect.stringMatching(
          /CloudWatch refused the query: .*RATE.*not supported by the local CloudWatch/,
        ),
      }),
    ]);
  });
});

describe('batching', () => {
  beforeAll(async () => {
    await put({
      Namespace: 'Many',
      MetricData: Array.from({ length: 700 }, (_, i) => ({
        MetricName: 'Load',
        Dimensions: [{ Name: 'Index', Value: String(i) }],
        Value: i,
      })),
    });
  });

  it('reads 700 one-query requests in 2 calls, each answered from its own metric', async () => {
    const requests = Array.from({ length: 700 }, (_, i) =>
      one(
        `k${i}`,
        stat({
          id: 'load',
          namespace: 'Many',
          metricName: 'Load',
          dimensions: { Index: String(i) },
        }),
      ),
    );
    const out = await latest(requests);
    expect(local.requests.get(GET_METRIC_DATA)).toBe(2);
    expect(out.size).toBe(700);
    for (let i = 0; i < 700; i++) expect(out.get(`k${i}`)).toBe(i);
  });

  it('keeps each request whole and rewrites the ids its expressions name', async () => {
    // 300 requests × 3 queries with the same ids: 166 fit in 500, so 2 calls.
    const requests = Array.from({ length: 300 }, (_, i) => ({
      key: `r${i}`,
      queries: [
        stat({
          id: 'used',
          namespace: 'Many',
          metricName: 'Load',
          dimensions: { Index: String(i) },
          stat: 'Sum',
          returnData: false,
        }),
        stat({
          id: 'reserved',
          namespace: 'Many',
          metricName: 'Load',
          dimensions: { Index: String(i + 1) },
          stat: 'Sum',
          returnData: false,
        }),
        // "used" in the string, and a number with an exponent, must not be renamed.
        {
          id: 'ratio',
          expression: "used * 1e2 / reserved + 0 * SUM(METRICS('used'))",
          returnData: true,
        },
      ],
    }));
    // METRICS() sees the whole call: such requests go alone, so use it in the first 2 only.
    const plain = requests.slice(2).map((r) => ({
      ...r,
      queries: r.queries.map((q) =>
        q.expression ? { ...q, expression: 'used * 1e2 / reserved' } : q,
      ),
    }));
    const out = await latest([...requests.slice(0, 2), ...plain]);
    expect(local.requests.get(GET_METRIC_DATA)).toBe(4);
    // Index 0: 0 / 1 → 0; index i: 100 i / (i + 1).
    for (let i = 0; i < 300; i++) expect(out.get(`r${i}`)).toBeCloseTo((100 * i) / (i + 1), 10);
    expect(local.issues).toEqual([]);
  });

  it('sends a request using METRICS() alone, so it sums only its own metrics', async () => {
    const request = (key: string, index: number): MetricRequest => ({
      key,
      queries: [
        stat({
          id: 'm',
          namespace: 'Many',
          metricName: 'Load',
          dimensions: { Index: String(index) },
          stat: 'Sum',
          returnData: false,
        }),
        { id: 'total', expression: 'SUM(METRICS())', returnData: true },
      ],
    });
    const out = await latest([request('a', 10), request('b', 20)]);
    expect(Object.fromEntries(out)).toEqual({ a: 10, b: 20 });
    expect(local.requests.get(GET_METRIC_DATA)).toBe(2);
  });

  it('reports malformed requests without sending them, and answers the rest', async () => {
    const good = one(
      'good',
      stat({ id: 'load', namespace: 'Many', metricName: 'Load', dimensions: { Index: '5' } }),
    );
    const out = await latest([
      good,
      one('badId', stat({ id: 'Load', namespace: 'Many', metricName: 'Load' })),
      { key: 'unknownRef', queries: [{ id: 'e', expression: 'nope * 2' }] },
      {
        key: 'twoAnswers',
        queries: [
          stat({ id: 'x', namespace: 'Many', metricName: 'Load', returnData: true }),
          stat({ id: 'y', namespace: 'Many', metricName: 'Load', returnData: true }),
        ],
      },
      { key: 'empty', queries: [] },
    ]);
    expect(Object.fromEntries(out)).toEqual({
      good: 5,
      badId: undefined,
      unknownRef: undefined,
      twoAnswers: undefined,
      empty: undefined,
    });
    expect(local.issues.map((i) => [i.key, i.effect])).toEqual([
      ['badId', 'no-data'],
      ['unknownRef', 'no-data'],
      ['twoAnswers', 'no-data'],
      ['empty', 'no-data'],
    ]);
    expect(local.requests.get(GET_METRIC_DATA)).toBe(1);
  });
});

describe('per-query errors', () => {
  it('maps InternalError and PartialData answers to undefined, and says why', async () => {
    await put({
      Namespace: 'Faulty',
      MetricData: [
        { MetricName: 'Broken', Value: 1 },
        { MetricName: 'Partial', Value: 2 },
        { MetricName: 'Fine', Value: 3 },
      ],
    });
    local.cloudwatch.injectQueryFault({
      namespace: 'Faulty',
      metricName: 'Broken',
      statusCode: 'InternalError',
      message: 'The metric store is unavailable.',
    });
    local.cloudwatch.injectQueryFault({
      namespace: 'Faulty',
      metricName: 'Partial',
      statusCode: 'PartialData',
    });
    const out = await latest([
      one('broken', stat({ id: 'm', namespace: 'Faulty', metricName: 'Broken' })),
      one('partial', stat({ id: 'm', namespace: 'Faulty', metricName: 'Partial' })),
      one('fine', stat({ id: 'm', namespace: 'Faulty', metricName: 'Fine' })),
      {
        key: 'derived',
        queries: [
          stat({ id: 'm', namespace: 'Faulty', metricName: 'Broken', returnData: false }),
          { id: 'e', expression: 'm * 2', returnData: true },
        ],
      },
    ]);
    expect(Object.fromEntries(out)).toEqual({
      broken: undefined,
      partial: undefined,
      fine: 3,
      derived: undefined,
    });
    expect(local.issues).toEqual([
      expect.objectContaining({
        key: 'broken',
        effect: 'no-data',
        statusCode: 'InternalError',
        messages: [{ code: 'InternalError', value: 'The metric store is unavailable.' }],
      }),
      expect.objectContaining({ key: 'partial', effect: 'no-data', statusCode: 'PartialData' }),
      expect.objectContaining({ key: 'derived', effect: 'no-data', statusCode: 'InternalError' }),
    ]);
  });

  it('propagates an error of the call itself', async () => {
    const down = makeCloudWatchMetrics({
      client: new CloudWatchClient({
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: CREDENTIALS,
        maxAttempts: 1,
      }),
    });
    await expect(
      down.latest({
        requests: [one('x', stat({ id: 'm', namespace: 'Any', metricName: 'Thing' }))],
        now: Date.now(),
        periodSeconds: 60,
        windowSeconds: 300,
      }),
    ).rejects.toThrow();
  });
});

describe('pagination', () => {
  it('follows NextToken and keeps the newest datapoint of every request', async () => {
    const paged = await startLocal({ maxDatapointsPerPage: 7 });
    try {
      const now = paged.now();
      // 5 metrics × 12 minutes of datapoints: 60 datapoints, pages of 7.
      await paged.client.send(
        new PutMetricDataCommand({
          Namespace: 'Paged',
          MetricData: Array.from({ length: 60 }, (_, i) => ({
            MetricName: 'Depth',
            Dimensions: [{ Name: 'Queue', Value: `q${i % 5}` }],
            Value: 100 * (i % 5) + Math.floor(i / 5),
            Timestamp: new Date(now - (11 - Math.floor(i / 5)) * 60_000),
          })),
        }),
      );
      const out = await paged.metrics.latest({
        requests: Array.from({ length: 5 }, (_, q) =>
          one(
            `q${q}`,
            stat({
              id: 'd',
              namespace: 'Paged',
              metricName: 'Depth',
              dimensions: { Queue: `q${q}` },
            }),
          ),
        ),
        now,
        periodSeconds: 60,
        windowSeconds: 15 * 60,
      });
      expect(Object.fromEntries(out)).toEqual({ q0: 11, q1: 111, q2: 211, q3: 311, q4: 411 });
      expect(paged.requests.get(GET_METRIC_DATA)).toBeGreaterThanOrEqual(9);
      expect(paged.issues).toEqual([]);

      // A NextToken is only good for the request it was returned for.
      const first = await paged.client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 15 * 60_000),
          EndTime: new Date(now),
          MetricDataQueries: [
            {
              Id: 'd',
              MetricStat: {
                Metric: {
                  Namespace: 'Paged',
                  MetricName: 'Depth',
                  Dimensions: [{ Name: 'Queue', Value: 'q0' }],
                },
                Period: 60,
                Stat: 'Sum',
              },
            },
          ],
        }),
      );
      expect(first.MetricDataResults?.[0]?.StatusCode).toBe('PartialData');
      expect(first.NextToken).toBeDefined();
      const misuse = await paged.client
        .send(
          new GetMetricDataCommand({
            StartTime: new Date(now - 10 * 60_000),
            EndTime: new Date(now),
            NextToken: first.NextToken,
            MetricDataQueries: [
              {
                Id: 'd',
                MetricStat: {
                  Metric: { Namespace: 'Paged', MetricName: 'Depth' },
                  Period: 60,
                  Stat: 'Sum',
                },
              },
            ],
          }),
        )
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(misuse?.name).toBe('InvalidNextToken');
    } finally {
      await paged.stop();
    }
  });
});

describe('memory', () => {
  it('drops datapoints older than the retention', async () => {
    const small = await startLocal({ retentionMs: 30 * 60_000 });
    try {
      await small.client.send(
        new PutMetricDataCommand({
          Namespace: 'Kept',
          MetricData: [{ MetricName: 'X', Value: 1 }],
        }),
      );
      expect(small.cloudwatch.storeSize()).toEqual({ metrics: 1, buckets: 1 });
      small.advance(31 * 60_000);
      expect(small.cloudwatch.storeSize()).toEqual({ metrics: 0, buckets: 0 });
    } finally {
      await small.stop();
    }
  });
});

describe('the AWS CLI', () => {
  beforeAll(() => {
    if (!existsSync(AWS_CLI)) {
      throw new Error(
        `The AWS CLI is not at ${AWS_CLI}; install Debian's awscli, as .ci/run does.`,
      );
    }
  });

  it('put-metric-data (query protocol) stores what the adapter then reads', async () => {
    await awsCli({
      endpoint: local.url,
      timeoutMs: 60_000,
      args: [
        'cloudwatch',
        'put-metric-data',
        '--namespace',
        'Cli',
        '--metric-name',
        'Backlog',
        '--dimensions',
        'Service=web,Env=prod',
        '--unit',
        'Count',
        '--value',
        '42',
      ],
    });
    const out = await latest([
      one(
        'backlog',
        stat({
          id: 'b',
          namespace: 'Cli',
          metricName: 'Backlog',
          dimensions: { Service: 'web', Env: 'prod' },
        }),
      ),
    ]);
    expect(out.get('backlog')).toBe(42);
  });
});
