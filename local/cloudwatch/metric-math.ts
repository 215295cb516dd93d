// Metric math for the local CloudWatch: the part of CloudWatch's expression language that scaling
// policies write (using-metric-math.html), evaluated per timestamp over the queries' aligned series.
//
// Supported: numbers, query ids, + - * / ^, unary -, parentheses, [a, b] arrays, the comparison
// operators == != < <= > >= and AND/&&, OR/||, and the functions
//   SUM AVG MIN MAX   of a time series → a number (over its datapoints); of an array → a time series
//   ABS CEIL FLOOR    per datapoint
//   FILL(x, number | time series | REPEAT)
//   IF(condition, a[, b])
//   METRICS(["filter"])  the request's metric queries (not expressions) whose id contains filter
//   PERIOD(id)           a metric query's period in seconds
// These cover the documented target-tracking and step-scaling recipes: ratios such as
// 100 * used / reserved, totals SUM([a, b]) / SUM(METRICS()), per-task backlog m1 / m2, gaps filled
// with FILL(m, 0), guards with IF. Any other CloudWatch function (RATE, DIFF, SEARCH, SORT,
// ANOMALY_DETECTION_BAND, TIME_SERIES, …) is rejected with InvalidParameterValue naming it, as is
// FILL(…, LINEAR).
//
// Semantics follow CloudWatch's documentation: in arithmetic and comparisons between two time
// series a missing value counts as 0 (so the result has the union of their timestamps); a datapoint
// that comes out NaN or infinite (division by zero) is dropped, with an ArithmeticError message;
// AVG of an array counts a missing value as 0; MIN and MAX of an array consider the values present.

/** A query's status as GetMetricData reports it; the worst one of its inputs carries over. */
export type QueryStatus = 'Complete' | 'PartialData' | 'Forbidden' | 'InternalError';

/** One of MetricDataResult's Messages. */
export type QueryMessage = { code: string; value: string };

/** A time series on a grid: bucket starts `start + k × periodMs` before `end`. */
export type Series = {
  /** Bucket start (epoch ms) → value. */
  points: Map<number, number>;
  start: number;
  periodMs: number;
  end: number;
  label: string;
  status: QueryStatus;
  messages: QueryMessage[];
};

export type MathValue =
  | { kind: 'scalar'; value: number }
  | { kind: 'series'; series: Series }
  | { kind: 'array'; items: Series[] }
  | { kind: 'string'; value: string }
  | { kind: 'keyword'; name: string };

/** A mistake in an expression; the engine reports it as InvalidParameterValue with the query id. */
export class MathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MathError';
  }
}

/** What an expression can see of the rest of its request. */
export type MathContext = {
  /** The value of another query of the request: a metric's series or an expression's result. */
  resolve(id: string): MathValue;
  /** The series of the request's metric queries whose id contains `filter`, in request order. */
  metrics(filter: string): Series[];
  /** A metric query's period in seconds; undefined when `id` is not a metric query. */
  periodOf(id: string): number | undefined;
  /** An empty series on the request's grid (IF with no else branch, an empty array's SUM). */
  emptySeries(): Series;
};

export type Node =
  | { type: 'number'; value: number }
  | { type: 'string'; value: string }
  | { type: 'id'; name: string }
  | { type: 'keyword'; name: string }
  | { type: 'list'; items: Node[] }
  | { type: 'unary'; operand: Node }
  | { type: 'binary'; op: BinaryOp; left: Node; right: Node }
  | { type: 'call'; name: string; args: Node[] };

type BinaryOp = '+' | '-' | '*' | '/' | '^' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR';

export const SUPPORTED_FUNCTIONS = [
  'ABS',
  'AVG',
  'CEIL',
  'FILL',
  'FLOOR',
  'IF',
  'MAX',
  'METRICS',
  'MIN',
  'PERIOD',
  'SUM',
] as const;

