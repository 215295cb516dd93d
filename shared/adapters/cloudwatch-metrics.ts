/**
 * Metrics on CloudWatch's GetMetricData. Requests are packed whole into calls of at most 500 queries
 * (CloudWatch's limit per call; metric math sees only the ids of its own call), each request's ids
 * prefixed (`r<n>_<id>`) so that requests reusing the same ids can share a call, and every call's
 * pages are read (NextToken). A request's answer is the newest datapoint of its answer query.
 *
 * Failures: an error of the call (throttling, access denied, a query CloudWatch rejects) propagates
 * and fails the whole read; the caller decides. A request CloudWatch answers with a per-query error
 * (StatusCode InternalError or Forbidden, or PartialData left after the last page) maps to undefined,
 * as does one this adapter can tell is malformed before sending it (it is not sent, so it can not
 * fail the others); each such case, and each message CloudWatch attaches to an answer it kept (an
 * ArithmeticError for a dropped division by zero, say), is reported through `onIssue`.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricRequest, Metrics } from '../ports/metrics';

/** CloudWatch's limit of MetricDataQuery structures in one GetMetricData call. */
export const MAX_QUERIES_PER_CALL = 500;

/** Why a request read no value (`no-data`), or what CloudWatch said about the value it kept. */
export type MetricReadIssue = {
  key: string;
  effect: 'no-data' | 'warning';
  reason: string;
  /** The answer query's StatusCode, when CloudWatch answered it. */
  statusCode?: string;
  /** The answer query's Messages. */
  messages?: { code?: string; value?: string }[];
};

export type CloudWatchMetricsOptions = {
  client: CloudWatchClient;
  /** Told of each issue (the wiring logs them); without it they are dropped. */
  onIssue?: (issue: MetricReadIssue) => void;
};

const ID_PATTERN = /^[a-z][a-zA-Z0-9_]*$/;
const MAX_ID_LENGTH = 255;
const STOP_STATUSES = new Set(['InternalError', 'Forbidden']);

/** A request checked and ready to be placed in a call. */
type Prepared = {
  request: MetricRequest;
  answerId: string;
  /** It must be alone in its call: METRICS() and Metrics Insights see the whole call. */
  alone: boolean;
};

/** A request placed in a call: its queries with rewritten ids. */
type Placed = { key: string; answerId: string; queries: MetricDataQuery[] };

/** Builds the adapter. */
export function makeCloudWatchMetrics(options: CloudWatchMetricsOptions): Metrics {
  const { client } = options;
  const report = (issue: MetricReadIssue) => options.onIssue?.(issue);

  return {
    async latest({ requests, now, periodSeconds, windowSeconds }) {
      const answers = new Map<string, number | undefined>();
      const prepared: Prepared[] = [];
      for (const request of requests) {
        answers.set(request.key, undefined);
        const checked = prepare(request);
        if (typeof checked === 'string') {
          report({ key: request.key, effect: 'no-data', reason: checked });
        } else {
          prepared.push(checked);
        }
      }
      const preparedOf = new Map(prepared.map((p) => [p.request.key, p]));
      const startTime = new Date(now - windowSeconds * 1000);
      const endTime = new Date(now);
      const settle = (call: Placed[], read: Map<string, IdRead>) => {
        for (const placed of call) {
          const outcome = judge({ key: placed.key, read: read.get(placed.answerId) });
          for (const issue of outcome.issues) report(issue);
          answers.set(placed.key, outcome.value);
        }
      };
      const read = (call: Placed[]) =>
        readCall({ client, queries: call.flatMap((p) => p.queries), startTime, endTime });
      for (const call of pack({ prepared, periodSeconds })) {
        try {
          settle(call, await read(call));
        } catch (error) {
          // CloudWatch refuses a whole call for one bad query (an expression it cannot parse):
          // read each request alone, so one policy's mistake does not blind every other one.
          if (!isRefusal(error)) throw error;
          for (const p of call) {
            const alone = pack({ prepared: [preparedOf.get(p.key) as Prepared], periodSeconds });
            for (const single of alone) {
              try {
                settle(single, await read(single));
              } catch (inner) {
                if (!isRefusal(inner)) throw inner;
                report({
                  key: p.key,
                  effect: 'no-data',
                  reason: `CloudWatch refused the query: ${(inner as Error).message}`,
                });
              }
            }
          }
        }
      }
      return answers;
    },
  };
}

