import { describe, expect, it } from '@jest/globals';
import { makeFaultyTransport } from '../../local/event-faults';
import type { RoutedEvent } from '../../local/event-router';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A manual clock: timers run only when advance() says so. */
function fakeTimers() {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    setTimeout: (fn: () => void, ms: number) => {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (handle: unknown) => {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      now += ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at);
        const first = due[0];
        if (!first) return;
        timers.delete(first[0]);
        first[1].fn();
      }
    },
    get pending() {
      return timers.size;
    },
  };
}

const event = (n: number): RoutedEvent => ({
  version: '0',
  id: `e${n}`,
  'detail-type': 'ECS Task State Change',
  source: 'aws.ecs',
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {},
});

/** Sends events 0..n-1 through the transport; returns the log of delivered event numbers. */
function send(transport: (deliver: () => void, e: RoutedEvent) => void, n: number, from = 0) {
  const log: number[] = [];
  for (let i = from; i < from + n; i++) transport(() => log.push(i), event(i));
  return log;
}

describe('makeFaultyTransport', () => {
  it('passes every event straight through, in order and synchronously, by default', () => {
    const random = () => {
      throw new Error('no randomness needed at rate 0');
    };
    const faults = makeFaultyTransport({ random });
    expect(faults.rates()).toEqual({ drop: 0, duplicate: 0, delay: 0, delayMs: 0, reorder: 0 });
    expect(send(faults.transport, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(faults.counters()).toEqual({
      delivered: 5,
      dropped: 0,
      duplicated: 0,
      delayed: 0,
      reordered: 0,
    });
  });

  it('drops every event at drop 1, and about half at drop 0.5', () => {
    const all = makeFaultyTransport({ random: seeded(1), rates: { drop: 1 } });
    expect(send(all.transport, 10)).toEqual([]);
    expect(all.counters()).toMatchObject({ delivered: 0, dropped: 10 });

    const half = makeFaultyTransport({ random: seeded(2), rates: { drop: 0.5 } });
    const got = send(half.transport, 1000);
    expect(got.length).toBeGreaterThan(430);
    expect(got.length).toBeLessThan(570);
    expect(half.counters().dropped + half.counters().delivered).toBe(1000);
  });

  it('delivers each event twice at duplicate 1', () => {
    const faults = makeFaultyTransport({ random: seeded(3), rates: { duplicate: 1 } });
    expect(send(faults.transport, 3)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(faults.counters()).toMatchObject({ delivered: 6, duplicated: 3 });
  });

  it('delays events by delayMs', () => {
    const clock = fakeTimers();
    const faults = makeFaultyTransport({
      random: seeded(4),
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      rates: { delay: 1, delayMs: 100 },
    });
    const log = send(faults.transport, 2);
    expect(log).toEqual([]);
    clock.advance(99);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual([0, 1]);
    expect(faults.counters()).toMatchObject({ delivered: 2, delayed: 2 });
  });

  it('holds a reordered event and delivers it right after the next one', () => {
    const clock = fakeTimers();
    // Random draws: 0.1 → hold event 0; event 1 releases it; 0.9 → event 2 passes.
    const draws = [0.1, 0.9];
    const faults = makeFaultyTransport({
      random: () => draws.shift() ?? 0.9,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      rates: { reorder: 0.5 },
    });
    const log = send(faults.transport, 3);
    expect(log).toEqual([1, 0, 2]);
    expect(faults.counters()).toMatchObject({ delivered: 3, reordered: 1 });
    expect(clock.pending).toBe(0);
  });

  it('delivers a held event anyway when no other comes within maxHoldMs', () => {
    const clock = fakeTimers();
    const faults = makeFaultyTransport({
      random: () => 0,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      maxHoldMs: 500,
      rates: { reorder: 1 },
    });
    const log = send(faults.transport, 1);
    expect(log).toEqual([]);
    clock.advance(500);
    expect(log).toEqual([0]);
    expect(faults.counters()).toMatchObject({ delivered: 1, reordered: 0 });
  });

  it('never loses an event to duplication, delay or reordering (only to drop)', () => {
    const clock = fakeTimers();
    const faults = makeFaultyTransport({
      random: seeded(5),
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      rates: { duplicate: 0.3, delay: 0.3, delayMs: 50, reorder: 0.3 },
    });
    const log = send(faults.transport, 200);
    clock.advance(10_000);
    expect(new Set(log)).toEqual(new Set(Array.from({ length: 200 }, (_, i) => i)));
    const c = faults.counters();
    expect(c.delivered).toBe(200 + c.duplicated);
    expect(log).toHaveLength(c.delivered);
    expect(c.duplicated).toBeGreaterThan(0);
    expect(c.delayed).toBeGreaterThan(0);
    expect(c.reordered).toBeGreaterThan(0);
    expect(log).not.toEqual([...log].sort((a, b) => a - b));
  });

  it('is reproducible with the same seed', () => {
    const run = () => {
      const faults = makeFaultyTransport({
        random: seeded(42),
        rates: { drop: 0.2, duplicate: 0.2 },
      });
      return { log: send(faults.transport, 50), counters: faults.counters() };
    };
    expect(run()).toEqual(run());
  });

  it('hands what survives to the next transport', () => {
    const seen: string[] = [];
    const faults = makeFaultyTransport({
      random: seeded(6),
      next: (deliver, e) => {
        seen.push(e.id);
        deliver();
      },
      rates: { duplicate: 1 },
    });
    send(faults.transport, 1);
    expect(seen).toEqual(['e0', 'e0']);
  });

  it('rejects rates out of range, naming the field, and keeps the old ones', () => {
    const faults = makeFaultyTransport();
    faults.setRates({ drop: 0.25 });
    expect(() => faults.setRates({ duplicate: 1.5 })).toThrow(/duplicate/);
    expect(() => faults.setRates({ delayMs: -1 })).toThrow(/delayMs/);
    expect(() => faults.setRates({ reorder: Number.NaN })).toThrow(/reorder/);
    expect(() => faults.setRates({ jitter: 1 } as never)).toThrow(/jitter/);
    expect(faults.rates()).toEqual({ drop: 0.25, duplicate: 0, delay: 0, delayMs: 0, reorder: 0 });
  });

  it('cancels pending deliveries on close, and counters can be reset', () => {
    const clock = fakeTimers();
    const faults = makeFaultyTransport({
      random: seeded(7),
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      rates: { delay: 1, delayMs: 10 },
    });
    const log = send(faults.transport, 3);
    faults.close();
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(log).toEqual([]);
    faults.resetCounters();
    expect(faults.counters()).toEqual({
      delivered: 0,
      dropped: 0,
      duplicated: 0,
      delayed: 0,
      reordered: 0,
    });
  });
});
