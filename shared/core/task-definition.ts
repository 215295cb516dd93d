/**
 * ECS task definitions as Steward accepts them: the body of RegisterTaskDefinition, camelCase as the
 * ECS JSON API and `aws ecs register-task-definition --cli-input-json` have it, sent as JSON or YAML.
 *
 * Shapes, enums and limits follow the ECS API model (botocore `ecs/2014-11-13`, shapes
 * RegisterTaskDefinitionRequest, ContainerDefinition, …) and the ECS developer guide; the cross-field
 * rules are the ones ECS applies at registration, or that would make RunTask or the container start
 * fail. Where a rule goes beyond ECS's own wording the comment says why.
 */
import {
  isCollection,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type Node as YamlNode,
} from 'yaml';
import { z } from 'zod';
import { ValidationError } from './errors';
import { checkDepth, parseOrThrow } from './schemas';

// ---------------------------------------------------------------------------------------------
// Names, limits and enum values (ECS API model)

/** Family, container and volume names. */
const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const NAME_MESSAGE = 'must be 1-255 letters, digits, hyphens (-) or underscores (_)';

/** ECS's hard quota: "Containers per task definition: 10" (not adjustable). */
export const MAX_CONTAINERS = 10;
/** Tags per resource. */
export const MAX_TAGS = 50;

const NETWORK_MODES = ['bridge', 'host', 'awsvpc', 'none'] as const;
type NetworkMode = (typeof NETWORK_MODES)[number];
const COMPATIBILITIES = ['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES'] as const;
const LOG_DRIVERS = [
  'json-file',
  'syslog',
  'journald',
  'gelf',
  'fluentd',
  'awslogs',
  'splunk',
  'awsfirelens',
] as const;
/** Log drivers Fargate supports (LogConfiguration.logDriver). */
const FARGATE_LOG_DRIVERS: readonly string[] = ['awslogs', 'splunk', 'awsfirelens'];
const ULIMIT_NAMES = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;
/** KernelCapabilities.add/drop: the values the ECS model lists. */
const CAPABILITIES = [
  'ALL',
  'AUDIT_CONTROL',
  'AUDIT_WRITE',
  'BLOCK_SUSPEND',
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'LINUX_IMMUTABLE',
  'MAC_ADMIN',
  'MAC_OVERRIDE',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_RAW',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_CHROOT',
  'SYS_MODULE',
  'SYS_NICE',
  'SYS_PACCT',
  'SYS_PTRACE',
  'SYS_RAWIO',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'SYSLOG',
  'WAKE_ALARM',
] as const;
const OS_FAMILIES = [
  'WINDOWS_SERVER_2019_FULL',
  'WINDOWS_SERVER_2019_CORE',
  'WINDOWS_SERVER_2016_FULL',
  'WINDOWS_SERVER_2004_CORE',
  'WINDOWS_SERVER_2022_CORE',
  'WINDOWS_SERVER_2022_FULL',
  'WINDOWS_SERVER_2025_CORE',
  'WINDOWS_SERVER_2025_FULL',
  'WINDOWS_SERVER_20H2_CORE',
  'LINUX',
] as const;

/** An IAM role ARN, optionally with a path. */
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@/-]*\/)?[\w+=,.@-]{1,64}$/;
/** An IAM role name (taskRoleArn also takes the short name). */
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/**
 * An image: up to 255 letters, digits, `-`, `_`, `:`, `.`, `/` and `#` before an optional
 * `@sha256:` digest of exactly 64 hex digits (ContainerDefinition.image).
 */
const IMAGE = /^[A-Za-z0-9._:/#-]{1,255}(@sha256:[A-Fa-f0-9]{64})?$/;
/** Service Connect port names: up to 64 lower-case letters, digits, `_` and `-`, not starting with `-`. */
const PORT_NAME = /^[a-z0-9_][a-z0-9_-]{0,63}$/;
/** A link: `name` or `name:alias`. */
const LINK = /^[A-Za-z0-9_-]{1,255}(:[A-Za-z0-9_-]{1,255})?$/;
/** Tag keys and values: letters, separators (spaces), digits and `_ . : / = + - @`. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** An environment file: an S3 object ARN whose name ends in `.env`. */
const ENV_FILE = /^arn:aws[a-z-]*:s3:::.+\.env$/;

// ---------------------------------------------------------------------------------------------
// Task size: CPU units and MiB, and the Fargate table

const CPU_TEXT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(vcpu)?\s*$/i;
const MEMORY_TEXT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(gb)?\s*$/i;
/** Task-level cpu on EC2 and external instances: 128 (0.125 vCPU) to 196608 (192 vCPU). */
const MIN_TASK_CPU = 128;
const MAX_TASK_CPU = 196_608;
/** Docker 20.10 and later reserve 6 MiB per container, so less cannot start. */
const MIN_MEMORY_MIB = 6;

/** A size in units: an integer, or a decimal times `factor` when `unit` follows ("1 vCPU", "0.5GB"). */
function sizeOf(o: { value: string | number; text: RegExp; factor: number }): number | undefined {
  if (typeof o.value === 'number') {
    return Number.isInteger(o.value) && o.value > 0 ? o.value : undefined;
  }
  const m = o.text.exec(o.value);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]) * (m[2] ? o.factor : 1);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Task-level `cpu` in CPU units, as ECS stores it: `1024`, `"1024"`, `"1 vCPU"`, `"0.25 vcpu"`.
 * Undefined for anything else (including fractions of a unit).
 */
export function cpuUnitsOf(value: string | number): number | undefined {
  return sizeOf({ value, text: CPU_TEXT, factor: 1024 });
}

/** Task-level `memory` in MiB, as ECS stores it: `2048`, `"2048"`, `"2 GB"`, `"0.5GB"`. */
export function memoryMiBOf(value: string | number): number | undefined {
  return sizeOf({ value, text: MEMORY_TEXT, factor: 1024 });
}

const steps = (o: { from: number; to: number; step: number }): number[] =>
  Array.from({ length: (o.to - o.from) / o.step + 1 }, (_, k) => o.from + k * o.step);

/**
 * Fargate task sizes: for each cpu, the memory values (MiB) it allows and how to say them. From the
 * ECS developer guide, "Task CPU and memory" (8192 and 16384 need Linux platform 1.4.0 or later).
 */
