/**
 * Reconcile under concurrency, judged from ECS's side (DESIGN.md invariants 1–3): many reconciles
 * at once while every task event is delivered two or three times, shuffled, late and in parallel,
 * as EventBridge and Lambda may. The emulator's own task list and its ordered event stream say what
 * really ran; Steward's records are only checked for agreeing with it.
 */
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from '../../local/ecs/emulator';
import { handleControllerEvent } from '../../shared/app/controller-events';
import { type ReconcileDeps, reconcile } from '../../shared/app/reconcile';
import { isLive } from '../../shared/core/model';
import {
  counting,
  ecsTasksOf,
  type Harness,
  maxLiveFromEvents,
  seededRandom,
  serviceEvents,
  serviceSpec,
  shuffle,
  sleep,
  startHarness,
  tasksPerSlot,
  totalCalls,
  waitForQuiet,
} from '../support/harness';
import { noLoadBalancing } from '../support/no-load-balancing';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ label: 'reconcile-concurrency', stepDelayMs: 5 });
});

afterAll(async () => {
  await h?.close();
});

const DESIRED = 5;
const RECONCILERS = 8;
const SEEDS = [1, 7, 42];

type StormReport = {
  runTaskCalls: number;
  deliveries: number;
  outcomes: Record<string, number>;
  /** The most live records + untied expectations the store showed at one sample. */
  maxStoreLive: number;
};

/** Live task records plus the expectations not yet tied to a recorded task: plan's own count. */
async function storeLive(serviceName: string): Promise<number> {
  const state = await h.store.readState(serviceName);
  if (!state) return 0;
  const tokens = new Set(state.tasks.flatMap((t) => (t.launchToken ? [t.launchToken] : [])));
  const untied = Object.values(state.service.expectations).filter((e) => !tokens.has(e.token));
  return state.tasks.filter(isLive).length + untied.length;
}

/**
 * The storm: RECONCILERS reconciles at once, while three workers deliver every new event of the
 * service 2–3 times, shuffled (seeded) among everything not yet delivered, in random batches run
 * with Promise.all. Ends when the reconciles are done, every copy is delivered, the emulator is
 * quiet and the service says it is steady at `desired`; fails if that does not happen in time.
 */
