/**
 * Who may launch what: optional allow-lists of clusters, of IAM role ARNs and of target group ARNs
 * (configuration). A service on a cluster outside the list, a task definition naming a task or
 * execution role outside the list, or a load balancer target group outside the list is refused with
 * 403, so API callers cannot run tasks with roles they should not hold, nor put tasks behind load
 * balancers they should not reach. The same lists scope the controller's IAM policy (ecs:RunTask on
 * those clusters, iam:PassRole on those roles, RegisterTargets on those groups) in serverless.yml,
 * so the check holds in AWS even for a request that got past this code.
 */
import { ForbiddenError } from './errors';

/** An absent list allows everything; an empty list allows nothing. */
export type AccessPolicy = {
  /** Cluster names (an ARN in a spec is compared by its name). */
  clusters?: readonly string[];
  /** Role ARNs; `*` in an entry matches any run of characters, as in IAM resource ARNs. */
  roleArns?: readonly string[];
  /** Target group ARNs, with `*` as in roleArns. */
  targetGroupArns?: readonly string[];
};

/** The cluster's name, from a name or an ARN. */
export function clusterNameOf(cluster: string): string {
  const slash = cluster.lastIndexOf('/');
  return cluster.startsWith('arn:') && slash >= 0 ? cluster.slice(slash + 1) : cluster;
}

export function checkCluster(policy: AccessPolicy, cluster: string): void {
  if (policy.clusters === undefined) return;
  const name = clusterNameOf(cluster);
  if (!policy.clusters.includes(name)) {
    throw new ForbiddenError(
      `Cluster ${name} is not in Steward's allowed clusters (${policy.clusters.join(', ') || 'none'})`,
    );
  }
}

/** Refuses a task definition whose task or execution role is not allowed. */
export function checkRoles(
  policy: AccessPolicy,
  roles: { taskRoleArn?: string | undefined; executionRoleArn?: string | undefined },
): void {
  if (policy.roleArns === undefined) return;
  const patterns = policy.roleArns.map(globToRegExp);
  const named = { taskRoleArn: roles.taskRoleArn, executionRoleArn: roles.executionRoleArn };
  for (const [field, arn] of Object.entries(named)) {
    if (arn === undefined) continue;
    // A bare role name (ECS takes one for the task role) is checked as what it must become: an ARN
    // of this account, which the list can only match if it says so; so it is refused here.
    if (!patterns.some((p) => p.test(arn))) {
      throw new ForbiddenError(
        `${field} ${arn} is not in Steward's allowed IAM roles${arn.startsWith('arn:') ? '' : ' (give the role as a full ARN)'}`,
      );
    }
  }
}

/** Refuses load balancers whose target group is not allowed, naming the first such entry. */
export function checkTargetGroups(
  policy: AccessPolicy,
  loadBalancers: readonly { targetGroupArn: string }[],
): void {
  if (policy.targetGroupArns === undefined) return;
  const patterns = policy.targetGroupArns.map(globToRegExp);
  loadBalancers.forEach((lb, i) => {
    if (!patterns.some((p) => p.test(lb.targetGroupArn))) {
      throw new ForbiddenError(
        `loadBalancers[${i}].targetGroupArn ${lb.targetGroupArn} is not in Steward's allowed target groups`,
      );
    }
  });
}

const globToRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.split('*').map(escapeRegExp).join('.*')}$`);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Parses a comma-separated list from configuration; unset or `*` means "no list" (allow all), empty
 * means an empty list. Spaces are refused rather than trimmed: serverless.yml builds the IAM
 * policy from the same text without trimming, and the two must agree.
 */
export function listSetting(value: string | undefined, name = 'the list'): string[] | undefined {
  if (value === undefined || value === '*') return undefined;
  if (value === '') return [];
  const entries = value.split(',');
  if (entries.some((e) => e === '' || /\s/.test(e))) {
    throw new Error(
      `${name} must be comma-separated entries without spaces or empty entries (IAM is scoped from the same text), got '${value}'`,
    );
  }
  return entries;
}
