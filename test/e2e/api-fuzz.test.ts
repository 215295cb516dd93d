/**
 * A property-based fuzz of the HTTP API (fast-check), over real HTTP on the local stack. Methods,
 * paths (every route of serverless.yml with valid, missing, malformed, percent-encoded, long and
 * unicode parameters, and unknown paths), query strings, headers (authorization, content type,
 * If-Match) and bodies (mutations of valid bodies, JSON and YAML, and raw junk) are sent against
 * services and task definitions that exist and that do not. For every request:
 * - the answer is below 500;
 * - an error is JSON `{ message, errors: [{ path, message }] }` (the local gateway answers its own
 *   401/404/405/413 in that shape too, see local/http-gateway.ts); only Node's HTTP parser answers
 *   a request it cannot parse (an unknown method) with a bare 400 of its own;
 * - the status is one the OpenAPI document lists for the operation (404 for an unknown path, 401 or
 *   405 for a method the path does not have);
 * - nothing but an accepted write changes stored state: every item of every DynamoDB table, the
 *   task definitions and tasks of the ECS emulator, and the reconcile requests sent (PutEvents);
 * - an accepted write changes it as its status says (201: the resource exists; 200/202: the
 *   service's generation moved by one, or it is draining).
 * About 500 requests, a few seconds each part. STEWARD_FUZZ_SEED replays a reported seed,
 * STEWARD_FUZZ_RUNS multiplies the cases, and STEWARD_FUZZ_COLLECT=1 lists every distinct failure
 * instead of stopping (and shrinking) at the first.
 */
import { mkdtempSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { loadServerlessConfig } from '../../local/serverless-config';
import type { Stack } from '../../local/stack';
import { type ApiCall, apiClient } from '../support/api';

const REGION = 'us-east-1';
const ROOT = process.cwd();
const config = loadServerlessConfig({ path: join(ROOT, 'serverless.yml'), stage: 'local' });
/** Every HTTP route of the API, as serverless.yml declares them (the fuzz follows new routes). */
const ROUTES = config.functions.flatMap((f) => f.httpRoutes);
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** More cases than the default (exploring); the timeouts grow with it. */
const RUNS_FACTOR = Number(process.env.STEWARD_FUZZ_RUNS ?? 1);
const TIMEOUT_MS = 60_000 * Math.max(1, RUNS_FACTOR);
/** Set to replay a failure fast-check reported (`seed` from its message). */
const SEED = process.env.STEWARD_FUZZ_SEED ? Number(process.env.STEWARD_FUZZ_SEED) : undefined;

let stack: Stack;
let api: ApiCall;
let dynamodb: DynamoDBClient;
let ecs: ECSClient;
/** `METHOD /template` → the statuses the OpenAPI document lists for it. */
let documented: Map<string, Set<number>>;

// ---------------------------------------------------------------------------------------------
// Fixtures: valid bodies, and the services and task definitions that exist while fuzzing

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const NETWORK = { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } };

function fargateDefinition(family: string, image = 'nginx:1.27'): Json {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'app', image, essential: true, memoryReservation: 32 }],
  };
}

/** A definition with many fields, so mutations have more to break. */
function richDefinition(family: string): Json {
  return {
    family,
    networkMode: 'bridge',
    requiresCompatibilities: ['EC2'],
    taskRoleArn: 'arn:aws:iam::000000000000:role/fuzz-task',
    containerDefinitions: [
      {
        name: 'app',
        image: 'public.ecr.aws/docker/library/httpd:2.4',
        cpu: 64,
        memory: 128,
        essential: true,
        portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
        environment: [{ name: 'MODE', value: 'fuzz' }],
        command: ['httpd-foreground'],
        healthCheck: { command: ['CMD-SHELL', 'true'], interval: 30, retries: 3 },
      },
      {
        name: 'sidecar',
        image: 'busybox:1.36',
        memoryReservation: 16,
        essential: false,
        dependsOn: [{ containerName: 'app', condition: 'START' }],
      },
    ],
    volumes: [{ name: 'data' }],
    tags: [{ key: 'team', value: 'fuzz' }],
  };
}

/** Services that exist while fuzzing; none has a task starting or stopping once settled. */
const FIXTURE_SERVICES: Record<string, Json> = {
  'fz-idle': { serviceName: 'fz-idle', taskDefinition: 'fz-web:1', desiredCount: 0 },
  'fz-fargate': {
    serviceName: 'fz-fargate',
    taskDefinition: 'fz-web:1',
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: NETWORK,
  },
  'fz-paused': {
    serviceName: 'fz-paused',
    taskDefinition: fargateDefinition('fz-inline'),
    desiredCount: 2,
    launchType: 'FARGATE',
    networkConfiguration: NETWORK,
    paused: true,
  },
  'fz-other': {
    serviceName: 'fz-other',
    cluster: 'fz-cluster',
    taskDefinition: 'fz-web',
    desiredCount: 0,
    restartPolicy: { maxConsecutiveFailures: 3 },
  },
};
const FIXTURE_NAMES = Object.keys(FIXTURE_SERVICES);
const FAMILIES = ['fz-web', 'fz-yaml', 'fz-inline', 'fz-rich'];

const CREATE_BASES: ((name: string) => Json)[] = [
  (serviceName) => ({ serviceName, taskDefinition: 'fz-web:1', desiredCount: 0 }),
  (serviceName) => ({
    serviceName,
    cluster: 'fz-cluster',
    taskDefinition: 'fz-web',
    desiredCount: 0,
    restartPolicy: { baseDelaySeconds: 2, factor: 2, maxDelaySeconds: 60, jitter: 0.5 },
    tags: [{ key: 'team', value: 'fuzz' }],
    propagateTags: 'SERVICE',
  }),
  (serviceName) => ({
    serviceName,
    taskDefinition: fargateDefinition('fz-create-inline'),
    desiredCount: 1,
    launchType: 'FARGATE',
    platformVersion: 'LATEST',
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-0123456789abcdef0'],
        securityGroups: ['sg-0123456789abcdef0'],
        assignPublicIp: 'DISABLED',
      },
    },
    deploymentConfiguration: {
      minimumHealthyPercent: 50,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
  }),
  (serviceName) => ({
    serviceName,
    taskDefinition: 'fz-web:2',
    desiredCount: 2,
    paused: true,
    capacityProviderStrategy: [
      { capacityProvider: 'FARGATE_SPOT', weight: 3 },
      { capacityProvider: 'FARGATE', weight: 1, base: 1 },
    ],
    networkConfiguration: NETWORK,
    spotFallback: { enabled: true, retrySpotAfterSeconds: 600 },
    maxTaskLifetime: 86_400,
  }),
  (serviceName) => ({
    serviceName,
    taskDefinition: 'fz-rich',
    desiredCount: 0,
    launchType: 'EC2',
    placementConstraints: [{ type: 'distinctInstance' }],
    placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }],
    minCapacity: 0,
    maxCapacity: 3,
    scalingPolicies: [
      {
        policyName: 'night',
        policyType: 'Scheduled',
        schedule: 'cron(0 22 * * ? *)',
        timezone: 'Europe/Paris',
        scalableTargetAction: { minCapacity: 0, maxCapacity: 0 },
      },
    ],
  }),
];

const REPLACE_BASES: Json[] = [
  { taskDefinition: 'fz-web:1', desiredCount: 0 },
  {
    taskDefinition: 'fz-web:2',
    desiredCount: 1,
    launchType: 'FARGATE',
    networkConfiguration: NETWORK,
  },
  {
    taskDefinition: fargateDefinition('fz-put-inline'),
    desiredCount: 0,
    launchType: 'FARGATE',
    networkConfiguration: NETWORK,
    deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 },
  },
  {
    serviceName: 'fz-idle',
    cluster: 'default',
    taskDefinition: 'fz-web',
    desiredCount: 0,
    restartPolicy: { maxConsecutiveFailures: null, healthyAfterSeconds: 30 },
    tags: [{ key: 'team', value: 'fuzz' }],
  },
  {
    taskDefinition: 'fz-web:1',
    desiredCount: 1,
    paused: true,
    capacityProviderStrategy: [
      { capacityProvider: 'FARGATE_SPOT', weight: 1 },
      { capacityProvider: 'FARGATE', weight: 1, base: 1 },
    ],
    networkConfiguration: NETWORK,
    spotFallback: { enabled: true, retrySpotAfterSeconds: 600 },
  },
];

