import type {
  CapacityProviderStrategyItem,
  NetworkConfiguration,
  PlacementConstraint,
  PlacementStrategy,
  Tag,
  TaskRecord,
} from '../core/model';

/** One RunTask of one task: the service's launch fields plus Steward's bookkeeping. */
export type LaunchRequest = {
  cluster: string;
  taskDefinition: string;
  launchType?: string;
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  platformVersion?: string;
  networkConfiguration?: NetworkConfiguration;
  placementConstraints?: PlacementConstraint[];
  placementStrategy?: PlacementStrategy[];
  /** Tags for the task, besides Steward's own `steward:service` and `steward:slot`. */
  tags?: Tag[];
  /** Only RunTask's own value: the task definition's tags. */
  propagateTags?: 'TASK_DEFINITION';
  enableExecuteCommand?: boolean;
  startedBy: string;
  clientToken: string;
  /** Becomes `STEWARD_TASK_INDEX` in every container and the `steward:slot` tag. */
  slot: number;
  /** Becomes `STEWARD_DEPLOYMENT` in every container. */
  deployment: number;
  /** Launched on-demand as a Spot fallback: `STEWARD_FALLBACK=1` in every container. */
  fallback?: boolean;
  serviceName: string;
};

/** RunTask's answer for one launch: the task, or why ECS would not start it. */
export type LaunchResult =
  | { ok: true; task: TaskRecord }
  | { ok: false; reason: string; retryable: boolean };

/** The ECS operations the controller uses, in domain terms. */
export type EcsCluster = {
  launch(request: LaunchRequest): Promise<LaunchResult>;
  stop(input: { cluster: string; taskArn: string; reason: string }): Promise<void>;
  /** Task ARNs the cluster reports with desired status RUNNING (all pages). */
  listRunningTaskArns(cluster: string): Promise<string[]>;
  /** DescribeTasks in chunks of 100; `missing` lists ARNs ECS no longer knows. */
  describe(input: { cluster: string; taskArns: string[] }): Promise<{
    tasks: { startedBy?: string; task: TaskRecord }[];
    missing: string[];
  }>;
};
