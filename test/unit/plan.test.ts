import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type Expectation,
  type ServiceRecord,
  type TaskRecord,
  TaskStatus,
} from '../../shared/core/model';
import {
  EXPECTATION_RETRY_AFTER_MS,
  EXPECTATION_TTL_MS,
  launchToken,
  MAX_CLAIM_ENTRIES,
  MAX_OUTSTANDING_LAUNCHES,
  needsClaim,
  type Plan,
  plan,
} from '../../shared/core/plan';
import {
  anExpectation,
  aService,
  aTask,
  expectationsOf,
  NOW,
  tasksInSlots,
} from '../support/builders';

const now = NOW;

/** The launch plan() must produce for `slot` of the default `web` service at state version 7. */
function launchOf(slot: number, service: ServiceRecord = aService()): Expectation {
  return {
    token: launchToken({
      serviceName: service.spec.serviceName,
      incarnation: service.createdAt,
      slot,
      stateVersion: service.stateVersion,
    }),
    slot,
    generation: service.generation,
    taskDefinition: service.spec.taskDefinition,
    createdAt: now,
    deployment: service.deployment.id,
  };
}

/**
 * What a plan decides (actions and counts), without its narrative (conditions and messages) and the
 * deployment's progress, which have cases of their own below.
 */
type Decisions = Omit<Plan, 'messages' | 'status'> & {
  status: Omit<Plan['status'], 'conditions' | 'deployment'>;
};

function decisionsOf(p: Plan): Decisions {
  const { messages: _messages, status, ...rest } = p;
  const { conditions: _conditions, deployment: _deployment, ...counts } = status;
  return { ...rest, status: counts };
}

/** A whole plan's decisions: empty unless the case says otherwise. */
function expectedPlan(
  parts: Partial<Omit<Decisions, 'status'>> & { status: Partial<Decisions['status']> },
): Decisions {
  const { status, ...rest } = parts;
  return {
    launches: [],
    retries: [],
    forget: [],
    stops: [],
    stopRetries: [],
    forgetStops: [],
    registrations: [],
    deregistrations: [],
    leaving: [],
    forgetTargets: [],
    remove: false,
    ...rest,
    status: {
      phase: 'ACTIVE',
      desiredCount: 3,
      runningCount: 0,
      pendingCount: 0,
      observedGeneration: 1,
      steady: false,
      ...status,
    },
  };
}

const NEVER_APPEARED = 'the launched task never appeared (no event, not found by resync)';
const scaleIn = (to: number) => `Steward: scaling service web in to ${to}`;
const duplicate = (slot: number) => `Steward: slot ${slot} of service web is held by an older task`;
const unslotted = 'Steward: task has no slot in service web';
const deleting = 'Steward: service web is being deleted';
const stopOf = (t: TaskRecord, reason: string) => ({
  taskArn: t.taskArn,
  taskId: t.taskId,
  reason,
});