const PATCH_BASES: Json[] = [
  { desiredCount: 0 },
  { desiredCount: 1 },
  { paused: true },
  { paused: false },
  { restartPolicy: { maxConsecutiveFailures: 3, baseDelaySeconds: 2 } },
  { tags: [{ key: 'team', value: 'fuzz' }], propagateTags: 'SERVICE' },
  { taskDefinition: 'fz-web:2' },
  { taskDefinition: fargateDefinition('fz-patch-inline') },
  // Inline definitions with fields that suit some services and not others (the merged spec).
  { taskDefinition: fargateDefinition('fz-patch-inline'), platformVersion: '1.4.0' },
  { taskDefinition: fargateDefinition('fz-patch-inline'), launchType: 'FARGATE' },
  {
    taskDefinition: fargateDefinition('fz-patch-inline'),
    placementStrategy: [{ type: 'random' }],
  },
  {
    taskDefinition: fargateDefinition('fz-patch-inline'),
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
  },
  { maxTaskLifetime: 3600, enableExecuteCommand: true },
  { minCapacity: 0, maxCapacity: 3 },
  {
    deploymentConfiguration: {
      minimumHealthyPercent: 0,
      maximumPercent: 100,
      deploymentCircuitBreaker: { enable: true, rollback: false },
    },
  },
  { launchType: 'EC2', placementStrategy: [{ type: 'binpack', field: 'memory' }] },
  { launchType: 'FARGATE', networkConfiguration: NETWORK },
];

const DEFINITION_BASES: ((family: string) => Json)[] = [
  (family) => fargateDefinition(family),
  (family) => fargateDefinition(family, 'public.ecr.aws/docker/library/nginx:1.27-alpine'),
  richDefinition,
];

// ---------------------------------------------------------------------------------------------
// Mutations of valid bodies, and their serialisation (raw JSON can hold what objects cannot)

/** JSON text emitted as it is: numbers JSON.parse reads oddly, deep nesting. */
class RawJson {
  constructor(readonly text: string) {}
}
/** Members written before (JSON.parse keeps the last) or after (it wins) the object's own. */
const DUPLICATES = Symbol('duplicates');
type Duplicates = { before: [string, unknown][]; after: [string, unknown][] };

const HOSTILE_NUMBERS: (number | RawJson)[] = [
  -1,
  -0.5,
  0.5,
  1.5,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 53 + 2,
  1e21,
  10_001,
  100_001,
  86_401,
  Number.MIN_VALUE,
  0,
  new RawJson('1e999'),
  new RawJson('-1e999'),
  new RawJson('-0'),
  new RawJson('1.0'),
  new RawJson('2e0'),
  new RawJson('1e-400'),
  new RawJson('100000000000000000000000000001'),
];

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\nb',
  '../../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal lookup, as injection payloads carry it.
  '${jndi:ldap://example.invalid/a}',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  'SERVICE#fz-idle',
  'TASK#x',
  'fz-idle',
  'fz-web:1',
  'fz-web:0',
  'fz-web:1000000000',
  'FARGATE',
  'arn:aws:ecs:us-east-1:000000000000:cluster/elsewhere',
  'arn:aws:ecs:us-east-1:000000000000:task-definition/fz-web:1',
  'arn:aws:iam::000000000000:role/x',
  '名前',
  '\u202e',
  '\ud800',
  '%s%s%n',
  'x'.repeat(121),
];

const UNKNOWN_KEYS = [
  'unknownField',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  'serviceName ',
  'DesiredCount',
  '$set',
  'a.b',
  'PK',
  'generation',
  'deleting',
  'status',
];

const UNKNOWN_VALUES: unknown[] = [
  { polluted: true },
  null,
  1,
  'x',
  [],
  new RawJson('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
];

type MutationOp =
  | { kind: 'drop' }
  | { kind: 'null' }
  | { kind: 'wrongType'; choice: number }
  | { kind: 'number'; value: number | RawJson }
  | { kind: 'string'; value: string }
  | { kind: 'hugeString'; size: number; unit: string }
  | { kind: 'garbage'; value: unknown }
  | { kind: 'unknownField'; key: string; value: unknown }
  | { kind: 'deep'; depth: number; open: string }
  | { kind: 'duplicate'; choice: number; value: unknown; after: boolean };
/** `pick` chooses the node the operation applies to, among the body's nodes in document order. */
type Mutation = { pick: number; op: MutationOp };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.oneof(
    fc.constant({ kind: 'drop' as const }),
    fc.constant({ kind: 'null' as const }),
    fc.record({ kind: fc.constant('wrongType' as const), choice: fc.nat() }),
    fc.record({ kind: fc.constant('number' as const), value: fc.constantFrom(...HOSTILE_NUMBERS) }),
    fc.record({ kind: fc.constant('string' as const), value: fc.constantFrom(...HOSTILE_STRINGS) }),
    fc.record({
      kind: fc.constant('hugeString' as const),
      size: fc.constantFrom(256, 1025, 2049, 10_000, 70_000),
      unit: fc.constantFrom('x', 'é', '😀', '"', '\\'),
    }),
    fc.record({ kind: fc.constant('garbage' as const), value: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({
      kind: fc.constant('unknownField' as const),
      key: fc.constantFrom(...UNKNOWN_KEYS),
      value: fc.constantFrom(...UNKNOWN_VALUES),
    }),
    fc.record({
      kind: fc.constant('deep' as const),
      depth: fc.constantFrom(50, 1000, 10_000, 30_000),
      open: fc.constantFrom('[', '{"a":'),
    }),
    fc.record({
      kind: fc.constant('duplicate' as const),
      choice: fc.nat(),
      value: fc.constantFrom<unknown>(null, 'x', 0, true, [], {}, 2),
      after: fc.boolean(),
    }),
  ),
});

/** Mutation lists: a share of bodies stays valid, so accepted writes are exercised too. */
const mutationsArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Mutation[]>([]) },
  { weight: 2, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) },
);

type Path = (string | number)[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof RawJson);

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  // defineProperty keeps a `__proto__` member a member.
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, {
      value: clone(v),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const dup = (value as { [DUPLICATES]?: Duplicates })[DUPLICATES];
  if (dup) (out as { [DUPLICATES]?: Duplicates })[DUPLICATES] = dup;
  return out;
}

function nodesOf(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) nodesOf(v, [...at, i], out);
  } else if (isObject(value))
    for (const [k, v] of Object.entries(value)) nodesOf(v, [...at, k], out);
  return out;
}

function nodeAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

