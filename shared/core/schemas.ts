/**
 * Validation schemas for everything that enters Steward from outside: API bodies and ECS events.
 * Names, limits and enum values follow the ECS API so that a body valid here is valid for ECS.
 */
import { z } from 'zod';
import { type FieldError, ValidationError } from './errors';
import {
  FARGATE_PROVIDERS,
  LaunchType,
  launchesOnFargate,
  MAX_SERVICE_NAME,
  SERVICE_NAME,
} from './model';
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart';
import { capacitySchema, scalingPoliciesSchema } from './scaling';

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

const deploymentConfigurationSchema = z
  .strictObject({
    minimumHealthyPercent: z.int().min(0).max(100).optional(),
    maximumPercent: z.int().min(100).max(1000).optional(),
    deploymentCircuitBreaker: z
      .strictObject({ enable: z.boolean(), rollback: z.boolean() })
      .optional(),
  })
  // With the defaults filled in (minimum 100, maximum 200), as the service will store them.
  .refine((d) => !((d.minimumHealthyPercent ?? 100) === 100 && d.maximumPercent === 100), {
    message:
      'must be above 100 when minimumHealthyPercent is 100, or a deployment could never replace a task',
    path: ['maximumPercent'],
  });

/** ECS CapacityProviderStrategyItem: at most 20; base on one provider only; some weight above 0. */
const capacityProviderStrategySchema = z
  .array(
    z.strictObject({
      capacityProvider: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be 1-255 letters, digits, - or _'),
      weight: z.int().min(0).max(1000).optional(),
      base: z.int().min(0).max(100_000).optional(),
    }),
  )
  .min(1, 'needs at least one capacity provider')
  .max(20, 'may name at most 20 capacity providers')
  .superRefine((items, ctx) => {
    const names = new Set<string>();
    items.forEach((item, i) => {
      if (names.has(item.capacityProvider)) {
        ctx.addIssue({ code: 'custom', path: [i, 'capacityProvider'], message: 'is named twice' });
      }
      names.add(item.capacityProvider);
    });
    if (items.filter((i) => (i.base ?? 0) > 0).length > 1) {
      ctx.addIssue({ code: 'custom', message: 'may set a base on one capacity provider only' });
    }
    if (items.every((i) => (i.weight ?? 0) === 0)) {
      ctx.addIssue({ code: 'custom', message: 'needs a weight above 0 on some capacity provider' });
    }
    const fargate = items.filter((i) => FARGATE_PROVIDERS.has(i.capacityProvider)).length;
    if (fargate > 0 && fargate < items.length) {
      ctx.addIssue({
        code: 'custom',
        message: 'cannot mix FARGATE/FARGATE_SPOT with Auto Scaling group capacity providers',
      });
    }
  });

/** ECS PlacementConstraint (at most 10). */
const placementConstraintsSchema = z
  .array(
    z
      .strictObject({
        type: z.enum(['distinctInstance', 'memberOf']),
        expression: z.string().min(1).max(2000).optional(),
      })
      .refine((c) => (c.type === 'memberOf') === (c.expression !== undefined), {
        message: 'is required for memberOf and not allowed for distinctInstance',
        path: ['expression'],
      }),
  )
  .max(10, 'may hold at most 10 constraints');

/** ECS PlacementStrategy (at most 5). */
const placementStrategySchema = z
  .array(
    z
      .strictObject({
        type: z.enum(['random', 'spread', 'binpack']),
        field: z.string().min(1).max(255).optional(),
      })
      .superRefine((p, ctx) => {
        const bad = (message: string) => ctx.addIssue({ code: 'custom', path: ['field'], message });
        if (p.type === 'random' && p.field !== undefined) bad('is not allowed for random');
        if (p.type === 'spread' && p.field === undefined)
          bad('is required for spread (e.g. attribute:ecs.availability-zone or instanceId)');
        if (p.type === 'binpack' && p.field !== 'cpu' && p.field !== 'memory')
          bad('must be cpu or memory for binpack');
      }),
  )
  .max(5, 'may hold at most 5 strategies');

/** An Application or Network Load Balancer target group's ARN. */
const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;

/**
 * ECS LoadBalancer (at most 5 target groups a service). Classic Load Balancers (`loadBalancerName`)
 * are refused: Steward registers task IPs with target groups, which Classic ones do not have.
 * An empty list means none (as UpdateService takes it, to remove load balancers).
 */
