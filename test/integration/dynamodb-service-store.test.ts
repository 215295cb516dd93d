import { randomBytes } from 'node:crypto';
import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand as RawQueryCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeDynamoDbServiceStore } from '../../shared/adapters/dynamodb-service-store';
import { ValidationError } from '../../shared/core/errors';
import type {
  Expectation,
  ServiceRecord,
  ServiceSpec,
  ServiceStatus,
  TaskRecord,
  TaskStatus,
} from '../../shared/core/model';
import { MAX_CLAIM_ENTRIES } from '../../shared/core/plan';
import type { ServiceStore } from '../../shared/ports/service-store';
import {
  createServicesTable,
  DYNAMODB_ENGINES,
  type DynamoDbEngine,
  makeLocalDynamoDbClient,
  servicesTableConfig,
} from '../support/dynamodb-engines';

const ACCOUNT = '123456789012';
const clusterArn = (name: string) => `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${name}`;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const uniqueName = (prefix = 'svc') => `${prefix}-${hex(4)}`;
/** RunTask client tokens as Steward makes them. */
const newToken = () => `stw-${hex(20)}`;
/** ECS task ids: 32 hex characters. */
const newTaskId = () => hex(16);

const specFor = (serviceName: string, cluster = 'default'): ServiceSpec => ({
  serviceName,
  cluster,
  taskDefinition: 'web:1',
  desiredCount: 2,
  launchType: 'FARGATE',
  networkConfiguration: {
    awsvpcConfiguration: { subnets: ['subnet-a1', 'subnet-b2'], assignPublicIp: 'DISABLED' },
  },
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
});

const expectation = (slot: number, generation = 1): Expectation => ({
  token: newToken(),
  slot,
  generation,
  taskDefinition: 'web:1',
  createdAt: 1_767_225_600_000 + slot,
});

const taskFor = (
  taskId: string,
  version: number,
  lastStatus: TaskStatus,
  extra: Partial<TaskRecord> = {},
): TaskRecord => ({
  taskId,
  taskArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task/default/${taskId}`,
  clusterArn: clusterArn('default'),
  lastStatus,
  desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
  version,
  taskDefinitionArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:1`,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});

const status = (over: Partial<ServiceStatus> = {}): ServiceStatus => ({
  phase: 'ACTIVE',
  desiredCount: 2,
  runningCount: 2,
  pendingCount: 0,
  observedGeneration: 1,
  steady: true,
  conditions: [{ type: 'Steady', message: '2 of 2 tasks running.' }],
  ...over,
});

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';
const T3 = '2026-01-01T00:03:00.000Z';

const byToken = (...es: Expectation[]) => Object.fromEntries(es.map((e) => [e.token, e]));

/** Every page of a listing, following `nextToken` until it is absent. */
async function allPages<T>(
  fetch: (nextToken: string | undefined) => Promise<{ items: T[]; nextToken?: string }>,
): Promise<T[][]> {
  const pages: T[][] = [];
  let nextToken: string | undefined;
  do {
    const page = await fetch(nextToken);
    pages.push(page.items);
    nextToken = page.nextToken;
    if (pages.length > 100) throw new Error('pagination does not end');
  } while (nextToken !== undefined);
  return pages;
}

describe('test engines', () => {
  it('refuse endpoints that are not on loopback', () => {
    for (const endpoint of [
      'https://dynamodb.us-east-1.amazonaws.com',
      'http://localhost:8000',
      'http://10.0.0.5:8000',
    ]) {
      expect(() => makeLocalDynamoDbClient(endpoint)).toThrow(/not 127\.0\.0\.1/);
    }
  });
});

