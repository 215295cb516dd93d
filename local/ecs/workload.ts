import { clientError, type EcsApiError } from './errors';
import type { ContainerWorkload } from './model';

// Simulated workloads are declared as docker labels in the task definition, so whoever reads the
// definition (or registers it with the AWS CLI) sees how its containers will behave in the emulator.

/** Prefix of the docker labels the emulator interprets. */
export const WORKLOAD_LABEL_PREFIX = 'steward.emulator/';

/** Docker labels that declare a container's simulated behaviour. */
export const WorkloadLabel = {
  ExitAfterMs: 'steward.emulator/exit-after-ms',
  ExitCode: 'steward.emulator/exit-code',
  FailToStart: 'steward.emulator/fail-to-start',
} as const;
export type WorkloadLabel = (typeof WorkloadLabel)[keyof typeof WorkloadLabel];

const KNOWN: readonly string[] = Object.values(WorkloadLabel);
const DEFAULT_EXIT_CODE = 1;
// Docker exit statuses are one byte.
const MAX_EXIT_CODE = 255;

const invalidLabel = (o: { container: string; label: string; why: string }): EcsApiError =>
  clientError(`Invalid docker label ${o.label} on container '${o.container}': ${o.why}`);

/**
 * Reads the `steward.emulator/*` labels of one container definition. Returns undefined when the
 * container declares no simulated behaviour; throws ClientException naming the label otherwise.
 */
export const readWorkload = (o: {
  container: string;
  labels: Readonly<Record<string, unknown>> | undefined;
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
  if (exitAfterMs === undefined && failToStart === undefined) return undefined;
  return {
    ...(exitAfterMs === undefined ? {} : { exitAfterMs }),
    exitCode: exitCode ?? DEFAULT_EXIT_CODE,
    ...(failToStart === undefined ? {} : { failToStart }),
  };
};
