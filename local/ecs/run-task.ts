import { readCapacityProviderStrategy, spreadOverStrategy } from './clusters';
import { clientError, EcsApiError, EcsErrorType, invalidParameter } from './errors';
import {
  type ContainerWorkload,
  LAUNCH_TYPES,
  LaunchType,
  type ResourceReservation,
  type StoredCluster,
  type StoredTaskDefinition,
} from './model';
import type { TaskDefinitionRegistry } from './task-definitions';
import {
  checkStartedBy,
  isFargateSize,
  type KeyValuePair,
  parseCpuUnits,
  parseMemoryMiB,
  type RequestReader,
  readKeyValuePairs,
  readTags,
  type Tag,
} from './validation';
import { readWorkload } from './workload';

const MAX_COUNT = 10;
const MAX_OVERRIDES_CHARS = 8192;
const FARGATE_PLATFORM_VERSIONS = ['LATEST', '1.4.0', '1.3.0'];
const LATEST_FARGATE_PLATFORM = '1.4.0';
const DEFAULT_EPHEMERAL_GIB = 20;

export type ContainerPlan = {
  name: string;
  image: string;
  essential: boolean;
  cpu: string;
  memory?: string;
  memoryReservation?: string;
  environment: KeyValuePair[];
  command?: string[];
  workload?: ContainerWorkload;
};

/** Everything RunTask needs to create its tasks, validated. */
export type LaunchPlan = {
  taskDefinition: StoredTaskDefinition;
  count: number;
  launchType: LaunchType;
  /** Capacity provider per task (undefined entries for launch types without one). */
  capacityProviders: (string | undefined)[];
  networkMode: string;
  subnets: string[];
  platformVersion?: string;
  cpu?: string;
  memory?: string;
  ephemeralStorageGiB?: number;
  startedBy?: string;
  group: string;
  tags: Tag[];
  overrides: Record<string, unknown>;
  containers: ContainerPlan[];
  enableExecuteCommand: boolean;
  /** What each task holds on a container instance (EC2). */
  reservation: ResourceReservation;
};

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
};

/**
 * Canonical form of a RunTask request for idempotency: the same parameters in any key order and
 * with the cluster as name or ARN give the same fingerprint; clientToken itself is left out.
 */
export const runTaskFingerprint = (o: { body: unknown; clusterArn: string }): string => {
  const copy = { ...(o.body as Record<string, unknown>) };
  delete copy.clientToken;
  copy.cluster = o.clusterArn;
  copy.count ??= 1;
  return JSON.stringify(sortKeys(copy));
};

const readLaunchType = (o: {
  req: RequestReader;
  cluster: StoredCluster;
  count: number;
  hasInstances: boolean;
}): { launchType: LaunchType; capacityProviders: (string | undefined)[] } => {
  const launchType = o.req.enumString({ member: 'launchType', values: LAUNCH_TYPES });
  const strategy = readCapacityProviderStrategy({
    reader: o.req,
    member: 'capacityProviderStrategy',
    allowed: o.cluster.capacityProviders,
  });
  if (launchType !== undefined && strategy !== undefined && strategy.length > 0) {
    throw invalidParameter(
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    );
  }
  const effective =
    strategy && strategy.length > 0 ? strategy : o.cluster.defaultCapacityProviderStrategy;
  if (launchType === undefined && effective.length > 0) {
    return {
      launchType: LaunchType.Fargate,
      capacityProviders: spreadOverStrategy({ strategy: effective, count: o.count }),
    };
  }
  // Without a strategy ECS defaults to the EC2 launch type.
  const lt = launchType ?? LaunchType.Ec2;
  if (lt === LaunchType.Ec2 && o.hasInstances) {
    return { launchType: lt, capacityProviders: Array.from({ length: o.count }, () => undefined) };
  }
  if (lt !== LaunchType.Fargate) {
    // Only simulated EC2 instances exist, so other placements fail as in an empty ECS cluster.
    throw invalidParameter('No Container Instances were found in your cluster.');
  }
  return { launchType: lt, capacityProviders: Array.from({ length: o.count }, () => 'FARGATE') };
};

const readNetwork = (o: { req: RequestReader; networkMode: string }): string[] => {
  const config = o.req.object('networkConfiguration')?.object('awsvpcConfiguration');
  if (o.networkMode !== 'awsvpc') {
    if (config) {
      throw invalidParameter(
        'Network Configuration is not valid for the given networkMode of this task definition.',
      );
    }
    return [];
  }
  if (!config) {
    throw invalidParameter(
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    );
  }
  const subnets = config.stringList('subnets') ?? [];
  if (subnets.length === 0) throw invalidParameter('subnets can not be empty.');
  if (subnets.length > 16) throw invalidParameter('subnets can have at most 16 items.');
  if ((config.stringList('securityGroups') ?? []).length > 5) {
    throw invalidParameter('securityGroups can have at most 5 items.');
  }
  config.enumString({ member: 'assignPublicIp', values: ['ENABLED', 'DISABLED'] });
  return subnets;
};