async function storm(o: {
  deps: ReconcileDeps;
  serviceName: string;
  seed: number;
  from: number;
  desired: number;
}): Promise<StormReport> {
  const random = seededRandom(o.seed);
  const before = h.emulator.counters().calls.RunTask ?? 0;
  const pool: EventBridgeEvent[] = [];
  const outcomes: Record<string, number> = {};
  let cursor = o.from;
  let deliveries = 0;
  let finished = false;
  let maxStoreLive = 0;

  const take = () => {
    const fresh = h.events.slice(cursor);
    cursor += fresh.length;
    for (const e of serviceEvents(fresh, o.serviceName)) {
      const copies = 2 + Math.floor(random() * 2);
      for (let i = 0; i < copies; i++) pool.push(e);
    }
    shuffle(pool, random);
  };
  const worker = async () => {
    while (!finished) {
      take();
      if (pool.length === 0) {
        await sleep(2);
        continue;
      }
      const batch = pool.splice(0, 1 + Math.floor(random() * 5));
      const results = await Promise.all(batch.map((e) => handleControllerEvent(o.deps, e)));
      deliveries += batch.length;
      for (const r of results) {
        const key = r.outcome === 'reconciled' ? `reconciled:${r.reconcile.outcome}` : r.outcome;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    }
  };
  const sampler = async () => {
    while (!finished) {
      maxStoreLive = Math.max(maxStoreLive, await storeLive(o.serviceName));
      await sleep(3);
    }
  };

  const reconciles = Promise.all(
    Array.from({ length: RECONCILERS }, () => reconcile(o.deps, { serviceName: o.serviceName })),
  );
  const workers = Promise.all([worker(), worker(), worker(), sampler()]);
  try {
    await reconciles;
    const deadline = Date.now() + 10_000;
    for (;;) {
      await waitForQuiet(h, 50);
      take();
      const s = await h.store.getService(o.serviceName);
      if (pool.length === 0 && s?.status.steady && s.status.runningCount === o.desired) break;
      if (Date.now() > deadline) {
        throw new Error(
          `${o.serviceName} (seed ${o.seed}) did not settle: ${JSON.stringify({ status: s?.status, pool: pool.length, outcomes })}`,
        );
      }
    }
  } finally {
    finished = true;
    await workers;
  }
  return {
    runTaskCalls: (h.emulator.counters().calls.RunTask ?? 0) - before,
    deliveries,
    outcomes,
    maxStoreLive,
  };
}

describe.each([100, 200])(
  'a storm of reconciles and duplicated, shuffled events (maximumPercent %i)',
  (maximumPercent) => {
    const bound = Math.floor((DESIRED * maximumPercent) / 100);

    // Catches: two reconciles launching the same slot (a claim that is not conditional, or a plan that
    // ignores outstanding expectations), a RunTask issued twice for one claim, a launch past the
    // maximumPercent bound, an event path that launches on a duplicate or stale event, and a service
    // that never reports itself steady once the storm is over. Then the same for replacements.
    it.each(SEEDS)(
      'seed %i: every slot launched once, never past the bound; stops replaced in their slots',
      async (seed) => {
        const serviceName = `storm-${maximumPercent}-${seed}`;
        const random = seededRandom(seed * 7919);
        expect(
          await h.store.createService({
            spec: serviceSpec({ serviceName, desiredCount: DESIRED, maximumPercent }),
            now: new Date(h.clock.now()).toISOString(),
          }),
        ).toEqual({ ok: true });

        const start = h.events.length;
        const first = await storm({
          deps: h.deps,
          serviceName,
          seed,
          from: start,
          desired: DESIRED,
        });

        const tasks = await ecsTasksOf(h, { serviceName });
        const perSlot = tasksPerSlot(tasks);
        expect([...perSlot.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
        for (const arns of perSlot.values()) expect(arns).toHaveLength(1);
        expect(tasks.map((t) => t.lastStatus)).toEqual(Array(DESIRED).fill('RUNNING'));
        const arnsInStream = new Set(
          serviceEvents(h.events, serviceName).map((e) => e.detail.taskArn),
        );
        expect(arnsInStream.size).toBe(DESIRED);
        // No retry is due (the clock did not jump), so one RunTask per claimed launch.
        expect(first.runTaskCalls).toBe(DESIRED);
        expect(maxLiveFromEvents(h.events, serviceName)).toBeLessThanOrEqual(bound);
        expect(first.maxStoreLive).toBeLessThanOrEqual(bound);

        const settled = await h.store.readState(serviceName);
        expect(settled?.service.status).toMatchObject({
          steady: true,
          runningCount: DESIRED,
          pendingCount: 0,
        });
        expect(settled?.service.expectations).toEqual({});
        expect(
          settled?.tasks
            .filter(isLive)
            .map((t) => t.slot)
            .sort(),
        ).toEqual([0, 1, 2, 3, 4]);

        // Two tasks stop (by a user, as ECS would report it); the storm runs again.
        const victims = shuffle([...tasks], random).slice(0, 2);
        const stopFrom = h.events.length;
        for (const v of victims)
          await h.ecsClient.send(new StopTaskCommand({ task: v.taskArn, reason: 'chaos' }));
        const second = await storm({
          deps: h.deps,
          serviceName,
          seed: seed + 1000,
          from: stopFrom,
          desired: DESIRED,
        });

        const after = await ecsTasksOf(h, { serviceName });
        const fresh = after.filter((t) => !tasks.some((old) => old.taskArn === t.taskArn));
        expect(fresh.map((t) => t.slot).sort()).toEqual(victims.map((v) => v.slot).sort());
        expect(second.runTaskCalls).toBe(2);
        const running = after.filter((t) => t.lastStatus === 'RUNNING');
        const runningPerSlot = tasksPerSlot(running);
        expect([...runningPerSlot.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
        for (const arns of runningPerSlot.values()) expect(arns).toHaveLength(1);
        for (const v of victims)
          expect(after.find((t) => t.taskArn === v.taskArn)?.lastStatus).toBe('STOPPED');
        expect(
          new Set(serviceEvents(h.events, serviceName).map((e) => e.detail.taskArn)).size,
        ).toBe(DESIRED + 2);
        expect(maxLiveFromEvents(h.events, serviceName)).toBeLessThanOrEqual(bound);
        expect(second.maxStoreLive).toBeLessThanOrEqual(bound);
        const final = await h.store.getService(serviceName);
        expect(final?.status).toMatchObject({ steady: true, runningCount: DESIRED });
        expect(final?.expectations).toEqual({});

        console.info(
          `[storm] maxPct=${maximumPercent} seed=${seed}: launch storm RunTask calls=${first.runTaskCalls} tasks=${arnsInStream.size} deliveries=${first.deliveries} outcomes=${JSON.stringify(first.outcomes)} maxLive(ECS)=${maxLiveFromEvents(serviceEvents(h.events.slice(0, stopFrom), serviceName), serviceName)} maxLive(store)=${first.maxStoreLive}; replacement storm RunTask calls=${second.runTaskCalls} replacements=${fresh.length} deliveries=${second.deliveries} outcomes=${JSON.stringify(second.outcomes)} maxLive(ECS, overall)=${maxLiveFromEvents(h.events, serviceName)} bound=${bound}`,
        );
      },
    );
  },
);

describe('stale and duplicate events', () => {
  // Catches: a version guard that accepts an equal (duplicate) or lower (stale) version, an event path
  // that reconciles (reads, writes or calls ECS) on an event that changed nothing, and a stale event
  // overwriting newer task state (invariant 3).
  it('cost exactly one rejected recordObservation and no ECS call', async () => {
    const serviceName = 'stale-dup';
    expect(
      await h.store.createService({
        spec: serviceSpec({ serviceName, desiredCount: 1 }),
        now: new Date(h.clock.now()).toISOString(),
      }),
    ).toEqual({ ok: true });
    const from = h.events.length;
    expect(await reconcile(h.deps, { serviceName })).toMatchObject({
      outcome: 'acted',
      launched: 1,
    });
    await waitForQuiet(h, 50);
    const stream = serviceEvents(h.events, serviceName, from);
    const pending = stream.find((e) => e.detail.lastStatus === 'PENDING');
    const running = stream.find((e) => e.detail.lastStatus === 'RUNNING');
    if (!pending || !running) throw new Error(`no PENDING/RUNNING events in ${stream.length}`);
    expect(Number(running.detail.version)).toBeGreaterThan(Number(pending.detail.version));

    const store = counting(h.store);
    const ecs = counting(h.cluster);
    const deps: ReconcileDeps = {
      store: store.port,
      ecs: ecs.port,
      loadBalancing: noLoadBalancing,
      clock: h.clock.now,
    };

    const first = await handleControllerEvent(deps, running);
    expect(first.outcome).toBe('reconciled');
    expect(store.counts.recordObservation).toBe(1);

    const cases: [string, EventBridgeEvent][] = [
      ['duplicate RUNNING', structuredClone(running)],
      ['stale PENDING', structuredClone(pending)],
    ];
    for (const [what, event] of cases) {
      store.reset();
      ecs.reset();
      h.emulator.resetCounters();
      const result = await handleControllerEvent(deps, event);
      expect({ what, result }).toEqual({
        what,
        result: { outcome: 'stale', serviceName, taskId: expect.any(String) },
      });
      expect({ what, store: store.counts }).toEqual({ what, store: { recordObservation: 1 } });
      expect({ what, ecs: totalCalls(ecs.counts) }).toEqual({ what, ecs: 0 });
      expect({ what, emulator: h.emulator.counters().calls }).toEqual({ what, emulator: {} });
    }
    const record = (await h.store.readState(serviceName))?.tasks[0];
    expect(record).toMatchObject({
      lastStatus: 'RUNNING',
      version: Number(running.detail.version),
      slot: 0,
    });
  });
});
