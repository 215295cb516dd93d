/**
 * The API's OpenAPI 3.1 document, served by `GET /openapi.json`. Request bodies are the validation
 * schemas the API itself parses with (zod → JSON Schema, input side); responses are zod schemas of
 * the views, declared here and held to their TypeScript types by test/unit/openapi.test.ts. Routes
 * are those of serverless.yml (the same test compares the two).
 *
 * What JSON Schema cannot say: zod's refinements (cross-field rules such as "launchType or
 * capacityProviderStrategy, not both") are dropped by the conversion. The server still applies them
 * and answers 400 naming each field; the request schemas' descriptions list them in words.
 */
import { z } from 'zod';
import { ConditionType, LaunchType, TaskStatus } from '../core/model';
import { scalingPoliciesSchema, scalingPolicySchema } from '../core/scaling';
import {
  createServiceSchema,
  replaceServiceSchema,
  restartPolicySchema,
  serviceNameSchema,
  taskDefinitionRefSchema,
  updateServiceSchema,
} from '../core/schemas';
import { registerTaskDefinitionSchema } from '../core/task-definition';

/** What the registry may say of a schema: its component name, and keywords merged into its JSON. */
type SchemaMeta = {
  id?: string;
  description?: string;
  format?: string;
  [keyword: string]: unknown;
};

/** Names and annotations for this document only (the global registry is left alone). */
const registry = z.registry<SchemaMeta>();

/** Annotates `schema` in this document's registry; with an `id`, it becomes a component. */
function documented<T extends z.ZodType>(schema: T, meta: SchemaMeta): T {
  registry.add(schema, meta);
  return schema;
}

const componentRef = (o: { kind: string; name: string }) => ({
  $ref: `#/components/${o.kind}/${o.name}`,
});
const schemaRef = (name: string) => componentRef({ kind: 'schemas', name });

// ---------------------------------------------------------------------------------------------
// Request schemas: the ones the API validates with, named, and the members they share

const service = createServiceSchema.shape;

