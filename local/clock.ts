/**
 * The local stack's clock: real time plus an offset that tests and users move forward through the
 * control API (`/_steward/clock`), so a scheduled action due at 09:00 in Europe/Berlin can be reached
 * without waiting. The emulator, the local CloudWatch and the handlers (through wiring's
 * LOCAL_CLOCK hook) all read it, so tasks, metrics and decisions share one "now".
 * Timers (lifecycle steps, the schedule) keep running in real time; only "now" moves.
 */
import { LOCAL_CLOCK } from '../shared/local-clock';

export type StackClock = {
  now(): number;
  /**
   * Moves to `ms` (epoch) and returns it; never backwards: time that went back would undo
   * cooldowns and fires.
   */
  set(ms: number): number;
  /** Moves forward by `ms` and returns the time moved to. */
  advance(ms: number): number;
};

export function makeStackClock(
  startAt?: number,
  /** Told the new offset from real time after every move (the stack keeps it with its data). */
  onMove?: (offsetMs: number) => void,
): StackClock {
  let offset = startAt === undefined ? 0 : startAt - Date.now();
  const now = () => Date.now() + offset;
  const clock: StackClock = {
    now,
    set(ms) {
      if (!Number.isFinite(ms)) throw new RangeError('the clock needs a time');
      const current = now();
      if (ms < current) {
        throw new RangeError(
          `the clock only moves forward (it is ${new Date(current).toISOString()})`,
        );
      }
      offset += ms - current;
      onMove?.(offset);
      return ms;
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
      const moved = now() + ms;
      offset += ms;
      onMove?.(offset);
      return moved;
    },
  };
  return clock;
}

/** Makes the handlers of this process read `clock` (wiring's LOCAL_CLOCK hook). */
export function installClock(clock: StackClock): void {
  (globalThis as Record<symbol, unknown>)[LOCAL_CLOCK] = clock.now;
}
