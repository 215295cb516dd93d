/**
 * The OpenAPI document: it names exactly serverless.yml's routes, is structurally OpenAPI 3.1, its
 * response schemas match the TypeScript views (tsc and parsing both check), and its request schemas,
 * turned back into validators, accept and refuse what the API's own zod schemas do — a client
 * generated from it sends what the API takes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  getService,
  listServiceTasks,
  type ServiceDeps,
  type ServiceView,
  type TaskView,
} from '../../shared/app/services';
import {
  type FieldError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../../shared/core/errors';
import type { Condition, DeploymentStatus } from '../../shared/core/model';
import type { PolicyReport } from '../../shared/core/scaling';
import {
  createServiceSchema,
  replaceServiceSchema,
  updateServiceSchema,
} from '../../shared/core/schemas';
import {
  parseTaskDefinitionBody,
  registerTaskDefinitionSchema,
} from '../../shared/core/task-definition';
import {
  conditionSchema,
  deploymentStatusSchema,
  errorSchema,
  healthSchema,
  openApiDocument,
  policyReportSchema,
  requestExamples,
  serviceEventListSchema,
  serviceEventSchema,
  serviceListSchema,
  serviceViewSchema,
  taskDefinitionRevisionListSchema,
  taskDefinitionViewSchema,
  taskListSchema,
  taskViewSchema,
} from '../../shared/http/openapi';
import { errorResponse } from '../../shared/http/responses';
import type { Page, ServiceEvent, ServiceStore } from '../../shared/ports/service-store';
import type { TaskDefinitionView } from '../../shared/ports/task-definitions';
import { aService, aTask } from '../support/builders';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function object(value: unknown, what: string): Json {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

const doc = openApiDocument();
const components = object(doc.components, 'components');
const schemas = object(components.schemas, 'components.schemas');

/** The value a local JSON pointer (`#/a/b`) names in the document, or undefined. */
function pointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Follows `$ref`s to the object they name. */
function resolve(value: unknown): Json {
  let node = value;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string'; hops++) {
    if (hops > 10) throw new Error(`$ref loop at ${node.$ref}`);
    node = pointer(node.$ref);
  }
  return object(node, 'a resolved $ref');
}

/** Every value in the document, with its path. */
function walk(value: unknown, visit: (node: unknown, path: string) => void, path = '#'): void {
  visit(value, path);
  if (Array.isArray(value) || isObject(value)) {
    for (const [k, v] of Object.entries(value)) walk(v, visit, `${path}/${k}`);
  }
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Op = { path: string; method: string; pathItem: Json; op: Json };

function operations(): Op[] {
  return Object.entries(object(doc.paths, 'paths')).flatMap(([path, item]) => {
    const pathItem = object(item, path);
    return HTTP_METHODS.filter((m) => pathItem[m] !== undefined).map((method) => ({
      path,
      method,
      pathItem,
      op: object(pathItem[method], `${method} ${path}`),
    }));
  });
}

const keyOf = (o: { method: string; path: string }) => `${o.method.toUpperCase()} ${o.path}`;
const opByKey = (key: string): Op => {
  const found = operations().find((o) => keyOf(o) === key);
  if (!found) throw new Error(`no operation ${key}`);
  return found;
};

/** The operation's parameters, path-level ones merged in, each resolved. */
const parametersOf = (o: Op): Json[] =>
  [...((o.pathItem.parameters as unknown[]) ?? []), ...((o.op.parameters as unknown[]) ?? [])].map(
    resolve,
  );

const responsesOf = (o: Op) => object(o.op.responses, `${keyOf(o)} responses`);

/** serverless.yml's HTTP API events: method, path, and whether the route has an authorizer. */
function serverlessRoutes(): { key: string; authorized: boolean }[] {
  const yml = parseDocument(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'));
  // CloudFormation tags (!Ref, !Sub) are left unresolved as warnings; only errors matter here.
  expect(yml.errors).toEqual([]);
  const config = object(yml.toJS(), 'serverless.yml');
  const functions = object(config.functions, 'functions');
  return Object.values(functions).flatMap((fn) => {
    const events = (object(fn, 'function').events as unknown[] | undefined) ?? [];
    return events.flatMap((event) => {
      const http = isObject(event) ? event.httpApi : undefined;
      if (!isObject(http)) return [];
      return [
        {
          key: `${String(http.method).toUpperCase()} ${String(http.path)}`,
          authorized: http.authorizer !== undefined,
        },
      ];
    });
  });
}

const OPERATION_IDS: Record<string, string> = {
  'GET /health': 'getHealth',
  'GET /openapi.json': 'getOpenApi',
  'POST /services': 'createService',
  'GET /services': 'listServices',
  'GET /services/{serviceName}': 'getService',
  'PUT /services/{serviceName}': 'replaceService',
  'PATCH /services/{serviceName}': 'updateService',
  'DELETE /services/{serviceName}': 'deleteService',
  'GET /services/{serviceName}/tasks': 'listServiceTasks',
  'GET /services/{serviceName}/events': 'listServiceEvents',
  'POST /services/{serviceName}/redeploy': 'redeployService',
  'POST /task-definitions': 'registerTaskDefinition',
  'GET /task-definitions/{family}': 'listTaskDefinitionRevisions',
};

describe('the routes', () => {
  it('are exactly the httpApi events of serverless.yml', () => {
    const routes = serverlessRoutes().map((r) => r.key);
    expect(routes.length).toBeGreaterThan(0);
    expect(new Set(routes).size).toBe(routes.length);
    expect(operations().map(keyOf).sort()).toEqual([...routes].sort());
  });

  it('are secured exactly where serverless.yml has an authorizer', () => {
    for (const route of serverlessRoutes()) {
      const { op } = opByKey(route.key);
      const security = op.security as unknown[];
      expect(Array.isArray(security)).toBe(true);
      if (route.authorized) {
        expect(security).toEqual([{ sigv4: [] }, { bearerAuth: [] }]);
      } else {
        expect(security).toEqual([]);
      }
    }
    expect(
      serverlessRoutes()
        .filter((r) => !r.authorized)
        .map((r) => r.key),
    ).toEqual(['GET /health', 'GET /openapi.json']);
  });

  it('each have the agreed operationId, a summary, a description and a tag', () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of operations()) {
      expect([keyOf(o), o.op.operationId]).toEqual([keyOf(o), OPERATION_IDS[keyOf(o)]]);
      expect(typeof o.op.summary).toBe('string');
      expect(String(o.op.description).length).toBeGreaterThan(20);
      expect((o.op.tags as string[]).length).toBe(1);
    }
    expect(Object.keys(OPERATION_IDS).sort()).toEqual(operations().map(keyOf).sort());
  });
});

