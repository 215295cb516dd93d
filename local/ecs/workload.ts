import { clientError, type EcsApiError } from './errors';
import type { ContainerWorkload, HealthStatus, TargetHealthStatus, TimelinePoint } from './model';

// Simulated workloads are declared as docker labels in the task definition, so whoever reads the
// definition (or registers it with the AWS CLI) sees how its containers will behave in the emulator.

/** Prefix of the docker labels the emulator interprets. */
export const WORKLOAD_LABEL_PREFIX = 'steward.emulator/';

/** Docker labels that declare a container's simulated behaviour. */
export const WorkloadLabel = {
  ExitAfterMs: 'steward.emulator/exit-after-ms',
  ExitCode: 'steward.emulator/exit-code',
  FailToStart: 'steward.emulator/fail-to-start',
  Health: 'steward.emulator/health',
  CpuPercent: 'steward.emulator/cpu-percent',
  MemoryPercent: 'steward.emulator/memory-percent',
  /** "true": the task registers with load balancer target groups, so it passes ACTIVATING/DEACTIVATING. */
  LoadBalanced: 'steward.emulator/load-balanced',
  /**
   * What the local ELBv2's health checks see on the container serving a target's port:
   * `healthy` (default), `unhealthy`, or a timeline like `healthy,unhealthy@60000`.
   */
  TargetHealth: 'steward.emulator/target-health',
} as const;
export type WorkloadLabel = (typeof WorkloadLabel)[keyof typeof WorkloadLabel];

const KNOWN: readonly string[] = Object.values(WorkloadLabel);
const DEFAULT_EXIT_CODE = 1;
// Docker exit statuses are one byte.
const MAX_EXIT_CODE = 255;

const HEALTH_STATUSES: readonly HealthStatus[] = ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'];
const TARGET_HEALTH_STATUSES: readonly TargetHealthStatus[] = ['healthy', 'unhealthy'];

const invalidLabel = (o: { container: string; label: string; why: string }): EcsApiError =>
  clientError(`Invalid docker label ${o.label} on container '${o.container}': ${o.why}`);

/**
 * When a bare status (no `@ms`) becomes known: after the check's startPeriod if it has one, else
 * after its first interval, else at once. ECS health check times are in seconds.
 */
const defaultHealthOffsetMs = (healthCheck: Record<string, unknown>): number => {
  const seconds = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
  return (seconds(healthCheck.startPeriod) ?? seconds(healthCheck.interval) ?? 0) * 1000;
};

/**
 * Parses a timeline label: comma-separated `VALUE` or `VALUE@ms` (ms after RUNNING, strictly
 * increasing). A bare value starts at `defaultAtMs`.
 */
const parseTimeline = <T>(o: {
  text: string;
  defaultAtMs: number;
  parseValue: (raw: string) => T | undefined;
  expected: string;
  fail: (why: string) => EcsApiError;
}): TimelinePoint<T>[] => {
  const points: TimelinePoint<T>[] = [];
  for (const part of o.text.split(',')) {
    const m = /^\s*([^@\s]+)\s*(?:@\s*(\d+)\s*)?$/.exec(part);
    const value = m?.[1] === undefined ? undefined : o.parseValue(m[1]);
    const atMs = m?.[2] === undefined ? o.defaultAtMs : Number(m[2]);
    if (!m || value === undefined || !Number.isSafeInteger(atMs)) {
      throw o.fail(
        `expected ${o.expected}, optionally as a timeline like 'A@0,B@30000'; got '${o.text}'.`,
      );
    }
    const previous = points[points.length - 1];
    if (previous && atMs <= previous.atMs) {
      throw o.fail(`the times of '${o.text}' must increase from one entry to the next.`);
    }
    points.push({ atMs, value });
  }
  return points;
};

