/**
 * Pure parts of the CloudWatch support: the adapter's id rewriting in expressions, and the local
 * metric math against the examples of CloudWatch's documentation (using-metric-math).
 */
import { describe, expect, it } from '@jest/globals';
import {
  evaluate,
  type MathContext,
  type MathValue,
  parseExpression,
  type Series,
} from '../../local/cloudwatch/metric-math';
import { rewriteExpression } from '../../shared/adapters/cloudwatch-metrics';

describe('rewriteExpression', () => {
  const rename = new Map([
    ['m1', 'r3_m1'],
    ['m10', 'r3_m10'],
    ['e1', 'r3_e1'],
    ['used', 'r3_used'],
  ]);
  it.each([
    ['m1 + m10', 'r3_m1 + r3_m10'],
    ['100*m1/(m10-e1)', '100*r3_m1/(r3_m10-r3_e1)'],
    ['2e1 * e1', '2e1 * r3_e1'],
    ['1.5E-3+m1', '1.5E-3+r3_m1'],
    ["SUM(METRICS('used')) / used", "SUM(METRICS('used')) / r3_used"],
    [
      "SEARCH('{AWS/SQS,QueueName} MetricName=\"used\"', 'Average', 60)",
      "SEARCH('{AWS/SQS,QueueName} MetricName=\"used\"', 'Average', 60)",
    ],
    ['METRICS("say \\"m1\\"") + m1', 'METRICS("say \\"m1\\"") + r3_m1'],
    ['FILL(m1, REPEAT)', 'FILL(r3_m1, REPEAT)'],
    ['IF(m1 > 5 AND m10 < 2, m1, 0)', 'IF(r3_m1 > 5 AND r3_m10 < 2, r3_m1, 0)'],
    ['SELECT AVG(used) FROM SCHEMA("App")', 'SELECT AVG(used) FROM SCHEMA("App")'],
  ])('%s → %s', (text, expected) => {
    expect(rewriteExpression({ text, rename })).toBe(expected);
  });
});

// ---- local metric math ----------------------------------------------------------------------

const MINUTE = 60_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE);

/** A series on a one-minute grid of `values.length` buckets; null is a missing datapoint. */
const seriesOf = (label: string, values: (number | null)[]): Series => ({
  points: new Map(
    values.flatMap((v, i) => (v === null ? [] : [[T0 + i * MINUTE, v] as [number, number]])),
  ),
  start: T0,
  periodMs: MINUTE,
  end: T0 + values.length * MINUTE,
  label,
  status: 'Complete',
  messages: [],
});

/** Values of a series on its grid, null where missing. */
const valuesOf = (v: MathValue): (number | null)[] | number => {
  if (v.kind === 'scalar') return v.value;
  if (v.kind !== 'series') throw new Error(`not a series: ${v.kind}`);
  const out: (number | null)[] = [];
  for (let t = v.series.start; t < v.series.end; t += v.series.periodMs)
    out.push(v.series.points.get(t) ?? null);
  return out;
};

const run = (expression: string, series: Record<string, (number | null)[]>) => {
  const byId = new Map(Object.entries(series).map(([id, values]) => [id, seriesOf(id, values)]));
  const context: MathContext = {
    resolve: (id) => {
      const s = byId.get(id);
      if (!s) throw new Error(`unknown ${id}`);
      return { kind: 'series', series: s };
    },
    metrics: (filter) => [...byId].filter(([id]) => id.includes(filter)).map(([, s]) => s),
    periodOf: (id) => (byId.has(id) ? 60 : undefined),
    emptySeries: () => seriesOf('', [null, null, null, null, null]),
  };
  return evaluate({ node: parseExpression(expression), context });
};

describe('local metric math', () => {
  // The tables of CloudWatch's "Using IF expressions" and comparison operators.
  const metric1 = [1, 1, 0, 0, null];
  const metric2 = [30, null, 0, 0, 30];
  const metric3 = [0, 0, 20, null, 20];
  it.each([
    ['IF(metric1, metric2, metric3)', [30, 0, 20, null, null]],
    ['IF(metric1, 5, metric3)', [5, 5, 20, null, null]],
    ['IF(metric1, metric2, 5)', [30, 0, 5, 5, null]],
    ['metric1 + metric2', [31, 1, 0, 0, 30]],
    ['FILL(metric2, 7)', [30, 7, 0, 0, 30]],
    ['FILL(metric3, REPEAT)', [0, 0, 20, 20, 20]],
    ['FILL(metric2, metric3)', [30, 0, 0, 0, 30]],
    ['AVG([metric2, metric3])', [15, 0, 10, 0, 25]],
    ['MAX([metric2, metric3])', [30, 0, 20, 0, 30]],
    // Missing counts as 0: 0 / 1 = 0 is kept; 0 / 0 and 30 / 0 are dropped.
    ['metric2 / metric1', [30, 0, null, null, null]],
    ['-metric3 ^ 2 + 1', [1, 1, -399, null, -399]],
    ['metric2 - AVG(metric2)', [15, null, -15, -15, 15]],
    ['SUM(METRICS("metric"))', [31, 1, 20, 0, 50]],
  ])('%s', (expression, expected) => {
    expect(valuesOf(run(expression, { metric1, metric2, metric3 }))).toEqual(expected);
  });

  it('treats a missing value as 0 in comparisons (CloudWatch docs: [30,20,0,0] vs [20,-,20,-])', () => {
    const a = [30, 20, 0, 0];
    const b = [20, null, 20, null];
    expect(valuesOf(run('a < b', { a, b }))).toEqual([0, 0, 1, 0]);
    expect(valuesOf(run('a >= 30', { a, b }))).toEqual([1, 0, 0, 0]);
    expect(valuesOf(run('a > 15 AND b > 15', { a, b }))).toEqual([1, 0, 0, 0]);
    expect(valuesOf(run('a > 15 || b > 15', { a, b }))).toEqual([1, 1, 1, 0]);
  });

  it('reports dropped datapoints as ArithmeticError', () => {
    const out = run('a / b', { a: [1, 2], b: [0, 1] });
    expect(valuesOf(out)).toEqual([null, 2]);
    expect(out.kind === 'series' && out.series.messages.map((m) => m.code)).toEqual([
      'ArithmeticError',
    ]);
  });

  it.each([
    ['RATE(m1)', /RATE is not supported by the local CloudWatch/],
    ['FOO(m1)', /Unknown function FOO/],
    ['sum(m1)', /functions are written in upper case/],
    ['m1 +', /ends too early/],
    ['(m1', /Expected '\)'/],
    ["METRICS('x", /Unterminated string/],
    ['m1 # 2', /Unexpected character '#'/],
  ])('rejects %s', (expression, message) => {
    expect(() => parseExpression(expression)).toThrow(message);
  });

  it.each([
    ['FILL(m, LINEAR)', /LINEAR\) is not supported/],
    ['SUM(m, m)', /SUM takes 1 argument/],
    ['[m, m] + [m, m]', /two arrays/],
    ['PERIOD(m * 2)', /PERIOD takes the id of a metric query/],
    ['METRICS(5)', /METRICS takes a string/],
  ])('refuses %s when evaluating', (expression, message) => {
    expect(() => run(expression, { m: [1, 2] })).toThrow(message);
  });
});
