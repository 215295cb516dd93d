/**
 * The HTTP edge: one mapping from errors to status codes (400/404/409, and 413/415 at the edge), JSON
 * bodies `{ message, errors: [{ path, message }] }`, and a generic message for anything unexpected.
 */
import type { MiddlewareObj } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import {
  ConflictError,
  DomainError,
  type FieldError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../core/errors';
import { checkDepth } from '../core/schemas';
import { logger } from '../observability';

/** An error that is about the HTTP request itself (size, media type, route). */
export class HttpError extends DomainError {
  readonly statusCode: number;
  readonly errors: FieldError[];
  constructor(options: { statusCode: number; message: string; errors?: FieldError[] }) {
    super(options.message);
    this.name = 'HttpError';
    this.statusCode = options.statusCode;
    this.errors = options.errors ?? [];
  }
}

/** A JSON response. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** The response for an error: its own message below 500, a generic one (and a log line) above. */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof ValidationError)
    return json(400, { message: error.message, errors: error.errors });
  if (error instanceof ForbiddenError) return json(403, { message: error.message, errors: [] });
  if (error instanceof NotFoundError) return json(404, { message: error.message, errors: [] });
  if (error instanceof ConflictError) return json(409, { message: error.message, errors: [] });
  if (error instanceof PreconditionFailedError) {
    return json(412, {
      message: error.message,
      errors: [{ path: 'headers.if-match', message: error.message }],
    });
  }
  if (error instanceof HttpError)
    return json(error.statusCode, { message: error.message, errors: error.errors });
  logger.error('Unhandled error', { error: error as Error });
  return json(500, { message: 'Internal server error', errors: [] });
}

/** Middy's last middleware: every thrown error becomes a response; nothing escapes as a 502. */
export function httpErrors(): MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  Context
> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error);
    },
  };
}

/** Largest request body the API accepts (bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Media types by what they carry. */
const MEDIA = {
  json: { pattern: /^application\/json\s*(;|$)/i, name: 'application/json' },
  yaml: {
    pattern: /^(application\/(x-)?yaml|text\/(x-)?yaml)\s*(;|$)/i,
    name: 'application/yaml',
  },
} as const;

/**
 * The request's body as text, with the kind its Content-Type names (one of `accepted`): 413 when
 * too large, 415 for another media type, 400 when empty.
 */
export function textBody<K extends keyof typeof MEDIA>(
  event: APIGatewayProxyEventV2,
  accepted: readonly K[],
): { body: string; kind: K } {
  const raw =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new HttpError({
      statusCode: 413,
      message: `Request body is larger than ${MAX_BODY_BYTES} bytes`,
    });
  }
  const contentType = headerOf(event, 'content-type') ?? '';
  const kind = accepted.find((k) => MEDIA[k].pattern.test(contentType));
  if (kind === undefined) {
    throw new HttpError({
      statusCode: 415,
      message: `Content-Type must be ${accepted.map((k) => MEDIA[k].name).join(' or ')}`,
      errors: [
        {
          path: 'headers.content-type',
          message: `is ${contentType === '' ? 'missing' : `'${contentType}'`}`,
        },
      ],
    });
  }
  if (raw.trim() === '') {
    throw new ValidationError('Request body is required', [
      { path: '(body)', message: 'is empty' },
    ]);
  }
  return { body: raw, kind };
}

/** The request's JSON body; 415 for another media type, 413 when too large, 400 when malformed. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const { body: raw } = textBody(event, ['json']);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ValidationError('Malformed JSON body', [
      { path: '(body)', message: (error as Error).message },
    ]);
  }
  checkDepth(parsed);
  return parsed;
}

/** A header by name, case-insensitively (API Gateway lower-cases them; tests may not). */
export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === wanted) return v;
  return undefined;
}
