/**
 * The schedule (every minute): evaluate the scaling policies, then resync every cluster that has
 * services from ECS and reconcile every service that needs it. The safety net that repairs whatever
 * events were lost, and the clock of scheduled and metric-driven scaling.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { allServices, type ResyncDeps, type ResyncResult, resync } from '../../shared/app/resync';
import { type ScalingDeps, type ScalingResult, scaleServices } from '../../shared/app/scaling';
import { logger, MetricUnit, metrics } from '../../shared/observability';
import { wire, wireMetrics } from '../../shared/wiring';

/** The handler over explicit dependencies. */
export function makeHandler(deps: ResyncDeps & ScalingDeps) {
  return async (_event: ScheduledEvent): Promise<ResyncResult & { scaling: ScalingResult }> => {
    // Scaling first, so the resync's reconcile acts on what it decided in the same tick.
    const scaling = await scaleServices(deps, await allServices(deps.store));
    metrics.addMetric('ServicesScaled', MetricUnit.Count, scaling.scaled);
    if (scaling.errors.length > 0) logger.warn('Scaling finished with errors', { ...scaling });
    const result = { ...(await resync(deps)), scaling };
    metrics.addMetric('ServicesReconciled', MetricUnit.Count, result.reconciled);
    metrics.addMetric('TasksCorrected', MetricUnit.Count, result.corrected + result.vanished);
    metrics.addMetric('OrphansStopped', MetricUnit.Count, result.orphansStopped);
    metrics.addMetric('ResyncErrors', MetricUnit.Count, result.errors.length);
    if (result.errors.length > 0) logger.warn('Resync finished with errors', { ...result });
    else logger.info('Resync finished', { ...result });
    return result;
  };
}

const deps = { ...wire(), metrics: wireMetrics() };

export const handler = middy(makeHandler({ ...deps, orphanGraceMs: deps.config.orphanGraceMs }))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
