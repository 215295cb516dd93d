/**
 * The metrics port: what the scaling policies read. Queries are CloudWatch's MetricDataQuery in
 * camelCase, so a policy's metric (or metric-math expression) is written once and read the same way
 * from CloudWatch in AWS and from the local stack offline.
 */

export type MetricDimension = { name: string; value: string };

/** One metric: CloudWatch's Metric. */
export type MetricSpec = { namespace: string; metricName: string; dimensions?: MetricDimension[] };

/**
 * One query: a metric with a statistic (`metricStat`) or a metric-math `expression` over the other
 * queries of the same request, as GetMetricData's MetricDataQuery. Ids start with a lower-case letter
 * and are unique within a request.
 */
export type MetricQuery = {
  id: string;
  metricStat?: { metric: MetricSpec; stat: string; unit?: string };
  expression?: string;
  /** The query whose value is the request's answer; when none says so, the only query. */
  returnData?: boolean;
  label?: string;
};

/** A set of queries answered together (a policy's metric); `key` is the caller's name for it. */
export type MetricRequest = { key: string; queries: MetricQuery[] };

export type Metrics = {
  /**
   * The most recent datapoint of each request's answer within [now - windowSeconds, now], at
   * `periodSeconds` resolution; a request with no datapoint in the window maps to undefined (no data
   * is not zero). Many requests are read in as few calls as the backend allows.
   */
  latest(input: {
    requests: MetricRequest[];
    now: number;
    periodSeconds: number;
    windowSeconds: number;
  }): Promise<Map<string, number | undefined>>;
};
