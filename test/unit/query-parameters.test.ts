/**
 * The query protocol's flat parameters, nested as the local CloudWatch and ELBv2 read them; hostile
 * keys change nothing outside the request and cost nothing in proportion to a number they name.
 */
import { describe, expect, it } from '@jest/globals';
import { MAX_MEMBER_INDEX, nestQueryParameters } from '../../local/cloudwatch/request-reader';

const nest = (query: string) => nestQueryParameters(new URLSearchParams(query));

describe('nestQueryParameters', () => {
  it('nests member.N lists and structures, leaving out Action and Version', () => {
    expect(
      nest(
        'Action=RegisterTargets&Version=2015-12-01&TargetGroupArn=arn&Targets.member.2.Id=10.0.0.2&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=80',
      ),
    ).toEqual({
      TargetGroupArn: 'arn',
      Targets: [{ Id: '10.0.0.1', Port: '80' }, { Id: '10.0.0.2' }],
    });
  });

  it(`keeps an index above ${MAX_MEMBER_INDEX} as a name instead of making a sparse list of that length`, () => {
    const body = nest(`TargetGroupArns.member.${MAX_MEMBER_INDEX + 1}=x&Names.member.100000000=y`);
    expect(Array.isArray(body.TargetGroupArns)).toBe(false);
    expect(body.Names).toEqual({ member: { '100000000': 'y' } });
    expect(nest(`Names.member.${MAX_MEMBER_INDEX}=y`).Names).toHaveLength(MAX_MEMBER_INDEX);
  });

  it('ignores __proto__, constructor and prototype parts, so nothing reaches Object.prototype', () => {
    const body = nest(
      '__proto__.polluted=yes&a.__proto__.polluted=yes&constructor.prototype.polluted=yes&Name=n',
    );
    expect(body).toEqual({ Name: 'n' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
