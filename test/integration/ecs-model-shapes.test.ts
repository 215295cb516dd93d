/**
 * The emulator's raw JSON answers checked against the ECS API model that the AWS SDKs and the CLI
 * are generated from (botocore's `ecs/2014-11-13/service-2.json`). Every implemented operation is
 * called for real through `EcsEmulator.handle()`; each answer is walked against the operation's
 * output shape: required members present, JSON types right for structure, list, map, string,
 * integer, long, double, boolean and timestamp (epoch seconds in JSON 1.1), enum values known, and no
 * member the model does not define. Errors: `__type` must be one the operation declares (or a common
 * one) and the body must fit that error's shape.
 *
 * Differences already known are listed in KNOWN_VIOLATIONS (they belong to local/ecs/); any other
 * difference fails, and so does a known one that no longer occurs (remove it from the list).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EcsEmulator, type EcsResponse } from '../../local/ecs/emulator';
import { waitFor } from '../support/wait';

type ShapeRef = { shape: string; jsonName?: string; locationName?: string };
type Shape = {
  type: string;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  exception?: boolean;
};
type Model = {
  metadata: { jsonVersion: string; targetPrefix: string };
  operations: Record<
    string,
    { output?: ShapeRef; errors?: ShapeRef[]; input?: ShapeRef } | undefined
  >;
  shapes: Record<string, Shape>;
};

const MODEL_DIR = 'botocore/data/ecs/2014-11-13';
const COMMON_ERRORS = [
  'ThrottlingException',
  'UnknownOperationException',
  'SerializationException',
];

/** Where botocore may be: Debian's awscli package (CI), then pyenv's Pythons (dev machines). */
function modelCandidates(): string[] {
  const dirs = [`/usr/lib/python3/dist-packages/${MODEL_DIR}`];
  const pyenv = '/root/.pyenv/versions';
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const version of list(pyenv)) {
    for (const lib of list(join(pyenv, version, 'lib')).filter((d) => d.startsWith('python3'))) {
      dirs.push(join(pyenv, version, 'lib', lib, 'site-packages', MODEL_DIR));
    }
  }
  return dirs.flatMap((d) => [join(d, 'service-2.json'), join(d, 'service-2.json.gz')]);
}

function loadModel(): { model: Model; path: string } {
  const candidates = modelCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `The ECS API model (botocore ${MODEL_DIR}/service-2.json[.gz]) was not found; install Debian's awscli (apt-get install awscli, as .ci/run does). Looked in:\n  ${candidates.join('\n  ')}`,
    );
  }
  const raw = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return { model: JSON.parse(text) as Model, path };
}