describe('the responses', () => {
  const SUCCESS: Record<string, [status: string, schema: string]> = {
    'GET /health': ['200', 'Health'],
    'GET /openapi.json': ['200', ''],
    'POST /services': ['201', 'ServiceView'],
    'GET /services': ['200', 'ServiceList'],
    'GET /services/{serviceName}': ['200', 'ServiceView'],
    'PUT /services/{serviceName}': ['200', 'ServiceView'],
    'PATCH /services/{serviceName}': ['200', 'ServiceView'],
    'DELETE /services/{serviceName}': ['202', 'ServiceView'],
    'GET /services/{serviceName}/tasks': ['200', 'TaskList'],
    'GET /services/{serviceName}/events': ['200', 'ServiceEventList'],
    'POST /services/{serviceName}/redeploy': ['202', 'ServiceView'],
    'POST /task-definitions': ['201', 'TaskDefinitionView'],
    'GET /task-definitions/{family}': ['200', 'TaskDefinitionRevisionList'],
  };

  it('each operation has one success status, with the handler’s status code and view', () => {
    for (const o of operations()) {
      const [status, schema] = SUCCESS[keyOf(o)] ?? ['?', '?'];
      const codes = Object.keys(responsesOf(o)).filter((c) => /^2\d\d$/.test(c));
      expect([keyOf(o), codes]).toEqual([keyOf(o), [status]]);
      const content = object(resolve(responsesOf(o)[status]).content, 'content');
      const media = object(content['application/json'], `${keyOf(o)} application/json`);
      if (schema !== '') {
        expect(media.schema).toEqual({ $ref: `#/components/schemas/${schema}` });
      }
    }
  });

  it('errors: 400 where the operation takes input, 401/403 where secured, 500 everywhere', () => {
    for (const o of operations()) {
      const codes = Object.keys(responsesOf(o));
      const takesInput = parametersOf(o).length > 0 || o.op.requestBody !== undefined;
      const secured = (o.op.security as unknown[]).length > 0;
      expect([keyOf(o), codes.includes('400')]).toEqual([keyOf(o), takesInput]);
      expect([keyOf(o), codes.includes('401'), codes.includes('403')]).toEqual([
        keyOf(o),
        secured,
        secured,
      ]);
      expect(codes).toContain('500');
      if (o.op.requestBody !== undefined)
        expect(codes).toEqual(expect.arrayContaining(['413', '415']));
      if (o.path.includes('{')) expect(codes).toContain('404');
    }
  });

  it('every error response carries the Error schema (or API Gateway’s own, where it answers)', () => {
    const error = { $ref: '#/components/schemas/Error' };
    for (const o of operations()) {
      for (const [code, raw] of Object.entries(responsesOf(o))) {
        if (!/^[45]\d\d$/.test(code)) continue;
        const response = resolve(raw);
        const schema = object(
          object(object(response.content, 'content')['application/json'], 'json').schema,
          'schema',
        );
        if (code === '403' || code === '500') {
          expect(schema).toEqual({ anyOf: [error, { $ref: '#/components/schemas/GatewayError' }] });
        } else {
          expect(schema).toEqual(error);
        }
      }
    }
  });

  it('writes that may conflict take If-Match, and only they', () => {
    const conditional = [
      'PUT /services/{serviceName}',
      'PATCH /services/{serviceName}',
      'DELETE /services/{serviceName}',
      'POST /services/{serviceName}/redeploy',
    ];
    for (const o of operations()) {
      const ifMatch = parametersOf(o).filter((p) => p.in === 'header' && p.name === 'If-Match');
      expect([keyOf(o), ifMatch.length]).toEqual([
        keyOf(o),
        conditional.includes(keyOf(o)) ? 1 : 0,
      ]);
      if (conditional.includes(keyOf(o))) {
        expect(ifMatch[0]?.required).toBe(false);
        expect(Object.keys(responsesOf(o))).toContain('412');
      }
    }
  });

  it('a service in the body comes with its ETag; a 201 says where the resource is', () => {
    for (const o of operations()) {
      for (const [code, raw] of Object.entries(responsesOf(o))) {
        const response = resolve(raw);
        const headers = (response.headers as Json | undefined) ?? {};
        const json = isObject(response.content) ? response.content['application/json'] : undefined;
        const isService =
          isObject(json) &&
          json.schema !== undefined &&
          resolve(json.schema) === schemas.ServiceView;
        expect([keyOf(o), code, 'ETag' in headers]).toEqual([keyOf(o), code, isService]);
        expect([keyOf(o), code, 'Location' in headers]).toEqual([keyOf(o), code, code === '201']);
      }
    }
  });

  it('list operations take nextToken, and maxResults (1-100) where the handler reads it', () => {
    const query = (key: string) =>
      Object.fromEntries(
        parametersOf(opByKey(key))
          .filter((p) => p.in === 'query')
          .map((p) => [p.name, resolve(p.schema)]),
      );
    const maxResults = { type: 'integer', minimum: 1, maximum: 100 };
    expect(query('GET /services')).toEqual({
      cluster: { type: 'string' },
      maxResults,
      nextToken: { type: 'string' },
    });
    expect(query('GET /services/{serviceName}/tasks')).toEqual({
      maxResults,
      nextToken: { type: 'string' },
    });
    expect(query('GET /services/{serviceName}/events')).toEqual({ nextToken: { type: 'string' } });
    expect(query('GET /task-definitions/{family}')).toEqual({ nextToken: { type: 'string' } });
  });
});

