/**
 * `npm start` keeps the local ELBv2's target groups, their attributes and their targets in
 * `<dataDir>/elbv2-state.json`: a restart (a new process, as a user restarts it) finds them again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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

type Started = { process: ChildProcess; elb: ElasticLoadBalancingV2Client };

/** Starts `local/start.ts` (what `npm start` runs) on free ports; an SDK client for its endpoint. */
async function startProcess(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: {
      ...process.env,
      STEWARD_DATA_DIR: dataDir,
      STEWARD_PORT: '0',
      STEWARD_AWS_PORT: '0',
      STEWARD_TASK_STEP_MS: '10',
      STEWARD_TICK_SECONDS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const awsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner in time:\n${output}`));
    }, 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const aws = /AWS endpoint\s+(http:\/\/\S+)/.exec(output);
      if (aws) {
        clearTimeout(timer);
        resolve(aws[1] as string);
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
  const elb = new ElasticLoadBalancingV2Client({
    endpoint: awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return { process: child, elb };
}

async function stopProcess(started: Started): Promise<void> {
  started.elb.destroy();
  if (started.process.exitCode !== null) return;
  const exited = new Promise((r) => started.process.once('exit', r));
  started.process.kill('SIGTERM');
  await exited;
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