documented(createServiceSchema, {
  id: 'CreateServiceRequest',
  description: [
    'Body of `POST /services`: ECS CreateService’s fields, then Steward’s own. Unknown fields are refused.',
    '',
    'Also checked by the server (400, each field named):',
    '- `launchType` or `capacityProviderStrategy`, not both; on Fargate (`FARGATE`, or a `FARGATE`/`FARGATE_SPOT` provider) `networkConfiguration` is required and placement constraints and strategies are not allowed; `platformVersion` applies to Fargate only.',
    '- `capacityProviderStrategy`: each provider once, a `base` on one provider only, a `weight` above 0 on some provider, Fargate and Auto Scaling group providers not mixed.',
    '- `placementConstraints`: `memberOf` needs an `expression`, `distinctInstance` takes none. `placementStrategy`: `spread` needs a `field`, `binpack` takes `cpu` or `memory`, `random` none.',
    '- `tags`: keys unique, not starting with `aws:` or `steward:`; at most 48 with `propagateTags: SERVICE`.',
    '- `deploymentConfiguration.maximumPercent` above 100 when `minimumHealthyPercent` is 100; `restartPolicy.maxDelaySeconds` at least `baseDelaySeconds`.',
    '- `loadBalancers`: the awsvpc network mode (`networkConfiguration`); each target group must exist with target type `ip`, and the task definition must have the `containerName` container mapping `containerPort`.',
    '- `minCapacity` ≤ `maxCapacity`, both required with `scalingPolicies`; `spotFallback` needs `FARGATE_SPOT` in the strategy; scaling policies have their own rules (names unique, one metric each, steps that cover every breach, valid schedules and time zones).',
    '- An inline `taskDefinition` is validated as `POST /task-definitions` validates one, and its roles checked against the allow-list (403).',
  ].join('\n'),
});
documented(replaceServiceSchema, {
  id: 'ReplaceServiceRequest',
  description:
    'Body of `PUT /services/{serviceName}`: the whole spec again; fields left out take their defaults. `serviceName` and `cluster` may be repeated, not changed. The server checks the same rules as for `POST /services`.',
});
documented(updateServiceSchema, {
  id: 'UpdateServiceRequest',
  // The use case refuses an empty body ("names no field to change"); JSON Schema can say so.
  minProperties: 1,
  description:
    'Body of `PATCH /services/{serviceName}`: any of the spec’s fields, each replacing the stored one (at least one). The merged spec is checked again as a whole, with the rules listed for `POST /services`.',
});
documented(registerTaskDefinitionSchema, {
  id: 'RegisterTaskDefinitionRequest',
  description: [
    'ECS RegisterTaskDefinition’s body, camelCase as `aws ecs register-task-definition --cli-input-json` takes it; every member of the request and of ContainerDefinition, with ECS’s enums and limits. Unknown members are refused; members set to null count as absent.',
    '',
    'Also checked by the server, as ECS checks them at registration (400, each field named): Fargate task sizes and the members Fargate does not support, task size against the containers’ reservations, network mode against port mappings, links and host ports, references between containers (and dependency cycles), volumes and mount points, unique tag keys and no `aws:` prefix.',
  ].join('\n'),
});
documented(registerTaskDefinitionSchema.shape.family, {
  id: 'TaskDefinitionFamily',
  description: 'A task definition family: 1-255 letters, digits, hyphens (-) or underscores (_).',
});
documented(registerTaskDefinitionSchema.shape.cpu.unwrap(), {
  description:
    'Task CPU: CPU units (`1024` or `"1024"`) or vCPUs (`"1 vCPU"`, `"0.25 vcpu"`); stored as CPU units.',
});
documented(registerTaskDefinitionSchema.shape.memory.unwrap(), {
  description: 'Task memory: MiB (`2048` or `"2048"`) or GB (`"2 GB"`, `"0.5GB"`); stored as MiB.',
});
documented(serviceNameSchema, {
  id: 'ServiceName',
  description: 'A service name: 1-255 letters, digits, hyphens (-) or underscores (_).',
});
documented(service.serviceName, {
  description:
    'The new service’s name: 1-120 letters, digits, hyphens (-) or underscores (_). ECS allows 255, but every task carries `startedBy: steward/<serviceName>`, which ECS limits to 128 characters.',
});
documented(service.cluster.unwrap(), {
  description: 'The cluster, by name or ARN (default `default`).',
});
documented(taskDefinitionRefSchema, {
  id: 'TaskDefinitionReference',
  description:
    'A task definition: `family` (its latest ACTIVE revision), `family:revision` or ARN.',
});
documented(service.taskDefinition, {
  description:
    'A task definition reference, or an inline RegisterTaskDefinition body that Steward validates, registers and pins as `family:revision`.',
});
documented(service.capacityProviderStrategy.unwrap(), {
  id: 'CapacityProviderStrategy',
  description: 'ECS capacity provider strategy: 1-20 providers.',
});
documented(service.networkConfiguration.unwrap(), {
  id: 'NetworkConfiguration',
  description: 'The awsvpc network configuration; required on Fargate.',
});
documented(service.placementConstraints.unwrap(), {
  id: 'PlacementConstraints',
  description: 'ECS placement constraints (EC2 only), at most 10.',
});
documented(service.placementStrategy.unwrap(), {
  id: 'PlacementStrategy',
  description: 'ECS placement strategies (EC2 only), at most 5.',
});
documented(service.tags.unwrap(), {
  id: 'Tags',
  description: 'ECS tags, at most 50; `aws:` and `steward:` keys are reserved.',
});
documented(service.deploymentConfiguration.unwrap(), {
  id: 'DeploymentConfigurationInput',
  description:
    'How far a deployment may go below and above `desiredCount` (defaults: 100 and 200 percent).',
});
documented(restartPolicySchema, {
  id: 'RestartPolicyInput',
  description:
    'Steward’s restart policy for failing tasks: exponential backoff with jitter, and a give-up after `maxConsecutiveFailures` (null: never). Fields left out take their defaults.',
});
documented(scalingPoliciesSchema, {
  id: 'ScalingPolicies',
  description:
    'Scaling policies, as Application Auto Scaling has them (at most 50, names unique); they keep `desiredCount` between `minCapacity` and `maxCapacity`.',
});
documented(scalingPolicySchema, {
  id: 'ScalingPolicy',
  description: 'One policy: `Scheduled`, `TargetTrackingScaling` or `StepScaling`.',
});
documented(service.spotFallback.unwrap(), {
  id: 'SpotFallbackInput',
  description:
    'Launch on on-demand Fargate while Fargate Spot has no capacity, and go back to Spot after `retrySpotAfterSeconds`.',
});
documented(service.loadBalancers.unwrap(), {
  id: 'LoadBalancers',
  description:
    'Application or Network Load Balancer target groups (at most 5, each once; an empty list means none). Each task’s `containerName` container is registered at `containerPort` as an ip target once it runs, counts as healthy once healthy in every group, and is deregistered and left to drain before it stops. Needs the awsvpc network mode; the container must map that port. Classic Load Balancers (`loadBalancerName`) are refused.',
});
documented(service.loadBalancers.unwrap().element.shape.loadBalancerName.unwrap(), {
  // Refused whatever its value: the property must be absent, which `not: {}` says exactly.
  not: {},
  description: 'Classic Load Balancers are not supported: give `targetGroupArn` instead.',
});
documented(service.healthCheckGracePeriodSeconds.unwrap(), {
  description:
    'Seconds after a task starts during which failing target health checks do not get it replaced (default 0); without `loadBalancers` it has no effect.',
});
documented(service.maxTaskLifetime, {
  description: 'Seconds; a RUNNING task older than this is replaced (rolling).',
});
documented(service.paused, {
  description: 'No tasks run while paused; `desiredCount` is kept and applies again on resume.',
});

// ---------------------------------------------------------------------------------------------
// Response schemas: the views, as their TypeScript types declare them

const isoTime = (description: string) =>
  documented(z.string(), { format: 'date-time', description });
