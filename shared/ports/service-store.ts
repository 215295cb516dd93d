import type {
  Deployment,
  Expectation,
  RecordedTarget,
  ServiceRecord,
  ServiceSpec,
  ServiceStatus,
  TaskRecord,
} from '../core/model';
import type { LaunchFailure } from '../core/restart';
import type { ScalingState } from '../core/scaling';

/** One page of a listing; `nextToken` is opaque and absent on the last page. */
export type Page<T> = { items: T[]; nextToken?: string };

/** What reconcile reads in one strongly consistent query. */
export type ServiceState = { service: ServiceRecord; tasks: TaskRecord[] };

/** A human-readable line in a service's history ("(service web) has reached a steady state."). */
export type ServiceEvent = {
  id: string;
  createdAt: string;
  message: string;
  /** How many times it was said in a row (folded repeats), and when it was said last. */
  count?: number;
  lastAt?: string;
};

/** Outcome of a conditional write: a lost race is a result, not an exception. */
export type WriteResult =
  | { ok: true }
  | { ok: false; reason: 'conflict' | 'not-found' | 'precondition-failed' };

/** Persistence of services, their tasks and their events. Every method is one logical write or read. */
export type ServiceStore = {
  /** Creates the service; `conflict` if the name is taken (even while an old one drains). */
  createService(input: { spec: ServiceSpec; now: string }): Promise<WriteResult>;
  /** Eventually consistent unless `consistent` (a read right after a write must be). */
  getService(
    serviceName: string,
    options?: { consistent?: boolean },
  ): Promise<ServiceRecord | undefined>;
  /**
   * Every cluster that has ever had a service (as the spec named it), so resync can find orphans in
   * clusters whose services are all gone.
   */
  listClusters(): Promise<string[]>;
  listServices(input: {
    cluster?: string;
    limit?: number;
    nextToken?: string;
  }): Promise<Page<ServiceRecord>>;
  /** Spec + task records, strongly consistent; undefined if there is no spec. */
  readState(serviceName: string): Promise<ServiceState | undefined>;
  /**
   * Changes the spec (the given fields, or all of it with `replace`) and bumps `generation`, unless
   * the service is draining. With `deployment`, a new deployment starts: its id is the new generation.
   */
  updateSpec(input: {
    serviceName: string;
    change?: Partial<ServiceSpec>;
    replace?: ServiceSpec;
    /** A rollback names the deployment it returns to (`id`); otherwise the id is the new generation. */
    deployment?: Omit<Deployment, 'id'> & { id?: number };
    now: string;
    /** Optimistic concurrency (If-Match): write only at this generation, else `precondition-failed`. */
    expectedGeneration?: number;
  }): Promise<WriteResult>;
  /**
   * A scaling decision: the new capacity and the policies' state, if the service is still at
   * `expectedGeneration` (a spec write in between wins: `precondition-failed`). Bumps `generation`
   * and `stateVersion` but not `updatedAt`, so scaling does not reset the restart policy's streak.
   */
  applyScaling(input: {
    serviceName: string;
    expectedGeneration: number;
    desiredCount: number;
    minCapacity: number;
    maxCapacity: number;
    scaling: ScalingState;
  }): Promise<WriteResult>;
  /** Stores the policies' state after an evaluation that changed no capacity. */
  saveScalingState(input: { serviceName: string; scaling: ScalingState }): Promise<WriteResult>;
  /** Marks the service for deletion: it drains, then reconcile removes it. */
  markDeleting(input: {
    serviceName: string;
    now: string;
    expectedGeneration?: number;
  }): Promise<WriteResult>;
  /**
   * The claim: succeeds only if `stateVersion` is still `expectedVersion`, then stores the new
   * expectations and stop requests, forgets the given expectations, and bumps `stateVersion`.
   */
  claim(input: {
    serviceName: string;
    expectedVersion: number;
    add: Expectation[];
    forget: string[];
    stops: { taskId: string; at: number }[];
    forgetStops: string[];
    /** Expectations whose launch is issued again now: their `issuedAt` becomes `at`. */
    reissue?: { token: string; at: number }[];
    /** Replaces the remembered launch failures (the caller keeps the list bounded). */
    launchFailures?: LaunchFailure[];
    /** The status as the plan sees it, written in the same write. */
    status: ServiceStatus;
  }): Promise<WriteResult>;
  /**
   * Replaces the targets recorded on a task's record, whatever its ECS version (they are Steward's,
   * not ECS's), if its `targetsVersion` is still `expectedVersion` (undefined: none written yet),
   * and bumps it; `conflict` otherwise, or when the task has no record (nothing is made).
   */
  recordTargets(input: {
    serviceName: string;
    taskId: string;
    targets: RecordedTarget[];
    expectedVersion: number | undefined;
  }): Promise<WriteResult>;
  /** The targets recorded on a task's record, strongly consistent; undefined if it has no record. */
  readTargets(input: {
    serviceName: string;
    taskId: string;
  }): Promise<{ targets: RecordedTarget[]; targetsVersion: number | undefined } | undefined>;
  /**
   * Records a task observation only if its `version` is newer than the stored one (stale and
   * duplicate observations are rejected with `conflict`).
   */
  recordObservation(input: { serviceName: string; task: TaskRecord }): Promise<WriteResult>;
  /**
   * Writes the status, forgets fulfilled expectations and finished stop requests, and bumps
   * `stateVersion` — if it is still `expectedVersion`. Otherwise a newer reconcile owns the status:
   * the forgetting is still done and the result is `conflict`.
   */
  settle(input: {
    serviceName: string;
    expectedVersion: number;
    forget: string[];
    forgetStops: string[];
    status: ServiceStatus;
    /**
     * Launch failures: `all` (bounded by the caller) replaces the list when the write wins; if it
     * loses, `added` is appended anyway, so no failure is lost to a concurrent reconcile.
     */
    launchFailures?: { all: LaunchFailure[]; added: LaunchFailure[] };
  }): Promise<WriteResult>;
  /** Deletes the service and its task records, if it is still draining at `expectedVersion`. */
  removeService(input: { serviceName: string; expectedVersion: number }): Promise<WriteResult>;
  appendEvents(input: { serviceName: string; messages: string[]; now: string }): Promise<void>;
  /** The service's task records (live and recently stopped), a page at a time, by task id. */
  listTasks(input: {
    serviceName: string;
    limit?: number;
    nextToken?: string;
  }): Promise<Page<TaskRecord>>;
  listEvents(input: {
    serviceName: string;
    limit?: number;
    nextToken?: string;
  }): Promise<Page<ServiceEvent>>;
};
