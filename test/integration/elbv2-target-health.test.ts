/**
 * The local ELBv2 on the real local stack's AWS endpoint, driven by the SDK v3 client and the real
 * AWS CLI: target groups, targets that are the emulator's awsvpc tasks, and their health as the
 * stack clock moves. Also checks that query-protocol requests still reach the local CloudWatch.
 */
import { existsSync } from 'node:fs';
import {
  type ContainerDefinition,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type DescribeTargetHealthCommandInput,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
  ModifyTargetGroupAttributesCommand,
  paginateDescribeTargetGroups,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Stack } from '../../local/stack';
import { startApiStack } from '../support/api';
import { AWS_CLI, awsCli } from '../support/aws-cli';
import { fargateTaskDefinition } from '../support/emulator-server';
import { waitFor } from '../support/wait';

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const ELB_NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

let stack: Stack;
let elb: ElasticLoadBalancingV2Client;
let ecs: ECSClient;

beforeAll(async () => {
  ({ stack } = await startApiStack('elbv2'));
  const client = { endpoint: stack.awsUrl, region: 'us-east-1', credentials: CREDENTIALS };
  elb = new ElasticLoadBalancingV2Client({ ...client, maxAttempts: 1 });
  ecs = new ECSClient({ ...client, maxAttempts: 1 });
}, 60_000);

afterAll(async () => {
  elb?.destroy();
  ecs?.destroy();
  await stack?.stop();
});

/** Runs one Fargate task of a fresh family and waits until it is RUNNING; answers its ARN and IP. */
const runTask = async (o: {
  family: string;
  containers?: ContainerDefinition[];
}): Promise<{ taskArn: string; ip: string }> => {
  await ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition({
        family: o.family,
        containers: o.containers ?? [
          { name: 'app', image: 'nginx', essential: true, portMappings: [{ containerPort: 8080 }] },
        ],
      }),
    ),
  );
  const out = await ecs.send(
    new RunTaskCommand({
      taskDefinition: o.family,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'] } },
    }),
  );
  const taskArn = out.tasks?.[0]?.taskArn;
  if (!taskArn) throw new Error('RunTask started no task');
  const task = await waitFor({
    what: `task ${taskArn} RUNNING`,
    probe: async () => {
      const t = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks?.[0];
      return t?.lastStatus === 'RUNNING' ? t : undefined;
    },
  });
  const ip = task.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
  if (!ip) throw new Error(`task ${taskArn} has no private IPv4 address`);
  return { taskArn, ip };
};

/** An ip target group checked every 5 s, healthy after 2 checks (10 s). */
const createGroup = async (name: string, port = 8080): Promise<string> => {
  const out = await elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: port,
      VpcId: 'vpc-0a1b2c3d',
      TargetType: 'ip',
      HealthCheckIntervalSeconds: 5,
      // ELB's default for HTTP (5 s) is not below a 5 s interval; ELB refuses that pair.
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
    }),
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn;
  if (!arn) throw new Error('CreateTargetGroup answered no group');
  return arn;
};

/** [Id, Port, State, Reason] of each target DescribeTargetHealth answers. */
const health = async (
  input: DescribeTargetHealthCommandInput,
): Promise<[string | undefined, number | undefined, string | undefined, string | undefined][]> => {
  const out = await elb.send(new DescribeTargetHealthCommand(input));
  return (out.TargetHealthDescriptions ?? []).map((d) => [
    d.Target?.Id,
    d.Target?.Port,
    d.TargetHealth?.State,
    d.TargetHealth?.Reason,
  ]);
};

