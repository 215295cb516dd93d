/**
 * The local HTTP API: API Gateway HTTP API semantics (payload format 2.0) over the `httpApi` routes of
 * serverless.yml. Routes with an authorizer need `Authorization: Bearer <token>` here, where AWS uses
 * IAM; `GET /health` does not.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readBody } from './http-body';
import type { LocalFunction } from './lambda-runtime';

/** API Gateway's own payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES =
  /^(text\/|application\/(json|[\w.+-]+\+json|xml|x-www-form-urlencoded|yaml|x-yaml)\b)/i;

type CompiledRoute = {
  method: string;
  path: string;
  regex: RegExp;
  params: string[];
  authorized: boolean;
  fn: LocalFunction;
};

/** Creates (does not start) the HTTP API server. */
export function createHttpGateway(options: {
  functions: Iterable<LocalFunction>;
  token: string;
  accountId: string;
}): Server {
  const routes: CompiledRoute[] = [];
  for (const fn of options.functions) {
    for (const r of fn.config.httpRoutes) routes.push({ ...r, ...compilePath(r.path), fn });
  }
  const expected = Buffer.from(options.token);

  return createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, error(500, 'Internal Server Error'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = requestUrl(req.url ?? '/');
    // A target that is no path (`*`, junk) names no route.
    if (!url) return reply(res, error(404, 'Not Found'));
    const method = (req.method ?? 'GET').toUpperCase();
    const matching = routes.filter((r) => r.regex.test(url.pathname));
    if (matching.length === 0) return reply(res, error(404, 'Not Found'));
    const route = matching.find((r) => r.method === method || r.method === 'ANY');
    // Authentication first: without a token, a caller learns nothing about routes and methods.
    if ((route ?? matching[0])?.authorized && !authorized(req.headers.authorization)) {
      return reply(res, {
        ...error(401, 'Unauthorized: send Authorization: Bearer <token>'),
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    if (!route) {
      const allow = [...new Set(matching.map((r) => r.method))].join(', ');
      return reply(res, {
        ...error(405, `Method ${method} is not allowed on ${url.pathname}; allowed: ${allow}`),
        headers: { allow },
      });
    }
    const raw = await readBody(req, MAX_PAYLOAD_BYTES);
    if (raw === undefined) return reply(res, error(413, 'Request Entity Too Large', '(body)'));
    const m = route.regex.exec(url.pathname);
    const pathParameters: Record<string, string> = {};
    for (const [i, p] of route.params.entries()) {
      try {
        pathParameters[p] = decodeURIComponent(m?.[i + 1] ?? '');
      } catch {
        return reply(
          res,
          error(400, `Bad Request: path parameter ${p} is not valid percent-encoding`, p),
        );
      }
    }
    const event = toEvent({
      req,
      url,
      method,
      route,
      raw,
      pathParameters,
      accountId: options.accountId,
    });
    let result: unknown;
    try {
      result = await route.fn.invoke(event);
    } catch {
      return reply(res, error(500, 'Internal Server Error'));
    }
    reply(res, normalize(result));
  }

  /** The bearer token check; the scheme is case-insensitive (RFC 7235), the token compared in constant time. */
  function authorized(header: string | undefined): boolean {
    const m = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
    const given = Buffer.from(m?.[1] ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** The gateway's own errors, in the API's error shape. */
/**
 * The request target as a URL: origin-form (`/path?query`) is read as a path, even `//` or `/\\`
 * (resolving it against a base would take it for a host); absolute-form (`http://host/path`) as
 * itself; anything else (`*`, junk) is no target.
 */
function requestUrl(target: string): URL | undefined {
  const text = target.startsWith('/') ? `http://local${target}` : target;
  return URL.canParse(text) ? new URL(text) : undefined;
}

function error(
  statusCode: number,
  message: string,
  path?: string,
): APIGatewayProxyStructuredResultV2 {
  const errors = path === undefined ? [] : [{ path, message }];
  return { statusCode, body: JSON.stringify({ message, errors }) };
}

function compilePath(path: string): { regex: RegExp; params: string[] } {
  const params: string[] = [];
  const pattern = path
    .split('/')
    .map((part) => {
      const m = /^\{([A-Za-z0-9_]+)(\+)?\}$/.exec(part);
      if (!m) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      params.push(m[1] as string);
      return m[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { regex: new RegExp(`^${pattern}$`), params };
}

function toEvent(o: {
  req: IncomingMessage;
  url: URL;
  method: string;
  route: CompiledRoute;
  raw: Buffer;
  pathParameters: Record<string, string>;
  accountId: string;
}): APIGatewayProxyEventV2 {
  const { req, url, route, raw, pathParameters } = o;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const text = TEXT_TYPES.test(headers['content-type'] ?? 'text/plain');
  const routeKey = `${route.method} ${route.path}`;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: o.accountId,
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: o.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(raw.length > 0 ? { body: text ? raw.toString('utf8') : raw.toString('base64') } : {}),
    isBase64Encoded: raw.length > 0 && !text,
  };
}

/** Payload 2.0: a result without `statusCode` is a 200 with the value as JSON. */
function normalize(result: unknown): APIGatewayProxyStructuredResultV2 {
  if (result && typeof result === 'object' && 'statusCode' in result)
    return result as APIGatewayProxyStructuredResultV2;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result ?? null),
  };
}

function reply(res: ServerResponse, r: APIGatewayProxyStructuredResultV2): void {
  const body =
    r.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8');
  res.writeHead(r.statusCode ?? 200, {
    'content-type': 'application/json',
    ...(r.headers as Record<string, string> | undefined),
    'content-length': body.length,
    'apigw-requestid': randomUUID(),
  });
  res.end(body);
}
