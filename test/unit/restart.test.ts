/**
 * Restart policy arithmetic and its effect on plan(): what counts as a failure, the streak, the
 * backoff delays with jitter, give-up, and reset by a healthy task or a spec change.
 */
import { describe, expect, it } from '@jest/globals';
import { launchInfoOf } from '../../shared/core/model';
import { plan } from '../../shared/core/plan';
import {
  backoffDelayMs,
  DEFAULT_RESTART_POLICY,
  failureStreak,
  failureTime,
  type RestartPolicy,
  restartDecision,
} from '../../shared/core/restart';
import { aService, aTask, NOW } from '../support/builders';

const policy: RestartPolicy = { ...DEFAULT_RESTART_POLICY, jitter: 0 };
const iso = (ms: number) => new Date(ms).toISOString();
const S = 1000;

/** A task that crashed `agoMs` ago after running `ranMs` (undefined: never started). */
function crashed(o: {
  name: string;
  agoMs: number;
  ranMs?: number;
  code?: string;
  reason?: string;
}) {
  const stoppedAt = NOW - o.agoMs;
  return aTask({
    name: o.name,
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode: o.code ?? 'EssentialContainerExited',
    stoppedReason: o.reason ?? 'Essential container in task exited',
    stoppedAt: iso(stoppedAt),
    ...(o.ranMs === undefined ? {} : { startedAt: iso(stoppedAt - o.ranMs) }),
  });
}

describe('what counts as a failure', () => {
  it.each([
    ['failed to start', { stopCode: 'TaskFailedToStart', startedAt: undefined }, true],
    ['exited 5 s after starting', { startedAt: iso(NOW - 5 * S) }, true],
    ['exited after running 59 s', { startedAt: iso(NOW - 59 * S) }, true],
    ['exited after running 60 s (healthy by then)', { startedAt: iso(NOW - 60 * S) }, false],
    [
      'stopped by a user or by Steward',
      { stopCode: 'UserInitiated', startedAt: iso(NOW - 5 * S) },
      false,
    ],
    ['Spot interruption', { stopCode: 'SpotInterruption', startedAt: iso(NOW - 5 * S) }, false],
    ['still running', { lastStatus: 'RUNNING', stopCode: undefined, stoppedAt: undefined }, false],
    // ECS has decided to stop it (its container exited) but it is not STOPPED yet: already a
    // failure, or a replacement would slip out before the backoff applies.
    [
      'stopping after its essential container exited',
      {
        lastStatus: 'DEACTIVATING',
        desiredStatus: 'STOPPED',
        stoppedAt: undefined,
        stoppingAt: iso(NOW),
        startedAt: iso(NOW - 1 * S),
      },
      true,
    ],
  ])('%s: %s', (_name, overrides, expected) => {
    const base = crashed({ name: 'x', agoMs: 0 });
    const { startedAt: _s, ...rest } = base;
    const task = { ...rest, ...(overrides as object) } as typeof base;
    expect(failureTime(task, policy) !== undefined).toBe(expected);
  });
});

