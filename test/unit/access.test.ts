/** The allow-lists: which clusters and roles pass, and what the refusal says. */
import { describe, expect, it } from '@jest/globals';
import { checkCluster, checkRoles, checkTargetGroups, listSetting } from '../../shared/core/access';
import { ForbiddenError } from '../../shared/core/errors';

const refusal = (f: () => void) => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return (error as Error).message;
  }
  throw new Error('expected a ForbiddenError');
};

describe('listSetting', () => {
  it.each([
    [undefined, undefined],
    ['*', undefined],
    ['', []],
    ['a,b,c', ['a', 'b', 'c']],
  ])('%p → %p', (value, expected) => {
    expect(listSetting(value)).toEqual(expected);
  });

  it.each(['a, b', 'a,,b', ' a'])(
    'refuses %p: IAM is scoped from the same text, untrimmed',
    (value) => {
      expect(() => listSetting(value, 'STEWARD_ALLOWED_CLUSTERS')).toThrow(
        /STEWARD_ALLOWED_CLUSTERS must be comma-separated entries without spaces/,
      );
    },
  );
});

describe('checkCluster', () => {
  it('allows anything without a list, and nothing with an empty one', () => {
    expect(() => checkCluster({}, 'prod')).not.toThrow();
    expect(refusal(() => checkCluster({ clusters: [] }, 'prod'))).toMatch(/\(none\)/);
  });

  it('compares a cluster ARN by its name', () => {
    const policy = { clusters: ['prod'] };
    expect(() =>
      checkCluster(policy, 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod'),
    ).not.toThrow();
    expect(refusal(() => checkCluster(policy, 'staging'))).toBe(
      "Cluster staging is not in Steward's allowed clusters (prod)",
    );
  });
});

describe('checkRoles', () => {
  const policy = { roleArns: ['arn:aws:iam::123456789012:role/app-*'] };

  it('matches * as any run of characters and checks both roles', () => {
    expect(() =>
      checkRoles(policy, {
        taskRoleArn: 'arn:aws:iam::123456789012:role/app-web',
        executionRoleArn: 'arn:aws:iam::123456789012:role/app-exec',
      }),
    ).not.toThrow();
    expect(
      refusal(() =>
        checkRoles(policy, {
          taskRoleArn: 'arn:aws:iam::123456789012:role/app-web',
          executionRoleArn: 'arn:aws:iam::123456789012:role/admin',
        }),
      ),
    ).toBe(
      "executionRoleArn arn:aws:iam::123456789012:role/admin is not in Steward's allowed IAM roles",
    );
  });

  it('treats the other characters of a pattern literally, and refuses a bare role name', () => {
    expect(() =>
      checkRoles(
        { roleArns: ['arn:aws:iam::1.3:role/x'] },
        { taskRoleArn: 'arn:aws:iam::123:role/x' },
      ),
    ).toThrow(ForbiddenError);
    expect(refusal(() => checkRoles(policy, { taskRoleArn: 'app-web' }))).toMatch(/full ARN/);
  });

  it('ignores other fields of a task definition', () => {
    expect(() =>
      checkRoles(policy, { family: 'web', cpu: '256' } as unknown as { taskRoleArn?: string }),
    ).not.toThrow();
  });
});

describe('checkTargetGroups', () => {
  const tg = (name: string) =>
    `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/0123456789abcdef`;
  const lbs = (...names: string[]) =>
    names.map((n) => ({ targetGroupArn: tg(n), containerName: 'app', containerPort: 80 }));

  it('allows any target group without a list', () => {
    expect(() => checkTargetGroups({}, lbs('web', 'admin'))).not.toThrow();
  });

  it('allows groups matching a pattern and names the first one outside it (403)', () => {
    const policy = {
      targetGroupArns: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-*'],
    };
    expect(() => checkTargetGroups(policy, lbs('web-public', 'web-admin'))).not.toThrow();
    const error = (() => {
      try {
        checkTargetGroups(policy, lbs('web-public', 'payments'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toBe(
      `loadBalancers[1].targetGroupArn ${tg('payments')} is not in Steward's allowed target groups`,
    );
  });

  it('an empty list allows none', () => {
    expect(() => checkTargetGroups({ targetGroupArns: [] }, lbs('web'))).toThrow(ForbiddenError);
  });
});
