/**
 * The local CloudWatch over HTTP, in both of CloudWatch's protocols:
 * - JSON 1.0 (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`), which the AWS SDK for
 *   JavaScript v3 speaks (timestamps in epoch seconds; errors as `__type` plus the
 *   `x-amzn-query-error` header the SDK maps them back with);
 * - the query protocol (form-encoded `Action=PutMetricData&Version=2010-08-01&…`, XML answers),
 *   which the AWS CLI v2 of Debian 12 (2.9) and older SDKs speak.
 * Bodies may be gzip-compressed (the SDK compresses PutMetricData from 10 KiB).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { readBody } from '../http-body';
import type { GetMetricDataOutput, LocalCloudWatch } from './engine';
import { CloudWatchError, CloudWatchErrorCode } from './errors';
import { nestQueryParameters } from './request-reader';

/** `X-Amz-Target` prefix of CloudWatch's JSON 1.0 operations. */
export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';

const API_VERSION = '2010-08-01';
const XML_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
// PutMetricData accepts 1 MB; GetMetricData with 500 queries stays well below this.
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const JSON_10 = 'application/x-amz-json-1.0';

type Protocol = 'json' | 'query';

/**
 * A Node request handler for the local CloudWatch (both protocols). `preread` is the body when the
 * caller has already read it (the AWS endpoint reads query-protocol bodies to route them by
 * `Version`); `raw` undefined there means it was too large to keep.
 */
export const createCloudWatchRequestHandler =
  (engine: LocalCloudWatch) =>
  (req: IncomingMessage, res: ServerResponse, preread?: { raw: Buffer | undefined }): void => {
    const target = req.headers['x-amz-target'];
    const protocol: Protocol = typeof target === 'string' ? 'json' : 'query';
    void handle({ engine, req, res, protocol, preread }).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const known =
        error instanceof CloudWatchError
          ? error
          : new CloudWatchError({
              code: CloudWatchErrorCode.InternalServiceError,
              message: 'The local CloudWatch failed to process the request.',
            });
      sendError({ res, protocol, error: known });
    });
  };

async function handle(o: {
  engine: LocalCloudWatch;
  req: IncomingMessage;
  res: ServerResponse;
  protocol: Protocol;
  preread: { raw: Buffer | undefined } | undefined;
}): Promise<void> {
  const { engine, req, res, protocol } = o;
  const raw = o.preread ? o.preread.raw : await readBody(req, MAX_BODY_BYTES);
  if (raw === undefined || raw.length > MAX_BODY_BYTES) {
    throw new CloudWatchError({
      code: CloudWatchErrorCode.RequestEntityTooLarge,
      message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
    });
  }
  const text = decode({ raw, encoding: String(req.headers['content-encoding'] ?? '') });
  let operation: string;
  let body: Record<string, unknown>;
  if (protocol === 'json') {
    operation = String(req.headers['x-amz-target']).slice(CLOUDWATCH_TARGET_PREFIX.length);
    try {
      const parsed: unknown = text.trim() === '' ? {} : JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
      body = parsed as Record<string, unknown>;
    } catch {
      throw new CloudWatchError({
        code: CloudWatchErrorCode.InvalidParameterValue,
        message: 'The request body is not a JSON object.',
      });
    }
  } else {
    const params = new URLSearchParams(text);
    for (const [k, v] of new URL(req.url ?? '/', 'http://local').searchParams) params.append(k, v);
    operation = params.get('Action') ?? '';
    const version = params.get('Version');
    if (version !== null && version !== API_VERSION) {
      throw new CloudWatchError({
        code: CloudWatchErrorCode.InvalidAction,
        message: `Version ${version} is not an API version of CloudWatch served here (${API_VERSION}); the local endpoint speaks the query protocol for CloudWatch and Elastic Load Balancing v2 (2015-12-01) only.`,
      });
    }
    body = nestQueryParameters(params);
  }
  engine.count(operation || '(none)');
  if (operation === 'PutMetricData') {
    engine.putMetricData(body);
    if (protocol === 'json') return send({ res, status: 200, contentType: JSON_10, body: '{}' });
    return send({
      res,
      status: 200,
      contentType: 'text/xml',
      body: xmlDocument({ root: 'PutMetricDataResponse', inner: '' }),
    });
  }
  if (operation === 'GetMetricData') {
    const out = engine.getMetricData(body);
    if (protocol === 'json') {
      return send({ res, status: 200, contentType: JSON_10, body: JSON.stringify(toJson(out)) });
    }
    return send({
      res,
      status: 200,
      contentType: 'text/xml',
      body: xmlDocument({
        root: 'GetMetricDataResponse',
        inner: el('GetMetricDataResult', toXml(out)),
      }),
    });
  }
  throw new CloudWatchError({
    code: CloudWatchErrorCode.InvalidAction,
    message: `The action ${operation || '(none)'} is not supported by the local CloudWatch (PutMetricData, GetMetricData).`,
  });
}