describe('target health through the SDK', () => {
  it('an awsvpc task’s address turns healthy after the initial checks, then drains and is gone', async () => {
    const { ip } = await runTask({ family: 'elb-web' });
    const arn = await createGroup('web');
    stack.resetRequestCounts();
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: ip }] }));
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'initial', 'Elb.RegistrationInProgress'],
    ]);

    stack.clock.advance(10_000);
    expect(await health({ TargetGroupArn: arn })).toEqual([[ip, 8080, 'healthy', undefined]]);

    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: ip }] }));
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'draining', 'Target.DeregistrationInProgress'],
    ]);
    // The default deregistration delay: 300 s.
    stack.clock.advance(299_000);
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'draining', 'Target.DeregistrationInProgress'],
    ]);
    stack.clock.advance(1_000);
    expect(await health({ TargetGroupArn: arn })).toEqual([]);
    expect(await health({ TargetGroupArn: arn, Targets: [{ Id: ip }] })).toEqual([
      [ip, 8080, 'unused', 'Target.NotRegistered'],
    ]);
    expect(stack.requestCounts()).toMatchObject({
      'ElasticLoadBalancing_v10.RegisterTargets': 1,
      'ElasticLoadBalancing_v10.DeregisterTargets': 1,
      'ElasticLoadBalancing_v10.DescribeTargetHealth': 6,
    });
  });

  it('follows the task’s target-health label, and its stop', async () => {
    const { taskArn, ip } = await runTask({
      family: 'elb-flaky',
      containers: [
        {
          name: 'sidecar',
          image: 'envoy',
          essential: false,
          portMappings: [{ containerPort: 9901 }],
        },
        {
          name: 'app',
          image: 'nginx',
          essential: true,
          portMappings: [{ containerPort: 8080 }],
          dockerLabels: { 'steward.emulator/target-health': 'healthy,unhealthy@60000' },
        },
      ],
    });
    const startedAt = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks?.[0]
      ?.startedAt;
    if (!startedAt) throw new Error('the task has no startedAt');
    const arn = await createGroup('flaky');
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: arn,
        Targets: [{ Id: ip }, { Id: ip, Port: 9901 }],
      }),
    );
    stack.clock.advance(10_000);
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'healthy', undefined],
      [ip, 9901, 'healthy', undefined],
    ]);
    // 60 s after the task reached RUNNING, the app container's checks fail; the sidecar's pass.
    stack.clock.set(Math.max(stack.clock.now(), startedAt.getTime() + 61_000));
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'unhealthy', 'Target.FailedHealthChecks'],
      [ip, 9901, 'healthy', undefined],
    ]);

    await ecs.send(new StopTaskCommand({ task: taskArn }));
    await waitFor({
      what: `task ${taskArn} STOPPED`,
      probe: async () => {
        const t = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks?.[0];
        return t?.lastStatus === 'STOPPED' ? t : undefined;
      },
    });
    expect(await health({ TargetGroupArn: arn })).toEqual([
      [ip, 8080, 'unhealthy', 'Target.Timeout'],
      [ip, 9901, 'unhealthy', 'Target.Timeout'],
    ]);
  });

  it('answers ELB’s errors as the SDK’s exceptions', async () => {
    const arn = await createGroup('errors');
    const unknown = arn.replace(/[0-9a-f]{16}$/, '0123456789abcdef');
    await expect(
      elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: unknown })),
    ).rejects.toBeInstanceOf(TargetGroupNotFoundException);
    await expect(
      elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: 'web-1' }] })),
    ).rejects.toBeInstanceOf(InvalidTargetException);
    await expect(
      elb.send(
        new CreateTargetGroupCommand({
          Name: 'errors',
          Protocol: 'HTTP',
          Port: 9090,
          VpcId: 'vpc-0a1b2c3d',
          TargetType: 'ip',
        }),
      ),
    ).rejects.toBeInstanceOf(DuplicateTargetGroupNameException);
    const invalid = await elb
      .send(
        new CreateTargetGroupCommand({ Name: 'bad_name', Protocol: 'HTTP', Port: 80, VpcId: 'v' }),
      )
      .then(
        () => undefined,
        (error: unknown) =>
          error as { name: string; message: string; $metadata: { httpStatusCode?: number } },
      );
    expect(invalid?.name).toBe('ValidationError');
    expect(invalid?.message).toMatch(/bad_name/);
    expect(invalid?.$metadata.httpStatusCode).toBe(400);
    const attribute = await elb
      .send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'deregistration_delay.seconds', Value: '10' }],
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => error as { name: string },
      );
    expect(attribute?.name).toBe('ValidationError');
  });

  it('keeps attributes and pages groups as the SDK reads them', async () => {
    const arns = [await createGroup('page-a'), await createGroup('page-b')];
    const modified = await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arns[0],
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '15' }],
      }),
    );
    expect(modified.Attributes).toContainEqual({
      Key: 'deregistration_delay.timeout_seconds',
      Value: '15',
    });
    const described = await elb.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arns[0] }),
    );
    expect(described.Attributes).toEqual(modified.Attributes);

    const names: string[] = [];
    for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: 1 })) {
      expect(page.TargetGroups?.length ?? 0).toBeLessThanOrEqual(1);
      names.push(...(page.TargetGroups ?? []).map((g) => g.TargetGroupName ?? ''));
    }
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['page-a', 'page-b']));
    expect(stack.elbv2.describeTargetGroups().TargetGroups.map((g) => g.TargetGroupName)).toEqual(
      names,
    );
  });
});

