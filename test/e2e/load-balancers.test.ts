/**
 * Load balancers end to end on the local stack: target groups made with the real ELBv2 SDK client
 * against the stack's endpoint, services with `loadBalancers` through the HTTP API. Tasks join their
 * target groups once RUNNING, the service is steady only once they are healthy, a deployment drains
 * the old tasks before it stops them, a task failing its health checks is replaced, and a deleted
 * service leaves its groups. The stack's clock is moved forward (health checks and deregistration
 * delays run on it) and the tick is run by hand, as the schedule would.
 */

import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '../../local/stack';
import { type ApiCall, startApiStack } from '../support/api';
import { fargateTaskDefinition } from '../support/emulator-server';
import type { JsonObject } from '../support/json';
import { waitFor } from '../support/wait';

let stack: Stack;
let api: ApiCall;
let elb: ElasticLoadBalancingV2Client;

const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } };
/** Health checks every 5 s, healthy after 2: a registered target is healthy 10 s later. */
const HEALTHY_AFTER_MS = 10_000;
/** The groups' deregistration delay. */
const DRAIN_MS = 30_000;

type TaskView = JsonObject & {
  taskId: string;
  lastStatus: string;
  privateIp?: string;
  deployment: number;
  stoppedReason?: string;
  targets?: { targetGroupArn: string; id: string; port: number }[];
};

async function targetGroup(name: string, targetType: 'ip' | 'instance' = 'ip'): Promise<string> {
  const out = await elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: 'vpc-1',
      TargetType: targetType,
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
    }),
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn as string;
  await elb.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(DRAIN_MS / 1000) }],
    }),
  );
  return arn;
}

/** What ELB says of a group: `ip:port` → state. */
async function targetStates(arn: string): Promise<Record<string, string>> {
  const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return Object.fromEntries(
    (out.TargetHealthDescriptions ?? []).map((d) => [
      `${d.Target?.Id}:${d.Target?.Port}`,
      d.TargetHealth?.State as string,
    ]),
  );
}

async function tasksOf(name: string): Promise<TaskView[]> {
  return (await api('GET', `/services/${name}/tasks`)).body.tasks as TaskView[];
}
const live = (tasks: TaskView[]) => tasks.filter((t) => t.lastStatus !== 'STOPPED');

async function messagesOf(name: string): Promise<string[]> {
  return (await api('GET', `/services/${name}/events`)).body.events.map(
    (e: JsonObject) => e.message as string,
  );
}

/** Ticks (as the schedule would) until `probe` says yes. */
function tickUntil<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return waitFor({
    what,
    timeoutMs: 15_000,
    intervalMs: 100,
    probe: async () => {
      await stack.tick();
      return probe();
    },
  });
}

/** A task definition whose container `app` maps 8080, with optional emulator labels. */
async function register(family: string, labels: Record<string, string> = {}): Promise<string> {
  const created = await api('POST', '/task-definitions', {
    body: fargateTaskDefinition({
      family,
      containers: [
        {
          name: 'app',
          image: 'nginx:1.27',
          portMappings: [{ containerPort: 8080 }],
          ...(Object.keys(labels).length > 0 ? { dockerLabels: labels } : {}),
        },
      ],
    }),
  });
  expect(created.status).toBe(201);
  return `${created.body.family}:${created.body.revision}`;
}