/** Walks `value` against shape `name`; pushes one line per difference, with its JSON path. */
function validate(o: {
  model: Model;
  name: string;
  value: unknown;
  path: string;
  out: string[];
  /** Extra members allowed at the top (an error body's `__type`). */
  allow?: string[];
}): void {
  const { model, value, path, out } = o;
  const shape = model.shapes[o.name];
  if (!shape) {
    out.push(`${path}: model has no shape ${o.name}`);
    return;
  }
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const wrong = (expected: string) =>
    out.push(`${path}: expected ${expected} (${o.name}), got ${kind(value)} ${short(value)}`);
  switch (shape.type) {
    case 'structure': {
      if (kind(value) !== 'object') {
        wrong('an object');
        return;
      }
      const obj = value as Record<string, unknown>;
      const members = shape.members ?? {};
      const byJsonName = new Map(
        Object.entries(members).map(([k, ref]) => [ref.jsonName ?? k, { k, ref }]),
      );
      for (const required of shape.required ?? []) {
        const jsonName = members[required]?.jsonName ?? required;
        if (!(jsonName in obj)) out.push(`${path}.${jsonName}: required by ${o.name}, missing`);
      }
      for (const [key, v] of Object.entries(obj)) {
        const found = byJsonName.get(key);
        if (!found) {
          if (!(o.allow ?? []).includes(key))
            out.push(`${path}.${key}: not a member of ${o.name} (value ${short(v)})`);
          continue;
        }
        validate({ model, name: found.ref.shape, value: v, path: `${path}.${key}`, out });
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        wrong('a list');
        return;
      }
      value.forEach((item, i) => {
        validate({
          model,
          name: (shape.member as ShapeRef).shape,
          value: item,
          path: `${path}[${i}]`,
          out,
        });
      });
      return;
    }
    case 'map': {
      if (kind(value) !== 'object') {
        wrong('a map (object)');
        return;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        validate({
          model,
          name: (shape.key as ShapeRef).shape,
          value: k,
          path: `${path}{key}`,
          out,
        });
        validate({
          model,
          name: (shape.value as ShapeRef).shape,
          value: v,
          path: `${path}.${k}`,
          out,
        });
      }
      return;
    }
    case 'string':
      if (typeof value !== 'string') {
        wrong('a string');
        return;
      }
      if (shape.enum && !shape.enum.includes(value))
        out.push(`${path}: '${value}' is not one of ${o.name} (${shape.enum.join(', ')})`);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        wrong('an integer');
        return;
      }
      if (value < -(2 ** 31) || value >= 2 ** 31)
        out.push(`${path}: ${value} overflows an integer`);
      return;
    case 'long':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        wrong('a long');
        return;
      }
      return;
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        wrong('a number');
        return;
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') {
        wrong('a boolean');
        return;
      }
      return;
    case 'timestamp':
      // JSON 1.1 sends timestamps as epoch seconds (a number, fractions allowed).
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        wrong('epoch seconds');
        return;
      }
      if (value > 1e11) out.push(`${path}: ${value} looks like epoch milliseconds, not seconds`);
      return;
    default:
      out.push(`${path}: shape type ${shape.type} (${o.name}) is not checked by this test`);
  }
}

