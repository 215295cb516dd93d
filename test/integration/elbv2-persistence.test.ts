/**
 * `npm start` keeps the local ELBv2's target groups, their attributes and their targets in
 * `<dataDir>/elbv2-state.json`: a restart (a new process, as a user restarts it) finds them again.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from '@jest/globals';
import { type LocalProcess, startLocalProcess, stopLocalProcess } from '../support/local-process';

type Started = LocalProcess & { elb: ElasticLoadBalancingV2Client };

/** `npm start` as a process, and an SDK client for its endpoint. */
async function startProcess(dataDir: string): Promise<Started> {
  const started = await startLocalProcess(dataDir);
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: started.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return { ...started, elb };
}

async function stopProcess(started: Started): Promise<void> {
  started.elb.destroy();
  await stopLocalProcess(started);
}

/** What a caller can read of the stack's target groups. */
const readState = async (elb: ElasticLoadBalancingV2Client) => {
  const groups = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  return Promise.all(
    groups.map(async (g) => ({
      group: g,
      attributes: (
        await elb.send(
          new DescribeTargetGroupAttributesCommand({ TargetGroupArn: g.TargetGroupArn }),
        )
      ).Attributes,
      targets: (
        await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: g.TargetGroupArn }))
      ).TargetHealthDescriptions,
    })),
  );
};

describe('a persisted stack restarted on the same data dir', () => {
  it('keeps target groups, attributes and targets', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'steward-elbv2-persist-'));
    const first = await startProcess(dataDir);
    let before: Awaited<ReturnType<typeof readState>>;
    try {
      const created = await first.elb.send(
        new CreateTargetGroupCommand({
          Name: 'kept',
          Protocol: 'TCP',
          Port: 8080,
          VpcId: 'vpc-0a1b2c3d',
          TargetType: 'ip',
        }),
      );
      const arn = created.TargetGroups?.[0]?.TargetGroupArn;
      if (!arn) throw new Error('no target group');
      await first.elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '120' }],
        }),
      );
      await first.elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: [{ Id: '10.0.3.4' }, { Id: '10.0.3.5', Port: 9090 }],
        }),
      );
      await first.elb.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: [{ Id: '10.0.3.5', Port: 9090 }],
        }),
      );
      before = await readState(first.elb);
    } finally {
      await stopProcess(first);
    }
    expect(before).toHaveLength(1);
    // Initial for 5 checks × 30 s, draining for 120 s: a restart does not outlast either.
    expect(before[0]?.targets?.map((t) => [t.Target?.Id, t.TargetHealth?.State])).toEqual([
      ['10.0.3.4', 'initial'],
      ['10.0.3.5', 'draining'],
    ]);
    expect(existsSync(join(dataDir, 'elbv2-state.json'))).toBe(true);

    const second = await startProcess(dataDir);
    try {
      expect(await readState(second.elb)).toEqual(before);
    } finally {
      await stopProcess(second);
    }
  }, 90_000);
});