beforeAll(async () => {
  ({ stack, api } = await startApiStack('lb'));
  elb = new ElasticLoadBalancingV2Client({
    endpoint: stack.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}, 30_000);

afterAll(async () => {
  elb?.destroy();
  await stack?.stop();
});

describe('a load-balanced service', () => {
  it('registers its tasks, is steady once they are healthy, and drains old tasks in a deployment', async () => {
    const tg = await targetGroup('web');
    const v1 = await register('web');
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'web',
        taskDefinition: v1,
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: network,
        loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.loadBalancers).toEqual([
      { targetGroupArn: tg, containerName: 'app', containerPort: 8080 },
    ]);

    // Each RUNNING task joins the group as ip:8080, recorded on the task.
    const first = await tickUntil('2 tasks registered', async () => {
      const tasks = live(await tasksOf('web'));
      const states = await targetStates(tg);
      return tasks.length === 2 &&
        tasks.every(
          (t) => t.lastStatus === 'RUNNING' && states[`${t.privateIp}:8080`] === 'initial',
        )
        ? tasks
        : undefined;
    });
    for (const t of first) {
      expect(t.targets).toEqual([{ targetGroupArn: tg, id: t.privateIp, port: 8080 }]);
    }
    let service = (await api('GET', '/services/web')).body;
    expect(service.steady).toBe(false);
    expect(service.conditions).toEqual([
      {
        type: 'Progressing',
        message: '2 of 2 tasks running (0 healthy in their target groups), 0 pending.',
      },
    ]);

    // Healthy after the health checks pass: steady, deployment completed.
    stack.clock.advance(HEALTHY_AFTER_MS);
    service = await tickUntil('web to be steady', async () => {
      const s = (await api('GET', '/services/web')).body;
      return s.steady === true ? s : undefined;
    });
    expect(service.deployment).toMatchObject({ id: 1, rolloutState: 'COMPLETED' });
    expect(Object.values(await targetStates(tg))).toEqual(['healthy', 'healthy']);
    expect(await messagesOf('web')).toContain(
      `(service web) registered 2 targets in (target-group ${tg})`,
    );

    // A deployment: new tasks join; old ones keep serving until the new ones are healthy…
    const v2 = await register('web');
    expect((await api('PATCH', '/services/web', { body: { taskDefinition: v2 } })).status).toBe(
      200,
    );
    const fresh = await tickUntil('2 new tasks registered', async () => {
      const tasks = live(await tasksOf('web')).filter((t) => t.deployment === 2);
      const states = await targetStates(tg);
      return tasks.length === 2 && tasks.every((t) => states[`${t.privateIp}:8080`] === 'initial')
        ? tasks
        : undefined;
    });
    const old = live(await tasksOf('web')).filter((t) => t.deployment === 1);
    expect(old.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING']);
    let states = await targetStates(tg);
    expect(old.map((t) => states[`${t.privateIp}:8080`])).toEqual(['healthy', 'healthy']);

    // …then they are deregistered and drain while still RUNNING…
    stack.clock.advance(HEALTHY_AFTER_MS);
    await tickUntil('the old targets to drain', async () => {
      const s = await targetStates(tg);
      return old.every((t) => s[`${t.privateIp}:8080`] === 'draining') ? true : undefined;
    });
    const draining = await tasksOf('web');
    for (const t of old) {
      expect(draining.find((d) => d.taskId === t.taskId)?.lastStatus).toBe('RUNNING');
    }
    states = await targetStates(tg);
    expect(fresh.map((t) => states[`${t.privateIp}:8080`])).toEqual(['healthy', 'healthy']);

    // …and are stopped once drained.
    stack.clock.advance(DRAIN_MS);
    service = await tickUntil('deployment 2 to complete', async () => {
      const s = (await api('GET', '/services/web')).body;
      return s.steady === true && s.deployment.id === 2 ? s : undefined;
    });
    expect(service.deployment).toMatchObject({ rolloutState: 'COMPLETED', outdatedCount: 0 });
    const after = await tasksOf('web');
    for (const t of old)
      expect(after.find((d) => d.taskId === t.taskId)?.lastStatus).toBe('STOPPED');
    expect(Object.keys(await targetStates(tg)).sort()).toEqual(
      fresh.map((t) => `${t.privateIp}:8080`).sort(),
    );
    expect(await messagesOf('web')).toContain(
      `(service web) deregistered 2 targets in (target-group ${tg})`,
    );

    // Deleted: the tasks leave the group, drain, stop, and the service is gone.
    expect((await api('DELETE', '/services/web')).status).toBe(202);
    await tickUntil('web targets to drain', async () => {
      const s = await targetStates(tg);
      return Object.values(s).every((x) => x === 'draining') ? true : undefined;
    });
    stack.clock.advance(DRAIN_MS);
    await tickUntil('web to be gone', async () =>
      (await api('GET', '/services/web')).status === 404 ? true : undefined,
    );
    expect(await targetStates(tg)).toEqual({});
  }, 30_000);

  it('replaces a task that fails its health checks after the grace period, replacement first', async () => {
    const tg = await targetGroup('sick');
    const td = await register('sick', { 'steward.emulator/target-health': 'unhealthy' });
    const created = await api('POST', '/services', {
      body: {
        serviceName: 'sick',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: network,
        loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }],
        healthCheckGracePeriodSeconds: 60,
        restartPolicy: { baseDelaySeconds: 1, factor: 1, jitter: 0 },
      },
    });
    expect(created.status).toBe(201);
    const [first] = await tickUntil('the task to be registered', async () => {
      const tasks = live(await tasksOf('sick'));
      return tasks.length === 1 && tasks[0]?.targets ? tasks : undefined;
    });
    // Unhealthy, but within the grace period: kept.
    stack.clock.advance(HEALTHY_AFTER_MS);
    await tickUntil('the target to be unhealthy', async () =>
      (await targetStates(tg))[`${first?.privateIp}:8080`] === 'unhealthy' ? true : undefined,
    );
    await stack.tick();
    expect(live(await tasksOf('sick')).map((t) => t.taskId)).toEqual([first?.taskId]);

    // Past the grace period: replaced as ECS replaces an unhealthy task. A replacement starts
    // first; the unhealthy task then leaves the group, drains while RUNNING, and stops.
    stack.clock.advance(60_000);
    const replacement = await tickUntil('a replacement and the old target draining', async () => {
      const tasks = live(await tasksOf('sick'));
      const states = await targetStates(tg);
      const other = tasks.find((t) => t.taskId !== first?.taskId && t.lastStatus === 'RUNNING');
      return other && states[`${first?.privateIp}:8080`] === 'draining' ? other : undefined;
    });
    expect((await tasksOf('sick')).find((t) => t.taskId === first?.taskId)?.lastStatus).toBe(
      'RUNNING',
    );
    expect(await messagesOf('sick')).toContain(
      `(service sick) (task ${first?.taskId}) failed ELB health checks in (target-group ${tg}): Target.FailedHealthChecks (Health checks failed); replacing it.`,
    );
    stack.clock.advance(DRAIN_MS);
    const stopped = await tickUntil('the unhealthy task to stop', async () => {
      const t = (await tasksOf('sick')).find((x) => x.taskId === first?.taskId);
      return t?.lastStatus === 'STOPPED' ? t : undefined;
    });
    expect(stopped.stoppedReason).toBe(
      `Steward: task failed ELB health checks in (target-group ${tg}): Target.FailedHealthChecks (Health checks failed)`,
    );
    expect(live(await tasksOf('sick')).map((t) => t.taskId)).toContain(replacement.taskId);
    expect(Object.keys(await targetStates(tg))).not.toContain(`${first?.privateIp}:8080`);
    expect((await api('DELETE', '/services/sick')).status).toBe(202);
  }, 30_000);
});

