/**
 * Environment settings shared by `npm start` and `npm run emulator`. A bad value ends the process
 * with exit code 2 and a message naming the variable, before anything starts.
 */
import { type RateLimitOptions, resolveRateLimits } from './ecs/rate-limits';

/** `1`/`true`: AWS's ECS rate limits; empty/`0`/`false`: none; a JSON object overrides some buckets. */
export function rateLimitsFromEnv(name: string): RateLimitOptions {
  const value = process.env[name]?.trim() ?? '';
  if (value === '' || value === '0' || value.toLowerCase() === 'false') return false;
  if (value === '1' || value.toLowerCase() === 'true') return true;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    // Checks bucket names and numbers now, so a typo fails at start rather than silently.
    resolveRateLimits(parsed as RateLimitOptions);
    return parsed as RateLimitOptions;
  } catch (error) {
    console.error(`${name} must be 1, 0 or a JSON object of buckets: ${String(error)}`);
    process.exit(2);
  }
}

/** STEWARD_TIME_SCALE: how many times faster emulated time runs (default 1). */
export function timeScaleFromEnv(): number {
  const timeScale = Number(process.env.STEWARD_TIME_SCALE ?? '1');
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    console.error(
      `STEWARD_TIME_SCALE must be a positive number, got '${process.env.STEWARD_TIME_SCALE}'`,
    );
    process.exit(2);
  }
  return timeScale;
}