const count = (description: string) => documented(z.int().min(0), { description });

/** ECS's deployment configuration as stored: both percentages always set. */
const deploymentConfigurationIn = service.deploymentConfiguration.unwrap().shape;
export const deploymentConfigurationSchema = documented(
  z.object({
    minimumHealthyPercent: deploymentConfigurationIn.minimumHealthyPercent.unwrap(),
    maximumPercent: deploymentConfigurationIn.maximumPercent.unwrap(),
    deploymentCircuitBreaker: deploymentConfigurationIn.deploymentCircuitBreaker,
  }),
  { id: 'DeploymentConfiguration' },
);

/** The restart policy in effect: every field set (defaults filled in). */
const restartPolicyIn = restartPolicySchema.shape;
export const restartPolicyViewSchema = documented(
  z.object({
    baseDelaySeconds: restartPolicyIn.baseDelaySeconds.unwrap(),
    factor: restartPolicyIn.factor.unwrap(),
    maxDelaySeconds: restartPolicyIn.maxDelaySeconds.unwrap(),
    jitter: restartPolicyIn.jitter.unwrap(),
    maxConsecutiveFailures: restartPolicyIn.maxConsecutiveFailures.unwrap(),
    healthyAfterSeconds: restartPolicyIn.healthyAfterSeconds.unwrap(),
  }),
  { id: 'RestartPolicy', description: 'The restart policy in effect (defaults filled in).' },
);

const spotFallbackIn = service.spotFallback.unwrap().shape;
export const spotFallbackViewSchema = documented(
  z.object({
    enabled: spotFallbackIn.enabled.removeDefault(),
    retrySpotAfterSeconds: spotFallbackIn.retrySpotAfterSeconds.removeDefault(),
  }),
  { id: 'SpotFallback' },
);

export const conditionSchema = documented(
  z.object({
    type: z.enum(ConditionType),
    message: z.string(),
    until: isoTime('BackingOff: when the next launch may go.').optional(),
    failures: count('BackingOff and Failed: the consecutive failures behind it.').optional(),
  }),
  {
    id: 'Condition',
    description: 'A condition that holds now, with a message a person can act on.',
  },
);

export const deploymentStatusSchema = documented(
  z.object({
    id: count('The deployment: the generation at which the launch fields last changed.'),
    rolloutState: z.enum(['IN_PROGRESS', 'COMPLETED', 'FAILED']),
    reason: documented(z.string(), {
      description: 'Why it started ("service created", "taskDefinition changed", …).',
    }),
    startedAt: isoTime('When the deployment started.'),
    runningCount: count('Live tasks of this deployment that are RUNNING.'),
    pendingCount: count('Live tasks of this deployment not yet RUNNING.'),
    outdatedCount: count('Live tasks of older deployments still to be replaced.'),
    failedTasks: count(
      'Tasks of this deployment that failed to start, as the circuit breaker counts them.',
    ).optional(),
  }),
  {
    id: 'DeploymentStatus',
    description:
      'How far the current deployment has come, as DescribeServices’ deployments show it.',
  },
);

export const policyReportSchema = documented(
  z.object({
    policyName: z.string(),
    policyType: z.enum(['Scheduled', 'TargetTrackingScaling', 'StepScaling']),
    lastEvaluatedAt: isoTime(
      'When the policy was last evaluated; null before the first time.',
    ).nullable(),
    lastValue: documented(z.number(), {
      description: 'The metric value last read; null without data.',
    }).nullable(),
    lastOutcome: documented(z.string(), {
      description: 'What the policy did or wanted, in words.',
    }).nullable(),
    nextScheduledAt: isoTime('Scheduled policies only: the next fire time; null when none is left.')
      .nullable()
      .optional(),
  }),
  { id: 'PolicyReport', description: 'One scaling policy’s status.' },
);

export const serviceViewSchema = documented(
  z.object({
    serviceName: serviceNameSchema,
    cluster: service.cluster.unwrap(),
    taskDefinition: taskDefinitionRefSchema,
    desiredCount: documented(z.int().min(0).max(10_000), {
      description: 'The tasks wanted; 0 while the service is DRAINING.',
    }),
    launchType: z.enum(LaunchType).optional(),
    capacityProviderStrategy: service.capacityProviderStrategy,
    platformVersion: service.platformVersion,
    networkConfiguration: service.networkConfiguration,
    deploymentConfiguration: deploymentConfigurationSchema,
    placementConstraints: service.placementConstraints,
    placementStrategy: service.placementStrategy,
    loadBalancers: service.loadBalancers,
    healthCheckGracePeriodSeconds: service.healthCheckGracePeriodSeconds,
    tags: service.tags,
    propagateTags: service.propagateTags,
    enableExecuteCommand: service.enableExecuteCommand,
    restartPolicy: restartPolicyViewSchema.optional(),
    minCapacity: service.minCapacity,
    maxCapacity: service.maxCapacity,
    scalingPolicies: service.scalingPolicies,
    maxTaskLifetime: service.maxTaskLifetime,
    spotFallback: spotFallbackViewSchema.optional(),
    paused: service.paused,
    status: z.enum(['ACTIVE', 'DRAINING']),
    runningCount: count('RUNNING tasks, as the controller last saw them.'),
    pendingCount: count('Tasks started and not yet RUNNING.'),
    generation: documented(z.int().min(1), {
      description: 'Bumped by every spec change; the ETag is this number, quoted.',
    }),
    observedGeneration: count('The last generation the controller has acted on.'),
    steady: documented(z.boolean(), {
      description: 'True when `observedGeneration` equals `generation` and every task runs.',
    }),
    conditions: z.array(conditionSchema),
    deployment: deploymentStatusSchema,
    scaling: documented(z.object({ policies: z.array(policyReportSchema) }), {
      description:
        'With scaling policies: each policy’s last evaluation and, for schedules, the next action.',
    }).optional(),
    createdAt: isoTime('When the service was created.'),
    updatedAt: isoTime('When its spec or status last changed.'),
  }),
  {
    id: 'ServiceView',
    description:
      'A service: its spec (DescribeServices’ shape), then its status. The status fields describe the last generation the controller has acted on.',
  },
);

