/**
 * plan() for load-balanced services: tasks join their target groups once RUNNING, count as serving
 * only when healthy in every group, drain before they stop, are stopped when they fail their health
 * checks after the grace period, and leave their groups when they stop on their own.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type RecordedTarget,
  type ServiceRecord,
  type Target,
  type TargetGroupsHealth,
  type TargetHealth,
  type TaskRecord,
  targetKey,
} from '../../shared/core/model';
import { circuitBreakerOf, plan as corePlan, needsClaim } from '../../shared/core/plan';
import { DEFAULT_RESTART_POLICY, failureReason, failureTime } from '../../shared/core/restart';
import { HEALTH_CHECK_STOP } from '../../shared/core/targets';
import { ACCOUNT, aService, aTask, NOW, REGION } from '../support/builders';

const now = NOW;
const TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`;
const TG2 = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web-admin/fedcba9876543210`;

/**
 * A service as these cases write it: with the targets recorded for its tasks, by task id (reconcile
 * reads them from the task records; the `plan` below puts them there).
 */
type TestService = ServiceRecord & { targets?: Record<string, RecordedTarget[]> };

/** plan(), with the case's recorded targets on its task records. */
function plan(input: Parameters<typeof corePlan>[0] & { service: TestService }) {
  const { targets = {}, ...service } = input.service;
  const tasks = input.tasks.map((t) => {
    const recorded = targets[t.taskId];
    return recorded ? { ...t, targets: recorded } : t;
  });
  return corePlan({ ...input, service, tasks });
}

/** `web` with one target group (container app, port 8080) unless told otherwise. */
function balanced(
  o: Partial<TestService> & {
    desired?: number;
    min?: number;
    max?: number;
    groups?: string[];
    grace?: number;
  } = {},
): TestService {
  const { desired, min, max, groups, grace, ...rest } = o;
  const base = aService({
    desiredCount: desired ?? 1,
    minimumHealthyPercent: min ?? 100,
    maximumPercent: max ?? 200,
    ...rest,
  });
  return {
    ...base,
    spec: {
      ...base.spec,
      loadBalancers: (groups ?? [TG]).map((targetGroupArn) => ({
        targetGroupArn,
        containerName: 'app',
        containerPort: 8080,
      })),
      ...(grace !== undefined ? { healthCheckGracePeriodSeconds: grace } : {}),
    },
    targets: rest.targets ?? {},
  };
}

/** What a plan takes out of target groups: tasks it marks as leaving, and tasks already going. */
const leftBy = (p: ReturnType<typeof plan>) => [
  ...p.leaving.flatMap((l) => l.targets),
  ...p.deregistrations,
];

const ipOf = (slot: number, name = 'a') => `10.0.${name === 'a' ? 1 : 2}.${slot + 10}`;
const task = (
  o: { slot: number; name?: string; deployment?: number } & Partial<TaskRecord>,
): TaskRecord => {
  const { name = 'a', ...rest } = o;
  return aTask({
    name: `${name}-${o.slot}`,
    privateIp: ipOf(o.slot, name),
    startedAt: '2024-12-31T23:50:00.000Z',
    ...rest,
  });
};
const targetOf = (t: TaskRecord, arn = TG): Target => ({
  targetGroupArn: arn,
  id: t.privateIp as string,
  port: 8080,
});

/** What ELB says: for each group, the listed targets and their state. */
function health(
  groups: Record<string, [Target, TargetHealth['state'], string?][] | 'missing'>,
): TargetGroupsHealth {
  return new Map(
    Object.entries(groups).map(([arn, listed]) => [
      arn,
      listed === 'missing'
        ? { missing: true as const }
        : {
            targets: new Map(
              listed.map(([t, state, reason]) => [
                targetKey(t),
                { state, ...(reason ? { reason } : {}) },
              ]),
            ),
          },
    ]),
  );
}

