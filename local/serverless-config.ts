/**
 * Reads serverless.yml for the local stack, so functions, HTTP routes, event patterns, schedules and
 * the table schema are declared once. Resolves the few variables the file uses (`${self:…}`,
 * `${sls:stage}`, `${opt:…, default}`, `${env:…, default}`, `${param:…}`) and keeps CloudFormation intrinsics
 * (`!Ref`, `!GetAtt`, `!Sub`) as data, since only AWS can resolve them.
 */
import { readFileSync } from 'node:fs';
import { parseDocument, type Tags } from 'yaml';

export type HttpRoute = { method: string; path: string; authorized: boolean };

export type FunctionConfig = {
  name: string;
  /** Module path relative to the project root, without extension, e.g. `functions/api/handler`. */
  module: string;
  exportName: string;
  timeoutSeconds: number;
  maximumRetryAttempts: number;
  httpRoutes: HttpRoute[];
  eventPatterns: unknown[];
  schedules: { expression: string; rateMs: number }[];
};

export type TableConfig = {
  TableName: string;
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  KeySchema: { AttributeName: string; KeyType: string }[];
  GlobalSecondaryIndexes?: unknown[];
  BillingMode?: string;
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
};

export type StackConfig = {
  service: string;
  stage: string;
  functions: FunctionConfig[];
  table: TableConfig;
};

/** CloudFormation's short-form tags, kept as `{ Ref: … }` / `{ 'Fn::GetAtt': … }` objects. */
const cfnTags: Tags = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'Select',
  'Split',
  'If',
  'Equals',
  'ImportValue',
  'FindInMap',
  'GetAZs',
  'Base64',
].flatMap((name) => {
  const tag = `!${name}`;
  const key = name === 'Ref' ? 'Ref' : `Fn::${name}`;
  return (['scalar', 'seq', 'map'] as const).map((nodeClass) => ({
    tag,
    ...(nodeClass === 'scalar' ? {} : { collection: nodeClass }),
    resolve: (value: unknown) => ({
      [key]:
        typeof value === 'object' && value !== null && 'toJSON' in value
          ? (value as { toJSON(): unknown }).toJSON()
          : value,
    }),
  }));
}) as Tags;

/** Parses `rate(5 minutes)` into milliseconds; other expressions are not run locally. */
export function rateToMs(expression: string): number {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) throw new Error(`Schedule ${expression}: only rate(...) expressions run locally`);
  const n = Number(m[1]);
  const unit = m[2] as string;
  if (n < 1) throw new Error(`Schedule ${expression}: the rate must be at least 1`);
  const unitMs = unit.startsWith('minute')
    ? 60_000
    : unit.startsWith('hour')
      ? 3_600_000
      : 86_400_000;
  return n * unitMs;
}

/** Loads and resolves serverless.yml. */
export function loadServerlessConfig(options: {
  path: string;
  stage?: string;
  env?: NodeJS.ProcessEnv;
}): StackConfig {
  const env = options.env ?? process.env;
  const doc = parseDocument(readFileSync(options.path, 'utf8'), { customTags: cfnTags });
  if (doc.errors.length > 0) throw new Error(`${options.path}: ${doc.errors[0]?.message}`);
  const raw = doc.toJS() as Record<string, unknown>;
  const opts: Record<string, string | undefined> = { stage: options.stage };
  const resolved = obj(resolveVariables({ root: raw, value: raw, opts, env, depth: 0 }));
  const provider = obj(resolved.provider);

  const service = String(resolved.service);
  const stage = String(provider.stage ?? 'dev');
  const functions: FunctionConfig[] = Object.entries(obj(resolved.functions)).map(
    ([name, value]) => {
      const fn = obj(value);
      const handler = String(fn.handler);
      const dot = handler.lastIndexOf('.');
      const events = (Array.isArray(fn.events) ? fn.events : []).map(obj);
      return {
        name,
        module: handler.slice(0, dot),
        exportName: handler.slice(dot + 1),
        timeoutSeconds: Number(fn.timeout ?? provider.timeout ?? 6),
        maximumRetryAttempts: Number(fn.maximumRetryAttempts ?? 2),
        httpRoutes: events
          .filter((e) => e.httpApi)
          .map((e) => obj(e.httpApi))
          .map((h) => ({
            method: String(h.method).toUpperCase(),
            path: String(h.path),
            authorized: h.authorizer !== undefined,
          })),
        eventPatterns: events.filter((e) => e.eventBridge).map((e) => obj(e.eventBridge).pattern),
        schedules: events
          .filter((e) => e.schedule)
          .map((e) => {
            const expression = String(
              typeof e.schedule === 'string' ? e.schedule : obj(e.schedule).rate,
            );
            return { expression, rateMs: rateToMs(expression) };
          }),
      };
    },
  );
  const tables = Object.values(obj(obj(resolved.resources).Resources))
    .map(obj)
    .filter((r) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length !== 1)
    throw new Error(`${options.path}: expected exactly one DynamoDB table, found ${tables.length}`);
  return { service, stage, functions, table: obj(tables[0]).Properties as TableConfig };
}

