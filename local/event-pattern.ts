// Amazon EventBridge content filtering, so the offline stack routes events exactly as the cloud
// would. Semantics follow the EventBridge User Guide ("Event patterns", "Content filtering").

/** A validated pattern; `matches` never throws, whatever the event looks like. */
export type CompiledEventPattern = { matches(event: unknown): boolean };

/** Raised for a pattern EventBridge would reject; the message names the offending path. */
export class EventPatternError extends Error {
  constructor(path: string, problem: string) {
    super(`Invalid event pattern at ${path || '<root>'}: ${problem}`);
    this.name = 'EventPatternError';
  }
}

type Leaf = string | number | boolean | null;
// Each leaf matcher sees one scalar value; arrays in the event are flattened before matching.
type ValueTest = (value: Leaf) => boolean;
type Rule = {
  tests: ValueTest[];
  // Only `exists: false` can match a field with no scalar values, so it is tracked apart.
  matchesAbsent: boolean;
};
type ObjectMatcher = (value: unknown) => boolean;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

function requireString(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new EventPatternError(path, 'expected a string');
  return v;
}

function requireSingleKey(v: unknown, path: string): [string, unknown] {
  if (!isRecord(v)) throw new EventPatternError(path, 'expected an object');
  const entries = Object.entries(v);
  const [first] = entries;
  if (entries.length !== 1 || !first) {
    throw new EventPatternError(path, 'an operator object must have exactly one key');
  }
  return first;
}

const lower = (s: string): string => s.toLowerCase();

// Escapes: `\*` is a literal star and `\\` a literal backslash; EventBridge rejects `**`.
function compileWildcard(raw: string, path: string): ValueTest {
  let source = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    if (c === '\\') {
      const next = raw.charAt(++i);
      if (next !== '*' && next !== '\\') throw new EventPatternError(path, 'invalid escape');
      source += `\\${next}`;
    } else if (c === '*') {
      if (raw.charAt(i + 1) === '*') throw new EventPatternError(path, 'consecutive wildcards');
      source += '[\\s\\S]*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  const re = new RegExp(`^${source}$`);
  return (v) => typeof v === 'string' && re.test(v);
}

function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function compileCidr(raw: string, path: string): ValueTest {
  const [ip = '', bitsText, extra] = raw.split('/');
  const base = parseIpv4(ip);
  const bits = Number(bitsText);
  if (base === undefined || extra !== undefined || !/^\d{1,2}$/.test(bitsText ?? '') || bits > 32) {
    throw new EventPatternError(path, 'expected an IPv4 CIDR block such as 10.0.0.0/24');
  }
  // 2 ** 32 arithmetic instead of bit ops: JS shifts are signed 32-bit and /0 would overflow.
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return (v) => {
    const n = typeof v === 'string' ? parseIpv4(v) : undefined;
    return n !== undefined && n >= start && n < start + size;
  };
}

const COMPARE: Record<string, (n: number, bound: number) => boolean> = {
  '=': (n, b) => n === b,
  '>': (n, b) => n > b,
  '>=': (n, b) => n >= b,
  '<': (n, b) => n < b,
  '<=': (n, b) => n <= b,
};
// EventBridge only accepts ranges written low-to-high: [">", a, "<", b].
const RANGE_OPS = [new Set(['>', '>=']), new Set(['<', '<='])];

function compileNumeric(raw: unknown, path: string): ValueTest {
  if (!Array.isArray(raw) || (raw.length !== 2 && raw.length !== 4)) {
    throw new EventPatternError(path, 'numeric takes one or two [operator, number] pairs');
  }
  const checks: ((n: number) => boolean)[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const op = String(raw[i]);
    const bound: unknown = raw[i + 1];
    const compare = COMPARE[op];
    if (!compare || (raw.length === 4 && !RANGE_OPS[i / 2]?.has(op))) {
      throw new EventPatternError(join(path, i), `unexpected operator ${op}`);
    }
    if (typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new EventPatternError(join(path, i + 1), 'expected a number');
    }
    checks.push((n) => compare(n, bound));
  }
  if (raw.length === 4 && (raw[1] as number) >= (raw[3] as number)) {
    throw new EventPatternError(path, 'the lower bound must be below the upper bound');
  }
  return (v) => typeof v === 'number' && checks.every((check) => check(v));
}

// prefix and suffix accept either a string or { "equals-ignore-case": string }.
function compileAffix(raw: unknown, path: string, atStart: boolean): ValueTest {
  let needle: string;
  let fold = false;
  if (isRecord(raw)) {
    const [key, value] = requireSingleKey(raw, path);
    if (key !== 'equals-ignore-case')
      throw new EventPatternError(join(path, key), 'unknown operator');
    needle = lower(requireString(value, join(path, key)));
    fold = true;
  } else {
    needle = requireString(raw, path);
  }
  return (v) => {
    if (typeof v !== 'string') return false;
    const s = fold ? lower(v) : v;
    return atStart ? s.startsWith(needle) : s.endsWith(needle);
  };
}

function compileExact(value: unknown, path: string): ValueTest {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return (v) => v === value;
  }
  // Numbers compare by value, so 300 matches 3.0e2, but never the string "300".
  if (typeof value === 'number' && Number.isFinite(value)) return (v) => v === value;
  throw new EventPatternError(path, 'expected a string, number, boolean, null or operator object');
}