function setMember(target: Record<string, unknown> | unknown[], key: string | number, v: unknown) {
  if (Array.isArray(target)) target[key as number] = v;
  else {
    Object.defineProperty(target, key, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

/** Applies one mutation; returns the new root. */
function mutate(root: unknown, m: Mutation): unknown {
  const nodes = nodesOf(root);
  const path = nodes[m.pick % nodes.length] ?? [];
  const replace = (v: unknown): unknown => {
    if (path.length === 0) return v;
    setMember(nodeAt(root, path.slice(0, -1)) as Record<string, unknown>, path.at(-1) ?? '', v);
    return root;
  };
  const current = nodeAt(root, path);
  // The nearest object at or above the node, for operations that add members.
  const objectPath = [...Array(path.length + 1).keys()]
    .map((n) => path.slice(0, path.length - n))
    .find((p) => isObject(nodeAt(root, p)));
  const op = m.op;
  switch (op.kind) {
    case 'drop': {
      if (path.length === 0) return {};
      const parent = nodeAt(root, path.slice(0, -1));
      const key = path.at(-1);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, unknown>)[key as string];
      return root;
    }
    case 'null':
      return replace(null);
    case 'wrongType': {
      const kind = (v: unknown) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
      const others = ['a string', 42, true, null, [], {}, ['x', 1], { a: 1 }].filter(
        (v) => kind(v) !== kind(current),
      );
      return replace(others[op.choice % others.length]);
    }
    case 'number':
      return replace(op.value);
    case 'string':
      return replace(op.value);
    case 'hugeString':
      return replace(op.unit.repeat(Math.ceil(op.size / Buffer.byteLength(op.unit))));
    case 'garbage':
      return replace(op.value);
    case 'deep': {
      const close = op.open === '[' ? ']' : '}';
      return replace(new RawJson(`${op.open.repeat(op.depth)}1${close.repeat(op.depth)}`));
    }
    case 'unknownField': {
      if (objectPath === undefined) return root;
      setMember(nodeAt(root, objectPath) as Record<string, unknown>, op.key, op.value);
      return root;
    }
    case 'duplicate': {
      if (objectPath === undefined) return root;
      const target = nodeAt(root, objectPath) as Record<string, unknown> & {
        [DUPLICATES]?: Duplicates;
      };
      const keys = Object.keys(target);
      const key = keys.length === 0 ? 'serviceName' : (keys[op.choice % keys.length] as string);
      target[DUPLICATES] ??= { before: [], after: [] };
      target[DUPLICATES][op.after ? 'after' : 'before'].push([key, op.value]);
      return root;
    }
  }
}

/**
 * Keeps a mutated desiredCount that is valid small: the fuzz is about the API's answers, and a
 * service of thousands of tasks would only make the run slow.
 */
function bounded(value: unknown): unknown {
  if (isObject(value)) {
    const n = value.desiredCount;
    if (typeof n === 'number' && Number.isInteger(n) && n > 3 && n <= 10_000) {
      value.desiredCount = 3;
    }
  }
  return value;
}

function hasSpecialNodes(value: unknown): boolean {
  if (value instanceof RawJson) return true;
  if (Array.isArray(value)) return value.some(hasSpecialNodes);
  if (!isObject(value)) return false;
  if ((value as { [DUPLICATES]?: Duplicates })[DUPLICATES]) return true;
  return Object.values(value).some(hasSpecialNodes);
}

/** JSON text with raw fragments and duplicated members. */
function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (isObject(value)) {
    const dup = (value as { [DUPLICATES]?: Duplicates })[DUPLICATES];
    const entries = [...(dup?.before ?? []), ...Object.entries(value), ...(dup?.after ?? [])];
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** YAML for plain values; JSON (a subset of YAML 1.2) for what YAML's emitter cannot write. */
function toYamlText(value: unknown, flow: boolean): string {
  if (hasSpecialNodes(value)) return toJsonText(value);
  return toYaml(value, flow ? { collectionStyle: 'flow' } : {});
}

function mutated(base: Json, mutations: readonly Mutation[]): unknown {
  let value = clone(base);
  for (const m of mutations) value = mutate(value, m);
  return bounded(value);
}

function describeMutations(mutations: readonly Mutation[]): string {
  if (mutations.length === 0) return 'valid';
  return mutations
    .map(({ pick, op }) => {
      const { kind, ...rest } = op;
      const detail = JSON.stringify(rest, (_k, v: unknown) =>
        v instanceof RawJson
          ? `raw:${v.text.slice(0, 20)}`
          : typeof v === 'string' && v.length > 20
            ? `${v.slice(0, 12)}…(${v.length})`
            : v,
      );
      return `${kind}@${pick}${detail === '{}' ? '' : detail}`;
    })
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Raw junk bodies

const utf8 = (s: string) => Buffer.from(s, 'utf8');

const JUNK_TEXT = [
  '',
  ' ',
  '\n\t \r\n',
  '{',
  '}',
  '[',
  '{"a":',
  '{"serviceName":}',
  'nul',
  'NaN',
  'undefined',
  'Infinity',
  '1e999999',
  '"\\ud800"',
  '{"a":1}garbage',
  '{"a":1}{"b":2}',
  '\u0000',
  '\ufeff{}',
  '\ufeff',
  'null',
  '[]',
  '"string"',
  '123',
  'true',
  '{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"serviceName":"fz-dup","serviceName":"fz-dup2","taskDefinition":"fz-web:1","desiredCount":0}',
  "{'single':'quotes'}",
  '{"a":1,}',
  '[1,]',
  '/* comment */ {}',
  '{"a":"\\x41"}',
  '{"a":"\t"}',
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":0x10}',
  '{"a":"\\u00"}',
  'serviceName=fz-form&desiredCount=0',
  '<?xml version="1.0"?><service/>',
];

/** Byte sequences that are not UTF-8: a lone continuation, an overlong, a surrogate, truncated. */
const INVALID_UTF8: number[][] = [
  [0xff, 0xfe],
  [0xc0, 0xaf],
  [0x80],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** Raw bodies around `valid`, a valid body's JSON text. */
function junkArb(valid: string): fc.Arbitrary<{ body: Buffer; about: string }> {
  return fc.oneof(
    fc.constantFrom(...JUNK_TEXT).map((s) => ({ body: utf8(s), about: 'junk text' })),
    fc.uint8Array({ maxLength: 128 }).map((b) => ({ body: Buffer.from(b), about: 'random bytes' })),
    fc.constantFrom(...INVALID_UTF8).map((seq) => ({
      body: Buffer.concat([utf8(valid.slice(0, -1)), utf8(',"x":"'), Buffer.from(seq), utf8('"}')]),
      about: `invalid UTF-8 ${Buffer.from(seq).toString('hex')} in a string`,
    })),
    fc.constantFrom(...INVALID_UTF8).map((seq) => ({
      body: Buffer.concat([Buffer.from(seq), utf8(valid)]),
      about: `invalid UTF-8 ${Buffer.from(seq).toString('hex')} before the JSON`,
    })),
    fc.string({ maxLength: 64 }).map((s) => ({ body: utf8(s), about: 'random text' })),
    fc.json({ maxDepth: 3 }).map((s) => ({ body: utf8(s), about: 'random JSON' })),
    fc.nat({ max: valid.length }).map((n) => ({
      body: utf8(valid.slice(0, n)),
      about: `valid JSON cut at ${n}`,
    })),
    // Around the 64 KiB limit: whitespace before a valid body.
    fc.constantFrom(65_535, 65_536, 65_537, 200_000, 2_000_000).map((size) => ({
      body: utf8(' '.repeat(Math.max(0, size - valid.length)) + valid),
      about: `valid JSON padded to ${size} bytes`,
    })),
    fc.constant({
      body: Buffer.from(`\ufeff${valid}`, 'utf16le'),
      about: 'UTF-16LE with a BOM',
    }),
    fc.constant({ body: utf8(`\ufeff${valid}`), about: 'UTF-8 with a BOM' }),
  );
}

/** Nine levels of aliases of nine: a billion laughs if nothing stops it. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'
    .split('')
    .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  'family: fz-bomb',
].join('\n');

const YAML_JUNK = [
  ALIAS_BOMB,
  'family: !!js/function "function(){}"\ncontainerDefinitions: []\n',
  'family: fz-yaml\ncontainerDefinitions: !!binary aGVsbG8=\n',
  'base: &b {name: app, image: nginx}\nfamily: fz-merge\ncontainerDefinitions:\n  - <<: *b\n    memory: 64\n',
  'family: fz-merge2\ncontainerDefinitions:\n  - <<: {name: app, image: nginx, memory: 64}\n',
  '---\nfamily: fz-a\n---\nfamily: fz-b\n',
  '%YAML 1.1\n---\nfamily: fz-yaml\n',
  '? [a, b]\n: c\n',
  'family: fz-yaml\nfamily: fz-yaml2\n',
  '\tfamily: fz-yaml\n',
  '- a\n- b\n',
  '"just a string"\n',
  '~\n',
  '&a [*a]\n',
  'a: *undefined\n',
  'family: !custom x\n',
  'family: !!set {a, b}\n',
  'family: !!timestamp 2001-12-14\n',
  'family: 0x1F\ncontainerDefinitions: [{name: app, image: nginx, memory: 0o20}]\n',
  'family: .inf\n',
  'family: yes\n',
  `family: fz-deep\ncontainerDefinitions: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
  `family: fz-deep\ncontainerDefinitions:\n${Array.from({ length: 150 }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n')}x\n`,
  `${'{'.repeat(3000)}${'}'.repeat(3000)}\n`,
  'family: "\\ud800"\n',
  'family: "\\x00"\n',
  'family: fz-yaml\ncontainerDefinitions:\n  - name: app\n    image: nginx\n    memory: 64\n    environment: [{name: A, value: &v "x"}, {name: B, value: *v}]\n',
  '__proto__: {polluted: true}\nfamily: fz-proto\ncontainerDefinitions: [{name: app, image: nginx, memory: 64}]\n',
];

// ---------------------------------------------------------------------------------------------
// Requests

type FuzzRequest = {
  method: string;
  /** The request-target as sent: path and query, escaped only where HTTP requires it. */
  target: string;
  /** `<token>` stands for the stack's token (unknown when the arbitraries are built). */
  headers: Record<string, string>;
  body: Buffer | undefined;
  about: string;
};

/** What a request is, short enough to read in fast-check's counterexample. */
function describeRequest(r: FuzzRequest): string {
  const target =
    r.target.length > 160 ? `${r.target.slice(0, 120)}…(${r.target.length})` : r.target;
  const body =
    r.body === undefined
      ? 'no body'
      : `${r.about} (${r.body.length} bytes): ${JSON.stringify(
          r.body.subarray(0, 160).toString('utf8'),
        )}${r.body.length > 160 ? '…' : ''}`;
  return `${r.method} ${target} ${JSON.stringify(r.headers)} ${body}`;
}

function withDescription(r: FuzzRequest): FuzzRequest {
  return Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) });
}

/** Node refuses characters outside 0x21-0xFF in a request-target: percent-encode those. */
function escapeTarget(s: string): string {
  return s.replace(/[^\x21-\xff]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD';
    }
  });
}

