/**
 * A service deleted and created again under the same name: the new incarnation must get new RunTask
 * clientTokens, or ECS (which keeps a token up to 24 h) hands back the old, stopped task — or, with
 * another spec, answers ConflictException.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { handleControllerEvent } from '../../shared/app/controller-events';
import { reconcile } from '../../shared/app/reconcile';
import { ecsTasksOf, type Harness, serviceSpec, startHarness } from '../support/harness';
import { waitFor } from '../support/wait';

let h: Harness;
let delivered = 0;

/** Delivers every event emitted so far, in order, as EventBridge would (each once). */
async function deliverAll(): Promise<void> {
  while (delivered < h.events.length) {
    const event = h.events[delivered++];
    await handleControllerEvent(h.deps, event);
  }
}

async function untilSteady(serviceName: string) {
  return waitFor({
    what: `${serviceName} steady`,
    probe: async () => {
      await deliverAll();
      const s = await h.store.getService(serviceName);
      return s?.status.steady ? s : undefined;
    },
  });
}

async function untilRemoved(serviceName: string) {
  await waitFor({
    what: `${serviceName} removed`,
    probe: async () => {
      await deliverAll();
      return (await h.store.getService(serviceName)) === undefined ? true : undefined;
    },
  });
}

beforeAll(async () => {
  h = await startHarness({ label: 'lifecycle' });
});

afterAll(async () => {
  await h?.close();
});

describe('delete and create again', () => {
  it.each([
    { what: 'the same spec', taskDefinition: 'app:1' },
    { what: 'another spec (same token would be a ConflictException)', taskDefinition: 'app' },
  ])('with $what, the new incarnation launches a new task', async ({ taskDefinition }) => {
    const name = `phoenix-${taskDefinition.replace(':', '-')}`;
    const now = () => new Date(h.clock.now()).toISOString();
    expect(
      await h.store.createService({
        spec: serviceSpec({ serviceName: name, desiredCount: 1 }),
        now: now(),
      }),
    ).toEqual({ ok: true });
    await reconcile(h.deps, { serviceName: name });
    await untilSteady(name);
    const [first] = await ecsTasksOf(h, { serviceName: name });

    expect(await h.store.markDeleting({ serviceName: name, now: now() })).toEqual({ ok: true });
    await reconcile(h.deps, { serviceName: name });
    await untilRemoved(name);

    h.clock.advance(1_000); // a later creation time, as in real life
    const again = { ...serviceSpec({ serviceName: name, desiredCount: 1 }), taskDefinition };
    expect(await h.store.createService({ spec: again, now: now() })).toEqual({ ok: true });
    const result = await reconcile(h.deps, { serviceName: name });
    expect(result.failedLaunches).toEqual([]);
    const steady = await untilSteady(name);
    expect(steady.status.runningCount).toBe(1);
    const running = (await ecsTasksOf(h, { serviceName: name })).filter(
      (t) => t.lastStatus === 'RUNNING',
    );
    expect(running).toHaveLength(1);
    expect(running[0]?.taskArn).not.toBe(first?.taskArn);
  });
});
