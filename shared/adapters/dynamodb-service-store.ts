/**
 * ServiceStore on one DynamoDB table (single-table design, DESIGN.md "Data"):
 *   PK=SERVICE#<name> SK=SPEC         spec, generation, stateVersion, expectations, stop requests, status
 *   PK=SERVICE#<name> SK=TASK#<id>    one ECS task, guarded by its ECS `version`
 *   PK=EVENTS#<name>  SK=<iso>#<id>   service events, newest last, expiring by TTL
 *   PK=CLUSTERS       SK=<cluster>      every cluster that has had a service (for orphan resync)
 *   GSI1: GSI1PK=SERVICES GSI1SK=<cluster>#<name>   lists services, optionally by cluster
 * Invariants rest on conditional writes, not transactions (the embedded engine has none).
 */

import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../core/concurrency';
import { ValidationError } from '../core/errors';
import type {
  Deployment,
  Expectation,
  RecordedTarget,
  ServiceRecord,
  ServiceSpec,
  TaskRecord,
} from '../core/model';
import type { LaunchFailure } from '../core/restart';
import type { ScalingState } from '../core/scaling';
import type {
  Page,
  ServiceEvent,
  ServiceState,
  ServiceStore,
  WriteResult,
} from '../ports/service-store';

const SPEC = 'SPEC';
const TASK_PREFIX = 'TASK#';
const SERVICES_INDEX = 'GSI1';
const SERVICES_PARTITION = 'SERVICES';
const CLUSTERS_PARTITION = 'CLUSTERS';
/** Stopped task records and service events are history, kept for a while and then expired by TTL. */
const HISTORY_TTL_SECONDS = 7 * 24 * 3600;

const servicePk = (name: string) => `SERVICE#${name}`;
const eventsPk = (name: string) => `EVENTS#${name}`;
/** The cluster's short name, so a name and its ARN list together. */
const clusterName = (cluster: string) => cluster.slice(cluster.lastIndexOf('/') + 1);

const OK: WriteResult = { ok: true };