export const taskViewSchema = documented(
  z.object({
    taskArn: z.string(),
    taskId: z.string(),
    slot: count('The stable replica index (STEWARD_TASK_INDEX).').optional(),
    deployment: count('The deployment the task was launched for.').optional(),
    fallback: documented(z.boolean(), {
      description: 'Launched on on-demand capacity as a Spot fallback.',
    }).optional(),
    lastStatus: z.enum(TaskStatus),
    desiredStatus: z.string(),
    taskDefinitionArn: z.string().optional(),
    capacityProviderName: z.string().optional(),
    createdAt: isoTime('When ECS created the task.').optional(),
    startedAt: isoTime('When it started running.').optional(),
    stoppingAt: isoTime('When it began stopping.').optional(),
    stoppedAt: isoTime('When it stopped.').optional(),
    stopCode: z.string().optional(),
    stoppedReason: z.string().optional(),
    privateIp: documented(z.string(), {
      description: 'The task’s private IPv4 address (awsvpc).',
    }).optional(),
    targets: documented(
      z.array(z.object({ targetGroupArn: z.string(), id: z.string(), port: z.int() })),
      {
        description:
          'Load balanced: the targets Steward registered the task as (ip and port per target group), until they are deregistered.',
      },
    ).optional(),
  }),
  { id: 'TaskView', description: 'A task as Steward last saw it (from ECS events and resync).' },
);

export const serviceEventSchema = documented(
  z.object({
    id: z.string(),
    createdAt: isoTime('When it was first said.'),
    message: z.string(),
    count: documented(z.int().min(1), {
      description: 'How many times it was said in a row (repeats are folded).',
    }).optional(),
    lastAt: isoTime('When it was last said.').optional(),
  }),
  {
    id: 'ServiceEvent',
    description:
      'A line of the service’s history, such as "(service web) has reached a steady state."',
  },
);

export const taskDefinitionViewSchema = documented(
  z.object({
    taskDefinitionArn: z.string(),
    family: z.string(),
    revision: z.int().min(1),
    status: z.string(),
    taskRoleArn: z.string().optional(),
    executionRoleArn: z.string().optional(),
    networkMode: z.string().optional(),
    requiresCompatibilities: z.array(z.string()).optional(),
    cpu: documented(z.string(), { description: 'CPU units, as ECS stores them.' }).optional(),
    memory: documented(z.string(), { description: 'MiB, as ECS stores them.' }).optional(),
    containers: z.array(
      z.object({
        name: z.string(),
        image: z.string(),
        ports: documented(z.array(z.int().min(0).max(65_535)), {
          description: 'The container ports its port mappings expose.',
        }).optional(),
      }),
    ),
    registeredAt: isoTime('When ECS registered it.').optional(),
  }),
  {
    id: 'TaskDefinitionView',
    description: 'A registered task definition (ECS TaskDefinition, the fields that matter).',
  },
);

const nextToken = documented(z.string(), {
  description: 'Pass it back as `nextToken` for the next page; absent on the last page.',
});

export const serviceListSchema = documented(
  z.object({ services: z.array(serviceViewSchema), nextToken: nextToken.optional() }),
  { id: 'ServiceList', description: 'A page of services.' },
);

export const taskListSchema = documented(
  z.object({ tasks: z.array(taskViewSchema), nextToken: nextToken.optional() }),
  { id: 'TaskList', description: 'A page of the service’s tasks, by task id.' },
);

export const serviceEventListSchema = documented(
  z.object({ events: z.array(serviceEventSchema), nextToken: nextToken.optional() }),
  { id: 'ServiceEventList', description: 'A page of the service’s events, newest first.' },
);

export const taskDefinitionRevisionSchema = documented(
  z.object({ taskDefinitionArn: z.string(), revision: z.int().min(1) }),
  { id: 'TaskDefinitionRevision' },
);