const loadBalancersSchema = z
  .array(
    z.strictObject({
      targetGroupArn: z
        .string()
        .regex(
          TARGET_GROUP_ARN,
          'must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)',
        ),
      containerName: z.string().min(1).max(255),
      containerPort: z.int().min(1).max(65_535),
      loadBalancerName: z
        .unknown()
        .refine(() => false, {
          message:
            'names a Classic Load Balancer, which Steward does not support: give the targetGroupArn of an Application or Network Load Balancer target group',
        })
        .optional(),
    }),
  )
  .max(5, 'may name at most 5 target groups')
  .superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.targetGroupArn)) {
        ctx.addIssue({ code: 'custom', path: [i, 'targetGroupArn'], message: 'is named twice' });
      }
      seen.add(item.targetGroupArn);
    });
  });

/** ECS tags: at most 50, keys unique; `aws:` is AWS's and `steward:` is Steward's. */
const tagsSchema = z
  .array(
    z.strictObject({
      key: z
        .string()
        .min(1)
        .max(128)
        .refine((k) => !/^aws:/i.test(k), 'may not start with aws: (reserved for AWS)')
        .refine((k) => !/^steward:/i.test(k), 'may not start with steward: (reserved for Steward)'),
      value: z.string().max(256).optional(),
    }),
  )
  .max(50, 'may hold at most 50 tags')
  .superRefine((tags, ctx) => {
    const keys = new Set<string>();
    tags.forEach((t, i) => {
      if (keys.has(t.key))
        ctx.addIssue({ code: 'custom', path: [i, 'key'], message: 'is used twice' });
      keys.add(t.key);
    });
  });