function compileAnythingBut(raw: unknown, path: string): ValueTest {
  let excluded: ValueTest[];
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw new EventPatternError(path, 'must not be empty');
    excluded = raw.map((item, i) => compileExact(item, join(path, i)));
  } else if (isRecord(raw)) {
    const [key, value] = requireSingleKey(raw, path);
    const at = join(path, key);
    if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(key)) {
      throw new EventPatternError(at, 'unsupported inside anything-but');
    }
    // equals-ignore-case and wildcard also take a list of strings here; prefix/suffix do not.
    const list = Array.isArray(value) && key !== 'prefix' && key !== 'suffix' ? value : [value];
    if (list.length === 0) throw new EventPatternError(at, 'must not be empty');
    excluded = list.map((item) => compileOperator(key, requireString(item, at), at));
  } else {
    excluded = [compileExact(raw, path)];
  }
  return (v) => !excluded.some((test) => test(v));
}

function compileOperator(key: string, value: unknown, path: string): ValueTest {
  switch (key) {
    case 'prefix':
      return compileAffix(value, path, true);
    case 'suffix':
      return compileAffix(value, path, false);
    case 'equals-ignore-case': {
      const target = lower(requireString(value, path));
      return (v) => typeof v === 'string' && lower(v) === target;
    }
    case 'anything-but':
      return compileAnythingBut(value, path);
    case 'numeric':
      return compileNumeric(value, path);
    case 'cidr':
      return compileCidr(requireString(value, path), path);
    case 'wildcard':
      return compileWildcard(requireString(value, path), path);
    default:
      throw new EventPatternError(path, `unknown operator ${key}`);
  }
}

function compileRule(raw: unknown[], path: string): Rule {
  if (raw.length === 0) throw new EventPatternError(path, 'must not be an empty array');
  const rule: Rule = { tests: [], matchesAbsent: false };
  raw.forEach((item, i) => {
    const at = join(path, i);
    if (!isRecord(item)) {
      rule.tests.push(compileExact(item, at));
      return;
    }
    const [key, value] = requireSingleKey(item, at);
    if (key !== 'exists') {
      rule.tests.push(compileOperator(key, value, join(at, key)));
    } else if (typeof value !== 'boolean') {
      throw new EventPatternError(join(at, key), 'expected true or false');
    } else if (value) {
      rule.tests.push(() => true);
    } else {
      rule.matchesAbsent = true;
    }
  });
  return rule;
}

// Only scalars count as values: `exists` does not see intermediate objects, and arrays fan out.
function leaves(value: unknown, out: Leaf[] = []): Leaf[] {
  if (Array.isArray(value)) for (const item of value) leaves(item, out);
  else if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
    out.push(value as Leaf);
  }
  return out;
}

function compileObject(raw: unknown, path: string): ObjectMatcher {
  if (!isRecord(raw)) throw new EventPatternError(path, 'expected an object');
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new EventPatternError(path, 'must not be empty');
  const fields: ObjectMatcher[] = entries.map(([key, value]): ObjectMatcher => {
    const at = join(path, key);
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw new EventPatternError(at, 'expected an array of at least two patterns');
      }
      const alternatives = value.map((alt, i) => compileObject(alt, join(at, i)));
      return (event) => alternatives.some((alt) => alt(event));
    }
    if (Array.isArray(value)) {
      const rule = compileRule(value, at);
      return (event) => {
        const found = leaves(isRecord(event) ? event[key] : undefined);
        if (found.length === 0) return rule.matchesAbsent;
        return found.some((leaf) => rule.tests.some((test) => test(leaf)));
      };
    }
    if (!isRecord(value)) throw new EventPatternError(at, 'expected an array or an object');
    const nested = compileObject(value, at);
    return (event) => {
      const child = isRecord(event) ? event[key] : undefined;
      // Within an array of objects, all nested fields must match in the same element.
      if (Array.isArray(child)) {
        const objects = child.filter(isRecord);
        return objects.length > 0 ? objects.some(nested) : nested(undefined);
      }
      return nested(child);
    };
  });
  return (event) => fields.every((field) => field(event));
}

/** Validates a pattern; throws EventPatternError naming the path of the first invalid part. */
export function compileEventPattern(pattern: unknown): CompiledEventPattern {
  const matcher = compileObject(pattern, '');
  return { matches: (event) => isRecord(event) && matcher(event) };
}
