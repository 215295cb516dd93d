/**
 * Event delivery faults for the local EventBridge: a transport for the event router that drops,
 * duplicates, delays or reorders events at configurable rates, as real at-least-once delivery may.
 * All rates default to 0: events then pass straight through, synchronously.
 */
import type { RoutedEvent } from './event-router';

/** Probabilities (0..1) of each fault per event, and how long a delayed event waits. */
export type FaultRates = {
  /** The event is lost. */
  drop: number;
  /** The event is delivered twice. */
  duplicate: number;
  /** The event is delivered `delayMs` later. */
  delay: number;
  delayMs: number;
  /** The event is held and delivered right after the next one (or after `maxHoldMs` if none comes). */
  reorder: number;
};

/** How many deliveries happened and how many of each fault was injected. */
export type FaultCounters = {
  delivered: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
};

/** The event router's transport hook: calls `deliver` (now, later, twice or never) for `event`. */
export type Transport = (deliver: () => void, event: RoutedEvent) => void;

/** A transport with adjustable fault rates and counters. */
export type FaultyTransport = {
  transport: Transport;
  /** Changes some rates; throws RangeError naming the field for a value out of range. */
  setRates(rates: Partial<FaultRates>): void;
  rates(): FaultRates;
  counters(): FaultCounters;
  resetCounters(): void;
  /** Cancels delayed and held deliveries (they are lost); used when the stack stops. */
  close(): void;
};

/** Options of makeFaultyTransport. */
export type FaultyTransportOptions = {
  /** Uniform [0, 1) source; a seeded PRNG makes tests reproducible. Default Math.random. */
  random?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** Delivers what survives the faults; default calls `deliver` at once. */
  next?: Transport;
  /** Longest a reordered event waits for a successor before it is delivered anyway, default 1000. */
  maxHoldMs?: number;
  /** Initial rates, default all 0. */
  rates?: Partial<FaultRates>;
};

/** No faults at all. */
export const NO_FAULTS: Readonly<FaultRates> = {
  drop: 0,
  duplicate: 0,
  delay: 0,
  delayMs: 0,
  reorder: 0,
};

const PROBABILITIES = ['drop', 'duplicate', 'delay', 'reorder'] as const;
const MAX_DELAY_MS = 3_600_000;

/** Checks a partial set of rates; returns the first problem as `{ field, message }`. */
export function checkFaultRates(
  rates: Record<string, unknown>,
): { field: string; message: string } | undefined {
  for (const [field, value] of Object.entries(rates)) {
    if (PROBABILITIES.includes(field as (typeof PROBABILITIES)[number])) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1)
        return { field, message: `${field} must be a number from 0 to 1` };
    } else if (field === 'delayMs') {
      if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        value < 0 ||
        value > MAX_DELAY_MS
      )
        return { field, message: `delayMs must be a whole number from 0 to ${MAX_DELAY_MS}` };
    } else {
      return {
        field,
        message: `${field} is not a fault rate (expected drop, duplicate, delay, delayMs, reorder)`,
      };
    }
  }
  return undefined;
}

/** Builds a transport that injects delivery faults at the current rates. */
export function makeFaultyTransport(options: FaultyTransportOptions = {}): FaultyTransport {
  const random = options.random ?? Math.random;
  const schedule =
    options.setTimeout ??
    ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      // Pending faults must not keep the process alive.
      t.unref();
      return t;
    });
  const cancel =
    options.clearTimeout ?? ((handle: unknown) => clearTimeout(handle as NodeJS.Timeout));
  const next: Transport = options.next ?? ((deliver) => deliver());
  const maxHoldMs = options.maxHoldMs ?? 1000;
  let rates: FaultRates = { ...NO_FAULTS };
  const counters: FaultCounters = {
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    delayed: 0,
    reordered: 0,
  };
  const pending = new Set<unknown>();
  let held: { deliver: () => void; event: RoutedEvent; timer: unknown } | undefined;
  // A rate of 0 never consumes a random number, so all-zero rates are a plain pass-through.
  const happens = (p: number) => p > 0 && random() < p;

  const later = (fn: () => void, ms: number) => {
    const handle = schedule(() => {
      pending.delete(handle);
      fn();
    }, ms);
    pending.add(handle);
  };

  const hand = (deliver: () => void, event: RoutedEvent) => {
    counters.delivered += 1;
    next(deliver, event);
  };

  const delayStage = (deliver: () => void, event: RoutedEvent) => {
    if (happens(rates.delay)) {
      counters.delayed += 1;
      later(() => hand(deliver, event), rates.delayMs);
      return;
    }
    hand(deliver, event);
  };

  const reorderStage = (deliver: () => void, event: RoutedEvent) => {
    if (held) {
      const before = held;
      held = undefined;
      cancel(before.timer);
      pending.delete(before.timer);
      counters.reordered += 1;
      delayStage(deliver, event);
      delayStage(before.deliver, before.event);
      return;
    }
    if (happens(rates.reorder)) {
      const entry = {
        deliver,
        event,
        timer: undefined as unknown,
      };
      const timer = schedule(() => {
        pending.delete(timer);
        if (held !== entry) return;
        held = undefined;
        delayStage(deliver, event);
      }, maxHoldMs);
      entry.timer = timer;
      pending.add(timer);
      held = entry;
      return;
    }
    delayStage(deliver, event);
  };

  const faulty: FaultyTransport = {
    transport(deliver, event) {
      if (happens(rates.drop)) {
        counters.dropped += 1;
        return;
      }
      const copies = happens(rates.duplicate) ? 2 : 1;
      if (copies === 2) counters.duplicated += 1;
      for (let i = 0; i < copies; i++) reorderStage(deliver, event);
    },
    setRates(changes) {
      const problem = checkFaultRates(changes as Record<string, unknown>);
      if (problem) throw new RangeError(problem.message);
      rates = { ...rates, ...changes };
    },
    rates: () => ({ ...rates }),
    counters: () => ({ ...counters }),
    resetCounters() {
      for (const key of Object.keys(counters) as (keyof FaultCounters)[]) counters[key] = 0;
    },
    close() {
      for (const handle of pending) cancel(handle);
      pending.clear();
      held = undefined;
    },
  };
  if (options.rates) faulty.setRates(options.rates);
  return faulty;
}
