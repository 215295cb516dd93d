import type { Target, TargetHealth } from '../core/model';

/** A target group, as far as Steward needs to know it. */
export type TargetGroupInfo = {
  targetGroupArn: string;
  /** `ip`, `instance`, `lambda` or `alb`: Steward registers tasks as `ip` targets. */
  targetType: string;
  port?: number;
  protocol?: string;
};

/** One registered target and its health. */
export type TargetHealthDescription = { target: Pick<Target, 'id' | 'port'>; health: TargetHealth };

/** Elastic Load Balancing (v2) target groups, in domain terms. */
export type LoadBalancing = {
  /** The target group, or undefined when it does not exist. */
  describeTargetGroup(targetGroupArn: string): Promise<TargetGroupInfo | undefined>;
  /** Every registered target's health (draining ones included), or `missing` if the group is gone. */
  targetHealth(
    targetGroupArn: string,
  ): Promise<{ missing: true } | { missing?: false; targets: TargetHealthDescription[] }>;
  /** Registers targets (idempotent). Throws LoadBalancingRefusal when ELB refuses them. */
  register(targetGroupArn: string, targets: Pick<Target, 'id' | 'port'>[]): Promise<void>;
  /** Deregisters targets (idempotent; a group that is gone has nothing left to deregister). */
  deregister(targetGroupArn: string, targets: Pick<Target, 'id' | 'port'>[]): Promise<void>;
};

/** ELB refused a request for a reason no retry fixes (no such group, an invalid target…). */
export class LoadBalancingRefusal extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'LoadBalancingRefusal';
  }
}
