/**
 * The service use cases with in-memory ports: what they refuse, and that a refused request writes
 * nothing and sends no reconcile request.
 */
import { describe, expect, it } from '@jest/globals';
import { createService, updateService } from '../../shared/app/services';
import { ValidationError } from '../../shared/core/errors';
import { type LoadBalancing, LoadBalancingRefusal } from '../../shared/ports/load-balancing';
import type { ServiceStore } from '../../shared/ports/service-store';
import type { TaskDefinitions } from '../../shared/ports/task-definitions';

/** A port whose every method records that it was called; the cases here must never reach it. */
function untouched<T extends object>(port: string, calls: string[]): T {
  return new Proxy({} as T, {
    get: (_t, name) => async () => {
      calls.push(`${port}.${String(name)}`);
      throw new Error(`${port}.${String(name)} must not be called`);
    },
  });
}

const untouchedStore = (calls: string[]) => untouched<ServiceStore>('store', calls);

function deps() {
  const calls: string[] = [];
  const queued: string[] = [];
  return {
    calls,
    queued,
    deps: {
      store: untouchedStore(calls),
      taskDefinitions: untouched<TaskDefinitions>('taskDefinitions', calls),
      loadBalancing: untouched<LoadBalancing>('loadBalancing', calls),
      access: {},
      queue: { enqueue: async (name: string) => void queued.push(name) },
      clock: () => Date.UTC(2025, 0, 1),
    },
  };
}

describe('service use cases refuse bad input before any write', () => {
  it('PATCH with no field to change is a 400 that names the body', async () => {
    const d = deps();
    const error = await updateService(d.deps, { serviceName: 'web', body: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      { path: '(body)', message: 'names no field to change' },
    ]);
    expect(d.calls).toEqual([]);
    expect(d.queued).toEqual([]);
  });

  it('a Fargate service without a network configuration is refused, naming the field', async () => {
    const d = deps();
    const error = await createService(d.deps, {
      serviceName: 'web',
      taskDefinition: 'web:1',
      desiredCount: 1,
      launchType: 'FARGATE',
    }).catch((e: unknown) => e);
    expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['networkConfiguration']);
    expect(d.calls).toEqual([]);
    expect(d.queued).toEqual([]);
  });

  it('an invalid service name in the path is refused before the store is asked', async () => {
    const d = deps();
    const error = await updateService(d.deps, {
      serviceName: 'a/b',
      body: { desiredCount: 1 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(d.calls).toEqual([]);
  });
});

describe('load balancers are checked before anything is written', () => {
  const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef';
  it('ELB refusing to describe a target group is a 400 naming it, not a 500', async () => {
    const calls: string[] = [];
    const store = new Proxy({} as ServiceStore, {
      get: (_t, name) => async () => {
        calls.push(`store.${String(name)}`);
        if (name === 'getService') return undefined;
        throw new Error(`store.${String(name)} must not be called`);
      },
    });
    const taskDefinitions: TaskDefinitions = {
      register: async () => {
        throw new Error('must not register');
      },
      describe: async () => ({
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
        family: 'web',
        revision: 1,
        status: 'ACTIVE',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        containers: [{ name: 'app', image: 'nginx', ports: [8080] }],
      }),
      listRevisions: async () => ({ items: [] }),
    };
    const loadBalancing = {
      describeTargetGroup: async () => {
        throw new LoadBalancingRefusal(
          'The target group ARN is not valid in this Region',
          'ValidationError',
        );
      },
    } as unknown as LoadBalancing;
    const queued: string[] = [];
    const error = await createService(
      {
        store,
        taskDefinitions,
        loadBalancing,
        access: {},
        queue: { enqueue: async (name: string) => void queued.push(name) },
        clock: () => Date.UTC(2025, 0, 1),
      },
      {
        serviceName: 'web',
        taskDefinition: 'web:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
        loadBalancers: [{ targetGroupArn: TG, containerName: 'app', containerPort: 8080 }],
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      {
        path: 'loadBalancers[0].targetGroupArn',
        message:
          'could not be read from Elastic Load Balancing: The target group ARN is not valid in this Region',
      },
    ]);
    expect(calls).toEqual(['store.getService']);
    expect(queued).toEqual([]);
  });
});