describe('loadBalancers are checked as CreateService checks them', () => {
  let tg: string;
  let td: string;
  beforeAll(async () => {
    tg = await targetGroup('checks');
    td = await register('checks');
  });
  const service = (extra: JsonObject) => ({
    serviceName: 'checked',
    taskDefinition: td,
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: network,
    ...extra,
  });

  it('names a container or port the task definition lacks', async () => {
    const refused = await api('POST', '/services', {
      body: service({
        loadBalancers: [
          { targetGroupArn: tg, containerName: 'web', containerPort: 8080 },
          { targetGroupArn: tg.replace('0', '1'), containerName: 'app', containerPort: 80 },
        ],
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        path: 'loadBalancers[0].containerName',
        message: `names no container of ${td} (its containers: app)`,
      },
      {
        path: 'loadBalancers[1].containerPort',
        message: `is not a port of container app in ${td} (its container ports: 8080)`,
      },
      { path: 'loadBalancers[1].targetGroupArn', message: 'names no existing target group' },
    ]);
  });

  it('needs target type ip', async () => {
    const instance = await targetGroup('by-instance', 'instance');
    const refused = await api('POST', '/services', {
      body: service({
        loadBalancers: [{ targetGroupArn: instance, containerName: 'app', containerPort: 8080 }],
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        path: 'loadBalancers[0].targetGroupArn',
        message:
          "has target type instance; Steward registers each task by its IP address, so the target group's target type must be ip",
      },
    ]);
  });

  it('refuses Classic Load Balancers, and load balancers without the awsvpc network mode', async () => {
    const classic = await api('POST', '/services', {
      body: service({
        loadBalancers: [{ loadBalancerName: 'old-elb', containerName: 'app', containerPort: 8080 }],
      }),
    });
    expect(classic.status).toBe(400);
    expect(classic.body.errors).toContainEqual({
      path: 'loadBalancers[0].loadBalancerName',
      message:
        'names a Classic Load Balancer, which Steward does not support: give the targetGroupArn of an Application or Network Load Balancer target group',
    });
    const bridge = await api('POST', '/services', {
      body: {
        serviceName: 'checked',
        taskDefinition: td,
        desiredCount: 1,
        launchType: 'EC2',
        loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }],
      },
    });
    expect(bridge.status).toBe(400);
    expect(bridge.body.errors).toEqual([
      {
        path: 'loadBalancers',
        message:
          'need the awsvpc network mode (networkConfiguration): Steward registers each task by its IP address',
      },
    ]);
    expect((await api('GET', '/services/checked')).status).toBe(404);
  });

  it('checks a PATCH of loadBalancers against the service’s task definition, and removes them with []', async () => {
    expect((await api('POST', '/services', { body: service({ desiredCount: 0 }) })).status).toBe(
      201,
    );
    const refused = await api('PATCH', '/services/checked', {
      body: { loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 9090 }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      {
        path: 'loadBalancers[0].containerPort',
        message: `is not a port of container app in ${td} (its container ports: 8080)`,
      },
    ]);
    const added = await api('PATCH', '/services/checked', {
      body: { loadBalancers: [{ targetGroupArn: tg, containerName: 'app', containerPort: 8080 }] },
    });
    expect(added.status).toBe(200);
    // A change of load balancers is a new deployment, as in ECS.
    expect(added.body.deployment).toMatchObject({ id: 2 });
    const removed = await api('PATCH', '/services/checked', { body: { loadBalancers: [] } });
    expect(removed.status).toBe(200);
    expect(removed.body.loadBalancers).toEqual([]);
    expect((await api('DELETE', '/services/checked')).status).toBe(202);
  });
});