export const FARGATE_TASK_SIZES: readonly {
  cpu: number;
  memory: readonly number[];
  text: string;
}[] = [
  { cpu: 256, memory: [512, 1024, 2048], text: '512, 1024 or 2048 MiB' },
  {
    cpu: 512,
    memory: steps({ from: 1024, to: 4096, step: 1024 }),
    text: '1024 to 4096 MiB in steps of 1024',
  },
  {
    cpu: 1024,
    memory: steps({ from: 2048, to: 8192, step: 1024 }),
    text: '2048 to 8192 MiB in steps of 1024',
  },
  {
    cpu: 2048,
    memory: steps({ from: 4096, to: 16_384, step: 1024 }),
    text: '4096 to 16384 MiB in steps of 1024',
  },
  {
    cpu: 4096,
    memory: steps({ from: 8192, to: 30_720, step: 1024 }),
    text: '8192 to 30720 MiB in steps of 1024',
  },
  {
    cpu: 8192,
    memory: steps({ from: 16_384, to: 61_440, step: 4096 }),
    text: '16384 to 61440 MiB in steps of 4096',
  },
  {
    cpu: 16_384,
    memory: steps({ from: 32_768, to: 122_880, step: 8192 }),
    text: '32768 to 122880 MiB in steps of 8192',
  },
];
/** Windows containers on Fargate need at least 1 vCPU, and the 8 and 16 vCPU sizes are Linux-only. */
const FARGATE_WINDOWS_CPUS: readonly number[] = [1024, 2048, 4096];

/** Whether `cpu` units and `memory` MiB are a Fargate task size. */
export function isFargateSize(size: { cpu: number; memory: number }): boolean {
  const row = FARGATE_TASK_SIZES.find((r) => r.cpu === size.cpu);
  return row?.memory.includes(size.memory) === true;
}

/** Task-level cpu: a number or a string, normalised to the string of CPU units ECS stores. */
const taskCpuSchema = z
  .union([z.string(), z.number()], {
    error: 'must be CPU units ("1024") or vCPUs ("1 vCPU")',
  })
  .transform((raw, ctx) => {
    const units = cpuUnitsOf(raw);
    if (units === undefined) {
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: 'must be a whole number of CPU units ("1024") or vCPUs ("1 vCPU", "0.25 vcpu")',
      });
      return z.NEVER;
    }
    if (units < MIN_TASK_CPU || units > MAX_TASK_CPU) {
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: `must be between ${MIN_TASK_CPU} and ${MAX_TASK_CPU} CPU units (0.125 to 192 vCPU)`,
      });
      return z.NEVER;
    }
    return String(units);
  });

/** Task-level memory: a number or a string, normalised to the string of MiB ECS stores. */
const taskMemorySchema = z
  .union([z.string(), z.number()], { error: 'must be MiB ("2048") or GB ("2 GB")' })
  .transform((raw, ctx) => {
    const mib = memoryMiBOf(raw);
    if (mib === undefined) {
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: 'must be a whole number of MiB ("2048") or GB ("2 GB", "0.5GB")',
      });
      return z.NEVER;
    }
    if (mib < MIN_MEMORY_MIB) {
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: `must be at least ${MIN_MEMORY_MIB} MiB`,
      });
      return z.NEVER;
    }
    return String(mib);
  });

// ---------------------------------------------------------------------------------------------
// Shapes

const nameSchema = z.string().regex(NAME, NAME_MESSAGE);
const stringList = z.array(z.string());
/** A `map<String,String>` of the model (docker labels, log and driver options): exactly that, no more. */
const stringMap = z.record(z.string(), z.string());
const port = z.int().min(0).max(65_535);
const enabledDisabled = z.enum(['ENABLED', 'DISABLED']);
const containerMemory = z
  .int()
  .min(MIN_MEMORY_MIB, `must be at least ${MIN_MEMORY_MIB} MiB (Docker's minimum for a container)`)
  .max(2_147_483_647);

const keyValuePairSchema = z.strictObject({
  name: z.string().optional(),
  value: z.string().optional(),
});

const secretSchema = z.strictObject({
  name: z.string().min(1),
  valueFrom: z.string().min(1),
});

/** `first-last`, 1 ≤ first < last ≤ 65535, or undefined. */
function portRangeOf(text: string): { first: number; last: number } | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return first >= 1 && first < last && last <= 65_535 ? { first, last } : undefined;
}

const portMappingSchema = z.strictObject({
  containerPort: port.optional(),
  hostPort: port.optional(),
  protocol: z.enum(['tcp', 'udp']).optional(),
  name: z
    .string()
    .regex(
      PORT_NAME,
      'must be 1-64 lower-case letters, digits, underscores (_) or hyphens (-), not starting with a hyphen',
    )
    .optional(),
  appProtocol: z.enum(['http', 'http2', 'grpc']).optional(),
  containerPortRange: z
    .string()
    .refine(
      (s) => portRangeOf(s) !== undefined,
      'must be "first-last" with 1 <= first < last <= 65535',
    )
    .optional(),
});

const containerRestartPolicySchema = z.strictObject({
  enabled: z.boolean(),
  ignoredExitCodes: z.array(z.int32()).max(50).optional(),
  restartAttemptPeriod: z.int().min(60).max(1800).optional(),
});

const environmentFileSchema = z.strictObject({
  value: z.string().regex(ENV_FILE, 'must be the ARN of an S3 object whose name ends in .env'),
  type: z.enum(['s3']),
});

// The model leaves these members optional, but nothing can be mounted without them.
const mountPointSchema = z.strictObject({
  sourceVolume: z.string().min(1),
  containerPath: z.string().min(1),
  readOnly: z.boolean().optional(),
});
const volumeFromSchema = z.strictObject({
  sourceContainer: z.string().min(1),
  readOnly: z.boolean().optional(),
});

const capabilitySchema = z.enum(CAPABILITIES, {
  error: 'must be a Linux capability ECS knows, such as NET_ADMIN or SYS_PTRACE, or ALL',
});

const linuxParametersSchema = z.strictObject({
  capabilities: z
    .strictObject({
      add: z.array(capabilitySchema).optional(),
      drop: z.array(capabilitySchema).optional(),
    })
    .optional(),
  devices: z
    .array(
      z.strictObject({
        hostPath: z.string().min(1),
        containerPath: z.string().optional(),
        permissions: z.array(z.enum(['read', 'write', 'mknod'])).optional(),
      }),
    )
    .optional(),
  initProcessEnabled: z.boolean().optional(),
  sharedMemorySize: z.int32().min(1).optional(),
  tmpfs: z
    .array(
      z.strictObject({
        containerPath: z.string().min(1),
        size: z.int32().min(1),
        mountOptions: stringList.optional(),
      }),
    )
    .optional(),
  maxSwap: z.int32().min(0).optional(),
  swappiness: z.int().min(0).max(100).optional(),
});