function decode(o: { raw: Buffer; encoding: string }): string {
  if (o.encoding.toLowerCase() !== 'gzip') return o.raw.toString('utf8');
  try {
    return gunzipSync(o.raw, { maxOutputLength: MAX_BODY_BYTES }).toString('utf8');
  } catch {
    throw new CloudWatchError({
      code: CloudWatchErrorCode.InvalidParameterValue,
      message:
        'The request body is not valid gzip, or is larger than the local limit once decompressed.',
    });
  }
}

const toJson = (out: GetMetricDataOutput) => ({
  MetricDataResults: out.results.map((r) => ({
    Id: r.id,
    Label: r.label,
    Timestamps: r.timestamps.map((t) => t / 1000),
    Values: r.values,
    StatusCode: r.statusCode,
    ...(r.messages.length === 0
      ? {}
      : { Messages: r.messages.map((m) => ({ Code: m.code, Value: m.value })) }),
  })),
  ...(out.nextToken === undefined ? {} : { NextToken: out.nextToken }),
  Messages: out.messages.map((m) => ({ Code: m.code, Value: m.value })),
});

const toXml = (out: GetMetricDataOutput): string =>
  el(
    'MetricDataResults',
    out.results
      .map((r) =>
        el(
          'member',
          [
            el('Id', escapeXml(r.id)),
            el('Label', escapeXml(r.label)),
            el('Timestamps', r.timestamps.map((t) => el('member', isoSeconds(t))).join('')),
            el('Values', r.values.map((v) => el('member', String(v))).join('')),
            el('StatusCode', r.statusCode),
            el('Messages', r.messages.map(xmlMessage).join('')),
          ].join(''),
        ),
      )
      .join(''),
  ) +
  (out.nextToken === undefined ? '' : el('NextToken', escapeXml(out.nextToken))) +
  el('Messages', out.messages.map(xmlMessage).join(''));

const xmlMessage = (m: { code: string; value: string }): string =>
  el('member', el('Code', escapeXml(m.code)) + el('Value', escapeXml(m.value)));

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `<name>inner</name>`; `inner` is already XML. */
const el = (name: string, ...inner: string[]): string => `<${name}>${inner.join('')}</${name}>`;

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

const xmlDocument = (o: { root: string; inner: string }): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${o.root} xmlns="${XML_NAMESPACE}">${o.inner}${el(
    'ResponseMetadata',
    el('RequestId', randomUUID()),
  )}</${o.root}>`;

function sendError(o: { res: ServerResponse; protocol: Protocol; error: CloudWatchError }): void {
  const { error } = o;
  if (o.protocol === 'json') {
    send({
      res: o.res,
      status: error.status,
      contentType: JSON_10,
      body: JSON.stringify({ __type: error.jsonType, message: error.message }),
      headers: { 'x-amzn-query-error': `${error.code};${error.faultType}` },
    });
    return;
  }
  send({
    res: o.res,
    status: error.status,
    contentType: 'text/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XML_NAMESPACE}">${el(
      'Error',
      el('Type', error.faultType) +
        el('Code', error.code) +
        el('Message', escapeXml(error.message)),
    )}${el('RequestId', randomUUID())}</ErrorResponse>`,
  });
}

function send(o: {
  res: ServerResponse;
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}): void {
  o.res.writeHead(o.status, {
    'content-type': o.contentType,
    'content-length': Buffer.byteLength(o.body),
    'x-amzn-requestid': randomUUID(),
    ...o.headers,
  });
  o.res.end(o.body);
}