// CloudWatch's other functions, so that a real one gets "not supported locally", not "unknown".
const CLOUDWATCH_ONLY = new Set([
  'ANOMALY_DETECTION_BAND',
  'CONCAT',
  'DATAPOINT_COUNT',
  'DATE',
  'DAY',
  'DB_PERF_INSIGHTS',
  'DIFF',
  'DIFF_TIME',
  'EPOCH',
  'FIRST',
  'HOUR',
  'INSIGHT_RULE_METRIC',
  'LAMBDA',
  'LAST',
  'LOG',
  'LOG10',
  'METRIC_COUNT',
  'MINUTE',
  'MONTH',
  'PERCENTILE',
  'RATE',
  'REMOVE_EMPTY',
  'RUNNING_SUM',
  'SEARCH',
  'SERVICE_QUOTA',
  'SLICE',
  'SORT',
  'STDDEV',
  'TIME_SERIES',
  'YEAR',
]);

const ARITHMETIC_DROPPED: QueryMessage = {
  code: 'ArithmeticError',
  value:
    'One or more data-points have been dropped due to non-numeric values (NaN, -Infinite, +Infinite)',
};

// ---- tokens ---------------------------------------------------------------------------------

type Token =
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'ident'; value: string; at: number }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; at: number };

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '+', '-', '*', '/', '^', '<', '>', '(', ')'];
const PUNCTUATION = ['[', ']', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', value: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
      }
      if (j >= text.length) throw new MathError(`Unterminated string starting at position ${i}.`);
      tokens.push({ kind: 'string', value, at: i });
      i = j + 1;
      continue;
    }
    const op = [...OPERATORS, ...PUNCTUATION].find((o) => text.startsWith(o, i));
    if (!op) throw new MathError(`Unexpected character '${c}' at position ${i}.`);
    tokens.push({ kind: 'op', value: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

// ---- parser ---------------------------------------------------------------------------------

/** Parses an expression; throws MathError with the position of the first mistake. */
export function parseExpression(text: string): Node {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const isOp = (value: string): boolean => {
    const t = peek();
    return t.kind === 'op' && t.value === value;
  };
  const isWord = (value: string): boolean => {
    const t = peek();
    return t.kind === 'ident' && t.value === value;
  };
  const expect = (value: string): void => {
    if (!isOp(value)) {
      const t = peek();
      throw new MathError(
        `Expected '${value}' at position ${t.at}${t.kind === 'end' ? ' (end of the expression)' : ''}.`,
      );
    }
    pos++;
  };

  const or = (): Node => {
    let left = and();
    while (isOp('||') || isWord('OR')) {
      pos++;
      left = { type: 'binary', op: 'OR', left, right: and() };
    }
    return left;
  };
  const and = (): Node => {
    let left = comparison();
    while (isOp('&&') || isWord('AND')) {
      pos++;
      left = { type: 'binary', op: 'AND', left, right: comparison() };
    }
    return left;
  };
  const comparison = (): Node => {
    const left = additive();
    const t = peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value)) {
      pos++;
      return { type: 'binary', op: t.value as BinaryOp, left, right: additive() };
    }
    return left;
  };
  const additive = (): Node => {
    let left = multiplicative();
    while (isOp('+') || isOp('-')) {
      const op = (peek() as { value: string }).value as BinaryOp;
      pos++;
      left = { type: 'binary', op, left, right: multiplicative() };
    }
    return left;
  };
  const multiplicative = (): Node => {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = (peek() as { value: string }).value as BinaryOp;
      pos++;
      left = { type: 'binary', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (isOp('-')) {
      pos++;
      return { type: 'unary', operand: unary() };
    }
    if (isOp('+')) {
      pos++;
      return unary();
    }
    const base = primary();
    if (isOp('^')) {
      pos++;
      return { type: 'binary', op: '^', left: base, right: unary() };
    }
    return base;
  };
  const primary = (): Node => {
    const t = peek();
    if (t.kind === 'number') {
      pos++;
      return { type: 'number', value: t.value };
    }
    if (t.kind === 'string') {
      pos++;
      return { type: 'string', value: t.value };
    }
    if (t.kind === 'op' && t.value === '(') {
      pos++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.kind === 'op' && t.value === '[') {
      pos++;
      const items = [or()];
      while (isOp(',')) {
        pos++;
        items.push(or());
      }
      expect(']');
      return { type: 'list', items };
    }
    if (t.kind === 'ident') {
      pos++;
      if (isOp('(')) return call(t.value);
      return /^[a-z]/.test(t.value)
        ? { type: 'id', name: t.value }
        : { type: 'keyword', name: t.value };
    }
    throw new MathError(
      t.kind === 'end'
        ? 'The expression ends too early.'
        : `Unexpected '${t.value}' at position ${t.at}.`,
    );
  };
  const call = (name: string): Node => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) {
      throw new MathError(
        `${name} is not a function: functions are written in upper case (e.g. SUM), and query ids can not be called.`,
      );
    }
    if (!(SUPPORTED_FUNCTIONS as readonly string[]).includes(name)) {
      throw new MathError(
        CLOUDWATCH_ONLY.has(name)
          ? `The function ${name} is not supported by the local CloudWatch (supported: ${SUPPORTED_FUNCTIONS.join(', ')}).`
          : `Unknown function ${name}.`,
      );
    }
    expect('(');
    const args: Node[] = [];
    if (!isOp(')')) {
      args.push(or());
      while (isOp(',')) {
        pos++;
        args.push(or());
      }
    }
    expect(')');
    return { type: 'call', name, args };
  };

  const node = or();
  const rest = peek();
  if (rest.kind !== 'end') {
    throw new MathError(
      `Unexpected '${rest.kind === 'number' ? rest.value : (rest as { value: string }).value}' at position ${rest.at}.`,
    );
  }
  return node;
}

