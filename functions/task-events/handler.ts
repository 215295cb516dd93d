/**
 * The controller's event function (EventBridge, asynchronous invoke): ECS task state changes and
 * Steward's own "service changed" requests. A poison event is terminal: logged once, counted, sent to
 * the dead-letter queue, and acknowledged so it is never retried. Anything else that fails is
 * transient and rethrown, so Lambda retries and its on-failure destination applies.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import {
  type ControllerEventResult,
  handleControllerEvent,
} from '../../shared/app/controller-events';
import type { ReconcileDeps } from '../../shared/app/reconcile';
import { ValidationError } from '../../shared/core/errors';
import { logger, MetricUnit, metrics } from '../../shared/observability';
import type { DeadLetters } from '../../shared/ports/dead-letters';
import { wire } from '../../shared/wiring';

export type TaskEventsDeps = ReconcileDeps & { deadLetters: DeadLetters };

export type TaskEventsResult = ControllerEventResult | { outcome: 'dead-lettered'; reason: string };

/** The handler over explicit dependencies. */
export function makeHandler(deps: TaskEventsDeps) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<TaskEventsResult> => {
    let result: TaskEventsResult;
    try {
      result = await handleControllerEvent(deps, event);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      logger.error('Poison event sent to the dead-letter queue', {
        reason: error.message,
        errors: error.errors,
        eventId: event?.id,
      });
      metrics.addMetric('PoisonEvents', MetricUnit.Count, 1);
      await deps.deadLetters.send({ source: 'taskEvents', reason: error.message, payload: event });
      return { outcome: 'dead-lettered', reason: error.message };
    }
    metrics.addMetric(`Events_${result.outcome}`, MetricUnit.Count, 1);
    if (result.outcome === 'reconciled') {
      const r = result.reconcile;
      if (r.launched > 0) metrics.addMetric('TasksLaunched', MetricUnit.Count, r.launched);
      if (r.stopped > 0) metrics.addMetric('TasksStopped', MetricUnit.Count, r.stopped);
      if (r.failedLaunches.length > 0)
        metrics.addMetric('LaunchFailures', MetricUnit.Count, r.failedLaunches.length);
      logger.info('Reconciled', { ...r });
    }
    return result;
  };
}

const deps = wire();

export const handler = middy(makeHandler(deps))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