describe('the failure streak', () => {
  const since = NOW - 3600 * S;

  it('counts consecutive failures after the last task that proved healthy', () => {
    const tasks = [
      aTask({
        name: 'healthy',
        lastStatus: 'STOPPED',
        startedAt: iso(NOW - 600 * S),
        stoppedAt: iso(NOW - 300 * S),
        stopCode: 'EssentialContainerExited',
      }),
      crashed({ name: 'old', agoMs: 700 * S, ranMs: 1 * S }), // before the healthy task proved itself (at -540 s): not counted
      crashed({ name: 'c1', agoMs: 200 * S, ranMs: 1 * S }),
      crashed({ name: 'c2', agoMs: 100 * S }),
      crashed({
        name: 'c3',
        agoMs: 10 * S,
        code: 'TaskFailedToStart',
        reason: 'CannotPullContainerError: not found',
      }),
    ];
    expect(failureStreak({ tasks, launchFailures: [], since, now: NOW, policy })).toEqual({
      count: 3,
      giveUpCount: 3,
      lastAt: NOW - 10 * S,
      lastReason: 'TaskFailedToStart: CannotPullContainerError: not found',
    });
  });

  it('counts launches ECS refused, and a running task that proved healthy ends the streak', () => {
    const launchFailures = [{ at: NOW - 50 * S, reason: 'RESOURCE:MEMORY' }];
    expect(
      failureStreak({
        tasks: [crashed({ name: 'c', agoMs: 90 * S })],
        launchFailures,
        since,
        now: NOW,
        policy,
      }),
    ).toMatchObject({
      count: 2,
      lastReason: 'RESOURCE:MEMORY',
    });
    // Up for 30 s: not yet proven healthy, so the streak goes on.
    const young = aTask({ name: 'up', startedAt: iso(NOW - 30 * S) });
    expect(
      failureStreak({
        tasks: [crashed({ name: 'c', agoMs: 90 * S }), young],
        launchFailures,
        since,
        now: NOW,
        policy,
      }),
    ).toMatchObject({ count: 2 });
    // Up for 70 s: proven healthy 10 s ago, after the last failure, so the streak is over.
    const proven = aTask({ name: 'up', startedAt: iso(NOW - 70 * S) });
    expect(
      failureStreak({
        tasks: [crashed({ name: 'c', agoMs: 90 * S }), proven],
        launchFailures,
        since,
        now: NOW,
        policy,
      }),
    ).toEqual({ count: 0 });
    // Up since before the crash and proven before it: the crash still counts.
    const veteran = aTask({ name: 'up', startedAt: iso(NOW - 180 * S) });
    expect(
      failureStreak({
        tasks: [crashed({ name: 'c', agoMs: 90 * S }), veteran],
        launchFailures: [],
        since,
        now: NOW,
        policy,
      }),
    ).toMatchObject({ count: 1 });
  });

  it('is counted per slot: replicas failing together are one failure each, not a streak', () => {
    const wave = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((slot) => ({
      ...crashed({ name: `w${slot}`, agoMs: 10 * S }),
      slot,
    }));
    expect(
      failureStreak({ tasks: wave, launchFailures: [], since, now: NOW, policy }),
    ).toMatchObject({ count: 1, giveUpCount: 1 });
    const again = [0, 1, 2].map((slot) => ({
      ...crashed({ name: `x${slot}`, agoMs: 5 * S }),
      slot,
    }));
    expect(
      failureStreak({ tasks: [...wave, ...again], launchFailures: [], since, now: NOW, policy }),
    ).toMatchObject({ count: 2 });
  });

  it('counts capacity refusals for backoff, never towards giving up', () => {
    const launchFailures = [1, 2, 3].map((i) => ({
      at: NOW - i * S,
      reason: 'RESOURCE:MEMORY',
      slot: 0,
      retryable: true,
    }));
    const streak = failureStreak({ tasks: [], launchFailures, since, now: NOW, policy });
    expect(streak).toMatchObject({ count: 3, giveUpCount: 0 });
    const decision = restartDecision({
      streak,
      policy: { ...policy, maxConsecutiveFailures: 3 },
      now: NOW,
      seed: 's',
    });
    expect(decision.kind).toBe('backoff');
  });

  it('starts anew after a spec change', () => {
    const tasks = [crashed({ name: 'a', agoMs: 100 * S }), crashed({ name: 'b', agoMs: 50 * S })];
    expect(
      failureStreak({ tasks, launchFailures: [], since: NOW - 60 * S, now: NOW, policy }),
    ).toMatchObject({ count: 1 });
  });
});

describe('backoff delays', () => {
  it.each([
    [1, 10],
    [2, 20],
    [3, 40],
    [6, 320],
    [7, 640],
    [8, 900], // capped at maxDelaySeconds, ECS's 15 minutes
    [30, 900],
  ])('failure %d waits %d s without jitter', (streak, seconds) => {
    expect(backoffDelayMs({ streak, policy, seed: 'web' })).toBe(seconds * S);
  });

  it('jitter stays within ±20%, differs between services, and is the same for the same input', () => {
    const jittery = { ...policy, jitter: 0.2 };
    const delays = ['a', 'b', 'c', 'd', 'e', 'f'].map((seed) =>
      backoffDelayMs({ streak: 3, policy: jittery, seed }),
    );
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(32 * S);
      expect(d).toBeLessThanOrEqual(48 * S);
    }
    expect(new Set(delays).size).toBeGreaterThan(1);
    expect(backoffDelayMs({ streak: 3, policy: jittery, seed: 'a' })).toBe(delays[0]);
  });

  it('goes, waits or gives up', () => {
    const streak = { count: 2, giveUpCount: 2, lastAt: NOW - 5 * S, lastReason: 'boom' };
    expect(restartDecision({ streak, policy, now: NOW, seed: 's' })).toEqual({
      kind: 'backoff',
      streak: 2,
      until: NOW + 15 * S,
      reason: 'boom',
    });
    expect(restartDecision({ streak, policy, now: NOW + 15 * S, seed: 's' })).toEqual({
      kind: 'go',
    });
    expect(
      restartDecision({
        streak: { ...streak, count: 10, giveUpCount: 10 },
        policy,
        now: NOW + 3600 * S,
        seed: 's',
      }),
    ).toMatchObject({ kind: 'give-up', streak: 10 });
    expect(
      restartDecision({
        streak: { ...streak, count: 10, giveUpCount: 10 },
        policy: { ...policy, maxConsecutiveFailures: null },
        now: NOW + 3600 * S,
        seed: 's',
      }),
    ).toEqual({ kind: 'go' });
    expect(restartDecision({ streak: { count: 0 }, policy, now: NOW, seed: 's' })).toEqual({
      kind: 'go',
    });
  });
});

