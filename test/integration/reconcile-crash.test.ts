/**
 * Reconcile when the process dies mid-way, and when every event is lost (DESIGN.md invariants 1, 2
 * and 6). A crash is modelled by an EcsCluster whose launches throw, before or after calling
 * RunTask; the clock is moved past EXPECTATION_RETRY_AFTER_MS instead of sleeping. What ran is
 * judged from ECS's side: the emulator's task list, its RunTask counter and its event stream.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from '../../local/ecs/emulator';
import { handleControllerEvent } from '../../shared/app/controller-events';
import { type ReconcileDeps, reconcile } from '../../shared/app/reconcile';
import { type ResyncDeps, resync } from '../../shared/app/resync';
import { isLive } from '../../shared/core/model';
import { EXPECTATION_RETRY_AFTER_MS } from '../../shared/core/plan';
import type { EcsCluster } from '../../shared/ports/ecs-cluster';
import {
  createCluster,
  ecsTasksOf,
  type Harness,
  seededRandom,
  serviceEvents,
  serviceSpec,
  shuffle,
  startHarness,
  tasksPerSlot,
  waitForQuiet,
} from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ label: 'reconcile-crash', stepDelayMs: 5 });
});

afterAll(async () => {
  await h?.close();
});

const DESIRED = 3;
const SLOTS = [0, 1, 2];

/**
 * An EcsCluster whose every launch dies, `before` or `after` calling RunTask, as if the process
 * running the reconcile was killed there (all of its launches die with it). `settled` waits for the
 * launches that were in flight, so the test sees what reached ECS.
 */
function crashingCluster(inner: EcsCluster, when: 'before' | 'after') {
  const inflight: Promise<unknown>[] = [];
  const port: EcsCluster = {
    ...inner,
    launch: (request) => {
      const p = (async () => {
        if (when === 'after') await inner.launch(request);
        throw new Error(`process died ${when} RunTask`);
      })();
      inflight.push(p.catch(() => undefined));
      return p;
    },
  };
  return { port, settled: () => Promise.all(inflight) };
}

const runTaskCalls = () => h.emulator.counters().calls.RunTask ?? 0;

async function createService(serviceName: string, desiredCount = DESIRED, cluster?: string) {
  expect(
    await h.store.createService({
      spec: serviceSpec({
        serviceName,
        desiredCount,
        maximumPercent: 100,
        ...(cluster === undefined ? {} : { cluster }),
      }),
      now: new Date(h.clock.now()).toISOString(),
    }),
  ).toEqual({ ok: true });
}

/** The stored expectation tokens by slot. */
async function expectationTokens(serviceName: string): Promise<Map<number, string>> {
  const state = await h.store.readState(serviceName);
  return new Map(Object.values(state?.service.expectations ?? {}).map((e) => [e.slot, e.token]));
}

/** Exactly one task per slot 0..DESIRED-1 in ECS, and nothing else; returns them. */
async function expectOneTaskPerSlot(serviceName: string) {
  const tasks = await ecsTasksOf(h, { serviceName });
  const perSlot = tasksPerSlot(tasks);
  expect([...perSlot.keys()].sort()).toEqual(SLOTS);
  for (const arns of perSlot.values()) expect(arns).toHaveLength(1);
  expect(new Set(serviceEvents(h.events, serviceName).map((e) => e.detail.taskArn)).size).toBe(
    DESIRED,
  );
  return tasks;
}

/** Crashes the first reconcile of `serviceName`; returns the RunTask count before it. */
async function crashFirstReconcile(serviceName: string, when: 'before' | 'after') {
  const crashing = crashingCluster(h.cluster, when);
  const before = runTaskCalls();
  await expect(reconcile({ ...h.deps, ecs: crashing.port }, { serviceName })).rejects.toThrow(
    `process died ${when} RunTask`,
  );
  await crashing.settled();
  const tokens = await expectationTokens(serviceName);
  expect([...tokens.keys()].sort()).toEqual(SLOTS);
  expect((await h.store.readState(serviceName))?.tasks).toEqual([]);
  expect(runTaskCalls() - before).toBe(when === 'before' ? 0 : DESIRED);
  // Within the retry delay the claim is still presumed in its claimer's hands: nothing is launched.
  const young = await reconcile(h.deps, { serviceName });
  expect(young).toMatchObject({ launched: 0 });
  expect(runTaskCalls() - before).toBe(when === 'before' ? 0 : DESIRED);
  return { tokens, before };
}