describe('launchToken', () => {
  it('is a stw- prefixed hex token of at most 64 characters (RunTask clientToken limit)', () => {
    const token = launchToken({
      serviceName: 'x'.repeat(255),
      incarnation: '2025-01-01T00:00:00.000Z',
      slot: 9999,
      stateVersion: 1e9,
    });
    expect(token).toMatch(/^stw-[0-9a-f]{40}$/);
    expect(token.length).toBeLessThanOrEqual(64);
  });

  it('is deterministic and differs by service, incarnation, slot and state version', () => {
    const base = {
      serviceName: 'web',
      incarnation: '2025-01-01T00:00:00.000Z',
      slot: 1,
      stateVersion: 7,
    };
    expect(launchToken(base)).toBe(launchToken({ ...base }));
    const variants = [
      launchToken(base),
      launchToken({ ...base, serviceName: 'api' }),
      // The same name created again: new tokens, or ECS would hand back the old incarnation's task.
      launchToken({ ...base, incarnation: '2025-01-02T00:00:00.000Z' }),
      launchToken({ ...base, slot: 2 }),
      launchToken({ ...base, stateVersion: 8 }),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });
});

describe('plan: table of cases', () => {
  const stopping = aTask({ slot: 1, desiredStatus: 'STOPPED', stoppingAt: '2025-01-01T00:00:00Z' });
  const noSlot = aTask({ name: 'no-slot', createdAt: '2025-01-01T00:02:00.000Z' });
  const dupOfSlot0 = aTask({ name: 'dup-0', slot: 0, createdAt: '2025-01-01T00:01:00.000Z' });
  const [t0, t1, t2, t3] = tasksInSlots(4) as [TaskRecord, TaskRecord, TaskRecord, TaskRecord];
  const young = anExpectation({ slot: 2, ageMs: EXPECTATION_RETRY_AFTER_MS - 1 });
  const lost = anExpectation({ slot: 2, ageMs: EXPECTATION_RETRY_AFTER_MS });
  const atTtl = anExpectation({ slot: 2, ageMs: EXPECTATION_TTL_MS });
  const expired = anExpectation({ slot: 2, ageMs: EXPECTATION_TTL_MS + 1 });
  const fulfilled = anExpectation({ slot: 2, ageMs: 60_000, token: 'tok-fulfilled' });
  const fulfilledTask = aTask({ slot: 2, lastStatus: 'PENDING', launchToken: 'tok-fulfilled' });
  const gone = 'ffffffffffffffffffffffffffffffff';

  type Case = [name: string, service: ServiceRecord, tasks: TaskRecord[], expected: Decisions];
  it.each<Case>([
    [
      'new service (desired 3, no tasks) launches slots 0, 1, 2',
      aService(),
      [],
      expectedPlan({
        launches: [launchOf(0), launchOf(1), launchOf(2)],
        status: { pendingCount: 3 },
      }),
    ],
    [
      'converged (3 RUNNING in slots 0..2) gives an empty plan',
      aService(),
      [t0, t1, t2],
      expectedPlan({ status: { runningCount: 3, steady: true } }),
    ],
    [
      'converged, tasks listed in another order',
      aService(),
      [t2, t0, t1],
      expectedPlan({ status: { runningCount: 3, steady: true } }),
    ],
    [
      'converged but still starting: nothing to do, not steady',
      aService(),
      tasksInSlots(3, 'PENDING'),
      expectedPlan({ status: { pendingCount: 3 } }),
    ],
    [
      'task in slot 1 STOPPED: launches exactly slot 1',
      aService(),
      [t0, { ...t1, lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }, t2],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'task in slot 1 DELETED: launches exactly slot 1',
      aService(),
      [t0, { ...t1, lastStatus: 'DELETED' }, t2],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'slot 1 stopping, maximumPercent 200: its replacement is launched now',
      aService(),
      [t0, stopping, t2],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 3, pendingCount: 1 } }),
    ],
    [
      'slot 1 stopping, maximumPercent 150 (bound 4): its replacement is launched now',
      aService({ maximumPercent: 150 }),
      [t0, stopping, t2],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 3, pendingCount: 1 } }),
    ],
    [
      'slot 1 stopped, maximumPercent 100: launched once it is STOPPED',
      aService({ maximumPercent: 100 }),
      [t0, { ...stopping, lastStatus: 'STOPPED' }, t2],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'scale in 3 -> 1: stops slots 2 then 1, launches nothing',
      aService({ desiredCount: 1 }),
      [t0, t1, t2],
      expectedPlan({
        stops: [stopOf(t2, scaleIn(1)), stopOf(t1, scaleIn(1))],
        status: { desiredCount: 1, runningCount: 3 },
      }),
    ],
    [
      'scale in 4 tasks -> 3: a duplicate slot is stopped before the highest slot',
      aService({ desiredCount: 3 }),
      [t0, t1, t2, dupOfSlot0],
      expectedPlan({ stops: [stopOf(dupOfSlot0, duplicate(0))], status: { runningCount: 4 } }),
    ],
    [
      'scale in 5 tasks -> 2: surplus (duplicate, then no slot; oldest first) before slot 2',
      aService({ desiredCount: 2 }),
      [noSlot, t0, t1, t2, dupOfSlot0],
      expectedPlan({
        stops: [
          stopOf(dupOfSlot0, duplicate(0)),
          stopOf(noSlot, unslotted),
          stopOf(t2, scaleIn(2)),
        ],
        status: { desiredCount: 2, runningCount: 5 },
      }),
    ],
    [
      'the oldest holder of a slot keeps it; the younger duplicate is surplus',
      aService({ desiredCount: 1 }),
      [{ ...dupOfSlot0, createdAt: '2024-12-31T23:00:00.000Z' }, t0],
      expectedPlan({
        stops: [stopOf(t0, duplicate(0))],
        status: { desiredCount: 1, runningCount: 2 },
      }),
    ],
    [
      'no stop while an expectation is outstanding (its task may be the one without a slot)',
      aService({
        desiredCount: 2,
        expectations: expectationsOf(anExpectation({ slot: 1, ageMs: 1_000 })),
      }),
      [t0, t2, noSlot],
      expectedPlan({ status: { desiredCount: 2, runningCount: 3, pendingCount: 1 } }),
    ],
    [
      'scaled in below an outstanding launch: forgotten, never issued again',
      aService({ desiredCount: 1, maximumPercent: 100, expectations: expectationsOf(lost) }),
      [t0],
      expectedPlan({
        forget: [{ token: lost.token, expired: false }],
        status: { desiredCount: 1, runningCount: 1, steady: true },
      }),
    ],
    [
      'a slot gap is filled first; the misplaced task waits (minimumHealthyPercent 100)',
      aService(),
      [t0, t2, t3],
      expectedPlan({ launches: [launchOf(1)], status: { runningCount: 3, pendingCount: 1 } }),
    ],
    [
      'once the gap is filled, the task beyond desired is stopped',
      aService(),
      [t0, t1, t2, t3],
      expectedPlan({ stops: [stopOf(t3, scaleIn(3))], status: { runningCount: 4 } }),
    ],
    [
      'no room to fill a gap (maximumPercent 100): a misplaced task makes room if minimumHealthyPercent allows',
      aService({ maximumPercent: 100, minimumHealthyPercent: 50 }),
      [t0, t2, t3],
      expectedPlan({ stops: [stopOf(t3, scaleIn(3))], status: { runningCount: 3 } }),
    ],
    [
      'no room to fill a gap and no task may stop (100/100): nothing to do, and not steady',
      aService({ maximumPercent: 100 }),
      [t0, t2, t3],
      expectedPlan({ status: { runningCount: 3 } }),
    ],
    [
      'a task stopping with no room for its replacement (maximumPercent 100): not steady',
      aService({ maximumPercent: 100 }),
      [t0, stopping, t2],
      expectedPlan({ status: { runningCount: 3 } }),
    ],
    [
      'expectation younger than the retry delay: pending, not retried',
      aService({ expectations: expectationsOf(young) }),
      [t0, t1],
      expectedPlan({ status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'expectation as old as the retry delay: retried with the same token',
      aService({ expectations: expectationsOf(lost) }),
      [t0, t1],
      expectedPlan({ retries: [lost], status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'a retry claimed 5 s ago by another reconcile: not issued again until the retry delay after it',
      aService({ expectations: expectationsOf({ ...lost, issuedAt: now - 5_000 }) }),
      [t0, t1],
      expectedPlan({ status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'expectation exactly at its TTL: still retried, not expired',
      aService({ expectations: expectationsOf(atTtl) }),
      [t0, t1],
      expectedPlan({ retries: [atTtl], status: { runningCount: 2, pendingCount: 1 } }),
    ],
    [
      'expectation past its TTL: forgotten as expired, its slot launched with a new token',
      aService({ expectations: expectationsOf(expired) }),
      [t0, t1],
      expectedPlan({
        forget: [{ token: expired.token, expired: true }],
        // It counts as a failed launch for the restart policy.
        launchFailures: [{ at: now, reason: NEVER_APPEARED, retryable: true }],
        launches: [launchOf(2)],
        status: { runningCount: 2, pendingCount: 1 },
      }),
    ],
    [
      'expectation whose task is recorded: forgotten (not expired), counted once',
      aService({ expectations: expectationsOf(fulfilled) }),
      [t0, t1, fulfilledTask],
      expectedPlan({
        forget: [{ token: fulfilled.token, expired: false }],
        status: { runningCount: 2, pendingCount: 1 },
      }),
    ],
    [
      'expectation fulfilled by a task that has since stopped: forgotten, slot launched again',
      aService({ expectations: expectationsOf(fulfilled) }),
      [t0, t1, { ...fulfilledTask, lastStatus: 'STOPPED' }],
      expectedPlan({
        forget: [{ token: fulfilled.token, expired: false }],
        launches: [launchOf(2)],
        status: { runningCount: 2, pendingCount: 1 },
      }),
    ],
    [
      'pendingStops: done ones forgotten; a live one frees its slot for a replacement',
      aService({
        pendingStops: {
          [t1.taskId]: now - 1_000,
          [gone]: now - 60_000,
          [t2.taskId]: now - 30_000,
        },
      }),
      [t0, t1, { ...t2, lastStatus: 'STOPPED' }],
      expectedPlan({
        launches: [launchOf(1), launchOf(2)],
        forgetStops: [t2.taskId, gone].sort(),
        status: { runningCount: 2, pendingCount: 2 },
      }),
    ],
    [
      'deleting: stops every live task not already stopping, highest slot first',
      aService({ deleting: true }),
      [t0, stopping, t2, noSlot],
      expectedPlan({
        stops: [stopOf(noSlot, deleting), stopOf(t2, deleting), stopOf(t0, deleting)],
        status: { phase: 'DRAINING', desiredCount: 0, runningCount: 4 },
      }),
    ],
    [
      'deleting: tasks still stopping, so not removed yet',
      aService({ deleting: true, pendingStops: { [t0.taskId]: now - 1_000 } }),
      [
        { ...t0, lastStatus: 'DEACTIVATING' },
        { ...t1, desiredStatus: 'STOPPED' },
      ],
      expectedPlan({ status: { phase: 'DRAINING', desiredCount: 0, runningCount: 1 } }),
    ],
    [
      'deleting: an outstanding launch is forgotten, never issued; live tasks are stopped',
      aService({ deleting: true, expectations: expectationsOf(lost) }),
      [t0],
      expectedPlan({
        forget: [{ token: lost.token, expired: false }],
        stops: [stopOf(t0, deleting)],
        status: { phase: 'DRAINING', desiredCount: 0, runningCount: 1 },
      }),
    ],
    [
      'deleting: nothing live and nothing expected, so remove',
      aService({ deleting: true, expectations: expectationsOf(expired) }),
      [{ ...t0, lastStatus: 'STOPPED' }],
      expectedPlan({
        forget: [{ token: expired.token, expired: true }],
        launchFailures: [{ at: now, reason: NEVER_APPEARED, retryable: true }],
        remove: true,
        status: { phase: 'DRAINING', desiredCount: 0, steady: true },
      }),
    ],
    [
      'desired 0 (not deleting) and no tasks: steady, empty plan',
      aService({ desiredCount: 0 }),
      [],
      expectedPlan({ status: { desiredCount: 0, steady: true } }),
    ],
    [
      'the plan follows the record: generation, task definition and state version',
      aService({
        generation: 4,
        stateVersion: 42,
        spec: { serviceName: 'api', taskDefinition: 'api:9' },
      }),
      [tasksInSlots(1)[0] as TaskRecord],
      expectedPlan({
        launches: [1, 2].map((slot) => ({
          token: launchToken({
            serviceName: 'api',
            incarnation: '2025-01-01T00:00:00.000Z',
            slot,
            stateVersion: 42,
          }),
          slot,
          generation: 4,
          taskDefinition: 'api:9',
          createdAt: now,
          deployment: 1,
        })),
        status: { runningCount: 1, pendingCount: 2, observedGeneration: 4 },
      }),
    ],
  ])('%s', (_name, service, tasks, expected) => {
    const first = plan({ service, tasks, now });
    expect(decisionsOf(first)).toEqual(expected);
    // Pure: the same input (even a copy of it) gives the same plan, and the input is untouched.
    const copy = structuredClone({ service, tasks });
    expect(plan({ service: copy.service, tasks: copy.tasks, now })).toEqual(first);
    expect({ service, tasks }).toEqual(copy);
  });

  // Launch and stop decisions when the maximumPercent bound is reached. `steady` is left out on
  // purpose: see the report on a stopping task counted as steady.
  type BoundCase = [name: string, maximumPercent: number, launched: number[]];
  it.each<BoundCase>([
    ['200% (bound 6) launches the replacement', 200, [1]],
    ['134% (bound 4) launches the replacement', 134, [1]],
    ['125% (bound 3, ECS: "cannot start any") waits', 125, []],
    ['100% (bound 3) waits until the old task is STOPPED', 100, []],
  ])('slot 1 stopping (desiredStatus STOPPED, lastStatus RUNNING), %s', (_n, pct, launched) => {
    const p = plan({ service: aService({ maximumPercent: pct }), tasks: [t0, stopping, t2], now });
    expect(p.launches).toEqual(launched.map((slot) => launchOf(slot)));
    expect(p.stops).toEqual([]);
    expect(p.status).toMatchObject({ runningCount: 3, pendingCount: launched.length });
  });

  it('a task whose stop Steward requested (pendingStops, still RUNNING) is replaced only within the bound', () => {
    const service = aService({ maximumPercent: 100, pendingStops: { [t1.taskId]: now - 1_000 } });
    const p = plan({ service, tasks: [t0, t1, t2], now });
    expect(p.launches).toEqual([]);
    expect(p.stops).toEqual([]);
    expect(p.forgetStops).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property-based tests of DESIGN.md invariants 1 and 2 at the level of one plan.

const ALL_STATUSES = Object.values(TaskStatus);

type Generated = { service: ServiceRecord; tasks: TaskRecord[]; now: number };

const ageArb = fc.oneof(
  fc.integer({ min: 0, max: 2 * EXPECTATION_TTL_MS }),
  fc.constantFrom(
    0,
    EXPECTATION_RETRY_AFTER_MS - 1,
    EXPECTATION_RETRY_AFTER_MS,
    EXPECTATION_TTL_MS,
    EXPECTATION_TTL_MS + 1,
  ),
);

/** Random service and task states, including ones a buggy store or lost events could produce. */
const inputArb: fc.Arbitrary<Generated> = fc
  .record({
    desired: fc.integer({ min: 0, max: 20 }),
    maximumPercent: fc.integer({ min: 100, max: 200 }),
    stateVersion: fc.nat({ max: 1_000_000 }),
    generation: fc.integer({ min: 1, max: 50 }),
    deleting: fc.boolean(),
  })
  .chain((base) => {
    const slotArb = fc.integer({ min: 0, max: base.desired + 2 });
    return fc.record({
      base: fc.constant(base),
      expectations: fc.array(fc.record({ slot: slotArb, ageMs: ageArb }), { maxLength: 6 }),
      tasks: fc.array(
        fc.record({
          slot: fc.option(slotArb, { nil: undefined, freq: 6 }),
          lastStatus: fc.constantFrom(...ALL_STATUSES),
          desiredStatus: fc.constantFrom('RUNNING', 'STOPPED'),
          ageSec: fc.integer({ min: 0, max: 5 }),
          pendingStop: fc.boolean(),
          fulfils: fc.option(fc.nat({ max: 7 }), { nil: undefined, freq: 3 }),
        }),
        { maxLength: base.desired + 5 },
      ),
      goneStops: fc.array(fc.nat({ max: 99 }), { maxLength: 3 }),
    });
  })
  .map(({ base, expectations, tasks, goneStops }) => {
    const exps = expectations.map((e, i) =>
      anExpectation({ slot: e.slot, ageMs: e.ageMs, token: `tok-${i}` }),
    );
    const taskRecords = tasks.map((t, i) =>
      aTask({
        taskId: `task-${String(i).padStart(3, '0')}`,
        lastStatus: t.lastStatus,
        desiredStatus: t.desiredStatus,
        createdAt: new Date(now - t.ageSec * 1000).toISOString(),
        ...(t.slot === undefined ? {} : { slot: t.slot }),
        ...(t.fulfils === undefined ? {} : { launchToken: `tok-${t.fulfils}` }),
      }),
    );
    const pendingStops: Record<string, number> = {};
    tasks.forEach((t, i) => {
      if (t.pendingStop) pendingStops[`task-${String(i).padStart(3, '0')}`] = now - 1_000;
    });
    for (const g of goneStops) pendingStops[`gone-${g}`] = now - 2_000;
    return {
      service: aService({
        desiredCount: base.desired,
        maximumPercent: base.maximumPercent,
        stateVersion: base.stateVersion,
        generation: base.generation,
        deleting: base.deleting,
        expectations: expectationsOf(...exps),
        pendingStops,
      }),
      tasks: taskRecords,
      now,
    };
  });

/** What the invariants are stated in, computed here from the input alone (not from plan.ts). */
function factsOf({ service, tasks, now: at }: Generated) {
  const desired = service.deleting ? 0 : service.spec.desiredCount;
  const maxLive = Math.floor((desired * service.spec.deploymentConfiguration.maximumPercent) / 100);
  const recorded = new Set(tasks.map((t) => t.launchToken).filter((t) => t !== undefined));
  const minRunning = Math.ceil(
    (desired * service.spec.deploymentConfiguration.minimumHealthyPercent) / 100,
  );
  // Outstanding: not yet seen, not expired, and still wanted (its slot is below desired).
  const outstanding = Object.values(service.expectations).filter(
    (e) => !recorded.has(e.token) && at - e.createdAt <= EXPECTATION_TTL_MS && e.slot < desired,
  );
  const live = tasks.filter((t) => t.lastStatus !== 'STOPPED' && t.lastStatus !== 'DELETED');
  const keeping = live.filter(
    (t) => t.desiredStatus !== 'STOPPED' && service.pendingStops[t.taskId] === undefined,
  );
  // Slots below desired held by a kept task (the oldest holder keeps a duplicated slot).
  const held = new Set(
    keeping.flatMap((t) => (t.slot !== undefined && t.slot < desired ? [t.slot] : [])),
  );
  return { desired, maxLive, minRunning, outstanding, live, keeping, held };
}

const RUNS = { numRuns: 600 };

describe('plan: properties', () => {
  it('1. never launches past floor(desired × maximumPercent / 100) live tasks, nor past desired', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { desired, maxLive, outstanding, live, held } = factsOf(input);
        const p = plan(input);
        const current = live.length + outstanding.length;
        expect(current + p.launches.length).toBeLessThanOrEqual(Math.max(current, maxLive));
        // Each slot below desired is filled at most once: by a task, an outstanding launch or a new one.
        const outstandingSlots = new Set(outstanding.map((e) => e.slot));
        const filled = new Set([...held, ...outstandingSlots]).size;
        expect(filled + p.launches.length).toBeLessThanOrEqual(desired);
      }),
      RUNS,
    );
  });

  it('2. no slot is planned twice', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { desired, outstanding, keeping } = factsOf(input);
        const slots = plan(input).launches.map((e) => e.slot);
        expect(new Set(slots).size).toBe(slots.length);
        const taken = new Set([
          ...keeping.flatMap((t) => (t.slot === undefined ? [] : [t.slot])),
          ...outstanding.map((e) => e.slot),
        ]);
        for (const slot of slots) {
          expect(taken.has(slot)).toBe(false);
          expect(slot).toBeLessThan(desired);
        }
      }),
      RUNS,
    );
  });

  it('3. is deterministic: the same input gives a deep-equal plan, whatever the task order', () => {
    fc.assert(
      fc.property(inputArb, fc.boolean(), (input, reverse) => {
        const copy = structuredClone(input);
        if (reverse) copy.tasks.reverse();
        expect(plan(copy)).toEqual(plan(input));
      }),
      RUNS,
    );
  });

  it('4. stops only misplaced live tasks, each once, never with a launch in flight, never below the healthy floor', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { desired, minRunning, outstanding, keeping } = factsOf(input);
        const p = plan(input);
        const ids = p.stops.map((s) => s.taskId);
        expect(new Set(ids).size).toBe(ids.length);
        const keepingById = new Map(keeping.map((t) => [t.taskId, t]));
        for (const s of p.stops) expect(keepingById.get(s.taskId)?.taskArn).toBe(s.taskArn);
        if (outstanding.length > 0) expect(p.stops).toEqual([]);
        // Never the task that rightfully holds a slot below desired (the oldest holder).
        const rightful = new Map<number, TaskRecord>();
        for (const t of [...keeping].sort((a, b) =>
          (a.createdAt ?? '') < (b.createdAt ?? '')
            ? -1
            : (a.createdAt ?? '') > (b.createdAt ?? '')
              ? 1
              : a.taskId < b.taskId
                ? -1
                : 1,
        )) {
          if (t.slot !== undefined && t.slot < desired && !rightful.has(t.slot))
            rightful.set(t.slot, t);
        }
        const rightfulIds = new Set([...rightful.values()].map((t) => t.taskId));
        for (const s of p.stops) expect(rightfulIds.has(s.taskId)).toBe(false);
        // RUNNING tasks are only stopped while at least the minimum healthy count keeps running.
        const running = keeping.filter((t) => t.lastStatus === 'RUNNING').length;
        const runningStopped = p.stops.filter(
          (s) => keepingById.get(s.taskId)?.lastStatus === 'RUNNING',
        ).length;
        if (runningStopped > 0) expect(running - runningStopped).toBeGreaterThanOrEqual(minRunning);
      }),
      RUNS,
    );
  });

  it('5. a converged service gives an empty plan and is steady', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 100, max: 200 }),
        fc.nat({ max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (desired, maximumPercent, stateVersion, seed) => {
          const tasks = tasksInSlots(desired).map((t, i) => ({
            ...t,
            createdAt: new Date(now - ((i * 7919 + seed) % 3600) * 1000).toISOString(),
          }));
          // Any order: rotate by the seed.
          const k = desired === 0 ? 0 : seed % desired;
          const rotated = [...tasks.slice(k), ...tasks.slice(0, k)];
          const service = aService({ desiredCount: desired, maximumPercent, stateVersion });
          expect(decisionsOf(plan({ service, tasks: rotated, now }))).toEqual(
            expectedPlan({
              status: { desiredCount: desired, runningCount: desired, steady: true },
            }),
          );
        },
      ),
      RUNS,
    );
  });

  it('every expectation is either forgotten or still outstanding; only outstanding ones are retried', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { outstanding } = factsOf(input);
        const p = plan(input);
        const forgotten = new Set(p.forget.map((f) => f.token));
        const kept = new Set(outstanding.map((e) => e.token));
        for (const token of Object.keys(input.service.expectations)) {
          expect(forgotten.has(token) !== kept.has(token)).toBe(true);
        }
        for (const r of p.retries) {
          expect(kept.has(r.token)).toBe(true);
          expect(now - r.createdAt).toBeGreaterThanOrEqual(EXPECTATION_RETRY_AFTER_MS);
        }
      }),
      RUNS,
    );
  });

  it('counts: status matches the tasks and expectations it was given', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { desired, outstanding, live } = factsOf(input);
        const p = plan(input);
        const starting = live.filter((t) =>
          ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus),
        ).length;
        expect(p.status).toEqual({
          phase: input.service.deleting ? 'DRAINING' : 'ACTIVE',
          desiredCount: desired,
          runningCount: live.filter((t) => t.lastStatus === 'RUNNING').length,
          pendingCount: starting + outstanding.length + p.launches.length,
          observedGeneration: input.service.generation,
          steady: p.status.steady,
          conditions: p.status.conditions,
          // Every generated task and expectation belongs to the current deployment.
          deployment: {
            ...input.service.deployment,
            rolloutState: p.status.deployment?.rolloutState,
            runningCount: live.filter((t) => t.lastStatus === 'RUNNING').length,
            pendingCount: starting + outstanding.length + p.launches.length,
            outdatedCount: 0,
          },
        });
        expect(p.remove).toBe(
          input.service.deleting && live.length === 0 && outstanding.length === 0,
        );
        const liveIds = new Set(live.map((t) => t.taskId));
        expect(p.forgetStops).toEqual(
          Object.keys(input.service.pendingStops)
            .filter((id) => !liveIds.has(id))
            .sort(),
        );
      }),
      RUNS,
    );
  });
});