const containerDependencySchema = z.strictObject({
  containerName: z.string().min(1),
  condition: z.enum(['START', 'COMPLETE', 'SUCCESS', 'HEALTHY']),
});

const hostEntrySchema = z.strictObject({
  hostname: z.string().min(1),
  ipAddress: z.string().min(1),
});

const ulimitSchema = z
  .strictObject({
    name: z.enum(ULIMIT_NAMES),
    softLimit: z.int32(),
    hardLimit: z.int32(),
  })
  .refine((u) => u.softLimit <= u.hardLimit, {
    message: 'must be at most hardLimit',
    path: ['softLimit'],
  });

const logConfigurationSchema = z.strictObject({
  logDriver: z.enum(LOG_DRIVERS),
  options: stringMap.optional(),
  secretOptions: z.array(secretSchema).optional(),
});

const healthCheckSchema = z.strictObject({
  command: z
    .array(z.string())
    .min(1, 'must not be empty')
    .refine((c) => c.length === 0 || c[0] === 'CMD' || c[0] === 'CMD-SHELL', {
      message: 'must start with CMD or CMD-SHELL',
      path: [0],
    }),
  interval: z.int().min(5).max(300).optional(),
  timeout: z.int().min(2).max(60).optional(),
  retries: z.int().min(1).max(10).optional(),
  startPeriod: z.int().min(0).max(300).optional(),
});

const systemControlSchema = z.strictObject({
  namespace: z.string().optional(),
  value: z.string().optional(),
});

const resourceRequirementSchema = z
  .strictObject({
    value: z.string().min(1),
    type: z.enum(['GPU', 'InferenceAccelerator']),
  })
  .refine((r) => r.type !== 'GPU' || /^[1-9]\d{0,3}$/.test(r.value), {
    message: 'must be a whole number of GPUs, 1 or more',
    path: ['value'],
  });

const firelensConfigurationSchema = z.strictObject({
  type: z.enum(['fluentd', 'fluentbit']),
  options: stringMap.optional(),
});

/** ContainerDefinition: every member of the model. */
const containerDefinitionSchema = z.strictObject({
  name: nameSchema,
  image: z
    .string()
    .regex(
      IMAGE,
      'must be an image reference of up to 255 letters, digits and - _ : . / #, optionally followed by @sha256: and 64 hex digits',
    ),
  repositoryCredentials: z.strictObject({ credentialsParameter: z.string().min(1) }).optional(),
  cpu: z.int32().min(0).optional(),
  memory: containerMemory.optional(),
  memoryReservation: containerMemory.optional(),
  links: z.array(z.string().regex(LINK, 'must be "name" or "name:alias"')).optional(),
  portMappings: z.array(portMappingSchema).optional(),
  essential: z.boolean().optional(),
  restartPolicy: containerRestartPolicySchema.optional(),
  entryPoint: stringList.optional(),
  command: stringList.optional(),
  environment: z.array(keyValuePairSchema).optional(),
  environmentFiles: z.array(environmentFileSchema).max(10).optional(),
  mountPoints: z.array(mountPointSchema).optional(),
  volumesFrom: z.array(volumeFromSchema).optional(),
  linuxParameters: linuxParametersSchema.optional(),
  secrets: z.array(secretSchema).optional(),
  dependsOn: z.array(containerDependencySchema).optional(),
  startTimeout: z.int32().min(0).optional(),
  stopTimeout: z.int32().min(0).optional(),
  versionConsistency: z.enum(['enabled', 'disabled']).optional(),
  hostname: z.string().optional(),
  user: z.string().optional(),
  workingDirectory: z.string().optional(),
  disableNetworking: z.boolean().optional(),
  privileged: z.boolean().optional(),
  readonlyRootFilesystem: z.boolean().optional(),
  dnsServers: stringList.optional(),
  dnsSearchDomains: stringList.optional(),
  extraHosts: z.array(hostEntrySchema).optional(),
  dockerSecurityOptions: stringList.optional(),
  interactive: z.boolean().optional(),
  pseudoTerminal: z.boolean().optional(),
  dockerLabels: stringMap.optional(),
  ulimits: z.array(ulimitSchema).optional(),
  logConfiguration: logConfigurationSchema.optional(),
  healthCheck: healthCheckSchema.optional(),
  systemControls: z.array(systemControlSchema).optional(),
  resourceRequirements: z.array(resourceRequirementSchema).optional(),
  firelensConfiguration: firelensConfigurationSchema.optional(),
  credentialSpecs: z.array(z.string().min(1)).max(1).optional(),
});

const volumeSchema = z.strictObject({
  name: nameSchema.optional(),
  host: z.strictObject({ sourcePath: z.string().optional() }).optional(),
  dockerVolumeConfiguration: z
    .strictObject({
      scope: z.enum(['task', 'shared']).optional(),
      autoprovision: z.boolean().optional(),
      driver: z.string().optional(),
      driverOpts: stringMap.optional(),
      labels: stringMap.optional(),
    })
    .optional(),
  efsVolumeConfiguration: z
    .strictObject({
      fileSystemId: z.string().min(1),
      rootDirectory: z.string().optional(),
      transitEncryption: enabledDisabled.optional(),
      transitEncryptionPort: port.optional(),
      authorizationConfig: z
        .strictObject({
          accessPointId: z.string().min(1).optional(),
          iam: enabledDisabled.optional(),
        })
        .optional(),
    })
    .optional(),
  s3filesVolumeConfiguration: z
    .strictObject({
      fileSystemArn: z.string().min(1),
      rootDirectory: z.string().optional(),
      transitEncryptionPort: port.optional(),
      accessPointArn: z.string().min(1).optional(),
    })
    .optional(),
  fsxWindowsFileServerVolumeConfiguration: z
    .strictObject({
      fileSystemId: z.string().min(1),
      rootDirectory: z.string().min(1),
      authorizationConfig: z.strictObject({
        credentialsParameter: z.string().min(1),
        domain: z.string().min(1),
      }),
    })
    .optional(),
  configuredAtLaunch: z.boolean().optional(),
});