describe('plan() under the restart policy', () => {
  const service = (o: { updatedAt?: string; policy?: Partial<RestartPolicy> } = {}) =>
    aService({
      desiredCount: 1,
      updatedAt: o.updatedAt ?? iso(NOW - 3600 * S),
      spec: { restartPolicy: { ...policy, ...o.policy } },
      status: { ...aService().status, desiredCount: 1 },
    });

  it('holds the launch back while backing off, says why once, and launches when the delay is over', () => {
    const tasks = [
      crashed({ name: 'c1', agoMs: 30 * S, ranMs: 2 * S }),
      crashed({ name: 'c2', agoMs: 5 * S, ranMs: 2 * S }),
    ];
    const waiting = plan({ service: service(), tasks, now: NOW });
    expect(waiting.launches).toEqual([]);
    expect(waiting.status.conditions).toEqual([
      {
        type: 'BackingOff',
        message: `2 consecutive failures (last: EssentialContainerExited: Essential container in task exited); next attempt at ${iso(NOW + 15 * S)}.`,
        until: iso(NOW + 15 * S),
        failures: 2,
      },
    ]);
    expect(waiting.messages).toEqual([
      `(service web) is unable to consistently start tasks successfully: ${waiting.status.conditions[0]?.message}`,
    ]);
    // The same state again: the condition is already recorded, so nothing is said twice.
    const again = plan({
      service: { ...service(), status: waiting.status },
      tasks,
      now: NOW + 1 * S,
    });
    expect(again.messages).toEqual([]);
    const later = plan({
      service: { ...service(), status: waiting.status },
      tasks,
      now: NOW + 15 * S,
    });
    expect(later.launches.map((l) => l.slot)).toEqual([0]);
    expect(later.status.conditions.map((c) => c.type)).toEqual(['Progressing']);
  });

  it('gives up after maxConsecutiveFailures, with a Failed condition, until the spec changes', () => {
    const tasks = [1, 2, 3].map((i) =>
      crashed({
        name: `c${i}`,
        agoMs: i * 60 * S,
        code: 'TaskFailedToStart',
        reason: 'CannotPullContainerError: nope',
      }),
    );
    const failed = plan({
      service: service({ policy: { maxConsecutiveFailures: 3 } }),
      tasks,
      now: NOW + 3600 * S,
    });
    expect(failed.launches).toEqual([]);
    expect(failed.status.conditions).toEqual([
      {
        type: 'Failed',
        message:
          'Stopped starting tasks after 3 consecutive failures (last: TaskFailedToStart: CannotPullContainerError: nope). Change the service to try again.',
        failures: 3,
      },
    ]);
    expect(failed.messages).toEqual([`(service web) ${failed.status.conditions[0]?.message}`]);
    const changed = plan({
      service: service({ policy: { maxConsecutiveFailures: 3 }, updatedAt: iso(NOW + 3000 * S) }),
      tasks,
      now: NOW + 3600 * S,
    });
    expect(changed.launches.map((l) => l.slot)).toEqual([0]);
  });

  it('says "has started" for the launches it sees fulfilled, and "steady" on the transition only', () => {
    const token = 'stw-abc';
    const svc = {
      ...service(),
      expectations: {
        [token]: { token, slot: 0, generation: 1, taskDefinition: 'web:3', createdAt: NOW - 2 * S },
      },
    };
    const task = aTask({ name: 'new', slot: 0, launchToken: token, startedAt: iso(NOW - 1 * S) });
    const p = plan({ service: svc, tasks: [task], now: NOW });
    expect(p.messages).toEqual([
      `(service web) has started 1 tasks: (task ${task.taskId}).`,
      // As ECS says for a new service: its first deployment completes as it becomes steady.
      '(service web) (deployment 1) deployment completed.',
      '(service web) has reached a steady state.',
    ]);
    expect(p.status.conditions).toEqual([{ type: 'Steady', message: '1 of 1 tasks running.' }]);
  });
});

describe("launchInfoOf: slot and launch token from a task's overrides", () => {
  it.each([
    [
      {
        containerOverrides: [
          {
            name: 'a',
            environment: [
              { name: 'STEWARD_TASK_INDEX', value: '4' },
              { name: 'STEWARD_LAUNCH_TOKEN', value: 'stw-x' },
            ],
          },
        ],
      },
      { slot: 4, launchToken: 'stw-x' },
    ],
    [
      {
        containerOverrides: [
          { name: 'sidecar' },
          { name: 'a', environment: [{ name: 'STEWARD_TASK_INDEX', value: '0' }] },
        ],
      },
      { slot: 0 },
    ],
    [
      {
        containerOverrides: [
          { name: 'a', environment: [{ name: 'STEWARD_TASK_INDEX', value: '-1' }] },
        ],
      },
      {},
    ],
    [{ containerOverrides: [{ name: 'a', environment: [{ name: 'OTHER', value: '1' }] }] }, {}],
    [{ containerOverrides: 'nonsense' }, {}],
    [undefined, {}],
    [null, {}],
  ])('%j → %j', (overrides, expected) => {
    expect(launchInfoOf(overrides)).toEqual(expected);
  });
});
