import { describe, expect, it } from '@jest/globals';
import { ownerOf, privateIpOf, startedByFor, taskIdOf } from '../../shared/core/model';
import { newServiceNameSchema } from '../../shared/core/schemas';

describe('task ownership from startedBy', () => {
  it.each([
    ['steward/web', 'web'],
    ['steward/api_v2-blue', 'api_v2-blue'],
    [startedByFor('x'.repeat(120)), 'x'.repeat(120)],
    ['ecs-svc/1234567890', undefined],
    ['steward/', undefined],
    ['steward/a/b', undefined],
    ['steward/web ', undefined],
    ['Steward/web', undefined],
    [undefined, undefined],
  ])('%s belongs to %s', (startedBy, owner) => {
    expect(ownerOf(startedBy)).toBe(owner);
  });

  it('a new service name is at most 120 characters, so startedBy fits RunTask limit of 128', () => {
    const longest = 'x'.repeat(120);
    expect(newServiceNameSchema.safeParse(longest).success).toBe(true);
    expect(startedByFor(longest)).toHaveLength(128);
    const tooLong = newServiceNameSchema.safeParse('x'.repeat(121));
    expect(tooLong.success).toBe(false);
    expect(tooLong.error?.issues[0]?.message).toMatch(/at most 120 characters/);
  });

  it.each([
    [
      'arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef',
      '0123456789abcdef0123456789abcdef',
    ],
    [
      'arn:aws:ecs:us-east-1:123456789012:task/6f1a0c3e-8c1b-4f5e-9a51-2b7f2c1d3e4f',
      '6f1a0c3e-8c1b-4f5e-9a51-2b7f2c1d3e4f',
    ],
  ])('task id of %s', (arn, id) => {
    expect(taskIdOf(arn)).toBe(id);
  });
});

describe('privateIpOf', () => {
  const eni = (ip: unknown) => [
    {
      id: 'a1',
      type: 'eni',
      status: 'ATTACHED',
      details: [
        { name: 'subnetId', value: 'subnet-1' },
        { name: 'privateIPv4Address', value: ip },
      ],
    },
  ];
  it.each<[string, unknown, string | undefined]>([
    ['the ENI detail', eni('10.0.1.23'), '10.0.1.23'],
    ['no attachments', undefined, undefined],
    ['an attachment without details', [{ id: 'a1', type: 'eni' }], undefined],
    ['a value that is no IPv4 address', eni('10.0.1.256'), undefined],
    ['a number', eni(10), undefined],
    ['not a list', { details: [] }, undefined],
  ])('%s', (_name, attachments, expected) => {
    expect(privateIpOf(attachments)).toBe(expected);
  });
});