function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}

const percentEncodeAll = (s: string) =>
  [...utf8(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

const PERCENT_GARBAGE = [
  '%',
  '%2',
  '%ZZ',
  'a%',
  '%E0%A4',
  '%C0%AF',
  '%FF',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%00',
  '%2F',
  'fz-idle%2Ftasks',
  '%2e%2e',
  '%2E',
  '.',
  '..',
  '%20fz-idle',
  'fz-idle%20',
  'fz-idle%0A',
  'fz-idle%00',
  '%25',
  '%2525',
  '+',
  'fz-idle;x=1',
  'fz-idle%3Fq=1',
  'fz-idle%23',
  '*',
  '~',
  'é',
  'fz-idleÿ',
];

/** A path parameter: existing, missing, malformed, encoded, long or unicode. */
function paramArb(existing: readonly string[], missing: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...existing) },
    { weight: 2, arbitrary: fc.constantFrom(...missing) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,30}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(120, 121, 255, 256, 1000, 7000).map((n) => 'n'.repeat(n)),
    },
    { weight: 2, arbitrary: fc.constantFrom(...PERCENT_GARBAGE) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map(encode),
    },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 12 }).map(encode),
    },
    // Percent-encoded letters decode to a name that exists.
    { weight: 1, arbitrary: fc.constantFrom(...existing).map(percentEncodeAll) },
  );
}

const serviceNameParam = paramArb(FIXTURE_NAMES, ['fz-missing', 'fz-new-a', 'fz-IDLE', 'a', '_']);
const familyParam = paramArb(FAMILIES, ['fz-none', 'fz-td-a', 'fz', 'fz-web-x']);

/** Paths no route has. */
const UNKNOWN_PATHS = [
  '/',
  '*',
  '//',
  '///services',
  '/services/',
  '/Services',
  '/SERVICES',
  '/services/fz-idle/',
  '/services/fz-idle/tasks/extra',
  '/services/fz-idle/unknown',
  '/services//tasks',
  '/task-definitions/',
  '/task-definitions/fz-web/1',
  '/health/',
  '/health/x',
  '/openapi.json.bak',
  '/openapi.yaml',
  '/_steward/clock',
  '/%',
  '/%2e%2e/services',
  '/services/%2e%2e',
  '/services/..',
  '/services/./fz-idle',
  '/services/fz-idle/..',
  '/\\',
  '/services\\fz-idle',
  'http://example.invalid/services',
  'services',
  `/${'x'.repeat(8000)}`,
];

const pathForRoute = (template: string, params: { serviceName: string; family: string }) =>
  template.replace(/\{([A-Za-z0-9_]+)\+?\}/g, (_m, name: string) =>
    name === 'family' ? params.family : name === 'serviceName' ? params.serviceName : 'x',
  );

const MAX_RESULTS = [
  '',
  '0',
  '1',
  '2',
  '100',
  '101',
  '-1',
  '1.5',
  '1e2',
  '0x10',
  ' 5',
  '5 ',
  'NaN',
  'Infinity',
  '9'.repeat(400),
  '٣',
  'abc',
  '10abc',
  '+5',
  '05',
  '1,2',
  '[1]',
];

const KEY_STRINGS = [
  '',
  'SPEC',
  'TASK#',
  'TASK#zzz',
  'default#fz-idle',
  'fz-cluster#fz-other',
  'zzzz',
  '\u0000',
  'k'.repeat(1100),
  'k'.repeat(3000),
  '2020-01-01T00:00:00.000Z#1',
  '\ud800',
];

/**
 * Tokens shaped like the ones the API issues, but forged: a DynamoDB start key of the right shape
 * and partition (that of the service `name` in the path) with hostile sort keys, or an ECS cursor.
 */
function forgedTokenArb(name: string): fc.Arbitrary<unknown> {
  const sortKey = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom<unknown>(...KEY_STRINGS) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(1, null, {}) },
  );
  return fc.oneof(
    fc.record({
      PK: fc.constantFrom(
        `SERVICE#${name}`,
        `EVENTS#${name}`,
        'SERVICE#fz-missing',
        'CLUSTERS',
        '',
      ),
      SK: sortKey,
    }),
    fc.record({
      PK: fc.constantFrom(`SERVICE#${name}`, ''),
      SK: sortKey,
      GSI1PK: fc.constantFrom('SERVICES', 'x', ''),
      GSI1SK: sortKey,
    }),
    fc.record({ v: fc.constantFrom<unknown>(1, 2, '1'), after: fc.oneof(fc.string(), fc.nat()) }),
  );
}

function nextTokenArb(name: string): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(forgedTokenArb(name), fc.constantFrom<BufferEncoding>('base64url', 'base64'))
        .map(([key, encoding]) => utf8(JSON.stringify(key)).toString(encoding)),
    },
    { weight: 1, arbitrary: fc.base64String({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 2 }).map((s) => utf8(s).toString('base64url')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'null',
        'e30',
        'W10',
        'bnVsbA',
        'garbage',
        '%%%',
        '=',
        'x'.repeat(3000),
      ),
    },
  );
}

const clusterArb = fc.constantFrom(
  'default',
  'fz-cluster',
  'nope',
  '',
  'arn:aws:ecs:us-east-1:000000000000:cluster/default',
  'arn:aws:ecs:us-east-1:000000000000:cluster/fz-cluster',
  'default#',
  '#',
  'fz-cluster#fz-other',
  'x'.repeat(300),
  'défault',
  '\u0000',
);