describe.each(DYNAMODB_ENGINES)('DynamoDB service store on $name', (kind) => {
  let engine: DynamoDbEngine | undefined;
  let client: DynamoDBClient;
  let tableName: string;
  let store: ServiceStore;

  beforeAll(async () => {
    engine = await kind.start();
    client = makeLocalDynamoDbClient(engine.endpoint);
    tableName = await createServicesTable(client, 'store');
    store = makeDynamoDbServiceStore({ client, tableName });
  }, kind.startTimeoutMs);

  afterAll(async () => {
    client?.destroy();
    await engine?.stop();
  }, 20_000);

  /** A service created at T0 with the default spec; returns its name and spec. */
  const created = async (cluster = 'default') => {
    const name = uniqueName();
    const spec = specFor(name, cluster);
    expect(await store.createService({ spec, now: T0 })).toEqual({ ok: true });
    return { name, spec };
  };

  /** The raw items of one partition, strongly consistent. */
  const rawPartition = async (pk: string) => {
    const out = await client.send(
      new RawQueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
      }),
    );
    return out.Items ?? [];
  };

  describe('createService, getService, readState', () => {
    it('round-trips the spec and starts the bookkeeping at zero', async () => {
      const { name, spec } = await created();
      const expected: ServiceRecord = {
        spec,
        generation: 1,
        deployment: { id: 1, startedAt: T0, reason: 'service created' },
        stateVersion: 0,
        deleting: false,
        expectations: {},
        pendingStops: {},
        launchFailures: [],
        status: {
          phase: 'ACTIVE',
          desiredCount: 2,
          runningCount: 0,
          pendingCount: 0,
          observedGeneration: 0,
          steady: false,
          conditions: [],
        },
        createdAt: T0,
        updatedAt: T0,
      };
      expect(await store.getService(name)).toEqual(expected);
      expect(await store.readState(name)).toEqual({ service: expected, tasks: [] });
    });

    it('refuses a second service with the same name and keeps the first', async () => {
      const { name, spec } = await created();
      const other = { ...specFor(name, 'other'), desiredCount: 7, taskDefinition: 'api:3' };
      expect(await store.createService({ spec: other, now: T1 })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      const record = await store.getService(name);
      expect(record?.spec).toEqual(spec);
      expect(record?.createdAt).toBe(T0);
    });

    it('knows nothing of a service that was never created', async () => {
      const name = uniqueName('missing');
      expect(await store.getService(name)).toBeUndefined();
      expect(await store.readState(name)).toBeUndefined();
    });
  });

  describe('listServices', () => {
    // A table of its own, so that no other test's services show up in the listing.
    let listStore: ServiceStore;
    const byCluster: Record<string, string[]> = { blue: [], 'blue-2': [], green: [] };
    const allNames = () => Object.values(byCluster).flat().sort();

    beforeAll(async () => {
      const listTable = await createServicesTable(client, 'list');
      listStore = makeDynamoDbServiceStore({ client, tableName: listTable });
      const clusters: [string, string][] = [
        ['blue', 'blue'],
        ['blue', clusterArn('blue')],
        ['blue', 'blue'],
        ['blue-2', 'blue-2'],
        ['green', clusterArn('green')],
        ['green', 'green'],
        ['blue', clusterArn('blue')],
      ];
      for (const [short, cluster] of clusters) {
        const name = uniqueName();
        expect(await listStore.createService({ spec: specFor(name, cluster), now: T0 })).toEqual({
          ok: true,
        });
        byCluster[short]?.push(name);
      }
    });

    it('lists every service in one page by default', async () => {
      const page = await listStore.listServices({});
      expect(page.nextToken).toBeUndefined();
      expect(page.items.map((s) => s.spec.serviceName).sort()).toEqual(allNames());
      const one = page.items.find((s) => s.spec.serviceName === byCluster.green?.[0]);
      expect(one).toMatchObject({ generation: 1, stateVersion: 0, deleting: false });
      expect(one?.spec).toEqual(specFor(byCluster.green?.[0] ?? '', clusterArn('green')));
    });

    it('filters by cluster, a short name and its ARN alike, and not by prefix', async () => {
      const blue = (byCluster.blue ?? []).slice().sort();
      expect(blue).toHaveLength(4);
      for (const cluster of ['blue', clusterArn('blue')]) {
        const page = await listStore.listServices({ cluster });
        expect(page.items.map((s) => s.spec.serviceName).sort()).toEqual(blue);
      }
      const blue2 = await listStore.listServices({ cluster: clusterArn('blue-2') });
      expect(blue2.items.map((s) => s.spec.serviceName)).toEqual(byCluster['blue-2']);
      expect((await listStore.listServices({ cluster: 'nowhere' })).items).toEqual([]);
    });

    it('pages with limit and nextToken, visiting every service exactly once', async () => {
      const pages = await allPages((nextToken) =>
        listStore.listServices({ limit: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      expect(pages.length).toBeGreaterThanOrEqual(4);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
      const names = pages.flat().map((s) => s.spec.serviceName);
      expect(names).toHaveLength(allNames().length);
      expect(names.slice().sort()).toEqual(allNames());

      const bluePages = await allPages((nextToken) =>
        listStore.listServices({
          cluster: clusterArn('blue'),
          limit: 1,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      const blueNames = bluePages.flat().map((s) => s.spec.serviceName);
      expect(blueNames.slice().sort()).toEqual((byCluster.blue ?? []).slice().sort());
    });

    it('rejects a nextToken it did not issue with a ValidationError', async () => {
      const token = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
      const foreign = [
        'not a token!',
        'MTIz' /* "123" */,
        '%%%',
        token({}),
        token({ a: 1 }),
        // An events-listing key is well-formed JSON but not a key of this index.
        token({ PK: 'EVENTS#x', SK: '2026-01-01T00:00:00.000Z#1' }),
      ];
      for (const nextToken of foreign) {
        await expect(listStore.listServices({ nextToken })).rejects.toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('listClusters', () => {
    it('remembers every cluster that has had a service, after its services are gone', async () => {
      const green = `green-${uniqueName()}`;
      const { name } = await created(green);
      await created(clusterArn(green)); // the same cluster by ARN: one entry
      expect(await store.markDeleting({ serviceName: name, now: T1 })).toEqual({ ok: true });
      expect(await store.removeService({ serviceName: name, expectedVersion: 1 })).toEqual({
        ok: true,
      });
      const clusters = await store.listClusters();
      expect(clusters.filter((c) => c.endsWith(green))).toHaveLength(1);
      expect(clusters).toContain('default');
    });
  });

  describe('updateSpec', () => {
    it('changes only the given fields and bumps generation', async () => {
      const { name, spec } = await created();
      expect(
        await store.updateSpec({ serviceName: name, change: { desiredCount: 5 }, now: T1 }),
      ).toEqual({ ok: true });
      const after = await store.getService(name);
      expect(after).toMatchObject({
        spec: { ...spec, desiredCount: 5 },
        generation: 2,
        // A spec change also moves the state version, so claims planned on the old spec lose.
        stateVersion: 1,
        createdAt: T0,
        updatedAt: T1,
      });

      const deploymentConfiguration = { minimumHealthyPercent: 50, maximumPercent: 150 };
      expect(
        await store.updateSpec({
          serviceName: name,
          change: { taskDefinition: 'web:2', deploymentConfiguration },
          now: T2,
        }),
      ).toEqual({ ok: true });
      const again = await store.getService(name);
      expect(again?.spec).toEqual({
        ...spec,
        desiredCount: 5,
        taskDefinition: 'web:2',
        deploymentConfiguration,
      });
      expect(again?.generation).toBe(3);
      expect(again?.updatedAt).toBe(T2);
    });

    it('replaces the whole spec and starts a deployment whose id is the new generation', async () => {
      const { name, spec } = await created();
      await store.updateSpec({ serviceName: name, change: { desiredCount: 4 }, now: T1 });
      // A field of the old spec that the replacement leaves out is gone.
      const { launchType: _dropped, ...replacement } = { ...spec, taskDefinition: 'web:9' };
      expect(
        await store.updateSpec({
          serviceName: name,
          replace: replacement,
          deployment: { startedAt: T2, reason: 'taskDefinition changed' },
          now: T2,
        }),
      ).toEqual({ ok: true });
      const after = await store.getService(name);
      expect(after?.spec).toEqual(replacement);
      expect(after?.generation).toBe(3);
      expect(after?.deployment).toEqual({
        id: 3,
        startedAt: T2,
        reason: 'taskDefinition changed',
      });
      // A change that starts no deployment keeps the current one.
      await store.updateSpec({ serviceName: name, change: { desiredCount: 1 }, now: T2 });
      expect((await store.getService(name))?.deployment.id).toBe(3);
    });

    it('makes a claim planned on the old spec lose (a reconcile must re-plan on the new one)', async () => {
      const { name } = await created();
      const planned = (await store.getService(name))?.stateVersion ?? -1;
      expect(
        await store.updateSpec({ serviceName: name, change: { desiredCount: 1 }, now: T1 }),
      ).toEqual({ ok: true });
      const claim = {
        serviceName: name,
        expectedVersion: planned,
        add: [expectation(0), expectation(1)],
        forget: [],
        stops: [],
        forgetStops: [],
        status: status(),
      };
      expect(await store.claim(claim)).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.markDeleting({ serviceName: name, now: T2 })).toEqual({ ok: true });
      expect(await store.claim({ ...claim, expectedVersion: planned + 1 })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect((await store.getService(name))?.expectations).toEqual({});
    });

    it('with an expected generation (If-Match), writes only at that generation', async () => {
      const { name } = await created();
      expect(
        await store.updateSpec({
          serviceName: name,
          change: { desiredCount: 4 },
          now: T1,
          expectedGeneration: 2,
        }),
      ).toEqual({
        ok: false,
        reason: 'precondition-failed',
      });
      expect((await store.getService(name))?.spec.desiredCount).toBe(2);
      expect(
        await store.updateSpec({
          serviceName: name,
          change: { desiredCount: 4 },
          now: T1,
          expectedGeneration: 1,
        }),
      ).toEqual({ ok: true });
      expect(
        await store.markDeleting({ serviceName: name, now: T2, expectedGeneration: 1 }),
      ).toEqual({ ok: false, reason: 'precondition-failed' });
      expect(
        await store.markDeleting({ serviceName: name, now: T2, expectedGeneration: 2 }),
      ).toEqual({ ok: true });
      expect((await store.getService(name))?.deleting).toBe(true);
    });

    it('reports not-found for a missing service and creates nothing', async () => {
      const name = uniqueName('missing');
      expect(
        await store.updateSpec({ serviceName: name, change: { desiredCount: 1 }, now: T1 }),
      ).toEqual({ ok: false, reason: 'not-found' });
      expect(await rawPartition(`SERVICE#${name}`)).toEqual([]);
    });

    it('refuses to change a service that is being deleted', async () => {
      const { name, spec } = await created();
      expect(await store.markDeleting({ serviceName: name, now: T1 })).toEqual({ ok: true });
      const marked = await store.getService(name);
      expect(marked?.deleting).toBe(true);
      expect(
        await store.updateSpec({ serviceName: name, change: { desiredCount: 9 }, now: T2 }),
      ).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.getService(name)).toEqual(marked);
      expect(marked?.spec).toEqual(spec);
    });
  });

  describe('claim', () => {
    it('succeeds at the current stateVersion, stores and forgets, and bumps the version', async () => {
      const { name } = await created();
      const [e0, e1, e2] = [expectation(0), expectation(1), expectation(2)];
      const stopped = newTaskId();
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [e0, e1],
          forget: [],
          stops: [{ taskId: stopped, at: 1_767_225_660_000 }],
        }),
      ).toEqual({ ok: true });
      let record = await store.getService(name);
      expect(record?.stateVersion).toBe(1);
      expect(record?.expectations).toEqual(byToken(e0, e1));
      expect(record?.pendingStops).toEqual({ [stopped]: 1_767_225_660_000 });

      const planned = status({ runningCount: 1, pendingCount: 2, steady: false, conditions: [] });
      expect(
        await store.claim({
          forgetStops: [stopped],
          status: planned,
          serviceName: name,
          expectedVersion: 1,
          add: [e2],
          forget: [e0.token],
          stops: [],
        }),
      ).toEqual({ ok: true });
      record = await store.getService(name);
      expect(record?.stateVersion).toBe(2);
      expect(record?.expectations).toEqual(byToken(e1, e2));
      // The claim carries the plan's status and drops finished stop requests in the same write.
      expect(record?.status).toEqual(planned);
      expect(record?.pendingStops).toEqual({});
      expect(record?.generation).toBe(1);
    });

    it('takes a claim as large as a plan may make (MAX_CLAIM_ENTRIES): within the 4 KB expression limit', async () => {
      const { name } = await created();
      const half = MAX_CLAIM_ENTRIES / 2;
      const add = [...Array(half).keys()].map((slot) => ({
        ...expectation(slot),
        token: newToken(),
      }));
      const stops = [...Array(half).keys()].map((i) => ({ taskId: newTaskId(), at: i }));
      expect(
        await store.claim({
          serviceName: name,
          expectedVersion: 0,
          add,
          forget: [],
          stops,
          forgetStops: [],
          status: status(),
        }),
      ).toEqual({ ok: true });
      const record = await store.getService(name);
      expect(Object.keys(record?.expectations ?? {})).toHaveLength(half);
      expect(Object.keys(record?.pendingStops ?? {})).toHaveLength(half);
    });

    it('remembers launch failures given to settle, replacing the list', async () => {
      const { name } = await created();
      const failures = [
        { at: 1, reason: 'RESOURCE:MEMORY' },
        { at: 2, reason: 'ClientException: TaskDefinition not found.' },
      ];
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 0,
          forget: [],
          forgetStops: [],
          status: status(),
          launchFailures: { all: failures, added: failures },
        }),
      ).toEqual({ ok: true });
      expect((await store.getService(name))?.launchFailures).toEqual(failures);
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 1,
          forget: [],
          forgetStops: [],
          status: status(),
        }),
      ).toEqual({ ok: true });
      expect((await store.getService(name))?.launchFailures).toEqual(failures);
    });

    it('keeps new launch failures even when its settle loses to a newer reconcile', async () => {
      const { name } = await created();
      const first = [{ at: 1, reason: 'RESOURCE:MEMORY', slot: 0, retryable: true }];
      await store.settle({
        serviceName: name,
        expectedVersion: 0,
        forget: [],
        forgetStops: [],
        status: status(),
        launchFailures: { all: first, added: first },
      });
      const late = [
        { at: 2, reason: 'ClientException: TaskDefinition not found.', slot: 1, retryable: false },
      ];
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 0,
          forget: [],
          forgetStops: [],
          status: status(),
          launchFailures: { all: late, added: late },
        }),
      ).toEqual({ ok: false, reason: 'conflict' });
      expect((await store.getService(name))?.launchFailures).toEqual([...first, ...late]);
    });

    it('loses at an old version and changes nothing', async () => {
      const { name } = await created();
      const e0 = expectation(0);
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [e0],
          forget: [],
          stops: [],
        }),
      ).toEqual({ ok: true });
      const before = await store.readState(name);
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [expectation(1)],
          forget: [e0.token],
          stops: [{ taskId: newTaskId(), at: 1 }],
        }),
      ).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.readState(name)).toEqual(before);
    });

    it('reports not-found for a missing service', async () => {
      const name = uniqueName('missing');
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [expectation(0)],
          forget: [],
          stops: [],
        }),
      ).toEqual({ ok: false, reason: 'not-found' });
      expect(await rawPartition(`SERVICE#${name}`)).toEqual([]);
    });

    it('lets exactly one of 8 concurrent claims at the same version win', async () => {
      const { name } = await created();
      const contenders = Array.from({ length: 8 }, (_, i) => expectation(i));
      const results = await Promise.all(
        contenders.map((e) =>
          store.claim({
            forgetStops: [],
            status: status(),
            serviceName: name,
            expectedVersion: 0,
            add: [e],
            forget: [],
            stops: [],
          }),
        ),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) if (!r.ok) expect(r.reason).toBe('conflict');
      const winner = contenders[winners[0] ?? -1];
      const record = await store.getService(name);
      expect(record?.stateVersion).toBe(1);
      expect(record?.expectations).toEqual(winner ? byToken(winner) : 'no winner');
    });
  });

  describe('scaling, rollback and the task listing', () => {
    const scaling = { lastEvaluatedAt: 1, policies: [{ policyName: 'cpu', lastValue: 83.1 }] };

    it('applies a scaling decision at the generation it was made on, without touching updatedAt', async () => {
      const { name, spec } = await created();
      expect(
        await store.applyScaling({
          serviceName: name,
          expectedGeneration: 1,
          desiredCount: 5,
          minCapacity: 2,
          maxCapacity: 9,
          scaling,
        }),
      ).toEqual({ ok: true });
      const after = await store.getService(name, { consistent: true });
      expect(after).toMatchObject({
        spec: { ...spec, desiredCount: 5, minCapacity: 2, maxCapacity: 9 },
        generation: 2,
        stateVersion: 1,
        scaling,
        // Scaling is not a user's change: the restart policy's streak is not reset by it.
        updatedAt: T0,
      });
      // A decision made on generation 1 after someone else's write loses and changes nothing.
      expect(
        await store.applyScaling({
          serviceName: name,
          expectedGeneration: 1,
          desiredCount: 1,
          minCapacity: 1,
          maxCapacity: 1,
          scaling: { policies: [] },
        }),
      ).toEqual({ ok: false, reason: 'precondition-failed' });
      expect((await store.getService(name, { consistent: true }))?.spec.desiredCount).toBe(5);
    });

    it("saves the policies' state alone, with no new generation", async () => {
      const { name } = await created();
      expect(await store.saveScalingState({ serviceName: name, scaling })).toEqual({ ok: true });
      const after = await store.getService(name, { consistent: true });
      expect(after).toMatchObject({ generation: 1, stateVersion: 0, scaling });
      expect(await store.saveScalingState({ serviceName: uniqueName(), scaling })).toEqual({
        ok: false,
        reason: 'not-found',
      });
    });

    it('a rollback names the deployment it returns to and keeps its record of the one before', async () => {
      const { name, spec } = await created();
      const previous = { id: 1, launch: { taskDefinition: spec.taskDefinition } };
      await store.updateSpec({
        serviceName: name,
        change: { taskDefinition: 'web:9' },
        deployment: { startedAt: T1, reason: 'taskDefinition changed', previous },
        now: T1,
      });
      expect((await store.getService(name, { consistent: true }))?.deployment).toEqual({
        id: 2,
        startedAt: T1,
        reason: 'taskDefinition changed',
        previous,
      });
      await store.updateSpec({
        serviceName: name,
        replace: spec,
        deployment: { id: 1, startedAt: T2, reason: 'rolled back after deployment 2 failed' },
        now: T2,
        expectedGeneration: 2,
      });
      const after = await store.getService(name, { consistent: true });
      expect(after?.deployment).toEqual({
        id: 1,
        startedAt: T2,
        reason: 'rolled back after deployment 2 failed',
      });
      expect(after?.generation).toBe(3);
    });

    it('lists task records a page at a time and refuses a token from another service', async () => {
      const { name } = await created();
      const ids = [newTaskId(), newTaskId(), newTaskId()].sort();
      for (const id of ids) {
        await store.recordObservation({ serviceName: name, task: taskFor(id, 1, 'RUNNING') });
      }
      const first = await store.listTasks({ serviceName: name, limit: 2 });
      expect(first.items.map((t) => t.taskId)).toEqual(ids.slice(0, 2));
      expect(first.nextToken).toEqual(expect.any(String));
      const second = await store.listTasks({
        serviceName: name,
        limit: 2,
        nextToken: first.nextToken as string,
      });
      expect(second.items.map((t) => t.taskId)).toEqual(ids.slice(2));
      const other = await created();
      await expect(
        store.listTasks({ serviceName: other.name, nextToken: first.nextToken as string }),
      ).rejects.toThrow('Invalid nextToken');
    });
  });

  describe('recordObservation', () => {
    it('keeps the newest ECS version: newer writes, duplicates and stale events do not', async () => {
      const { name } = await created();
      const id = newTaskId();
      const pending = taskFor(id, 1, 'PENDING');
      const running = taskFor(id, 2, 'RUNNING', { startedAt: T1 });
      expect(await store.recordObservation({ serviceName: name, task: pending })).toEqual({
        ok: true,
      });
      expect((await store.readState(name))?.tasks).toEqual([pending]);

      expect(await store.recordObservation({ serviceName: name, task: running })).toEqual({
        ok: true,
      });
      expect((await store.readState(name))?.tasks).toEqual([running]);

      const duplicate = taskFor(id, 2, 'RUNNING', { startedAt: T2 });
      expect(await store.recordObservation({ serviceName: name, task: duplicate })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      const stale = taskFor(id, 1, 'STOPPED', { stoppedAt: T3, stopCode: 'UserInitiated' });
      expect(await store.recordObservation({ serviceName: name, task: stale })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect((await store.readState(name))?.tasks).toEqual([running]);
    });

    it('gives a STOPPED task a TTL in epoch seconds, which readState does not return', async () => {
      const { name } = await created();
      const ttlAttribute = servicesTableConfig().TimeToLiveSpecification?.AttributeName;
      expect(ttlAttribute).toBe('expiresAt');
      const live = newTaskId();
      const dead = newTaskId();
      const running = taskFor(live, 2, 'RUNNING');
      const stopped = taskFor(dead, 5, 'STOPPED', {
        stoppedAt: T2,
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
      });
      for (const task of [running, stopped]) {
        expect(await store.recordObservation({ serviceName: name, task })).toEqual({ ok: true });
      }

      const raw = async (taskId: string) =>
        (
          await client.send(
            new GetItemCommand({
              TableName: tableName,
              Key: { PK: { S: `SERVICE#${name}` }, SK: { S: `TASK#${taskId}` } },
              ConsistentRead: true,
            }),
          )
        ).Item;
      const stoppedSeconds = Math.floor(Date.parse(T2) / 1000);
      const ttl = (await raw(dead))?.[ttlAttribute ?? 'expiresAt']?.N;
      expect(ttl).toBeDefined();
      expect(Number.isInteger(Number(ttl))).toBe(true);
      expect(Number(ttl)).toBeGreaterThan(stoppedSeconds);
      expect(Number(ttl)).toBeLessThanOrEqual(stoppedSeconds + 90 * 24 * 3600);
      expect((await raw(live))?.[ttlAttribute ?? 'expiresAt']).toBeUndefined();

      const tasks = (await store.readState(name))?.tasks ?? [];
      const sorted = tasks.slice().sort((a, b) => a.version - b.version);
      expect(sorted).toEqual([running, stopped]);
      for (const task of tasks) expect(task).not.toHaveProperty('expiresAt');
    });
  });

  describe('recordTargets', () => {
    const tg =
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';
    const targetsAt = (registeredAt: number) => [
      { targetGroupArn: tg, id: '10.0.1.10', port: 8080, registeredAt },
    ];

    it('keeps the targets on the task record, whatever the observations that follow', async () => {
      const { name } = await created();
      const task = taskFor(newTaskId(), 3, 'RUNNING');
      expect(await store.recordObservation({ serviceName: name, task })).toEqual({ ok: true });
      const targets = targetsAt(1);
      expect(
        await store.recordTargets({
          serviceName: name,
          taskId: task.taskId,
          targets,
          expectedVersion: undefined,
        }),
      ).toEqual({ ok: true });
      // A newer observation (ECS's), even one read with stale targets, leaves them alone.
      await store.recordObservation({
        serviceName: name,
        task: { ...taskFor(task.taskId, 4, 'STOPPED'), targets: [], targetsVersion: 0 },
      });
      const [stored] = (await store.readState(name))?.tasks ?? [];
      expect(stored?.lastStatus).toBe('STOPPED');
      expect(stored?.targets).toEqual(targets);
      expect(stored?.targetsVersion).toBe(1);
      expect(await store.readTargets({ serviceName: name, taskId: task.taskId })).toEqual({
        targets,
        targetsVersion: 1,
      });
    });

    it('writes only at the version read: a write planned on stale targets loses', async () => {
      const { name } = await created();
      const task = taskFor(newTaskId(), 3, 'RUNNING');
      await store.recordObservation({ serviceName: name, task });
      const write = (registeredAt: number, expectedVersion: number | undefined) =>
        store.recordTargets({
          serviceName: name,
          taskId: task.taskId,
          targets: targetsAt(registeredAt),
          expectedVersion,
        });
      expect(await write(1, undefined)).toEqual({ ok: true });
      // Two writers read version 1; one wins, the other loses and changes nothing.
      expect(await write(2, 1)).toEqual({ ok: true });
      expect(await write(3, 1)).toEqual({ ok: false, reason: 'conflict' });
      expect(await write(4, undefined)).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.readTargets({ serviceName: name, taskId: task.taskId })).toEqual({
        targets: targetsAt(2),
        targetsVersion: 2,
      });
    });

    it('makes no task record of its own', async () => {
      const { name } = await created();
      const taskId = newTaskId();
      expect(
        await store.recordTargets({
          serviceName: name,
          taskId,
          targets: targetsAt(1),
          expectedVersion: undefined,
        }),
      ).toEqual({ ok: false, reason: 'conflict' });
      expect((await store.readState(name))?.tasks).toEqual([]);
      expect(await store.readTargets({ serviceName: name, taskId })).toBeUndefined();
    });
  });

  describe('slot and launch token travel with the observation', () => {
    it('keeps the slot and token an event carries, through later versions', async () => {
      const { name } = await created();
      const id = newTaskId();
      const own = { slot: 3, launchToken: newToken() };
      const provisioning = { ...taskFor(id, 1, 'PROVISIONING'), ...own };
      expect(await store.recordObservation({ serviceName: name, task: provisioning })).toEqual({
        ok: true,
      });
      const running = { ...taskFor(id, 3, 'RUNNING', { startedAt: T1 }), ...own };
      expect(await store.recordObservation({ serviceName: name, task: running })).toEqual({
        ok: true,
      });
      // The RunTask answer of a retried launch arrives late: older, so it changes nothing.
      expect(await store.recordObservation({ serviceName: name, task: provisioning })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect((await store.readState(name))?.tasks).toEqual([running]);
    });
  });

  describe('settle', () => {
    /** A service after one claim (stateVersion 1) with two expectations and two stop requests. */
    const claimed = async () => {
      const { name } = await created();
      const [e0, e1] = [expectation(0), expectation(1)];
      const [s0, s1] = [newTaskId(), newTaskId()];
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [e0, e1],
          forget: [],
          stops: [
            { taskId: s0, at: 10 },
            { taskId: s1, at: 11 },
          ],
        }),
      ).toEqual({ ok: true });
      return { name, e0, e1, s0, s1 };
    };

    it('at the current version writes the status, forgets, and bumps stateVersion', async () => {
      const { name, e0, e1, s0, s1 } = await claimed();
      const settled = status({ runningCount: 1, pendingCount: 1, steady: false });
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 1,
          forget: [e0.token],
          forgetStops: [s0],
          status: settled,
        }),
      ).toEqual({ ok: true });
      const record = await store.getService(name);
      expect(record?.status).toEqual(settled);
      expect(record?.stateVersion).toBe(2);
      expect(record?.expectations).toEqual(byToken(e1));
      expect(record?.pendingStops).toEqual({ [s1]: 11 });
    });

    it('at a stale version leaves the status alone but still forgets', async () => {
      const { name, e0, e1, s0, s1 } = await claimed();
      const first = status({ observedGeneration: 1 });
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 1,
          forget: [],
          forgetStops: [],
          status: first,
        }),
      ).toEqual({ ok: true });

      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 1,
          forget: [e0.token, e1.token],
          forgetStops: [s0],
          status: status({ runningCount: 0, steady: false }),
        }),
      ).toEqual({ ok: false, reason: 'conflict' });
      const record = await store.getService(name);
      expect(record?.status).toEqual(first);
      expect(record?.stateVersion).toBe(2);
      expect(record?.expectations).toEqual({});
      expect(record?.pendingStops).toEqual({ [s1]: 11 });

      // Nothing to forget: a plain conflict, nothing written.
      const before = await store.readState(name);
      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 0,
          forget: [],
          forgetStops: [],
          status: status({ phase: 'DRAINING' }),
        }),
      ).toEqual({ ok: false, reason: 'conflict' });
      expect(await store.readState(name)).toEqual(before);
    });
  });

  describe('markDeleting and removeService', () => {
    it('removes the spec and its stopped task records at the current version', async () => {
      const { name, spec } = await created();
      const ids = [newTaskId(), newTaskId(), newTaskId()];
      for (const [i, id] of ids.entries()) {
        const task = taskFor(id, i + 1, 'STOPPED', { stoppedAt: T1 });
        expect(await store.recordObservation({ serviceName: name, task })).toEqual({ ok: true });
      }
      expect(await store.markDeleting({ serviceName: name, now: T2 })).toEqual({ ok: true });
      const state = await store.readState(name);
      expect(state?.service.deleting).toBe(true);
      expect(state?.service.updatedAt).toBe(T2);
      expect(state?.tasks).toHaveLength(3);

      expect(
        await store.removeService({
          serviceName: name,
          expectedVersion: state?.service.stateVersion ?? -1,
        }),
      ).toEqual({ ok: true });
      expect(await store.readState(name)).toBeUndefined();
      expect(await store.getService(name)).toBeUndefined();
      expect(await rawPartition(`SERVICE#${name}`)).toEqual([]);

      // The name is free again.
      expect(await store.createService({ spec, now: T3 })).toEqual({ ok: true });
      expect((await store.readState(name))?.tasks).toEqual([]);
    });

    it('never deletes the record of a task that is still live', async () => {
      const { name } = await created();
      const live = newTaskId();
      const stopped = newTaskId();
      await store.recordObservation({ serviceName: name, task: taskFor(live, 3, 'RUNNING') });
      await store.recordObservation({
        serviceName: name,
        task: taskFor(stopped, 6, 'STOPPED', { stoppedAt: T1 }),
      });
      expect(await store.markDeleting({ serviceName: name, now: T2 })).toEqual({ ok: true });
      expect(await store.removeService({ serviceName: name, expectedVersion: 1 })).toEqual({
        ok: true,
      });
      const left = await rawPartition(`SERVICE#${name}`);
      expect(left.map((item) => item.SK?.S)).toEqual([`TASK#${live}`]);
    });

    it('refuses at a stale version and keeps the service and its task records', async () => {
      const { name } = await created();
      const id = newTaskId();
      await store.recordObservation({
        serviceName: name,
        task: taskFor(id, 6, 'STOPPED', { stoppedAt: T1 }),
      });
      expect(await store.markDeleting({ serviceName: name, now: T1 })).toEqual({ ok: true });
      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 1,
          add: [],
          forget: [],
          stops: [],
        }),
      ).toEqual({ ok: true });
      expect(await store.removeService({ serviceName: name, expectedVersion: 1 })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      const state = await store.readState(name);
      expect(state?.service.deleting).toBe(true);
      expect(state?.service.stateVersion).toBe(2);
      expect(state?.tasks.map((t) => t.taskId)).toEqual([id]);
    });

    it('refuses to remove a service that is not being deleted', async () => {
      const { name, spec } = await created();
      expect(await store.removeService({ serviceName: name, expectedVersion: 0 })).toEqual({
        ok: false,
        reason: 'conflict',
      });
      expect((await store.getService(name))?.spec).toEqual(spec);
    });

    it('reports not-found for a missing service', async () => {
      const name = uniqueName('missing');
      expect(await store.markDeleting({ serviceName: name, now: T1 })).toEqual({
        ok: false,
        reason: 'not-found',
      });
      expect(await store.removeService({ serviceName: name, expectedVersion: 0 })).toEqual({
        ok: false,
        reason: 'not-found',
      });
      expect(await rawPartition(`SERVICE#${name}`)).toEqual([]);
    });
  });

  describe('appendEvents and listEvents', () => {
    it('lists newest first, pages, and keeps services apart', async () => {
      const a = uniqueName();
      const b = uniqueName();
      await store.appendEvents({ serviceName: a, messages: ['a1', 'a2'], now: T0 });
      await store.appendEvents({ serviceName: b, messages: ['b1'], now: T1 });
      await store.appendEvents({ serviceName: a, messages: ['a3'], now: T1 });
      await store.appendEvents({ serviceName: a, messages: ['a4', 'a5'], now: T2 });

      const all = await store.listEvents({ serviceName: a });
      expect(all.nextToken).toBeUndefined();
      expect(all.items.map((e) => e.message)).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
      expect(all.items.map((e) => e.createdAt)).toEqual([T2, T2, T1, T0, T0]);
      expect(new Set(all.items.map((e) => e.id)).size).toBe(5);

      const pages = await allPages((nextToken) =>
        store.listEvents({ serviceName: a, limit: 2, ...(nextToken ? { nextToken } : {}) }),
      );
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
      expect(pages.flat()).toEqual(all.items);

      expect((await store.listEvents({ serviceName: b })).items.map((e) => e.message)).toEqual([
        'b1',
      ]);
      expect(await store.listEvents({ serviceName: uniqueName('quiet') })).toEqual({ items: [] });
      // Events live apart from the service's own records.
      expect(await store.readState(a)).toBeUndefined();
    });

    it('writes more messages than one batch holds', async () => {
      const name = uniqueName();
      const messages = Array.from({ length: 30 }, (_, i) => `m${i}`);
      await store.appendEvents({ serviceName: name, messages, now: T0 });
      const listed = await store.listEvents({ serviceName: name, limit: 100 });
      expect(listed.items.map((e) => e.message).sort()).toEqual(messages.slice().sort());
    });

    it('rejects a nextToken it did not issue with a ValidationError', async () => {
      await expect(
        store.listEvents({ serviceName: uniqueName(), nextToken: '!!not-json' }),
      ).rejects.toBeInstanceOf(ValidationError);
      // A real token of another service's events is not this listing's either.
      const other = uniqueName();
      await store.appendEvents({ serviceName: other, messages: ['1', '2', '3'], now: T0 });
      const page = await store.listEvents({ serviceName: other, limit: 1 });
      expect(page.nextToken).toBeDefined();
      await expect(
        store.listEvents({ serviceName: uniqueName(), nextToken: page.nextToken as string }),
      ).rejects.toBeInstanceOf(ValidationError);
    });

    it('folds a message repeated in a row into one event with a count, as ECS does', async () => {
      const name = uniqueName();
      const busy = '(service x) is unable to start tasks: RESOURCE:MEMORY';
      await store.appendEvents({
        serviceName: name,
        messages: ['(service x) has started 1 tasks.'],
        now: T0,
      });
      await store.appendEvents({ serviceName: name, messages: [busy], now: T1 });
      await store.appendEvents({ serviceName: name, messages: [busy], now: T2 });
      await store.appendEvents({ serviceName: name, messages: [busy, busy], now: T3 });
      const listed = await store.listEvents({ serviceName: name });
      expect(
        listed.items.map(({ message, count, lastAt }) => ({ message, count, lastAt })),
      ).toEqual([
        { message: busy, count: 4, lastAt: T3 },
        { message: '(service x) has started 1 tasks.', count: undefined, lastAt: undefined },
      ]);
      expect(listed.items[0]?.createdAt).toBe(T1);
      // Something else in between starts a new line.
      await store.appendEvents({
        serviceName: name,
        messages: ['(service x) has reached a steady state.', busy],
        now: T3,
      });
      expect((await store.listEvents({ serviceName: name })).items.map((e) => e.message)).toEqual([
        busy,
        '(service x) has reached a steady state.',
        busy,
        '(service x) has started 1 tasks.',
      ]);
    });

    it('keeps the order of events written in the same millisecond by separate calls', async () => {
      const name = uniqueName();
      for (const m of ['c0', 'c1', 'c2', 'c3', 'c4', 'c5']) {
        await store.appendEvents({ serviceName: name, messages: [m], now: T0 });
      }
      const listed = await store.listEvents({ serviceName: name });
      expect(listed.items.map((e) => e.message)).toEqual(['c5', 'c4', 'c3', 'c2', 'c1', 'c0']);
    });
  });

  describe('attribute names DynamoDB would not take bare', () => {
    it('uses reserved words and dashed or numeric keys as map keys', async () => {
      const { name } = await created();
      const dashed = expectation(0);
      const reserved = { ...expectation(1), token: 'status' };
      const alsoReserved = { ...expectation(2), token: 'name' };
      const taskId = `0123${hex(14)}`; // 32 hex, starting with a digit
      expect(dashed.token).toMatch(/^stw-[0-9a-f]{40}$/);
      expect(taskId).toMatch(/^[0-9a-f]{32}$/);

      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 0,
          add: [dashed, reserved, alsoReserved],
          forget: [],
          stops: [
            { taskId, at: 1 },
            { taskId: 'size', at: 2 },
          ],
        }),
      ).toEqual({ ok: true });
      let record = await store.getService(name);
      expect(record?.expectations).toEqual(byToken(dashed, reserved, alsoReserved));
      expect(record?.pendingStops).toEqual({ [taskId]: 1, size: 2 });

      expect(
        await store.claim({
          forgetStops: [],
          status: status(),
          serviceName: name,
          expectedVersion: 1,
          add: [],
          forget: [dashed.token, 'status'],
          stops: [],
        }),
      ).toEqual({ ok: true });
      expect((await store.getService(name))?.expectations).toEqual(byToken(alsoReserved));

      expect(
        await store.settle({
          serviceName: name,
          expectedVersion: 2,
          forget: ['name'],
          forgetStops: [taskId, 'size'],
          status: status(),
        }),
      ).toEqual({ ok: true });
      record = await store.getService(name);
      expect(record?.expectations).toEqual({});
      expect(record?.pendingStops).toEqual({});
      expect(record?.status).toEqual(status());
    });
  });
});
