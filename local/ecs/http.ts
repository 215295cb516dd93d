import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http-body';
import type { EcsEmulator } from './emulator';
import { EcsErrorType } from './errors';

/** `X-Amz-Target` prefix of ECS operations (botocore metadata.targetPrefix). */
export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

const send = (o: {
  res: ServerResponse;
  status: number;
  body: unknown;
  errorType?: string;
}): void => {
  const payload = JSON.stringify(o.body);
  o.res.writeHead(o.status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(payload),
    'x-amzn-RequestId': randomUUID(),
    ...(o.errorType ? { 'x-amzn-ErrorType': o.errorType } : {}),
  });
  o.res.end(payload);
};

const sendError = (o: {
  res: ServerResponse;
  status: number;
  type: string;
  message: string;
}): void =>
  send({
    res: o.res,
    status: o.status,
    body: { __type: o.type, message: o.message },
    errorType: o.type,
  });

/** A Node request handler that serves the emulator over HTTP as the ECS JSON 1.1 endpoint. */
export const createEcsRequestHandler =
  (emulator: EcsEmulator) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const target = req.headers['x-amz-target'];
      const operation =
        typeof target === 'string' && target.startsWith(ECS_TARGET_PREFIX)
          ? target.slice(ECS_TARGET_PREFIX.length)
          : undefined;
      const raw = await readBody(req, MAX_BODY_BYTES);
      if (raw === undefined) {
        sendError({
          res,
          status: 413,
          type: EcsErrorType.Serialization,
          message: 'Request body is too large',
        });
        return;
      }
      const text = raw.toString('utf8');
      if (operation === undefined) {
        sendError({
          res,
          status: 400,
          type: EcsErrorType.UnknownOperation,
          message: `Unknown or missing X-Amz-Target: ${String(target ?? '')}`,
        });
        return;
      }
      let body: unknown;
      try {
        body = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        sendError({
          res,
          status: 400,
          type: EcsErrorType.Serialization,
          message: 'The request body is not valid JSON.',
        });
        return;
      }
      const result = await emulator.handle(operation, body);
      send({
        res,
        status: result.status,
        body: result.body,
        ...(result.errorType ? { errorType: result.errorType } : {}),
      });
    })().catch(() => {
      if (!res.headersSent) {
        sendError({ res, status: 500, type: EcsErrorType.Server, message: 'Internal error.' });
      } else {
        res.destroy();
      }
    });
  };