describe('plan: registering tasks with their target groups', () => {
  it('registers a RUNNING task of the current deployment once, recording it first', () => {
    const t = task({ slot: 0 });
    const p = plan({ service: balanced(), tasks: [t], now, targetHealth: health({ [TG]: [] }) });
    expect(p.registrations).toEqual([
      { taskId: t.taskId, targets: [targetOf(t)], record: [{ ...targetOf(t), registeredAt: now }] },
    ]);
    expect(p.messages).toContain(`(service web) registered 1 targets in (target-group ${TG})`);
    expect(p.status.steady).toBe(false);
    expect(needsClaim(p)).toBe(true);
  });

  it('registers with every target group, each at the container port', () => {
    const t = task({ slot: 0 });
    const p = plan({
      service: balanced({ groups: [TG, TG2] }),
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[targetOf(t), 'healthy']], [TG2]: [] }),
    });
    expect(p.registrations).toEqual([
      {
        taskId: t.taskId,
        targets: [targetOf(t, TG2)],
        record: [{ ...targetOf(t, TG2), registeredAt: now }],
      },
    ]);
  });

  it('does not register a task that is not RUNNING yet, or whose groups were not read', () => {
    const pending = task({ slot: 0, lastStatus: 'PENDING' });
    expect(
      plan({ service: balanced(), tasks: [pending], now, targetHealth: health({ [TG]: [] }) })
        .registrations,
    ).toEqual([]);
    const running = task({ slot: 0 });
    expect(plan({ service: balanced(), tasks: [running], now }).registrations).toEqual([]);
  });

  it('is steady only once every task is healthy in every group', () => {
    const t = task({ slot: 0 });
    const service = balanced({ targets: { [t.taskId]: [targetOf(t)] } });
    const initial = plan({
      service,
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[targetOf(t), 'initial', 'Elb.RegistrationInProgress']] }),
    });
    expect(initial.registrations).toEqual([]);
    expect(initial.status.steady).toBe(false);
    expect(initial.status.conditions).toEqual([
      {
        type: 'Progressing',
        message: '1 of 1 tasks running (0 healthy in their target groups), 0 pending.',
      },
    ]);
    const healthy = plan({
      service,
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[targetOf(t), 'healthy']] }),
    });
    expect(healthy.status.steady).toBe(true);
    expect(needsClaim(healthy)).toBe(false);
    expect(healthy.status.deployment?.rolloutState).toBe('COMPLETED');
  });

  it('says when a target group does not exist, and registers nothing in it', () => {
    const t = task({ slot: 0 });
    const p = plan({
      service: balanced(),
      tasks: [t],
      now,
      targetHealth: health({ [TG]: 'missing' }),
    });
    expect(p.registrations).toEqual([]);
    expect(p.status.steady).toBe(false);
    expect(p.status.conditions[0]).toEqual({
      type: 'Blocked',
      message: `Tasks cannot be registered: target group ${TG} does not exist. Create it, or change loadBalancers.`,
    });
    expect(p.messages).toContain(
      `(service web) Tasks cannot be registered: target group ${TG} does not exist. Create it, or change loadBalancers.`,
    );
  });
});