function short(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Differences between the emulator and the model found when this test was written; they are
 * local/ecs/'s to fix. Each is `<Operation> <path>: <message prefix>`.
 */
const KNOWN_VIOLATIONS: string[] = [];

let model: Model;
let emulator: EcsEmulator;
/** Every difference seen, as `<Operation> <line>`. */
const seen: string[] = [];
/** Operations whose success answer was checked. */
const checkedOutputs = new Set<string>();
/** Operations whose error answer was checked. */
const checkedErrors = new Set<string>();

/** Calls `operation`, validates the answer (success or error) and returns it. */
async function call(operation: string, body: unknown): Promise<EcsResponse> {
  const response = await emulator.handle(operation, body);
  const out: string[] = [];
  const op = model.operations[operation];
  if (!op) throw new Error(`${operation} is not an ECS operation in the model`);
  if (response.status === 200) {
    checkedOutputs.add(operation);
    if (op.output) validate({ model, name: op.output.shape, value: response.body, path: '$', out });
    else if (JSON.stringify(response.body) !== '{}') out.push(`$: ${operation} has no output`);
  } else {
    checkedErrors.add(operation);
    const errorBody = response.body as { __type?: unknown };
    const type = String(errorBody.__type ?? '');
    const declared = (op.errors ?? []).map((e) => e.shape);
    if (!declared.includes(type) && !COMMON_ERRORS.includes(type)) {
      out.push(`$.__type: '${type}' is not an error of ${operation} (${declared.join(', ')})`);
    }
    if (response.errorType !== type) out.push(`errorType ${response.errorType} != __type ${type}`);
    if (model.shapes[type]) {
      validate({ model, name: type, value: response.body, path: '$', out, allow: ['__type'] });
    }
  }
  seen.push(...out.map((line) => `${operation} ${line}`));
  return response;
}

/** Calls an operation that must succeed. */
async function ok(operation: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await call(operation, body);
  if (response.status !== 200) {
    throw new Error(`${operation} failed: ${JSON.stringify(response.body)}`);
  }
  return response.body as Record<string, unknown>;
}

/** Calls an operation that must fail with `type`. */
async function fails(operation: string, body: unknown, type: string): Promise<void> {
  const response = await call(operation, body);
  expect({ operation, type: (response.body as { __type?: string }).__type }).toEqual({
    operation,
    type,
  });
}

/** Differences seen since `mark` (a length of `seen`) that are not known. */
const newViolations = (mark: number) =>
  seen.slice(mark).filter((line) => !KNOWN_VIOLATIONS.some((known) => line.startsWith(known)));

const IMPLEMENTED = [
  'CreateCluster',
  'DescribeClusters',
  'ListClusters',
  'RegisterTaskDefinition',
  'DescribeTaskDefinition',
  'ListTaskDefinitions',
  'DeregisterTaskDefinition',
  'RunTask',
  'StopTask',
  'DescribeTasks',
  'ListTasks',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
];
/** Checked too once the emulator has them (EC2 capacity). */
const OPTIONAL = ['ListContainerInstances', 'DescribeContainerInstances'];

const CLUSTER = 'shapes';
const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
let taskArns: string[] = [];
let ec2TaskArn = '';
let failingTaskArn = '';
let clusterArn = '';
let taskDefinitionArn = '';

beforeAll(async () => {
  model = loadModel().model;
  emulator = new EcsEmulator({ stepDelayMs: 5 });
});

afterAll(async () => {
  await emulator?.close();
});

describe('the ECS API model', () => {
  it('is the JSON 1.1 ECS model', () => {
    expect(model.metadata).toMatchObject({
      jsonVersion: '1.1',
      targetPrefix: 'AmazonEC2ContainerServiceV20141113',
    });
    for (const op of IMPLEMENTED) expect(model.operations[op]?.output).toBeDefined();
  });
});

describe('the shape checker', () => {
  it('finds a missing required member, a wrong type, an unknown enum value, an extra member and milliseconds', () => {
    const out: string[] = [];
    validate({
      model,
      name: 'DescribeTasksResponse',
      value: {
        tasks: [
          {
            lastStatus: 7,
            launchType: 'MOON',
            createdAt: 1_700_000_000_000,
            containers: [{ name: 'app', exitCode: 1.5 }],
            surprise: true,
          },
        ],
        failures: [{ arn: 'x', reason: 'MISSING' }],
        tags: {},
      },
      path: '$',
      out,
    });
    expect(out).toEqual([
      expect.stringMatching(/^\$\.tasks\[0\]\.lastStatus: expected a string/),
      expect.stringMatching(/^\$\.tasks\[0\]\.launchType: 'MOON' is not one of LaunchType/),
      expect.stringMatching(/^\$\.tasks\[0\]\.createdAt: .* epoch milliseconds/),
      expect.stringMatching(/^\$\.tasks\[0\]\.containers\[0\]\.exitCode: expected an integer/),
      expect.stringMatching(/^\$\.tasks\[0\]\.surprise: not a member of Task/),
      expect.stringMatching(/^\$\.tags: not a member of DescribeTasksResponse/),
    ]);
    const missing: string[] = [];
    validate({ model, name: 'Attribute', value: {}, path: '$', out: missing });
    validate({ model, name: 'KeyValuePair', value: { name: null }, path: '$', out: missing });
    validate({ model, name: 'Failure', value: {}, path: '$', out: missing });
    expect(missing).toEqual([
      '$.name: required by Attribute, missing',
      expect.stringMatching(/^\$\.name: expected a string/),
    ]);
    validate({
      model,
      name: 'ListClustersResponse',
      value: { clusterArns: 'x' },
      path: '$',
      out: missing,
    });
    expect(missing[2]).toMatch(/^\$\.clusterArns: expected a list/);
  });
});

describe('emulator answers fit the model', () => {
  it('clusters: CreateCluster, DescribeClusters, ListClusters', async () => {
    const mark = seen.length;
    const created = await ok('CreateCluster', {
      clusterName: CLUSTER,
      tags: [{ key: 'team', value: 'shapes' }],
      settings: [{ name: 'containerInsights', value: 'enabled' }],
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 0 }],
    });
    clusterArn = (created.cluster as { clusterArn: string }).clusterArn;
    await ok('CreateCluster', {});
    await ok('DescribeClusters', {
      clusters: [CLUSTER, 'default', 'missing-cluster'],
      include: ['TAGS', 'SETTINGS', 'STATISTICS', 'ATTACHMENTS', 'CONFIGURATIONS'],
    });
    await ok('DescribeClusters', {});
    await ok('ListClusters', {});
    await ok('ListClusters', { maxResults: 1 });
    await fails('CreateCluster', { clusterName: 'bad name!' }, 'InvalidParameterException');
    await fails(
      'DescribeClusters',
      { clusters: Array.from({ length: 101 }, (_, i) => `c${i}`) },
      'InvalidParameterException',
    );
    await fails('ListClusters', { maxResults: 0 }, 'InvalidParameterException');
    expect(newViolations(mark)).toEqual([]);
  });

  it('task definitions: RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions', async () => {
    const mark = seen.length;
    const registered = await ok('RegisterTaskDefinition', {
      family: 'shapes',
      taskRoleArn: 'arn:aws:iam::000000000000:role/task',
      executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE', 'EC2'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      ephemeralStorage: { sizeInGiB: 30 },
      tags: [{ key: 'team', value: 'shapes' }],
      containerDefinitions: [
        {
          name: 'app',
          image: 'public.ecr.aws/nginx/nginx:latest',
          essential: true,
          cpu: 128,
          memory: 256,
          memoryReservation: 128,
          portMappings: [{ containerPort: 80, protocol: 'tcp', name: 'http' }],
          environment: [{ name: 'A', value: '1' }],
          command: ['nginx', '-g', 'daemon off;'],
          dockerLabels: { tier: 'web' },
          logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/shapes' } },
          healthCheck: { command: ['CMD-SHELL', 'true'], interval: 30, retries: 3 },
        },
        {
          name: 'sidecar',
          image: 'public.ecr.aws/docker/library/busybox:latest',
          essential: false,
          dependsOn: [{ containerName: 'app', condition: 'START' }],
        },
      ],
    });
    taskDefinitionArn = (registered.taskDefinition as { taskDefinitionArn: string })
      .taskDefinitionArn;
    await ok('RegisterTaskDefinition', {
      family: 'shapes-ec2',
      networkMode: 'bridge',
      requiresCompatibilities: ['EC2'],
      containerDefinitions: [
        {
          name: 'app',
          image: 'busybox',
          memory: 64,
          essential: true,
          portMappings: [{ containerPort: 8080, hostPort: 0 }],
        },
      ],
    });
    await ok('RegisterTaskDefinition', {
      family: 'shapes-broken',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'app',
          image: 'nowhere/missing:1',
          essential: true,
          dockerLabels: {
            'steward.emulator/fail-to-start': 'CannotPullContainerError: pull access denied',
          },
        },
      ],
    });
    await ok('DescribeTaskDefinition', { taskDefinition: 'shapes', include: ['TAGS'] });
    await ok('DescribeTaskDefinition', { taskDefinition: 'shapes-ec2:1' });
    await ok('ListTaskDefinitions', {});
    await ok('ListTaskDefinitions', { familyPrefix: 'shapes', status: 'ACTIVE', sort: 'DESC' });
    await ok('ListTaskDefinitions', { maxResults: 1 });
    await fails('DescribeTaskDefinition', { taskDefinition: 'nothing-here' }, 'ClientException');
    await fails('RegisterTaskDefinition', { family: 'x' }, 'ClientException');
    await fails('ListTaskDefinitions', { status: 'NOPE' }, 'InvalidParameterException');
    expect(newViolations(mark)).toEqual([]);
  });

  it('tasks: RunTask, DescribeTasks and ListTasks through the lifecycle', async () => {
    const mark = seen.length;
    const network = {
      awsvpcConfiguration: {
        subnets: SUBNETS,
        securityGroups: ['sg-0123'],
        assignPublicIp: 'DISABLED',
      },
    };
    const run = await ok('RunTask', {
      cluster: CLUSTER,
      taskDefinition: 'shapes',
      launchType: 'FARGATE',
      count: 2,
      networkConfiguration: network,
      startedBy: 'shapes-test',
      group: 'family:shapes',
      enableExecuteCommand: true,
      clientToken: 'shapes-token-1',
      tags: [{ key: 'slot', value: '0' }],
      overrides: {
        containerOverrides: [{ name: 'app', environment: [{ name: 'B', value: '2' }] }],
        cpu: '512',
        memory: '1024',
      },
    });
    taskArns = (run.tasks as { taskArn: string }[]).map((t) => t.taskArn);
    expect(taskArns).toHaveLength(2);
    // The same request again: the same tasks.
    await ok('RunTask', {
      cluster: CLUSTER,
      taskDefinition: 'shapes',
      launchType: 'FARGATE',
      count: 2,
      networkConfiguration: network,
      startedBy: 'shapes-test',
      group: 'family:shapes',
      enableExecuteCommand: true,
      clientToken: 'shapes-token-1',
      tags: [{ key: 'slot', value: '0' }],
      overrides: {
        containerOverrides: [{ name: 'app', environment: [{ name: 'B', value: '2' }] }],
        cpu: '512',
        memory: '1024',
      },
    });
    await ok('RunTask', {
      cluster: CLUSTER,
      taskDefinition: 'shapes',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      networkConfiguration: network,
    });
    // EC2 needs container instances once the emulator models capacity; then this answer is an error.
    const ec2 = await call('RunTask', {
      cluster: CLUSTER,
      taskDefinition: 'shapes-ec2',
      launchType: 'EC2',
    });
    ec2TaskArn = (ec2.body as { tasks?: { taskArn: string }[] }).tasks?.[0]?.taskArn ?? '';
    const broken = await ok('RunTask', {
      cluster: CLUSTER,
      taskDefinition: 'shapes-broken',
      launchType: 'FARGATE',
      networkConfiguration: network,
    });
    failingTaskArn = (broken.tasks as { taskArn: string }[])[0]?.taskArn ?? '';

    const all = [...taskArns, ...(ec2TaskArn ? [ec2TaskArn] : []), failingTaskArn];
    await waitFor({
      what: 'the tasks to run (and the broken one to stop)',
      probe: async () => {
        const d = (await emulator.handle('DescribeTasks', { cluster: CLUSTER, tasks: all }))
          .body as { tasks: { lastStatus: string }[] };
        const states = d.tasks.map((t) => t.lastStatus);
        return states.at(-1) === 'STOPPED' && states.slice(0, -1).every((s) => s === 'RUNNING')
          ? true
          : undefined;
      },
    });
    await ok('DescribeTasks', {
      cluster: CLUSTER,
      tasks: [...all, 'ffffffffffffffffffffffffffffffff'],
      include: ['TAGS'],
    });
    await ok('ListTasks', { cluster: CLUSTER });
    await ok('ListTasks', { cluster: CLUSTER, startedBy: 'shapes-test', maxResults: 1 });
    await ok('ListTasks', { cluster: CLUSTER, desiredStatus: 'STOPPED' });
    await ok('ListTasks', { cluster: CLUSTER, family: 'shapes', launchType: 'FARGATE' });

    await fails(
      'RunTask',
      {
        cluster: CLUSTER,
        taskDefinition: 'shapes',
        launchType: 'FARGATE',
        networkConfiguration: network,
        clientToken: 'shapes-token-1',
      },
      'ConflictException',
    );
    await fails('RunTask', { cluster: CLUSTER, taskDefinition: 'nothing-here' }, 'ClientException');
    await fails(
      'RunTask',
      { cluster: 'no-such-cluster', taskDefinition: 'shapes' },
      'ClusterNotFoundException',
    );
    await fails('DescribeTasks', { cluster: CLUSTER, tasks: [] }, 'InvalidParameterException');
    await fails('ListTasks', { cluster: CLUSTER, serviceName: 'web' }, 'ServiceNotFoundException');
    expect(newViolations(mark)).toEqual([]);
  });

  it('tags: TagResource, UntagResource, ListTagsForResource on a cluster, task definition and task', async () => {
    const mark = seen.length;
    for (const resourceArn of [clusterArn, taskDefinitionArn, taskArns[0] as string]) {
      await ok('TagResource', { resourceArn, tags: [{ key: 'env', value: 'test' }] });
      await ok('ListTagsForResource', { resourceArn });
      await ok('UntagResource', { resourceArn, tagKeys: ['env'] });
    }
    const missing = `arn:aws:ecs:us-east-1:000000000000:task/${CLUSTER}/0123456789abcdef0123456789abcdef`;
    await fails(
      'TagResource',
      { resourceArn: missing, tags: [{ key: 'a', value: 'b' }] },
      'ResourceNotFoundException',
    );
    await fails('ListTagsForResource', { resourceArn: missing }, 'InvalidParameterException');
    await fails(
      'UntagResource',
      { resourceArn: 'not-an-arn', tagKeys: ['a'] },
      'InvalidParameterException',
    );
    expect(newViolations(mark)).toEqual([]);
  });

  it('stopping: StopTask, a killed container, and the STOPPED tasks described', async () => {
    const mark = seen.length;
    const [first, second] = taskArns as [string, string];
    await ok('StopTask', { cluster: CLUSTER, task: first, reason: 'shapes: stopped' });
    emulator.killTask({
      cluster: CLUSTER,
      task: second,
      exitCode: 137,
      reason: 'OutOfMemoryError',
    });
    await waitFor({
      what: 'both tasks to be STOPPED',
      probe: async () => {
        const d = (
          await emulator.handle('DescribeTasks', { cluster: CLUSTER, tasks: [first, second] })
        ).body as { tasks: { lastStatus: string }[] };
        return d.tasks.every((t) => t.lastStatus === 'STOPPED') ? true : undefined;
      },
    });
    await ok('StopTask', { cluster: CLUSTER, task: first });
    await ok('DescribeTasks', {
      cluster: CLUSTER,
      tasks: [first, second, failingTaskArn],
      include: ['TAGS'],
    });
    await fails(
      'StopTask',
      { cluster: CLUSTER, task: 'ffffffffffffffffffffffffffffffff' },
      'InvalidParameterException',
    );
    await fails('StopTask', { cluster: CLUSTER }, 'InvalidParameterException');
    expect(newViolations(mark)).toEqual([]);
  });

  it('DeregisterTaskDefinition, and describing the INACTIVE revision', async () => {
    const mark = seen.length;
    await ok('DeregisterTaskDefinition', { taskDefinition: 'shapes-ec2:1' });
    await ok('DescribeTaskDefinition', { taskDefinition: 'shapes-ec2:1' });
    await ok('ListTaskDefinitions', { status: 'INACTIVE' });
    await fails('DeregisterTaskDefinition', { taskDefinition: 'shapes-ec2' }, 'ClientException');
    expect(newViolations(mark)).toEqual([]);
  });

  it('container instances, if the emulator has them', async () => {
    const mark = seen.length;
    // With EC2 capacity, the instances get content and a task lands on one.
    const withCapacity = emulator as unknown as {
      setCapacity?: (o: {
        cluster?: string;
        instances?: { cpu: number; memory: number; availabilityZone?: string }[];
      }) => unknown;
    };
    if (typeof withCapacity.setCapacity === 'function') {
      withCapacity.setCapacity({
        cluster: CLUSTER,
        instances: [
          { cpu: 2048, memory: 4096, availabilityZone: 'us-east-1a' },
          { cpu: 1024, memory: 2048, availabilityZone: 'us-east-1b' },
        ],
      });
      await ok('RegisterTaskDefinition', {
        family: 'shapes-on-ec2',
        networkMode: 'bridge',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [
          {
            name: 'app',
            image: 'busybox',
            cpu: 256,
            memory: 256,
            essential: true,
            portMappings: [{ containerPort: 8080, hostPort: 8080 }],
          },
        ],
      });
      const ec2 = await ok('RunTask', {
        cluster: CLUSTER,
        taskDefinition: 'shapes-on-ec2',
        launchType: 'EC2',
        count: 2,
      });
      const arns = (ec2.tasks as { taskArn: string }[]).map((t) => t.taskArn);
      await waitFor({
        what: 'the EC2 tasks RUNNING',
        probe: async () => {
          const d = (await emulator.handle('DescribeTasks', { cluster: CLUSTER, tasks: arns }))
            .body as { tasks: { lastStatus: string }[] };
          return d.tasks.every((t) => t.lastStatus === 'RUNNING') ? true : undefined;
        },
      });
      await ok('DescribeTasks', { cluster: CLUSTER, tasks: arns, include: ['TAGS'] });
      await ok('ListTasks', { cluster: CLUSTER, launchType: 'EC2' });
    }
    for (const operation of OPTIONAL) {
      const probe = await emulator.handle(operation, { cluster: CLUSTER });
      if (probe.errorType === 'UnknownOperationException') continue;
      if (operation === 'ListContainerInstances') {
        await call(operation, { cluster: CLUSTER });
        await call(operation, { cluster: CLUSTER, status: 'ACTIVE', maxResults: 1 });
      } else {
        const listed = (await emulator.handle('ListContainerInstances', { cluster: CLUSTER }))
          .body as { containerInstanceArns?: string[] };
        const arns = listed.containerInstanceArns ?? [];
        if (arns.length > 0) {
          await call(operation, { cluster: CLUSTER, containerInstances: arns });
          await call(operation, {
            cluster: CLUSTER,
            containerInstances: [...arns, 'ffffffff-ffff-ffff-ffff-ffffffffffff'],
            include: ['TAGS', 'CONTAINER_INSTANCE_HEALTH'],
          });
        }
        await call(operation, { cluster: CLUSTER, containerInstances: [] });
      }
    }
    expect(newViolations(mark)).toEqual([]);
  });

  it('errors outside the operations: unknown operation, throttling, bad member types', async () => {
    const mark = seen.length;
    await fails('ListClusters', { maxResults: 'ten' }, 'SerializationException');
    const unknown = await emulator.handle('CreateService', {});
    expect(unknown.body).toMatchObject({ __type: 'UnknownOperationException' });
    const throttled = new EcsEmulator({
      stepDelayMs: 5,
      rateLimits: { reads: { burst: 1, perSecond: 0.001 } },
    });
    try {
      const saved = emulator;
      emulator = throttled;
      try {
        await ok('ListClusters', {});
        await fails('ListClusters', {}, 'ThrottlingException');
      } finally {
        emulator = saved;
      }
    } finally {
      await throttled.close();
    }
    expect(newViolations(mark)).toEqual([]);
  });

  it('checked every implemented operation, and every known violation still occurs', () => {
    expect(IMPLEMENTED.filter((op) => !checkedOutputs.has(op))).toEqual([]);
    expect(IMPLEMENTED.filter((op) => !checkedErrors.has(op))).toEqual([]);
    const stale = KNOWN_VIOLATIONS.filter((known) => !seen.some((l) => l.startsWith(known)));
    expect(stale).toEqual([]);
    if (seen.length > 0) {
      process.stdout.write(`known model differences of the emulator:\n  ${seen.join('\n  ')}\n`);
    }
  });
});
