import { clientError, invalidParameter, serializationError } from './errors';
import { type ArnContext, arnResource, arns, type StoredTaskDefinition } from './model';
import { paginate } from './pagination';
import {
  isFargateSize,
  isValidName,
  parseCpuUnits,
  parseMemoryMiB,
  RequestReader,
  readTags,
  type Tag,
} from './validation';
import { readWorkload } from './workload';

const NETWORK_MODES = ['bridge', 'host', 'awsvpc', 'none'] as const;
const COMPATIBILITIES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'] as const;
const MAX_CONTAINERS = 10;

const toSeconds = (ms: number): number => ms / 1000;

/** A task definition reference split into family and optional revision (undefined = latest). */
export type TaskDefinitionRef = { family: string; revision?: number };

/** Parses `family`, `family:revision`, or a task definition ARN (`:*` means latest ACTIVE). */
export const parseTaskDefinitionRef = (ref: string): TaskDefinitionRef | undefined => {
  const resource = arnResource(ref);
  let spec = ref;
  if (resource !== undefined) {
    if (!resource.startsWith('task-definition/')) return undefined;
    spec = resource.slice('task-definition/'.length);
  }
  const [family, revision, ...extra] = spec.split(':');
  if (family === undefined || !isValidName(family) || extra.length > 0) return undefined;
  if (revision === undefined || revision === '*') return { family };
  if (!/^[1-9]\d*$/.test(revision)) return undefined;
  return { family, revision: Number(revision) };
};

const jsonClone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export type TaskDefinitionRegistryOptions = ArnContext & {
  now: () => number;
  definitions?: readonly StoredTaskDefinition[];
};

/** Task definition families and revisions: RegisterTaskDefinition and friends. */
export class TaskDefinitionRegistry {
  private readonly byArn = new Map<string, StoredTaskDefinition>();
  private readonly ctx: ArnContext;
  private readonly now: () => number;

  constructor(options: TaskDefinitionRegistryOptions) {
    this.ctx = { region: options.region, accountId: options.accountId };
    this.now = options.now;
    for (const d of options.definitions ?? []) this.byArn.set(d.taskDefinitionArn, d);
  }

  all(): StoredTaskDefinition[] {
    return [...this.byArn.values()];
  }

  byArnExact(arn: string): StoredTaskDefinition | undefined {
    return this.byArn.get(arn);
  }

  /** Resolves a reference; a family alone means its latest ACTIVE revision. */
  resolve(ref: string): StoredTaskDefinition | undefined {
    const parsed = parseTaskDefinitionRef(ref);
    if (!parsed) return undefined;
    if (parsed.revision !== undefined) {
      return this.byArn.get(
        arns.taskDefinition({ ...this.ctx, ...parsed, revision: parsed.revision }),
      );
    }
    return this.revisions(parsed.family)
      .filter((d) => d.status === 'ACTIVE')
      .at(-1);
  }

