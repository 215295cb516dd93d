/**
 * The local Elastic Load Balancing v2, target groups only: CreateTargetGroup, DescribeTargetGroups,
 * DeleteTargetGroup, Describe/ModifyTargetGroupAttributes, Register/DeregisterTargets and
 * DescribeTargetHealth, with ELB's validation and error codes (botocore elbv2/2015-12-01). Inputs
 * and outputs use the model's member names and shapes, so http.ts only converts the query protocol.
 *
 * Target health is simulated on the stack clock from the ECS emulator's tasks:
 * - a target is `initial` (Elb.RegistrationInProgress) for HealthCheckIntervalSeconds ×
 *   HealthyThresholdCount after it is registered;
 * - then an `ip` target `ip:port` is `healthy` when the emulator's task holding `ip` is RUNNING and
 *   the container mapping `port` (else the task's first container) is running and healthy by its
 *   `steward.emulator/target-health` label (healthy without one); `unhealthy`
 *   (Target.FailedHealthChecks) when the label says so; `unhealthy` (Target.Timeout) when no task
 *   holds the address or it is not RUNNING, as nothing answers the checks;
 * - DeregisterTargets makes a target `draining` (Target.DeregistrationInProgress) for the group's
 *   deregistration_delay.timeout_seconds, then it is gone (`unused`, Target.NotRegistered).
 *
 * Simplified:
 * - there are no load balancers or listeners: every target group counts as in use (never
 *   Target.NotInUse), LoadBalancerArns is always empty, and DescribeTargetGroups by
 *   LoadBalancerArn answers LoadBalancerNotFound;
 * - health follows the task at once after the initial period: a healthy target whose task stops
 *   or whose label turns unhealthy is unhealthy at the next look, without UnhealthyThresholdCount
 *   failed checks, and back to healthy as promptly; HealthCheckPath, Matcher and the health check
 *   port and protocol are stored and echoed, never used;
 * - `instance`, `alb` and `lambda` targets are checked for their id's form only, and are healthy
 *   after the initial period (lambda: `unavailable` while health checks are disabled, its default);
 * - `ip` targets must be private IPv4 (RFC 1918 or RFC 6598) addresses; there is no VPC, so VpcId
 *   is not checked and the Availability Zone is only what the caller registered;
 * - tags are checked and kept, but there is no DescribeTags; Include (anomaly detection) is
 *   accepted and answers nothing more.
 */

import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { TargetHealthStatus, TimelinePoint } from '../ecs/model';
import { timelineValueAt } from '../ecs/workload';
import {
  type AttributeTraits,
  attributesOf,
  checkAttributes,
  DEREGISTRATION_DELAY,
  type TargetGroupAttribute,
} from './attributes';
import {
  constraintError,
  ElbV2Error,
  ElbV2ErrorCode,
  invalidTarget,
  missingParameter,
  targetGroupNotFound,
  validationError,
} from './errors';

export type { TargetGroupAttribute } from './attributes';

export const TargetType = {
  Instance: 'instance',
  Ip: 'ip',
  Lambda: 'lambda',
  Alb: 'alb',
} as const;
export type TargetType = (typeof TargetType)[keyof typeof TargetType];
const TARGET_TYPES: readonly string[] = Object.values(TargetType);

const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP', 'GENEVE', 'QUIC', 'TCP_QUIC'];
const HEALTH_CHECK_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'];
const PROTOCOL_VERSIONS = ['HTTP1', 'HTTP2', 'GRPC'];
const IP_ADDRESS_TYPES = ['ipv4', 'ipv6'];
const INCLUDE_OPTIONS = ['AnomalyDetection', 'All'];
const TRAFFIC_PORT = 'traffic-port';
const GENEVE_PORT = 6081;

/** ELB's quotas that the emulation enforces. */
export const ElbV2Limits = {
  targetGroupsPerRegion: 3000,
  targetsPerTargetGroup: 1000,
  tagsPerResource: 50,
  describePageSize: 400,
} as const;

export type Tag = { Key: string; Value?: string };
export type Matcher = { HttpCode?: string; GrpcCode?: string };

/** CreateTargetGroup's input (model member names). */
export type CreateTargetGroupInput = {
  Name: string;
  Protocol?: string;
  ProtocolVersion?: string;
  Port?: number;
  VpcId?: string;
  HealthCheckProtocol?: string;
  HealthCheckPort?: string;
  HealthCheckEnabled?: boolean;
  HealthCheckPath?: string;
  HealthCheckIntervalSeconds?: number;
  HealthCheckTimeoutSeconds?: number;
  HealthyThresholdCount?: number;
  UnhealthyThresholdCount?: number;
  Matcher?: Matcher;
  TargetType?: string;
  Tags?: Tag[];
  IpAddressType?: string;
  TargetControlPort?: number;
};

