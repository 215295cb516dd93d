/**
 * The tick's scaling pass: every service with scaling policies is evaluated once a minute. Metrics of
 * all services are read in one batch (the adapter packs up to 500 queries a call); each decision is
 * written with the generation it was made on, so a spec change made meanwhile (a manual scale, an
 * update) wins and the next tick decides again on the new spec.
 */
import type { ServiceRecord } from '../core/model';
import {
  evaluateScaling,
  METRIC_PERIOD_SECONDS,
  METRIC_WINDOW_SECONDS,
  metricRequestsOf,
} from '../core/scaling';
import type { MetricRequest, Metrics } from '../ports/metrics';
import type { ServiceStore } from '../ports/service-store';

export type ScalingDeps = { store: ServiceStore; metrics: Metrics; clock: () => number };

export type ScalingResult = {
  evaluated: number;
  scaled: number;
  /** Services whose metrics could not be read this tick (no decision made for them). */
  errors: { serviceName?: string; message: string }[];
};

/** A task definition reference's family: `web`, `web:3` or its ARN. */
export function familyOf(taskDefinition: string): string {
  const name = taskDefinition.slice(taskDefinition.lastIndexOf('/') + 1);
  return name.split(':')[0] as string;
}

/** Evaluates the scaling policies of `services` and writes what they decide. */
export async function scaleServices(
  deps: ScalingDeps,
  services: ServiceRecord[],
): Promise<ScalingResult> {
  const result: ScalingResult = { evaluated: 0, scaled: 0, errors: [] };
  const scalable = services.filter((s) => !s.deleting && (s.spec.scalingPolicies?.length ?? 0) > 0);
  if (scalable.length === 0) return result;
  const now = deps.clock();

  // One key space for all services: `<service>/<policy>` (service names have no slash).
  const requests: MetricRequest[] = scalable.flatMap((s) =>
    metricRequestsOf({
      cluster: s.spec.cluster,
      taskDefinitionFamily: familyOf(s.spec.taskDefinition),
      policies: s.spec.scalingPolicies ?? [],
    }).map((r) => ({ ...r, key: `${s.spec.serviceName}/${r.key}` })),
  );
  let values = new Map<string, number | undefined>();
  if (requests.length > 0) {
    try {
      values = await deps.metrics.latest({
        requests,
        now,
        periodSeconds: METRIC_PERIOD_SECONDS,
        windowSeconds: METRIC_WINDOW_SECONDS,
      });
    } catch (error) {
      // No metrics this tick: dynamic policies see no data (no action); schedules still run.
      result.errors.push({ message: `metrics could not be read: ${(error as Error).message}` });
    }
  }

  for (const service of scalable) {
    const { spec } = service;
    const prefix = `${spec.serviceName}/`;
    const metrics = new Map<string, number | undefined>();
    for (const [key, value] of values) {
      if (key.startsWith(prefix)) metrics.set(key.slice(prefix.length), value);
    }
    try {
      const decision = evaluateScaling({
        serviceName: spec.serviceName,
        policies: spec.scalingPolicies ?? [],
        capacity: {
          desiredCount: spec.desiredCount,
          minCapacity: spec.minCapacity ?? 0,
          maxCapacity: spec.maxCapacity ?? spec.desiredCount,
        },
        runningCount: service.status.runningCount,
        state: service.scaling,
        metrics,
        now,
        deploymentInProgress: service.status.deployment?.rolloutState === 'IN_PROGRESS',
        paused: spec.paused === true,
        createdAt: Date.parse(service.createdAt),
      });
      result.evaluated += 1;
      const at = new Date(now).toISOString();
      if (decision.changed) {
        const written = await deps.store.applyScaling({
          serviceName: spec.serviceName,
          expectedGeneration: service.generation,
          desiredCount: decision.desiredCount,
          minCapacity: decision.minCapacity,
          maxCapacity: decision.maxCapacity,
          scaling: decision.state,
        });
        // Lost to a spec write made since the read: that one stands; the next tick decides anew.
        if (!written.ok) continue;
        result.scaled += 1;
      } else {
        await deps.store.saveScalingState({
          serviceName: spec.serviceName,
          scaling: decision.state,
        });
      }
      if (decision.events.length > 0) {
        await deps.store.appendEvents({
          serviceName: spec.serviceName,
          messages: decision.events.map((e) => `(service ${spec.serviceName}) ${e}`),
          now: at,
        });
      }
    } catch (error) {
      result.errors.push({ serviceName: spec.serviceName, message: (error as Error).message });
    }
  }
  return result;
}