export const taskDefinitionRevisionListSchema = documented(
  z.object({
    family: z.string(),
    revisions: z.array(taskDefinitionRevisionSchema),
    nextToken: nextToken.optional(),
  }),
  {
    id: 'TaskDefinitionRevisionList',
    description: 'A page of the family’s ACTIVE revisions, newest first.',
  },
);

export const healthSchema = documented(z.object({ status: z.literal('ok') }), { id: 'Health' });

export const fieldErrorSchema = documented(
  z.object({
    path: documented(z.string(), {
      description:
        'Where: a JSON path into the body (`desiredCount`, `tags[2].key`), `(body)` for the body as a whole, a parameter name, or `headers.<name>`.',
    }),
    message: z.string(),
  }),
  { id: 'FieldError' },
);

export const errorSchema = documented(
  z.object({
    message: z.string(),
    errors: documented(z.array(fieldErrorSchema), {
      description: 'One entry per bad field, its first problem (400); often empty otherwise.',
    }),
  }),
  {
    id: 'Error',
    description:
      'Every error Steward answers: a message, and the fields at fault. A rejected request changes nothing.',
  },
);

/** What API Gateway itself answers in AWS (a failed IAM check, a crashed function). */
export const gatewayErrorSchema = documented(z.object({ message: z.string() }), {
  id: 'GatewayError',
  description: 'An error answered by API Gateway itself, in AWS: a message only.',
});

// ---------------------------------------------------------------------------------------------
// Conversion

/**
 * Every named schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), input side: what a client
 * sends, defaults not required. Named schemas refer to each other with `$ref`.
 */
function componentSchemas(): Record<string, unknown> {
  const inlineTaskDefinition = service.taskDefinition.options[1];
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    metadata: registry,
    uri: (id) => schemaRef(id).$ref,
    override: (ctx) => {
      // The inline form is validated as a task definition by the use case, not by this schema
      // (which takes any object); a client should see what the server will accept.
      if (ctx.zodSchema === inlineTaskDefinition) {
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, schemaRef('RegisterTaskDefinitionRequest'));
      }
    },
  });
  // Each comes out as a document of its own; as a component it needs no `$schema`, and a `$id`
  // with a fragment is not allowed in 2020-12.
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [name, rest];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Parameters, headers, responses

const ERROR_RESPONSES = {
  400: {
    name: 'BadRequest',
    description:
      'Invalid input: the body, a parameter or a query value. `errors` lists every bad field, one message each.',
  },
  401: {
    name: 'Unauthorized',
    description: 'Local stack only: no valid `Authorization: Bearer <token>`.',
  },
  403: {
    name: 'Forbidden',
    description:
      'A cluster or an IAM role outside Steward’s allow-lists; in AWS also a failed IAM (SigV4) check, answered by API Gateway.',
  },
  404: { name: 'NotFound', description: 'No such service or task definition family.' },
  409: {
    name: 'Conflict',
    description:
      'The name is taken, the service is being deleted, or it kept changing while the request was applied (retry).',
  },
  412: {
    name: 'PreconditionFailed',
    description:
      '`If-Match` names a version the service is no longer at: nothing was written. Read it again (GET) and retry with its ETag.',
  },
  413: { name: 'PayloadTooLarge', description: 'The body is larger than 64 KiB.' },
  415: {
    name: 'UnsupportedMediaType',
    description: 'The Content-Type is not one this route takes.',
  },
  500: {
    name: 'InternalServerError',
    description:
      'Something unexpected failed; the message is generic and nothing internal is shown.',
  },
} as const;
type ErrorStatus = keyof typeof ERROR_RESPONSES;

/** Errors any route can answer, and those of the authenticated ones. */
const ALWAYS: readonly ErrorStatus[] = [500];
const AUTHENTICATED: readonly ErrorStatus[] = [401, 403, 500];

const errorContent = (status: ErrorStatus) => ({
  'application/json': {
    // API Gateway answers a failed IAM check and a crashed function itself, with a message only.
    schema:
      status === 403 || status === 500
        ? { anyOf: [schemaRef('Error'), schemaRef('GatewayError')] }
        : schemaRef('Error'),
  },
});

function errorResponses(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([code, { name, description }]) => {
      const status = Number(code) as ErrorStatus;
      return [
        name,
        {
          description,
          ...(status === 401
            ? {
                headers: {
                  'WWW-Authenticate': componentRef({ kind: 'headers', name: 'WWWAuthenticate' }),
                },
              }
            : {}),
          content: errorContent(status),
        },
      ];
    }),
  );
}

const parameter = (name: string) => componentRef({ kind: 'parameters', name });