/** A target group's settings, fixed at creation (defaults filled in). */
export type TargetGroupSettings = {
  TargetGroupName: string;
  Protocol?: string;
  Port?: number;
  VpcId?: string;
  HealthCheckProtocol?: string;
  HealthCheckPort?: string;
  HealthCheckEnabled: boolean;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  HealthCheckPath?: string;
  Matcher?: Matcher;
  TargetType: TargetType;
  ProtocolVersion?: string;
  IpAddressType?: string;
  TargetControlPort?: number;
};

/** The TargetGroup shape of the model. */
export type TargetGroup = { TargetGroupArn: string } & TargetGroupSettings & {
    LoadBalancerArns: string[];
  };

export type DescribeTargetGroupsInput = {
  LoadBalancerArn?: string;
  TargetGroupArns?: string[];
  Names?: string[];
  Marker?: string;
  PageSize?: number;
};

/** The TargetDescription shape: a target and, optionally, its port and Availability Zone. */
export type TargetDescription = { Id: string; Port?: number; AvailabilityZone?: string };

export type TargetsInput = { TargetGroupArn: string; Targets: TargetDescription[] };

export type DescribeTargetHealthInput = {
  TargetGroupArn: string;
  Targets?: TargetDescription[];
  Include?: string[];
};

export type TargetHealthState =
  | 'initial'
  | 'healthy'
  | 'unhealthy'
  | 'unused'
  | 'draining'
  | 'unavailable';

export type TargetHealth = { State: TargetHealthState; Reason?: string; Description?: string };

/** The TargetHealthDescription shape of the model. */
export type TargetHealthDescription = {
  Target: TargetDescription;
  HealthCheckPort?: string;
  TargetHealth: TargetHealth;
  AdministrativeOverride: { State: string; Reason: string; Description: string };
};

/** A registration: one target id on one port. Times are on the stack clock (epoch ms). */
export type StoredTarget = {
  Id: string;
  Port?: number;
  AvailabilityZone?: string;
  registeredAt: number;
  /** Set by DeregisterTargets: the target drains until drainingUntil, then is gone. */
  deregisteredAt?: number;
  drainingUntil?: number;
};

export type StoredTargetGroup = {
  arn: string;
  settings: TargetGroupSettings;
  createdAt: number;
  /** Attributes set by ModifyTargetGroupAttributes; the others have their defaults. */
  attributes: Record<string, string>;
  tags: Tag[];
  targets: StoredTarget[];
};

/** What the local ELBv2 keeps on disk. */
export type ElbV2State = { format: 1; targetGroups: StoredTargetGroup[] };

/** What health checks can see of the task holding an IPv4 address (EcsEmulator.taskByPrivateIp). */
export type ServingTask = {
  lastStatus: string;
  /** When it reached RUNNING (stack clock); target-health timelines count from here. */
  startedAt?: number;
  containers: readonly {
    running: boolean;
    containerPorts: readonly number[];
    targetHealth?: readonly TimelinePoint<TargetHealthStatus>[];
  }[];
};

/** Where health checks find the task behind an `ip` target (the ECS emulator). */
export type TaskDirectory = { taskByPrivateIp(ip: string): ServingTask | undefined };

export type LocalElbV2Options = {
  region?: string;
  accountId?: string;
  /** The stack clock (epoch ms). */
  now: () => number;
  tasks: TaskDirectory;
  /**
   * Emulated ms per clock ms, as the ECS emulator's timeScale: divides the health check period
   * and the deregistration delay. Default 1.
   */
  timeScale?: number;
  /** State to start from (a persisted stack). */
  state?: ElbV2State;
  /** Told after every change of state (the stack saves it). */
  onChange?: () => void;
};

const HEALTHY: TargetHealth = { State: 'healthy' };
const INITIAL: TargetHealth = {
  State: 'initial',
  Reason: 'Elb.RegistrationInProgress',
  Description: 'Target registration is in progress',
};
const TIMED_OUT: TargetHealth = {
  State: 'unhealthy',
  Reason: 'Target.Timeout',
  Description: 'Request timed out',
};
const FAILED: TargetHealth = {
  State: 'unhealthy',
  Reason: 'Target.FailedHealthChecks',
  Description: 'Health checks failed',
};
const DRAINING: TargetHealth = {
  State: 'draining',
  Reason: 'Target.DeregistrationInProgress',
  Description: 'Target deregistration is in progress',
};
const NOT_REGISTERED: TargetHealth = {
  State: 'unused',
  Reason: 'Target.NotRegistered',
  Description: 'Target is not registered to the target group',
};
const CHECKS_DISABLED: TargetHealth = {
  State: 'unavailable',
  Reason: 'Target.HealthCheckDisabled',
  Description: 'Health checks are disabled',
};
const NO_OVERRIDE = {
  State: 'no_override',
  Reason: 'AdministrativeOverride.NoOverride',
  Description: 'No override is currently active on target',
};

const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;
const LOAD_BALANCER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(app|net|gwy)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const LAMBDA_ARN =
  /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]{1,128})?$/;
