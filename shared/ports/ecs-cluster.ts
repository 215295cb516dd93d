import type { NetworkConfiguration, TaskRecord } from '../core/model';

export type LaunchRequest = {
  cluster: string;
  taskDefinition: string;
  launchType?: string;
  networkConfiguration?: NetworkConfiguration;
  startedBy: string;
  clientToken: string;
  /** Becomes `STEWARD_TASK_INDEX` in every container and the `steward:slot` tag. */
  slot: number;
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