/** Checks a request; a string says why it can not be sent. */
function prepare(request: MetricRequest): Prepared | string {
  const { queries } = request;
  if (queries.length === 0) return 'The request has no query.';
  if (queries.length > MAX_QUERIES_PER_CALL) {
    return `The request has ${queries.length} queries; one GetMetricData call takes at most ${MAX_QUERIES_PER_CALL}.`;
  }
  const ids = new Set<string>();
  for (const q of queries) {
    if (!ID_PATTERN.test(q.id) || q.id.length > MAX_ID_LENGTH) {
      return `The id '${q.id}' is not a CloudWatch id (a lower-case letter, then letters, digits, underscores).`;
    }
    if (ids.has(q.id)) return `The id '${q.id}' is used twice.`;
    ids.add(q.id);
    if ((q.metricStat === undefined) === (q.expression === undefined)) {
      return `The query '${q.id}' must have exactly one of metricStat and expression.`;
    }
  }
  let alone = false;
  for (const q of queries) {
    if (q.expression === undefined) continue;
    const scan = scanExpression(q.expression);
    if (scan.metricsInsights || scan.usesMetrics) alone = true;
    if (scan.metricsInsights) continue;
    const unknown = scan.ids.filter((id) => !ids.has(id));
    if (unknown.length > 0) {
      return `The expression of '${q.id}' names ${unknown.map((id) => `'${id}'`).join(', ')}, not a query of this request.`;
    }
  }
  const flagged = queries.filter((q) => q.returnData === true);
  const only = queries.length === 1 && queries[0]?.returnData !== false ? queries[0] : undefined;
  const answer = flagged.length === 1 ? flagged[0] : flagged.length === 0 ? only : undefined;
  if (!answer) {
    return flagged.length > 1
      ? `${flagged.length} queries say returnData; the request's answer must be one.`
      : 'No query says returnData, and there is more than one.';
  }
  return { request, answerId: answer.id, alone };
}