const HTTP_CODES = /^\d{3}(?:-\d{3})?(?:,\d{3}(?:-\d{3})?)*$/;
const GRPC_CODES = /^\d{1,2}(?:-\d{1,2})?(?:,\d{1,2}(?:-\d{1,2})?)*$/;

/** Private ranges an `ip` target may be in: RFC 1918 and RFC 6598 (shared address space). */
const isPrivateIpv4 = (ip: string): boolean => {
  const [a = -1, b = -1] = ip.split('.').map(Number);
  return (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 100 && b >= 64 && b <= 127)
  );
};

const checkName = (name: string): void => {
  if (name.length === 0 || name.length > 32) {
    throw validationError(`Target group name '${name}' cannot be longer than '32' characters`);
  }
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw validationError(
      `Target group name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (name.startsWith('-') || name.endsWith('-')) {
    throw validationError(`Target group name '${name}' cannot begin or end with '-'`);
  }
};

const checkRange = (o: {
  member: string;
  value: number | undefined;
  min: number;
  max: number;
}): void => {
  if (o.value === undefined) return;
  if (!Number.isSafeInteger(o.value)) {
    throw constraintError({ member: o.member, value: o.value, constraint: 'must be an integer' });
  }
  if (o.value < o.min) {
    throw constraintError({
      member: o.member,
      value: o.value,
      constraint: `must have value greater than or equal to ${o.min}`,
    });
  }
  if (o.value > o.max) {
    throw constraintError({
      member: o.member,
      value: o.value,
      constraint: `must have value less than or equal to ${o.max}`,
    });
  }
};

const checkEnum = (o: {
  member: string;
  value: string | undefined;
  values: readonly string[];
}): void => {
  if (o.value !== undefined && !o.values.includes(o.value)) {
    throw constraintError({
      member: o.member,
      value: o.value,
      constraint: `must satisfy enum value set: [${o.values.join(', ')}]`,
    });
  }
};

/** JSON with sorted keys, to compare settings whatever order they were built in. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );

/** Validates CreateTargetGroup's input and fills in ELB's defaults. */
const resolveSettings = (input: CreateTargetGroupInput): TargetGroupSettings => {
  if (typeof input.Name !== 'string') throw missingParameter('Name');
  checkName(input.Name);
  checkEnum({ member: 'TargetType', value: input.TargetType, values: TARGET_TYPES });
  checkEnum({ member: 'Protocol', value: input.Protocol, values: PROTOCOLS });
  checkEnum({ member: 'HealthCheckProtocol', value: input.HealthCheckProtocol, values: PROTOCOLS });
  checkEnum({ member: 'IpAddressType', value: input.IpAddressType, values: IP_ADDRESS_TYPES });
  checkRange({ member: 'Port', value: input.Port, min: 1, max: 65535 });
  checkRange({ member: 'TargetControlPort', value: input.TargetControlPort, min: 1, max: 65535 });
  checkRange({
    member: 'HealthCheckIntervalSeconds',
    value: input.HealthCheckIntervalSeconds,
    min: 5,
    max: 300,
  });
  checkRange({
    member: 'HealthCheckTimeoutSeconds',
    value: input.HealthCheckTimeoutSeconds,
    min: 2,
    max: 120,
  });
  for (const member of ['HealthyThresholdCount', 'UnhealthyThresholdCount'] as const) {
    checkRange({ member, value: input[member], min: 2, max: 10 });
  }
  const targetType = (input.TargetType ?? TargetType.Instance) as TargetType;
  const lambda = targetType === TargetType.Lambda;
  if (lambda) {
    for (const member of ['Protocol', 'Port', 'VpcId', 'ProtocolVersion'] as const) {
      if (input[member] !== undefined) {
        throw validationError(
          `${member} cannot be specified for target groups with target type 'lambda'`,
        );
      }
    }
  } else {
    if (input.Protocol === undefined) throw validationError('A protocol must be specified');
    if (input.Port === undefined) throw validationError('A port must be specified');
    if (input.VpcId === undefined || input.VpcId === '') {
      throw validationError('A VPC ID must be specified');
    }
    if (input.HealthCheckEnabled === false) {
      throw validationError(
        `Health checks cannot be disabled for target groups with target type '${targetType}'`,
      );
    }
  }
  const protocol = input.Protocol;
  const application = protocol === 'HTTP' || protocol === 'HTTPS';
  if (targetType === TargetType.Alb && protocol !== 'TCP') {
    throw validationError("Target groups with target type 'alb' must use the protocol 'TCP'");
  }
  if (protocol === 'GENEVE' && input.Port !== GENEVE_PORT) {
    throw validationError(
      `Target groups with the protocol 'GENEVE' must use the port ${GENEVE_PORT}`,
    );
  }
  let protocolVersion: string | undefined;
  if (input.ProtocolVersion !== undefined) {
    if (!application) {
      throw validationError(
        `A protocol version can only be specified for target groups with the protocol HTTP or HTTPS`,
      );
    }
    protocolVersion = input.ProtocolVersion.toUpperCase();
    if (!PROTOCOL_VERSIONS.includes(protocolVersion)) {
      throw validationError(
        `Protocol version '${input.ProtocolVersion}' is not valid; use one of ${PROTOCOL_VERSIONS.join(', ')}`,
      );
    }
  } else if (application) {
    protocolVersion = 'HTTP1';
  }
  const grpc = protocolVersion === 'GRPC';

  const healthCheckProtocol = lambda
    ? undefined
    : (input.HealthCheckProtocol ?? (application ? protocol : 'TCP'));
  if (healthCheckProtocol !== undefined && !HEALTH_CHECK_PROTOCOLS.includes(healthCheckProtocol)) {
    throw validationError(
      `Health check protocol '${healthCheckProtocol}' is not supported; use HTTP, HTTPS or TCP`,
    );
  }
  if (application && healthCheckProtocol === 'TCP') {
    throw validationError(
      `Health check protocol 'TCP' is not supported for target groups with the protocol '${protocol}'`,
    );
  }
  const httpCheck = lambda || healthCheckProtocol === 'HTTP' || healthCheckProtocol === 'HTTPS';

  let healthCheckPort: string | undefined;
  if (!lambda) {
    healthCheckPort = input.HealthCheckPort ?? (protocol === 'GENEVE' ? '80' : TRAFFIC_PORT);
    const n = /^\d+$/.test(healthCheckPort) ? Number(healthCheckPort) : Number.NaN;
    if (healthCheckPort !== TRAFFIC_PORT && !(n >= 1 && n <= 65535)) {
      throw validationError(
        `Health check port '${healthCheckPort}' must be '${TRAFFIC_PORT}' or a port from 1 to 65535`,
      );
    }
  } else if (input.HealthCheckPort !== undefined) {
    throw validationError(
      "HealthCheckPort cannot be specified for target groups with target type 'lambda'",
    );
  }

  if (!httpCheck && input.HealthCheckPath !== undefined) {
    throw validationError(
      `A health check path cannot be specified with the health check protocol '${healthCheckProtocol}'`,
    );
  }
  const healthCheckPath = httpCheck
    ? (input.HealthCheckPath ?? (grpc ? '/AWS.ALB/healthcheck' : '/'))
    : undefined;
  if (
    healthCheckPath !== undefined &&
    (!healthCheckPath.startsWith('/') || healthCheckPath.length > 1024)
  ) {
    throw validationError(
      `Health check path '${healthCheckPath}' must begin with '/' and have at most 1024 characters`,
    );
  }

  let matcher: Matcher | undefined;
  if (input.Matcher !== undefined) {
    if (!httpCheck) {
      throw validationError(
        `A matcher cannot be specified with the health check protocol '${healthCheckProtocol}'`,
      );
    }
    const { HttpCode, GrpcCode } = input.Matcher;
    if ((HttpCode === undefined) === (GrpcCode === undefined)) {
      throw validationError('A matcher must have either an HTTP code or a gRPC code');
    }
    if (GrpcCode !== undefined && !grpc) {
      throw validationError("A gRPC code can only be specified with the protocol version 'GRPC'");
    }
    if (HttpCode !== undefined && (grpc || !HTTP_CODES.test(HttpCode))) {
      throw validationError(`HTTP code '${HttpCode}' is not valid (e.g. 200, 200,202 or 200-299)`);
    }
    if (GrpcCode !== undefined && !GRPC_CODES.test(GrpcCode)) {
      throw validationError(`gRPC code '${GrpcCode}' is not valid (e.g. 0, 0,12 or 0-99)`);
    }
    matcher = GrpcCode === undefined ? { HttpCode: HttpCode as string } : { GrpcCode };
  } else if (httpCheck) {
    matcher = grpc ? { GrpcCode: '12' } : { HttpCode: application || lambda ? '200' : '200-399' };
  }

  const interval =
    input.HealthCheckIntervalSeconds ?? (lambda ? 35 : protocol === 'GENEVE' ? 10 : 30);
  const timeout =
    input.HealthCheckTimeoutSeconds ??
    (lambda
      ? 30
      : application || protocol === 'GENEVE'
        ? 5
        : healthCheckProtocol === 'HTTP'
          ? 6
          : 10);
  // Also with a defaulted timeout: an interval of 5 s needs an explicit timeout below it.
  if (timeout >= interval) {
    throw validationError('Health check interval must be greater than the timeout.');
  }
  const settings: TargetGroupSettings = {
    TargetGroupName: input.Name,
    ...(protocol === undefined ? {} : { Protocol: protocol }),
    ...(input.Port === undefined ? {} : { Port: input.Port }),
    ...(input.VpcId === undefined ? {} : { VpcId: input.VpcId }),
    ...(healthCheckProtocol === undefined ? {} : { HealthCheckProtocol: healthCheckProtocol }),
    ...(healthCheckPort === undefined ? {} : { HealthCheckPort: healthCheckPort }),
    HealthCheckEnabled: input.HealthCheckEnabled ?? !lambda,
    HealthCheckIntervalSeconds: interval,
    HealthCheckTimeoutSeconds: timeout,
    HealthyThresholdCount: input.HealthyThresholdCount ?? 5,
    UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? (lambda ? 5 : 2),
    ...(healthCheckPath === undefined ? {} : { HealthCheckPath: healthCheckPath }),
    ...(matcher === undefined ? {} : { Matcher: matcher }),
    TargetType: targetType,
    ...(protocolVersion === undefined ? {} : { ProtocolVersion: protocolVersion }),
    ...(lambda ? {} : { IpAddressType: input.IpAddressType ?? 'ipv4' }),
    ...(input.TargetControlPort === undefined
      ? {}
      : { TargetControlPort: input.TargetControlPort }),
  };
  return settings;
};

const checkTags = (tags: readonly Tag[]): Tag[] => {
  if (tags.length > ElbV2Limits.tagsPerResource) {
    throw new ElbV2Error({
      code: ElbV2ErrorCode.TooManyTags,
      message: `A resource can have at most ${ElbV2Limits.tagsPerResource} tags`,
    });
  }
  tags.forEach((tag, i) => {
    const member = `Tags.member.${i + 1}`;
    if (typeof tag.Key !== 'string') throw missingParameter(`${member}.Key`);
    if (tag.Key.length < 1 || tag.Key.length > 128) {
      throw constraintError({
        member: `${member}.Key`,
        value: tag.Key,
        constraint: 'must have length between 1 and 128',
      });
    }
    if (tag.Key.toLowerCase().startsWith('aws:')) {
      throw validationError(`Tag keys starting with 'aws:' are reserved: '${tag.Key}'`);
    }
    if (tag.Value !== undefined && tag.Value.length > 256) {
      throw constraintError({
        member: `${member}.Value`,
        value: tag.Value,
        constraint: 'must have length less than or equal to 256',
      });
    }
  });
  return tags.map((t) => ({ Key: t.Key, ...(t.Value === undefined ? {} : { Value: t.Value }) }));
};

const encodeMarker = (lastKey: string): string =>
  Buffer.from(JSON.stringify({ v: 1, after: lastKey }), 'utf8').toString('base64url');

const decodeMarker = (marker: string): string => {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {
      v?: unknown;
      after?: unknown;
    };
    if (parsed?.v === 1 && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // any undecodable marker is the caller's mistake
  }
  throw validationError('Invalid Marker: use the NextMarker of the previous call');
};

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The local ELBv2's target groups and their targets, on the stack clock. */
export class LocalElbV2 {
  private readonly region: string;
  private readonly accountId: string;
  private readonly now: () => number;
  private readonly tasks: TaskDirectory;
  private readonly timeScale: number;
  private readonly onChange: () => void;
  /** By ARN, in creation order. */
  private readonly groups = new Map<string, StoredTargetGroup>();

  constructor(options: LocalElbV2Options) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.now = options.now;
    this.tasks = options.tasks;
    this.timeScale = options.timeScale ?? 1;
    if (!Number.isFinite(this.timeScale) || this.timeScale <= 0) {
      throw new Error(`timeScale must be a positive number, got ${String(options.timeScale)}`);
    }
    this.onChange = options.onChange ?? (() => undefined);
    for (const g of options.state?.targetGroups ?? []) this.groups.set(g.arn, structuredClone(g));
  }

  /** CreateTargetGroup: a new group, or the existing one of that name when its settings match. */
  createTargetGroup(input: CreateTargetGroupInput): { TargetGroups: TargetGroup[] } {
    const settings = resolveSettings(input);
    const tags = checkTags(input.Tags ?? []);
    const existing = [...this.groups.values()].find(
      (g) => g.settings.TargetGroupName === settings.TargetGroupName,
    );
    if (existing) {
      // CreateTargetGroup is idempotent: the same settings answer the same group.
      if (canonical(existing.settings) !== canonical(settings)) {
        throw new ElbV2Error({
          code: ElbV2ErrorCode.DuplicateTargetGroupName,
          message: `A target group with the same name '${settings.TargetGroupName}' exists, but with different settings`,
        });
      }
      return { TargetGroups: [this.view(existing)] };
    }
    if (this.groups.size >= ElbV2Limits.targetGroupsPerRegion) {
      throw new ElbV2Error({
        code: ElbV2ErrorCode.TooManyTargetGroups,
        message: `You have reached the limit of ${ElbV2Limits.targetGroupsPerRegion} target groups in this Region`,
      });
    }
    const group: StoredTargetGroup = {
      arn: `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:targetgroup/${settings.TargetGroupName}/${hex(8)}`,
      settings,
      createdAt: this.now(),
      attributes: {},
      tags,
      targets: [],
    };
    this.groups.set(group.arn, group);
    this.onChange();
    return { TargetGroups: [this.view(group)] };
  }

  /**
   * DescribeTargetGroups: all groups, or those named by ARN or name (all must exist), ordered by
   * name, PageSize (1–400, default 400) at a time.
   */
  describeTargetGroups(input: DescribeTargetGroupsInput = {}): {
    TargetGroups: TargetGroup[];
    NextMarker?: string;
  } {
    checkRange({
      member: 'PageSize',
      value: input.PageSize,
      min: 1,
      max: ElbV2Limits.describePageSize,
    });
    const filters = [input.LoadBalancerArn, input.TargetGroupArns, input.Names].filter(
      (f) => f !== undefined && !(Array.isArray(f) && f.length === 0),
    );
    if (filters.length > 1) {
      throw validationError(
        'Only one of the following can be specified: LoadBalancerArn, TargetGroupArns, Names',
      );
    }
    if (input.LoadBalancerArn !== undefined) {
      if (!LOAD_BALANCER_ARN.test(input.LoadBalancerArn)) {
        throw validationError(`'${input.LoadBalancerArn}' is not a valid load balancer ARN`);
      }
      throw new ElbV2Error({
        code: ElbV2ErrorCode.LoadBalancerNotFound,
        message: `Load balancer '${input.LoadBalancerArn}' not found (the local ELBv2 has target groups only)`,
      });
    }
    let groups = [...this.groups.values()];
    if (input.TargetGroupArns !== undefined && input.TargetGroupArns.length > 0) {
      for (const arn of input.TargetGroupArns) this.checkArn(arn);
      const wanted = new Set(input.TargetGroupArns);
      groups = groups.filter((g) => wanted.has(g.arn));
      if (groups.length < wanted.size) {
        throw new ElbV2Error({
          code: ElbV2ErrorCode.TargetGroupNotFound,
          message: 'One or more target groups not found',
        });
      }
    } else if (input.Names !== undefined && input.Names.length > 0) {
      const wanted = new Set(input.Names);
      groups = groups.filter((g) => wanted.has(g.settings.TargetGroupName));
      if (groups.length < wanted.size) {
        throw new ElbV2Error({
          code: ElbV2ErrorCode.TargetGroupNotFound,
          message: 'One or more target groups not found',
        });
      }
    }
    const keyOf = (g: StoredTargetGroup): string => `${g.settings.TargetGroupName}\n${g.arn}`;
    groups.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    if (input.Marker !== undefined && input.Marker !== '') {
      const after = decodeMarker(input.Marker);
      groups = groups.filter((g) => keyOf(g) > after);
    }
    const size = input.PageSize ?? ElbV2Limits.describePageSize;
    const page = groups.slice(0, size);
    const last = page[page.length - 1];
    return {
      TargetGroups: page.map((g) => this.view(g)),
      ...(groups.length > size && last !== undefined
        ? { NextMarker: encodeMarker(keyOf(last)) }
        : {}),
    };
  }

  /**
   * DeleteTargetGroup. With no load balancers, a group is never in use (no ResourceInUse); a
   * well-formed ARN of a group that does not exist (any more) succeeds, so deleting is idempotent.
   */
  deleteTargetGroup(input: { TargetGroupArn: string }): Record<string, never> {
    this.checkArn(input.TargetGroupArn);
    if (this.groups.delete(input.TargetGroupArn)) this.onChange();
    return {};
  }

  describeTargetGroupAttributes(input: { TargetGroupArn: string }): {
    Attributes: TargetGroupAttribute[];
  } {
    const group = this.group(input.TargetGroupArn);
    return { Attributes: attributesOf({ traits: traitsOf(group), values: group.attributes }) };
  }

  /** ModifyTargetGroupAttributes: all or nothing; answers every attribute of the group. */
  modifyTargetGroupAttributes(input: {
    TargetGroupArn: string;
    Attributes: TargetGroupAttribute[];
  }): { Attributes: TargetGroupAttribute[] } {
    const group = this.group(input.TargetGroupArn);
    const changes = checkAttributes({ traits: traitsOf(group), attributes: input.Attributes });
    Object.assign(group.attributes, changes);
    this.onChange();
    return { Attributes: attributesOf({ traits: traitsOf(group), values: group.attributes }) };
  }

  /**
   * RegisterTargets: a new target starts `initial`; one already registered keeps its registration;
   * a draining one is registered anew.
   */
  registerTargets(input: TargetsInput): Record<string, never> {
    const group = this.group(input.TargetGroupArn);
    const now = this.now();
    const targets = this.readTargets({ group, targets: input.Targets, member: 'Targets' });
    const live = group.targets.filter((t) => !this.isGone({ target: t, now }));
    const fresh = targets.filter(
      (t, i) =>
        !live.some((r) => sameTarget(r, t)) && targets.findIndex((u) => sameTarget(u, t)) === i,
    );
    const limit =
      group.settings.TargetType === TargetType.Lambda ? 1 : ElbV2Limits.targetsPerTargetGroup;
    if (live.length + fresh.length > limit) {
      throw new ElbV2Error({
        code: ElbV2ErrorCode.TooManyTargets,
        message: `You have reached the limit of ${limit} targets per target group`,
      });
    }
    group.targets = live;
    for (const t of targets) {
      const registered = group.targets.find((r) => sameTarget(r, t));
      if (registered && registered.drainingUntil === undefined) continue;
      if (registered) {
        registered.registeredAt = now;
        delete registered.deregisteredAt;
        delete registered.drainingUntil;
        continue;
      }
      group.targets.push({ ...t, registeredAt: now });
    }
    this.onChange();
    return {};
  }

  /**
   * DeregisterTargets: registered targets drain for the group's deregistration delay; a target that
   * is not registered (or already draining) is left as it is, and the call still succeeds.
   */
  deregisterTargets(input: TargetsInput): Record<string, never> {
    const group = this.group(input.TargetGroupArn);
    const now = this.now();
    const targets = this.readTargets({ group, targets: input.Targets, member: 'Targets' });
    const delayMs = this.scaled(
      Number(attributeValue({ group, key: DEREGISTRATION_DELAY }) ?? 0) * 1000,
    );
    let changed = false;
    for (const t of targets) {
      const registered = group.targets.find(
        (r) => sameTarget(r, t) && !this.isGone({ target: r, now }),
      );
      if (!registered || registered.drainingUntil !== undefined) continue;
      registered.deregisteredAt = now;
      registered.drainingUntil = now + delayMs;
      changed = true;
    }
    if (this.expire({ group, now }) || changed) this.onChange();
    return {};
  }

  /**
   * DescribeTargetHealth: every registered or draining target, or each of `Targets` (an unknown one
   * answers `unused`, Target.NotRegistered; one given without a port answers for each port it is
   * registered on).
   */
  describeTargetHealth(input: DescribeTargetHealthInput): {
    TargetHealthDescriptions: TargetHealthDescription[];
  } {
    const group = this.group(input.TargetGroupArn);
    for (const include of input.Include ?? []) {
      checkEnum({ member: 'Include', value: include, values: INCLUDE_OPTIONS });
    }
    const now = this.now();
    if (this.expire({ group, now })) this.onChange();
    if (input.Targets === undefined || input.Targets.length === 0) {
      return {
        TargetHealthDescriptions: group.targets.map((t) =>
          this.describe({ group, target: t, health: this.healthOf({ group, target: t, now }) }),
        ),
      };
    }
    const out: TargetHealthDescription[] = [];
    input.Targets.forEach((asked, i) => {
      const [target] = this.readTargets({
        group,
        targets: [asked],
        member: 'Targets',
        offset: i,
      });
      if (!target) return;
      const matches = group.targets.filter(
        (r) => r.Id === target.Id && (asked.Port === undefined ? true : r.Port === target.Port),
      );
      if (matches.length === 0) {
        out.push(this.describe({ group, target, health: NOT_REGISTERED }));
        return;
      }
      for (const r of matches) {
        out.push(
          this.describe({ group, target: r, health: this.healthOf({ group, target: r, now }) }),
        );
      }
    });
    return { TargetHealthDescriptions: out };
  }

  /** Everything to persist (a copy). */
  snapshot(): ElbV2State {
    return { format: 1, targetGroups: structuredClone([...this.groups.values()]) };
  }

  // ---- helpers ----------------------------------------------------------------------------

  private scaled(emulatedMs: number): number {
    return Math.ceil(emulatedMs / this.timeScale);
  }

  private checkArn(arn: string): void {
    if (typeof arn !== 'string' || !TARGET_GROUP_ARN.test(arn)) {
      throw validationError(`'${String(arn)}' is not a valid target group ARN`);
    }
  }

  private group(arn: string): StoredTargetGroup {
    if (arn === undefined) throw missingParameter('TargetGroupArn');
    this.checkArn(arn);
    const group = this.groups.get(arn);
    if (!group) throw targetGroupNotFound(arn);
    return group;
  }

  /** Checks each target's id for the group's target type and fills in the group's port. */
  private readTargets(o: {
    group: StoredTargetGroup;
    targets: readonly TargetDescription[] | undefined;
    member: string;
    offset?: number;
  }): TargetDescription[] {
    const { settings } = o.group;
    if (o.targets === undefined || o.targets.length === 0) throw missingParameter(o.member);
    return o.targets.map((t, i) => {
      const member = `${o.member}.member.${(o.offset ?? 0) + i + 1}`;
      if (typeof t?.Id !== 'string' || t.Id === '') throw missingParameter(`${member}.Id`);
      checkRange({ member: `${member}.Port`, value: t.Port, min: 1, max: 65535 });
      const type = settings.TargetType;
      if (type === TargetType.Ip) {
        const v6 = settings.IpAddressType === 'ipv6';
        if (!(v6 ? isIPv6(t.Id) : isIPv4(t.Id))) {
          throw invalidTarget(
            `The IP address '${t.Id}' is not a valid ${v6 ? 'IPv6' : 'IPv4'} address`,
          );
        }
        if (!v6 && !isPrivateIpv4(t.Id)) {
          throw invalidTarget(
            `The IP address '${t.Id}' is not in a range a target group can use (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)`,
          );
        }
      } else if (type === TargetType.Instance && !INSTANCE_ID.test(t.Id)) {
        throw invalidTarget(`The following targets are not valid instance IDs: '${t.Id}'`);
      } else if (type === TargetType.Lambda && !LAMBDA_ARN.test(t.Id)) {
        throw invalidTarget(`The target '${t.Id}' is not a valid Lambda function ARN`);
      } else if (type === TargetType.Alb && !LOAD_BALANCER_ARN.test(t.Id)) {
        throw invalidTarget(`The target '${t.Id}' is not a valid Application Load Balancer ARN`);
      }
      if (type === TargetType.Lambda && t.Port !== undefined) {
        throw validationError("A port cannot be specified for targets of type 'lambda'");
      }
      if (
        t.AvailabilityZone !== undefined &&
        (type === TargetType.Instance || type === TargetType.Alb)
      ) {
        throw validationError(
          `An Availability Zone cannot be specified for targets of type '${type}'`,
        );
      }
      const port = t.Port ?? settings.Port;
      return {
        Id: t.Id,
        ...(port === undefined ? {} : { Port: port }),
        ...(t.AvailabilityZone === undefined ? {} : { AvailabilityZone: t.AvailabilityZone }),
      };
    });
  }

  private isGone(o: { target: StoredTarget; now: number }): boolean {
    return o.target.drainingUntil !== undefined && o.now >= o.target.drainingUntil;
  }

  /** Drops targets whose draining has ended; true if any were. */
  private expire(o: { group: StoredTargetGroup; now: number }): boolean {
    const before = o.group.targets.length;
    o.group.targets = o.group.targets.filter((t) => !this.isGone({ target: t, now: o.now }));
    return o.group.targets.length !== before;
  }

  private healthOf(o: {
    group: StoredTargetGroup;
    target: StoredTarget;
    now: number;
  }): TargetHealth {
    const { group, target, now } = o;
    const s = group.settings;
    if (target.drainingUntil !== undefined) return DRAINING;
    if (!s.HealthCheckEnabled) return CHECKS_DISABLED;
    const initialMs = this.scaled(s.HealthCheckIntervalSeconds * s.HealthyThresholdCount * 1000);
    if (now < target.registeredAt + initialMs) return INITIAL;
    // Nothing simulates instances, load balancers or functions: they pass their checks.
    if (s.TargetType !== TargetType.Ip) return HEALTHY;
    const task = this.tasks.taskByPrivateIp(target.Id);
    if (task?.lastStatus !== 'RUNNING' || task.startedAt === undefined) return TIMED_OUT;
    const container =
      task.containers.find(
        (c) => target.Port !== undefined && c.containerPorts.includes(target.Port),
      ) ?? task.containers[0];
    if (!container?.running) return TIMED_OUT;
    const health = container.targetHealth
      ? timelineValueAt({
          timeline: container.targetHealth,
          elapsedMs: now - task.startedAt,
          before: 'healthy' as TargetHealthStatus,
        })
      : 'healthy';
    return health === 'healthy' ? HEALTHY : FAILED;
  }

  private describe(o: {
    group: StoredTargetGroup;
    target: TargetDescription;
    health: TargetHealth;
  }): TargetHealthDescription {
    const { group, target } = o;
    const checkPort = group.settings.HealthCheckPort;
    const healthCheckPort =
      checkPort === TRAFFIC_PORT
        ? target.Port === undefined
          ? undefined
          : String(target.Port)
        : checkPort;
    return {
      Target: {
        Id: target.Id,
        ...(target.Port === undefined ? {} : { Port: target.Port }),
        ...(target.AvailabilityZone === undefined
          ? {}
          : { AvailabilityZone: target.AvailabilityZone }),
      },
      ...(healthCheckPort === undefined ? {} : { HealthCheckPort: healthCheckPort }),
      TargetHealth: { ...o.health },
      AdministrativeOverride: { ...NO_OVERRIDE },
    };
  }

  private view(group: StoredTargetGroup): TargetGroup {
    return {
      TargetGroupArn: group.arn,
      ...structuredClone(group.settings),
      LoadBalancerArns: [],
    };
  }
}

const traitsOf = (group: StoredTargetGroup): AttributeTraits => ({
  ...(group.settings.Protocol === undefined ? {} : { protocol: group.settings.Protocol }),
  targetType: group.settings.TargetType,
});

const attributeValue = (o: { group: StoredTargetGroup; key: string }): string | undefined =>
  attributesOf({ traits: traitsOf(o.group), values: o.group.attributes }).find(
    (a) => a.Key === o.key,
  )?.Value;

/** Targets are the same registration when id and port match (the zone is not part of it). */
const sameTarget = (a: TargetDescription, b: TargetDescription): boolean =>
  a.Id === b.Id && a.Port === b.Port;
