/**
 * The schedule (every minute): resync every cluster that has services from ECS, then reconcile every
 * service. The safety net that repairs whatever events were lost.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { type ResyncDeps, type ResyncResult, resync } from '../../shared/app/resync';
import { logger, MetricUnit, metrics } from '../../shared/observability';
import { wire } from '../../shared/wiring';

/** The handler over explicit dependencies. */
export function makeHandler(deps: ResyncDeps) {
  return async (_event: ScheduledEvent): Promise<ResyncResult> => {
    const result = await resync(deps);
    metrics.addMetric('ServicesReconciled', MetricUnit.Count, result.reconciled);
    metrics.addMetric('TasksCorrected', MetricUnit.Count, result.corrected + result.vanished);
    metrics.addMetric('OrphansStopped', MetricUnit.Count, result.orphansStopped);
    metrics.addMetric('ResyncErrors', MetricUnit.Count, result.errors.length);
    if (result.errors.length > 0) logger.warn('Resync finished with errors', { ...result });
    else logger.info('Resync finished', { ...result });
    return result;
  };
}

const deps = wire();

export const handler = middy(makeHandler({ ...deps, orphanGraceMs: deps.config.orphanGraceMs }))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