  /** Resolves the task definition for RunTask, with RunTask's error wording. */
  resolveForRun(ref: string): StoredTaskDefinition {
    const td = this.resolve(ref);
    if (!td) throw clientError('TaskDefinition not found.');
    if (td.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');
    return td;
  }

  register(body: unknown): { taskDefinition: Record<string, unknown>; tags: Tag[] } {
    const req = new RequestReader({ body, missing: 'ClientException' });
    const family = req.requiredString('family');
    if (!isValidName(family)) {
      throw clientError(
        'Family must be up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.',
      );
    }
    const networkMode = req.enumString({ member: 'networkMode', values: NETWORK_MODES });
    const requires = req.stringList('requiresCompatibilities') ?? [];
    for (const c of requires) {
      if (!(COMPATIBILITIES as readonly string[]).includes(c)) {
        throw invalidParameter(`requiresCompatibilities contains an invalid value: '${c}'.`);
      }
    }
    const cpuUnits = this.readSize({ req, member: 'cpu', parse: parseCpuUnits });
    const memoryMiB = this.readSize({ req, member: 'memory', parse: parseMemoryMiB });
    const containers = req.objectList('containerDefinitions');
    if (!containers || containers.length === 0) {
      throw clientError('Container list cannot be empty.');
    }
    if (containers.length > MAX_CONTAINERS) throw clientError('Too many containers.');
    const containerDefinitions = this.readContainers({ containers, taskMemory: memoryMiB });

    const fargateSized =
      networkMode === 'awsvpc' &&
      cpuUnits !== undefined &&
      memoryMiB !== undefined &&
      isFargateSize({ cpu: cpuUnits, memory: memoryMiB });
    if (requires.includes('FARGATE')) {
      if (networkMode !== 'awsvpc')
        throw clientError("Fargate only supports network mode 'awsvpc'.");
      if (cpuUnits === undefined) {
        throw clientError("Fargate requires that 'cpu' be defined at the task level.");
      }
      if (memoryMiB === undefined) {
        throw clientError("Fargate requires that 'memory' be defined at the task level.");
      }
      if (!fargateSized) {
        throw clientError(
          `No Fargate configuration exists for given values: ${cpuUnits} CPU, ${memoryMiB} memory. See the Amazon ECS documentation for the valid values.`,
        );
      }
    }
    const ephemeral = req.object('ephemeralStorage');
    if (ephemeral) {
      const size = ephemeral.integer('sizeInGiB');
      if (size === undefined || size < 21 || size > 200) {
        throw clientError('ephemeralStorage.sizeInGiB must be between 21 and 200.');
      }
    }
    const tags = readTags(req) ?? [];

    const compatibilities = ['EC2'];
    if (fargateSized) compatibilities.push('FARGATE');
    if (networkMode !== 'awsvpc' || requires.includes('EXTERNAL')) compatibilities.push('EXTERNAL');
    if (requires.includes('MANAGED_INSTANCES')) compatibilities.push('MANAGED_INSTANCES');
    for (const c of requires) {
      if (!compatibilities.includes(c)) {
        throw clientError(`Task definition does not support compatibility ${c}.`);
      }
    }

    const definition = jsonClone(body as Record<string, unknown>);
    delete definition.tags;
    definition.containerDefinitions = containerDefinitions;
    definition.volumes ??= [];
    definition.placementConstraints ??= [];
    if (cpuUnits !== undefined) definition.cpu = String(cpuUnits);
    if (memoryMiB !== undefined) definition.memory = String(memoryMiB);
    definition.compatibilities = compatibilities;
    definition.requiresAttributes = [];

    const revision = (this.revisions(family).at(-1)?.revision ?? 0) + 1;
    const stored: StoredTaskDefinition = {
      taskDefinitionArn: arns.taskDefinition({ ...this.ctx, family, revision }),
      family,
      revision,
      status: 'ACTIVE',
      registeredAt: this.now(),
      definition,
      tags,
    };
    this.byArn.set(stored.taskDefinitionArn, stored);
    return { taskDefinition: this.render(stored), tags };
  }

  describe(body: unknown): { taskDefinition: Record<string, unknown>; tags?: Tag[] } {
    const req = new RequestReader({ body, missing: 'ClientException' });
    const td = this.resolve(req.requiredString('taskDefinition'));
    if (!td) throw clientError('Unable to describe task definition.');
    const includeTags = (req.stringList('include') ?? []).includes('TAGS');
    return includeTags
      ? { taskDefinition: this.render(td), tags: td.tags }
      : { taskDefinition: this.render(td) };
  }

  deregister(body: unknown): { taskDefinition: Record<string, unknown> } {
    const req = new RequestReader({ body, missing: 'ClientException' });
    const ref = req.requiredString('taskDefinition');
    const parsed = parseTaskDefinitionRef(ref);
    if (parsed && parsed.revision === undefined) {
      throw clientError(
        'A revision must be specified: use family:revision or the full task definition ARN.',
      );
    }
    const td = this.resolve(ref);
    if (!td) throw clientError('The specified task definition does not exist.');
    if (td.status === 'ACTIVE') {
      td.status = 'INACTIVE';
      td.deregisteredAt = this.now();
    }
    return { taskDefinition: this.render(td) };
  }

  list(body: unknown): { taskDefinitionArns: string[]; nextToken?: string } {
    const req = new RequestReader({ body });
    const family = req.string('familyPrefix');
    const status = req.enumString({ member: 'status', values: ['ACTIVE', 'INACTIVE'] }) ?? 'ACTIVE';
    const descending = req.enumString({ member: 'sort', values: ['ASC', 'DESC'] }) === 'DESC';
    const keyOf = (d: StoredTaskDefinition): string =>
      `${d.family}\u0000${String(d.revision).padStart(10, '0')}`;
    const items = this.all()
      .filter((d) => d.status === status && (family === undefined || d.family === family))
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    if (descending) items.reverse();
    const page = paginate({ items, keyOf, request: req, descending });
    const taskDefinitionArns = page.items.map((d) => d.taskDefinitionArn);
    return page.nextToken
      ? { taskDefinitionArns, nextToken: page.nextToken }
      : { taskDefinitionArns };
  }

  /** The TaskDefinition shape as DescribeTaskDefinition returns it. */
  render(td: StoredTaskDefinition): Record<string, unknown> {
    return {
      taskDefinitionArn: td.taskDefinitionArn,
      ...jsonClone(td.definition),
      family: td.family,
      revision: td.revision,
      status: td.status,
      registeredAt: toSeconds(td.registeredAt),
      ...(td.deregisteredAt === undefined ? {} : { deregisteredAt: toSeconds(td.deregisteredAt) }),
      registeredBy: `arn:aws:iam::${this.ctx.accountId}:root`,
    };
  }

  private revisions(family: string): StoredTaskDefinition[] {
    return this.all()
      .filter((d) => d.family === family)
      .sort((a, b) => a.revision - b.revision);
  }

  private readSize(o: {
    req: RequestReader;
    member: string;
    parse: (v: string) => number | undefined;
  }): number | undefined {
    const raw = o.req.raw(o.member);
    if (raw === undefined) return undefined;
    // The model says string, but ECS converts numbers sent by hand-written JSON as well.
    const text = typeof raw === 'number' ? String(raw) : o.req.string(o.member);
    const value = text === undefined ? undefined : o.parse(text);
    if (value === undefined) throw clientError(`Invalid '${o.member}' setting for task.`);
    return value;
  }

  private readDockerLabels(c: RequestReader): Record<string, unknown> | undefined {
    const labels = c.object('dockerLabels')?.snapshot();
    if (labels === undefined) return undefined;
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string') {
        throw serializationError(`${c.name('dockerLabels')}.${key} must be a string.`);
      }
    }
    return labels;
  }

  private readContainers(o: {
    containers: RequestReader[];
    taskMemory: number | undefined;
  }): Record<string, unknown>[] {
    const names = new Set<string>();
    const out = o.containers.map((c) => {
      const name = c.requiredString('name');
      if (!isValidName(name)) {
        throw clientError(
          `Container name '${name}' must be up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores.`,
        );
      }
      if (names.has(name)) throw clientError(`Duplicate container name found: ${name}.`);
      names.add(name);
      const image = c.string('image');
      if (image === undefined || image.trim() === '') {
        throw clientError('Container.image should not be null or empty.');
      }
      const memory = c.integer('memory');
      const memoryReservation = c.integer('memoryReservation');
      if (o.taskMemory === undefined && memory === undefined && memoryReservation === undefined) {
        throw clientError(
          `Invalid setting for container '${name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
      c.integer('cpu');
      c.boolean('essential');
      c.objectList('environment');
      c.stringList('command');
      const healthCheck = c.object('healthCheck');
      if (healthCheck) {
        if ((healthCheck.stringList('command') ?? []).length === 0) {
          throw clientError(`Container '${name}': healthCheck.command can not be empty.`);
        }
        for (const member of ['interval', 'timeout', 'retries', 'startPeriod']) {
          healthCheck.integer(member);
        }
      }
      readWorkload({
        container: name,
        labels: this.readDockerLabels(c),
        healthCheck: healthCheck?.snapshot(),
      });
      // Defaults ECS fills in on every container definition.
      const def = jsonClone(c.snapshot());
      def.cpu ??= 0;
      def.essential ??= true;
      def.portMappings ??= [];
      def.environment ??= [];
      def.mountPoints ??= [];
      def.volumesFrom ??= [];
      return def;
    });
    if (!out.some((d) => d.essential === true)) {
      throw clientError('A task definition must have at least one essential container.');
    }
    return out;
  }
}
