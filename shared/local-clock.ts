/**
 * The local stack's clock hook, kept in a module of its own (no imports, no side effects) so the
 * stack can install its clock before any handler module is loaded: when the offline stack runs the
 * handlers in its own process it puts its controllable clock here; in Lambda nothing is here.
 */
export const LOCAL_CLOCK = Symbol.for('steward.local.clock');

/** The local stack's clock if it installed one, else the system's. */
export function systemOrLocalNow(): number {
  const local = (globalThis as Record<symbol, unknown>)[LOCAL_CLOCK];
  return typeof local === 'function' ? (local as () => number)() : Date.now();
}