/** The value as a plain object (YAML maps), or an empty one. */
function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

const VARIABLE = /\$\{([^{}]+)\}/g;

/** Replaces `${…}` references throughout the document (bounded depth, so a cycle is an error). */
function resolveVariables(o: {
  root: Record<string, unknown>;
  value: unknown;
  opts: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
  depth: number;
}): unknown {
  const { value } = o;
  if (Array.isArray(value)) return value.map((v) => resolveVariables({ ...o, value: v }));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveVariables({ ...o, value: v })]),
    );
  }
  if (typeof value !== 'string' || !value.includes('${')) return value;
  if (o.depth > 10) throw new Error(`serverless.yml: variable nesting too deep in ${value}`);
  // Keep CloudFormation's own ${AWS::Region}-style references for CloudFormation.
  const cloudFormation = (expr: string) => /^AWS::|^[A-Za-z0-9]+(\.[A-Za-z]+)?$/.test(expr);
  // A value that is one variable takes the variable's value as it is (a list, an object), as the
  // framework does.
  const whole = /^\$\{([^{}]+)\}$/.exec(value);
  if (whole && !cloudFormation(whole[1] as string))
    return resolveOne({ ...o, expr: whole[1] as string });
  const replaced = value.replace(VARIABLE, (all, expr: string) => {
    if (cloudFormation(expr)) return all;
    return String(resolveOne({ ...o, expr }));
  });
  return replaced === value
    ? value
    : resolveVariables({ ...o, value: replaced, depth: o.depth + 1 });
}

function resolveOne(o: {
  root: Record<string, unknown>;
  expr: string;
  opts: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
}): unknown {
  const [ref, ...fallbackParts] = o.expr.split(',');
  const fallback = fallbackParts.length
    ? fallbackParts
        .join(',')
        .trim()
        .replace(/^['"]|['"]$/g, '')
    : undefined;
  const [source, path = ''] = (ref as string).trim().split(/:(.*)/s) as [string, string?];
  let found: unknown;
  if (source === 'self')
    found = path.split('.').reduce<unknown>((acc, key) => obj(acc)[key], o.root);
  else if (source === 'sls' && path === 'stage') found = o.opts.stage ?? obj(o.root.provider).stage;
  else if (source === 'opt') found = o.opts[path];
  else if (source === 'env') found = o.env[path];
  else if (source === 'param') {
    // Stage parameters: the stage's own, else `default` (`--param` is not read locally).
    const params = obj(o.root.params);
    const stage = String(o.opts.stage ?? obj(o.root.provider).stage ?? '');
    found = obj(params[stage])[path] ?? obj(params.default)[path];
  } else throw new Error(`serverless.yml: variable source ${source} is not supported locally`);
  if (typeof found === 'string' && found.includes('${')) {
    found = resolveVariables({ root: o.root, value: found, opts: o.opts, env: o.env, depth: 1 });
  }
  if (found === undefined || found === null) {
    if (fallback === undefined) throw new Error(`serverless.yml: \${${o.expr}} has no value`);
    return fallback;
  }
  return found;
}
