import { ElbV2Error, ElbV2ErrorCode, validationError } from './errors';

// Target group attributes as the TargetGroupAttribute.Key documentation of the botocore model lists
// them: which kinds of target group have each one, its default, and the values it takes. Only
// deregistration_delay.timeout_seconds changes what the emulation does; the others are stored and
// echoed, so a caller that sets them sees them back.

/** What decides which attributes a target group has. */
export type AttributeTraits = { protocol?: string; targetType: string };

/** One Key/Value pair, as DescribeTargetGroupAttributes answers. */
export type TargetGroupAttribute = { Key: string; Value: string };

export const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';

const APPLICATION = ['HTTP', 'HTTPS'];
const NETWORK = ['TCP', 'TLS', 'UDP', 'TCP_UDP', 'QUIC', 'TCP_QUIC'];

const isLambda = (g: AttributeTraits): boolean => g.targetType === 'lambda';
const isApplication = (g: AttributeTraits): boolean =>
  !isLambda(g) && APPLICATION.includes(g.protocol ?? '');
const isNetwork = (g: AttributeTraits): boolean =>
  !isLambda(g) && NETWORK.includes(g.protocol ?? '');
const isGateway = (g: AttributeTraits): boolean => !isLambda(g) && g.protocol === 'GENEVE';
const notLambda = (g: AttributeTraits): boolean => !isLambda(g);
const applicationOrNetwork = (g: AttributeTraits): boolean => isApplication(g) || isNetwork(g);

/** Why `value` is not acceptable, or undefined when it is. */
type Check = (value: string) => string | undefined;

const integerIn =
  (min: number, max: number): Check =>
  (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    return Number.isSafeInteger(n) && n >= min && n <= max
      ? undefined
      : `must be an integer from ${min} to ${max}`;
  };
const oneOf =
  (...values: string[]): Check =>
  (value) =>
    values.includes(value) ? undefined : `must be one of: ${values.join(', ')}`;
const boolean: Check = oneOf('true', 'false');
const offOr =
  (check: Check): Check =>
  (value) => {
    if (value === 'off') return undefined;
    const why = check(value);
    return why === undefined ? undefined : `${why}, or off`;
  };
const anyText: Check = (value) =>
  value.length <= 1024 ? undefined : 'must be at most 1024 characters';
const slowStart: Check = (value) =>
  value === '0' || integerIn(30, 900)(value) === undefined
    ? undefined
    : 'must be 0 (off) or an integer from 30 to 900';

type AttributeSpec = {
  key: string;
  appliesTo: (g: AttributeTraits) => boolean;
  defaultValue: (g: AttributeTraits) => string;
  check: Check;
};

const MAX_TARGETS_SETTING = 1_000;