/** Packs requests, whole and in order, into calls of at most 500 queries. */
function pack(o: { prepared: Prepared[]; periodSeconds: number }): Placed[][] {
  const calls: Placed[][] = [];
  let current: Placed[] = [];
  let size = 0;
  for (const p of o.prepared) {
    const count = p.request.queries.length;
    if (p.alone) {
      calls.push([place({ prepared: p, slot: undefined, periodSeconds: o.periodSeconds })]);
      continue;
    }
    if (size + count > MAX_QUERIES_PER_CALL) {
      calls.push(current);
      current = [];
      size = 0;
    }
    current.push(place({ prepared: p, slot: current.length, periodSeconds: o.periodSeconds }));
    size += count;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * One request's queries for the SDK, ids prefixed with its slot in the call (none when it is alone):
 * `r3_cpu`, or `r3_<index>` when the prefix would pass CloudWatch's 255 characters. The answer
 * query alone returns data.
 */
function place(o: { prepared: Prepared; slot: number | undefined; periodSeconds: number }): Placed {
  const { request, answerId } = o.prepared;
  const rename = new Map(
    request.queries.map((q, index) => {
      if (o.slot === undefined) return [q.id, q.id];
      const named = `r${o.slot}_${q.id}`;
      return [q.id, named.length <= MAX_ID_LENGTH ? named : `r${o.slot}_${index}`];
    }),
  );
  const queries = request.queries.map((q) =>
    toSdkQuery({
      query: q,
      id: rename.get(q.id) ?? q.id,
      returnData: q.id === answerId,
      periodSeconds: o.periodSeconds,
      rewrite: (text) => (o.slot === undefined ? text : rewriteExpression({ text, rename })),
    }),
  );
  return { key: request.key, answerId: rename.get(answerId) ?? answerId, queries };
}

/** The port's camelCase query as the SDK's PascalCase MetricDataQuery. */
function toSdkQuery(o: {
  query: MetricQuery;
  id: string;
  returnData: boolean;
  periodSeconds: number;
  rewrite: (expression: string) => string;
}): MetricDataQuery {
  const { query: q } = o;
  const base: MetricDataQuery = {
    Id: o.id,
    ReturnData: o.returnData,
    ...(q.label === undefined ? {} : { Label: q.label }),
  };
  if (q.expression !== undefined) {
    const insights = scanExpression(q.expression).metricsInsights;
    return {
      ...base,
      Expression: o.rewrite(q.expression),
      // Metrics Insights and SEARCH choose their own metrics and need the period; math does not.
      ...(insights || /\bSEARCH\s*\(/.test(q.expression) ? { Period: o.periodSeconds } : {}),
    };
  }
  const stat = q.metricStat as NonNullable<MetricQuery['metricStat']>;
  return {
    ...base,
    MetricStat: {
      Metric: {
        Namespace: stat.metric.namespace,
        MetricName: stat.metric.metricName,
        Dimensions: (stat.metric.dimensions ?? []).map((d) => ({ Name: d.name, Value: d.value })),
      },
      Period: o.periodSeconds,
      Stat: stat.stat,
      ...(stat.unit === undefined ? {} : { Unit: stat.unit as StandardUnit }),
    },
  };
}

// ---- expressions ----------------------------------------------------------------------------

type Lexeme = { kind: 'string' | 'number' | 'ident' | 'other'; text: string; callee: boolean };

/**
 * Splits an expression into string literals ('…' or "…", backslash escapes), numbers (so `1e5`
 * is no id), identifiers (noting those called as functions) and the rest, keeping every character.
 */
function lex(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: text.slice(i, j + 1), callee: false });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i);
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    if (number) {
      out.push({ kind: 'number', text: number[0], callee: false });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (ident) {
      const callee = /^\s*\(/.test(text.slice(i + ident[0].length));
      out.push({ kind: 'ident', text: ident[0], callee });
      i += ident[0].length;
      continue;
    }
    out.push({ kind: 'other', text: c, callee: false });
    i++;
  }
  return out;
}

/** Query ids are the identifiers that start lower case and are not called; functions are upper case. */
const isIdReference = (l: Lexeme): boolean =>
  l.kind === 'ident' && !l.callee && /^[a-z]/.test(l.text);

/** What an expression refers to, and whether it must have its call to itself. */
function scanExpression(text: string): {
  ids: string[];
  usesMetrics: boolean;
  metricsInsights: boolean;
} {
  // A Metrics Insights query: its lower-case words are not ids, and CloudWatch takes one per call.
  if (/^\s*SELECT\b/i.test(text)) return { ids: [], usesMetrics: false, metricsInsights: true };
  const lexemes = lex(text);
  return {
    ids: [...new Set(lexemes.filter(isIdReference).map((l) => l.text))],
    // METRICS() returns every metric of the call, not only the request's.
    usesMetrics: lexemes.some((l) => l.kind === 'ident' && l.callee && l.text === 'METRICS'),
    metricsInsights: false,
  };
}

/** Renames the query ids an expression refers to; strings, numbers and functions stay as written. */
export function rewriteExpression(o: { text: string; rename: Map<string, string> }): string {
  if (/^\s*SELECT\b/i.test(o.text)) return o.text;
  return lex(o.text)
    .map((l) => (isIdReference(l) ? (o.rename.get(l.text) ?? l.text) : l.text))
    .join('');
}

// ---- reading ----------------------------------------------------------------------------------

/** What all pages of a call said about one id. */
type IdRead = {
  newest?: { at: number; value: number };
  /** Results with this id on one page (more than one: the expression returned an array). */
  maxResultsPerPage: number;
  /** Statuses that are not a page break: any but PartialData on a page followed by another. */
  statuses: Set<string>;
  messages: { code?: string; value?: string }[];
};

/** CloudWatch's answer to a request it will never take as it is (not throttling, not a fault). */
function isRefusal(error: unknown): boolean {
  const e = error as { $fault?: string; name?: string } | null;
  return (
    e?.$fault === 'client' &&
    !/Throttl|LimitExceeded|TooManyRequests|AccessDenied|Unrecognized|Expired/i.test(e.name ?? '')
  );
}

async function readCall(o: {
  client: CloudWatchClient;
  queries: MetricDataQuery[];
  startTime: Date;
  endTime: Date;
}): Promise<Map<string, IdRead>> {
  const reads = new Map<string, IdRead>();
  let nextToken: string | undefined;
  do {
    const out = await o.client.send(
      new GetMetricDataCommand({
        MetricDataQueries: o.queries,
        StartTime: o.startTime,
        EndTime: o.endTime,
        ScanBy: 'TimestampDescending',
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    );
    const perPage = new Map<string, number>();
    for (const r of out.MetricDataResults ?? []) {
      const id = r.Id ?? '';
      let read = reads.get(id);
      if (!read) {
        read = { maxResultsPerPage: 0, statuses: new Set(), messages: [] };
        reads.set(id, read);
      }
      const onPage = (perPage.get(id) ?? 0) + 1;
      perPage.set(id, onPage);
      read.maxResultsPerPage = Math.max(read.maxResultsPerPage, onPage);
      // PartialData on a page with a NextToken only says "more on the next page".
      const status = r.StatusCode ?? 'Complete';
      if (!(status === 'PartialData' && out.NextToken)) read.statuses.add(status);
      for (const m of r.Messages ?? []) {
        read.messages.push({
          ...(m.Code === undefined ? {} : { code: m.Code }),
          ...(m.Value === undefined ? {} : { value: m.Value }),
        });
      }
      const timestamps = r.Timestamps ?? [];
      const values = r.Values ?? [];
      timestamps.forEach((t, i) => {
        const value = values[i];
        const at = t.getTime();
        if (value === undefined || !Number.isFinite(value)) return;
        if (!read.newest || at > read.newest.at) read.newest = { at, value };
      });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return reads;
}

/** One request's value from what CloudWatch said about its answer query. */
function judge(o: { key: string; read: IdRead | undefined }): {
  value: number | undefined;
  issues: MetricReadIssue[];
} {
  const { key, read } = o;
  if (!read) {
    return {
      value: undefined,
      issues: [{ key, effect: 'no-data', reason: 'CloudWatch returned no result for the query.' }],
    };
  }
  const messages = read.messages.length > 0 ? { messages: read.messages } : {};
  const failed = [...read.statuses].find((s) => STOP_STATUSES.has(s) || s === 'PartialData');
  if (failed !== undefined) {
    return {
      value: undefined,
      issues: [
        {
          key,
          effect: 'no-data',
          reason: `CloudWatch answered the query with StatusCode ${failed}.`,
          statusCode: failed,
          ...messages,
        },
      ],
    };
  }
  if (read.maxResultsPerPage > 1) {
    return {
      value: undefined,
      issues: [
        {
          key,
          effect: 'no-data',
          reason: `The expression returns ${read.maxResultsPerPage} time series; the request's answer must be one.`,
        },
      ],
    };
  }
  const issues: MetricReadIssue[] =
    read.messages.length > 0
      ? [
          {
            key,
            effect: 'warning',
            reason: 'CloudWatch attached messages to the answer.',
            statusCode: 'Complete',
            ...messages,
          },
        ]
      : [];
  return { value: read.newest?.value, issues };
}