describe('plan: a load-balanced deployment drains old tasks before it stops them', () => {
  const deployed = (targets: Record<string, Target[]>) =>
    balanced({
      desired: 1,
      generation: 2,
      deployment: {
        id: 2,
        startedAt: '2025-01-01T00:00:00.000Z',
        reason: 'taskDefinition changed',
      },
      targets,
    });
  const old = task({ slot: 0, name: 'a', deployment: 1 });
  const fresh = task({ slot: 0, name: 'b', deployment: 2 });
  const recorded = { [old.taskId]: [targetOf(old)], [fresh.taskId]: [targetOf(fresh)] };
  const replaced = 'Steward: replaced by deployment 2 of service web (taskDefinition changed)';

  it('keeps the old task serving while the new one is not healthy yet (minimum healthy 100%)', () => {
    const p = plan({
      service: deployed(recorded),
      tasks: [old, fresh],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(old), 'healthy'],
          [targetOf(fresh), 'initial'],
        ],
      }),
    });
    expect(p.deregistrations).toEqual([]);
    expect(p.stops).toEqual([]);
    expect(p.status.deployment?.rolloutState).toBe('IN_PROGRESS');
  });

  it('deregisters the old task once the new one is healthy, and does not stop it yet', () => {
    const p = plan({
      service: deployed(recorded),
      tasks: [old, fresh],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(old), 'healthy'],
          [targetOf(fresh), 'healthy'],
        ],
      }),
    });
    expect(leftBy(p)).toEqual([targetOf(old)]);
    expect(p.stops).toEqual([]);
    expect(p.messages).toContain(`(service web) deregistered 1 targets in (target-group ${TG})`);
  });

  it('waits while the old target drains, then stops the task', () => {
    const draining = plan({
      service: deployed(recorded),
      tasks: [old, fresh],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(old), 'draining', 'Target.DeregistrationInProgress'],
          [targetOf(fresh), 'healthy'],
        ],
      }),
    });
    expect(draining.deregistrations).toEqual([]);
    expect(draining.stops).toEqual([]);
    expect(draining.registrations).toEqual([]);
    expect(draining.status.steady).toBe(false);
    const drained = plan({
      service: deployed(recorded),
      tasks: [old, fresh],
      now,
      targetHealth: health({ [TG]: [[targetOf(fresh), 'healthy']] }),
    });
    expect(drained.stops).toEqual([{ taskArn: old.taskArn, taskId: old.taskId, reason: replaced }]);
    expect(drained.deregistrations).toEqual([]);
  });

  it('registers only tasks of the current deployment (an old one keeps what it joined)', () => {
    const unregisteredOld = task({ slot: 0, name: 'a', deployment: 1 });
    const p = plan({
      service: deployed({}),
      tasks: [unregisteredOld],
      now,
      targetHealth: health({ [TG]: [] }),
    });
    expect(p.registrations).toEqual([]);
    // Its slot is replaced by a task of deployment 2.
    expect(p.launches.map((e) => e.deployment)).toEqual([2]);
  });
});

describe('plan: scale-in and deletion drain first', () => {
  it('deregisters the excess task, waits for it to drain, then stops it', () => {
    const a = task({ slot: 0 });
    const b = task({ slot: 1 });
    const service = balanced({
      desired: 1,
      targets: { [a.taskId]: [targetOf(a)], [b.taskId]: [targetOf(b)] },
    });
    const first = plan({
      service,
      tasks: [a, b],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(a), 'healthy'],
          [targetOf(b), 'healthy'],
        ],
      }),
    });
    expect(leftBy(first)).toEqual([targetOf(b)]);
    expect(first.stops).toEqual([]);
    const gone = plan({
      service,
      tasks: [a, b],
      now,
      targetHealth: health({ [TG]: [[targetOf(a), 'healthy']] }),
    });
    expect(gone.stops).toEqual([
      { taskArn: b.taskArn, taskId: b.taskId, reason: 'Steward: scaling service web in to 1' },
    ]);
  });

  it('removes a deleted service only once its targets are gone', () => {
    const a = task({ slot: 0, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    const service = balanced({ deleting: true, targets: { [a.taskId]: [targetOf(a)] } });
    const stillDraining = plan({
      service,
      tasks: [a],
      now,
      targetHealth: health({ [TG]: [[targetOf(a), 'draining']] }),
    });
    expect(stillDraining.remove).toBe(false);
    const registered = plan({
      service,
      tasks: [a],
      now,
      targetHealth: health({ [TG]: [[targetOf(a), 'healthy']] }),
    });
    expect(registered.remove).toBe(false);
    expect(registered.deregistrations).toEqual([targetOf(a)]);
    const drained = plan({ service, tasks: [a], now, targetHealth: health({ [TG]: [] }) });
    expect(drained.remove).toBe(true);
  });
});

