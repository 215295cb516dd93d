/**
 * The local CloudWatch as a user drives it: the whole local stack, the real AWS CLI (Debian's 2.9,
 * which speaks CloudWatch's query protocol) and the SDK (JSON 1.0) on the stack's AWS endpoint.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from '../../local/stack';
import {
  type MetricReadIssue,
  makeCloudWatchMetrics,
} from '../../shared/adapters/cloudwatch-metrics';
import type { Metrics } from '../../shared/ports/metrics';
import { AWS_CLI, awsCli } from '../support/aws-cli';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;
let client: CloudWatchClient;
let metrics: Metrics;
const issues: MetricReadIssue[] = [];

const aws = (...args: string[]): Promise<JsonObject> =>
  awsCli({ endpoint: stack.awsUrl, args, timeoutMs: 60_000 });

/** The CLI's failure message (its stderr) for a command that must fail. */
const awsFails = (...args: string[]): Promise<string> =>
  aws(...args).then(
    () => {
      throw new Error(`aws ${args.slice(0, 2).join(' ')} succeeded`);
    },
    (e: Error) => e.message,
  );

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

beforeAll(async () => {
  if (!existsSync(AWS_CLI)) {
    throw new Error(
      `The AWS CLI is not at ${AWS_CLI}; install Debian's awscli (apt-get install awscli), as .ci/run does.`,
    );
  }
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-cloudwatch-')),
    apiPort: 0,
    awsPort: 0,
    taskStepDelayMs: 20,
    tickIntervalMs: 0,
  });
  client = new CloudWatchClient({
    endpoint: stack.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  metrics = makeCloudWatchMetrics({ client, onIssue: (i) => issues.push(i) });
}, 30_000);

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
});