describe('the request bodies', () => {
  const bodyOf = (key: string) => object(opByKey(key).op.requestBody, `${key} requestBody`);
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

  it('are the API’s schemas, required, as JSON (task definitions also as YAML)', () => {
    const json = (name: string) => ({ 'application/json': ref(name) });
    const cases: [string, Record<string, unknown>][] = [
      ['POST /services', json('CreateServiceRequest')],
      ['PUT /services/{serviceName}', json('ReplaceServiceRequest')],
      ['PATCH /services/{serviceName}', json('UpdateServiceRequest')],
      [
        'POST /task-definitions',
        {
          'application/json': ref('RegisterTaskDefinitionRequest'),
          'application/yaml': ref('RegisterTaskDefinitionRequest'),
        },
      ],
    ];
    for (const [key, expected] of cases) {
      const body = bodyOf(key);
      expect(body.required).toBe(true);
      const content = object(body.content, 'content');
      const actual = Object.fromEntries(
        Object.entries(content).map(([type, media]) => [type, object(media, type).schema]),
      );
      expect([key, actual]).toEqual([key, expected]);
    }
    const withBody = operations()
      .filter((o) => o.op.requestBody !== undefined)
      .map(keyOf);
    expect(withBody.sort()).toEqual(cases.map(([k]) => k).sort());
  });

  it('their examples are bodies the API accepts', () => {
    const examples = operations().flatMap((o) =>
      o.op.requestBody === undefined
        ? []
        : Object.entries(object(bodyOf(keyOf(o)).content, 'content')).map(([type, media]) => ({
            type,
            schema: String(object(object(media, type).schema, 'schema').$ref)
              .split('/')
              .pop(),
            example: object(media, type).example,
          })),
    );
    expect(examples).toHaveLength(5);
    const zodOf: Record<string, z.ZodType> = {
      CreateServiceRequest: createServiceSchema,
      ReplaceServiceRequest: replaceServiceSchema,
      UpdateServiceRequest: updateServiceSchema,
      RegisterTaskDefinitionRequest: registerTaskDefinitionSchema,
    };
    for (const { type, schema, example } of examples) {
      const body =
        type === 'application/yaml'
          ? parseTaskDefinitionBody({ body: String(example), contentType: 'yaml' })
          : example;
      expect(example).toBeDefined();
      expect([schema, type, zodOf[schema ?? '']?.safeParse(body).error]).toEqual([
        schema,
        type,
        undefined,
      ]);
    }
    expect(requestExamples.RegisterTaskDefinitionRequestYaml).toContain('cpu: 0.25 vCPU');
  });
});