const queryPairArb = (name: string): fc.Arbitrary<[string, string]> =>
  fc.oneof(
    fc.tuple(
      fc.constant('maxResults'),
      fc.oneof(fc.constantFrom(...MAX_RESULTS), fc.integer().map(String)),
    ),
    fc.tuple(fc.constant('nextToken'), nextTokenArb(name)),
    fc.tuple(fc.constant('cluster'), clusterArb),
    fc.tuple(
      fc.constantFrom(
        'maxresults',
        'NextToken',
        'unknown',
        '',
        'maxResults[]',
        '__proto__',
        'constructor',
      ),
      fc.string({ maxLength: 10 }),
    ),
  );

const QUERY_JUNK = [
  '?',
  '?&&&',
  '?=',
  '?=&=',
  '?maxResults',
  '?maxResults=',
  '?nextToken',
  '?%',
  '?maxResults=%ZZ',
  '?nextToken=%E0%A4',
  `?${'x'.repeat(5000)}`,
  '?maxResults=1&maxResults=2',
  '?cluster=default&cluster=fz-cluster',
  '?nextToken=a+b',
  '?maxResults=1#fragment',
  '?maxResults=1;nextToken=x',
];

/** A query string: known keys with hostile values (encoded or not, repeated), or junk. */
const queryArb = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant('') },
    {
      weight: 5,
      arbitrary: fc
        .uniqueArray(fc.tuple(queryPairArb(name), fc.boolean()), {
          minLength: 1,
          maxLength: 3,
          selector: ([[key]]) => key,
        })
        .map(
          (pairs) =>
            `?${pairs.map(([[k, v], raw]) => (raw ? `${k}=${v}` : `${encode(k)}=${encode(v)}`)).join('&')}`,
        ),
    },
    { weight: 2, arbitrary: fc.constantFrom(...QUERY_JUNK) },
  );

const AUTH_HEADERS = [
  undefined,
  'Basic dXNlcjpwYXNz',
  'Bearer wrong-token',
  'Bearer <token>x',
  'Bearer x<token>',
  'bearer <token>',
  'BEARER   <token>',
  'Bearer',
  'Bearer ',
  '<token>',
  'Token <token>',
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00',
  'Bearer <token>, Bearer <token>',
  'Bearer <token> extra',
];
/** Mostly the right token; a share of requests sends none, another scheme or another token. */
const authArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>('Bearer <token>') },
  { weight: 2, arbitrary: fc.constantFrom(...AUTH_HEADERS) },
);

const JSON_TYPES = [
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
  'application/json ; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json;',
];
const YAML_TYPES = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'application/yaml; charset=utf-8',
  'TEXT/YAML',
];
const OTHER_TYPES = [
  undefined,
  '',
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'application/xml',
  'text/json',
  'json',
  '*/*',
  'application/json, text/plain',
  ';',
  'application/yamlx',
];
const anyContentType = fc.constantFrom(...JSON_TYPES, ...YAML_TYPES, ...OTHER_TYPES);
const jsonContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant<string | undefined>('application/json') },
  { weight: 2, arbitrary: fc.constantFrom<string | undefined>(...JSON_TYPES) },
  { weight: 2, arbitrary: anyContentType },
);
const yamlContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom<string | undefined>(...YAML_TYPES) },
  { weight: 2, arbitrary: anyContentType },
);

const ifMatchArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '*',
      '"1"',
      '"2"',
      '"3"',
      '"4"',
      'W/"1"',
      'W/"2"',
      '"1", "2"',
      '"2","3"',
      '"1", "2", "3", "4", "5"',
      '"0"',
      '"01"',
      '"-1"',
      '1',
      '""',
      '"99999999999999999999"',
      '"9999999999999999"',
      '"1e3"',
      ', ,',
      '*, "1"',
      'garbage',
      '"abc"',
      ' "1" ',
      '"1"garbage',
    ),
  },
);

const extraHeadersArb = fc.array(
  fc.constantFrom<[string, string]>(
    ['x-http-method-override', 'DELETE'],
    ['content-encoding', 'gzip'],
    ['accept', 'application/yaml'],
    ['accept-charset', 'latin1'],
    ['x-forwarded-for', '203.0.113.7'],
    ['cookie', 'session=x'],
    ['if-none-match', '*'],
    ['prefer', 'return=minimal'],
    ['origin', 'http://example.invalid'],
    ['x-amz-target', 'DynamoDB_20120810.DeleteTable'],
    ['x-amz-date', '20260101T000000Z'],
  ),
  { maxLength: 2 },
);

const OTHER_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'PURGE',
  'SEARCH',
  'LINK',
  'M-SEARCH',
  'FOO',
];

type BodyPart = { body: Buffer | undefined; about: string; contentType: string | undefined };

const noBody: fc.Arbitrary<BodyPart> = fc.record({
  body: fc.constant(undefined),
  about: fc.constant('none'),
  contentType: fc.oneof(
    { weight: 3, arbitrary: fc.constant<string | undefined>('application/json') },
    { weight: 1, arbitrary: anyContentType },
  ),
});

const createNameArb = fc.constantFrom(
  'fz-new-a',
  'fz-new-b',
  'fz-new-c',
  'fz-new-d',
  'fz-new-e',
  'fz-new-f',
  ...FIXTURE_NAMES,
  'c'.repeat(120),
  'c'.repeat(121),
);

/** A service body for `kind`: a mutated valid body (JSON), junk around one, or none. */
function serviceBodyArb(kind: 'create' | 'replace' | 'patch'): fc.Arbitrary<BodyPart> {
  const bases =
    kind === 'create'
      ? CREATE_BASES.length
      : kind === 'replace'
        ? REPLACE_BASES.length
        : PATCH_BASES.length;
  const baseOf = (i: number, name: string): Json =>
    kind === 'create'
      ? (CREATE_BASES[i] as (n: string) => Json)(name)
      : ((kind === 'replace' ? REPLACE_BASES[i] : PATCH_BASES[i]) as Json);
  const mutatedBody = fc
    .record({
      base: fc.nat({ max: bases - 1 }),
      name: createNameArb,
      mutations: mutationsArb,
      contentType: jsonContentType,
    })
    .map(({ base, name, mutations, contentType }) => ({
      body: utf8(toJsonText(mutated(baseOf(base, name), mutations))),
      about: `${kind} #${base} ${describeMutations(mutations)}`,
      contentType,
    }));
  const valid = JSON.stringify(baseOf(0, 'fz-pad'));
  const junk = fc
    .record({ junk: junkArb(valid), contentType: jsonContentType })
    .map(({ junk, contentType }) => ({ ...junk, contentType }));
  return fc.oneof(
    { weight: 6, arbitrary: mutatedBody },
    { weight: 2, arbitrary: junk },
    { weight: 1, arbitrary: noBody },
  );
}

const definitionFamilyArb = fc.constantFrom(
  'fz-web',
  'fz-yaml',
  'fz-td-a',
  'fz-td-b',
  'f'.repeat(255),
  'f'.repeat(256),
);

/** A task definition body: mutated valid JSON or YAML, YAML oddities, junk, or none. */
const definitionBodyArb: fc.Arbitrary<BodyPart> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        base: fc.nat({ max: DEFINITION_BASES.length - 1 }),
        family: definitionFamilyArb,
        mutations: mutationsArb,
        contentType: jsonContentType,
      })
      .map(({ base, family, mutations, contentType }) => ({
        body: utf8(
          toJsonText(mutated((DEFINITION_BASES[base] as (f: string) => Json)(family), mutations)),
        ),
        about: `definition #${base} JSON ${describeMutations(mutations)}`,
        contentType,
      })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        base: fc.nat({ max: DEFINITION_BASES.length - 1 }),
        family: definitionFamilyArb,
        mutations: mutationsArb,
        flow: fc.boolean(),
        contentType: yamlContentType,
      })
      .map(({ base, family, mutations, flow, contentType }) => ({
        body: utf8(
          toYamlText(
            mutated((DEFINITION_BASES[base] as (f: string) => Json)(family), mutations),
            flow,
          ),
        ),
        about: `definition #${base} YAML${flow ? ' (flow)' : ''} ${describeMutations(mutations)}`,
        contentType,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ text: fc.constantFrom(...YAML_JUNK), contentType: yamlContentType })
      .map(({ text, contentType }) => ({ body: utf8(text), about: 'YAML oddity', contentType })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        junk: junkArb(JSON.stringify(fargateDefinition('fz-pad'))),
        contentType: fc.oneof(jsonContentType, yamlContentType),
      })
      .map(({ junk, contentType }) => ({ ...junk, contentType })),
  },
  { weight: 1, arbitrary: noBody },
);