/** Builds the store over a DynamoDB client and a table name. */
export function makeDynamoDbServiceStore(options: {
  client: DynamoDBClient;
  tableName: string;
}): ServiceStore {
  const doc = DynamoDBDocumentClient.from(options.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const TableName = options.tableName;

  const readSpecItem = async (serviceName: string, consistent: boolean) => {
    const out = await doc.send(
      new GetCommand({
        TableName,
        Key: { PK: servicePk(serviceName), SK: SPEC },
        ConsistentRead: consistent,
      }),
    );
    return out.Item ? toServiceRecord(out.Item) : undefined;
  };

  /**
   * Why a conditional write failed: no service, a generation other than the caller's If-Match, or a
   * lost race / a draining service.
   */
  const failure = async (
    serviceName: string,
    expectedGeneration?: number,
  ): Promise<WriteResult> => {
    const current = await readSpecItem(serviceName, true);
    if (!current) return { ok: false, reason: 'not-found' };
    if (expectedGeneration !== undefined && current.generation !== expectedGeneration) {
      return { ok: false, reason: 'precondition-failed' };
    }
    return { ok: false, reason: 'conflict' };
  };

  /** A conditional update of the service's SPEC item; a failed condition is a result, not a crash. */
  const updateSpecItem = async (o: {
    serviceName: string;
    update: Omit<UpdateCommandInput, 'TableName' | 'Key'>;
    expectedGeneration?: number | undefined;
  }): Promise<WriteResult> => {
    try {
      await doc.send(
        new UpdateCommand({
          TableName,
          Key: { PK: servicePk(o.serviceName), SK: SPEC },
          ...o.update,
        }),
      );
      return OK;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        return failure(o.serviceName, o.expectedGeneration);
      throw error;
    }
  };

  /** Every item of one partition, all pages. */
  const queryAll = async (o: { pk: string; consistent: boolean }) => {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': o.pk },
          ConsistentRead: o.consistent,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  };

  return {
    async createService({ spec, now }) {
      const record: ServiceRecord = {
        spec,
        generation: 1,
        deployment: { id: 1, startedAt: now, reason: 'service created' },
        stateVersion: 0,
        deleting: false,
        expectations: {},
        pendingStops: {},
        launchFailures: [],
        status: {
          phase: 'ACTIVE',
          desiredCount: spec.desiredCount,
          runningCount: 0,
          pendingCount: 0,
          observedGeneration: 0,
          steady: false,
          conditions: [],
        },
        createdAt: now,
        updatedAt: now,
      };
      try {
        await doc.send(
          new PutCommand({
            TableName,
            Item: {
              PK: servicePk(spec.serviceName),
              SK: SPEC,
              GSI1PK: SERVICES_PARTITION,
              GSI1SK: `${clusterName(spec.cluster)}#${spec.serviceName}`,
              ...deploymentAttributes(record),
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          return { ok: false, reason: 'conflict' };
        throw error;
      }
      // Idempotent; if this write is lost, resync still scans the clusters of existing services.
      await doc.send(
        new PutCommand({
          TableName,
          Item: { PK: CLUSTERS_PARTITION, SK: clusterName(spec.cluster), cluster: spec.cluster },
        }),
      );
      return OK;
    },

    getService: (serviceName, options) => readSpecItem(serviceName, options?.consistent ?? false),

    async listClusters() {
      const items = await queryAll({ pk: CLUSTERS_PARTITION, consistent: false });
      return items.map((i) => String(i.cluster));
    },

    async listServices({ cluster, limit, nextToken }) {
      const out = await doc
        .send(
          new QueryCommand({
            TableName,
            IndexName: SERVICES_INDEX,
            KeyConditionExpression:
              cluster === undefined ? 'GSI1PK = :p' : 'GSI1PK = :p AND begins_with(GSI1SK, :c)',
            ExpressionAttributeValues: {
              ':p': SERVICES_PARTITION,
              ...(cluster === undefined ? {} : { ':c': `${clusterName(cluster)}#` }),
            },
            Limit: limit ?? 100,
            ExclusiveStartKey: decodeToken(nextToken, {
              keys: ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
              partition: ['GSI1PK', SERVICES_PARTITION],
              sortKey: ['GSI1SK', cluster === undefined ? '' : `${clusterName(cluster)}#`],
            }),
          }),
        )
        .catch(refusedToken(nextToken));
      return page((out.Items ?? []).map(toServiceRecord), out.LastEvaluatedKey);
    },

    async readState(serviceName): Promise<ServiceState | undefined> {
      const items = await queryAll({ pk: servicePk(serviceName), consistent: true });
      const specItem = items.find((i) => i.SK === SPEC);
      if (!specItem) return undefined;
      const tasks = items.filter((i) => String(i.SK).startsWith(TASK_PREFIX)).map(toTaskRecord);
      return { service: toServiceRecord(specItem), tasks };
    },

    async updateSpec({ serviceName, change, replace, deployment, now, expectedGeneration }) {
      const fields = Object.entries(change ?? {}).filter(([, v]) => v !== undefined);
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {
        ':one': 1,
        ':now': now,
        ':false': false,
        ...(expectedGeneration === undefined ? {} : { ':g': expectedGeneration }),
      };
      const sets = fields.map(([k, v], i) => {
        names[`#f${i}`] = k;
        values[`:v${i}`] = v;
        return `spec.#f${i} = :v${i}`;
      });
      if (replace !== undefined) {
        values[':spec'] = replace;
        sets.push('spec = :spec');
      }
      // A deployment's id is the generation this write creates, computed in the same write.
      if (deployment !== undefined) {
        const { id, ...about } = deployment;
        values[':deployment'] = about;
        if (id !== undefined) values[':deploymentId'] = id;
        sets.push(
          id === undefined ? 'deploymentId = generation + :one' : 'deploymentId = :deploymentId',
          'deployment = :deployment',
        );
      }
      return updateSpecItem({
        serviceName,
        expectedGeneration,
        update: {
          // stateVersion too: a reconcile that planned on the old spec must lose its claim.
          UpdateExpression: `SET ${[...sets, 'generation = generation + :one', 'stateVersion = stateVersion + :one', 'updatedAt = :now'].join(', ')}`,
          // Exists, is not draining (a service on its way out takes no new spec), and, with If-Match,
          // is still at the generation the caller read.
          ConditionExpression: `attribute_exists(PK) AND deleting = :false${expectedGeneration === undefined ? '' : ' AND generation = :g'}`,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        },
      });
    },

    async applyScaling({
      serviceName,
      expectedGeneration,
      desiredCount,
      minCapacity,
      maxCapacity,
      scaling,
    }) {
      return updateSpecItem({
        serviceName,
        expectedGeneration,
        update: {
          UpdateExpression:
            'SET spec.desiredCount = :d, spec.minCapacity = :min, spec.maxCapacity = :max, scaling = :s, generation = generation + :one, stateVersion = stateVersion + :one',
          ConditionExpression: 'attribute_exists(PK) AND deleting = :false AND generation = :g',
          ExpressionAttributeValues: {
            ':d': desiredCount,
            ':min': minCapacity,
            ':max': maxCapacity,
            ':s': scaling,
            ':one': 1,
            ':false': false,
            ':g': expectedGeneration,
          },
        },
      });
    },

    async saveScalingState({ serviceName, scaling }) {
      return updateSpecItem({
        serviceName,
        update: {
          UpdateExpression: 'SET scaling = :s',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':s': scaling },
        },
      });
    },

    async markDeleting({ serviceName, now, expectedGeneration }) {
      return updateSpecItem({
        serviceName,
        expectedGeneration,
        update: {
          UpdateExpression:
            'SET deleting = :true, generation = generation + :one, stateVersion = stateVersion + :one, updatedAt = :now',
          ConditionExpression: `attribute_exists(PK) AND deleting = :false${expectedGeneration === undefined ? '' : ' AND generation = :g'}`,
          ExpressionAttributeValues: {
            ':true': true,
            ':false': false,
            ':one': 1,
            ':now': now,
            ...(expectedGeneration === undefined ? {} : { ':g': expectedGeneration }),
          },
        },
      });
    },

    async claim({
      serviceName,
      expectedVersion,
      add,
      forget,
      stops,
      forgetStops,
      status,
      reissue = [],
      launchFailures,
    }) {
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = {
        ':ev': expectedVersion,
        ':one': 1,
        ':status': status,
      };
      const sets = ['stateVersion = stateVersion + :one', '#status = :status'];
      add.forEach((e, i) => {
        names[`#a${i}`] = e.token;
        values[`:a${i}`] = e;
        sets.push(`expectations.#a${i} = :a${i}`);
      });
      stops.forEach((s, i) => {
        names[`#s${i}`] = s.taskId;
        values[`:s${i}`] = s.at;
        sets.push(`pendingStops.#s${i} = :s${i}`);
      });
      if (launchFailures) {
        values[':lf'] = launchFailures;
        sets.push('launchFailures = :lf');
      }
      reissue.forEach((r, i) => {
        names[`#i${i}`] = r.token;
        values[`:i${i}`] = r.at;
        sets.push(`expectations.#i${i}.issuedAt = :i${i}`);
      });
      const removes = [
        ...forget.map((token, i) => {
          names[`#r${i}`] = token;
          return `expectations.#r${i}`;
        }),
        ...forgetStops.map((id, i) => {
          names[`#p${i}`] = id;
          return `pendingStops.#p${i}`;
        }),
      ];
      return updateSpecItem({
        serviceName,
        update: {
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          // The optimistic lock: only the reconcile that read this version may act on it.
          ConditionExpression: 'stateVersion = :ev',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      });
    },

    async recordTargets({ serviceName, taskId, targets, expectedVersion }) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { PK: servicePk(serviceName), SK: `${TASK_PREFIX}${taskId}` },
            UpdateExpression: 'SET #t = :t, #tv = if_not_exists(#tv, :zero) + :one',
            // Never makes a task record of its own (the task's observations do), and never writes
            // over targets written since they were read.
            ConditionExpression:
              expectedVersion === undefined
                ? 'attribute_exists(PK) AND attribute_not_exists(#tv)'
                : 'attribute_exists(PK) AND #tv = :ev',
            ExpressionAttributeNames: { '#t': 'targets', '#tv': 'targetsVersion' },
            ExpressionAttributeValues: {
              ':t': targets,
              ':zero': 0,
              ':one': 1,
              ...(expectedVersion === undefined ? {} : { ':ev': expectedVersion }),
            },
          }),
        );
        return OK;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          return { ok: false, reason: 'conflict' };
        throw error;
      }
    },

    async readTargets({ serviceName, taskId }) {
      const out = await doc.send(
        new GetCommand({
          TableName,
          Key: { PK: servicePk(serviceName), SK: `${TASK_PREFIX}${taskId}` },
          ProjectionExpression: '#t, #tv',
          ExpressionAttributeNames: { '#t': 'targets', '#tv': 'targetsVersion' },
          ConsistentRead: true,
        }),
      );
      if (!out.Item) return undefined;
      return {
        targets: (out.Item.targets ?? []) as RecordedTarget[],
        targetsVersion:
          out.Item.targetsVersion === undefined ? undefined : Number(out.Item.targetsVersion),
      };
    },

    async recordObservation({ serviceName, task }) {
      const { names, values, sets } = assignments(taskAttributes(task));
      values[':v'] = task.version;
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { PK: servicePk(serviceName), SK: `${TASK_PREFIX}${task.taskId}` },
            UpdateExpression: `SET ${sets.join(', ')}`,
            // Invariant 3: ECS versions order a task's states; equal is a duplicate, lower is stale.
            ConditionExpression: 'attribute_not_exists(version) OR version < :v',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
        return OK;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          return { ok: false, reason: 'conflict' };
        throw error;
      }
    },

    async settle({ serviceName, expectedVersion, forget, forgetStops, status, launchFailures }) {
      const names: Record<string, string> = { '#status': 'status' };
      const removes = [
        ...forget.map((token, i) => {
          names[`#r${i}`] = token;
          return `expectations.#r${i}`;
        }),
        ...forgetStops.map((id, i) => {
          names[`#p${i}`] = id;
          return `pendingStops.#p${i}`;
        }),
      ];
      const remove = removes.length ? ` REMOVE ${removes.join(', ')}` : '';
      try {
        await doc.send(
          new UpdateCommand({
            TableName,
            Key: { PK: servicePk(serviceName), SK: SPEC },
            UpdateExpression: `SET #status = :status, stateVersion = stateVersion + :one${launchFailures ? ', launchFailures = :lf' : ''}${remove}`,
            // A newer reconcile owns the status; ours would be older news.
            ConditionExpression: 'stateVersion = :ev',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':status': status,
              ':ev': expectedVersion,
              ':one': 1,
              ...(launchFailures ? { ':lf': launchFailures.all } : {}),
            },
          }),
        );
        return OK;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const added = launchFailures?.added ?? [];
        if (removes.length === 0 && added.length === 0) return { ok: false, reason: 'conflict' };
        delete names['#status'];
        // Fulfilled expectations must still go, and failures still count, whoever owns the status now
        // (the list is bounded again by the next write that replaces it).
        const append =
          added.length > 0
            ? 'SET launchFailures = list_append(if_not_exists(launchFailures, :none), :add)'
            : '';
        try {
          await doc.send(
            new UpdateCommand({
              TableName,
              Key: { PK: servicePk(serviceName), SK: SPEC },
              UpdateExpression:
                `${append}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`.trim(),
              ConditionExpression: 'attribute_exists(PK)',
              ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
              ...(added.length > 0
                ? { ExpressionAttributeValues: { ':none': [], ':add': added } }
                : {}),
            }),
          );
        } catch (again) {
          if (!(again instanceof ConditionalCheckFailedException)) throw again;
        }
        return { ok: false, reason: 'conflict' };
      }
    },

    async removeService({ serviceName, expectedVersion }) {
      // The spec goes first, and only if nothing moved since the plan that decided to remove it.
      try {
        await doc.send(
          new DeleteCommand({
            TableName,
            Key: { PK: servicePk(serviceName), SK: SPEC },
            ConditionExpression: 'stateVersion = :ev AND deleting = :true',
            ExpressionAttributeValues: { ':ev': expectedVersion, ':true': true },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return failure(serviceName);
        throw error;
      }
      // Then its history. Only stopped records go: a record that is live belongs to something
      // still running (or to a new service of the same name) and must not vanish. What a crash
      // leaves here is stopped history that expires by TTL.
      const leftovers = await queryAll({ pk: servicePk(serviceName), consistent: true });
      await mapLimit(
        leftovers.filter((i) => String(i.SK).startsWith(TASK_PREFIX)),
        10,
        async (item) => {
          try {
            await doc.send(
              new DeleteCommand({
                TableName,
                Key: { PK: item.PK, SK: item.SK },
                ConditionExpression: 'lastStatus = :stopped',
                ExpressionAttributeValues: { ':stopped': 'STOPPED' },
              }),
            );
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        },
      );
      return OK;
    },

    async appendEvents({ serviceName, messages, now }) {
      if (messages.length === 0) return;
      const expiresAt = Math.floor(Date.parse(now) / 1000) + HISTORY_TTL_SECONDS;
      // Fold a message identical to the newest event into it (a count and the last time), as ECS
      // folds repeated service events, instead of adding the same line again.
      const newest = await doc.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': eventsPk(serviceName) },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      );
      let last = newest.Items?.[0] as { SK?: string; message?: string } | undefined;
      const puts: NonNullable<
        ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
      >[string] = [];
      for (const [i, message] of messages.entries()) {
        if (last?.message === message && puts.length === 0 && last.SK) {
          await doc.send(
            new UpdateCommand({
              TableName,
              Key: { PK: eventsPk(serviceName), SK: last.SK },
              UpdateExpression:
                'SET #count = if_not_exists(#count, :one) + :one, lastAt = :now, expiresAt = :exp',
              ExpressionAttributeNames: { '#count': 'count' },
              ExpressionAttributeValues: { ':one': 1, ':now': now, ':exp': expiresAt },
            }),
          );
          continue;
        }
        // Time first so the partition sorts by time; the suffix keeps same-millisecond events apart.
        const SK = `${now}#${String(nextEventSeq()).padStart(12, '0')}#${String(i).padStart(6, '0')}#${randomUUID().slice(0, 8)}`;
        puts.push({
          PutRequest: {
            Item: { PK: eventsPk(serviceName), SK, message, createdAt: now, expiresAt },
          },
        });
        last = { SK, message };
      }
      for (let i = 0; i < puts.length; i += 25)
        await batchWrite(doc, TableName, puts.slice(i, i + 25));
    },

    async listTasks({ serviceName, limit, nextToken }) {
      const out = await doc
        .send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :task)',
            ExpressionAttributeValues: { ':pk': servicePk(serviceName), ':task': TASK_PREFIX },
            Limit: limit ?? 100,
            ExclusiveStartKey: decodeToken(nextToken, {
              keys: ['PK', 'SK'],
              partition: ['PK', servicePk(serviceName)],
              sortKey: ['SK', TASK_PREFIX],
            }),
          }),
        )
        .catch(refusedToken(nextToken));
      return page((out.Items ?? []).map(toTaskRecord), out.LastEvaluatedKey);
    },

    async listEvents({ serviceName, limit, nextToken }) {
      const out = await doc
        .send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': eventsPk(serviceName) },
            ScanIndexForward: false,
            Limit: limit ?? 50,
            ExclusiveStartKey: decodeToken(nextToken, {
              keys: ['PK', 'SK'],
              partition: ['PK', eventsPk(serviceName)],
              sortKey: ['SK', ''],
            }),
          }),
        )
        .catch(refusedToken(nextToken));
      const items: ServiceEvent[] = (out.Items ?? []).map((i) => ({
        id: String(i.SK),
        createdAt: String(i.createdAt),
        message: String(i.message),
        ...(typeof i.count === 'number' ? { count: i.count, lastAt: String(i.lastAt) } : {}),
      }));
      return page(items, out.LastEvaluatedKey);
    },
  };
}