const PARAMETERS = {
  ServiceName: {
    name: 'serviceName',
    in: 'path',
    required: true,
    description: 'The service.',
    schema: schemaRef('ServiceName'),
  },
  Family: {
    name: 'family',
    in: 'path',
    required: true,
    description: 'The task definition family.',
    schema: schemaRef('TaskDefinitionFamily'),
  },
  Cluster: {
    name: 'cluster',
    in: 'query',
    required: false,
    description: 'Only the services of this cluster (name or ARN).',
    schema: { type: 'string' },
  },
  MaxResults: {
    name: 'maxResults',
    in: 'query',
    required: false,
    description: 'At most this many items in the page, 1-100 (default 100).',
    schema: { type: 'integer', minimum: 1, maximum: 100 },
  },
  NextToken: {
    name: 'nextToken',
    in: 'query',
    required: false,
    description:
      'The `nextToken` of the previous page; opaque. A token this listing did not issue is 400.',
    schema: { type: 'string' },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      'Makes the write conditional: an ETag read earlier (`"3"`), several (`"3", "4"`), or `*` (any existing service). A service at another version answers 412 and nothing is written. Without it the last writer wins.',
    schema: { type: 'string' },
  },
} as const;

const HEADERS = {
  ETag: {
    description:
      'The service’s version (its generation, quoted, e.g. `"3"`); send it back as `If-Match`.',
    required: true,
    schema: { type: 'string', pattern: '^"[1-9][0-9]*"$' },
  },
  Location: {
    description: 'Where the created resource is read.',
    required: true,
    schema: { type: 'string', format: 'uri-reference' },
  },
  WWWAuthenticate: {
    description: 'Local stack: `Bearer`.',
    schema: { type: 'string' },
  },
};

const header = (name: keyof typeof HEADERS) => componentRef({ kind: 'headers', name });
const json = (schema: unknown) => ({ 'application/json': { schema } });

/** A response that carries a service and its ETag (and, for a create, where to read it). */
const serviceResponse = (o: { description: string; created?: boolean }) => ({
  description: o.description,
  headers: { ETag: header('ETag'), ...(o.created ? { Location: header('Location') } : {}) },
  content: json(schemaRef('ServiceView')),
});

// ---------------------------------------------------------------------------------------------
// Operations

const SECURED = [{ sigv4: [] }, { bearerAuth: [] }];

type Operation = {
  operationId: string;
  tag: 'services' | 'task definitions' | 'meta';
  summary: string;
  description: string;
  parameters?: readonly unknown[];
  requestBody?: unknown;
  responses: Record<number, unknown>;
  errors: readonly ErrorStatus[];
  /** No authentication (the route has no authorizer in serverless.yml). */
  public?: boolean;
};

function operation(o: Operation): Record<string, unknown> {
  const errors = [...new Set([...(o.public ? ALWAYS : AUTHENTICATED), ...o.errors])].sort(
    (a, b) => a - b,
  );
  const responses: Record<string, unknown> = {};
  for (const [code, response] of Object.entries(o.responses)) responses[code] = response;
  for (const status of errors) {
    responses[String(status)] = componentRef({
      kind: 'responses',
      name: ERROR_RESPONSES[status].name,
    });
  }
  return {
    operationId: o.operationId,
    tags: [o.tag],
    summary: o.summary,
    description: o.description,
    ...(o.parameters ? { parameters: o.parameters } : {}),
    ...(o.requestBody ? { requestBody: o.requestBody } : {}),
    responses,
    security: o.public ? [] : SECURED,
  };
}

const EXAMPLE_SERVICE = {
  serviceName: 'web',
  cluster: 'default',
  taskDefinition: 'web:3',
  desiredCount: 3,
  launchType: 'FARGATE',
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-0a1b2c3d'],
      securityGroups: ['sg-0a1b2c3d'],
      assignPublicIp: 'DISABLED',
    },
  },
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
  restartPolicy: { maxConsecutiveFailures: 5 },
};

const EXAMPLE_TASK_DEFINITION = {
  family: 'web',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    {
      name: 'app',
      image: 'public.ecr.aws/docker/library/httpd:2.4',
      portMappings: [{ containerPort: 80, protocol: 'tcp' }],
    },
  ],
};

const EXAMPLE_TASK_DEFINITION_YAML = [
  'family: web',
  'requiresCompatibilities: [FARGATE]',
  'networkMode: awsvpc',
  'cpu: 0.25 vCPU',
  'memory: 0.5 GB',
  'containerDefinitions:',
  '  - name: app',
  '    image: public.ecr.aws/docker/library/httpd:2.4',
  '    portMappings:',
  '      - containerPort: 80',
  '',
].join('\n');

/** The request bodies' examples, by component name (the tests parse each with the API's schema). */
export const requestExamples = {
  CreateServiceRequest: EXAMPLE_SERVICE,
  ReplaceServiceRequest: { ...EXAMPLE_SERVICE, desiredCount: 5 },
  UpdateServiceRequest: { desiredCount: 5 },
  RegisterTaskDefinitionRequest: EXAMPLE_TASK_DEFINITION,
  RegisterTaskDefinitionRequestYaml: EXAMPLE_TASK_DEFINITION_YAML,
} as const;

const jsonBody = (o: { schema: string; description: string; example: unknown }) => ({
  required: true,
  description: o.description,
  content: { 'application/json': { schema: schemaRef(o.schema), example: o.example } },
});

