/**
 * The controller's event path. A task event is a hint: record it if it is news (the ECS version
 * guard), then reconcile its service. A duplicate or stale event costs one rejected conditional write
 * and no ECS call.
 */
import { parseControllerEvent } from '../core/events';
import { type ReconcileDeps, type ReconcileResult, reconcile } from './reconcile';

export type ControllerEventResult =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'stale'; serviceName: string; taskId: string }
  | { outcome: 'reconciled'; reconcile: ReconcileResult };

/** Handles one EventBridge event. Throws ValidationError for an event it cannot parse (poison). */
export async function handleControllerEvent(
  deps: ReconcileDeps,
  event: unknown,
): Promise<ControllerEventResult> {
  const parsed = parseControllerEvent(event);
  if (parsed.kind === 'service-changed') {
    return {
      outcome: 'reconciled',
      reconcile: await reconcile(deps, { serviceName: parsed.serviceName }),
    };
  }
  const { serviceName, task } = parsed.observation;
  if (serviceName === undefined)
    return { outcome: 'ignored', reason: 'task not started by Steward' };
  const written = await deps.store.recordObservation({ serviceName, task });
  if (!written.ok) return { outcome: 'stale', serviceName, taskId: task.taskId };
  return { outcome: 'reconciled', reconcile: await reconcile(deps, { serviceName }) };
}
