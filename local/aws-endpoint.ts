/**
 * One AWS-compatible endpoint (default http://127.0.0.1:4566) for the offline stack. It dispatches on
 * `X-Amz-Target`, as AWS's JSON protocols do: ECS → the emulator, DynamoDB → the embedded engine,
 * EventBridge PutEvents → the local event router, SQS SendMessage → the dead-letter file, CloudWatch
 * → the local CloudWatch. The AWS CLI and SDKs work against it with `--endpoint-url` /
 * AWS_ENDPOINT_URL. Requests without X-Amz-Target under `/_steward/` go to the emulator's control API
 * (control-api.ts). Query-protocol requests (form-encoded `Action=…&Version=…`, no X-Amz-Target) are
 * read first and routed by their `Version`: 2015-12-01 → the local Elastic Load Balancing v2,
 * anything else → the local CloudWatch (2010-08-01; the AWS CLI 2.9 sends CloudWatch's this way),
 * which answers a wrong Version itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { gunzipSync } from 'node:zlib';
import { CLOUDWATCH_TARGET_PREFIX } from './cloudwatch/http';
import { CONTROL_PREFIX, isControlRequest } from './control-api';
import { ELBV2_API_VERSION, ELBV2_OPERATIONS, ELBV2_TARGET_PREFIX } from './elbv2/http';
import type { EventRouter } from './event-router';
import { readBody } from './http-body';

const ECS = 'AmazonEC2ContainerServiceV20141113.';
const DYNAMODB = 'DynamoDB_20120810.';
const EVENTS = 'AWSEvents.';
const SQS = 'AmazonSQS.';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export type AwsEndpointOptions = {
  ecs: RequestListener;
  dynamodb: RequestListener;
  events: EventRouter;
  deadLetterFile: string;
  /** Called with each request's X-Amz-Target (for call counting in tests and benchmarks). */
  onRequest?: (target: string) => void;
  /** Serves `/_steward/…` requests without X-Amz-Target (not counted by onRequest). */
  control?: RequestListener;
  /**
   * Serves CloudWatch: JSON 1.0 targets, and query-protocol requests whose Version is not ELBv2's
   * (counted by onRequest as `GraniteServiceVersion20100801.` + their Action). It is handed
   * query-protocol bodies already read (`preread`).
   */
  cloudwatch?: (
    req: IncomingMessage,
    res: ServerResponse,
    preread?: { raw: Buffer | undefined },
  ) => void;
  /**
   * Serves Elastic Load Balancing v2: query-protocol requests with `Version=2015-12-01`, handed
   * their parameters (body and URL merged); counted by onRequest as `ElasticLoadBalancing_v10.` +
   * their Action.
   */
  elbv2?: (o: { params: URLSearchParams; res: ServerResponse }) => void;
};

/** Creates (does not start) the endpoint's HTTP server. */
export function createAwsEndpoint(options: AwsEndpointOptions): Server {
  return createServer((req, res) => {
    if (isControlRequest(req)) {
      if (options.control) return options.control(req, res);
      req.resume();
      return send({
        res,
        status: 404,
        contentType: 'application/json',
        body: { message: `No control API on this endpoint (${CONTROL_PREFIX}…)` },
      });
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === '' && (options.cloudwatch || options.elbv2) && isQueryProtocolRequest(req)) {
      void queryOperation({ req, res, options }).catch(() => {
        if (res.headersSent) res.destroy();
        else
          sendXmlError({
            res,
            status: 500,
            code: 'InternalFailure',
            message: 'The local endpoint failed to process the request.',
          });
      });
      return;
    }
    if (options.cloudwatch && target.startsWith(CLOUDWATCH_TARGET_PREFIX)) {
      options.onRequest?.(target);
      return options.cloudwatch(req, res);
    }
    options.onRequest?.(target);
    if (target.startsWith(ECS)) return options.ecs(req, res);
    if (target.startsWith(DYNAMODB)) return options.dynamodb(req, res);
    void jsonOperation({ req, res, target, options }).catch((error: unknown) => {
      if (!res.headersSent)
        send({
          res,
          status: 500,
          contentType: JSON_10,
          body: { __type: 'InternalFailure', message: String(error) },
        });
    });
  });
}

const JSON_11 = 'application/x-amz-json-1.1';
const JSON_10 = 'application/x-amz-json-1.0';

/** A query-protocol request: no X-Amz-Target; a form-encoded POST, or `Action=` in a GET's URL. */
function isQueryProtocolRequest(req: IncomingMessage): boolean {
  const type = String(req.headers['content-type'] ?? '');
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) return true;
  return req.method === 'GET' && /[?&]Action=/.test(req.url ?? '');
}