/** The attributes of a task record as stored, with a TTL once the task is history. */
function taskAttributes(task: TaskRecord): Record<string, unknown> {
  // Targets are reconcile's (recordTargets), never written with an observation.
  const { targets: _t, targetsVersion: _v, ...observed } = task;
  const out: Record<string, unknown> = { ...observed };
  if (task.lastStatus === 'STOPPED') {
    const stopped = Date.parse(task.stoppedAt ?? task.updatedAt ?? '');
    if (Number.isFinite(stopped)) out.expiresAt = Math.floor(stopped / 1000) + HISTORY_TTL_SECONDS;
  }
  return out;
}

/** `SET` clauses for a flat object, with placeholder names and values prefixed by `prefix`. */
function assignments(obj: Record<string, unknown>, prefix = 'n') {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .forEach(([k, v], i) => {
      names[`#${prefix}${i}`] = k;
      values[`:${prefix}${i}`] = v;
      sets.push(`#${prefix}${i} = :${prefix}${i}`);
    });
  return { names, values, sets };
}

async function batchWrite(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string],
): Promise<void> {
  let pending = requests;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
    pending = out.UnprocessedItems?.[tableName] ?? [];
    if (attempt > 8 && pending.length > 0)
      throw new Error('BatchWriteItem left items unprocessed after retries');
  }
}

