/**
 * A service deleted and created again under the same name: the new incarnation must get new RunTask
 * clientTokens, or ECS (which keeps a token up to 24 h) hands back the old, stopped task — or, with
 * another spec, answers ConflictException.
 */

import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
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

describe('circuit breaker rollback', () => {
  it('restores the launch type and drops a spotFallback the failed deployment brought in', async () => {
    await h.ecsClient.send(
      new RegisterTaskDefinitionCommand({
        family: 'broken',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [
          {
            name: 'app',
            image: 'app:2',
            dockerLabels: { 'steward.emulator/fail-to-start': 'CannotPullContainerError: gone' },
          },
        ],
      }),
    );
    const name = 'rollback-spot';
    const network = { awsvpcConfiguration: { subnets: ['subnet-1'] } };
    const at = () => new Date(h.clock.now()).toISOString();
    const base = {
      ...serviceSpec({ serviceName: name, desiredCount: 1 }),
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    };
    expect(await h.store.createService({ spec: base, now: at() })).toEqual({ ok: true });
    await reconcile(h.deps, { serviceName: name });
    const healthy = await untilSteady(name);
    expect(healthy.status.deployment?.rolloutState).toBe('COMPLETED');

    // Deployment 2: a Spot strategy with fallback, on a definition whose tasks never start.
    const { launchType: _lt, ...rest } = base;
    await h.store.updateSpec({
      serviceName: name,
      replace: {
        ...rest,
        taskDefinition: 'broken:1',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        spotFallback: { enabled: true, retrySpotAfterSeconds: 900 },
      },
      deployment: {
        startedAt: at(),
        reason: 'taskDefinition changed',
        previous: {
          id: 1,
          launch: {
            taskDefinition: 'app:1',
            launchType: 'FARGATE',
            networkConfiguration: network,
          },
        },
      },
      now: at(),
    });
    const rolledBack = await waitFor({
      what: `${name} rolled back`,
      probe: async () => {
        await deliverAll();
        h.clock.advance(60_000);
        await reconcile(h.deps, { serviceName: name });
        const s = await h.store.getService(name, { consistent: true });
        return s?.spec.taskDefinition === 'app:1' ? s : undefined;
      },
    });
    expect(rolledBack.spec.launchType).toBe('FARGATE');
    expect(rolledBack.spec.capacityProviderStrategy).toBeUndefined();
    expect(rolledBack.spec.spotFallback).toBeUndefined();
    expect(rolledBack.deployment).toMatchObject({
      id: 1,
      reason: 'rolled back after deployment 2 failed',
    });
  }, 30_000);

  it('a rollback the API would refuse is said once; the failed deployment stays, reconciles settle', async () => {
    const name = 'rollback-invalid';
    const at = () => new Date(h.clock.now()).toISOString();
    const base = {
      ...serviceSpec({ serviceName: name, desiredCount: 1 }),
      taskDefinition: 'broken:1',
      deploymentConfiguration: {
        minimumHealthyPercent: 100,
        maximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
      },
    };
    expect(await h.store.createService({ spec: base, now: at() })).toEqual({ ok: true });
    // A record whose last completed deployment cannot be restored: Fargate without a network.
    await h.store.updateSpec({
      serviceName: name,
      change: {},
      deployment: {
        startedAt: at(),
        reason: 'redeploy requested',
        previous: { id: 1, launch: { taskDefinition: 'app:1', launchType: 'FARGATE' } },
      },
      now: at(),
    });
    const failed = await waitFor({
      what: `${name} failed`,
      probe: async () => {
        await deliverAll();
        h.clock.advance(60_000);
        await reconcile(h.deps, { serviceName: name });
        const s = await h.store.getService(name, { consistent: true });
        return s?.status.deployment?.rolloutState === 'FAILED' ? s : undefined;
      },
    });
    for (let i = 0; i < 3; i++) {
      const result = await reconcile(h.deps, { serviceName: name });
      expect(result.outcome).not.toBe('contended');
    }
    const after = await h.store.getService(name, { consistent: true });
    expect(after?.spec.taskDefinition).toBe('broken:1');
    expect(after?.generation).toBe(failed.generation);
    const events = await h.store.listEvents({ serviceName: name });
    const refusals = events.items.filter((e) => /cannot be rolled back/.test(e.message));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.message).toBe(
      `(service ${name}) deployment 2 failed and cannot be rolled back to deployment 1: networkConfiguration is required on Fargate (tasks use the awsvpc network mode).`,
    );
    expect(refusals[0]?.count ?? 1).toBe(1);
  }, 30_000);
});