describe('plan: one claim stays within DynamoDB limits', () => {
  const entries = (p: Plan) =>
    p.launches.length + p.retries.length + p.stops.length + p.forget.length + p.forgetStops.length;

  it('a new service of 500 launches at most MAX_CLAIM_ENTRIES now; the next reconcile does the rest', () => {
    const p = plan({ service: aService({ desiredCount: 500 }), tasks: [], now });
    expect(p.launches).toHaveLength(MAX_CLAIM_ENTRIES);
    expect(p.launches.map((l) => l.slot)).toEqual([...Array(MAX_CLAIM_ENTRIES).keys()]);
  });

  it('scaling 300 tasks in to 0 stops at most MAX_CLAIM_ENTRIES at once', () => {
    const p = plan({ service: aService({ desiredCount: 0 }), tasks: tasksInSlots(300), now });
    expect(p.stops).toHaveLength(MAX_CLAIM_ENTRIES);
    expect(entries(p)).toBe(MAX_CLAIM_ENTRIES);
  });

  it('never holds more than MAX_OUTSTANDING_LAUNCHES launches in flight', () => {
    const expectations = Object.fromEntries(
      [...Array(MAX_OUTSTANDING_LAUNCHES - 10).keys()].map((slot) => {
        const e = anExpectation({ slot, ageMs: 1_000, token: `tok-${slot}` });
        return [e.token, e];
      }),
    );
    const p = plan({ service: aService({ desiredCount: 2000, expectations }), tasks: [], now });
    expect(p.launches).toHaveLength(10);
  });

  it('any input: the entries of one claim never exceed the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        (desired, running) => {
          const p = plan({
            service: aService({ desiredCount: desired }),
            tasks: tasksInSlots(running),
            now,
          });
          expect(entries(p)).toBeLessThanOrEqual(MAX_CLAIM_ENTRIES);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('plan: stops that ECS never acknowledged', () => {
  const [t0, t1] = tasksInSlots(2) as [TaskRecord, TaskRecord];

  it('are issued again after the retry delay, as a claim (so concurrent reconciles issue them once)', () => {
    const service = aService({
      desiredCount: 1,
      pendingStops: { [t1.taskId]: now - EXPECTATION_RETRY_AFTER_MS },
    });
    const p = plan({ service, tasks: [t0, t1], now });
    expect(p.stopRetries.map((s) => s.taskId)).toEqual([t1.taskId]);
    expect(needsClaim(p)).toBe(true);
  });

  it('are left alone while young, or once ECS shows the task stopping', () => {
    const young = aService({ desiredCount: 1, pendingStops: { [t1.taskId]: now - 5_000 } });
    expect(plan({ service: young, tasks: [t0, t1], now }).stopRetries).toEqual([]);
    const old = aService({ desiredCount: 1, pendingStops: { [t1.taskId]: now - 60_000 } });
    const stopping = { ...t1, desiredStatus: 'STOPPED' };
    expect(plan({ service: old, tasks: [t0, stopping], now }).stopRetries).toEqual([]);
  });
});

describe('plan: deployments replace tasks of older deployments within the bounds', () => {
  /** Service `web` whose current deployment is 2; `tasks` of deployment 1 are outdated. */
  const deployed = (o: { desired: number; min: number; max: number }) =>
    aService({
      desiredCount: o.desired,
      minimumHealthyPercent: o.min,
      maximumPercent: o.max,
      generation: 2,
      deployment: {
        id: 2,
        startedAt: '2025-01-01T00:00:00.000Z',
        reason: 'taskDefinition changed',
      },
    });
  const old = (slot: number, lastStatus: TaskStatus = 'RUNNING') =>
    aTask({ name: `old-${slot}`, slot, deployment: 1, lastStatus });
  const fresh = (slot: number, lastStatus: TaskStatus = 'RUNNING') =>
    aTask({ name: `new-${slot}`, slot, deployment: 2, lastStatus });
  const replaced = 'Steward: replaced by deployment 2 of service web (taskDefinition changed)';

  it('surges first at 100/200: launches a replacement for every slot, stops nothing yet', () => {
    const service = deployed({ desired: 2, min: 100, max: 200 });
    const p = plan({ service, tasks: [old(0), old(1)], now });
    expect(p.launches.map((e) => [e.slot, e.deployment])).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(p.stops).toEqual([]);
    expect(p.status.steady).toBe(false);
    expect(p.status.deployment).toMatchObject({
      id: 2,
      rolloutState: 'IN_PROGRESS',
      outdatedCount: 2,
      pendingCount: 2,
    });
  });

  it('keeps an old task while its replacement is pending, then stops it once the new one runs', () => {
    const service = deployed({ desired: 2, min: 100, max: 200 });
    const pending = plan({
      service,
      tasks: [old(0), old(1), fresh(0, 'PENDING'), fresh(1, 'PENDING')],
      now,
    });
    expect(pending.launches).toEqual([]);
    expect(pending.stops).toEqual([]);
    const running = plan({ service, tasks: [old(0), old(1), fresh(0), fresh(1)], now });
    expect(running.launches).toEqual([]);
    expect(running.stops).toEqual([stopOf(old(1), replaced), stopOf(old(0), replaced)]);
  });

  it('stops first at 50/100 (no room to surge): never below the minimum healthy count', () => {
    const service = deployed({ desired: 4, min: 50, max: 100 });
    const p = plan({ service, tasks: [0, 1, 2, 3].map((s) => old(s)), now });
    expect(p.launches).toEqual([]);
    // 4 RUNNING, 2 must stay: the two highest slots go first.
    expect(p.stops).toEqual([stopOf(old(3), replaced), stopOf(old(2), replaced)]);
  });

  it('launches into a slot freed by a stopped old task', () => {
    const service = deployed({ desired: 2, min: 50, max: 100 });
    const gone = { ...old(1), lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' };
    const p = plan({ service, tasks: [old(0), gone], now });
    expect(p.launches.map((e) => [e.slot, e.deployment])).toEqual([[1, 2]]);
    expect(p.stops).toEqual([]);
  });

  it('completes once only current tasks run at the desired count, and says so once', () => {
    const service = deployed({ desired: 2, min: 100, max: 200 });
    const p = plan({ service, tasks: [fresh(0), fresh(1)], now });
    expect(p.status.deployment).toMatchObject({
      id: 2,
      rolloutState: 'COMPLETED',
      runningCount: 2,
    });
    expect(p.status.steady).toBe(true);
    expect(p.messages).toContain('(service web) (deployment 2) deployment completed.');
    const again = plan({
      service: { ...service, status: p.status },
      tasks: [fresh(0), fresh(1)],
      now,
    });
    expect(again.messages).toEqual([]);
    expect(again.status.deployment?.rolloutState).toBe('COMPLETED');
  });

  it('never exceeds maximumPercent nor goes below minimumHealthyPercent while rolling (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom([100, 200], [50, 100], [50, 150], [0, 100], [100, 125]),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        (desired, [min, max], current) => {
          const service = deployed({ desired, min: min as number, max: max as number });
          const tasks = Array.from({ length: desired }, (_, slot) =>
            current[slot] ? fresh(slot) : old(slot),
          );
          const p = plan({ service, tasks, now });
          const live = tasks.length + p.launches.length;
          expect(live).toBeLessThanOrEqual(Math.floor((desired * (max as number)) / 100));
          const runningAfter = tasks.length - p.stops.length;
          expect(runningAfter).toBeGreaterThanOrEqual(Math.ceil((desired * (min as number)) / 100));
          // Progress: something happens unless every task is current, or the bounds leave no room
          // at this count (then a Blocked condition says so).
          const room =
            Math.floor((desired * (max as number)) / 100) > desired ||
            Math.ceil((desired * (min as number)) / 100) < desired;
          if (current.slice(0, desired).some((c) => !c)) {
            if (room) expect(p.launches.length + p.stops.length).toBeGreaterThan(0);
            else expect(p.status.conditions.map((c) => c.type)).toContain('Blocked');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('plan: maximum task lifetime, pause and Spot fallback', () => {
  const HOUR = 3_600_000;

  it('replaces a task that has run longer than maxTaskLifetime, the new one first', () => {
    const service = aService({ desiredCount: 2, spec: { maxTaskLifetime: 3600 } });
    const aged = aTask({
      name: 'aged',
      slot: 0,
      startedAt: new Date(now - 2 * HOUR).toISOString(),
    });
    const young = aTask({
      name: 'young',
      slot: 1,
      startedAt: new Date(now - 0.5 * HOUR).toISOString(),
    });
    const p = plan({ service, tasks: [aged, young], now });
    expect(p.launches.map((e) => e.slot)).toEqual([0]);
    expect(p.stops).toEqual([]);
    // Once its replacement runs, the aged task is stopped with a reason that says why.
    const replacement = aTask({ name: 'repl', slot: 0, startedAt: new Date(now).toISOString() });
    const next = plan({ service, tasks: [aged, young, replacement], now });
    expect(next.stops).toEqual([
      stopOf(aged, 'Steward: task reached the maxTaskLifetime of service web (3600 s)'),
    ]);
  });

  it('paused: every task is stopped, desiredCount is kept, and nothing is launched', () => {
    const service = aService({ desiredCount: 3, spec: { paused: true } });
    const tasks = tasksInSlots(3);
    const p = plan({ service, tasks, now });
    expect(p.launches).toEqual([]);
    expect(p.stops.map((s) => s.reason)).toEqual(Array(3).fill('Steward: service web is paused'));
    expect(p.status.desiredCount).toBe(0);
    expect(service.spec.desiredCount).toBe(3);
  });

  const spot = {
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    spotFallback: { enabled: true, retrySpotAfterSeconds: 900 },
  };
  const noCapacity =
    'Capacity is unavailable at this time. Please try again later or in a different availability zone';

  it('launches on on-demand capacity after Spot refused a launch for capacity', () => {
    const service = aService({
      desiredCount: 1,
      spec: spot,
      launchFailures: [{ at: now - 60_000, reason: noCapacity, retryable: true, slot: 0 }],
    });
    const p = plan({ service, tasks: [], now });
    expect(p.launches.map((e) => [e.slot, e.fallback])).toEqual([[0, true]]);
  });

  it('launches on on-demand capacity after a Spot interruption', () => {
    const service = aService({ desiredCount: 1, spec: spot });
    const interrupted = aTask({
      name: 'spot',
      slot: 0,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'SpotInterruption',
      stoppingAt: new Date(now - 30_000).toISOString(),
    });
    const p = plan({ service, tasks: [interrupted], now });
    expect(p.launches.map((e) => [e.slot, e.fallback])).toEqual([[0, true]]);
  });

  it('goes back to Spot after retrySpotAfterSeconds: the fallback task is replaced by a Spot one', () => {
    const service = aService({
      desiredCount: 1,
      spec: spot,
      launchFailures: [{ at: now - 901_000, reason: noCapacity, retryable: true, slot: 0 }],
    });
    const standIn = aTask({ name: 'od', slot: 0, fallback: true });
    const p = plan({ service, tasks: [standIn], now });
    expect(p.launches.map((e) => [e.slot, e.fallback])).toEqual([[0, undefined]]);
    const spotTask = aTask({ name: 'spot-back', slot: 0 });
    const next = plan({ service, tasks: [standIn, spotTask], now });
    expect(next.stops).toEqual([
      stopOf(
        standIn,
        'Steward: replacing an on-demand fallback task of service web with Fargate Spot',
      ),
    ]);
  });

  it('without spotFallback, a capacity failure changes nothing about where tasks launch', () => {
    const service = aService({
      desiredCount: 1,
      spec: { capacityProviderStrategy: spot.capacityProviderStrategy },
      launchFailures: [{ at: now - 60_000, reason: noCapacity, retryable: true, slot: 0 }],
    });
    expect(plan({ service, tasks: [], now }).launches.map((e) => e.fallback)).toEqual([undefined]);
  });
});

describe('plan: a launch of an older deployment whose claimer died', () => {
  it('is forgotten, not issued again with its token and the new launch fields', () => {
    const service = aService({
      desiredCount: 1,
      generation: 3,
      deployment: {
        id: 3,
        startedAt: '2025-01-01T00:00:00.000Z',
        reason: 'taskDefinition changed',
      },
      expectations: expectationsOf({
        ...anExpectation({ slot: 0, ageMs: EXPECTATION_RETRY_AFTER_MS + 1 }),
        deployment: 1,
      }),
    });
    const p = plan({ service, tasks: [], now });
    expect(p.retries).toEqual([]);
    expect(p.forget).toEqual([{ token: expect.any(String), expired: false }]);
  });
});

describe('plan: the deployment circuit breaker', () => {
  const failing = (n: number, deployment = 2) =>
    Array.from({ length: n }, (_, i) =>
      aTask({
        name: `fail-${deployment}-${i}`,
        slot: i % 2,
        deployment,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode: 'TaskFailedToStart',
        stoppedReason: 'CannotPullContainerError: pull access denied',
      }),
    );
  const running = (slot: number) => aTask({ name: `old-${slot}`, slot, deployment: 1 });
  const service = (breaker: { enable: boolean; rollback: boolean } | undefined) =>
    aService({
      desiredCount: 2,
      generation: 2,
      deployment: {
        id: 2,
        startedAt: '2024-12-31T23:00:00.000Z',
        reason: 'taskDefinition changed',
        previous: { id: 1, launch: { taskDefinition: 'web:3' } },
      },
      spec: {
        taskDefinition: 'web:4',
        deploymentConfiguration: {
          minimumHealthyPercent: 100,
          maximumPercent: 200,
          ...(breaker ? { deploymentCircuitBreaker: breaker } : {}),
        },
      },
    });

  it('trips at clamp(ceil(desired / 2), 3, 200) failed starts: FAILED, no more launches', () => {
    const below = plan({
      service: service({ enable: true, rollback: false }),
      tasks: [running(0), running(1), ...failing(2)],
      now,
    });
    expect(below.status.deployment?.rolloutState).toBe('IN_PROGRESS');
    expect(below.launches.length).toBeGreaterThan(0);

    const at = plan({
      service: service({ enable: true, rollback: false }),
      tasks: [running(0), running(1), ...failing(3)],
      now,
    });
    expect(at.status.deployment).toMatchObject({ rolloutState: 'FAILED', failedTasks: 3 });
    expect(at.launches).toEqual([]);
    expect(at.rollback).toBeUndefined();
    expect(at.messages).toContain(
      '(service web) Deployment 2 failed: 3 tasks failed to start (circuit breaker threshold 3); last: CannotPullContainerError: pull access denied.',
    );
    // The old tasks keep running: nothing is stopped for a deployment that failed.
    expect(at.stops).toEqual([]);
  });

  it('asks for a rollback to the last completed deployment when rollback is on', () => {
    const p = plan({
      service: service({ enable: true, rollback: true }),
      tasks: [running(0), running(1), ...failing(3)],
      now,
    });
    expect(p.rollback).toEqual({ id: 1, launch: { taskDefinition: 'web:3' } });
  });

  it('stands down once a task of the deployment has run, and never trips when disabled', () => {
    const ran = aTask({
      name: 'ran',
      slot: 0,
      deployment: 2,
      startedAt: '2025-01-01T00:00:00.000Z',
    });
    const p = plan({
      service: service({ enable: true, rollback: true }),
      tasks: [running(1), ran, ...failing(5)],
      now,
    });
    expect(p.status.deployment?.rolloutState).not.toBe('FAILED');
    const off = plan({ service: service(undefined), tasks: [running(0), ...failing(9)], now });
    expect(off.status.deployment?.rolloutState).toBe('IN_PROGRESS');
  });

  it('does not count tasks Steward stopped itself, nor capacity refusals a retry may fix', () => {
    const stoppedByUs = Array.from({ length: 4 }, (_, i) =>
      aTask({
        name: `paused-${i}`,
        slot: i % 2,
        deployment: 2,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stopCode: 'UserInitiated',
        stoppedReason: 'Steward: service web is paused',
      }),
    );
    const capacity = {
      ...service({ enable: true, rollback: true }),
      launchFailures: [1, 2, 3, 4].map((i) => ({
        at: now - i * 1000,
        reason: 'Capacity is unavailable at this time.',
        retryable: true,
      })),
    };
    const p = plan({ service: capacity, tasks: [running(0), running(1), ...stoppedByUs], now });
    expect(p.status.deployment?.rolloutState).toBe('IN_PROGRESS');
    expect(p.rollback).toBeUndefined();
  });

  it('never trips a deployment that completed, and a deployment with nothing to run does not complete', () => {
    const completed = service({ enable: true, rollback: true });
    completed.status = {
      ...completed.status,
      deployment: {
        id: 2,
        rolloutState: 'COMPLETED',
        reason: 'taskDefinition changed',
        startedAt: '2024-12-31T23:00:00.000Z',
        runningCount: 2,
        pendingCount: 0,
        outdatedCount: 0,
      },
    };
    const later = plan({ service: completed, tasks: failing(5), now });
    expect(later.status.deployment?.rolloutState).toBe('COMPLETED');
    expect(later.rollback).toBeUndefined();

    const idle = plan({
      service: aService({ desiredCount: 3, spec: { paused: true } }),
      tasks: [],
      now,
    });
    expect(idle.status.deployment?.rolloutState).toBe('IN_PROGRESS');
  });

  it('counts launches RunTask refused since the deployment started, and stays FAILED', () => {
    const refused = {
      ...service({ enable: true, rollback: false }),
      launchFailures: [
        { at: now - 7_200_000, reason: 'before the deployment', retryable: false },
        ...[1, 2, 3].map((i) => ({
          at: now - i * 1000,
          reason: 'InvalidParameterException: no',
          retryable: false,
        })),
      ],
    };
    const p = plan({ service: refused, tasks: [running(0), running(1)], now });
    expect(p.status.deployment).toMatchObject({ rolloutState: 'FAILED', failedTasks: 3 });
    const later = plan({
      service: { ...refused, launchFailures: [], status: p.status },
      tasks: [running(0), running(1)],
      now,
    });
    expect(later.status.deployment?.rolloutState).toBe('FAILED');
    expect(later.launches).toEqual([]);
  });
});