const tagSchema = z.strictObject({
  key: z
    .string()
    .min(1)
    .max(128)
    .regex(TAG_TEXT, 'may hold only letters, digits, spaces and _ . : / = + - @'),
  value: z
    .string()
    .max(256)
    .regex(TAG_TEXT, 'may hold only letters, digits, spaces and _ . : / = + - @')
    .optional(),
});

/** RegisterTaskDefinitionRequest's members, each checked on its own. */
const taskDefinitionShape = z.strictObject({
  family: nameSchema,
  taskRoleArn: z
    .string()
    .refine(
      (s) => ROLE_ARN.test(s) || ROLE_NAME.test(s),
      'must be an IAM role ARN (arn:aws:iam::123456789012:role/name) or a role name',
    )
    .optional(),
  executionRoleArn: z
    .string()
    .regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::123456789012:role/name)')
    .optional(),
  networkMode: z.enum(NETWORK_MODES).optional(),
  containerDefinitions: z
    .array(containerDefinitionSchema)
    .min(1, 'must hold at least one container')
    .max(
      MAX_CONTAINERS,
      `must hold at most ${MAX_CONTAINERS} containers (ECS's limit per task definition)`,
    ),
  volumes: z.array(volumeSchema).optional(),
  placementConstraints: z
    .array(
      z.strictObject({
        type: z.enum(['memberOf']),
        expression: z.string().min(1).max(2000),
      }),
    )
    .max(10, 'must hold at most 10 constraints')
    .optional(),
  requiresCompatibilities: z.array(z.enum(COMPATIBILITIES)).optional(),
  cpu: taskCpuSchema.optional(),
  memory: taskMemorySchema.optional(),
  tags: z.array(tagSchema).max(MAX_TAGS, `must hold at most ${MAX_TAGS} tags`).optional(),
  pidMode: z.enum(['host', 'task']).optional(),
  ipcMode: z.enum(['host', 'task', 'none']).optional(),
  proxyConfiguration: z
    .strictObject({
      type: z.enum(['APPMESH']).optional(),
      containerName: z.string().min(1),
      properties: z.array(keyValuePairSchema).optional(),
    })
    .optional(),
  inferenceAccelerators: z
    .array(z.strictObject({ deviceName: z.string().min(1), deviceType: z.string().min(1) }))
    .optional(),
  ephemeralStorage: z.strictObject({ sizeInGiB: z.int().min(21).max(200) }).optional(),
  runtimePlatform: z
    .strictObject({
      cpuArchitecture: z.enum(['X86_64', 'ARM64']).optional(),
      operatingSystemFamily: z.enum(OS_FAMILIES).optional(),
    })
    .optional(),
  enableFaultInjection: z.boolean().optional(),
});

type TaskDefinitionShape = z.output<typeof taskDefinitionShape>;
type ContainerDefinition = TaskDefinitionShape['containerDefinitions'][number];

// ---------------------------------------------------------------------------------------------
// Cross-field rules

type Path = (string | number)[];

/** What every rule sees: the definition, facts derived once, and where to report. */
type RuleContext = {
  def: TaskDefinitionShape;
  containers: ContainerDefinition[];
  fargate: boolean;
  /** The network mode the rules assume: awsvpc on Fargate (whatever was given), else as given. */
  mode: NetworkMode;
  /** First index of each container name. */
  containerIndex: ReadonlyMap<string, number>;
  volumeNames: ReadonlySet<string>;
  taskCpu: number | undefined;
  taskMemory: number | undefined;
  report: (path: Path, message: string) => void;
};

const containerAt = (i: number): Path => ['containerDefinitions', i];
const mappingName = (o: { container: number; mapping: number }): string =>
  `containerDefinitions[${o.container}].portMappings[${o.mapping}]`;
const isEssential = (c: ContainerDefinition): boolean => c.essential !== false;

/** A reference to another container of this task: it must exist and not be the container itself. */
function checkContainerRef(o: { ctx: RuleContext; from: number; name: string; path: Path }): void {
  const target = o.ctx.containerIndex.get(o.name);
  if (target === undefined) {
    o.ctx.report(
      o.path,
      `must name another container in this task definition; there is no container "${o.name}"`,
    );
  } else if (target === o.from) {
    o.ctx.report(o.path, 'must name another container, not the container itself');
  }
}

/** Task cpu and memory against Fargate's table and against what the containers reserve. */
function checkTaskSize(ctx: RuleContext): void {
  const { def, report, taskCpu, taskMemory } = ctx;
  if (ctx.fargate) {
    if (taskCpu === undefined) {
      report(['cpu'], 'is required when requiresCompatibilities includes FARGATE');
    }
    if (taskMemory === undefined) {
      report(['memory'], 'is required when requiresCompatibilities includes FARGATE');
    }
    const windows = def.runtimePlatform?.operatingSystemFamily?.startsWith('WINDOWS') === true;
    const row = FARGATE_TASK_SIZES.find((r) => r.cpu === taskCpu);
    if (taskCpu !== undefined && row === undefined) {
      const cpus = FARGATE_TASK_SIZES.map((r) => r.cpu);
      report(
        ['cpu'],
        `must be ${cpus.slice(0, -1).join(', ')} or ${cpus.at(-1)} CPU units on Fargate`,
      );
    } else if (windows && taskCpu !== undefined && !FARGATE_WINDOWS_CPUS.includes(taskCpu)) {
      report(['cpu'], 'must be 1024, 2048 or 4096 for Windows containers on Fargate');
    }
    if (row !== undefined && taskMemory !== undefined && !row.memory.includes(taskMemory)) {
      report(['memory'], `must be ${row.text} for a Fargate task with cpu ${row.cpu}`);
    }
  }
  const containerCpu = ctx.containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
  if (taskCpu !== undefined && containerCpu > taskCpu) {
    report(['cpu'], `must be at least the sum of the containers' cpu (${containerCpu} units)`);
  }
  const reserved = ctx.containers.reduce((sum, c) => sum + (c.memoryReservation ?? 0), 0);
  if (taskMemory !== undefined && reserved > taskMemory) {
    report(
      ['memory'],
      `must be at least the sum of the containers' memoryReservation (${reserved} MiB)`,
    );
  }
  ctx.containers.forEach((c, i) => {
    if (
      c.memory !== undefined &&
      c.memoryReservation !== undefined &&
      c.memoryReservation > c.memory
    ) {
      report([...containerAt(i), 'memoryReservation'], `must be at most memory (${c.memory} MiB)`);
    }
    if (taskMemory !== undefined && c.memory !== undefined && c.memory > taskMemory) {
      report(
        [...containerAt(i), 'memory'],
        `must be at most the task's memory (${taskMemory} MiB)`,
      );
    }
    // On Fargate the missing task memory is the error to fix; on EC2 each container needs its own.
    if (
      taskMemory === undefined &&
      !ctx.fargate &&
      c.memory === undefined &&
      c.memoryReservation === undefined
    ) {
      report(
        [...containerAt(i), 'memory'],
        'is required, or memoryReservation, when the task sets no memory',
      );
    }
  });
}