describe('a custom metric set with the AWS CLI', () => {
  it('is read back by get-metric-data and by Steward', async () => {
    // Both datapoints in one minute, whatever the minute the CLI calls land in (each takes about a
    // second, so two in a row could straddle a minute boundary and make two 60 s periods).
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    for (const value of ['30', '50']) {
      await aws(
        'cloudwatch',
        'put-metric-data',
        '--namespace',
        'Shop',
        '--metric-name',
        'QueueDepth',
        '--dimensions',
        'Queue=orders',
        '--unit',
        'Count',
        '--value',
        value,
        '--timestamp',
        iso(minute + 30_000),
      );
    }
    const now = Date.now();
    const read = await aws(
      'cloudwatch',
      'get-metric-data',
      '--start-time',
      iso(now - 600_000),
      '--end-time',
      iso(now + 60_000),
      '--metric-data-queries',
      JSON.stringify([
        {
          Id: 'depth',
          MetricStat: {
            Metric: {
              Namespace: 'Shop',
              MetricName: 'QueueDepth',
              Dimensions: [{ Name: 'Queue', Value: 'orders' }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
        { Id: 'perWorker', Expression: 'depth / 4', Label: 'per worker' },
      ]),
    );
    const results = read.MetricDataResults as JsonObject[];
    expect(results.map((r) => [r.Id, r.Label, r.Values, r.StatusCode])).toEqual([
      ['depth', 'QueueDepth', [80], 'Complete'],
      ['perWorker', 'per worker', [20], 'Complete'],
    ]);
    // The CLI parsed the XML timestamps.
    expect(Number.isNaN(Date.parse(results[0]?.Timestamps[0]))).toBe(false);

    const out = await metrics.latest({
      requests: [
        {
          key: 'depth',
          queries: [
            {
              id: 'd',
              metricStat: {
                metric: {
                  namespace: 'Shop',
                  metricName: 'QueueDepth',
                  dimensions: [{ name: 'Queue', value: 'orders' }],
                },
                stat: 'Average',
                unit: 'Count',
              },
            },
          ],
        },
      ],
      now: Date.now(),
      periodSeconds: 60,
      windowSeconds: 300,
    });
    expect(out.get('depth')).toBe(40);
    expect(stack.requestCounts()['GraniteServiceVersion20100801.GetMetricData']).toBeGreaterThan(0);
  });

  it('takes --metric-data with Values/Counts, statistic sets and timestamps', async () => {
    // Both datums in the same whole minute, two minutes ago.
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    await aws(
      'cloudwatch',
      'put-metric-data',
      '--namespace',
      'Shop',
      '--metric-data',
      JSON.stringify([
        {
          MetricName: 'Latency',
          Values: [100, 300],
          Counts: [3, 1],
          Unit: 'Milliseconds',
          Timestamp: iso(minute + 5_000),
        },
        {
          MetricName: 'Latency',
          StatisticValues: { SampleCount: 4, Sum: 400, Minimum: 50, Maximum: 150 },
          Unit: 'Milliseconds',
          Timestamp: iso(minute + 45_000),
        },
      ]),
    );
    const now = Date.now();
    const read = await aws(
      'cloudwatch',
      'get-metric-data',
      '--start-time',
      iso(now - 600_000),
      '--end-time',
      iso(now + 60_000),
      '--scan-by',
      'TimestampAscending',
      '--metric-data-queries',
      JSON.stringify(
        ['SampleCount', 'Sum', 'Maximum'].map((s) => ({
          Id: s.toLowerCase(),
          MetricStat: {
            Metric: { Namespace: 'Shop', MetricName: 'Latency' },
            Period: 60,
            Stat: s,
          },
        })),
      ),
    );
    // One period holds both datums.
    const values = (read.MetricDataResults as JsonObject[]).map((r) => [r.Id, r.Values]);
    expect(values).toEqual([
      ['samplecount', [8]],
      ['sum', [1000]],
      ['maximum', [300]],
    ]);
  });

  it('gets CloudWatch-shaped errors', async () => {
    expect(
      await awsFails(
        'cloudwatch',
        'put-metric-data',
        '--namespace',
        'AWS/Shop',
        '--metric-name',
        'X',
        '--value',
        '1',
      ),
    ).toMatch(/\(InvalidParameterValue\).*AWS\/Shop/);
    const now = Date.now();
    expect(
      await awsFails(
        'cloudwatch',
        'get-metric-data',
        '--start-time',
        iso(now - 600_000),
        '--end-time',
        iso(now),
        '--metric-data-queries',
        JSON.stringify([
          {
            Id: 'm',
            MetricStat: {
              Metric: { Namespace: 'Shop', MetricName: 'QueueDepth' },
              Period: 60,
              Stat: 'Sum',
            },
            ReturnData: false,
          },
          { Id: 'rate', Expression: 'RATE(m)' },
        ]),
      ),
    ).toMatch(/\(InvalidParameterValue\).*RATE.*not supported by the local CloudWatch/);
    expect(
      await awsFails('cloudwatch', 'put-metric-data', '--namespace', 'Shop', '--metric-name', 'X'),
    ).toMatch(/MissingParameter|must be specified|required/i);
  });
});

describe('Container Insights of tasks run with the AWS CLI', () => {
  it('report what the simulated workload uses', async () => {
    await aws(
      'ecs',
      'register-task-definition',
      '--family',
      'worker',
      '--requires-compatibilities',
      'FARGATE',
      '--network-mode',
      'awsvpc',
      '--cpu',
      '512',
      '--memory',
      '1024',
      '--container-definitions',
      JSON.stringify([
        {
          name: 'worker',
          image: 'worker:1',
          essential: true,
          dockerLabels: {
            'steward.emulator/cpu-percent': '25',
            'steward.emulator/memory-percent': '40',
          },
        },
      ]),
    );
    await aws(
      'ecs',
      'run-task',
      '--task-definition',
      'worker',
      '--count',
      '3',
      '--launch-type',
      'FARGATE',
      '--network-configuration',
      'awsvpcConfiguration={subnets=[subnet-12345678]}',
    );
    const ci = (o: { id: string; metricName: string; family?: boolean }) => ({
      id: o.id,
      metricStat: {
        metric: {
          namespace: 'ECS/ContainerInsights',
          metricName: o.metricName,
          dimensions: [
            { name: 'ClusterName', value: 'default' },
            ...(o.family === false ? [] : [{ name: 'TaskDefinitionFamily', value: 'worker' }]),
          ],
        },
        stat: 'Sum',
      },
      returnData: false,
    });
    const read = () =>
      metrics.latest({
        requests: [
          {
            key: 'cpuPercent',
            queries: [
              ci({ id: 'used', metricName: 'CpuUtilized' }),
              ci({ id: 'reserved', metricName: 'CpuReserved' }),
              { id: 'pct', expression: '100 * used / reserved', returnData: true },
            ],
          },
          {
            key: 'memoryUsedMiB',
            queries: [{ ...ci({ id: 'm', metricName: 'MemoryUtilized' }), returnData: true }],
          },
          {
            key: 'tasks',
            queries: [{ ...ci({ id: 't', metricName: 'RunningTaskCount' }), returnData: true }],
          },
        ],
        now: Date.now(),
        periodSeconds: 60,
        windowSeconds: 180,
      });
    const out = await waitFor({
      what: 'three worker tasks in Container Insights',
      timeoutMs: 20_000,
      probe: async () => {
        const m = await read();
        return m.get('tasks') === 3 ? m : undefined;
      },
    });
    expect(Object.fromEntries(out)).toEqual({
      cpuPercent: 25,
      memoryUsedMiB: 3 * 1024 * 0.4,
      tasks: 3,
    });
    expect(issues).toEqual([]);

    // The CLI sees the same, at cluster level.
    const now = Date.now();
    const cli = await aws(
      'cloudwatch',
      'get-metric-data',
      '--start-time',
      iso(now - 180_000),
      '--end-time',
      iso(now + 1000),
      '--metric-data-queries',
      JSON.stringify([
        {
          Id: 'cpu',
          MetricStat: {
            Metric: {
              Namespace: 'ECS/ContainerInsights',
              MetricName: 'CpuUtilized',
              Dimensions: [{ Name: 'ClusterName', Value: 'default' }],
            },
            Period: 60,
            Stat: 'Sum',
          },
        },
      ]),
    );
    expect((cli.MetricDataResults as JsonObject[])[0]?.Values).toEqual([3 * 512 * 0.25]);
  });
});
