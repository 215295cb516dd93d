/**
 * Validation schemas for everything that enters Steward from outside: API bodies and ECS events.
 * Names, limits and enum values follow the ECS API so that a body valid here is valid for ECS.
 */
import { z } from 'zod';
import { type FieldError, ValidationError } from './errors';
import { LaunchType, MAX_SERVICE_NAME, SERVICE_NAME } from './model';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart';

/** A cluster: its name, or its ARN. */
const CLUSTER = /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/)?[A-Za-z0-9_-]{1,255}$/;
/** A task definition: `family`, `family:revision`, or its full ARN. */
const TASK_DEFINITION =
  /^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?[A-Za-z0-9_-]{1,255}(:[1-9]\d{0,8})?$/;

export const serviceNameSchema = z
  .string()
  .regex(SERVICE_NAME, 'must be 1-255 letters, digits, hyphens (-) or underscores (_)');

/**
 * A name for a new service: as ECS allows, but at most 120 characters, because its tasks carry
 * `startedBy: steward/<name>` and RunTask takes at most 128.
 */
export const newServiceNameSchema = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9_-]{1,${MAX_SERVICE_NAME}}$`),
    `must be 1-${MAX_SERVICE_NAME} letters, digits, hyphens (-) or underscores (_); at most ${MAX_SERVICE_NAME} characters because tasks are started by steward/<name>, which ECS limits to 128`,
  );

const awsVpcConfigurationSchema = z.strictObject({
  subnets: z.array(z.string().min(1)).min(1, 'needs at least one subnet').max(16),
  securityGroups: z.array(z.string().min(1)).max(5).optional(),
  assignPublicIp: z.enum(['ENABLED', 'DISABLED']).optional(),
});

const deploymentConfigurationSchema = z.strictObject({
  minimumHealthyPercent: z.int().min(0).max(100).optional(),
  maximumPercent: z.int().min(100).max(1000).optional(),
});

/** Steward's restart policy; every field optional (defaults: DEFAULT_RESTART_POLICY). */
export const restartPolicySchema = z
  .strictObject({
    baseDelaySeconds: z.number().min(1).max(3600).optional(),
    factor: z.number().min(1).max(10).optional(),
    maxDelaySeconds: z.number().min(1).max(86_400).optional(),
    jitter: z.number().min(0).max(1).optional(),
    maxConsecutiveFailures: z.int().min(1).max(10_000).nullable().optional(),
    healthyAfterSeconds: z.int().min(0).max(86_400).optional(),
  })
  .refine(
    (p) =>
      (p.maxDelaySeconds ?? DEFAULT_RESTART_POLICY.maxDelaySeconds) >=
      (p.baseDelaySeconds ?? DEFAULT_RESTART_POLICY.baseDelaySeconds),
    { message: 'must be at least baseDelaySeconds', path: ['maxDelaySeconds'] },
  );
export type RestartPolicyInput = z.infer<typeof restartPolicySchema>;

/** The full policy: the given fields over the defaults. */
export function restartPolicyOf(input: RestartPolicyInput | undefined): RestartPolicy {
  const out: RestartPolicy = { ...DEFAULT_RESTART_POLICY };
  for (const [k, v] of Object.entries(input ?? {}))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Body of `POST /services`: ECS CreateService's fields that Steward supports so far. */
export const createServiceSchema = z.strictObject({
  serviceName: newServiceNameSchema,
  cluster: z
    .string()
    .regex(CLUSTER, 'must be a cluster name (1-255 letters, digits, - or _) or a cluster ARN')
    .optional(),
  taskDefinition: z
    .string()
    .regex(TASK_DEFINITION, 'must be family, family:revision or a task definition ARN'),
  desiredCount: z.int().min(0).max(10_000),
  launchType: z.enum([LaunchType.EC2, LaunchType.FARGATE, LaunchType.EXTERNAL]).optional(),
  networkConfiguration: z
    .strictObject({ awsvpcConfiguration: awsVpcConfigurationSchema })
    .optional(),
  deploymentConfiguration: deploymentConfigurationSchema.optional(),
  restartPolicy: restartPolicySchema.optional(),
});

/** Body of `PATCH /services/{serviceName}`: a partial update (an empty one is refused by the use case). */
export const updateServiceSchema = z.strictObject({
  desiredCount: z.int().min(0).max(10_000).optional(),
  /** Replaces the policy (fields not given take their defaults); also a spec change, so it resets backoff. */
  restartPolicy: restartPolicySchema.optional(),
});

/** Turns zod's issues into Steward's `{ path, message }` list: one entry per bad field, its first problem. */
export function toFieldErrors(error: z.ZodError, root = '(body)'): FieldError[] {
  const byPath = new Map<string, string>();
  const add = (path: string, message: string) => {
    if (!byPath.has(path)) byPath.set(path, message);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        add(formatPath([...issue.path, key], root), 'is not a known field');
      continue;
    }
    add(formatPath(issue.path, root), issue.message);
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}

/** Renders a zod path as `a.b[2].c`; the empty path is the input itself, named by `root`. */
function formatPath(path: readonly PropertyKey[], root: string): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? root : out;
}

/** Parses `input` with `schema` or throws a ValidationError that lists every bad field. */
export function parseOrThrow<T>(options: {
  schema: z.ZodType<T>;
  input: unknown;
  what: string;
  /** How an error about the whole input is labelled (default `(body)`, for API bodies). */
  root?: string;
}): T {
  const result = options.schema.safeParse(options.input);
  if (result.success) return result.data;
  const errors = toFieldErrors(result.error, options.root);
  const fields = errors.map((e) => e.path).join(', ');
  throw new ValidationError(`Invalid ${options.what}: ${fields}`, errors);
}