describe('plan: a registration in flight, and a task on its way out', () => {
  it('a registration claimed under 30 s ago is neither repeated nor taken as drained', () => {
    const t = task({ slot: 0 });
    const gone = { ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' };
    const claimed = (ageMs: number) =>
      balanced({ targets: { [t.taskId]: [{ ...targetOf(t), registeredAt: now - ageMs }] } });
    // Its claimer may not have called RegisterTargets yet: absent proves nothing.
    const young = plan({
      service: claimed(10_000),
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [] }),
    });
    expect(young.registrations).toEqual([]);
    const youngGone = plan({
      service: claimed(10_000),
      tasks: [gone],
      now,
      targetHealth: health({ [TG]: [] }),
    });
    expect(youngGone.forgetTargets).toEqual([]);
    // Older than a Lambda invocation: the claimer died; register again, or forget a stopped task.
    const old = plan({
      service: claimed(40_000),
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [] }),
    });
    expect(old.registrations).toEqual([
      { taskId: t.taskId, targets: [targetOf(t)], record: [{ ...targetOf(t), registeredAt: now }] },
    ]);
    const oldGone = plan({
      service: claimed(40_000),
      tasks: [gone],
      now,
      targetHealth: health({ [TG]: [] }),
    });
    expect(oldGone.forgetTargets.map((f) => f.taskId)).toEqual([t.taskId]);
  });

  it('a task marked as leaving does not serve, even while ELB still calls it healthy', () => {
    // Its DeregisterTargets failed after the claim: it still counts as no capacity.
    const [a, b] = [0, 1].map((slot) => task({ slot }));
    const service = balanced({
      desired: 2,
      targets: {
        [(a as TaskRecord).taskId]: [targetOf(a as TaskRecord)],
        [(b as TaskRecord).taskId]: [
          { ...targetOf(b as TaskRecord), deregisteredAt: now - 1000, reason: 'x' },
        ],
      },
    });
    const p = plan({
      service,
      tasks: [a as TaskRecord, b as TaskRecord],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(a as TaskRecord), 'healthy'],
          [targetOf(b as TaskRecord), 'healthy'],
        ],
      }),
    });
    expect(p.status.steady).toBe(false);
    // A replacement for its slot, since it is on its way out (deregistered again once that runs).
    expect(p.launches.map((e) => e.slot)).toEqual([1]);
    expect(p.status.conditions[0]?.message).toBe(
      '2 of 2 tasks running (1 healthy in their target groups), 1 pending.',
    );
  });

  it('never registers a misplaced task again, even while a launch is outstanding', () => {
    // Scaled in from 3 to 2: slot 2 drained and is absent; slot 1's replacement is in flight.
    const [a, b, c] = [0, 1, 2].map((slot) => task({ slot }));
    const service = balanced({
      desired: 2,
      targets: {
        [(a as TaskRecord).taskId]: [targetOf(a as TaskRecord)],
        [(c as TaskRecord).taskId]: [
          { ...targetOf(c as TaskRecord), deregisteredAt: now - 400_000, reason: 'x' },
        ],
      },
      expectations: {
        tok: {
          token: 'tok',
          slot: 1,
          generation: 1,
          taskDefinition: 'web:3',
          createdAt: now - 1000,
          deployment: 1,
        },
      },
    });
    const crashed = {
      ...(b as TaskRecord),
      lastStatus: 'STOPPED' as const,
      desiredStatus: 'STOPPED',
    };
    const p = plan({
      service,
      tasks: [a as TaskRecord, crashed, c as TaskRecord],
      now,
      targetHealth: health({ [TG]: [[targetOf(a as TaskRecord), 'healthy']] }),
    });
    expect(p.registrations).toEqual([]);
  });

  it('keeps the circuit breaker of a service without load balancers as it was: a task that ran stands it down', () => {
    const plain = aService({ desiredCount: 4, generation: 2 });
    plain.deployment = { id: 2, startedAt: '2025-01-01T00:00:00.000Z', reason: 'x' };
    plain.spec.deploymentConfiguration.deploymentCircuitBreaker = { enable: true, rollback: true };
    const ran = aTask({
      name: 'ran',
      slot: 0,
      deployment: 2,
      startedAt: '2024-12-31T23:59:00.000Z',
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
    });
    const failed = [1, 2, 3].map((slot) =>
      aTask({
        name: `f${slot}`,
        slot,
        deployment: 2,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
      }),
    );
    const p = plan({ service: plain, tasks: [ran, ...failed], now });
    expect(p.status.deployment?.rolloutState).toBe('IN_PROGRESS');
    expect(p.rollback).toBeUndefined();
  });
});