describe('a reconcile that dies mid-way', () => {
  // Catches: a claim written after RunTask (no expectation survives the crash), an expectation that
  // is never retried (the slot stays empty forever) or retried early, a retry that mints a new
  // token (a second task for the slot), and a retried task that is not tied to its slot.
  it('after the claim and before RunTask: the expectation is retried with the same token', async () => {
    const serviceName = 'crash-before-runtask';
    await createService(serviceName);
    const { tokens, before } = await crashFirstReconcile(serviceName, 'before');
    expect(await ecsTasksOf(h, { serviceName })).toEqual([]);

    h.clock.advance(EXPECTATION_RETRY_AFTER_MS + 1_000);
    const from = h.events.length;
    expect(await reconcile(h.deps, { serviceName })).toMatchObject({
      outcome: 'acted',
      launched: DESIRED,
    });
    expect(runTaskCalls() - before).toBe(DESIRED);
    const tasks = await expectOneTaskPerSlot(serviceName);
    for (const t of tasks) expect(t.token).toBe(tokens.get(t.slot ?? -1));

    // Events now flow normally (in order, once): the service settles with the same three tasks.
    await waitForQuiet(h, 50);
    for (const e of serviceEvents(h.events, serviceName, from))
      await handleControllerEvent(h.deps, e);
    await reconcile(h.deps, { serviceName });
    await expectOneTaskPerSlot(serviceName);
    expect(runTaskCalls() - before).toBe(DESIRED);
    const state = await h.store.readState(serviceName);
    expect(state?.service.status).toMatchObject({ steady: true, runningCount: DESIRED });
    expect(state?.service.expectations).toEqual({});
  });

  // Catches: a retry without the original clientToken (ECS would start a second task per slot), a
  // retried RunTask answer that is not recorded (the service would wait for events that were lost),
  // and a recorded task without its slot or launch token.
  it('after RunTask, with its events lost: the retry gets the same tasks back and records them', async () => {
    const serviceName = 'crash-after-runtask';
    await createService(serviceName);
    const { tokens, before } = await crashFirstReconcile(serviceName, 'after');
    const launchedTasks = await expectOneTaskPerSlot(serviceName);
    await waitForQuiet(h, 50);

    h.clock.advance(EXPECTATION_RETRY_AFTER_MS + 1_000);
    expect(await reconcile(h.deps, { serviceName })).toMatchObject({
      outcome: 'acted',
      launched: DESIRED,
    });
    const retries = runTaskCalls() - before - DESIRED;
    expect(retries).toBe(DESIRED);
    const tasks = await expectOneTaskPerSlot(serviceName);
    expect(tasks.map((t) => t.taskArn).sort()).toEqual(launchedTasks.map((t) => t.taskArn).sort());
    const records = (await h.store.readState(serviceName))?.tasks ?? [];
    expect(records.map((r) => r.slot).sort()).toEqual(SLOTS);
    for (const r of records) {
      expect(r.launchToken).toBe(tokens.get(r.slot ?? -1));
      expect(r.taskArn).toBe(tasks.find((t) => t.slot === r.slot)?.taskArn);
    }

    // No event was ever delivered; the recorded answers are enough to settle.
    await reconcile(h.deps, { serviceName });
    const state = await h.store.readState(serviceName);
    expect(state?.service.status).toMatchObject({ steady: true, runningCount: DESIRED });
    expect(state?.service.expectations).toEqual({});
    expect(runTaskCalls() - before).toBe(2 * DESIRED);
    console.info(
      `[crash-after] RunTask calls=${runTaskCalls() - before} (first ${DESIRED} + ${retries} retries), tasks=${tasks.length}`,
    );
  });

  // Catches: late or duplicated events of a retried launch that overwrite newer state, trigger a
  // second launch into a slot, or leave the service unsettled; concurrent retries that each start
  // their own task.
  it.each([3, 11])(
    'after RunTask, with its events delivered late and duplicated after concurrent retries (seed %i)',
    async (seed) => {
      const serviceName = `crash-late-events-${seed}`;
      const random = seededRandom(seed);
      await createService(serviceName);
      const from = h.events.length;
      const { before } = await crashFirstReconcile(serviceName, 'after');
      await waitForQuiet(h, 50);

      h.clock.advance(EXPECTATION_RETRY_AFTER_MS + 1_000);
      const retried = await Promise.all([1, 2, 3].map(() => reconcile(h.deps, { serviceName })));
      const calls = runTaskCalls() - before;
      expect(calls).toBeGreaterThanOrEqual(2 * DESIRED);
      expect(retried.every((r) => r.failedLaunches.length === 0)).toBe(true);
      const tasks = await expectOneTaskPerSlot(serviceName);

      const late: EventBridgeEvent[] = shuffle(
        serviceEvents(h.events, serviceName, from).flatMap((e) =>
          Array.from({ length: 2 + Math.floor(random() * 2) }, () => structuredClone(e)),
        ),
        random,
      );
      const latest = new Map<string, number>();
      for (const e of late)
        latest.set(
          String(e.detail.taskArn),
          Math.max(latest.get(String(e.detail.taskArn)) ?? 0, Number(e.detail.version)),
        );
      while (late.length > 0) {
        const batch = late.splice(0, 1 + Math.floor(random() * 5));
        await Promise.all(batch.map((e) => handleControllerEvent(h.deps, e)));
      }
      await reconcile(h.deps, { serviceName });

      expect(runTaskCalls() - before).toBe(calls);
      const after = await expectOneTaskPerSlot(serviceName);
      expect(after.map((t) => t.taskArn).sort()).toEqual(tasks.map((t) => t.taskArn).sort());
      const state = await h.store.readState(serviceName);
      for (const r of state?.tasks ?? []) {
        expect(r).toMatchObject({ lastStatus: 'RUNNING', version: latest.get(r.taskArn) });
      }
      expect(
        state?.tasks
          .filter(isLive)
          .map((r) => r.slot)
          .sort(),
      ).toEqual(SLOTS);
      expect(state?.service.status).toMatchObject({ steady: true, runningCount: DESIRED });
      expect(state?.service.expectations).toEqual({});
      console.info(
        `[crash-late seed=${seed}] RunTask calls=${calls} for ${tasks.length} tasks (3 concurrent retrying reconciles)`,
      );
    },
  );
});