/** The query ids an expression names (METRICS() is resolved by the engine, not listed here). */
export function referencedIds(node: Node): Set<string> {
  const out = new Set<string>();
  const walk = (n: Node): void => {
    switch (n.type) {
      case 'id':
        out.add(n.name);
        return;
      case 'list':
        n.items.forEach(walk);
        return;
      case 'unary':
        walk(n.operand);
        return;
      case 'binary':
        walk(n.left);
        walk(n.right);
        return;
      case 'call':
        n.args.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(node);
  return out;
}

/** True when the expression calls METRICS(), so it depends on every metric query of the request. */
export function usesMetricsFunction(node: Node): boolean {
  switch (node.type) {
    case 'call':
      return node.name === 'METRICS' || node.args.some(usesMetricsFunction);
    case 'list':
      return node.items.some(usesMetricsFunction);
    case 'unary':
      return usesMetricsFunction(node.operand);
    case 'binary':
      return usesMetricsFunction(node.left) || usesMetricsFunction(node.right);
    default:
      return false;
  }
}

// ---- evaluation -----------------------------------------------------------------------------

const STATUS_RANK: Record<QueryStatus, number> = {
  Complete: 0,
  PartialData: 1,
  Forbidden: 2,
  InternalError: 3,
};

const worst = (a: QueryStatus, b: QueryStatus): QueryStatus =>
  STATUS_RANK[a] >= STATUS_RANK[b] ? a : b;

const mergeMessages = (...lists: QueryMessage[][]): QueryMessage[] => {
  const seen = new Set<string>();
  const out: QueryMessage[] = [];
  for (const m of lists.flat()) {
    const key = `${m.code}\n${m.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(m);
  }
  return out;
};

/** A series like `like` (grid, label) from inputs' statuses and messages, dropping non-finite values. */
const derive = (o: {
  like: Series;
  inputs: Series[];
  points: Iterable<[number, number]>;
  extraMessages?: QueryMessage[];
}): Series => {
  const points = new Map<number, number>();
  let dropped = false;
  for (const [at, v] of o.points) {
    if (Number.isFinite(v)) points.set(at, v);
    else dropped = true;
  }
  const all = [o.like, ...o.inputs];
  return {
    start: o.like.start,
    periodMs: o.like.periodMs,
    end: o.like.end,
    label: o.like.label,
    points,
    status: all.map((s) => s.status).reduce(worst, 'Complete'),
    messages: mergeMessages(
      ...all.map((s) => s.messages),
      o.extraMessages ?? [],
      dropped ? [ARITHMETIC_DROPPED] : [],
    ),
  };
};

const sortedUnion = (series: Series[]): number[] =>
  [...new Set(series.flatMap((s) => [...s.points.keys()]))].sort((a, b) => a - b);

const describe = (v: MathValue): string =>
  v.kind === 'scalar'
    ? 'a number'
    : v.kind === 'series'
      ? 'a time series'
      : v.kind === 'array'
        ? 'an array of time series'
        : v.kind === 'string'
          ? 'a string'
          : v.name;

const applyOp = (o: { op: BinaryOp; a: number; b: number }): number => {
  const { a, b } = o;
  switch (o.op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '^':
      return a ** b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case 'AND':
      return a !== 0 && b !== 0 ? 1 : 0;
    case 'OR':
      return a !== 0 || b !== 0 ? 1 : 0;
  }
};

/** `a op b` for a scalar or series on each side (arrays are mapped by the caller). */
const combine = (o: { op: BinaryOp; a: MathValue; b: MathValue }): MathValue => {
  const { op, a, b } = o;
  if (a.kind === 'scalar' && b.kind === 'scalar')
    return { kind: 'scalar', value: applyOp({ op, a: a.value, b: b.value }) };
  if (a.kind === 'series' && b.kind === 'scalar') {
    const s = a.series;
    return {
      kind: 'series',
      series: derive({
        like: s,
        inputs: [],
        points: [...s.points].map(
          ([t, v]) => [t, applyOp({ op, a: v, b: b.value })] as [number, number],
        ),
      }),
    };
  }
  if (a.kind === 'scalar' && b.kind === 'series') {
    const s = b.series;
    return {
      kind: 'series',
      series: derive({
        like: s,
        inputs: [],
        points: [...s.points].map(
          ([t, v]) => [t, applyOp({ op, a: a.value, b: v })] as [number, number],
        ),
      }),
    };
  }
  if (a.kind === 'series' && b.kind === 'series') {
    const x = a.series;
    const y = b.series;
    return {
      kind: 'series',
      series: derive({
        like: x,
        inputs: [y],
        // A value missing on one side counts as 0 (CloudWatch's basic arithmetic).
        points: sortedUnion([x, y]).map(
          (t) =>
            [t, applyOp({ op, a: x.points.get(t) ?? 0, b: y.points.get(t) ?? 0 })] as [
              number,
              number,
            ],
        ),
      }),
    };
  }
  throw new MathError(
    `The operator ${op} can not be applied to ${describe(a)} and ${describe(b)}.`,
  );
};

const binary = (o: { op: BinaryOp; a: MathValue; b: MathValue }): MathValue => {
  const { op, a, b } = o;
  if (a.kind === 'array' && b.kind === 'array')
    throw new MathError(`The operator ${op} can not be applied to two arrays of time series.`);
  if (a.kind === 'array')
    return { kind: 'array', items: a.items.map((s) => asSeries(combine({ op, a: series(s), b }))) };
  if (b.kind === 'array')
    return { kind: 'array', items: b.items.map((s) => asSeries(combine({ op, a, b: series(s) }))) };
  return combine({ op, a, b });
};

const series = (s: Series): MathValue => ({ kind: 'series', series: s });

const asSeries = (v: MathValue): Series => {
  if (v.kind !== 'series') throw new MathError(`Expected a time series, got ${describe(v)}.`);
  return v.series;
};

/** Applies `fn` to a number, to each datapoint of a series, or of each series of an array. */
const perDatapoint = (o: { v: MathValue; fn: (x: number) => number; name: string }): MathValue => {
  const { v, fn, name } = o;
  const map = (s: Series): Series =>
    derive({
      like: s,
      inputs: [],
      points: [...s.points].map(([t, x]) => [t, fn(x)] as [number, number]),
    });
  if (v.kind === 'scalar') return { kind: 'scalar', value: fn(v.value) };
  if (v.kind === 'series') return series(map(v.series));
  if (v.kind === 'array') return { kind: 'array', items: v.items.map(map) };
  throw new MathError(`${name} expects a number, a time series or an array, got ${describe(v)}.`);
};

const AGGREGATES: Record<string, (values: number[]) => number> = {
  SUM: (values) => values.reduce((a, b) => a + b, 0),
  AVG: (values) => values.reduce((a, b) => a + b, 0) / values.length,
  MIN: (values) => (values.length === 0 ? Number.NaN : Math.min(...values)),
  MAX: (values) => (values.length === 0 ? Number.NaN : Math.max(...values)),
};

const aggregate = (o: { name: string; v: MathValue; context: MathContext }): MathValue => {
  const { name, v, context } = o;
  const fn = AGGREGATES[name] as (values: number[]) => number;
  if (v.kind === 'series') {
    const values = [...v.series.points.values()];
    return { kind: 'scalar', value: values.length === 0 ? Number.NaN : fn(values) };
  }
  if (v.kind === 'array') {
    if (v.items.length === 0) return series(context.emptySeries());
    const [first] = v.items as [Series];
    const points = sortedUnion(v.items).map((t) => {
      const present = v.items.flatMap((s) => {
        const x = s.points.get(t);
        return x === undefined ? [] : [x];
      });
      // SUM and AVG count a missing value as 0 (documented for AVG); MIN and MAX take what is there.
      const values =
        name === 'SUM' || name === 'AVG' ? v.items.map((s) => s.points.get(t) ?? 0) : present;
      return [t, fn(values)] as [number, number];
    });
    return series(derive({ like: first, inputs: v.items.slice(1), points }));
  }
  throw new MathError(
    `${name} expects a time series or an array of time series, got ${describe(v)}.`,
  );
};

const gridOf = (s: Series): number[] => {
  const out: number[] = [];
  for (let t = s.start; t < s.end; t += s.periodMs) out.push(t);
  return out;
};

const fill = (o: { target: MathValue; filler: MathValue }): MathValue => {
  const { target, filler } = o;
  const fillOne = (s: Series): Series => {
    if (filler.kind === 'keyword' && filler.name === 'LINEAR') {
      throw new MathError(
        'FILL(…, LINEAR) is not supported by the local CloudWatch; use a number, a time series or REPEAT.',
      );
    }
    if (filler.kind === 'keyword' && filler.name !== 'REPEAT') {
      throw new MathError(`FILL's second argument can not be ${filler.name}.`);
    }
    const points: [number, number][] = [];
    let last: number | undefined;
    for (const t of gridOf(s)) {
      const own = s.points.get(t);
      if (own !== undefined) {
        points.push([t, own]);
        last = own;
        continue;
      }
      const value =
        filler.kind === 'scalar'
          ? filler.value
          : filler.kind === 'series'
            ? filler.series.points.get(t)
            : last;
      if (value !== undefined) points.push([t, value]);
    }
    return derive({ like: s, inputs: filler.kind === 'series' ? [filler.series] : [], points });
  };
  if (filler.kind === 'array' || filler.kind === 'string') {
    throw new MathError(
      `FILL's second argument must be a number, a time series or REPEAT, got ${describe(filler)}.`,
    );
  }
  if (target.kind === 'series') return series(fillOne(target.series));
  if (target.kind === 'array') return { kind: 'array', items: target.items.map(fillOne) };
  throw new MathError(
    `FILL's first argument must be a time series or an array, got ${describe(target)}.`,
  );
};

/** A number's value, or a series' datapoint at `t` (undefined when missing). */
const valueAt = (o: { v: MathValue; t: number }): number | undefined => {
  const { v, t } = o;
  return v.kind === 'scalar' ? v.value : v.kind === 'series' ? v.series.points.get(t) : undefined;
};

const ifThen = (o: {
  condition: MathValue;
  then: MathValue;
  otherwise: MathValue | undefined;
  context: MathContext;
}): MathValue => {
  const { condition, then, otherwise } = o;
  for (const branch of [then, otherwise]) {
    if (branch && branch.kind !== 'scalar' && branch.kind !== 'series')
      throw new MathError(`IF's branches must be numbers or time series, got ${describe(branch)}.`);
  }
  if (condition.kind === 'scalar') {
    if (condition.value !== 0) return then;
    if (otherwise) return otherwise;
    return series(
      then.kind === 'series' ? { ...then.series, points: new Map() } : o.context.emptySeries(),
    );
  }
  if (condition.kind !== 'series')
    throw new MathError(
      `IF's condition must be a time series or a number, got ${describe(condition)}.`,
    );
  const c = condition.series;
  const points: [number, number][] = [];
  for (const [t, v] of c.points) {
    if (v !== 0) {
      // A true condition with no datapoint in the `then` series gives 0, as CloudWatch documents.
      points.push([t, valueAt({ v: then, t }) ?? 0]);
      continue;
    }
    const other = otherwise === undefined ? undefined : valueAt({ v: otherwise, t });
    if (other !== undefined) points.push([t, other]);
  }
  const inputs = [then, otherwise].flatMap((b) => (b?.kind === 'series' ? [b.series] : []));
  return series(derive({ like: c, inputs, points }));
};

/** Evaluates a parsed expression; throws MathError for a value of the wrong kind. */
export function evaluate(o: { node: Node; context: MathContext }): MathValue {
  const { context } = o;
  const run = (n: Node): MathValue => {
    switch (n.type) {
      case 'number':
        return { kind: 'scalar', value: n.value };
      case 'string':
        return { kind: 'string', value: n.value };
      case 'keyword':
        return { kind: 'keyword', name: n.name };
      case 'id':
        return context.resolve(n.name);
      case 'list': {
        const items = n.items.flatMap((item) => {
          const v = run(item);
          if (v.kind === 'series') return [v.series];
          if (v.kind === 'array') return v.items;
          throw new MathError(`An array holds time series, not ${describe(v)}.`);
        });
        return { kind: 'array', items };
      }
      case 'unary':
        return perDatapoint({ v: run(n.operand), fn: (x) => -x, name: 'Unary -' });
      case 'binary': {
        const left = run(n.left);
        const right = run(n.right);
        for (const v of [left, right]) {
          if (v.kind === 'string' || v.kind === 'keyword')
            throw new MathError(`The operator ${n.op} can not be applied to ${describe(v)}.`);
        }
        return binary({ op: n.op, a: left, b: right });
      }
      case 'call':
        return call(n);
    }
  };
  const arity = (o: { n: { name: string; args: Node[] }; min: number; max: number }): void => {
    const { n, min, max } = o;
    if (n.args.length < min || n.args.length > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      throw new MathError(`${n.name} takes ${want} argument(s), got ${n.args.length}.`);
    }
  };
  const call = (n: { name: string; args: Node[] }): MathValue => {
    switch (n.name) {
      case 'SUM':
      case 'AVG':
      case 'MIN':
      case 'MAX':
        arity({ n, min: 1, max: 1 });
        return aggregate({ name: n.name, v: run(n.args[0] as Node), context });
      case 'ABS':
        arity({ n, min: 1, max: 1 });
        return perDatapoint({ v: run(n.args[0] as Node), fn: Math.abs, name: n.name });
      case 'CEIL':
        arity({ n, min: 1, max: 1 });
        return perDatapoint({ v: run(n.args[0] as Node), fn: Math.ceil, name: n.name });
      case 'FLOOR':
        arity({ n, min: 1, max: 1 });
        return perDatapoint({ v: run(n.args[0] as Node), fn: Math.floor, name: n.name });
      case 'FILL':
        arity({ n, min: 2, max: 2 });
        return fill({ target: run(n.args[0] as Node), filler: run(n.args[1] as Node) });
      case 'IF': {
        arity({ n, min: 2, max: 3 });
        const [condition, then, otherwise] = n.args.map(run) as [
          MathValue,
          MathValue,
          MathValue | undefined,
        ];
        return ifThen({ condition, then, otherwise, context });
      }
      case 'METRICS': {
        arity({ n, min: 0, max: 1 });
        const filter: MathValue =
          n.args[0] === undefined ? { kind: 'string', value: '' } : run(n.args[0]);
        if (filter.kind !== 'string')
          throw new MathError(`METRICS takes a string, got ${describe(filter)}.`);
        return { kind: 'array', items: context.metrics(filter.value) };
      }
      case 'PERIOD': {
        arity({ n, min: 1, max: 1 });
        const arg = n.args[0] as Node;
        const seconds = arg.type === 'id' ? context.periodOf(arg.name) : undefined;
        if (seconds === undefined)
          throw new MathError('PERIOD takes the id of a metric query (not of an expression).');
        return { kind: 'scalar', value: seconds };
      }
      default:
        throw new MathError(`Unknown function ${n.name}.`);
    }
  };
  return run(o.node);
}