const parsePercent = (raw: string): number | undefined => {
  const n = /^\d+(?:\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isFinite(n) && n <= 100 ? n : undefined;
};

const parseHealth = (raw: string): HealthStatus | undefined => {
  const upper = raw.toUpperCase();
  return (HEALTH_STATUSES as readonly string[]).includes(upper)
    ? (upper as HealthStatus)
    : undefined;
};

// Lower case, as ELB's target health states are spelled; any case is accepted, as for `health`.
const parseTargetHealth = (raw: string): TargetHealthStatus | undefined => {
  const lower = raw.toLowerCase();
  return (TARGET_HEALTH_STATUSES as readonly string[]).includes(lower)
    ? (lower as TargetHealthStatus)
    : undefined;
};

/** The value of a timeline `elapsedMs` after RUNNING, or `before` ahead of its first point. */
export const timelineValueAt = <T>(o: {
  timeline: readonly TimelinePoint<T>[];
  elapsedMs: number;
  before: T;
}): T => {
  let value = o.before;
  for (const point of o.timeline) {
    if (point.atMs > o.elapsedMs) break;
    value = point.value;
  }
  return value;
};

/**
 * A task's copy of a workload with every emulated time divided by `timeScale`, so the lifecycle
 * and views work on the emulator clock alone.
 */
export const scaleWorkload = (o: {
  workload: ContainerWorkload;
  scale: (emulatedMs: number) => number;
}): ContainerWorkload => {
  const { workload: w, scale } = o;
  const scaleTimeline = <T>(t: TimelinePoint<T>[] | undefined): TimelinePoint<T>[] | undefined =>
    t?.map((p) => ({ atMs: scale(p.atMs), value: p.value }));
  const health = scaleTimeline(w.health);
  const cpuPercent = scaleTimeline(w.cpuPercent);
  const memoryPercent = scaleTimeline(w.memoryPercent);
  const targetHealth = scaleTimeline(w.targetHealth);
  return {
    ...w,
    ...(w.exitAfterMs === undefined ? {} : { exitAfterMs: scale(w.exitAfterMs) }),
    ...(health === undefined ? {} : { health }),
    ...(cpuPercent === undefined ? {} : { cpuPercent }),
    ...(memoryPercent === undefined ? {} : { memoryPercent }),
    ...(targetHealth === undefined ? {} : { targetHealth }),
  };
};

/**
 * Reads the `steward.emulator/*` labels of one container definition. Returns undefined when the
 * container declares no simulated behaviour; throws ClientException naming the label otherwise.
 */
export const readWorkload = (o: {
  container: string;
  labels: Readonly<Record<string, unknown>> | undefined;
  /** The container definition's `healthCheck`, if it has one. */
  healthCheck?: Readonly<Record<string, unknown>> | undefined;
}): ContainerWorkload | undefined => {
  const labels = o.labels ?? {};
  for (const label of Object.keys(labels)) {
    // A typo in a label name would otherwise silently run a well-behaved container.
    if (label.startsWith(WORKLOAD_LABEL_PREFIX) && !KNOWN.includes(label)) {
      throw invalidLabel({
        container: o.container,
        label,
        why: `unknown emulator label; known: ${KNOWN.join(', ')}.`,
      });
    }
  }
  const text = (label: string): string | undefined => {
    const value = labels[label];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      throw invalidLabel({ container: o.container, label, why: 'the value must be a string.' });
    }
    return value;
  };
  const integer = (spec: { label: string; max?: number }): number | undefined => {
    const value = text(spec.label);
    if (value === undefined) return undefined;
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || (spec.max !== undefined && n > spec.max)) {
      const range =
        spec.max === undefined ? 'a whole number' : `a whole number from 0 to ${spec.max}`;
      throw invalidLabel({
        container: o.container,
        label: spec.label,
        why: `expected ${range}, got '${value}'.`,
      });
    }
    return n;
  };

  const exitAfterMs = integer({ label: WorkloadLabel.ExitAfterMs });
  const exitCode = integer({ label: WorkloadLabel.ExitCode, max: MAX_EXIT_CODE });
  const failToStart = text(WorkloadLabel.FailToStart);
  if (exitCode !== undefined && exitAfterMs === undefined) {
    throw invalidLabel({
      container: o.container,
      label: WorkloadLabel.ExitCode,
      why: `it only applies together with ${WorkloadLabel.ExitAfterMs}.`,
    });
  }
  if (failToStart !== undefined && failToStart.trim() === '') {
    throw invalidLabel({
      container: o.container,
      label: WorkloadLabel.FailToStart,
      why: 'the reason can not be blank.',
    });
  }
  const fail = (label: string) => (why: string) =>
    invalidLabel({ container: o.container, label, why });
  const healthText = text(WorkloadLabel.Health);
  if (healthText !== undefined && o.healthCheck === undefined) {
    throw invalidLabel({
      container: o.container,
      label: WorkloadLabel.Health,
      why: 'it only applies to a container with a healthCheck.',
    });
  }
  // A container with a health check and no timeline passes it, as a well-behaved one would.
  const health =
    o.healthCheck === undefined
      ? undefined
      : parseTimeline({
          text: healthText ?? 'HEALTHY',
          defaultAtMs: defaultHealthOffsetMs(o.healthCheck),
          parseValue: parseHealth,
          expected: HEALTH_STATUSES.join(', '),
          fail: fail(WorkloadLabel.Health),
        });
  const percent = (label: string): TimelinePoint<number>[] | undefined => {
    const value = text(label);
    return value === undefined
      ? undefined
      : parseTimeline({
          text: value,
          defaultAtMs: 0,
          parseValue: parsePercent,
          expected: 'a number from 0 to 100',
          fail: fail(label),
        });
  };
  const cpuPercent = percent(WorkloadLabel.CpuPercent);
  const memoryPercent = percent(WorkloadLabel.MemoryPercent);
  const loadBalancedText = text(WorkloadLabel.LoadBalanced);
  if (
    loadBalancedText !== undefined &&
    loadBalancedText !== 'true' &&
    loadBalancedText !== 'false'
  ) {
    throw invalidLabel({
      container: o.container,
      label: WorkloadLabel.LoadBalanced,
      why: `expected 'true' or 'false', got '${loadBalancedText}'.`,
    });
  }
  const loadBalanced = loadBalancedText === 'true';
  const targetHealthText = text(WorkloadLabel.TargetHealth);
  const targetHealth =
    targetHealthText === undefined
      ? undefined
      : parseTimeline({
          text: targetHealthText,
          defaultAtMs: 0,
          parseValue: parseTargetHealth,
          expected: TARGET_HEALTH_STATUSES.join(' or '),
          fail: fail(WorkloadLabel.TargetHealth),
        });
  if (
    exitAfterMs === undefined &&
    failToStart === undefined &&
    health === undefined &&
    cpuPercent === undefined &&
    memoryPercent === undefined &&
    !loadBalanced &&
    targetHealth === undefined
  ) {
    return undefined;
  }
  return {
    ...(exitAfterMs === undefined ? {} : { exitAfterMs }),
    exitCode: exitCode ?? DEFAULT_EXIT_CODE,
    ...(failToStart === undefined ? {} : { failToStart }),
    ...(health === undefined ? {} : { health }),
    ...(cpuPercent === undefined ? {} : { cpuPercent }),
    ...(memoryPercent === undefined ? {} : { memoryPercent }),
    ...(loadBalanced ? { loadBalanced } : {}),
    ...(targetHealth === undefined ? {} : { targetHealth }),
  };
};