const spotFallbackSchema = z.strictObject({
  enabled: z.boolean().default(true),
  retrySpotAfterSeconds: z.int().min(60).max(86_400).default(900),
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

export const taskDefinitionRefSchema = z
  .string()
  .regex(TASK_DEFINITION, 'must be family, family:revision or a task definition ARN');

/**
 * The fields a service's spec may hold besides its name and cluster: ECS CreateService's, then
 * Steward's own. PUT takes them all, PATCH any of them; POST adds the name and the cluster.
 */
const serviceFields = {
  /** A reference, or an inline RegisterTaskDefinition body that Steward registers and pins. */
  taskDefinition: z.union([taskDefinitionRefSchema, z.record(z.string(), z.unknown())], {
    error: 'must be family, family:revision, a task definition ARN, or a task definition object',
  }),
  desiredCount: capacitySchema,
  launchType: z.enum([LaunchType.EC2, LaunchType.FARGATE, LaunchType.EXTERNAL]).optional(),
  capacityProviderStrategy: capacityProviderStrategySchema.optional(),
  platformVersion: z
    .string()
    .regex(/^(LATEST|\d+\.\d+\.\d+)$/, 'must be LATEST or a version like 1.4.0')
    .optional(),
  networkConfiguration: z
    .strictObject({ awsvpcConfiguration: awsVpcConfigurationSchema })
    .optional(),
  deploymentConfiguration: deploymentConfigurationSchema.optional(),
  placementConstraints: placementConstraintsSchema.optional(),
  placementStrategy: placementStrategySchema.optional(),
  loadBalancers: loadBalancersSchema.optional(),
  healthCheckGracePeriodSeconds: z.int().min(0).max(2_147_483_647).optional(),
  tags: tagsSchema.optional(),
  propagateTags: z.enum(['TASK_DEFINITION', 'SERVICE', 'NONE']).optional(),
  enableExecuteCommand: z.boolean().optional(),
  restartPolicy: restartPolicySchema.optional(),
  minCapacity: capacitySchema.optional(),
  maxCapacity: capacitySchema.optional(),
  scalingPolicies: scalingPoliciesSchema.optional(),
  /** Seconds; a task is replaced once it has run this long. */
  maxTaskLifetime: z.int().min(300).max(31_536_000).optional(),
  spotFallback: spotFallbackSchema.optional(),
  paused: z.boolean().optional(),
};

/** A spec's fields must also agree with each other, as ECS checks them. */
function checkServiceFields(
  spec: {
    launchType?: string | undefined;
    capacityProviderStrategy?: { capacityProvider: string }[] | undefined;
    platformVersion?: string | undefined;
    networkConfiguration?: unknown;
    placementConstraints?: unknown[] | undefined;
    placementStrategy?: unknown[] | undefined;
    tags?: unknown[] | undefined;
    propagateTags?: string | undefined;
    minCapacity?: number | undefined;
    maxCapacity?: number | undefined;
    scalingPolicies?: unknown[] | undefined;
    spotFallback?: { enabled: boolean } | undefined;
    loadBalancers?: unknown[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const bad = (path: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  const strategy = spec.capacityProviderStrategy;
  if (spec.launchType !== undefined && strategy !== undefined) {
    bad('capacityProviderStrategy', 'cannot be given with launchType (choose one)');
  }
  const fargate = launchesOnFargate(spec);
  if (fargate && spec.networkConfiguration === undefined) {
    bad('networkConfiguration', 'is required on Fargate (tasks use the awsvpc network mode)');
  }
  if (!fargate && spec.platformVersion !== undefined) {
    bad('platformVersion', 'applies to Fargate only');
  }
  if (fargate && spec.placementConstraints !== undefined) {
    bad('placementConstraints', 'are not supported on Fargate');
  }
  if (fargate && spec.placementStrategy !== undefined) {
    bad('placementStrategy', 'is not supported on Fargate');
  }
  const balanced = (spec.loadBalancers?.length ?? 0) > 0;
  if (balanced && spec.networkConfiguration === undefined) {
    bad(
      'loadBalancers',
      'need the awsvpc network mode (networkConfiguration): Steward registers each task by its IP address',
    );
  }
  // Steward adds two tags of its own to every task; ECS takes at most 50.
  if (spec.propagateTags === 'SERVICE' && (spec.tags?.length ?? 0) > 48) {
    bad('tags', 'may hold at most 48 tags with propagateTags SERVICE (Steward adds 2 of its own)');
  }
  if (
    spec.minCapacity !== undefined &&
    spec.maxCapacity !== undefined &&
    spec.minCapacity > spec.maxCapacity
  ) {
    bad('maxCapacity', 'must be at least minCapacity');
  }
  if ((spec.scalingPolicies?.length ?? 0) > 0) {
    if (spec.minCapacity === undefined) bad('minCapacity', 'is required with scalingPolicies');
    if (spec.maxCapacity === undefined) bad('maxCapacity', 'is required with scalingPolicies');
  }
  if (
    spec.spotFallback?.enabled === true &&
    !(strategy?.some((i) => i.capacityProvider === 'FARGATE_SPOT') ?? false)
  ) {
    bad('spotFallback', 'needs a capacityProviderStrategy that uses FARGATE_SPOT');
  }
}

/** Body of `POST /services`: ECS CreateService's fields plus Steward's. */
export const createServiceSchema = z
  .strictObject({
    serviceName: newServiceNameSchema,
    cluster: z
      .string()
      .regex(CLUSTER, 'must be a cluster name (1-255 letters, digits, - or _) or a cluster ARN')
      .optional(),
    ...serviceFields,
  })
  .superRefine(checkServiceFields);
export type CreateServiceInput = z.infer<typeof createServiceSchema>;

/**
 * Body of `PUT /services/{serviceName}`: the whole spec again (fields left out are reset). The name
 * and cluster may be repeated, not changed.
 */
export const replaceServiceSchema = z
  .strictObject({
    serviceName: serviceNameSchema.optional(),
    cluster: z.string().optional(),
    ...serviceFields,
    /** Left out, the current count stays (scaling policies or a person may have changed it). */
    desiredCount: capacitySchema.optional(),
  })
  .superRefine(checkServiceFields);
export type ReplaceServiceInput = z.infer<typeof replaceServiceSchema>;

/**
 * Body of `PATCH /services/{serviceName}`: any of the spec's fields, each replacing the stored one
 * (an empty body is refused by the use case). The merged spec is checked again as a whole.
 */
export const updateServiceSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(serviceFields).map(([k, v]) => [k, (v as z.ZodType).optional()]),
  ) as { [K in keyof typeof serviceFields]: z.ZodOptional<(typeof serviceFields)[K]> },
);
export type UpdateServiceInput = z.infer<typeof updateServiceSchema>;

/** Checks a whole spec (after a PATCH is merged) with the cross-field rules. */
export const serviceFieldsSchema = z.object(serviceFields).superRefine(checkServiceFields);

/** How deeply a request body may nest: far more than any valid body needs. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses a parsed body nested deeper than MAX_BODY_DEPTH (checked without recursion, so the check
 * itself cannot overflow the stack on a hostile body).
 */
export function checkDepth(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) {
      throw new ValidationError('Request body is nested too deeply', [
        { path: '(body)', message: `nests deeper than ${MAX_BODY_DEPTH} levels` },
      ]);
    }
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

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