const BODY_OF_ROUTE: Record<string, fc.Arbitrary<BodyPart>> = {
  'POST /services': serviceBodyArb('create'),
  'PUT /services/{serviceName}': serviceBodyArb('replace'),
  'PATCH /services/{serviceName}': serviceBodyArb('patch'),
  'POST /task-definitions': definitionBodyArb,
};

type Parts = {
  method: string;
  path: string;
  query: string;
  auth: string | undefined;
  ifMatch: string | undefined;
  extra: [string, string][];
  body: BodyPart;
};

function toRequest(p: Parts): FuzzRequest {
  const headers: Record<string, string> = {};
  if (p.auth !== undefined) headers.authorization = p.auth;
  if (p.body.contentType !== undefined) headers['content-type'] = p.body.contentType;
  if (p.ifMatch !== undefined) headers['if-match'] = p.ifMatch;
  for (const [k, v] of p.extra) headers[k] = v;
  return withDescription({
    method: p.method,
    target: escapeTarget(`${p.path}${p.query}`),
    headers,
    body: p.body.body,
    about: p.body.about,
  });
}

const routeArb = fc.constantFrom(...ROUTES);
const routeKeyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

/** Methods, paths and headers: every route (and unknown paths), with its body kind or none. */
const routingArb: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: routeArb,
    unknownPath: fc.option(fc.constantFrom(...UNKNOWN_PATHS), { freq: 5, nil: undefined }),
    otherMethod: fc.option(fc.constantFrom(...OTHER_METHODS), { freq: 3, nil: undefined }),
    serviceName: serviceNameParam,
    family: familyParam,
    query: fc.option(queryArb('fz-fargate'), { freq: 4, nil: undefined }),
    auth: authArb,
    ifMatch: ifMatchArb,
    extra: extraHeadersArb,
    withBody: fc.boolean(),
  })
  .chain((g) =>
    ((g.withBody ? BODY_OF_ROUTE[routeKeyOf(g.route)] : undefined) ?? noBody).map((body) =>
      toRequest({
        method: g.otherMethod ?? g.route.method,
        path: g.unknownPath ?? pathForRoute(g.route.path, g),
        query: g.query ?? '',
        auth: g.auth,
        ifMatch: g.ifMatch,
        extra: g.extra,
        body,
      }),
    ),
  );

/** Query strings on the routes that read them (and the others). */
/** The routes whose handler reads the query string (functions/api/handler.ts). */
const QUERY_ROUTES = [
  'GET /services',
  'GET /services/{serviceName}/tasks',
  'GET /services/{serviceName}/events',
  'GET /task-definitions/{family}',
];

const queryStringArb: fc.Arbitrary<FuzzRequest> = fc
  .record({
    route: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(...ROUTES.filter((r) => QUERY_ROUTES.includes(routeKeyOf(r)))),
      },
      { weight: 1, arbitrary: routeArb },
    ),
    serviceName: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...FIXTURE_NAMES) },
      { weight: 1, arbitrary: serviceNameParam },
    ),
    family: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...FAMILIES) },
      { weight: 1, arbitrary: familyParam },
    ),
    auth: authArb,
  })
  // Forged page tokens name the partition of the service in the path.
  .chain((g) =>
    queryArb(g.serviceName)
      .filter((q) => q !== '')
      .map((query) =>
        toRequest({
          method: g.route.method,
          path: pathForRoute(g.route.path, g),
          query,
          auth: g.auth,
          ifMatch: undefined,
          extra: [],
          body: { body: undefined, about: 'none', contentType: undefined },
        }),
      ),
  );

/** Bodies of the routes that take one, with content types and If-Match. */
function bodyRequestArb(routeKeys: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const routes = ROUTES.filter((r) => routeKeys.includes(routeKeyOf(r)));
  // Mostly the routes that take a body; the others (DELETE, redeploy) for If-Match and a body
  // they should ignore.
  const route = fc.oneof(
    ...routes.map((r) => ({
      weight: BODY_OF_ROUTE[routeKeyOf(r)] ? 3 : 1,
      arbitrary: fc.constant(r),
    })),
  );
  return fc
    .record({
      route,
      serviceName: fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...FIXTURE_NAMES) },
        { weight: 1, arbitrary: serviceNameParam },
      ),
      family: familyParam,
      auth: fc.oneof(
        { weight: 20, arbitrary: fc.constant<string | undefined>('Bearer <token>') },
        { weight: 1, arbitrary: authArb },
      ),
      ifMatch: ifMatchArb,
      extra: fc.option(extraHeadersArb, { freq: 5, nil: undefined }),
    })
    .chain((g) =>
      (BODY_OF_ROUTE[routeKeyOf(g.route)] ?? noBody).map((body) =>
        toRequest({
          method: g.route.method,
          path: pathForRoute(g.route.path, g),
          query: '',
          auth: g.auth,
          ifMatch: g.ifMatch,
          extra: g.extra ?? [],
          body,
        }),
      ),
    );
}

// ---------------------------------------------------------------------------------------------
// Stored state

type Snapshot = {
  /** `table|PK|SK` → the item, as stable JSON. */
  items: Map<string, Record<string, string>>;
  taskDefinitions: string[];
  /** `taskArn lastStatus/desiredStatus`. */
  tasks: string[];
  putEvents: number;
};

/** JSON with object keys sorted, so equal values give equal text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

async function snapshot(): Promise<Snapshot> {
  const items = new Map<string, Record<string, string>>();
  const tables = (await dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  for (const TableName of tables) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await dynamodb.send(
        new ScanCommand({ TableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) {
        const key = `${TableName}|${item.PK?.S ?? stableJson(item.PK)}|${item.SK?.S ?? stableJson(item.SK)}`;
        items.set(
          key,
          Object.fromEntries(Object.entries(item).map(([k, v]) => [k, stableJson(v)])),
        );
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  const taskDefinitions: string[] = [];
  for (const status of ['ACTIVE', 'INACTIVE'] as const) {
    let nextToken: string | undefined;
    do {
      const out = await ecs.send(
        new ListTaskDefinitionsCommand({ status, maxResults: 100, nextToken }),
      );
      taskDefinitions.push(...(out.taskDefinitionArns ?? []).map((arn) => `${arn} ${status}`));
      nextToken = out.nextToken;
    } while (nextToken);
  }
  const tasks: string[] = [];
  const clusters = (await ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
  for (const cluster of clusters) {
    const arns: string[] = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      let nextToken: string | undefined;
      do {
        const out = await ecs.send(new ListTasksCommand({ cluster, desiredStatus, nextToken }));
        arns.push(...(out.taskArns ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
    }
    for (let i = 0; i < arns.length; i += 100) {
      const out = await ecs.send(
        new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }),
      );
      for (const t of out.tasks ?? [])
        tasks.push(`${t.taskArn} ${t.lastStatus}/${t.desiredStatus}`);
    }
  }
  return {
    items,
    taskDefinitions: taskDefinitions.sort(),
    tasks: tasks.sort(),
    putEvents: stack.requestCounts()['AWSEvents.PutEvents'] ?? 0,
  };
}

/** What changed from `a` to `b`, one line per item, task definition or task. */
function diff(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const [key, item] of b.items) {
    const was = a.items.get(key);
    if (!was) out.push(`item added: ${key}`);
    else {
      const names = [...new Set([...Object.keys(was), ...Object.keys(item)])].filter(
        (n) => was[n] !== item[n],
      );
      if (names.length > 0) out.push(`item changed: ${key} (${names.sort().join(', ')})`);
    }
  }
  for (const key of a.items.keys()) if (!b.items.has(key)) out.push(`item removed: ${key}`);
  const lists = (what: string, x: string[], y: string[]) => {
    const xs = new Set(x);
    const ys = new Set(y);
    for (const v of y) if (!xs.has(v)) out.push(`${what} now: ${v}`);
    for (const v of x) if (!ys.has(v)) out.push(`${what} gone: ${v}`);
  };
  lists('task definition', a.taskDefinitions, b.taskDefinitions);
  lists('task', a.tasks, b.tasks);
  if (a.putEvents !== b.putEvents) out.push(`PutEvents calls: ${b.putEvents - a.putEvents}`);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the controller is done with the last write: no invocation in flight, every task at
 * its desired status, and two snapshots a few task steps apart equal.
 */
