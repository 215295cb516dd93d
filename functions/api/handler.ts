/**
 * The HTTP API (API Gateway HTTP API, payload 2.0). Thin: pick the use case by route key, pass it the
 * parsed input, shape the answer. Authentication happens before this function: IAM in AWS, the bearer
 * token in the local gateway.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  createService,
  deleteService,
  etagOf,
  getService,
  listServiceEvents,
  listServices,
  listServiceTasks,
  redeployService,
  replaceService,
  type ServiceDeps,
  updateService,
  type WriteOutcome,
} from '../../shared/app/services';
import {
  listTaskDefinitionRevisions,
  registerTaskDefinition,
} from '../../shared/app/task-definitions';
import { openApiDocument } from '../../shared/http/openapi';
import {
  HttpError,
  headerOf,
  httpErrors,
  json,
  jsonBody,
  textBody,
} from '../../shared/http/responses';
import { logger } from '../../shared/observability';
import { wire } from '../../shared/wiring';

type Route = (
  deps: ServiceDeps,
  event: APIGatewayProxyEventV2,
) => Promise<APIGatewayProxyStructuredResultV2>;

const name = (event: APIGatewayProxyEventV2) => event.pathParameters?.serviceName ?? '';
const ifMatch = (event: APIGatewayProxyEventV2) => headerOf(event, 'if-match');
const query = (event: APIGatewayProxyEventV2, key: string) => {
  const value = event.queryStringParameters?.[key];
  return value === undefined ? {} : { [key]: value };
};

/** After a write: the service, and a log line if the reconcile request could not be sent. */
const written = (statusCode: number, outcome: WriteOutcome) => {
  if (!outcome.reconcileRequested) {
    logger.warn('Reconcile request not sent; the next tick will reconcile', {
      serviceName: outcome.service.serviceName,
    });
  }
  return json(statusCode, outcome.service, { etag: etagOf(outcome.service) });
};

const routes: Record<string, Route> = {
  'GET /health': async () => json(200, { status: 'ok' }),
  'GET /openapi.json': async () => json(200, openApiDocument()),
  'POST /services': async (deps, event) => {
    const outcome = await createService(deps, jsonBody(event));
    const response = written(201, outcome);
    return {
      ...response,
      headers: { ...response.headers, location: `/services/${outcome.service.serviceName}` },
    };
  },
  'GET /services': async (deps, event) => {
    const page = await listServices(deps, {
      ...query(event, 'cluster'),
      ...query(event, 'maxResults'),
      ...query(event, 'nextToken'),
    });
    return json(200, {
      services: page.items,
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    });
  },
  'GET /services/{serviceName}': async (deps, event) => {
    const service = await getService(deps, { serviceName: name(event) });
    return json(200, service, { etag: etagOf(service) });
  },
  // If-Match (optional) makes the write conditional on the ETag the caller read: 412 if stale.
  'PUT /services/{serviceName}': async (deps, event) =>
    written(
      200,
      await replaceService(deps, {
        serviceName: name(event),
        body: jsonBody(event),
        ifMatch: ifMatch(event),
      }),
    ),
  'PATCH /services/{serviceName}': async (deps, event) =>
    written(
      200,
      await updateService(deps, {
        serviceName: name(event),
        body: jsonBody(event),
        ifMatch: ifMatch(event),
      }),
    ),
  'DELETE /services/{serviceName}': async (deps, event) =>
    written(202, await deleteService(deps, { serviceName: name(event), ifMatch: ifMatch(event) })),
  'POST /services/{serviceName}/redeploy': async (deps, event) =>
    written(
      202,
      await redeployService(deps, { serviceName: name(event), ifMatch: ifMatch(event) }),
    ),
  'GET /services/{serviceName}/tasks': async (deps, event) => {
    const page = await listServiceTasks(deps, {
      serviceName: name(event),
      ...query(event, 'maxResults'),
      ...query(event, 'nextToken'),
    });
    return json(200, {
      tasks: page.items,
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    });
  },
  'GET /services/{serviceName}/events': async (deps, event) => {
    const page = await listServiceEvents(deps, {
      serviceName: name(event),
      ...query(event, 'nextToken'),
    });
    return json(200, {
      events: page.items,
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    });
  },
  'POST /task-definitions': async (deps, event) => {
    const { body, kind } = textBody(event, ['json', 'yaml']);
    const registered = await registerTaskDefinition(deps, { body, contentType: kind });
    return json(201, registered, {
      location: `/task-definitions/${registered.family}`,
    });
  },
  'GET /task-definitions/{family}': async (deps, event) => {
    const page = await listTaskDefinitionRevisions(deps, {
      family: event.pathParameters?.family ?? '',
      ...query(event, 'nextToken'),
    });
    return json(200, {
      family: event.pathParameters?.family,
      revisions: page.items,
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    });
  },
};

/** The handler over explicit dependencies (tests); errors propagate to the middleware. */
export function makeHandler(deps: ServiceDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = routes[event.routeKey];
    if (!route) throw new HttpError({ statusCode: 404, message: `No route ${event.routeKey}` });
    return route(deps, event);
  };
}

const deps = wire();

export const handler = middy(makeHandler(deps))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(httpErrors());