type ContainerOverride = { environment?: KeyValuePair[]; command?: string[] };

const readOverrides = (o: {
  req: RequestReader;
  definitions: Record<string, unknown>[];
}): { overrides: Record<string, unknown>; byName: Map<string, ContainerOverride> } => {
  const reader = o.req.object('overrides');
  const given = reader?.snapshot() ?? {};
  if (JSON.stringify(given).length > MAX_OVERRIDES_CHARS) {
    throw invalidParameter(
      `Container Overrides length must be at most ${MAX_OVERRIDES_CHARS} characters.`,
    );
  }
  const names = o.definitions.map((d) => String(d.name));
  const byName = new Map<string, ContainerOverride>();
  const rawByName = new Map<string, Record<string, unknown>>();
  for (const item of reader?.objectList('containerOverrides') ?? []) {
    const name = item.requiredString('name');
    if (!names.includes(name)) {
      throw invalidParameter(
        `Override for container named ${name} is not a container in the TaskDefinition.`,
      );
    }
    item.integer('cpu');
    item.integer('memory');
    item.integer('memoryReservation');
    const environment = readKeyValuePairs({ reader: item, member: 'environment' });
    const command = item.stringList('command');
    byName.set(name, {
      ...(environment ? { environment } : {}),
      ...(command ? { command } : {}),
    });
    rawByName.set(name, structuredClone(item.snapshot()));
  }
  // ECS echoes one containerOverrides entry per container, just `{name}` when nothing overrides it.
  const overrides: Record<string, unknown> = {
    ...structuredClone(given),
    containerOverrides: names.map((name) => ({ ...(rawByName.get(name) ?? {}), name })),
    inferenceAcceleratorOverrides: structuredClone(
      (given.inferenceAcceleratorOverrides as unknown[] | undefined) ?? [],
    ),
  };
  return { overrides, byName };
};

const mergeEnvironment = (o: {
  base: KeyValuePair[];
  override: KeyValuePair[] | undefined;
}): KeyValuePair[] => {
  const merged = new Map(o.base.map((kv) => [kv.name, kv.value]));
  for (const kv of o.override ?? []) merged.set(kv.name, kv.value);
  return [...merged].map(([name, value]) => ({ name, value }));
};

const asKeyValuePairs = (value: unknown): KeyValuePair[] =>
  Array.isArray(value)
    ? value.map((kv: { name?: unknown; value?: unknown }) => ({
        name: String(kv.name),
        value: String(kv.value ?? ''),
      }))
    : [];

const optionalString = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : String(value);

const toNumber = (value: unknown): number => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/**
 * What one task reserves on a container instance: task-level cpu/memory when set, else the sum
 * over containers (memoryReservation before memory, as placement uses the soft limit), plus the
 * static host ports of bridge and host network modes (hostPort 0 or absent in bridge is dynamic).
 */
const reservationOf = (o: {
  cpu: string | undefined;
  memory: string | undefined;
  networkMode: string;
  definitions: Record<string, unknown>[];
}): ResourceReservation => {
  const cpu =
    (o.cpu === undefined ? undefined : parseCpuUnits(o.cpu)) ??
    o.definitions.reduce((sum, d) => sum + toNumber(d.cpu), 0);
  const memory =
    (o.memory === undefined ? undefined : parseMemoryMiB(o.memory)) ??
    o.definitions.reduce((sum, d) => sum + toNumber(d.memoryReservation ?? d.memory), 0);
  const tcpPorts = new Set<number>();
  const udpPorts = new Set<number>();
  if (o.networkMode === 'bridge' || o.networkMode === 'host') {
    for (const d of o.definitions) {
      const mappings = Array.isArray(d.portMappings) ? d.portMappings : [];
      for (const m of mappings as Record<string, unknown>[]) {
        const hostPort =
          o.networkMode === 'host' ? toNumber(m.hostPort ?? m.containerPort) : toNumber(m.hostPort);
        if (hostPort <= 0) continue;
        (m.protocol === 'udp' ? udpPorts : tcpPorts).add(hostPort);
      }
    }
  }
  return { cpu, memory, tcpPorts: [...tcpPorts], udpPorts: [...udpPorts] };
};