async function quiesce(): Promise<Snapshot> {
  const deadline = Date.now() + 20_000;
  await stack.drain();
  let last = await snapshot();
  for (;;) {
    await sleep(40);
    await stack.drain();
    const next = await snapshot();
    const atRest = next.tasks.every((t) => {
      const [last, desired] = (t.split(' ')[1] ?? '').split('/');
      return last === desired;
    });
    const changes = diff(last, next);
    if (atRest && changes.length === 0) return next;
    if (Date.now() > deadline) {
      throw new Error(`The stack did not settle within 20 s: ${changes.join('; ')}`);
    }
    last = next;
  }
}

/** Creates again a fixture service an accepted DELETE removed; true if it did. */
async function restoreFixtures(): Promise<boolean> {
  let restored = false;
  for (const [name, body] of Object.entries(FIXTURE_SERVICES)) {
    if ((await api('GET', `/services/${name}`)).status !== 404) continue;
    const created = await api('POST', '/services', { body });
    if (created.status !== 201) {
      throw new Error(`Could not create fixture ${name} again: ${created.status} ${created.text}`);
    }
    restored = true;
  }
  return restored;
}

// ---------------------------------------------------------------------------------------------
// The properties

type Answer = { status: number; headers: IncomingHttpHeaders; text: string };

function send(r: FuzzRequest): Promise<Answer> {
  const { hostname, port } = new URL(stack.apiUrl);
  const headers = Object.fromEntries(
    Object.entries(r.headers).map(([k, v]) => [k, v.replaceAll('<token>', stack.token)]),
  );
  // Node frames a GET, DELETE or OPTIONS body with neither Content-Length nor chunks, so the
  // server would read it as a second request: say how long it is.
  if (r.body !== undefined) headers['content-length'] = String(r.body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, method: r.method, path: r.target, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

const COMPILED = ROUTES.map((r) => ({
  ...r,
  regex: new RegExp(
    `^${r.path
      .split('/')
      .map((part) =>
        /^\{[A-Za-z0-9_]+\}$/.test(part) ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'),
      )
      .join('/')}$`,
  ),
}));

/** The route the gateway picks for the request (it reads the path as WHATWG URL does). */
function routing(
  r: FuzzRequest,
):
  | { kind: 'route'; method: string; path: string }
  | { kind: 'no-path' | 'no-method' | 'unparsable' } {
  let pathname: string;
  try {
    pathname = new URL(r.target, 'http://local').pathname;
  } catch {
    return { kind: 'unparsable' };
  }
  const matching = COMPILED.filter((c) => c.regex.test(pathname));
  if (matching.length === 0) return { kind: 'no-path' };
  const route = matching.find((c) => c.method === r.method);
  return route ? { kind: 'route', method: route.method, path: route.path } : { kind: 'no-method' };
}

const preview = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…` : s);

/** Problems with the answer itself: status, error shape, documented status. */
function answerProblems(r: FuzzRequest, answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}`);
  // Node's HTTP parser answers what it cannot parse (an unknown method) with a bare 400 itself.
  if (answer.headers['apigw-requestid'] === undefined) {
    if (answer.status !== 400) problems.push(`answered ${answer.status} by Node's HTTP server`);
    return problems;
  }
  if (answer.status >= 400 && r.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    const shaped =
      isObject(body) &&
      typeof body.message === 'string' &&
      Array.isArray(body.errors) &&
      body.errors.every(
        (e: unknown) => isObject(e) && typeof e.path === 'string' && typeof e.message === 'string',
      );
    if (!shaped) problems.push(`error body is not { message, errors: [{ path, message }] }`);
    if (!String(answer.headers['content-type']).startsWith('application/json')) {
      problems.push(`error content-type is ${answer.headers['content-type']}`);
    }
  }
  const where = routing(r);
  const allowed =
    where.kind === 'route'
      ? documented.get(`${where.method} ${where.path}`)
      : where.kind === 'no-path'
        ? new Set([404])
        : where.kind === 'no-method'
          ? new Set([401, 405])
          : undefined;
  if (allowed && !allowed.has(answer.status)) {
    problems.push(
      `status ${answer.status} is not documented for ${where.kind === 'route' ? `${where.method} ${where.path}` : where.kind} (documented: ${[...allowed].join(', ')})`,
    );
  }
  return problems;
}

function specOf(s: Snapshot, name: string): Record<string, string> | undefined {
  return s.items.get(`${config.table.TableName}|SERVICE#${name}|SPEC`);
}
const generationOf = (item: Record<string, string> | undefined): number | undefined =>
  item?.generation === undefined ? undefined : Number(JSON.parse(item.generation).N);

/** An accepted write changed state as its status says (checked on the settled state). */
async function writeProblems(o: {
  routeKey: string;
  answer: Answer;
  before: Snapshot;
  after: Snapshot;
}): Promise<string[]> {
  const { routeKey, answer, before, after } = o;
  const body = JSON.parse(answer.text) as Record<string, unknown>;
  const problems: string[] = [];
  const location = answer.headers.location;
  if (routeKey === 'POST /services') {
    const name = String(body.serviceName);
    if (answer.status !== 201) problems.push(`POST /services answered ${answer.status}, not 201`);
    if (specOf(before, name)) problems.push(`${name} existed before its 201`);
    if (generationOf(specOf(after, name)) !== 1)
      problems.push(`${name} is not stored at generation 1`);
    if (location !== `/services/${name}`) problems.push(`Location is ${location}`);
    else if ((await api('GET', location)).status !== 200)
      problems.push(`GET ${location} is not 200`);
  } else if (routeKey === 'POST /task-definitions') {
    const arn = `${String(body.taskDefinitionArn)} ACTIVE`;
    if (before.taskDefinitions.includes(arn)) problems.push(`${arn} existed before its 201`);
    if (!after.taskDefinitions.includes(arn)) problems.push(`${arn} is not registered`);
    const listed = location === undefined ? undefined : await api('GET', location);
    const revisions = (listed?.body.revisions ?? []) as { revision: number }[];
    if (!revisions.some((r) => r.revision === body.revision)) {
      problems.push(`GET ${location} does not list revision ${String(body.revision)}`);
    }
  } else if (routeKey === 'DELETE /services/{serviceName}') {
    const name = String(body.serviceName);
    if (body.status !== 'DRAINING')
      problems.push(`a 202 DELETE answered status ${String(body.status)}`);
    if (!specOf(before, name)) problems.push(`${name} did not exist before its 202 DELETE`);
    const spec = specOf(after, name);
    if (spec && spec.deleting !== stableJson({ BOOL: true }))
      problems.push(`${name} is not deleting`);
  } else if (
    routeKey === 'PUT /services/{serviceName}' ||
    routeKey === 'PATCH /services/{serviceName}' ||
    routeKey === 'POST /services/{serviceName}/redeploy'
  ) {
    const name = String(body.serviceName);
    const was = generationOf(specOf(before, name));
    const now = generationOf(specOf(after, name));
    if (was === undefined || body.generation !== was + 1 || now !== was + 1) {
      problems.push(
        `${routeKey} answered ${answer.status} with generation ${String(body.generation)}; stored ${was} before, ${now} after`,
      );
    }
    if (answer.headers.etag !== `"${String(body.generation)}"`) {
      problems.push(`ETag ${answer.headers.etag} is not the generation ${String(body.generation)}`);
    }
  }
  return problems;
}