describe('plan: tasks that leave on their own', () => {
  it('deregisters a task ECS is stopping, and forgets its targets once it is gone', () => {
    const crashed = task({ slot: 0, desiredStatus: 'STOPPED', lastStatus: 'DEACTIVATING' });
    const service = balanced({ targets: { [crashed.taskId]: [targetOf(crashed)] } });
    const stopping = plan({
      service,
      tasks: [crashed],
      now,
      targetHealth: health({ [TG]: [[targetOf(crashed), 'healthy']] }),
    });
    expect(stopping.deregistrations).toEqual([targetOf(crashed)]);
    expect(stopping.forgetTargets).toEqual([]);
    const stopped = { ...crashed, lastStatus: 'STOPPED' as const };
    const later = plan({
      service,
      tasks: [stopped],
      now,
      targetHealth: health({ [TG]: [[targetOf(crashed), 'draining']] }),
    });
    expect(later.deregistrations).toEqual([]);
    expect(later.forgetTargets).toEqual([]);
    const done = plan({ service, tasks: [stopped], now, targetHealth: health({ [TG]: [] }) });
    expect(done.forgetTargets.map((f) => f.taskId)).toEqual([crashed.taskId]);
    expect(needsClaim(done)).toBe(true);
  });

  it('keeps the targets of a task it cannot see the groups of (nothing read: nothing forgotten)', () => {
    const stopped = task({ slot: 0, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    const service = balanced({ targets: { [stopped.taskId]: [targetOf(stopped)] } });
    const p = plan({ service, tasks: [stopped], now });
    expect(p.forgetTargets).toEqual([]);
    expect(p.deregistrations).toEqual([]);
  });
});

describe('plan: failed target health checks', () => {
  const startedAt = new Date(now - 60_000).toISOString();

  it('replaces an unhealthy task as ECS does: replacement first, then it drains and stops', () => {
    const t = task({ slot: 0, startedAt });
    const service = balanced({ grace: 30, targets: { [t.taskId]: [targetOf(t)] } });
    const unhealthy = [targetOf(t), 'unhealthy', 'Target.ResponseCodeMismatch'] as const;
    const reason = `${HEALTH_CHECK_STOP} (target-group ${TG}): Target.ResponseCodeMismatch`;
    // 1. A replacement is launched into its slot (within maximumPercent); nothing stops yet.
    const first = plan({
      service,
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[...unhealthy]] }),
    });
    expect(first.launches.map((e) => e.slot)).toEqual([0]);
    expect(first.stops).toEqual([]);
    expect(first.deregistrations).toEqual([]);
    // 2. The replacement runs: the unhealthy task is deregistered, marked as leaving, and said.
    const fresh = task({ slot: 0, name: 'b', startedAt: new Date(now).toISOString() });
    const second = plan({
      service,
      tasks: [t, fresh],
      now,
      targetHealth: health({ [TG]: [[...unhealthy]] }),
    });
    expect(second.deregistrations).toEqual([]);
    expect(second.stops).toEqual([]);
    expect(second.leaving).toEqual([
      {
        taskId: t.taskId,
        record: [{ ...targetOf(t), deregisteredAt: now, reason }],
        expectedVersion: undefined,
        targets: [targetOf(t)],
      },
    ]);
    expect(second.registrations.map((r) => r.taskId)).toEqual([fresh.taskId]);
    expect(second.messages).toContain(
      `(service web) (task ${t.taskId}) failed ELB health checks in (target-group ${TG}): Target.ResponseCodeMismatch; replacing it.`,
    );
    // 3. Draining, then drained: the task stays on its way out and stops with the reason it left for.
    const marked = {
      ...service,
      targets: {
        [t.taskId]: second.leaving[0]?.record ?? [],
        [fresh.taskId]: [{ ...targetOf(fresh), registeredAt: now }],
      },
    };
    const draining = plan({
      service: marked,
      tasks: [t, fresh],
      now,
      targetHealth: health({
        [TG]: [
          [targetOf(t), 'draining'],
          [targetOf(fresh), 'initial'],
        ],
      }),
    });
    expect(draining.stops).toEqual([]);
    expect(draining.registrations).toEqual([]);
    expect(draining.leaving).toEqual([]);
    const drained = plan({
      service: marked,
      tasks: [t, fresh],
      now: now + 60_000,
      targetHealth: health({ [TG]: [[targetOf(fresh), 'healthy']] }),
    });
    expect(drained.stops).toEqual([{ taskArn: t.taskArn, taskId: t.taskId, reason }]);
    // Drained, it is never registered again, though it runs and is absent from the group.
    expect(drained.registrations).toEqual([]);
  });

  it('without room for a replacement (maximumPercent 100) drains and stops the unhealthy task first', () => {
    const t = task({ slot: 0, startedAt });
    const service = balanced({ min: 0, max: 100, targets: { [t.taskId]: [targetOf(t)] } });
    const p = plan({
      service,
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[targetOf(t), 'unhealthy', 'Target.Timeout']] }),
    });
    expect(p.launches).toEqual([]);
    expect(leftBy(p)).toEqual([targetOf(t)]);
    expect(p.leaving.map((l) => l.taskId)).toEqual([t.taskId]);
  });

  it('leaves an unhealthy task alone within the grace period', () => {
    const t = task({ slot: 0, startedAt });
    const service = balanced({ grace: 120, targets: { [t.taskId]: [targetOf(t)] } });
    const p = plan({
      service,
      tasks: [t],
      now,
      targetHealth: health({ [TG]: [[targetOf(t), 'unhealthy', 'Target.Timeout']] }),
    });
    expect(p.stops).toEqual([]);
    expect(p.launches).toEqual([]);
    expect(p.status.steady).toBe(false);
  });

  it('counts such a stop as a failure, for the restart policy and the circuit breaker', () => {
    // Taken out of its group 30 s after it started (within the restart policy's healthyAfterSeconds,
    // 60), stopped 5 minutes later once drained: the failure is when it was taken out.
    const reason = `${HEALTH_CHECK_STOP} (target-group ${TG}): Target.Timeout`;
    const takenOut = now - 300_000;
    const failed = task({
      slot: 0,
      deployment: 1,
      startedAt: new Date(takenOut - 30_000).toISOString(),
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedAt: new Date(now).toISOString(),
      stoppedReason: reason,
    });
    const marked = {
      ...failed,
      targets: [{ ...targetOf(failed), deregisteredAt: takenOut, reason, released: true }],
    };
    expect(failureTime(marked, DEFAULT_RESTART_POLICY)).toBe(takenOut);
    // Still draining (RUNNING): already a failure, with the reason it was taken out for.
    const draining = { ...marked, lastStatus: 'RUNNING' as const, desiredStatus: 'RUNNING' };
    const { stoppedReason: _r, stoppedAt: _s, stopCode: _c, ...stillUp } = draining;
    expect(failureTime(stillUp, DEFAULT_RESTART_POLICY)).toBe(takenOut);
    expect(failureReason(stillUp)).toBe(reason);
    // Taken out after healthyAfterSeconds of running: not a failure of the restart policy.
    const late = {
      ...marked,
      startedAt: new Date(takenOut - 120_000).toISOString(),
    };
    expect(failureTime(late, DEFAULT_RESTART_POLICY)).toBeUndefined();
    // Taken out for anything else (a scale-in): not a failure.
    const scaledIn = {
      ...marked,
      stoppedReason: 'Steward: scaling service web in to 0',
      targets: [
        {
          ...targetOf(failed),
          deregisteredAt: takenOut,
          reason: 'Steward: scaling service web in to 0',
        },
      ],
    };
    expect(failureTime(scaledIn, DEFAULT_RESTART_POLICY)).toBeUndefined();

    const service = balanced({ desired: 4 });
    service.spec.deploymentConfiguration.deploymentCircuitBreaker = {
      enable: true,
      rollback: false,
    };
    const three = [0, 1, 2].map((slot) => ({ ...failed, taskId: `f${slot}`, slot }));
    const targetHealth = health({ [TG]: [] });
    const tripped = plan({ service, tasks: three, now, targetHealth });
    expect(tripped.status.deployment).toMatchObject({ rolloutState: 'FAILED', failedTasks: 3 });
    // A task of the deployment that runs but is not healthy yet does not stand the breaker down…
    const running = task({ slot: 3 });
    const stillFailed = circuitBreakerOf({
      service,
      tasks: [...three.slice(0, 2), running],
      desired: 4,
      now,
      serving: () => false,
    });
    expect(stillFailed.failedTasks).toBe(2);
    // …one healthy in its groups does.
    const healthy = plan({
      service: { ...service, targets: { [running.taskId]: [targetOf(running)] } },
      tasks: [...three.slice(0, 2), running],
      now,
      targetHealth: health({ [TG]: [[targetOf(running), 'healthy']] }),
    });
    expect(healthy.status.deployment?.failedTasks).toBeUndefined();
  });
});

