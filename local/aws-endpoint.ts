/**
 * One AWS-compatible endpoint (default http://127.0.0.1:4566) for the offline stack. It dispatches on
 * `X-Amz-Target`, as AWS's JSON protocols do: ECS → the emulator, DynamoDB → the embedded engine,
 * EventBridge PutEvents → the local event router, SQS SendMessage → the dead-letter file, CloudWatch
 * → the local CloudWatch. The AWS CLI and SDKs work against it with `--endpoint-url` /
 * AWS_ENDPOINT_URL. Requests without X-Amz-Target under `/_steward/` go to the emulator's control API
 * (control-api.ts); other query-protocol requests (form-encoded, as the AWS CLI 2.9 sends CloudWatch's)
 * go to the local CloudWatch.
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
import { CLOUDWATCH_TARGET_PREFIX, isCloudWatchRequest } from './cloudwatch/http';
import { CONTROL_PREFIX, isControlRequest } from './control-api';
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
   * Serves CloudWatch: JSON 1.0 targets, and query-protocol requests (counted by onRequest as
   * `GraniteServiceVersion20100801.` + their Action when it is in the URL, else as the prefix alone).
   */
  cloudwatch?: RequestListener;
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
    if (options.cloudwatch && isCloudWatchRequest(req)) {
      const action = /[?&]Action=([A-Za-z]+)/.exec(req.url ?? '')?.[1] ?? '';
      options.onRequest?.(target || `${CLOUDWATCH_TARGET_PREFIX}${action}`);
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
