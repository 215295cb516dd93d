/**
 * The local ELBv2 engine on a fake clock, with a fake directory of ECS tasks: target health over
 * time (initial, healthy, unhealthy, draining, gone), CreateTargetGroup's idempotency and ELB's
 * validation errors. No HTTP; the integration test drives the same engine through the endpoint.
 */
import { describe, expect, it } from '@jest/globals';
import type { TargetHealthStatus, TimelinePoint } from '../../local/ecs/model';
import {
  type CreateTargetGroupInput,
  LocalElbV2,
  type ServingTask,
  type TargetHealthDescription,
} from '../../local/elbv2/engine';
import { ElbV2Error } from '../../local/elbv2/errors';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const IP = '10.0.7.21';

type Fixture = {
  engine: LocalElbV2;
  /** Tasks by private IPv4 address; tests add, change and remove them. */
  tasks: Map<string, ServingTask>;
  advance: (ms: number) => void;
  now: () => number;
  changes: () => number;
};

const fixture = (o: { timeScale?: number } = {}): Fixture => {
  let now = T0;
  let changes = 0;
  const tasks = new Map<string, ServingTask>();
  const engine = new LocalElbV2({
    now: () => now,
    tasks: { taskByPrivateIp: (ip) => tasks.get(ip) },
    onChange: () => {
      changes++;
    },
    ...(o.timeScale === undefined ? {} : { timeScale: o.timeScale }),
  });
  return {
    engine,
    tasks,
    advance: (ms) => {
      now += ms;
    },
    now: () => now,
    changes: () => changes,
  };
};

/** A RUNNING task since `startedAt` with one container per entry. */
const runningTask = (o: {
  startedAt: number;
  containers?: { ports: number[]; targetHealth?: TimelinePoint<TargetHealthStatus>[] }[];
}): ServingTask => ({
  lastStatus: 'RUNNING',
  startedAt: o.startedAt,
  containers: (o.containers ?? [{ ports: [8080] }]).map((c) => ({
    running: true,
    containerPorts: c.ports,
    ...(c.targetHealth === undefined ? {} : { targetHealth: c.targetHealth }),
  })),
});

const IP_GROUP: CreateTargetGroupInput = {
  Name: 'web',
  Protocol: 'HTTP',
  Port: 8080,
  VpcId: 'vpc-0a1b2c3d',
  TargetType: 'ip',
  HealthCheckIntervalSeconds: 5,
  HealthCheckTimeoutSeconds: 2,
  HealthyThresholdCount: 2,
};

const createGroup = (f: Fixture, input: Partial<CreateTargetGroupInput> = {}): string => {
  const arn = f.engine.createTargetGroup({ ...IP_GROUP, ...input }).TargetGroups[0]?.TargetGroupArn;
  if (arn === undefined) throw new Error('CreateTargetGroup returned no group');
  return arn;
};

/** [State, Reason] of each target DescribeTargetHealth lists (or of `targets`). */
const health = (
  f: Fixture,
  arn: string,
  targets?: { Id: string; Port?: number }[],
): [string, string | undefined][] =>
  f.engine
    .describeTargetHealth({ TargetGroupArn: arn, ...(targets ? { Targets: targets } : {}) })
    .TargetHealthDescriptions.map((d: TargetHealthDescription) => [
      d.TargetHealth.State,
      d.TargetHealth.Reason,
    ]);

/** The ELB error code `run` throws, or 'no error'. */
const errorCode = (run: () => unknown): string => {
  try {
    run();
    return 'no error';
  } catch (error) {
    if (error instanceof ElbV2Error) return error.code;
    throw error;
  }
};