/** In the order DescribeTargetGroupAttributes lists them. */
const SPECS: readonly AttributeSpec[] = [
  {
    key: DEREGISTRATION_DELAY,
    appliesTo: notLambda,
    defaultValue: () => '300',
    check: integerIn(0, 3600),
  },
  { key: 'stickiness.enabled', appliesTo: notLambda, defaultValue: () => 'false', check: boolean },
  {
    key: 'stickiness.type',
    appliesTo: notLambda,
    defaultValue: (g) =>
      isApplication(g) ? 'lb_cookie' : isGateway(g) ? 'source_ip_dest_ip_proto' : 'source_ip',
    check: oneOf(
      'lb_cookie',
      'app_cookie',
      'source_ip',
      'source_ip_dest_ip',
      'source_ip_dest_ip_proto',
    ),
  },
  {
    key: 'load_balancing.cross_zone.enabled',
    appliesTo: applicationOrNetwork,
    defaultValue: () => 'use_load_balancer_configuration',
    check: oneOf('true', 'false', 'use_load_balancer_configuration'),
  },
  {
    key: 'target_group_health.dns_failover.minimum_healthy_targets.count',
    appliesTo: applicationOrNetwork,
    defaultValue: () => '1',
    check: offOr(integerIn(1, MAX_TARGETS_SETTING)),
  },
  {
    key: 'target_group_health.dns_failover.minimum_healthy_targets.percentage',
    appliesTo: applicationOrNetwork,
    defaultValue: () => 'off',
    check: offOr(integerIn(1, 100)),
  },
  {
    key: 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count',
    appliesTo: applicationOrNetwork,
    defaultValue: () => '1',
    check: integerIn(1, MAX_TARGETS_SETTING),
  },
  {
    key: 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage',
    appliesTo: applicationOrNetwork,
    defaultValue: () => 'off',
    check: offOr(integerIn(1, 100)),
  },
  {
    key: 'load_balancing.algorithm.type',
    appliesTo: isApplication,
    defaultValue: () => 'round_robin',
    check: oneOf('round_robin', 'least_outstanding_requests', 'weighted_random'),
  },
  {
    key: 'load_balancing.algorithm.anomaly_mitigation',
    appliesTo: isApplication,
    defaultValue: () => 'off',
    check: oneOf('on', 'off'),
  },
  {
    key: 'slow_start.duration_seconds',
    appliesTo: isApplication,
    defaultValue: () => '0',
    check: slowStart,
  },
  {
    key: 'stickiness.app_cookie.cookie_name',
    appliesTo: isApplication,
    defaultValue: () => '',
    check: anyText,
  },
  {
    key: 'stickiness.app_cookie.duration_seconds',
    appliesTo: isApplication,
    defaultValue: () => '86400',
    check: integerIn(1, 604_800),
  },
  {
    key: 'stickiness.lb_cookie.duration_seconds',
    appliesTo: isApplication,
    defaultValue: () => '86400',
    check: integerIn(1, 604_800),
  },
  {
    key: 'deregistration_delay.connection_termination.enabled',
    appliesTo: isNetwork,
    defaultValue: (g) => (g.protocol === 'UDP' || g.protocol === 'TCP_UDP' ? 'true' : 'false'),
    check: boolean,
  },
  {
    key: 'preserve_client_ip.enabled',
    appliesTo: isNetwork,
    defaultValue: (g) =>
      g.targetType === 'ip' && (g.protocol === 'TCP' || g.protocol === 'TLS') ? 'false' : 'true',
    check: boolean,
  },
  {
    key: 'proxy_protocol_v2.enabled',
    appliesTo: isNetwork,
    defaultValue: () => 'false',
    check: boolean,
  },
  {
    key: 'target_health_state.unhealthy.connection_termination.enabled',
    appliesTo: isNetwork,
    defaultValue: () => 'true',
    check: boolean,
  },
  {
    key: 'target_health_state.unhealthy.draining_interval_seconds',
    appliesTo: isNetwork,
    defaultValue: () => '0',
    check: integerIn(0, 360_000),
  },
  {
    key: 'target_failover.on_deregistration',
    appliesTo: isGateway,
    defaultValue: () => 'no_rebalance',
    check: oneOf('rebalance', 'no_rebalance'),
  },
  {
    key: 'target_failover.on_unhealthy',
    appliesTo: isGateway,
    defaultValue: () => 'no_rebalance',
    check: oneOf('rebalance', 'no_rebalance'),
  },
  {
    key: 'lambda.multi_value_headers.enabled',
    appliesTo: isLambda,
    defaultValue: () => 'false',
    check: boolean,
  },
];

const describeKind = (g: AttributeTraits): string =>
  isLambda(g) ? "target type 'lambda'" : `protocol '${g.protocol ?? ''}'`;

/** Every attribute of a target group of this kind: its set values over the defaults. */
export const attributesOf = (o: {
  traits: AttributeTraits;
  values: Readonly<Record<string, string>>;
}): TargetGroupAttribute[] =>
  SPECS.filter((s) => s.appliesTo(o.traits)).map((s) => ({
    Key: s.key,
    Value: Object.hasOwn(o.values, s.key) ? (o.values[s.key] as string) : s.defaultValue(o.traits),
  }));

/**
 * Checks a ModifyTargetGroupAttributes request as a whole (nothing is applied when one pair is
 * wrong) and returns the pairs to store. An unknown key or a bad value is a ValidationError; a key
 * that exists but not for this kind of target group is an InvalidConfigurationRequest.
 */
export const checkAttributes = (o: {
  traits: AttributeTraits;
  attributes: readonly TargetGroupAttribute[];
}): Record<string, string> => {
  if (o.attributes.length === 0) {
    throw validationError('At least one target group attribute must be specified');
  }
  const out: Record<string, string> = {};
  for (const { Key, Value } of o.attributes) {
    const spec = SPECS.find((s) => s.key === Key);
    if (!spec) throw validationError(`Target group attribute key '${Key}' is not recognized`);
    if (!spec.appliesTo(o.traits)) {
      throw new ElbV2Error({
        code: ElbV2ErrorCode.InvalidConfigurationRequest,
        message: `Target group attribute key '${Key}' is not supported for target groups with ${describeKind(o.traits)}`,
      });
    }
    const why = spec.check(Value);
    if (why !== undefined) {
      throw validationError(
        `Target group attribute '${Key}' value '${Value}' is not valid: it ${why}`,
      );
    }
    out[Key] = Value;
  }
  return out;
};