/** Reads a query-protocol request and hands it to the service its `Version` names. */
async function queryOperation(o: {
  req: IncomingMessage;
  res: ServerResponse;
  options: AwsEndpointOptions;
}): Promise<void> {
  const { req, res, options } = o;
  const raw = await readBody(req, MAX_BODY_BYTES);
  const params = queryParameters({ req, raw });
  const action = params.get('Action') ?? '';
  if (options.elbv2 && raw !== undefined && params.get('Version') === ELBV2_API_VERSION) {
    options.onRequest?.(`${ELBV2_TARGET_PREFIX}${action}`);
    return options.elbv2({ params, res });
  }
  if (options.cloudwatch) {
    options.onRequest?.(`${CLOUDWATCH_TARGET_PREFIX}${action}`);
    return options.cloudwatch(req, res, { raw });
  }
  options.onRequest?.('');
  return sendXmlError({
    res,
    status: raw === undefined ? 413 : 400,
    code: raw === undefined ? 'RequestEntityTooLarge' : 'InvalidAction',
    message:
      raw === undefined
        ? 'The request body is too large.'
        : `Version ${params.get('Version') ?? '(none)'} is not served by the local endpoint's query protocol (Elastic Load Balancing v2: ${ELBV2_API_VERSION}).`,
  });
}

/**
 * A query-protocol request's parameters: the form body (gunzipped if sent compressed; left out if
 * it is not valid gzip or was too large to keep) and the URL's query string.
 */
function queryParameters(o: { req: IncomingMessage; raw: Buffer | undefined }): URLSearchParams {
  let text = '';
  if (o.raw !== undefined) {
    const gzip = String(o.req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
    try {
      text = (gzip ? gunzipSync(o.raw, { maxOutputLength: MAX_BODY_BYTES }) : o.raw).toString(
        'utf8',
      );
    } catch {
      // Routed by the URL alone; the service that gets it answers the bad body.
    }
  }
  const params = new URLSearchParams(text);
  for (const [k, v] of new URL(o.req.url ?? '/', 'http://local').searchParams) params.append(k, v);
  return params;
}

/** A query-protocol error, for requests no service on the endpoint takes. */
function sendXmlError(o: {
  res: ServerResponse;
  status: number;
  code: string;
  message: string;
}): void {
  const requestId = randomUUID();
  const escapeXml = (s: string) =>
    s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] ?? c);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>${o.code}</Code><Message>${escapeXml(o.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  o.res.writeHead(o.status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': requestId,
  });
  o.res.end(body);
}

async function jsonOperation(o: {
  req: IncomingMessage;
  res: ServerResponse;
  target: string;
  options: AwsEndpointOptions;
}) {
  const { req, res, target, options } = o;
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === undefined) {
    return send({
      res,
      status: 413,
      contentType: JSON_11,
      body: { __type: 'SerializationException', message: 'Request body is too large' },
    });
  }
  const text = raw.toString('utf8');
  let body: Record<string, unknown>;
  try {
    body = text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    return send({
      res,
      status: 400,
      contentType: JSON_11,
      body: { __type: 'SerializationException', message: 'Request body is not valid JSON' },
    });
  }
  if (target === `${EVENTS}PutEvents`) {
    try {
      return send({
        res,
        status: 200,
        contentType: JSON_11,
        body: options.events.putEvents(body.Entries),
      });
    } catch (error) {
      return send({
        res,
        status: 400,
        contentType: JSON_11,
        body: { __type: 'ValidationException', message: (error as Error).message },
      });
    }
  }
  if (target === `${SQS}SendMessage`) {
    const messageBody = typeof body.MessageBody === 'string' ? body.MessageBody : undefined;
    if (messageBody === undefined) {
      return send({
        res,
        status: 400,
        contentType: JSON_10,
        body: {
          __type: 'com.amazonaws.sqs#MissingParameter',
          message: 'The request must contain the parameter MessageBody.',
        },
      });
    }
    await appendFile(
      options.deadLetterFile,
      `${JSON.stringify({ queueUrl: body.QueueUrl, at: new Date().toISOString(), body: tryJson(messageBody) })}\n`,
    );
    // The SDK checks this digest against the body it sent.
    const md5 = createHash('md5').update(messageBody).digest('hex');
    return send({
      res,
      status: 200,
      contentType: JSON_10,
      body: { MessageId: randomUUID(), MD5OfMessageBody: md5 },
    });
  }
  if (target === '' && req.method === 'GET') {
    return send({
      res,
      status: 200,
      contentType: 'application/json',
      body: {
        service: 'steward-local-aws',
        targets: [
          ECS,
          DYNAMODB,
          `${EVENTS}PutEvents`,
          `${SQS}SendMessage`,
          ...(options.cloudwatch
            ? [
                `${CLOUDWATCH_TARGET_PREFIX}PutMetricData`,
                `${CLOUDWATCH_TARGET_PREFIX}GetMetricData`,
              ]
            : []),
          ...(options.elbv2 ? ELBV2_OPERATIONS.map((op) => `${ELBV2_TARGET_PREFIX}${op}`) : []),
        ],
      },
    });
  }
  return send({
    res,
    status: 400,
    contentType: JSON_11,
    body: {
      __type: 'UnknownOperationException',
      message: `Operation ${target || '(no X-Amz-Target)'} is not supported by the local endpoint`,
    },
  });
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(o: {
  res: ServerResponse;
  status: number;
  contentType: string;
  body: unknown;
}): void {
  const payload = JSON.stringify(o.body);
  const type = (o.body as { __type?: string })?.__type;
  o.res.writeHead(o.status, {
    'content-type': o.contentType,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
    ...(type ? { 'x-amzn-errortype': type } : {}),
  });
  o.res.end(payload);
}
