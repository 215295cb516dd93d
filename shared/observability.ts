/**
 * One logger and one metrics object per Lambda container (Powertools): structured JSON logs with the
 * Lambda context and correlation ids, and CloudWatch metrics in EMF. Log once, at the edge.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: 'steward' });
export const metrics = new Metrics({ namespace: 'Steward', serviceName: 'steward' });
export { MetricUnit } from '@aws-lambda-powertools/metrics';