describe('plan: load-balanced properties', () => {
  type Phase = 'healthy' | 'initial' | 'unhealthy' | 'draining' | 'absent';
  type Rec = 'none' | 'settling' | 'registered' | 'leaving' | 'released';
  const taskArb = fc.record({
    slot: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    deployment: fc.constantFrom(1, 2),
    lastStatus: fc.constantFrom('PENDING', 'RUNNING', 'RUNNING', 'STOPPED') as fc.Arbitrary<
      TaskRecord['lastStatus']
    >,
    stopping: fc.boolean(),
    record: fc.constantFrom<Rec>('none', 'settling', 'registered', 'leaving', 'released'),
    phase: fc.constantFrom<Phase>('healthy', 'initial', 'unhealthy', 'draining', 'absent'),
    startedAgoMs: fc.constantFrom(5_000, 600_000),
  });
  const inputArb = fc.record({
    desired: fc.integer({ min: 0, max: 4 }),
    min: fc.constantFrom(0, 50, 100),
    max: fc.constantFrom(100, 150, 200),
    deploymentId: fc.constantFrom(1, 2),
    read: fc.boolean(),
    deleting: fc.boolean(),
    grace: fc.constantFrom(0, 60),
    tasks: fc.array(taskArb, { maxLength: 7 }),
  });

  it('never stops a task ELB still lists, registers only what may serve, and keeps the minimum serving', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const max = input.min === 100 && input.max === 100 ? 200 : input.max;
        const recordOf = (t: TaskRecord, r: Rec): RecordedTarget[] => {
          const x = targetOf(t);
          if (r === 'settling') return [{ ...x, registeredAt: now - 10_000 }];
          if (r === 'registered') return [{ ...x, registeredAt: now - 600_000 }];
          if (r === 'leaving')
            return [
              { ...x, registeredAt: now - 600_000, deregisteredAt: now - 5_000, reason: 'x' },
            ];
          if (r === 'released')
            return [{ ...x, registeredAt: 0, deregisteredAt: 1, reason: 'x', released: true }];
          return [];
        };
        const tasks = input.tasks.map((g, i) => {
          const t = aTask({
            name: `t${i}`,
            ...(g.slot === undefined ? {} : { slot: g.slot }),
            deployment: g.deployment,
            lastStatus: g.lastStatus,
            desiredStatus: g.lastStatus === 'STOPPED' || g.stopping ? 'STOPPED' : 'RUNNING',
            privateIp: `10.0.0.${i + 10}`,
            startedAt: new Date(now - g.startedAgoMs).toISOString(),
          });
          const targets = recordOf(t, g.record);
          return targets.length > 0 ? { ...t, targets, targetsVersion: 1 } : t;
        });
        const listed: [Target, TargetHealth['state']][] = [];
        input.tasks.forEach((g, i) => {
          if (g.phase !== 'absent') listed.push([targetOf(tasks[i] as TaskRecord), g.phase]);
        });
        const service = balanced({
          desired: input.desired,
          min: input.min,
          max,
          grace: input.grace,
          deleting: input.deleting,
          generation: input.deploymentId,
          deployment: {
            id: input.deploymentId,
            startedAt: '2025-01-01T00:00:00.000Z',
            reason: 'x',
          },
        });
        const targetHealth = input.read ? health({ [TG]: listed }) : undefined;
        // The core plan, with the records on the tasks themselves.
        const p = corePlan({ service, tasks, now, ...(targetHealth ? { targetHealth } : {}) });
        const phaseOf = (t: TaskRecord) => {
          if (!input.read) return 'unknown';
          const hit = listed.find(([x]) => x.id === t.privateIp);
          return hit ? hit[1] : 'absent';
        };
        const byId = new Map(tasks.map((t) => [t.taskId, t]));
        const gen = (t: TaskRecord) => input.tasks[tasks.indexOf(t)] as (typeof input.tasks)[0];
        // 1. A stop goes only to a task ELB was read for and does not list (drained, or never in).
        for (const s of p.stops) {
          const t = byId.get(s.taskId) as TaskRecord;
          expect([s.taskId, phaseOf(t)]).toEqual([s.taskId, 'absent']);
          // …and never to one whose registration may still be on its way.
          expect(gen(t).record).not.toBe('settling');
        }
        // 2. Registered: RUNNING tasks of the current deployment, not on their way out, that ELB
        //    does not list, with no registration in flight; what is registered is recorded.
        for (const r of p.registrations) {
          const t = byId.get(r.taskId) as TaskRecord;
          expect(t.lastStatus).toBe('RUNNING');
          expect(t.deployment).toBe(input.deploymentId);
          expect(t.desiredStatus).toBe('RUNNING');
          expect(['none', 'registered', 'released']).toContain(gen(t).record);
          expect(phaseOf(t)).toBe('absent');
          for (const x of r.targets) expect(r.record).toContainEqual({ ...x, registeredAt: now });
          expect(r.expectedVersion).toBe(t.targetsVersion);
        }
        // 3. Deregistered: only what ELB lists as registered (not draining).
        for (const x of [...p.deregistrations, ...p.leaving.flatMap((l) => l.targets)]) {
          const t = tasks.find((u) => u.privateIp === x.id) as TaskRecord;
          expect(['healthy', 'initial', 'unhealthy']).toContain(phaseOf(t));
        }
        // 4. Serving tasks leave service (deregistered or stopped) only down to the minimum.
        const serving = (t: TaskRecord) =>
          t.lastStatus === 'RUNNING' &&
          t.desiredStatus !== 'STOPPED' &&
          gen(t).record !== 'leaving' &&
          (t.deployment === input.deploymentId || ['settling', 'registered'].includes(gen(t).record)
            ? phaseOf(t) === 'healthy'
            : true);
        const before = tasks.filter(serving);
        const left = new Set([
          ...p.stops.map((s) => s.taskId),
          ...p.leaving.map((l) => l.taskId),
          ...p.deregistrations.map((x) => tasks.find((u) => u.privateIp === x.id)?.taskId),
        ]);
        const leaving = before.filter((t) => left.has(t.taskId));
        const desired = input.deleting ? 0 : input.desired;
        const minRunning = Math.ceil((desired * input.min) / 100);
        expect(before.length - leaving.length).toBeGreaterThanOrEqual(
          Math.min(minRunning, before.length),
        );
      }),
      { numRuns: 600 },
    );
  });
});
