/**
 * The events the controller consumes: ECS "ECS Task State Change" (at least once, any order) and
 * Steward's own "Steward Service Changed" (sent by the API after a spec write). Unknown properties are
 * tolerated, as ECS asks ("make sure that your application is prepared to handle unknown properties").
 */
import { z } from 'zod';
import { launchInfoOf, ownerOf, privateIpOf, type TaskRecord, TaskStatus, taskIdOf } from './model';
import { parseOrThrow, serviceNameSchema } from './schemas';

export const TASK_STATE_CHANGE = 'ECS Task State Change';
export const SERVICE_CHANGED = 'Steward Service Changed';
export const STEWARD_EVENT_SOURCE = 'steward';

const isoTime = z.iso.datetime({ offset: true });

const taskDetailSchema = z.object({
  taskArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/.+$/, 'must be a task ARN'),
  clusterArn: z.string().min(1),
  lastStatus: z.enum(Object.values(TaskStatus) as [TaskStatus, ...TaskStatus[]]),
  desiredStatus: z.string().min(1),
  version: z.int().min(0),
  startedBy: z.string().optional(),
  taskDefinitionArn: z.string().optional(),
  createdAt: isoTime.optional(),
  startedAt: isoTime.optional(),
  stoppingAt: isoTime.optional(),
  stoppedAt: isoTime.optional(),
  updatedAt: isoTime.optional(),
  stopCode: z.string().optional(),
  stoppedReason: z.string().optional(),
  capacityProviderName: z.string().optional(),
  // Where Steward's slot and launch token travel; shape checked loosely, read by launchInfoOf.
  overrides: z.unknown().optional(),
  // The network interface, whose private IP is registered with target groups (privateIpOf).
  attachments: z.unknown().optional(),
});

const taskStateChangeSchema = z.object({
  'detail-type': z.literal(TASK_STATE_CHANGE),
  source: z.literal('aws.ecs'),
  detail: taskDetailSchema,
});

const serviceChangedSchema = z.object({
  'detail-type': z.literal(SERVICE_CHANGED),
  source: z.literal(STEWARD_EVENT_SOURCE),
  detail: z.object({ serviceName: serviceNameSchema }),
});

/** A task state as observed (event, DescribeTasks, RunTask), tagged with the service that owns it. */
export type TaskObservation = {
  serviceName: string | undefined;
  task: TaskRecord;
};

export type ControllerEvent =
  | { kind: 'task-state-change'; observation: TaskObservation }
  | { kind: 'service-changed'; serviceName: string };

/** Parses one EventBridge event for the controller; throws ValidationError naming the bad fields. */
export function parseControllerEvent(event: unknown): ControllerEvent {
  const detailType = (event as { 'detail-type'?: unknown } | null)?.['detail-type'];
  if (detailType === SERVICE_CHANGED) {
    const parsed = parseOrThrow({
      schema: serviceChangedSchema,
      input: event,
      what: 'event',
      root: '(event)',
    });
    return { kind: 'service-changed', serviceName: parsed.detail.serviceName };
  }
  const parsed = parseOrThrow({
    schema: taskStateChangeSchema,
    input: event,
    what: 'event',
    root: '(event)',
  });
  const d = parsed.detail;
  return {
    kind: 'task-state-change',
    observation: {
      serviceName: ownerOf(d.startedBy),
      task: dropUndefined({
        taskId: taskIdOf(d.taskArn),
        taskArn: d.taskArn,
        clusterArn: d.clusterArn,
        lastStatus: d.lastStatus,
        desiredStatus: d.desiredStatus,
        version: d.version,
        taskDefinitionArn: d.taskDefinitionArn,
        createdAt: d.createdAt,
        startedAt: d.startedAt,
        stoppingAt: d.stoppingAt,
        stoppedAt: d.stoppedAt,
        stopCode: d.stopCode,
        stoppedReason: d.stoppedReason,
        capacityProviderName: d.capacityProviderName,
        privateIp: privateIpOf(d.attachments),
        updatedAt: d.updatedAt,
        ...launchInfoOf(d.overrides),
      }),
    },
  };
}

/** Removes keys whose value is undefined, so optional fields are absent rather than undefined. */
export function dropUndefined<T extends Record<string, unknown>>(
  value: {
    [K in keyof T]: T[K] | undefined;
  },
): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}