/** Task-level members Fargate refuses. */
function checkFargateTask(ctx: RuleContext): void {
  const { def, report } = ctx;
  if (!ctx.fargate) return;
  if (def.networkMode !== 'awsvpc') {
    report(['networkMode'], 'must be awsvpc when requiresCompatibilities includes FARGATE');
  }
  if (def.ipcMode !== undefined) report(['ipcMode'], 'is not supported on Fargate');
  if (def.pidMode === 'host') report(['pidMode'], 'must be task on Fargate');
  if ((def.inferenceAccelerators ?? []).length > 0) {
    report(['inferenceAccelerators'], 'is not supported on Fargate');
  }
}

/** Container names unique, at least one essential container, proxy names a container. */
function checkContainerSet(ctx: RuleContext): void {
  const { containers, report } = ctx;
  const seen = new Map<string, number>();
  containers.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first === undefined) seen.set(c.name, i);
    else {
      report(
        [...containerAt(i), 'name'],
        `must be unique: containerDefinitions[${first}] is also named "${c.name}"`,
      );
    }
  });
  if (!containers.some(isEssential)) {
    report(
      ['containerDefinitions'],
      'must include at least one essential container (essential defaults to true)',
    );
  }
  const proxy = ctx.def.proxyConfiguration?.containerName;
  if (proxy !== undefined && !ctx.containerIndex.has(proxy)) {
    report(
      ['proxyConfiguration', 'containerName'],
      `must name a container in this task definition; there is no container "${proxy}"`,
    );
  }
}

/** One container's links, volumesFrom, mounts, networking and log settings. */
function checkContainer(o: { ctx: RuleContext; c: ContainerDefinition; i: number }): void {
  const { ctx, c, i } = o;
  const { report } = ctx;
  const at = containerAt(i);
  if ((c.links ?? []).length > 0) {
    if (ctx.fargate) report([...at, 'links'], 'is not supported on Fargate');
    else if (ctx.mode !== 'bridge')
      report([...at, 'links'], 'is only supported in bridge network mode');
  }
  (c.links ?? []).forEach((link, k) => {
    const name = link.split(':')[0] ?? link;
    checkContainerRef({ ctx, from: i, name, path: [...at, 'links', k] });
  });
  (c.volumesFrom ?? []).forEach((v, k) => {
    checkContainerRef({
      ctx,
      from: i,
      name: v.sourceContainer,
      path: [...at, 'volumesFrom', k, 'sourceContainer'],
    });
  });
  (c.mountPoints ?? []).forEach((m, k) => {
    if (!ctx.volumeNames.has(m.sourceVolume)) {
      report(
        [...at, 'mountPoints', k, 'sourceVolume'],
        `must name a volume in volumes; there is no volume "${m.sourceVolume}"`,
      );
    }
  });
  if (ctx.mode === 'awsvpc') {
    if (c.hostname !== undefined)
      report([...at, 'hostname'], 'is not supported in awsvpc network mode');
    if ((c.extraHosts ?? []).length > 0) {
      report([...at, 'extraHosts'], 'is not supported in awsvpc network mode');
    }
  }
  checkLogging(o);
  (c.resourceRequirements ?? []).forEach((r, k) => {
    if (r.type === 'GPU' && ctx.fargate) {
      report([...at, 'resourceRequirements', k, 'type'], 'GPU is not supported on Fargate');
    }
    if (
      r.type === 'InferenceAccelerator' &&
      !(ctx.def.inferenceAccelerators ?? []).some((a) => a.deviceName === r.value)
    ) {
      report(
        [...at, 'resourceRequirements', k, 'value'],
        "must name a deviceName of the task definition's inferenceAccelerators",
      );
    }
  });
  const ulimitNames = new Map<string, number>();
  (c.ulimits ?? []).forEach((u, k) => {
    const first = ulimitNames.get(u.name);
    if (first === undefined) ulimitNames.set(u.name, k);
    else
      report([...at, 'ulimits', k, 'name'], `must be unique: ulimits[${first}] sets ${u.name} too`);
  });
  if (ctx.fargate) checkFargateContainer(o);
}

/** awslogs needs its group (and, on Fargate, a stream prefix); awsfirelens needs a log router. */
function checkLogging(o: { ctx: RuleContext; c: ContainerDefinition; i: number }): void {
  const { ctx, c, i } = o;
  const log = c.logConfiguration;
  if (log === undefined) return;
  const at = [...containerAt(i), 'logConfiguration'];
  if (ctx.fargate && !FARGATE_LOG_DRIVERS.includes(log.logDriver)) {
    ctx.report([...at, 'logDriver'], 'must be awslogs, splunk or awsfirelens on Fargate');
  }
  if (log.logDriver === 'awslogs') {
    const required = ctx.fargate ? ['awslogs-group', 'awslogs-stream-prefix'] : ['awslogs-group'];
    const missing = required.filter((k) => log.options?.[k] === undefined);
    if (missing.length > 0) {
      ctx.report(
        [...at, 'options'],
        `must set ${missing.join(' and ')} for the awslogs log driver${ctx.fargate ? ' on Fargate' : ''}`,
      );
    }
  }
  if (
    log.logDriver === 'awsfirelens' &&
    !ctx.containers.some((other) => other.firelensConfiguration !== undefined)
  ) {
    ctx.report(
      [...at, 'logDriver'],
      'needs a log router: a container with firelensConfiguration in this task definition',
    );
  }
}

