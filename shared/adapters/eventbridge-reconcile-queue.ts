import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SERVICE_CHANGED, STEWARD_EVENT_SOURCE } from '../core/events';
import type { ReconcileQueue } from '../ports/reconcile-queue';

/** ReconcileQueue as a "Steward Service Changed" event on an EventBridge bus (routed to the controller). */
export function makeEventBridgeReconcileQueue(options: {
  client: EventBridgeClient;
  eventBusName: string;
}): ReconcileQueue {
  return {
    async enqueue(serviceName) {
      const out = await options.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: options.eventBusName,
              Source: STEWARD_EVENT_SOURCE,
              DetailType: SERVICE_CHANGED,
              Detail: JSON.stringify({ serviceName }),
            },
          ],
        }),
      );
      // PutEvents reports per-entry failures in a 200 answer.
      if ((out.FailedEntryCount ?? 0) > 0) {
        const entry = out.Entries?.[0];
        throw new Error(
          `PutEvents rejected the entry: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`.trim(),
        );
      }
    },
  };
}
