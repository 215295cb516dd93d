/**
 * The LoadBalancing port on Elastic Load Balancing v2 (AWS SDK v3). DescribeTargetHealth answers
 * every registered target of a group in one call (draining ones included), which is all reconcile
 * reads; Register/DeregisterTargets take up to 1000 targets a call and are idempotent.
 */
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthState } from '../core/model';
import {
  type LoadBalancing,
  LoadBalancingRefusal,
  type TargetHealthDescription,
} from '../ports/load-balancing';

/** ELB's errors that no retry fixes: the request names something that is not there or not valid. */
const REFUSALS: ReadonlySet<string> = new Set([
  'TargetGroupNotFound',
  'TargetGroupNotFoundException',
  'InvalidTarget',
  'InvalidTargetException',
  'TooManyTargets',
  'TooManyTargetsException',
  'TooManyRegistrationsForTargetId',
  'TooManyRegistrationsForTargetIdException',
  'ValidationError',
  'AccessDenied',
  'AccessDeniedException',
]);

/** Targets per Register/DeregisterTargets call (ELB's limit per request is far above a service's). */
const TARGETS_PER_CALL = 500;

export function makeElbv2LoadBalancing(options: {
  client: ElasticLoadBalancingV2Client;
}): LoadBalancing {
  const { client } = options;
  const refusal = (error: unknown): never => {
    const name = (error as { name?: string }).name ?? '';
    if (REFUSALS.has(name)) {
      throw new LoadBalancingRefusal(
        (error as Error).message || name,
        name.replace(/Exception$/, ''),
      );
    }
    throw error;
  };
  return {
    async describeTargetGroup(targetGroupArn) {
      try {
        const out = await client.send(
          new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }),
        );
        const group = out.TargetGroups?.[0];
        if (!group?.TargetGroupArn) return undefined;
        return {
          targetGroupArn: group.TargetGroupArn,
          targetType: group.TargetType ?? 'instance',
          ...(group.Port !== undefined ? { port: group.Port } : {}),
          ...(group.Protocol !== undefined ? { protocol: group.Protocol } : {}),
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        return refusal(error);
      }
    },

    async targetHealth(targetGroupArn) {
      try {
        const out = await client.send(
          new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
        );
        const targets: TargetHealthDescription[] = [];
        for (const d of out.TargetHealthDescriptions ?? []) {
          const id = d.Target?.Id;
          const port = d.Target?.Port;
          if (id === undefined || port === undefined) continue;
          targets.push({
            target: { id, port },
            health: {
              state: (d.TargetHealth?.State ?? 'unavailable') as TargetHealthState,
              ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
              ...(d.TargetHealth?.Description ? { description: d.TargetHealth.Description } : {}),
            },
          });
        }
        return { targets };
      } catch (error) {
        if (isNotFound(error)) return { missing: true };
        throw error;
      }
    },

    async register(targetGroupArn, targets) {
      for (let i = 0; i < targets.length; i += TARGETS_PER_CALL) {
        const chunk = targets.slice(i, i + TARGETS_PER_CALL);
        try {
          await client.send(
            new RegisterTargetsCommand({
              TargetGroupArn: targetGroupArn,
              Targets: chunk.map((t) => ({ Id: t.id, Port: t.port })),
            }),
          );
        } catch (error) {
          refusal(error);
        }
      }
    },

    async deregister(targetGroupArn, targets) {
      for (let i = 0; i < targets.length; i += TARGETS_PER_CALL) {
        const chunk = targets.slice(i, i + TARGETS_PER_CALL);
        try {
          await client.send(
            new DeregisterTargetsCommand({
              TargetGroupArn: targetGroupArn,
              Targets: chunk.map((t) => ({ Id: t.id, Port: t.port })),
            }),
          );
        } catch (error) {
          // A group that is gone has nothing registered left.
          if (isNotFound(error)) return;
          refusal(error);
        }
      }
    },
  };
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof TargetGroupNotFoundException ||
    (error as { name?: string }).name === 'TargetGroupNotFound' ||
    (error as { name?: string }).name === 'TargetGroupNotFoundException'
  );
}