/** Container members Fargate refuses. */
function checkFargateContainer(o: { ctx: RuleContext; c: ContainerDefinition; i: number }): void {
  const { ctx, c, i } = o;
  const at = containerAt(i);
  const refuse = (path: Path) => ctx.report(path, 'is not supported on Fargate');
  if (c.privileged === true) refuse([...at, 'privileged']);
  if ((c.dockerSecurityOptions ?? []).length > 0) refuse([...at, 'dockerSecurityOptions']);
  const linux = c.linuxParameters;
  if (linux !== undefined) {
    if (linux.devices !== undefined) refuse([...at, 'linuxParameters', 'devices']);
    if (linux.sharedMemorySize !== undefined)
      refuse([...at, 'linuxParameters', 'sharedMemorySize']);
    if (linux.maxSwap !== undefined) refuse([...at, 'linuxParameters', 'maxSwap']);
    if (linux.swappiness !== undefined) refuse([...at, 'linuxParameters', 'swappiness']);
    (linux.capabilities?.add ?? []).forEach((cap, k) => {
      if (cap !== 'SYS_PTRACE') {
        ctx.report(
          [...at, 'linuxParameters', 'capabilities', 'add', k],
          'cannot be added on Fargate, which allows only SYS_PTRACE',
        );
      }
    });
  }
  for (const member of ['startTimeout', 'stopTimeout'] as const) {
    const seconds = c[member];
    if (seconds !== undefined && (seconds < 2 || seconds > 120)) {
      ctx.report([...at, member], 'must be 2 to 120 seconds on Fargate');
    }
  }
}

/** Port mappings: one of containerPort/containerPortRange, host ports per network mode, no overlaps. */
function checkPorts(ctx: RuleContext): void {
  const { report, mode } = ctx;
  // awsvpc and host tasks share one network namespace; bridge containers each have their own.
  const shared = mode === 'awsvpc' || mode === 'host';
  const taken: { scope: number; protocol: string; first: number; last: number; where: string }[] =
    [];
  const hostPorts = new Map<string, string>();
  const names = new Map<string, string>();
  const describe = (o: { protocol: string; first: number; last: number }) =>
    o.first === o.last
      ? `${o.protocol} port ${o.first}`
      : `${o.protocol} ports ${o.first}-${o.last}`;

  ctx.containers.forEach((c, i) => {
    const mappings = c.portMappings ?? [];
    const at = containerAt(i);
    if (mode === 'none' && mappings.length > 0) {
      report([...at, 'portMappings'], 'must be empty when networkMode is none');
      return;
    }
    if (mappings.filter((m) => m.containerPortRange !== undefined).length > 100) {
      report([...at, 'portMappings'], 'can hold at most 100 port ranges per container');
    }
    mappings.forEach((m, j) => {
      const path = [...at, 'portMappings', j];
      const where = mappingName({ container: i, mapping: j });
      const protocol = m.protocol ?? 'tcp';
      if (m.name !== undefined) {
        const first = names.get(m.name);
        if (first === undefined) names.set(m.name, where);
        else report([...path, 'name'], `must be unique in the task: ${first} has the same name`);
      }
      let ports: { first: number; last: number } | undefined;
      let portPath: Path;
      if (m.containerPortRange !== undefined) {
        portPath = [...path, 'containerPortRange'];
        if (m.containerPort !== undefined) {
          report(portPath, 'cannot be combined with containerPort');
          return;
        }
        if (mode !== 'bridge' && mode !== 'awsvpc') {
          report(portPath, 'is only supported in bridge and awsvpc network modes');
          return;
        }
        if (m.hostPort !== undefined) {
          report([...path, 'hostPort'], 'must be omitted with containerPortRange');
        }
        ports = portRangeOf(m.containerPortRange);
      } else {
        portPath = [...path, 'containerPort'];
        if (m.containerPort === undefined) {
          report(portPath, 'is required unless containerPortRange is given');
          return;
        }
        ports = { first: m.containerPort, last: m.containerPort };
        if (shared && m.hostPort !== undefined && m.hostPort !== m.containerPort) {
          report(
            [...path, 'hostPort'],
            `must equal containerPort (${m.containerPort}) in ${mode} network mode`,
          );
        }
        if (mode === 'bridge' && m.hostPort !== undefined && m.hostPort !== 0) {
          const key = `${protocol}/${m.hostPort}`;
          const first = hostPorts.get(key);
          if (first === undefined) hostPorts.set(key, where);
          else {
            report(
              [...path, 'hostPort'],
              `overlaps ${protocol} host port ${m.hostPort} of ${first}`,
            );
          }
        }
      }
      if (ports === undefined) return;
      const scope = shared ? -1 : i;
      const clash = taken.find(
        (t) =>
          t.scope === scope &&
          t.protocol === protocol &&
          t.first <= ports.last &&
          ports.first <= t.last,
      );
      if (clash) report(portPath, `overlaps ${describe(clash)} of ${clash.where}`);
      else taken.push({ scope, protocol, ...ports, where });
    });
  });
}

/** dependsOn: existing containers, conditions their targets can meet, and no cycles. */
function checkDependencies(ctx: RuleContext): void {
  const { containers, containerIndex, report } = ctx;
  containers.forEach((c, i) => {
    (c.dependsOn ?? []).forEach((d, k) => {
      const path = [...containerAt(i), 'dependsOn', k];
      checkContainerRef({ ctx, from: i, name: d.containerName, path: [...path, 'containerName'] });
      const target = containers[containerIndex.get(d.containerName) ?? -1];
      if (target === undefined) return;
      if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && isEssential(target)) {
        report(
          [...path, 'condition'],
          `cannot be ${d.condition}: container "${target.name}" is essential, so its exit stops the task (set its essential to false)`,
        );
      }
      if (d.condition === 'HEALTHY' && target.healthCheck === undefined) {
        report(
          [...path, 'condition'],
          `cannot be HEALTHY: container "${target.name}" has no healthCheck`,
        );
      }
    });
  });
  // A cycle means no container in it can ever start.
  const state = containers.map(() => 'new' as 'new' | 'open' | 'done');
  const stack: number[] = [];
  const walk = (i: number): void => {
    state[i] = 'open';
    stack.push(i);
    (containers[i]?.dependsOn ?? []).forEach((d, k) => {
      const j = containerIndex.get(d.containerName);
      if (j === undefined || j === i) return;
      if (state[j] === 'open') {
        const cycle = [...stack.slice(stack.indexOf(j)), j].map((n) => containers[n]?.name);
        report(
          [...containerAt(i), 'dependsOn', k, 'containerName'],
          `forms a dependency cycle: ${cycle.join(' -> ')}`,
        );
      } else if (state[j] === 'new') walk(j);
    });
    stack.pop();
    state[i] = 'done';
  };
  containers.forEach((_, i) => {
    if (state[i] === 'new') walk(i);
  });
}

