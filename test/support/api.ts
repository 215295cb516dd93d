/**
 * A small client for the local stack's HTTP API, as a user's script would call it: bearer token,
 * JSON by default, any header or raw body when a test needs one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Stack, type StackOptions, startStack } from '../../local/stack';
import type { JsonObject } from './json';

export type ApiResponse = {
  status: number;
  headers: Headers;
  etag: string | null;
  body: JsonObject;
  text: string;
};

export type ApiCall = (
  method: string,
  path: string,
  o?: {
    body?: unknown;
    /** Sent as it is (no JSON encoding), e.g. YAML. */
    raw?: string;
    contentType?: string;
    ifMatch?: string;
    headers?: Record<string, string>;
    token?: string | null;
  },
) => Promise<ApiResponse>;

export function apiClient(stack: { apiUrl: string; token: string }): ApiCall {
  return async (method, path, o = {}) => {
    const token = o.token === undefined ? stack.token : o.token;
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        'content-type': o.contentType ?? 'application/json',
        ...(o.ifMatch === undefined ? {} : { 'if-match': o.ifMatch }),
        ...o.headers,
      },
      ...(o.raw !== undefined
        ? { body: o.raw }
        : o.body === undefined
          ? {}
          : { body: JSON.stringify(o.body) }),
    });
    const text = await res.text();
    let body: JsonObject = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as JsonObject);
    } catch {
      body = { unparsed: text };
    }
    return { status: res.status, headers: res.headers, etag: res.headers.get('etag'), body, text };
  };
}

/**
 * The local stack as the API tests use it: a fresh data dir, free ports, fast lifecycle steps, no
 * schedule (tests tick by hand), plus `overrides`; and a client for its API.
 */
export async function startApiStack(
  label: string,
  overrides: StackOptions = {},
): Promise<{ stack: Stack; api: ApiCall }> {
  const stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), `steward-${label}-`)),
    apiPort: 0,
    awsPort: 0,
    taskStepDelayMs: 10,
    tickIntervalMs: 0,
    ...overrides,
  });
  return { stack, api: apiClient(stack) };
}