/** Validates a RunTask request (cluster already resolved) into a LaunchPlan. */
export const planRunTask = (o: {
  req: RequestReader;
  cluster: StoredCluster;
  taskDefinitions: TaskDefinitionRegistry;
  /** Whether the cluster has simulated container instances for the EC2 launch type. */
  hasInstances: boolean;
}): LaunchPlan => {
  const { req } = o;
  const tdRef = req.requiredString('taskDefinition');
  const count = req.integer('count') ?? 1;
  if (count < 1 || count > MAX_COUNT) {
    throw invalidParameter(`count must be between 1 and ${MAX_COUNT}.`);
  }
  const startedBy = req.string('startedBy');
  if (startedBy !== undefined) checkStartedBy(startedBy);
  const group = req.string('group');
  if (group !== undefined && (group.length === 0 || group.length > 255)) {
    throw invalidParameter('group must be between 1 and 255 characters.');
  }
  const requestTags = readTags(req) ?? [];
  const propagate = req.enumString({
    member: 'propagateTags',
    values: ['TASK_DEFINITION', 'SERVICE', 'NONE'],
  });
  if (propagate === 'SERVICE') {
    throw invalidParameter(
      'The propagateTags value SERVICE is not valid for tasks started by RunTask.',
    );
  }
  const managedTags = req.boolean('enableECSManagedTags') ?? false;
  const enableExecuteCommand = req.boolean('enableExecuteCommand') ?? false;
  const requestedPlatform = req.string('platformVersion');

  const td = o.taskDefinitions.resolveForRun(tdRef);
  const def = td.definition;
  const { launchType, capacityProviders } = readLaunchType({
    req,
    cluster: o.cluster,
    count,
    hasInstances: o.hasInstances,
  });
  const compatibilities = (def.compatibilities as string[] | undefined) ?? [];
  if (!compatibilities.includes(launchType)) {
    throw clientError(`Task definition does not support launch_type ${launchType}.`);
  }
  const networkMode = optionalString(def.networkMode) ?? 'bridge';
  const subnets = readNetwork({ req, networkMode });
  const definitions = (def.containerDefinitions as Record<string, unknown>[] | undefined) ?? [];
  const { overrides, byName } = readOverrides({ req, definitions });

  let cpu = optionalString(overrides.cpu) ?? optionalString(def.cpu);
  let memory = optionalString(overrides.memory) ?? optionalString(def.memory);
  let platformVersion: string | undefined;
  let ephemeralStorageGiB: number | undefined;
  if (launchType === LaunchType.Fargate) {
    const cpuUnits = cpu === undefined ? undefined : parseCpuUnits(cpu);
    const memoryMiB = memory === undefined ? undefined : parseMemoryMiB(memory);
    if (
      cpuUnits === undefined ||
      memoryMiB === undefined ||
      !isFargateSize({ cpu: cpuUnits, memory: memoryMiB })
    ) {
      throw clientError('No Fargate configuration exists for given values.');
    }
    cpu = String(cpuUnits);
    memory = String(memoryMiB);
    const version = requestedPlatform ?? 'LATEST';
    if (!FARGATE_PLATFORM_VERSIONS.includes(version)) {
      throw new EcsApiError({
        type: EcsErrorType.PlatformUnknown,
        message: `The specified platform version ${version} does not exist.`,
      });
    }
    platformVersion = version === 'LATEST' ? LATEST_FARGATE_PLATFORM : version;
    const tdStorage = (def.ephemeralStorage as { sizeInGiB?: number } | undefined)?.sizeInGiB;
    const overrideStorage = (overrides.ephemeralStorage as { sizeInGiB?: number } | undefined)
      ?.sizeInGiB;
    ephemeralStorageGiB = overrideStorage ?? tdStorage ?? DEFAULT_EPHEMERAL_GIB;
  } else if (requestedPlatform !== undefined) {
    throw invalidParameter('The platform version must be null when specifying an EC2 launch type.');
  }

  const tags = new Map<string, string>();
  if (propagate === 'TASK_DEFINITION') for (const t of td.tags) tags.set(t.key, t.value);
  for (const t of requestTags) tags.set(t.key, t.value);
  if (managedTags) tags.set('aws:ecs:clusterName', o.cluster.clusterName);

  const containers = definitions.map((d): ContainerPlan => {
    const name = String(d.name);
    const override = byName.get(name);
    const command = override?.command ?? (d.command as string[] | undefined);
    const memoryValue = optionalString(d.memory);
    const reservation = optionalString(d.memoryReservation);
    const workload = readWorkload({
      container: name,
      labels: d.dockerLabels as Record<string, unknown> | undefined,
      healthCheck: d.healthCheck as Record<string, unknown> | undefined,
    });
    return {
      name,
      image: String(d.image),
      essential: d.essential !== false,
      cpu: optionalString(d.cpu) ?? '0',
      ...(memoryValue === undefined ? {} : { memory: memoryValue }),
      ...(reservation === undefined ? {} : { memoryReservation: reservation }),
      environment: mergeEnvironment({
        base: asKeyValuePairs(d.environment),
        override: override?.environment,
      }),
      ...(command ? { command: [...command] } : {}),
      ...(workload === undefined ? {} : { workload }),
    };
  });

  return {
    taskDefinition: td,
    count,
    launchType,
    capacityProviders,
    networkMode,
    subnets,
    ...(platformVersion === undefined ? {} : { platformVersion }),
    ...(cpu === undefined ? {} : { cpu }),
    ...(memory === undefined ? {} : { memory }),
    ...(ephemeralStorageGiB === undefined ? {} : { ephemeralStorageGiB }),
    ...(startedBy === undefined ? {} : { startedBy }),
    group: group ?? `family:${td.family}`,
    tags: [...tags].map(([key, value]) => ({ key, value })),
    overrides,
    containers,
    enableExecuteCommand,
    reservation: reservationOf({ cpu, memory, networkMode, definitions }),
  };
};