describe('every event lost', () => {
  // Catches: a resync that does not record tasks it finds in ECS (no service ever settles), that
  // launches again for tasks it has just found (more tasks than slots), or that needs more than the
  // two schedule periods invariant 6 allows once ECS has caught up.
  it('resync alone brings three services to their desired count and steady', async () => {
    await createCluster(h, 'dark');
    const wanted: Record<string, number> = { 'dark-a': 1, 'dark-b': 3, 'dark-c': 4 };
    for (const [name, count] of Object.entries(wanted)) await createService(name, count, 'dark');
    const deps: ResyncDeps = { ...(h.deps as ReconcileDeps), orphanGraceMs: 0 };
    const before = runTaskCalls();

    let passes = 0;
    const steady = async () => {
      for (const name of Object.keys(wanted)) {
        const s = await h.store.getService(name);
        if (!s?.status.steady || s.status.runningCount !== wanted[name]) return false;
      }
      return true;
    };
    while (!(await steady()) && passes < 10) {
      passes += 1;
      const result = await resync(deps);
      expect(result.errors).toEqual([]);
      // A schedule period later every lifecycle step in ECS has happened.
      await waitForQuiet(h, 50);
    }
    console.info(`[resync] passes needed=${passes}`);
    expect(passes).toBeLessThanOrEqual(2);
    for (const [name, count] of Object.entries(wanted)) {
      const tasks = await ecsTasksOf(h, { serviceName: name, cluster: 'dark' });
      const perSlot = tasksPerSlot(tasks);
      expect([...perSlot.keys()].sort()).toEqual(Array.from({ length: count }, (_, i) => i));
      for (const arns of perSlot.values()) expect(arns).toHaveLength(1);
      expect(tasks.every((t) => t.lastStatus === 'RUNNING')).toBe(true);
      expect((await h.store.getService(name))?.expectations).toEqual({});
    }
    expect(runTaskCalls() - before).toBe(1 + 3 + 4);
  });
});
