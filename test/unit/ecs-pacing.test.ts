/**
 * Where pacing sits in the SDK's stack and what each call costs: a fake clock and a fake transport
 * record every wait the pacing asks for, so the tests read the waits instead of timing anything.
 */

import { Readable } from 'node:stream';
import {
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from '@jest/globals';
import { type BucketLimit, paceEcsClient } from '../../shared/adapters/ecs-pacing';

/** A client whose transport answers from `statuses` in turn (then 200), on a fake clock. */
function pacedClient(budgets: Record<string, BucketLimit>, statuses: number[] = []) {
  let clock = 0;
  const waits: number[] = [];
  const sent: string[] = [];
  const client = new ECSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 3,
    requestHandler: {
      handle: async (request: { headers: Record<string, string> }) => {
        sent.push(request.headers['x-amz-target'] ?? '');
        const statusCode = statuses.shift() ?? 200;
        const body =
          statusCode === 200
            ? '{"tasks":[],"failures":[]}'
            : '{"__type":"ServerException","message":"try again"}';
        return {
          response: {
            statusCode,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
  paceEcsClient(client, {
    budgets,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  return { client, waits, sent };
}

const fargateRun = (count: number) =>
  new RunTaskCommand({ taskDefinition: 'web', launchType: 'FARGATE', count });

describe('ECS pacing', () => {
  it('paces every attempt, retries included (each one spends ECS budget)', async () => {
    const { client, waits, sent } = pacedClient({ reads: { burst: 1, perSecond: 1 } }, [503]);
    await client.send(new DescribeTasksCommand({ tasks: ['t'] }));
    expect(sent).toHaveLength(2);
    // The first attempt takes the only token; the retry waits a full second for the next one.
    expect(waits).toEqual([1000]);
  });

  it('charges a Fargate RunTask one token per launched task from the launch bucket', async () => {
    const { client, waits } = pacedClient({
      fargateLaunches: { burst: 10, perSecond: 10 },
      runTask: { burst: 100, perSecond: 100 },
    });
    await client.send(fargateRun(10));
    expect(waits).toEqual([]);
    await client.send(fargateRun(5));
    expect(waits).toEqual([500]);
  });

  it('does not charge the Fargate buckets for an EC2 launch', async () => {
    const { client, waits } = pacedClient({
      fargateLaunches: { burst: 1, perSecond: 1 },
      runTask: { burst: 1, perSecond: 1 },
    });
    for (let i = 0; i < 3; i += 1) {
      await client.send(
        new RunTaskCommand({ taskDefinition: 'web', launchType: 'EC2', count: 10 }),
      );
    }
    expect(waits).toEqual([]);
    // A capacity provider strategy that names a Fargate provider is a Fargate launch.
    await client.send(
      new RunTaskCommand({
        taskDefinition: 'web',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      }),
    );
    await client.send(
      new RunTaskCommand({
        taskDefinition: 'web',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      }),
    );
    expect(waits).toEqual([1000]);
  });

  it('RunTask and StopTask share the lifecycle bucket', async () => {
    const { client, waits } = pacedClient({ lifecycle: { burst: 2, perSecond: 4 } });
    await client.send(new RunTaskCommand({ taskDefinition: 'web', launchType: 'EC2' }));
    await client.send(new StopTaskCommand({ task: 't' }));
    await client.send(new StopTaskCommand({ task: 'u' }));
    expect(waits).toEqual([250]);
  });
});