function page<T>(items: T[], lastKey: Record<string, unknown> | undefined): Page<T> {
  return lastKey
    ? { items, nextToken: Buffer.from(JSON.stringify(lastKey)).toString('base64url') }
    : { items };
}

/**
 * DynamoDB's word on a start key it will not take (one that passed decodeToken's checks but does not
 * fit the query, e.g. a key of another range): the caller's token is wrong, a 400, never a 500.
 */
function refusedToken(token: string | undefined) {
  return (error: unknown): never => {
    if (
      token !== undefined &&
      (error as { name?: string } | null)?.name === 'ValidationException'
    ) {
      throw new ValidationError('Invalid nextToken', [
        { path: 'nextToken', message: 'is not a token this listing issued' },
      ]);
    }
    throw error;
  };
}

/**
 * Opaque pagination tokens are the DynamoDB start key. A token that does not decode, or was issued
 * for another listing, is the caller's error (400), never a malformed request to DynamoDB (500).
 */
function decodeToken(
  token: string | undefined,
  expected: {
    keys: string[];
    partition: [string, string];
    /** The sort key and the prefix the listing's key condition gives it (a start key must match). */
    sortKey: [string, string];
  },
): Record<string, unknown> | undefined {
  if (token === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const key = value as Record<string, unknown> | undefined;
  const valid =
    key !== null &&
    typeof key === 'object' &&
    !Array.isArray(key) &&
    Object.keys(key).length === expected.keys.length &&
    expected.keys.every((k) => typeof key[k] === 'string' && key[k] !== '') &&
    key[expected.partition[0]] === expected.partition[1] &&
    String(key[expected.sortKey[0]]).startsWith(expected.sortKey[1]) &&
    String(key[expected.sortKey[0]]).length > expected.sortKey[1].length;
  if (!valid) {
    throw new ValidationError('Invalid nextToken', [
      { path: 'nextToken', message: 'is not a token this listing issued' },
    ]);
  }
  return key;
}

/**
 * Orders events written by this container within the same millisecond; across containers such
 * ties are arbitrary, as they are in time.
 */
let eventSeq = 0;
function nextEventSeq(): number {
  eventSeq = (eventSeq + 1) % 1e12;
  return eventSeq;
}

/**
 * The SPEC item's attributes for a record: the deployment's id is an attribute of its own
 * (`deploymentId`), so a spec write can compute it from `generation` in the same update.
 */
function deploymentAttributes(record: ServiceRecord): Record<string, unknown> {
  const { deployment, ...rest } = record;
  const { id, ...about } = deployment;
  return { ...rest, deploymentId: id, deployment: about };
}

function toServiceRecord(item: Record<string, unknown>): ServiceRecord {
  const status = item.status as ServiceRecord['status'];
  const about = (item.deployment ?? {}) as Partial<Omit<Deployment, 'id'>>;
  return {
    spec: item.spec as ServiceSpec,
    generation: Number(item.generation),
    ...(item.scaling ? { scaling: item.scaling as ScalingState } : {}),
    // Records from before deployments have none: id 0 makes every task current.
    deployment: {
      id: Number(item.deploymentId ?? 0),
      startedAt: about.startedAt ?? String(item.createdAt),
      reason: about.reason ?? 'service created',
      ...(about.previous ? { previous: about.previous } : {}),
    },
    stateVersion: Number(item.stateVersion),
    deleting: item.deleting === true,
    expectations: (item.expectations ?? {}) as Record<string, Expectation>,
    pendingStops: (item.pendingStops ?? {}) as Record<string, number>,
    launchFailures: (item.launchFailures ?? []) as LaunchFailure[],
    status: { ...status, conditions: status.conditions ?? [] },
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
  };
}

function toTaskRecord(item: Record<string, unknown>): TaskRecord {
  const { PK: _pk, SK: _sk, expiresAt: _ttl, ...rest } = item;
  return rest as TaskRecord;
}