/** The last settled state, when nothing has happened since. */
let settled: Snapshot | undefined;

/** Sends one request and checks every property; the problems found, one line each. */
async function check(r: FuzzRequest): Promise<{ problems: string[]; answer?: Answer }> {
  const before = settled ?? (await snapshot());
  settled = undefined;
  let answer: Answer;
  try {
    answer = await send(r);
  } catch (error) {
    return { problems: [`no answer: ${(error as Error).message}`] };
  }
  const problems = answerProblems(r, answer);
  const where = routing(r);
  const routeKey = where.kind === 'route' ? `${where.method} ${where.path}` : undefined;
  const acceptedWrite =
    routeKey !== undefined &&
    WRITE_METHODS.has(r.method) &&
    answer.status >= 200 &&
    answer.status < 300 &&
    answer.headers['apigw-requestid'] !== undefined;
  let after: Snapshot;
  if (acceptedWrite) {
    after = await quiesce();
    problems.push(...(await writeProblems({ routeKey, answer, before, after })));
    if (await restoreFixtures()) after = await quiesce();
  } else {
    after = await snapshot();
    const changes = diff(before, after);
    if (changes.length > 0) {
      problems.push(`answered ${answer.status}, yet stored state changed: ${changes.join('; ')}`);
    }
  }
  if (problems.length === 0) settled = after;
  return { problems, answer };
}

const explain = (r: FuzzRequest, problems: string[], answer: Answer | undefined) =>
  `${describeRequest(r)}\n  ${problems.join('\n  ')}${answer ? `\n  answer: ${answer.status} ${preview(answer.text)}` : ''}`;

/**
 * Runs the property. With STEWARD_FUZZ_COLLECT=1 every case runs and each distinct kind of
 * failure is listed at the end (with its first example), instead of stopping at the first one and
 * shrinking it; STEWARD_FUZZ_RUNS multiplies the number of cases.
 */
async function fuzz(arbitrary: fc.Arbitrary<FuzzRequest>, runs: number): Promise<void> {
  const numRuns = Math.round(runs * RUNS_FACTOR);
  const options = { numRuns, ...(SEED === undefined ? {} : { seed: SEED }) };
  if (process.env.STEWARD_FUZZ_COLLECT !== '1') {
    await fc.assert(
      fc.asyncProperty(arbitrary, async (r) => {
        const { problems, answer } = await check(r);
        if (problems.length > 0) throw new Error(explain(r, problems, answer));
      }),
      options,
    );
    return;
  }
  const found = new Map<string, { example: string; count: number }>();
  await fc.assert(
    fc.asyncProperty(arbitrary, async (r) => {
      const { problems, answer } = await check(r);
      for (const p of problems) {
        const where = routing(r);
        const message = answer?.text.slice(0, 40) ?? '';
        const kind = `${answer?.status ?? '-'} ${where.kind === 'route' ? `${where.method} ${where.path}` : where.kind} ${r.about.split(' ')[0]} ${message} :: ${p.replace(/\d+/g, 'N').slice(0, 160)}`;
        const seen = found.get(kind);
        if (seen) seen.count++;
        else found.set(kind, { example: explain(r, problems, answer), count: 1 });
      }
    }),
    options,
  );
  const report = [...found].map(([kind, f]) => `[${f.count}x] ${kind}\n  ${f.example}`);
  expect(report).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  // The handlers' logger and metrics read these when first loaded: keep the run's output short.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { startStack } = await import('../../local/stack');
  stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'steward-fuzz-')),
    apiPort: 0,
    awsPort: 0,
    region: REGION,
    taskStepDelayMs: 10,
    tickIntervalMs: 0,
    // A reconcile that fails is retried after this; quiesce waits for retries.
    retryBaseMs: 10,
  });
  api = apiClient(stack);
  const credentials = { accessKeyId: 'fuzz', secretAccessKey: 'fuzz' };
  dynamodb = new DynamoDBClient({ endpoint: stack.awsUrl, region: REGION, credentials });
  ecs = new ECSClient({ endpoint: stack.awsUrl, region: REGION, credentials });
  const tables = (await dynamodb.send(new ListTablesCommand({}))).TableNames;
  expect(tables).toContain('steward-local');

  const openapi = await api('GET', '/openapi.json');
  documented = new Map();
  for (const [path, item] of Object.entries(openapi.body.paths as Record<string, object>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op) || !isObject(op.responses)) continue;
      documented.set(
        `${method.toUpperCase()} ${path}`,
        new Set(Object.keys(op.responses).map(Number)),
      );
    }
  }
  // Every route is documented, so every routed answer is checked against the document.
  expect(ROUTES.filter((r) => !documented.has(routeKeyOf(r)))).toEqual([]);
  expect(QUERY_ROUTES.filter((k) => !ROUTES.some((r) => routeKeyOf(r) === k))).toEqual([]);

  // Task definitions, then services on them; every valid base of the fuzz is valid indeed.
  for (const [i, definition] of DEFINITION_BASES.entries()) {
    const family = ['fz-web', 'fz-web', 'fz-rich'][i] as string;
    const registered = await api('POST', '/task-definitions', { body: definition(family) });
    expect([i, registered.status]).toEqual([i, 201]);
  }
  const yaml = await api('POST', '/task-definitions', {
    raw: toYaml(fargateDefinition('fz-yaml')),
    contentType: 'application/yaml',
  });
  expect(yaml.status).toBe(201);
  for (const body of Object.values(FIXTURE_SERVICES)) {
    expect((await api('POST', '/services', { body })).status).toBe(201);
  }
  for (const [i, base] of CREATE_BASES.entries()) {
    const created = await api('POST', '/services', { body: base(`fz-base-${i}`) });
    expect([i, created.status, created.text]).toEqual([i, 201, expect.any(String)]);
  }
  // fz-other at generation 3: If-Match "1" is stale there, current elsewhere.
  for (const desiredCount of [0, 0]) {
    expect((await api('PATCH', '/services/fz-other', { body: { desiredCount } })).status).toBe(200);
  }
  settled = await quiesce();
  const running = settled.tasks.filter((t) => t.endsWith(' RUNNING/RUNNING'));
  expect(running.length).toBeGreaterThan(0);
}, 60_000);

afterAll(async () => {
  dynamodb?.destroy();
  ecs?.destroy();
  await stack?.stop();
});

describe('the HTTP API under fuzzed requests (no 5xx, errors in shape, rejected requests change nothing)', () => {
  it(
    'methods, paths and headers on every route and on unknown paths',
    async () => {
      await fuzz(routingArb, 150);
    },
    TIMEOUT_MS,
  );

  it(
    'query strings: page sizes, forged and garbage page tokens, clusters, repeated keys',
    async () => {
      await fuzz(queryStringArb, 100);
    },
    TIMEOUT_MS,
  );

  it(
    'service bodies: mutated POST, PUT and PATCH bodies, junk, content types and If-Match',
    async () => {
      await fuzz(
        bodyRequestArb([
          'POST /services',
          'PUT /services/{serviceName}',
          'PATCH /services/{serviceName}',
          'DELETE /services/{serviceName}',
          'POST /services/{serviceName}/redeploy',
        ]),
        150,
      );
    },
    TIMEOUT_MS,
  );

  it(
    'task definition bodies: mutated JSON and YAML, YAML oddities and junk',
    async () => {
      await fuzz(bodyRequestArb(['POST /task-definitions']), 100);
    },
    TIMEOUT_MS,
  );
});
