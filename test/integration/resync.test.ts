/**
 * Resync (the tick's work) on real local engines, with no event delivery at all: whatever happens in
 * ECS, only resync can notice it. dynalite for the store, the ECS emulator over HTTP.
 */

import { DescribeTasksCommand, type ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ResyncDeps, resync } from '../../shared/app/resync';
import type { ServiceSpec, TaskRecord } from '../../shared/core/model';
import type { ServiceStore } from '../../shared/ports/service-store';
import { type Harness, startHarness } from '../support/harness';
import { waitFor } from '../support/wait';

let h: Harness;
let store: ServiceStore;
let ecs: ECSClient;
let deps: ResyncDeps;

const spec = (serviceName: string, desiredCount: number): ServiceSpec => ({
  serviceName,
  cluster: 'default',
  taskDefinition: 'app:1',
  desiredCount,
  launchType: 'FARGATE',
  networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
});

/** ECS's view: the tasks Steward started for a service, by status. */
async function ecsTasks(serviceName: string) {
  const arns = await deps.ecs.listRunningTaskArns('default');
  const { tasks } = await deps.ecs.describe({ cluster: 'default', taskArns: arns });
  return tasks.filter((t) => t.startedBy === `steward/${serviceName}`).map((t) => t.task);
}

/** Resync until the service reports `running` RUNNING tasks, steady (each pass is one tick). */
async function resyncUntilSteady(serviceName: string, running: number) {
  return waitFor({
    what: `${serviceName} steady at ${running} through resync alone`,
    timeoutMs: 10_000,
    intervalMs: 30,
    probe: async () => {
      await resync(deps);
      const s = await store.getService(serviceName);
      return s?.status.steady && s.status.runningCount === running ? s : undefined;
    },
  });
}

beforeAll(async () => {
  h = await startHarness({ label: 'resync' });
  store = h.store;
  ecs = h.ecsClient;
  deps = { ...h.deps, orphanGraceMs: 0 };
});

afterAll(async () => {
  await h?.close();
});

describe('resync with every event lost', () => {
  it('brings a new service to its desired count', async () => {
    expect(
      await store.createService({ spec: spec('alpha', 3), now: new Date().toISOString() }),
    ).toEqual({ ok: true });
    await resyncUntilSteady('alpha', 3);
    const tasks = await ecsTasks('alpha');
    expect(tasks.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
  });

  it('notices a task that stopped without an event, and replaces it in its slot', async () => {
    const before = await ecsTasks('alpha');
    const victim = before[0] as TaskRecord;
    const victimSlot = (await store.readState('alpha'))?.tasks.find(
      (t) => t.taskId === victim.taskId,
    )?.slot;
    await ecs.send(new StopTaskCommand({ task: victim.taskArn, reason: 'lost event' }));
    await waitFor({
      what: 'the victim to stop in ECS',
      probe: async () => {
        const d = await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn] }));
        return d.tasks?.[0]?.lastStatus === 'STOPPED' ? true : undefined;
      },
    });
    await resyncUntilSteady('alpha', 3);
    const state = await store.readState('alpha');
    expect(state?.tasks.find((t) => t.taskId === victim.taskId)).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
    });
    const live = state?.tasks.filter((t) => t.lastStatus === 'RUNNING') ?? [];
    expect(live.map((t) => t.slot).sort()).toEqual([0, 1, 2]);
    expect(live.some((t) => t.slot === victimSlot && t.taskId !== victim.taskId)).toBe(true);
  });

  it('repairs a service whose reconcile failed after its event was recorded (status still says steady)', async () => {
    expect(
      await store.createService({ spec: spec('gamma', 1), now: new Date().toISOString() }),
    ).toEqual({ ok: true });
    await resyncUntilSteady('gamma', 1);
    const [task] = await ecsTasks('gamma');
    const victim = task as TaskRecord;
    await ecs.send(
      new StopTaskCommand({ task: victim.taskArn, reason: 'its reconcile will fail' }),
    );
    const stopped = await waitFor({
      what: 'the task to stop in ECS',
      probe: async () => {
        const d = await deps.ecs.describe({ cluster: 'default', taskArns: [victim.taskArn] });
        return d.tasks[0]?.task.lastStatus === 'STOPPED' ? d.tasks[0].task : undefined;
      },
    });
    // The event was recorded (as the Lambda does first), then its reconcile died: nothing else ran.
    await store.recordObservation({ serviceName: 'gamma', task: stopped });
    expect((await store.getService('gamma'))?.status.steady).toBe(true);
    // The tick sees nothing new in ECS, but the state itself shows work to do: a replacement must run.
    const replacement = await waitFor({
      what: 'resync alone to launch a replacement',
      timeoutMs: 5_000,
      intervalMs: 30,
      probe: async () => {
        await resync(deps);
        const running = (await ecsTasks('gamma')).filter((t) => t.lastStatus === 'RUNNING');
        return running.length === 1 && running[0]?.taskId !== victim.taskId
          ? running[0]
          : undefined;
      },
    });
    expect(replacement.slot).toBe(victim.slot);
  });

  it('marks a recorded task that ECS no longer knows as stopped, and replaces it', async () => {
    expect(
      await store.createService({ spec: spec('beta', 1), now: new Date().toISOString() }),
    ).toEqual({ ok: true });
    const ghostId = 'feedfacefeedfacefeedfacefeedface';
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    await store.recordObservation({
      serviceName: 'beta',
      task: {
        taskId: ghostId,
        taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${ghostId}`,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        version: 3,
        slot: 0,
        createdAt: tenMinutesAgo,
        updatedAt: tenMinutesAgo,
      },
    });
    await resyncUntilSteady('beta', 1);
    const ghost = (await store.readState('beta'))?.tasks.find((t) => t.taskId === ghostId);
    expect(ghost).toMatchObject({ lastStatus: 'STOPPED', version: 4 });
    expect(ghost?.stoppedReason).toMatch(/MISSING/);
    expect((await ecsTasks('beta')).map((t) => t.lastStatus)).toEqual(['RUNNING']);
  });

  it('stops a task ECS still runs but Steward has recorded as stopped', async () => {
    const [task] = await ecsTasks('beta');
    const running = task as TaskRecord;
    await store.recordObservation({
      serviceName: 'beta',
      task: {
        ...running,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        version: 99,
        stoppedAt: new Date().toISOString(),
      },
    });
    await resync(deps);
    const d = await ecs.send(new DescribeTasksCommand({ tasks: [running.taskArn] }));
    expect(d.tasks?.[0]?.desiredStatus).toBe('STOPPED');
    expect(d.tasks?.[0]?.stoppedReason).toBe('Steward: task runs but was recorded as stopped');
    await resyncUntilSteady('beta', 1);
  });
});