describe('target health over time', () => {
  it('is initial for interval × healthy threshold after registration, then healthy', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
    f.advance(9_999);
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
    f.advance(1);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
    const [described] = f.engine.describeTargetHealth({
      TargetGroupArn: arn,
    }).TargetHealthDescriptions;
    // Registered without a port: the group's port, which the health check also uses.
    expect(described?.Target).toEqual({ Id: IP, Port: 8080 });
    expect(described?.HealthCheckPort).toBe('8080');
  });

  it('shortens the initial period by the time scale', () => {
    const f = fixture({ timeScale: 10 });
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(999);
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
    f.advance(1);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
  });

  it('is unhealthy (Target.Timeout) when no task holds the address', () => {
    const f = fixture();
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([['unhealthy', 'Target.Timeout']]);
  });

  it.each(['PENDING', 'ACTIVATING', 'DEACTIVATING', 'STOPPED'])(
    'is unhealthy (Target.Timeout) while the task is %s',
    (lastStatus) => {
      const f = fixture();
      f.tasks.set(IP, { ...runningTask({ startedAt: T0 }), lastStatus });
      const arn = createGroup(f);
      f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
      f.advance(10_000);
      expect(health(f, arn)).toEqual([['unhealthy', 'Target.Timeout']]);
    },
  );

  it('turns unhealthy at once when a healthy target’s task stops', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
    f.tasks.set(IP, { ...runningTask({ startedAt: T0 }), lastStatus: 'STOPPED' });
    expect(health(f, arn)).toEqual([['unhealthy', 'Target.Timeout']]);
  });

  it('follows the target-health timeline of the container that maps the port', () => {
    const f = fixture();
    f.tasks.set(
      IP,
      runningTask({
        startedAt: T0,
        containers: [
          { ports: [9090], targetHealth: [{ atMs: 0, value: 'unhealthy' }] },
          {
            ports: [8080],
            targetHealth: [
              { atMs: 0, value: 'healthy' },
              { atMs: 60_000, value: 'unhealthy' },
            ],
          },
        ],
      }),
    );
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(59_999);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
    f.advance(1);
    expect(health(f, arn)).toEqual([['unhealthy', 'Target.FailedHealthChecks']]);
  });

  it('is unhealthy (Target.Timeout) when the container that maps the port has exited', () => {
    const f = fixture();
    const task = runningTask({ startedAt: T0, containers: [{ ports: [9901] }, { ports: [8080] }] });
    f.tasks.set(IP, {
      ...task,
      containers: task.containers.map((c, i) => (i === 1 ? { ...c, running: false } : c)),
    });
    const arn = createGroup(f);
    f.engine.registerTargets({
      TargetGroupArn: arn,
      Targets: [{ Id: IP }, { Id: IP, Port: 9901 }],
    });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([
      ['unhealthy', 'Target.Timeout'],
      ['healthy', undefined],
    ]);
  });

  it('uses the first container when none maps the port', () => {
    const f = fixture();
    f.tasks.set(
      IP,
      runningTask({
        startedAt: T0,
        containers: [
          { ports: [], targetHealth: [{ atMs: 0, value: 'unhealthy' }] },
          { ports: [9090] },
        ],
      }),
    );
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([['unhealthy', 'Target.FailedHealthChecks']]);
  });

  it('counts the timeline from the task reaching RUNNING, not from registration', () => {
    const f = fixture();
    // RUNNING for 55 s when registered; unhealthy from 60 s after RUNNING.
    f.tasks.set(
      IP,
      runningTask({
        startedAt: T0 - 55_000,
        containers: [
          {
            ports: [8080],
            targetHealth: [
              { atMs: 0, value: 'healthy' },
              { atMs: 60_000, value: 'unhealthy' },
            ],
          },
        ],
      }),
    );
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([['unhealthy', 'Target.FailedHealthChecks']]);
  });

  it('drains a deregistered target for the deregistration delay, then forgets it', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.modifyTargetGroupAttributes({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    });
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    expect(health(f, arn)).toEqual([['draining', 'Target.DeregistrationInProgress']]);
    f.advance(29_999);
    expect(health(f, arn)).toEqual([['draining', 'Target.DeregistrationInProgress']]);
    f.advance(1);
    expect(health(f, arn)).toEqual([]);
    expect(health(f, arn, [{ Id: IP }])).toEqual([['unused', 'Target.NotRegistered']]);
    expect(f.engine.snapshot().targetGroups[0]?.targets).toEqual([]);
  });

  it('drains for 300 s by default', () => {
    const f = fixture();
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(299_999);
    expect(health(f, arn)).toEqual([['draining', 'Target.DeregistrationInProgress']]);
    f.advance(1);
    expect(health(f, arn)).toEqual([]);
  });

  it('registers a draining target anew (initial again)', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(10_000);
    f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(1_000);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
    f.advance(10_000);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
  });

  it('keeps the registration time when a registered target is registered again', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(6_000);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.advance(4_000);
    expect(health(f, arn)).toEqual([['healthy', undefined]]);
  });

  it('treats deregistering a target that is not registered as success, changing nothing', () => {
    const f = fixture();
    const arn = createGroup(f);
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    const before = f.changes();
    expect(
      f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: '10.0.9.9' }] }),
    ).toEqual({});
    expect(f.changes()).toBe(before);
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
  });

  it('tells registrations of one address on two ports apart', () => {
    const f = fixture();
    f.tasks.set(
      IP,
      runningTask({
        startedAt: T0,
        containers: [
          { ports: [8080] },
          { ports: [9090], targetHealth: [{ atMs: 0, value: 'unhealthy' }] },
        ],
      }),
    );
    const arn = createGroup(f);
    f.engine.registerTargets({
      TargetGroupArn: arn,
      Targets: [{ Id: IP }, { Id: IP, Port: 9090 }],
    });
    f.advance(10_000);
    expect(health(f, arn)).toEqual([
      ['healthy', undefined],
      ['unhealthy', 'Target.FailedHealthChecks'],
    ]);
    // Named without a port: every registration of the address.
    expect(health(f, arn, [{ Id: IP }])).toHaveLength(2);
    expect(health(f, arn, [{ Id: IP, Port: 9090 }])).toEqual([
      ['unhealthy', 'Target.FailedHealthChecks'],
    ]);
  });
});