/** Volumes: unique names, one kind each, one configured at launch, EFS/S3 Files access rules. */
function checkVolumes(ctx: RuleContext): void {
  const { report } = ctx;
  const KINDS = [
    'host',
    'dockerVolumeConfiguration',
    'efsVolumeConfiguration',
    's3filesVolumeConfiguration',
    'fsxWindowsFileServerVolumeConfiguration',
  ] as const;
  const names = new Map<string, number>();
  let atLaunch: number | undefined;
  (ctx.def.volumes ?? []).forEach((v, i) => {
    const at: Path = ['volumes', i];
    if (v.name !== undefined) {
      const first = names.get(v.name);
      if (first === undefined) names.set(v.name, i);
      else report([...at, 'name'], `must be unique: volumes[${first}] has the same name`);
    }
    const kinds: string[] = KINDS.filter((k) => v[k] !== undefined);
    if (v.configuredAtLaunch === true) kinds.push('configuredAtLaunch');
    const [firstKind, secondKind] = kinds;
    if (secondKind !== undefined)
      report([...at, secondKind], `cannot be combined with ${firstKind}`);
    const needsName =
      v.efsVolumeConfiguration !== undefined ||
      v.s3filesVolumeConfiguration !== undefined ||
      v.configuredAtLaunch === true;
    if (needsName && v.name === undefined) report([...at, 'name'], `is required with ${firstKind}`);
    if (v.configuredAtLaunch === true) {
      if (atLaunch === undefined) atLaunch = i;
      else {
        report(
          [...at, 'configuredAtLaunch'],
          `can be true for one volume only; volumes[${atLaunch}] already is`,
        );
      }
    }
    const efs = v.efsVolumeConfiguration;
    if (efs !== undefined) {
      const auth = efs.authorizationConfig;
      const why =
        auth?.iam === 'ENABLED'
          ? 'authorizationConfig.iam is ENABLED'
          : auth?.accessPointId !== undefined
            ? 'authorizationConfig.accessPointId is given'
            : undefined;
      if (why !== undefined && efs.transitEncryption !== 'ENABLED') {
        report(
          [...at, 'efsVolumeConfiguration', 'transitEncryption'],
          `must be ENABLED when ${why}`,
        );
      }
      if (auth?.accessPointId !== undefined && !isRootOrAbsent(efs.rootDirectory)) {
        report(
          [...at, 'efsVolumeConfiguration', 'rootDirectory'],
          'must be omitted or / when authorizationConfig.accessPointId is given',
        );
      }
    }
    const s3 = v.s3filesVolumeConfiguration;
    if (s3?.accessPointArn !== undefined && !isRootOrAbsent(s3.rootDirectory)) {
      report(
        [...at, 's3filesVolumeConfiguration', 'rootDirectory'],
        'must be omitted or / when accessPointArn is given',
      );
    }
    if (ctx.fargate) {
      if (v.dockerVolumeConfiguration !== undefined) {
        report([...at, 'dockerVolumeConfiguration'], 'is not supported on Fargate');
      }
      if (v.host?.sourcePath !== undefined) {
        report([...at, 'host', 'sourcePath'], 'is not supported on Fargate');
      }
    }
  });
}

const isRootOrAbsent = (dir: string | undefined): boolean => dir === undefined || dir === '/';

/** Tag keys unique and not in AWS's reserved `aws:` namespace. */
function checkTags(ctx: RuleContext): void {
  const keys = new Map<string, number>();
  (ctx.def.tags ?? []).forEach((t, i) => {
    if (t.key.toLowerCase().startsWith('aws:')) {
      ctx.report(['tags', i, 'key'], 'must not start with aws: (reserved for AWS use)');
    }
    const first = keys.get(t.key);
    if (first === undefined) keys.set(t.key, i);
    else ctx.report(['tags', i, 'key'], `must be unique: tags[${first}] has the same key`);
  });
}

/** Every cross-field problem of a definition whose members are each valid, in body order. */
function crossFieldProblems(def: TaskDefinitionShape): { path: Path; message: string }[] {
  const problems: { path: Path; message: string }[] = [];
  const containerIndex = new Map<string, number>();
  def.containerDefinitions.forEach((c, i) => {
    if (!containerIndex.has(c.name)) containerIndex.set(c.name, i);
  });
  const fargate = def.requiresCompatibilities?.includes('FARGATE') === true;
  const ctx: RuleContext = {
    def,
    containers: def.containerDefinitions,
    fargate,
    mode: fargate ? 'awsvpc' : (def.networkMode ?? 'bridge'),
    containerIndex,
    volumeNames: new Set(
      (def.volumes ?? []).flatMap((v) => (v.name === undefined ? [] : [v.name])),
    ),
    taskCpu: def.cpu === undefined ? undefined : Number(def.cpu),
    taskMemory: def.memory === undefined ? undefined : Number(def.memory),
    report: (path, message) => problems.push({ path, message }),
  };
  checkFargateTask(ctx);
  checkTaskSize(ctx);
  checkContainerSet(ctx);
  ctx.containers.forEach((c, i) => {
    checkContainer({ ctx, c, i });
  });
  checkPorts(ctx);
  checkDependencies(ctx);
  checkVolumes(ctx);
  checkTags(ctx);
  return problems;
}

/**
 * The body of ECS RegisterTaskDefinition: every member of the request and of ContainerDefinition,
 * strict (unknown members are refused), with ECS's enums and limits, then the cross-field rules ECS
 * applies at registration. Those run once every member has the right type (an unknown member or a
 * failed format check does not stop them; a wrong type or an unreadable task size does). Task-level
 * `cpu` and `memory` may be numbers or strings ("1 vCPU", "2 GB") and come out as ECS stores them
 * ("1024", "2048").
 */
export const registerTaskDefinitionSchema = taskDefinitionShape.superRefine((def, ctx) => {
  for (const p of crossFieldProblems(def)) {
    ctx.addIssue({ code: 'custom', path: p.path, message: p.message, input: def });
  }
});

/** A valid RegisterTaskDefinition body, `cpu` and `memory` normalised. */
export type RegisterTaskDefinitionInput = z.output<typeof registerTaskDefinitionSchema>;