function paths(): Record<string, Record<string, unknown>> {
  const serviceName = parameter('ServiceName');
  const ifMatch = parameter('IfMatch');
  const serviceBody: readonly ErrorStatus[] = [400, 404, 409, 412, 413, 415];
  return {
    '/health': {
      get: operation({
        operationId: 'getHealth',
        tag: 'meta',
        summary: 'Liveness',
        description: 'Answers 200 while the API function runs. No authentication.',
        responses: { 200: { description: 'Up.', content: json(schemaRef('Health')) } },
        errors: [],
        public: true,
      }),
    },
    '/openapi.json': {
      get: operation({
        operationId: 'getOpenApi',
        tag: 'meta',
        summary: 'This document',
        description: 'The API’s OpenAPI 3.1 document. No authentication.',
        responses: {
          200: {
            description: 'The document.',
            content: json({ type: 'object', required: ['openapi', 'info', 'paths'] }),
          },
        },
        errors: [],
        public: true,
      }),
    },
    '/services': {
      post: operation({
        operationId: 'createService',
        tag: 'services',
        summary: 'Create a service',
        description:
          'Creates a service from a body shaped like ECS CreateService. The answer is the service at generation 1; the controller starts its tasks within seconds and the status fields catch up. A taken name is 409, and then nothing is registered.',
        requestBody: jsonBody({
          schema: 'CreateServiceRequest',
          description: 'The service.',
          example: requestExamples.CreateServiceRequest,
        }),
        responses: {
          201: serviceResponse({ description: 'Created: the service.', created: true }),
        },
        errors: [400, 409, 413, 415],
      }),
      get: operation({
        operationId: 'listServices',
        tag: 'services',
        summary: 'List services',
        description: 'Lists services, optionally of one cluster, a page at a time.',
        parameters: [parameter('Cluster'), parameter('MaxResults'), parameter('NextToken')],
        responses: {
          200: { description: 'A page of services.', content: json(schemaRef('ServiceList')) },
        },
        errors: [400],
      }),
    },
    '/services/{serviceName}': {
      parameters: [serviceName],
      get: operation({
        operationId: 'getService',
        tag: 'services',
        summary: 'Read a service',
        description:
          'The service’s spec, then its status: `runningCount`, `pendingCount`, `generation`, `observedGeneration`, `steady`, `conditions` and the current `deployment`. The ETag header is its version.',
        responses: { 200: serviceResponse({ description: 'The service.' }) },
        errors: [400, 404],
      }),
      put: operation({
        operationId: 'replaceService',
        tag: 'services',
        summary: 'Replace a service’s spec',
        description:
          'Replaces the whole spec; fields left out take their defaults. A change to a launch field (taskDefinition, launchType, networkConfiguration, …) starts a deployment. `If-Match` makes it conditional.',
        parameters: [ifMatch],
        requestBody: jsonBody({
          schema: 'ReplaceServiceRequest',
          description: 'The whole spec.',
          example: requestExamples.ReplaceServiceRequest,
        }),
        responses: { 200: serviceResponse({ description: 'The service (`generation` + 1).' }) },
        errors: serviceBody,
      }),
      patch: operation({
        operationId: 'updateService',
        tag: 'services',
        summary: 'Change some of a service’s fields',
        description:
          'Each field given replaces the stored one; a change to a launch field starts a deployment. `If-Match` makes it conditional.',
        parameters: [ifMatch],
        requestBody: jsonBody({
          schema: 'UpdateServiceRequest',
          description: 'The fields to change.',
          example: requestExamples.UpdateServiceRequest,
        }),
        responses: { 200: serviceResponse({ description: 'The service (`generation` + 1).' }) },
        errors: serviceBody,
      }),
      delete: operation({
        operationId: 'deleteService',
        tag: 'services',
        summary: 'Delete a service',
        description:
          'Stops the service’s tasks, then removes it. The answer is the service, DRAINING with `desiredCount` 0; reads find it until its tasks are gone. `If-Match` makes it conditional.',
        parameters: [ifMatch],
        responses: { 202: serviceResponse({ description: 'Accepted: the service, DRAINING.' }) },
        errors: [400, 404, 409, 412],
      }),
    },
    '/services/{serviceName}/tasks': {
      parameters: [serviceName],
      get: operation({
        operationId: 'listServiceTasks',
        tag: 'services',
        summary: 'List a service’s tasks',
        description:
          'The service’s tasks as Steward last saw them: live ones, and those stopped within the last hours, by task id.',
        parameters: [parameter('MaxResults'), parameter('NextToken')],
        responses: {
          200: { description: 'A page of tasks.', content: json(schemaRef('TaskList')) },
        },
        errors: [400, 404],
      }),
    },
    '/services/{serviceName}/events': {
      parameters: [serviceName],
      get: operation({
        operationId: 'listServiceEvents',
        tag: 'services',
        summary: 'List a service’s events',
        description:
          'The service’s events, newest first ("(service web) has reached a steady state."); they go with the service.',
        parameters: [parameter('NextToken')],
        responses: {
          200: { description: 'A page of events.', content: json(schemaRef('ServiceEventList')) },
        },
        errors: [400, 404],
      }),
    },
    '/services/{serviceName}/redeploy': {
      parameters: [serviceName],
      post: operation({
        operationId: 'redeployService',
        tag: 'services',
        summary: 'Redeploy a service',
        description:
          'Starts a new deployment of the same spec (ECS forceNewDeployment): every task is replaced, within the deployment configuration’s bounds. No body. `If-Match` makes it conditional.',
        parameters: [ifMatch],
        responses: {
          202: serviceResponse({ description: 'Accepted: the service, with its new deployment.' }),
        },
        errors: [400, 404, 409, 412],
      }),
    },
    '/task-definitions': {
      post: operation({
        operationId: 'registerTaskDefinition',
        tag: 'task definitions',
        summary: 'Register a task definition',
        description:
          'Validates a task definition as ECS would register it, checks its roles against the allow-list, and registers it with ECS. JSON or YAML (YAML 1.2, JSON values only; `application/x-yaml`, `text/yaml` and `text/x-yaml` are taken too).',
        requestBody: {
          required: true,
          description: 'RegisterTaskDefinition’s body.',
          content: {
            'application/json': {
              schema: schemaRef('RegisterTaskDefinitionRequest'),
              example: requestExamples.RegisterTaskDefinitionRequest,
            },
            'application/yaml': {
              schema: schemaRef('RegisterTaskDefinitionRequest'),
              example: requestExamples.RegisterTaskDefinitionRequestYaml,
            },
          },
        },
        responses: {
          201: {
            description: 'Registered: the new revision.',
            headers: { Location: header('Location') },
            content: json(schemaRef('TaskDefinitionView')),
          },
        },
        errors: [400, 413, 415],
      }),
    },
    '/task-definitions/{family}': {
      parameters: [parameter('Family')],
      get: operation({
        operationId: 'listTaskDefinitionRevisions',
        tag: 'task definitions',
        summary: 'List a family’s revisions',
        description: 'The family’s ACTIVE revisions, newest first. A family with none is 404.',
        parameters: [parameter('NextToken')],
        responses: {
          200: {
            description: 'A page of revisions.',
            content: json(schemaRef('TaskDefinitionRevisionList')),
          },
        },
        errors: [400, 404],
      }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The document

const DESCRIPTION = [
  'Steward keeps a desired number of ECS tasks running from outside ECS. Services are declared with bodies shaped like ECS CreateService; the controller reconciles them with RunTask and StopTask.',
  '',
  '**Authentication.** Every route but `GET /health` and `GET /openapi.json` needs it: IAM (SigV4) in AWS, `Authorization: Bearer <token>` on the local stack (`npm start`).',
  '',
  '**Errors** are `{ "message": "…", "errors": [{ "path": "…", "message": "…" }] }`; a rejected request changes nothing. On the local stack a method a path does not have is 405 (with `Allow`). In AWS, API Gateway answers an unknown route or a failed IAM check itself, with `{ "message": … }` only.',
  '',
  '**Optimistic concurrency.** Every service response carries `ETag: "<generation>"`. Send it back as `If-Match` on PUT, PATCH, DELETE or redeploy: if the service changed since, the answer is 412 and nothing is written.',
  '',
  '**Accepted vs applied.** A write answers with the new `generation`; `observedGeneration` and the status fields catch up as the controller acts. `steady` is true when the latest generation runs in full.',
].join('\n');

function build(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Steward',
      version: '0.1.0',
      summary: 'A serverless service controller for Amazon ECS',
      description: DESCRIPTION,
    },
    servers: [
      { url: 'http://127.0.0.1:3000', description: 'The local stack (`npm start`, STEWARD_PORT)' },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'The deployed HTTP API',
        variables: {
          apiId: { default: 'abcdef1234', description: 'The HTTP API’s id' },
          region: { default: 'us-east-1', description: 'The AWS Region' },
        },
      },
    ],
    tags: [
      { name: 'services', description: 'Services: their spec, status, tasks and events.' },
      {
        name: 'task definitions',
        description: 'ECS task definitions, validated before ECS sees them.',
      },
      { name: 'meta', description: 'Liveness and this document.' },
    ],
    security: SECURED,
    paths: paths(),
    components: {
      schemas: componentSchemas(),
      parameters: PARAMETERS,
      headers: HEADERS,
      responses: errorResponses(),
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'In AWS: requests signed with AWS Signature Version 4 (service `execute-api`), authorised by IAM (`authorizer: aws_iam`). OpenAPI has no SigV4 type; this is how API Gateway describes it.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'On the local stack: `Authorization: Bearer <token>`, the token `npm start` prints (STEWARD_API_TOKEN, or saved in .steward/api-token).',
        },
      },
    },
  };
}

/** Freezes a plain JSON value throughout, so the memoised document cannot be changed by a caller. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

let memo: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document of the HTTP API: built on first use, then the same (frozen) object. */
export function openApiDocument(): Record<string, unknown> {
  memo ??= deepFreeze(JSON.parse(JSON.stringify(build())) as Record<string, unknown>);
  return memo;
}
