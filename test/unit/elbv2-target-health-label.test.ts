/**
 * The `steward.emulator/target-health` docker label: what the local ELBv2's health checks see of a
 * container, read with the emulator's other workload labels.
 */
import { describe, expect, it } from '@jest/globals';
import { EcsApiError } from '../../local/ecs/errors';
import { readWorkload, scaleWorkload, WorkloadLabel } from '../../local/ecs/workload';

const read = (value: unknown) =>
  readWorkload({ container: 'app', labels: { [WorkloadLabel.TargetHealth]: value } });

describe('steward.emulator/target-health', () => {
  it.each([
    ['healthy', [{ atMs: 0, value: 'healthy' }]],
    ['unhealthy', [{ atMs: 0, value: 'unhealthy' }]],
    [
      'healthy,unhealthy@60000',
      [
        { atMs: 0, value: 'healthy' },
        { atMs: 60_000, value: 'unhealthy' },
      ],
    ],
    [
      'UNHEALTHY@0, Healthy@30000',
      [
        { atMs: 0, value: 'unhealthy' },
        { atMs: 30_000, value: 'healthy' },
      ],
    ],
  ])('reads %p as a timeline', (label, timeline) => {
    expect(read(label)?.targetHealth).toEqual(timeline);
  });

  it.each(['ok', 'HEALTHY,', 'healthy@-1', 'healthy@1000,unhealthy@1000', 'unknown', ''])(
    'refuses %p (ClientException naming the label)',
    (label) => {
      expect(() => read(label)).toThrow(EcsApiError);
      expect(() => read(label)).toThrow(/steward\.emulator\/target-health/);
    },
  );

  it('refuses a value that is not a string', () => {
    expect(() => read(1)).toThrow(/steward\.emulator\/target-health/);
  });

  it('leaves a container without the label without a target-health timeline', () => {
    expect(readWorkload({ container: 'app', labels: {} })).toBeUndefined();
    expect(
      readWorkload({ container: 'app', labels: { [WorkloadLabel.CpuPercent]: '10' } })
        ?.targetHealth,
    ).toBeUndefined();
  });

  it('scales the timeline with the emulator’s time scale', () => {
    const workload = read('healthy,unhealthy@60000');
    if (!workload) throw new Error('no workload');
    expect(scaleWorkload({ workload, scale: (ms) => ms / 60 }).targetHealth).toEqual([
      { atMs: 0, value: 'healthy' },
      { atMs: 1000, value: 'unhealthy' },
    ]);
  });
});