describe('CreateTargetGroup', () => {
  it('fills in ELB’s defaults', () => {
    const f = fixture();
    const [group] = f.engine.createTargetGroup({
      Name: 'plain',
      Protocol: 'HTTP',
      Port: 80,
      VpcId: 'vpc-1',
    }).TargetGroups;
    expect(group).toMatchObject({
      TargetGroupName: 'plain',
      TargetType: 'instance',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200' },
      LoadBalancerArns: [],
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    });
    expect(group?.TargetGroupArn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/plain\/[0-9a-f]{16}$/,
    );
    const attributes = f.engine.describeTargetGroupAttributes({
      TargetGroupArn: group?.TargetGroupArn ?? '',
    }).Attributes;
    expect(attributes).toContainEqual({
      Key: 'deregistration_delay.timeout_seconds',
      Value: '300',
    });
  });

  it('answers the existing group for the same name and settings', () => {
    const f = fixture();
    const first = createGroup(f);
    const again = createGroup(f);
    expect(again).toBe(first);
    expect(f.engine.describeTargetGroups().TargetGroups).toHaveLength(1);
  });

  it('refuses the same name with different settings (DuplicateTargetGroupName)', () => {
    const f = fixture();
    createGroup(f);
    expect(errorCode(() => createGroup(f, { Port: 8081 }))).toBe('DuplicateTargetGroupName');
    expect(errorCode(() => createGroup(f, { HealthyThresholdCount: 3 }))).toBe(
      'DuplicateTargetGroupName',
    );
    expect(f.engine.describeTargetGroups().TargetGroups).toHaveLength(1);
  });

  it.each([
    ['empty', ''],
    ['33 characters', 'a'.repeat(33)],
    ['an underscore', 'web_1'],
    ['a dot', 'web.1'],
    ['a leading hyphen', '-web'],
    ['a trailing hyphen', 'web-'],
  ])('refuses a name with %s (ValidationError)', (_what, name) => {
    const f = fixture();
    expect(errorCode(() => createGroup(f, { Name: name }))).toBe('ValidationError');
    expect(f.engine.describeTargetGroups().TargetGroups).toEqual([]);
  });

  it('accepts a 32-character name of letters, digits and inner hyphens', () => {
    const f = fixture();
    const name = `a-${'b1'.repeat(14)}-z`;
    expect(name).toHaveLength(32);
    createGroup(f, { Name: name });
    expect(f.engine.describeTargetGroups({ Names: [name] }).TargetGroups).toHaveLength(1);
  });

  it.each<
    [string, { [K in keyof CreateTargetGroupInput]?: CreateTargetGroupInput[K] | undefined }]
  >([
    ['an interval below 5', { HealthCheckIntervalSeconds: 4 }],
    ['an interval above 300', { HealthCheckIntervalSeconds: 301 }],
    ['a healthy threshold of 1', { HealthyThresholdCount: 1 }],
    ['an unhealthy threshold of 11', { UnhealthyThresholdCount: 11 }],
    ['a timeout not below the interval', { HealthCheckTimeoutSeconds: 5 }],
    ['the default timeout with a 5 s interval', { HealthCheckTimeoutSeconds: undefined }],
    ['an unknown target type', { TargetType: 'container' }],
    ['an unknown protocol', { Protocol: 'FTP' }],
    ['no VPC', { VpcId: undefined }],
    ['port 0', { Port: 0 }],
    ['a TCP health check on an HTTP group', { HealthCheckProtocol: 'TCP' }],
    ['health checks disabled on an ip group', { HealthCheckEnabled: false }],
  ])('refuses %s (ValidationError)', (_what, change) => {
    const f = fixture();
    const input = Object.fromEntries(
      Object.entries({ ...IP_GROUP, ...change }).filter(([, v]) => v !== undefined),
    ) as unknown as CreateTargetGroupInput;
    expect(errorCode(() => f.engine.createTargetGroup(input))).toBe('ValidationError');
  });
});