// ---------------------------------------------------------------------------------------------
// Entry points

/** Object members whose value is null, removed at every depth (array items are kept). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties, so a `__proto__` member stays a member (and is refused).
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/**
 * Validates a task definition body as ECS would register it, or throws a ValidationError listing
 * every bad field (`what: 'task definition'`). Members set to null count as absent, as they do for
 * ECS (describe-task-definition output carries them).
 */
export function validateTaskDefinition(input: unknown): RegisterTaskDefinitionInput {
  return parseOrThrow({
    schema: registerTaskDefinitionSchema,
    input: withoutNulls(input),
    what: 'task definition',
  });
}

/** How many aliases a YAML body may expand; more is treated as an entity-expansion attack. */
export const MAX_YAML_ALIASES = 100;

/** The only YAML tags a body may name explicitly: those whose values are JSON values. */
const JSON_TAGS: ReadonlySet<string> = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);

function bodyError(message: string): ValidationError {
  return new ValidationError(`Invalid task definition: the body ${message}`, [
    { path: '(body)', message },
  ]);
}

/**
 * Parses a task definition body. JSON goes through JSON.parse; YAML is read as YAML 1.2 (core
 * schema, so `yes` and `2024-01-01` stay strings) with merge keys, duplicate keys refused, at most
 * MAX_YAML_ALIASES alias expansions, and only JSON values: an explicit tag for anything else
 * (`!!binary`, `!!timestamp`, `!!set`, `!Ref`, …), `.inf`/`.nan` and collection keys are refused
 * rather than converted. A leading byte-order mark is ignored. The document must be a mapping.
 * Throws a ValidationError at `(body)` naming the line and column of a syntax error.
 */
export function parseTaskDefinitionBody(o: {
  body: string;
  contentType: 'json' | 'yaml';
}): unknown {
  const text = o.body.startsWith('\uFEFF') ? o.body.slice(1) : o.body;
  const value = o.contentType === 'json' ? parseJson(text) : parseYaml(text);
  checkDepth(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = o.contentType === 'json' ? 'a JSON object' : 'a YAML mapping';
    throw bodyError(`must be ${kind} at the top level, not ${kindOf(value)}`);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** 1-based line and column of `offset` in `text`. */
function linePos(o: { text: string; offset: number }): { line: number; col: number } {
  const before = o.text.slice(0, o.offset);
  const line = before.split('\n').length;
  return { line, col: o.offset - before.lastIndexOf('\n') };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = jsonSyntaxError(text);
    if (found === undefined) throw bodyError(`is not valid JSON: ${(error as Error).message}`);
    const { line, col } = linePos({ text, offset: found.offset });
    throw bodyError(`is not valid JSON: ${found.reason} at line ${line}, column ${col}`);
  }
}

function parseYaml(text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.2',
    schema: 'core',
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
  });
  const at = (offset: number | undefined): string => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return `at line ${line}, column ${col}`;
  };
  const [problem] = [...doc.errors, ...doc.warnings];
  if (problem) throw bodyError(`is not valid YAML: ${problem.message} ${at(problem.pos[0])}`);
  let refused: string | undefined;
  const refuse = (o: { node: YamlNode; why: string }) => {
    refused ??= `${o.why} ${at(o.node.range?.[0])}`;
    return visit.BREAK;
  };
  visit(doc, {
    Node(_, node) {
      if (node.tag !== undefined && !JSON_TAGS.has(node.tag)) {
        return refuse({
          node,
          why: `uses the YAML tag ${node.tag.replace('tag:yaml.org,2002:', '!!')}, which is not a JSON value`,
        });
      }
      if (isScalar(node) && typeof node.value === 'number' && !Number.isFinite(node.value)) {
        return refuse({
          node,
          why: `holds ${String(node.source ?? node.value)}, which is not a JSON number`,
        });
      }
      return undefined;
    },
    Pair(_, pair) {
      if (isCollection(pair.key)) {
        return refuse({ node: pair.key, why: 'uses a list or mapping as a key' });
      }
      return undefined;
    },
  });
  if (refused !== undefined) throw bodyError(`is not accepted: it ${refused}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    if (error instanceof ReferenceError) {
      throw bodyError(
        `is not accepted: its aliases expand to too much data (more than ${MAX_YAML_ALIASES} alias uses)`,
      );
    }
    throw error;
  }
}

/**
 * Where and why `text` is not JSON. Run only after JSON.parse failed, so that every Node version
 * reports the same position and wording (V8 omits the position from some of its messages).
 */
function jsonSyntaxError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  class Fail {
    constructor(readonly reason: string) {}
  }
  const found = (): string =>
    i >= text.length ? 'the end of the input' : JSON.stringify(text.charAt(i));
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (ch: string, what: string) => {
    if (text.charAt(i) !== ch) throw new Fail(`expected ${what}, found ${found()}`);
    i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) throw new Fail('unterminated string');
      const ch = text.charAt(i);
      if (ch === '"') {
        i++;
        return;
      }
      if (ch.charCodeAt(0) < 0x20) throw new Fail('control character in a string (escape it)');
      if (ch === '\\') {
        i++;
        const esc = text.charAt(i);
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw new Fail('bad \\u escape');
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(esc) || esc === '') throw new Fail(`bad escape \\${esc}`);
      }
      i++;
    }
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (depth: number): void => {
    if (depth > 512) throw new Fail('nesting is too deep');
    ws();
    const ch = text.charAt(i);
    if (ch === '{') {
      i++;
      ws();
      if (text.charAt(i) === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text.charAt(i) !== '"')
          throw new Fail(`expected a property name in double quotes, found ${found()}`);
        string();
        ws();
        expect(':', "':' after a property name");
        value(depth + 1);
        ws();
        if (text.charAt(i) === ',') {
          i++;
          continue;
        }
        expect('}', "',' or '}' after a property value");
        return;
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text.charAt(i) === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text.charAt(i) === ',') {
          i++;
          continue;
        }
        expect(']', "',' or ']' after a list item");
        return;
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return;
    }
    throw new Fail(`expected a value, found ${found()}`);
  };
  try {
    value(0);
    ws();
    if (i < text.length) throw new Fail(`unexpected ${found()} after the value`);
    return undefined;
  } catch (error) {
    if (error instanceof Fail) return { offset: i, reason: error.reason };
    throw error;
  }
}