describe('query-protocol routing on the endpoint', () => {
  const post = (body: string) =>
    fetch(stack.awsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });

  it('sends Version 2010-08-01 to the local CloudWatch and 2015-12-01 to the local ELBv2', async () => {
    await createGroup('routing');
    stack.resetRequestCounts();
    const cloudwatch = await post(
      'Action=PutMetricData&Version=2010-08-01&Namespace=Routing&MetricData.member.1.MetricName=Hits&MetricData.member.1.Value=3',
    );
    expect(cloudwatch.status).toBe(200);
    expect(await cloudwatch.text()).toContain('<PutMetricDataResponse');
    const elbv2 = await post(
      'Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=routing',
    );
    expect(elbv2.status).toBe(200);
    const xml = await elbv2.text();
    expect(xml).toContain(`<DescribeTargetGroupsResponse xmlns="${ELB_NAMESPACE}">`);
    expect(xml).toMatch(
      /<DescribeTargetGroupsResult><TargetGroups><member><TargetGroupArn>arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/routing\/[0-9a-f]{16}<\/TargetGroupArn><TargetGroupName>routing<\/TargetGroupName>/,
    );
    expect(xml).toMatch(
      /<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata>/,
    );
    expect(stack.requestCounts()).toEqual({
      'GraniteServiceVersion20100801.PutMetricData': 1,
      'ElasticLoadBalancing_v10.DescribeTargetGroups': 1,
    });
  });

  it('answers ELB errors as an ErrorResponse with HTTP 400', async () => {
    const res = await post(
      'Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A000000000000%3Atargetgroup%2Fnone%2F0123456789abcdef',
    );
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain(`<ErrorResponse xmlns="${ELB_NAMESPACE}">`);
    expect(xml).toContain('<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>');
    const unknown = await post('Action=CreateLoadBalancer&Version=2015-12-01&Name=lb');
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('lists the ELBv2 operations among the endpoint’s targets', async () => {
    const res = await fetch(`${stack.awsUrl}/`);
    const listing = (await res.json()) as { targets: string[] };
    expect(listing.targets).toEqual(
      expect.arrayContaining([
        'ElasticLoadBalancing_v10.CreateTargetGroup',
        'ElasticLoadBalancing_v10.RegisterTargets',
        'ElasticLoadBalancing_v10.DescribeTargetHealth',
        'GraniteServiceVersion20100801.PutMetricData',
      ]),
    );
  });
});

// The walkthrough's tool: .ci/run installs it; a machine without it fails here, as the other CLI
// tests do, rather than skipping silently.
const itWithCli = (name: string, fn: () => Promise<void>, timeout?: number) =>
  it(
    name,
    async () => {
      if (!existsSync(AWS_CLI)) {
        throw new Error(
          `The AWS CLI is not at ${AWS_CLI}; install Debian's awscli (apt-get install awscli), as .ci/run does.`,
        );
      }
      await fn();
    },
    timeout,
  );

describe('the AWS CLI', () => {
  const elbv2 = (...args: string[]) =>
    awsCli({ endpoint: stack.awsUrl, args: ['elbv2', ...args], timeoutMs: 60_000 });

  itWithCli(
    'create-target-group, register-targets and describe-target-health parse and agree',
    async () => {
      const { ip } = await runTask({ family: 'elb-cli' });
      const created = await elbv2(
        'create-target-group',
        '--name',
        'cli',
        '--protocol',
        'HTTP',
        '--port',
        '8080',
        '--vpc-id',
        'vpc-0a1b2c3d',
        '--target-type',
        'ip',
        '--health-check-interval-seconds',
        '5',
        '--health-check-timeout-seconds',
        '2',
        '--healthy-threshold-count',
        '2',
      );
      expect(created.TargetGroups).toHaveLength(1);
      const group = created.TargetGroups[0];
      expect(group).toMatchObject({
        TargetGroupName: 'cli',
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: 'vpc-0a1b2c3d',
        TargetType: 'ip',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
        HealthCheckEnabled: true,
        Matcher: { HttpCode: '200' },
        LoadBalancerArns: [],
      });
      const arn: string = group.TargetGroupArn;
      expect(arn).toMatch(
        /^arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup\/cli\//,
      );

      expect(
        await elbv2('register-targets', '--target-group-arn', arn, '--targets', `Id=${ip}`),
      ).toEqual({});
      const before = await elbv2('describe-target-health', '--target-group-arn', arn);
      // objectContaining: a newer CLI also prints AdministrativeOverride.
      expect(before.TargetHealthDescriptions).toEqual([
        expect.objectContaining({
          Target: { Id: ip, Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: {
            State: 'initial',
            Reason: 'Elb.RegistrationInProgress',
            Description: 'Target registration is in progress',
          },
        }),
      ]);
      stack.clock.advance(10_000);
      const after = await elbv2('describe-target-health', '--target-group-arn', arn);
      expect(after.TargetHealthDescriptions).toEqual([
        expect.objectContaining({
          Target: { Id: ip, Port: 8080 },
          HealthCheckPort: '8080',
          TargetHealth: { State: 'healthy' },
        }),
      ]);
      await expect(
        elbv2(
          'describe-target-health',
          '--target-group-arn',
          arn.replace(/[0-9a-f]{16}$/, '0123456789abcdef'),
        ),
      ).rejects.toThrow(/\(TargetGroupNotFound\)/);
    },
    60_000,
  );
});