describe('targets and groups that do not fit', () => {
  it.each([
    ['not an address', 'web-1'],
    ['an incomplete address', '10.0.0'],
    ['an address out of range', '10.0.0.256'],
    ['a public address', '8.8.8.8'],
    ['loopback', '127.0.0.1'],
    ['an instance id', 'i-0123456789abcdef0'],
  ])('refuses %s as an ip target (InvalidTarget)', (_what, id) => {
    const f = fixture();
    const arn = createGroup(f);
    expect(
      errorCode(() => f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: id }] })),
    ).toBe('InvalidTarget');
    expect(health(f, arn)).toEqual([]);
  });

  it('accepts addresses of the private ranges', () => {
    const f = fixture();
    const arn = createGroup(f);
    const ids = ['10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', '100.64.0.1'];
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) });
    expect(health(f, arn)).toHaveLength(ids.length);
  });

  it('refuses an instance target group’s target that is not an instance id', () => {
    const f = fixture();
    const arn = createGroup(f, { TargetType: 'instance' });
    expect(
      errorCode(() => f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] })),
    ).toBe('InvalidTarget');
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: 'i-0123456789abcdef0' }] });
    expect(health(f, arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
  });

  it('answers TargetGroupNotFound for an unknown group, ValidationError for a malformed ARN', () => {
    const f = fixture();
    const arn = createGroup(f);
    const unknown = arn.replace(/[0-9a-f]{16}$/, '0123456789abcdef');
    const targets = [{ Id: IP }];
    expect(
      errorCode(() => f.engine.registerTargets({ TargetGroupArn: unknown, Targets: targets })),
    ).toBe('TargetGroupNotFound');
    expect(
      errorCode(() => f.engine.deregisterTargets({ TargetGroupArn: unknown, Targets: targets })),
    ).toBe('TargetGroupNotFound');
    expect(errorCode(() => f.engine.describeTargetHealth({ TargetGroupArn: unknown }))).toBe(
      'TargetGroupNotFound',
    );
    expect(
      errorCode(() => f.engine.describeTargetGroupAttributes({ TargetGroupArn: unknown })),
    ).toBe('TargetGroupNotFound');
    expect(
      errorCode(() => f.engine.describeTargetGroups({ TargetGroupArns: [arn, unknown] })),
    ).toBe('TargetGroupNotFound');
    expect(errorCode(() => f.engine.describeTargetGroups({ Names: ['web', 'api'] }))).toBe(
      'TargetGroupNotFound',
    );
    expect(errorCode(() => f.engine.describeTargetHealth({ TargetGroupArn: 'web' }))).toBe(
      'ValidationError',
    );
  });

  it('refuses more than 1000 targets in a group (TooManyTargets)', () => {
    const f = fixture();
    const arn = createGroup(f);
    const ip = (n: number) => `10.1.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    f.engine.registerTargets({
      TargetGroupArn: arn,
      Targets: Array.from({ length: 1000 }, (_, n) => ({ Id: ip(n) })),
    });
    expect(
      errorCode(() =>
        f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: ip(1000) }] }),
      ),
    ).toBe('TooManyTargets');
    expect(health(f, arn)).toHaveLength(1000);
    // Registering one that is already there adds nothing, so it still fits.
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: ip(0) }] });
  });

  it('deletes a group, and deleting it again succeeds', () => {
    const f = fixture();
    const arn = createGroup(f);
    f.engine.deleteTargetGroup({ TargetGroupArn: arn });
    f.engine.deleteTargetGroup({ TargetGroupArn: arn });
    expect(f.engine.describeTargetGroups().TargetGroups).toEqual([]);
    expect(errorCode(() => f.engine.describeTargetHealth({ TargetGroupArn: arn }))).toBe(
      'TargetGroupNotFound',
    );
  });
});

describe('target group attributes', () => {
  it('refuses an unknown key (ValidationError) and keeps the others unchanged', () => {
    const f = fixture();
    const arn = createGroup(f);
    expect(
      errorCode(() =>
        f.engine.modifyTargetGroupAttributes({
          TargetGroupArn: arn,
          Attributes: [
            { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
            { Key: 'deregistration_delay.seconds', Value: '10' },
          ],
        }),
      ),
    ).toBe('ValidationError');
    expect(
      f.engine.describeTargetGroupAttributes({ TargetGroupArn: arn }).Attributes,
    ).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
  });

  it.each(['-1', '3601', '1.5', 'ten', ''])(
    'refuses a deregistration delay of %p (ValidationError)',
    (value) => {
      const f = fixture();
      const arn = createGroup(f);
      expect(
        errorCode(() =>
          f.engine.modifyTargetGroupAttributes({
            TargetGroupArn: arn,
            Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: value }],
          }),
        ),
      ).toBe('ValidationError');
    },
  );

  it('refuses a known key this kind of group does not have (InvalidConfigurationRequest)', () => {
    const f = fixture();
    const arn = createGroup(f);
    expect(
      errorCode(() =>
        f.engine.modifyTargetGroupAttributes({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'proxy_protocol_v2.enabled', Value: 'true' }],
        }),
      ),
    ).toBe('InvalidConfigurationRequest');
  });

  it('answers every attribute with the changed ones', () => {
    const f = fixture();
    const arn = createGroup(f);
    const out = f.engine.modifyTargetGroupAttributes({
      TargetGroupArn: arn,
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
        { Key: 'stickiness.enabled', Value: 'true' },
      ],
    }).Attributes;
    expect(out).toEqual(f.engine.describeTargetGroupAttributes({ TargetGroupArn: arn }).Attributes);
    expect(out).toEqual(
      expect.arrayContaining([
        { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'slow_start.duration_seconds', Value: '0' },
      ]),
    );
  });

  it('removes a deregistered target at once with a delay of 0', () => {
    const f = fixture();
    const arn = createGroup(f);
    f.engine.modifyTargetGroupAttributes({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }],
    });
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }] });
    expect(health(f, arn)).toEqual([]);
  });
});

describe('DescribeTargetGroups', () => {
  it('pages through every group in name order', () => {
    const f = fixture();
    for (const name of ['e', 'b', 'd', 'a', 'c']) createGroup(f, { Name: name });
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = f.engine.describeTargetGroups({
        PageSize: 2,
        ...(marker === undefined ? {} : { Marker: marker }),
      });
      names.push(...page.TargetGroups.map((g) => g.TargetGroupName));
      marker = page.NextMarker;
      pages++;
    } while (marker !== undefined);
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pages).toBe(3);
  });

  it('refuses a marker it did not hand out, and a load balancer it does not have', () => {
    const f = fixture();
    createGroup(f);
    expect(errorCode(() => f.engine.describeTargetGroups({ Marker: 'nope' }))).toBe(
      'ValidationError',
    );
    expect(errorCode(() => f.engine.describeTargetGroups({ PageSize: 401 }))).toBe(
      'ValidationError',
    );
    expect(
      errorCode(() =>
        f.engine.describeTargetGroups({
          LoadBalancerArn:
            'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/web/0123456789abcdef',
        }),
      ),
    ).toBe('LoadBalancerNotFound');
  });
});

describe('persistence', () => {
  it('starts again from a snapshot with its groups, attributes and targets', () => {
    const f = fixture();
    f.tasks.set(IP, runningTask({ startedAt: T0 }));
    const arn = createGroup(f);
    f.engine.modifyTargetGroupAttributes({
      TargetGroupArn: arn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '45' }],
    });
    f.engine.registerTargets({ TargetGroupArn: arn, Targets: [{ Id: IP }, { Id: '10.0.7.22' }] });
    f.advance(10_000);
    f.engine.deregisterTargets({ TargetGroupArn: arn, Targets: [{ Id: '10.0.7.22' }] });
    const restored = new LocalElbV2({
      now: f.now,
      tasks: { taskByPrivateIp: (ip) => f.tasks.get(ip) },
      state: JSON.parse(JSON.stringify(f.engine.snapshot())),
    });
    const view = (e: LocalElbV2) => ({
      groups: e.describeTargetGroups(),
      attributes: e.describeTargetGroupAttributes({ TargetGroupArn: arn }),
      health: e.describeTargetHealth({ TargetGroupArn: arn }),
    });
    expect(view(restored)).toEqual(view(f.engine));
    expect(health(f, arn)).toEqual([
      ['healthy', undefined],
      ['draining', 'Target.DeregistrationInProgress'],
    ]);
  });
});