describe('the document is OpenAPI 3.1', () => {
  it('has the required top-level members and nothing else', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const info = object(doc.info, 'info');
    expect(info.title).toBe('Steward');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(info.version).toBe(pkg.version);
    const allowed = ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks'];
    allowed.push('components', 'security', 'tags', 'externalDocs');
    for (const key of Object.keys(doc)) {
      expect([key, allowed.includes(key) || key.startsWith('x-')]).toEqual([key, true]);
    }
    for (const server of doc.servers as Json[]) {
      const variables = (server.variables as Record<string, Json> | undefined) ?? {};
      const used = [...String(server.url).matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(used.sort()).toEqual(Object.keys(variables).sort());
      for (const v of Object.values(variables)) expect(typeof v.default).toBe('string');
    }
  });

  it('names every component as the spec allows, each kind with its required members', () => {
    for (const [kind, members] of Object.entries(components)) {
      for (const [name, value] of Object.entries(object(members, kind))) {
        expect([kind, name, /^[a-zA-Z0-9._-]+$/.test(name)]).toEqual([kind, name, true]);
        if (kind === 'responses') expect(typeof object(value, name).description).toBe('string');
        if (kind === 'headers') {
          const h = object(value, name);
          expect('name' in h || 'in' in h).toBe(false);
          expect(h.schema).toBeDefined();
        }
      }
    }
    const schemes = object(components.securitySchemes, 'securitySchemes');
    expect(schemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const requirement of [
      ...(doc.security as Json[]),
      ...operations().flatMap((o) => o.op.security as Json[]),
    ]) {
      for (const [name, scopes] of Object.entries(requirement)) {
        expect(Object.keys(schemes)).toContain(name);
        expect(scopes).toEqual([]);
      }
    }
  });

  it('declares each path template parameter once, required, and no other path parameter', () => {
    for (const o of operations()) {
      const params = parametersOf(o);
      const named = params.map((p) => `${String(p.in)}:${String(p.name)}`);
      expect(new Set(named).size).toBe(named.length);
      const inPath = params.filter((p) => p.in === 'path');
      const templated = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(inPath.map((p) => p.name).sort()).toEqual(templated.sort());
      for (const p of inPath) expect(p.required).toBe(true);
      for (const p of params) {
        expect(['query', 'header', 'path', 'cookie']).toContain(p.in);
        expect(p.schema).toBeDefined();
        expect(typeof p.description).toBe('string');
      }
    }
  });

  it('gives every response a description and every media type a type/subtype name', () => {
    for (const o of operations()) {
      for (const [code, raw] of Object.entries(responsesOf(o))) {
        expect([keyOf(o), code, /^([1-5]\d\d|[1-5]XX|default)$/.test(code)]).toEqual([
          keyOf(o),
          code,
          true,
        ]);
        const response = resolve(raw);
        expect(typeof response.description).toBe('string');
        for (const type of Object.keys((response.content as Json | undefined) ?? {})) {
          expect(type).toMatch(/^[a-z]+\/[a-z0-9.+-]+$/);
        }
      }
    }
  });

  it('every $ref resolves, and references outside schemas have no other members', () => {
    const refs: { path: string; ref: string; node: Json }[] = [];
    walk(doc, (node, path) => {
      if (isObject(node) && '$ref' in node) refs.push({ path, ref: String(node.$ref), node });
    });
    expect(refs.length).toBeGreaterThan(50);
    for (const { path, ref, node } of refs) {
      expect([path, ref, pointer(ref) !== undefined]).toEqual([path, ref, true]);
      // A Reference Object (not a Schema Object) may only add a summary or a description.
      if (!ref.startsWith('#/components/schemas/')) {
        const extra = Object.keys(node).filter(
          (k) => !['$ref', 'summary', 'description'].includes(k),
        );
        expect([path, extra]).toEqual([path, []]);
      }
    }
    // Every component schema is used by something.
    const used = new Set(refs.map((r) => r.ref));
    for (const name of Object.keys(schemas)) {
      expect([name, used.has(`#/components/schemas/${name}`)]).toEqual([name, true]);
    }
  });

  it('component schemas are 2020-12 subschemas: no $schema, no $id, valid unicode patterns', () => {
    const patterns: string[] = [];
    walk(schemas, (node, path) => {
      if (!isObject(node)) return;
      expect([path, '$schema' in node, '$id' in node]).toEqual([path, false, false]);
      if (typeof node.pattern === 'string' && !path.endsWith('/properties'))
        patterns.push(node.pattern);
    });
    expect(patterns.length).toBeGreaterThan(10);
    // JSON Schema patterns are ECMA-262 with unicode semantics (`\p{…}` classes are used).
    for (const p of patterns) expect(() => new RegExp(p, 'u')).not.toThrow();
  });

  it('is plain JSON: it round-trips, holds no undefined, function or non-finite number', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    walk(doc, (node, path) => {
      const kind = typeof node;
      expect([path, ['undefined', 'function', 'symbol', 'bigint'].includes(kind)]).toEqual([
        path,
        false,
      ]);
      if (kind === 'number') expect([path, Number.isFinite(node)]).toEqual([path, true]);
      if (kind === 'object' && node !== null && !Array.isArray(node)) {
        expect([path, Object.getPrototypeOf(node) === Object.prototype]).toEqual([path, true]);
      }
    });
  });

  it('is built once: the same frozen object every time', () => {
    expect(openApiDocument()).toBe(doc);
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(schemas.ServiceView)).toBe(true);
    expect(() => {
      (doc as { openapi: string }).openapi = '3.0.0';
    }).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------
// The request schemas, turned back into validators

/**
 * Patterns that need the `u` flag. z.fromJSONSchema compiles patterns without it (so `\p{C}` would
 * mean the letters p, {, C, }), where JSON Schema and OpenAPI tools use unicode semantics: those
 * are left out of the round trip here and checked as patterns above.
 */
const UNICODE_ONLY = /\\[pPu]\{/;

/** A validator built from the document alone, as a generated client would build one. */
function validatorFor(name: string): z.ZodType {
  const defs: unknown = JSON.parse(
    JSON.stringify(schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
    (key, value) => (key === 'pattern' && UNICODE_ONLY.test(String(value)) ? undefined : value),
  );
  return z.fromJSONSchema({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $defs: object(defs, '$defs') as Record<string, z.core.JSONSchema.JSONSchema>,
    $ref: `#/$defs/${name}`,
  });
}

/**
 * `same`: both accept, or both refuse. `refinement`: the API's schema refuses with a rule JSON
 * Schema cannot express (a refinement or a transform), so the document accepts it and the server
 * answers 400. `use-case`: the API's schema lets it through and the use case refuses it; the
 * document says so already.
 */
type Verdict = 'same' | 'refinement' | 'use-case';
type Case = [name: string, body: unknown, verdict: Verdict];

function checkCases(o: { component: string; schema: z.ZodType; cases: Case[] }) {
  const fromDocument = validatorFor(o.component);
  for (const [name, body, verdict] of o.cases) {
    const api = o.schema.safeParse(body).success;
    const documented = fromDocument.safeParse(body).success;
    const expected =
      verdict === 'same'
        ? { api, documented: api }
        : verdict === 'refinement'
          ? { api: false, documented: true }
          : { api: true, documented: false };
    expect([name, { api, documented }]).toEqual([name, expected]);
  }
  // Both directions are exercised: something accepted, something refused.
  const verdicts = o.cases.map(([, body]) => fromDocument.safeParse(body).success);
  expect(verdicts).toContain(true);
  expect(verdicts).toContain(false);
}

const minimal = { serviceName: 'web', taskDefinition: 'web:3', desiredCount: 3 };
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';
const fargateService = {
  ...minimal,
  cluster: 'default',
  launchType: 'FARGATE',
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-0a1b2c3d4e5f67890'],
      securityGroups: ['sg-0123456789abcdef0'],
      assignPublicIp: 'DISABLED',
    },
  },
  deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200 },
};
const container = { name: 'app', image: 'public.ecr.aws/docker/library/httpd:2.4' };
const fargateTaskDefinition = {
  family: 'web',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [container],
};
const cpuPolicy = {
  policyName: 'cpu-60',
  policyType: 'TargetTrackingScaling',
  targetTrackingScalingPolicyConfiguration: {
    targetValue: 60,
    predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
  },
};
const scheduledPolicy = {
  policyName: 'night',
  policyType: 'Scheduled',
  schedule: 'cron(0 22 * * ? *)',
  timezone: 'Europe/Paris',
  scalableTargetAction: { minCapacity: 0, maxCapacity: 0 },
};

describe('request schemas from the document accept and refuse what the API does', () => {
  it('POST /services', () => {
    const { launchType: _launchType, ...onFargate } = fargateService;
    const spot = {
      ...onFargate,
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE_SPOT', weight: 3 },
        { capacityProvider: 'FARGATE', base: 1, weight: 1 },
      ],
      spotFallback: { enabled: true },
    };
    const cases: Case[] = [
      ['the minimal body', minimal, 'same'],
      ['a full Fargate body', fargateService, 'same'],
      [
        'a cluster ARN',
        { ...minimal, cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' },
        'same',
      ],
      ['a 120-character name', { ...minimal, serviceName: 'x'.repeat(120) }, 'same'],
      ['a leading hyphen', { ...minimal, serviceName: '-web' }, 'same'],
      [
        'a task definition ARN',
        { ...minimal, taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3' },
        'same',
      ],
      ['an inline task definition', { ...minimal, taskDefinition: fargateTaskDefinition }, 'same'],
      ['a Spot strategy with fallback', spot, 'same'],
      [
        'EC2 placement',
        {
          ...minimal,
          launchType: 'EC2',
          placementConstraints: [
            { type: 'memberOf', expression: 'attribute:ecs.instance-type =~ t3.*' },
          ],
          placementStrategy: [
            { type: 'spread', field: 'attribute:ecs.availability-zone' },
            { type: 'binpack', field: 'memory' },
          ],
        },
        'same',
      ],
      [
        'tags',
        {
          ...minimal,
          tags: [{ key: 'team', value: 'web' }, { key: 'env' }],
          propagateTags: 'SERVICE',
        },
        'same',
      ],
      [
        'a restart policy that never gives up',
        { ...minimal, restartPolicy: { baseDelaySeconds: 5, maxConsecutiveFailures: null } },
        'same',
      ],
      [
        'scaling policies',
        {
          ...minimal,
          minCapacity: 1,
          maxCapacity: 10,
          scalingPolicies: [cpuPolicy, scheduledPolicy],
        },
        'same',
      ],
      [
        'maxTaskLifetime and paused',
        { ...minimal, maxTaskLifetime: 86_400, paused: true, enableExecuteCommand: true },
        'same',
      ],
      ['no serviceName', { taskDefinition: 'web', desiredCount: 1 }, 'same'],
      ['a name with a space', { ...minimal, serviceName: 'my web' }, 'same'],
      ['a name that is a number', { ...minimal, serviceName: 42 }, 'same'],
      ['a 121-character name', { ...minimal, serviceName: 'x'.repeat(121) }, 'same'],
      ['no taskDefinition', { serviceName: 'web', desiredCount: 1 }, 'same'],
      ['revision 0', { ...minimal, taskDefinition: 'web:0' }, 'same'],
      ['a revision with a leading zero', { ...minimal, taskDefinition: 'web:03' }, 'same'],
      ['desiredCount -1', { ...minimal, desiredCount: -1 }, 'same'],
      ['desiredCount 1.5', { ...minimal, desiredCount: 1.5 }, 'same'],
      ['desiredCount "3"', { ...minimal, desiredCount: '3' }, 'same'],
      ['desiredCount 10001', { ...minimal, desiredCount: 10_001 }, 'same'],
      ['a cluster with a slash', { ...minimal, cluster: 'a/b' }, 'same'],
      ['an unknown launch type', { ...minimal, launchType: 'LAMBDA' }, 'same'],
      [
        'no subnets',
        { ...fargateService, networkConfiguration: { awsvpcConfiguration: { subnets: [] } } },
        'same',
      ],
      [
        'an empty subnet id',
        {
          ...fargateService,
          networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1', ''] } },
        },
        'same',
      ],
      [
        'assignPublicIp YES',
        {
          ...fargateService,
          networkConfiguration: { awsvpcConfiguration: { subnets: ['s'], assignPublicIp: 'YES' } },
        },
        'same',
      ],
      [
        'maximumPercent 99',
        { ...minimal, deploymentConfiguration: { maximumPercent: 99 } },
        'same',
      ],
      [
        'minimumHealthyPercent 101',
        { ...minimal, deploymentConfiguration: { minimumHealthyPercent: 101 } },
        'same',
      ],
      ['an unknown field', { ...minimal, serviceRegistries: [] }, 'same'],
      [
        'an unknown nested field',
        {
          ...fargateService,
          networkConfiguration: { awsvpcConfiguration: { subnets: ['s'], vpcId: 'vpc-1' } },
        },
        'same',
      ],
      ['an empty loadBalancers (none)', { ...minimal, loadBalancers: [] }, 'same'],
      [
        'a target group',
        {
          ...fargateService,
          loadBalancers: [{ targetGroupArn: TG, containerName: 'app', containerPort: 8080 }],
          healthCheckGracePeriodSeconds: 30,
        },
        'same',
      ],
      [
        'a target group without containerPort',
        { ...fargateService, loadBalancers: [{ targetGroupArn: TG, containerName: 'app' }] },
        'same',
      ],
      [
        'a Classic Load Balancer',
        {
          ...fargateService,
          loadBalancers: [{ loadBalancerName: 'old', containerName: 'app', containerPort: 80 }],
        },
        'same',
      ],
      [
        'six target groups',
        {
          ...fargateService,
          loadBalancers: Array.from({ length: 6 }, (_, i) => ({
            targetGroupArn: TG.replace('/web/', `/web${i}/`),
            containerName: 'app',
            containerPort: 8080,
          })),
        },
        'same',
      ],
      [
        'load balancers without awsvpc',
        {
          ...minimal,
          loadBalancers: [{ targetGroupArn: TG, containerName: 'app', containerPort: 8080 }],
        },
        'refinement',
      ],
      ['a restart factor of 11', { ...minimal, restartPolicy: { factor: 11 } }, 'same'],
      ['maxTaskLifetime 299', { ...minimal, maxTaskLifetime: 299 }, 'same'],
      [
        'an unknown policy type',
        {
          ...minimal,
          minCapacity: 1,
          maxCapacity: 2,
          scalingPolicies: [{ ...cpuPolicy, policyType: 'PredictiveScaling' }],
        },
        'same',
      ],
      ['null', null, 'same'],
      ['an array', [minimal], 'same'],
      ['a string', JSON.stringify(minimal), 'same'],
      ['Fargate without networkConfiguration', { ...minimal, launchType: 'FARGATE' }, 'refinement'],
      ['launchType and a strategy', { ...spot, launchType: 'FARGATE' }, 'refinement'],
      ['a tag key starting with aws:', { ...minimal, tags: [{ key: 'aws:owner' }] }, 'refinement'],
      ['a tag key twice', { ...minimal, tags: [{ key: 'a' }, { key: 'a' }] }, 'refinement'],
      [
        '100/100 deployment configuration',
        {
          ...minimal,
          deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 },
        },
        'refinement',
      ],
      [
        'minCapacity above maxCapacity',
        { ...minimal, minCapacity: 5, maxCapacity: 2 },
        'refinement',
      ],
      [
        'scaling policies without bounds',
        { ...minimal, scalingPolicies: [cpuPolicy] },
        'refinement',
      ],
      [
        'memberOf without an expression',
        { ...minimal, placementConstraints: [{ type: 'memberOf' }] },
        'refinement',
      ],
      [
        'maxDelaySeconds below baseDelaySeconds',
        { ...minimal, restartPolicy: { baseDelaySeconds: 60, maxDelaySeconds: 30 } },
        'refinement',
      ],
      [
        'an unknown time zone',
        {
          ...minimal,
          minCapacity: 0,
          maxCapacity: 1,
          scalingPolicies: [{ ...scheduledPolicy, timezone: 'Mars/Olympus' }],
        },
        'refinement',
      ],
      [
        'an inline task definition with no container',
        { ...minimal, taskDefinition: { family: 'web' } },
        'use-case',
      ],
      [
        'an inline task definition with an unknown member',
        { ...minimal, taskDefinition: { ...fargateTaskDefinition, color: 'red' } },
        'use-case',
      ],
    ];
    checkCases({ component: 'CreateServiceRequest', schema: createServiceSchema, cases });
  });

  it('PUT /services/{serviceName}', () => {
    const { serviceName: _name, ...spec } = fargateService;
    const cases: Case[] = [
      ['the whole spec', fargateService, 'same'],
      ['the spec without its name', spec, 'same'],
      [
        'a 200-character name (existing services may have one)',
        { ...spec, serviceName: 'x'.repeat(200) },
        'same',
      ],
      ['no desiredCount', { taskDefinition: 'web:3' }, 'same'],
      ['an unknown field', { ...spec, schedulingStrategy: 'DAEMON' }, 'same'],
      [
        'Fargate without networkConfiguration',
        { taskDefinition: 'web', desiredCount: 1, launchType: 'FARGATE' },
        'refinement',
      ],
    ];
    checkCases({ component: 'ReplaceServiceRequest', schema: replaceServiceSchema, cases });
  });

  it('PATCH /services/{serviceName}', () => {
    const cases: Case[] = [
      ['a new desiredCount', { desiredCount: 5 }, 'same'],
      ['desiredCount 0', { desiredCount: 0 }, 'same'],
      ['pause', { paused: true }, 'same'],
      ['a restart policy', { restartPolicy: { maxConsecutiveFailures: 3 } }, 'same'],
      ['a new task definition inline', { taskDefinition: fargateTaskDefinition }, 'same'],
      ['a negative desiredCount', { desiredCount: -1 }, 'same'],
      ['a string desiredCount', { desiredCount: '5' }, 'same'],
      ['the name (cannot be changed)', { serviceName: 'other' }, 'same'],
      ['null', null, 'same'],
      ['an empty body', {}, 'use-case'],
      ['a tag key starting with steward:', { tags: [{ key: 'steward:slot' }] }, 'refinement'],
    ];
    checkCases({ component: 'UpdateServiceRequest', schema: updateServiceSchema, cases });
  });

  it('POST /task-definitions', () => {
    const ec2 = { family: 'web', containerDefinitions: [{ ...container, memory: 256 }] };
    const cases: Case[] = [
      ['a Fargate definition', fargateTaskDefinition, 'same'],
      ['an EC2 definition', ec2, 'same'],
      ['sizes as numbers', { ...fargateTaskDefinition, cpu: 256, memory: 512 }, 'same'],
      ['sizes in vCPU and GB', { ...fargateTaskDefinition, cpu: '1 vCPU', memory: '2 GB' }, 'same'],
      [
        'tags with spaces and @',
        { ...ec2, tags: [{ key: 'Owner Name', value: 'ops@example.com' }] },
        'same',
      ],
      [
        'a full container',
        {
          ...ec2,
          containerDefinitions: [
            {
              ...container,
              memory: 512,
              essential: true,
              portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
              environment: [{ name: 'A', value: '1' }],
              healthCheck: {
                command: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
                interval: 30,
              },
              logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } },
            },
          ],
        },
        'same',
      ],
      ['no family', { containerDefinitions: [container] }, 'same'],
      ['no container', { ...ec2, containerDefinitions: [] }, 'same'],
      [
        '11 containers',
        {
          ...ec2,
          containerDefinitions: Array.from({ length: 11 }, (_, i) => ({
            ...container,
            name: `c${i}`,
            memory: 64,
          })),
        },
        'same',
      ],
      ['an unknown member', { ...ec2, color: 'red' }, 'same'],
      ['an unknown network mode', { ...ec2, networkMode: 'nat' }, 'same'],
      [
        'an image with a space',
        { ...ec2, containerDefinitions: [{ ...container, image: 'my image' }] },
        'same',
      ],
      ['cpu as a boolean', { ...ec2, cpu: true }, 'same'],
      [
        'a log driver ECS does not know',
        {
          ...ec2,
          containerDefinitions: [
            { ...container, memory: 256, logConfiguration: { logDriver: 'loki' } },
          ],
        },
        'same',
      ],
      ['Fargate without cpu', { ...fargateTaskDefinition, cpu: undefined }, 'refinement'],
      [
        'a Fargate size ECS does not offer',
        { ...fargateTaskDefinition, memory: '8192' },
        'refinement',
      ],
      ['a fraction of a CPU unit', { ...ec2, cpu: '0.3 vcpu' }, 'refinement'],
      [
        'two containers with one name',
        {
          ...ec2,
          containerDefinitions: [
            { ...container, memory: 64 },
            { ...container, memory: 64 },
          ],
        },
        'refinement',
      ],
      [
        'a health check that is not CMD',
        {
          ...ec2,
          containerDefinitions: [{ ...container, memory: 64, healthCheck: { command: ['curl'] } }],
        },
        'refinement',
      ],
    ];
    checkCases({
      component: 'RegisterTaskDefinitionRequest',
      schema: registerTaskDefinitionSchema,
      cases: cases.map(([n, body, v]) => [n, JSON.parse(JSON.stringify(body)), v]),
    });
  });

  it('only unicode-class patterns are left out of the round trip', () => {
    const left = new Set<string>();
    walk(schemas, (node) => {
      if (isObject(node) && typeof node.pattern === 'string' && UNICODE_ONLY.test(node.pattern)) {
        left.add(node.pattern);
      }
    });
    // Scaling policy names (printable characters) and task definition tag text (letters,
    // separators, digits); with unicode semantics they mean what the API's regexes mean.
    expect(left.size).toBe(2);
    const find = (part: string) => {
      const pattern = [...left].find((p) => p.includes(part));
      return pattern === undefined ? undefined : new RegExp(pattern, 'u');
    };
    const policyName = find('\\p{C}');
    const tagText = find('\\p{L}');
    expect(policyName?.test('cpu-60 ✓')).toBe(true);
    expect(policyName?.test('bad\u0007name')).toBe(false);
    expect(tagText?.test('Owner Näme @ops')).toBe(true);
    expect(tagText?.test('a;b')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The response schemas against the TypeScript views

/** Holds when A and B name the same fields (a field added to one and not the other fails tsc). */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : false;
/** Holds when every A is a valid input of the schema whose input type is B. */
type Fits<A, B> = [A] extends [B] ? true : false;
/** Every field present, optional ones too, so a sample typed with it names every field. */
type Complete<T> = { [K in keyof T]-?: T[K] };

const time = '2025-01-01T00:00:00.000Z';

const condition: Complete<Condition> = {
  type: 'BackingOff',
  message: 'tasks keep failing; next launch after 20 s',
  until: time,
  failures: 2,
};

const deployment: Complete<DeploymentStatus> = {
  id: 2,
  rolloutState: 'IN_PROGRESS',
  reason: 'taskDefinition changed',
  startedAt: time,
  runningCount: 1,
  pendingCount: 1,
  outdatedCount: 2,
  failedTasks: 1,
};

const policyReport: Complete<PolicyReport> = {
  policyName: 'night',
  policyType: 'Scheduled',
  lastEvaluatedAt: time,
  lastValue: null,
  lastOutcome: 'scaled in from 3 to 0: schedule cron(0 22 * * ? *)',
  nextScheduledAt: null,
};

const serviceView: Complete<ServiceView> = {
  serviceName: 'web',
  cluster: 'default',
  taskDefinition: 'web:3',
  desiredCount: 3,
  launchType: 'FARGATE',
  capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1, base: 1 }],
  platformVersion: 'LATEST',
  networkConfiguration: {
    awsvpcConfiguration: {
      subnets: ['subnet-1'],
      securityGroups: ['sg-1'],
      assignPublicIp: 'DISABLED',
    },
  },
  deploymentConfiguration: {
    minimumHealthyPercent: 100,
    maximumPercent: 200,
    deploymentCircuitBreaker: { enable: true, rollback: false },
  },
  placementConstraints: [{ type: 'distinctInstance' }],
  placementStrategy: [{ type: 'binpack', field: 'memory' }],
  loadBalancers: [
    {
      targetGroupArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
      containerName: 'app',
      containerPort: 8080,
    },
  ],
  healthCheckGracePeriodSeconds: 30,
  tags: [{ key: 'team', value: 'web' }],
  propagateTags: 'SERVICE',
  enableExecuteCommand: false,
  restartPolicy: {
    baseDelaySeconds: 10,
    factor: 2,
    maxDelaySeconds: 900,
    jitter: 0.2,
    maxConsecutiveFailures: null,
    healthyAfterSeconds: 60,
  },
  minCapacity: 1,
  maxCapacity: 10,
  scalingPolicies: [
    {
      policyName: 'cpu-60',
      policyType: 'TargetTrackingScaling',
      targetTrackingScalingPolicyConfiguration: {
        targetValue: 60,
        predefinedMetricSpecification: { predefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        scaleOutCooldown: 300,
        scaleInCooldown: 300,
        disableScaleIn: false,
      },
    },
  ],
  maxTaskLifetime: 86_400,
  spotFallback: { enabled: false, retrySpotAfterSeconds: 900 },
  paused: false,
  status: 'ACTIVE',
  runningCount: 2,
  pendingCount: 1,
  generation: 2,
  observedGeneration: 2,
  steady: false,
  conditions: [condition],
  deployment,
  scaling: { policies: [policyReport] },
  createdAt: time,
  updatedAt: time,
};

const taskView: Complete<TaskView> = {
  taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/default/0123456789abcdef0123456789abcdef',
  taskId: '0123456789abcdef0123456789abcdef',
  slot: 0,
  deployment: 2,
  fallback: true,
  lastStatus: 'STOPPED',
  desiredStatus: 'STOPPED',
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3',
  capacityProviderName: 'FARGATE',
  createdAt: time,
  startedAt: time,
  stoppingAt: time,
  stoppedAt: time,
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  privateIp: '10.0.1.17',
  targets: [
    {
      targetGroupArn:
        'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef',
      id: '10.0.1.17',
      port: 8080,
    },
  ],
};

const serviceEvent: Complete<ServiceEvent> = {
  id: '2025-01-01T00:00:00.000Z#000000000001#000000#abcd1234',
  createdAt: time,
  message: '(service web) has reached a steady state.',
  count: 3,
  lastAt: time,
};

const taskDefinitionView: Complete<TaskDefinitionView> = {
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3',
  family: 'web',
  revision: 3,
  status: 'ACTIVE',
  taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  containers: [{ name: 'app', image: 'public.ecr.aws/docker/library/httpd:2.4', ports: [80] }],
  registeredAt: time,
};

const fieldError: Complete<FieldError> = { path: 'desiredCount', message: 'is negative' };

/** A listing's body as the handler shapes it from a page. */
const pageBody = <T>(o: { key: string; page: Page<T> }) => ({
  [o.key]: o.page.items,
  ...(o.page.nextToken ? { nextToken: o.page.nextToken } : {}),
});

describe('the response schemas match the views', () => {
  it('have the views’ fields, no more and no fewer (tsc checks this file)', () => {
    // Each line fails to compile if the view and its schema drift apart.
    const typeChecks: true[] = [
      true satisfies SameKeys<z.output<typeof serviceViewSchema>, ServiceView>,
      true satisfies Fits<ServiceView, z.input<typeof serviceViewSchema>>,
      true satisfies SameKeys<z.output<typeof taskViewSchema>, TaskView>,
      true satisfies Fits<TaskView, z.input<typeof taskViewSchema>>,
      true satisfies SameKeys<z.output<typeof policyReportSchema>, PolicyReport>,
      true satisfies Fits<PolicyReport, z.input<typeof policyReportSchema>>,
      true satisfies SameKeys<z.output<typeof conditionSchema>, Condition>,
      true satisfies Fits<Condition, z.input<typeof conditionSchema>>,
      true satisfies SameKeys<z.output<typeof deploymentStatusSchema>, DeploymentStatus>,
      true satisfies Fits<DeploymentStatus, z.input<typeof deploymentStatusSchema>>,
      true satisfies SameKeys<z.output<typeof serviceEventSchema>, ServiceEvent>,
      true satisfies Fits<ServiceEvent, z.input<typeof serviceEventSchema>>,
      true satisfies SameKeys<z.output<typeof taskDefinitionViewSchema>, TaskDefinitionView>,
      true satisfies Fits<TaskDefinitionView, z.input<typeof taskDefinitionViewSchema>>,
      true satisfies SameKeys<z.output<typeof errorSchema>['errors'][number], FieldError>,
    ];
    expect(typeChecks).toHaveLength(15);
    // And at run time: a complete value of each type parses to itself (nothing stripped).
    const samples: [z.ZodType, unknown][] = [
      [serviceViewSchema, serviceView],
      [taskViewSchema, taskView],
      [conditionSchema, condition],
      [policyReportSchema, policyReport],
      [
        policyReportSchema,
        { ...policyReport, policyType: 'StepScaling', nextScheduledAt: undefined },
      ],
      [deploymentStatusSchema, deployment],
      [serviceEventSchema, serviceEvent],
      [taskDefinitionViewSchema, taskDefinitionView],
      [errorSchema, { message: 'Invalid service: desiredCount', errors: [fieldError] }],
      [healthSchema, { status: 'ok' }],
    ];
    for (const [schema, sample] of samples) expect(schema.parse(sample)).toEqual(sample);
  });

  it('a value missing a required field, or with a wrong one, is refused', () => {
    const { deployment: _d, ...withoutDeployment } = serviceView;
    expect(serviceViewSchema.safeParse(withoutDeployment).success).toBe(false);
    expect(serviceViewSchema.safeParse({ ...serviceView, status: 'DELETED' }).success).toBe(false);
    expect(taskViewSchema.safeParse({ ...taskView, lastStatus: 'GONE' }).success).toBe(false);
    expect(conditionSchema.safeParse({ ...condition, type: 'Unknown' }).success).toBe(false);
  });

  it('pages parse as the handler shapes them, with and without nextToken', () => {
    const cases: [z.ZodType, unknown][] = [
      [
        serviceListSchema,
        pageBody({ key: 'services', page: { items: [serviceView], nextToken: 'abc' } }),
      ],
      [serviceListSchema, pageBody<ServiceView>({ key: 'services', page: { items: [] } })],
      [taskListSchema, pageBody({ key: 'tasks', page: { items: [taskView], nextToken: 'abc' } })],
      [serviceEventListSchema, pageBody({ key: 'events', page: { items: [serviceEvent] } })],
      [
        taskDefinitionRevisionListSchema,
        {
          family: 'web',
          ...pageBody({
            key: 'revisions',
            page: {
              items: [{ taskDefinitionArn: taskDefinitionView.taskDefinitionArn, revision: 3 }],
            },
          }),
        },
      ],
    ];
    for (const [schema, body] of cases) expect(schema.parse(body)).toEqual(body);
    expect(serviceListSchema.safeParse({ items: [serviceView] }).success).toBe(false);
  });

  it('what the use cases return parses, unchanged', async () => {
    const record = aService({
      spec: {
        launchType: 'FARGATE',
        networkConfiguration: serviceView.networkConfiguration ?? {
          awsvpcConfiguration: { subnets: ['s'] },
        },
        restartPolicy: serviceView.restartPolicy,
        tags: [{ key: 'team' }],
        paused: true,
        minCapacity: 0,
        maxCapacity: 3,
        scalingPolicies: serviceView.scalingPolicies ?? [],
      },
      status: {
        phase: 'ACTIVE',
        desiredCount: 3,
        runningCount: 1,
        pendingCount: 0,
        observedGeneration: 1,
        steady: false,
        conditions: [condition],
        deployment: { ...deployment, id: 1 },
      },
    });
    const store = {
      getService: async () => record,
      listTasks: async () => ({
        items: [aTask({ slot: 0, stopCode: 'UserInitiated' })],
        nextToken: 'n',
      }),
    } as Partial<ServiceStore> as ServiceStore;
    const deps = { store, clock: () => Date.parse(time) } as Partial<ServiceDeps> as ServiceDeps;
    const view = await getService(deps, { serviceName: 'web' });
    expect(view.scaling?.policies).toHaveLength(1);
    expect(serviceViewSchema.parse(view)).toEqual(view);
    const tasks = await listServiceTasks(deps, { serviceName: 'web' });
    expect(tasks.items).toHaveLength(1);
    expect(taskListSchema.parse(pageBody({ key: 'tasks', page: tasks }))).toEqual(
      pageBody({ key: 'tasks', page: tasks }),
    );
  });

  it('the error responses the API sends parse as Error', () => {
    const errors = [
      new ValidationError('Invalid service: desiredCount', [fieldError]),
      new NotFoundError('Service web not found'),
      new PreconditionFailedError('Service web has changed'),
    ];
    for (const error of errors) {
      const body: unknown = JSON.parse(String(errorResponse(error).body));
      expect(errorSchema.parse(body)).toEqual(body);
    }
  });
});
