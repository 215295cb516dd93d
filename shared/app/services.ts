/**
 * The service API's use cases: `(deps, input) → result`. Each validates its input, makes one
 * conditional write, and asks the controller to reconcile (an event; the tick repairs a lost one).
 * Writes that depend on the stored spec (PUT, PATCH, redeploy) read it and write only if it is still
 * at the generation they read, so a concurrent writer is never overwritten silently.
 */
import {
  type AccessPolicy,
  checkCluster,
  checkRoles,
  checkTargetGroups,
  clusterNameOf,
} from '../core/access';
import {
  ConflictError,
  type FieldError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../core/errors';
import {
  type Condition,
  changedLaunchFields,
  type Deployment,
  type DeploymentStatus,
  type LoadBalancer,
  launchesOnFargate,
  launchFieldsOf,
  type ServiceRecord,
  type ServiceSpec,
  type Target,
  type TaskRecord,
} from '../core/model';
import { type PolicyReport, scalingReport } from '../core/scaling';
import {
  type CreateServiceInput,
  createServiceSchema,
  parseOrThrow,
  replaceServiceSchema,
  restartPolicyOf,
  serviceFieldsSchema,
  serviceNameSchema,
  type UpdateServiceInput,
  updateServiceSchema,
} from '../core/schemas';
import { validateTaskDefinition } from '../core/task-definition';
import { type LoadBalancing, LoadBalancingRefusal } from '../ports/load-balancing';
import type { ReconcileQueue } from '../ports/reconcile-queue';
import type { Page, ServiceEvent, ServiceStore, WriteResult } from '../ports/service-store';
import type { TaskDefinitions } from '../ports/task-definitions';

export type ServiceDeps = {
  store: ServiceStore;
  queue: ReconcileQueue;
  clock: () => number;
  taskDefinitions: TaskDefinitions;
  loadBalancing: LoadBalancing;
  access: AccessPolicy;
};

/** A service as the API shows it: DescribeServices' shape, plus Steward's generation bookkeeping. */
export type ServiceView = ServiceSpec & {
  status: 'ACTIVE' | 'DRAINING';
  runningCount: number;
  pendingCount: number;
  generation: number;
  observedGeneration: number;
  steady: boolean;
  conditions: Condition[];
  /** The current deployment and how far it has come. */
  deployment: DeploymentStatus;
  /** With scaling policies: each policy's last evaluation and, for schedules, the next action. */
  scaling?: { policies: PolicyReport[] };
  createdAt: string;
  updatedAt: string;
};

/** The result of a write: the service, and whether the reconcile request went out. */
export type WriteOutcome = { service: ServiceView; reconcileRequested: boolean };

const DEFAULT_DEPLOYMENT = { minimumHealthyPercent: 100, maximumPercent: 200 };

/** A read-then-write lost to a concurrent writer this many times in a row: answer 409. */
const MAX_WRITE_ATTEMPTS = 3;

/** Creates a service (ECS CreateService's body); ConflictError if the name is taken. */
export async function createService(deps: ServiceDeps, body: unknown): Promise<WriteOutcome> {
  const input = parseOrThrow({ schema: createServiceSchema, input: body, what: 'service' });
  const cluster = input.cluster ?? 'default';
  checkCluster(deps.access, cluster);
  // Refused before an inline task definition is registered, so a 409 registers nothing.
  if (await deps.store.getService(input.serviceName, { consistent: true })) {
    throw new ConflictError(`Service ${input.serviceName} already exists`);
  }
  const taskDefinition = await resolveTaskDefinition(deps, {
    taskDefinition: input.taskDefinition,
    fargate: launchesOnFargate(input),
    loadBalancers: input.loadBalancers,
  });
  const spec = specOf({ ...input, serviceName: input.serviceName, cluster, taskDefinition });
  const now = new Date(deps.clock()).toISOString();
  const written = await deps.store.createService({ spec, now });
  if (!written.ok) throw new ConflictError(`Service ${spec.serviceName} already exists`);
  return afterWrite(deps, spec.serviceName);
}

/** Replaces the whole spec (PUT): fields left out take their defaults; a launch change deploys. */
export async function replaceService(
  deps: ServiceDeps,
  input: { serviceName: string; body: unknown; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  const body = parseOrThrow({ schema: replaceServiceSchema, input: input.body, what: 'service' });
  if (body.serviceName !== undefined && body.serviceName !== serviceName) {
    throw new ValidationError('Invalid service: serviceName', [
      { path: 'serviceName', message: `must be ${serviceName}, the name in the path, or absent` },
    ]);
  }
  // Registered at most once, after every check, whatever the number of write attempts.
  const taskDefinition = once(() =>
    resolveTaskDefinition(deps, {
      taskDefinition: body.taskDefinition,
      fargate: launchesOnFargate(body),
      loadBalancers: body.loadBalancers,
    }),
  );
  return writeSpec(deps, { serviceName, ifMatch: input.ifMatch }, async (current) => {
    if (
      body.cluster !== undefined &&
      clusterNameOf(body.cluster) !== clusterNameOf(current.spec.cluster)
    ) {
      throw new ValidationError('Invalid service: cluster', [
        {
          path: 'cluster',
          message: `cannot be changed (the service runs in ${current.spec.cluster}); delete the service and create it in the other cluster`,
        },
      ]);
    }
    return {
      replace: specOf({
        ...body,
        serviceName,
        cluster: current.spec.cluster,
        // Left out, the count stays (a policy or a person may have scaled the service).
        desiredCount: body.desiredCount ?? current.spec.desiredCount,
        taskDefinition: await taskDefinition(),
      }),
    };
  });
}

/** Applies a partial update (PATCH): each given field replaces the stored one. */
export async function updateService(
  deps: ServiceDeps,
  input: { serviceName: string; body: unknown; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  const body = parseOrThrow({ schema: updateServiceSchema, input: input.body, what: 'update' });
  if (Object.keys(body).length === 0) {
    throw new ValidationError('Invalid update: it names no field to change', [
      { path: '(body)', message: 'names no field to change' },
    ]);
  }
  let resolved: (() => Promise<string>) | undefined;
  return writeSpec(deps, { serviceName, ifMatch: input.ifMatch }, async (current) => {
    const change = changeOf(body);
    // The fields must still agree with each other once merged (e.g. launchType with a strategy),
    // checked before an inline task definition is registered.
    const merged = {
      ...current.spec,
      ...change,
      ...(body.taskDefinition ? { taskDefinition: body.taskDefinition } : {}),
    };
    parseOrThrow({ schema: serviceFieldsSchema, input: merged, what: 'update' });
    if (body.taskDefinition !== undefined) {
      const given = body.taskDefinition;
      resolved ??= once(() =>
        resolveTaskDefinition(deps, {
          taskDefinition: given,
          fargate: launchesOnFargate(merged),
          loadBalancers: merged.loadBalancers,
        }),
      );
      change.taskDefinition = await resolved();
    } else if (body.loadBalancers !== undefined && (merged.loadBalancers?.length ?? 0) > 0) {
      // New target groups for the same task definition: they must fit it, as for a new service.
      const found = await deps.taskDefinitions.describe(current.spec.taskDefinition);
      await checkLoadBalancers(deps, {
        loadBalancers: merged.loadBalancers ?? [],
        definition: found ?? { containers: [] },
        reference: current.spec.taskDefinition,
      });
    }
    return { change };
  });
}

/** Starts a new deployment of the same spec (ECS forceNewDeployment): every task is replaced. */
export async function redeployService(
  deps: ServiceDeps,
  input: { serviceName: string; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  return writeSpec(deps, { serviceName, ifMatch: input.ifMatch }, async () => ({
    change: {},
    deploymentReason: 'redeploy requested',
  }));
}

/** Reads one service; NotFoundError if there is none. */
export async function getService(
  deps: ServiceDeps,
  input: { serviceName: string },
): Promise<ServiceView> {
  const record = await deps.store.getService(validName(input.serviceName));
  if (!record) throw new NotFoundError(`Service ${input.serviceName} not found`);
  return toView(record, deps.clock());
}

/** Lists services, optionally of one cluster, a page at a time. */
export async function listServices(
  deps: ServiceDeps,
  input: { cluster?: string; maxResults?: string; nextToken?: string },
): Promise<Page<ServiceView>> {
  const limit = maxResultsOf(input.maxResults);
  const page = await deps.store.listServices({
    ...(input.cluster !== undefined ? { cluster: input.cluster } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
  const now = deps.clock();
  return { ...page, items: page.items.map((r) => toView(r, now)) };
}

/** Starts deleting a service: its tasks are stopped, then it is removed. */
export async function deleteService(
  deps: ServiceDeps,
  input: { serviceName: string; ifMatch?: string | undefined },
): Promise<WriteOutcome> {
  const serviceName = validName(input.serviceName);
  const now = new Date(deps.clock()).toISOString();
  const expectedGeneration = await generationOf(deps, { serviceName, ifMatch: input.ifMatch });
  expectWritten(
    await deps.store.markDeleting({
      serviceName,
      now,
      ...(expectedGeneration === undefined ? {} : { expectedGeneration }),
    }),
    serviceName,
  );
  return afterWrite(deps, serviceName);
}

/** The service's events, newest first. */
export async function listServiceEvents(
  deps: ServiceDeps,
  input: { serviceName: string; nextToken?: string },
): Promise<Page<ServiceEvent>> {
  const serviceName = validName(input.serviceName);
  if (!(await deps.store.getService(serviceName)))
    throw new NotFoundError(`Service ${serviceName} not found`);
  return deps.store.listEvents({
    serviceName,
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
}

/** A task as the API shows it. */
export type TaskView = Pick<
  TaskRecord,
  | 'taskArn'
  | 'taskId'
  | 'slot'
  | 'deployment'
  | 'fallback'
  | 'lastStatus'
  | 'desiredStatus'
  | 'taskDefinitionArn'
  | 'capacityProviderName'
  | 'createdAt'
  | 'startedAt'
  | 'stoppingAt'
  | 'stoppedAt'
  | 'stopCode'
  | 'stoppedReason'
  | 'privateIp'
> & {
  /** Load balanced: the targets Steward registered the task as (until they are deregistered). */
  targets?: Target[];
};

/** The service's tasks as Steward last saw them (live, and stopped within the last hours). */
export async function listServiceTasks(
  deps: ServiceDeps,
  input: { serviceName: string; maxResults?: string; nextToken?: string },
): Promise<Page<TaskView>> {
  const serviceName = validName(input.serviceName);
  const limit = maxResultsOf(input.maxResults);
  const service = await deps.store.getService(serviceName);
  if (!service) throw new NotFoundError(`Service ${serviceName} not found`);
  const page = await deps.store.listTasks({
    serviceName,
    ...(limit !== undefined ? { limit } : {}),
    ...(input.nextToken !== undefined ? { nextToken: input.nextToken } : {}),
  });
  return {
    ...page,
    items: page.items.map(
      ({ version: _v, launchToken: _t, clusterArn: _c, updatedAt: _u, ...view }): TaskView => {
        const targets = (view.targets ?? []).map(({ targetGroupArn, id, port }) => ({
          targetGroupArn,
          id,
          port,
        }));
        return targets.length > 0 ? { ...view, targets } : view;
      },
    ),
  };
}

/** What a spec write does, decided from the stored record. */
type SpecWrite = {
  change?: Partial<ServiceSpec>;
  replace?: ServiceSpec;
  /** Starts a deployment even when no launch field changed (redeploy). */
  deploymentReason?: string;
};

/**
 * Reads the service, lets `decide` build the write from it, and writes only if the service is still
 * at the generation read: If-Match that names another generation is 412; a writer that slipped in
 * between read and write makes the whole thing start over (then 409 after a few tries).
 */
async function writeSpec(
  deps: ServiceDeps,
  o: { serviceName: string; ifMatch: string | undefined },
  decide: (current: ServiceRecord) => Promise<SpecWrite>,
): Promise<WriteOutcome> {
  const { serviceName } = o;
  const wanted = ifMatchGenerations(o.ifMatch, serviceName);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const current = await deps.store.getService(serviceName, { consistent: true });
    if (!current) throw new NotFoundError(`Service ${serviceName} not found`);
    if (current.deleting) {
      throw new ConflictError(`Service ${serviceName} is being deleted and cannot be changed`);
    }
    if (wanted !== undefined && !wanted.includes(current.generation)) {
      throw new PreconditionFailedError(
        `Service ${serviceName} has changed since the version in If-Match; read it again (GET) and retry with its ETag ${etagOf(current)}`,
      );
    }
    const write = await decide(current);
    const next: ServiceSpec = write.replace ?? { ...current.spec, ...write.change };
    const changed = changedLaunchFields(current.spec, next);
    const reason =
      write.deploymentReason ?? (changed.length > 0 ? `${changed.join(', ')} changed` : undefined);
    const now = new Date(deps.clock()).toISOString();
    // What a circuit breaker would roll back to: this deployment if it completed, else what it had.
    const completed =
      current.status.deployment?.id === current.deployment.id &&
      current.status.deployment.rolloutState === 'COMPLETED';
    const previous = completed
      ? { id: current.deployment.id, launch: launchFieldsOf(current.spec) }
      : current.deployment.previous;
    const deployment: Omit<Deployment, 'id'> | undefined =
      reason === undefined
        ? undefined
        : { startedAt: now, reason, ...(previous ? { previous } : {}) };
    const written = await deps.store.updateSpec({
      serviceName,
      ...(write.replace ? { replace: write.replace } : { change: write.change ?? {} }),
      ...(deployment ? { deployment } : {}),
      now,
      expectedGeneration: current.generation,
    });
    if (!written.ok && written.reason === 'precondition-failed' && wanted === undefined) continue;
    expectWritten(written, serviceName);
    const messages = [
      ...(deployment
        ? [`(service ${serviceName}) started deployment ${current.generation + 1}: ${reason}.`]
        : []),
      ...pauseMessages(serviceName, current.spec, next),
    ];
    if (messages.length > 0) await deps.store.appendEvents({ serviceName, messages, now });
    return afterWrite(deps, serviceName);
  }
  throw new ConflictError(
    `Service ${serviceName} kept changing while this request was applied; retry it`,
  );
}

function pauseMessages(name: string, before: ServiceSpec, after: ServiceSpec): string[] {
  const was = before.paused === true;
  const is = after.paused === true;
  if (!was && is) {
    return [
      `(service ${name}) paused: its tasks are stopped; desiredCount ${after.desiredCount} is kept for resume.`,
    ];
  }
  if (was && !is) return [`(service ${name}) resumed at desiredCount ${after.desiredCount}.`];
  return [];
}

/** The full spec from validated input: defaults filled in, Steward's policies normalised. */
function specOf(
  input: Omit<CreateServiceInput, 'taskDefinition' | 'cluster'> & {
    cluster: string;
    taskDefinition: string;
  },
): ServiceSpec {
  const { restartPolicy, deploymentConfiguration, ...rest } = input;
  const spec: ServiceSpec = {
    ...(dropUndefinedFields(rest) as Omit<ServiceSpec, 'deploymentConfiguration'>),
    deploymentConfiguration: {
      minimumHealthyPercent:
        deploymentConfiguration?.minimumHealthyPercent ?? DEFAULT_DEPLOYMENT.minimumHealthyPercent,
      maximumPercent: deploymentConfiguration?.maximumPercent ?? DEFAULT_DEPLOYMENT.maximumPercent,
      ...(deploymentConfiguration?.deploymentCircuitBreaker
        ? { deploymentCircuitBreaker: deploymentConfiguration.deploymentCircuitBreaker }
        : {}),
    },
    restartPolicy: restartPolicyOf(restartPolicy),
  };
  return spec;
}

/** A PATCH body as a spec change (the task definition is resolved by the caller). */
function changeOf(body: UpdateServiceInput): Partial<ServiceSpec> {
  const { taskDefinition: _td, restartPolicy, deploymentConfiguration, ...rest } = body;
  const change = dropUndefinedFields(rest) as Partial<ServiceSpec>;
  if (restartPolicy !== undefined) change.restartPolicy = restartPolicyOf(restartPolicy);
  if (deploymentConfiguration !== undefined) {
    change.deploymentConfiguration = {
      minimumHealthyPercent:
        deploymentConfiguration.minimumHealthyPercent ?? DEFAULT_DEPLOYMENT.minimumHealthyPercent,
      maximumPercent: deploymentConfiguration.maximumPercent ?? DEFAULT_DEPLOYMENT.maximumPercent,
      ...(deploymentConfiguration.deploymentCircuitBreaker
        ? { deploymentCircuitBreaker: deploymentConfiguration.deploymentCircuitBreaker }
        : {}),
    };
  }
  return change;
}

function dropUndefinedFields(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * The task definition a spec stores. An inline definition is validated as ECS would, checked against
 * the role allow-list and the launch type, registered, and pinned (`family:revision`). A reference
 * must name an ACTIVE task definition, as CreateService requires; a family without a revision is
 * pinned to its latest revision, as ECS does, so a revision registered later starts no unannounced
 * rollout; its roles and launch compatibility are checked, so what was checked is what runs.
 */
async function resolveTaskDefinition(
  deps: ServiceDeps,
  o: {
    taskDefinition: string | Record<string, unknown>;
    fargate: boolean;
    /** The service's load balancers: the definition must have their containers and ports. */
    loadBalancers: LoadBalancer[] | undefined;
  },
): Promise<string> {
  const { taskDefinition, fargate } = o;
  const loadBalancers = o.loadBalancers ?? [];
  if (typeof taskDefinition !== 'string') {
    const definition = nested('taskDefinition', () => validateTaskDefinition(taskDefinition));
    checkCompatible(definition, fargate);
    checkRoles(deps.access, definition);
    await checkLoadBalancers(deps, {
      loadBalancers,
      reference: 'the inline task definition',
      definition: {
        ...(definition.networkMode ? { networkMode: definition.networkMode } : {}),
        containers: definition.containerDefinitions.map((c) => ({
          name: c.name,
          ports: (c.portMappings ?? []).flatMap((m) =>
            m.containerPort === undefined ? [] : [m.containerPort],
          ),
        })),
      },
    });
    const registered = await nested('taskDefinition', () =>
      deps.taskDefinitions.register(definition as Record<string, unknown>),
    );
    return `${registered.family}:${registered.revision}`;
  }
  const found = await deps.taskDefinitions.describe(taskDefinition);
  if (!found) {
    throw new ValidationError('Invalid service: taskDefinition', [
      { path: 'taskDefinition', message: `${taskDefinition} is not a registered task definition` },
    ]);
  }
  if (found.status !== 'ACTIVE') {
    throw new ValidationError('Invalid service: taskDefinition', [
      {
        path: 'taskDefinition',
        message: `${taskDefinition} is ${found.status}: new services and deployments need an ACTIVE revision`,
      },
    ]);
  }
  checkCompatible(found, fargate);
  checkRoles(deps.access, found);
  await checkLoadBalancers(deps, {
    loadBalancers,
    definition: found,
    reference: `${found.family}:${found.revision}`,
  });
  return `${found.family}:${found.revision}`;
}

/**
 * A load-balanced service's task definition and target groups, checked as CreateService checks
 * them: each `containerName` names a container that maps `containerPort`; the awsvpc network mode
 * (Steward registers each task by its IP); each target group exists, with target type `ip`.
 * Every bad field is named at once.
 */
async function checkLoadBalancers(
  deps: ServiceDeps,
  o: {
    loadBalancers: LoadBalancer[];
    definition: { networkMode?: string; containers: { name: string; ports?: number[] }[] };
    /** How errors name the task definition ("web:3"). */
    reference: string;
  },
): Promise<void> {
  if (o.loadBalancers.length === 0) return;
  checkTargetGroups(deps.access, o.loadBalancers);
  const errors: FieldError[] = [];
  const mode = o.definition.networkMode ?? 'bridge';
  if (mode !== 'awsvpc') {
    errors.push({
      path: 'loadBalancers',
      message: `need a task definition with networkMode awsvpc (Steward registers each task by its IP address); ${o.reference} has ${mode}`,
    });
  }
  // ELB refusing to describe a group (a malformed or foreign ARN) is bad input too: 400.
  const groups = await Promise.all(
    o.loadBalancers.map((lb) =>
      deps.loadBalancing
        .describeTargetGroup(lb.targetGroupArn)
        .catch((error: unknown) =>
          error instanceof LoadBalancingRefusal
            ? { refused: error.message }
            : Promise.reject(error),
        ),
    ),
  );
  o.loadBalancers.forEach((lb, i) => {
    const at = `loadBalancers[${i}]`;
    const container = o.definition.containers.find((c) => c.name === lb.containerName);
    if (!container) {
      const names = o.definition.containers.map((c) => c.name).join(', ');
      errors.push({
        path: `${at}.containerName`,
        message: `names no container of ${o.reference}${names ? ` (its containers: ${names})` : ''}`,
      });
    } else if (!(container.ports ?? []).includes(lb.containerPort)) {
      const ports = (container.ports ?? []).join(', ');
      errors.push({
        path: `${at}.containerPort`,
        message: `is not a port of container ${lb.containerName} in ${o.reference} (${ports ? `its container ports: ${ports}` : 'it maps no ports'})`,
      });
    }
    const group = groups[i];
    if (!group) {
      errors.push({ path: `${at}.targetGroupArn`, message: 'names no existing target group' });
    } else if ('refused' in group) {
      errors.push({
        path: `${at}.targetGroupArn`,
        message: `could not be read from Elastic Load Balancing: ${group.refused}`,
      });
    } else if (group.targetType !== 'ip') {
      errors.push({
        path: `${at}.targetGroupArn`,
        message: `has target type ${group.targetType}; Steward registers each task by its IP address, so the target group's target type must be ip`,
      });
    }
  });
  if (errors.length > 0) {
    throw new ValidationError(`Invalid service: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
}

/** A service on Fargate needs a task definition that declares FARGATE compatibility. */
function checkCompatible(
  definition: { requiresCompatibilities?: string[] | undefined },
  fargate: boolean,
): void {
  if (fargate && !(definition.requiresCompatibilities ?? []).includes('FARGATE')) {
    throw new ValidationError('Invalid service: taskDefinition.requiresCompatibilities', [
      {
        path: 'taskDefinition.requiresCompatibilities',
        message: 'must include FARGATE for a service that runs on Fargate',
      },
    ]);
  }
}

/** Runs `f` once; later calls share its promise. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= f();
    return result;
  };
}

/** Runs `f`; a ValidationError it throws has its paths moved under `field`. */
function nested<T>(field: string, f: () => T): T {
  const move = (error: unknown): never => {
    if (!(error instanceof ValidationError)) throw error;
    const errors: FieldError[] = error.errors.map((e) => ({
      path: e.path === '(body)' ? field : `${field}.${e.path}`,
      message: e.message,
    }));
    throw new ValidationError(`Invalid service: ${errors.map((e) => e.path).join(', ')}`, errors);
  };
  try {
    const out = f();
    return (out instanceof Promise ? out.catch(move) : out) as T;
  } catch (error) {
    return move(error);
  }
}

function maxResultsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ValidationError('Invalid query: maxResults', [
      { path: 'maxResults', message: 'must be a whole number from 1 to 100' },
    ]);
  }
  return limit;
}

async function afterWrite(deps: ServiceDeps, serviceName: string): Promise<WriteOutcome> {
  let reconcileRequested = true;
  try {
    await deps.queue.enqueue(serviceName);
  } catch {
    // The write is accepted either way; the next tick reconciles every service.
    reconcileRequested = false;
  }
  // Strongly consistent: an eventually consistent read could miss the write just made.
  const record = await deps.store.getService(serviceName, { consistent: true });
  if (!record) throw new NotFoundError(`Service ${serviceName} not found`);
  return { service: toView(record, deps.clock()), reconcileRequested };
}

/** The service's ETag: its generation, as a strong entity tag. */
export function etagOf(service: { generation: number }): string {
  return `"${service.generation}"`;
}

/**
 * The generations an If-Match header accepts: undefined without the header or with `*` (any existing
 * service); a value that is no ETag of ours can match nothing, so it fails the precondition.
 */
function ifMatchGenerations(
  ifMatch: string | undefined,
  serviceName: string,
): number[] | undefined {
  const header = ifMatch?.trim();
  if (header === undefined || header === '' || header === '*') return undefined;
  const generations = header.split(',').flatMap((t) => {
    const m = /^"([1-9]\d{0,15})"$/.exec(t.trim());
    // A generation is a safe integer; a larger tag can match no version (and DynamoDB refuses it).
    return m && Number.isSafeInteger(Number(m[1])) ? [Number(m[1])] : [];
  });
  if (generations.length === 0) {
    throw new PreconditionFailedError(
      `If-Match ${header} matches no version of service ${serviceName}`,
    );
  }
  return generations;
}

/** The generation a conditional delete must find: the one If-Match names, checked against the store. */
async function generationOf(
  deps: ServiceDeps,
  o: { serviceName: string; ifMatch: string | undefined },
): Promise<number | undefined> {
  const generations = ifMatchGenerations(o.ifMatch, o.serviceName);
  if (generations === undefined) return undefined;
  if (generations.length === 1) return generations[0];
  // Several tags: the write may go at whichever is current.
  const current = await deps.store.getService(o.serviceName, { consistent: true });
  if (!current) throw new NotFoundError(`Service ${o.serviceName} not found`);
  if (!generations.includes(current.generation)) {
    throw new PreconditionFailedError(
      `If-Match ${o.ifMatch} does not match the service's current ETag ${etagOf(current)}`,
    );
  }
  return current.generation;
}

function expectWritten(written: WriteResult, serviceName: string): void {
  if (written.ok) return;
  if (written.reason === 'not-found') throw new NotFoundError(`Service ${serviceName} not found`);
  if (written.reason === 'precondition-failed') {
    throw new PreconditionFailedError(
      `Service ${serviceName} has changed since the version in If-Match; read it again (GET) and retry with its ETag`,
    );
  }
  throw new ConflictError(`Service ${serviceName} is being deleted and cannot be changed`);
}

function validName(serviceName: string): string {
  return parseOrThrow({
    schema: serviceNameSchema,
    input: serviceName,
    what: 'serviceName',
    root: 'serviceName',
  });
}

/** The API's view of a stored service. */
function toView(record: ServiceRecord, now: number): ServiceView {
  const policies = record.spec.scalingPolicies ?? [];
  return {
    ...record.spec,
    // A draining service is on its way to zero, whatever its spec said.
    desiredCount: record.deleting ? 0 : record.spec.desiredCount,
    status: record.deleting ? 'DRAINING' : 'ACTIVE',
    runningCount: record.status.runningCount,
    pendingCount: record.status.pendingCount,
    generation: record.generation,
    observedGeneration: record.status.observedGeneration,
    // Steady means the latest spec is applied, not only that the last one was.
    steady: record.status.steady && record.status.observedGeneration === record.generation,
    conditions: record.status.conditions,
    deployment: deploymentViewOf(record),
    ...(policies.length > 0
      ? {
          scaling: {
            policies: scalingReport({
              policies,
              state: record.scaling,
              now,
              createdAt: Date.parse(record.createdAt),
            }),
          },
        }
      : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** The deployment as last observed; one the controller has not seen yet is IN_PROGRESS. */
function deploymentViewOf(record: ServiceRecord): DeploymentStatus {
  const observed = record.status.deployment;
  if (observed?.id === record.deployment.id) return observed;
  const { previous: _internal, ...deployment } = record.deployment;
  return {
    ...deployment,
    rolloutState: 'IN_PROGRESS',
    runningCount: 0,
    pendingCount: 0,
    outdatedCount: record.status.runningCount + record.status.pendingCount,
  };
}
