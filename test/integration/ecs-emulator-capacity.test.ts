import {
  type ContainerDefinition,
  type ContainerInstance,
  CreateClusterCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorServer, startEmulatorServer } from '../support/emulator-server';

const STEP_MS = 5;
const CLUSTER = 'ec2';

type Stack = EmulatorServer;

/** A real HTTP server on loopback in front of a fresh emulator, and an SDK client for it. */
const startStack = (): Promise<Stack> =>
  startEmulatorServer({ stepDelayMs: STEP_MS, maxAttempts: 1 });

/** Registers a bridge-mode EC2 task definition. */
const register = async (o: {
  client: ECSClient;
  family: string;
  containers: ContainerDefinition[];
  cpu?: string;
  memory?: string;
}) =>
  o.client.send(
    new RegisterTaskDefinitionCommand({
      family: o.family,
      networkMode: 'bridge',
      containerDefinitions: o.containers,
      ...(o.cpu === undefined ? {} : { cpu: o.cpu }),
      ...(o.memory === undefined ? {} : { memory: o.memory }),
    }),
  );

/** RunTask without launch type or strategy: ECS's default, the EC2 launch type. */
const run = async (o: { client: ECSClient; family: string; count?: number }) =>
  o.client.send(
    new RunTaskCommand({ cluster: CLUSTER, taskDefinition: o.family, count: o.count ?? 1 }),
  );

const describeInstance = async (o: {
  client: ECSClient;
  arn: string;
}): Promise<ContainerInstance> => {
  const out = await o.client.send(
    new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [o.arn] }),
  );
  const instance = out.containerInstances?.[0];
  if (!instance) throw new Error(`instance ${o.arn} is missing`);
  return instance;
};

/** name → value of a Resources list, INTEGER as number, STRINGSET as a sorted list. */
const resources = (list: ContainerInstance['remainingResources']): Record<string, unknown> =>
  Object.fromEntries(
    (list ?? []).map((r) => [
      r.name,
      r.type === 'STRINGSET' ? [...(r.stringSetValue ?? [])].sort() : r.integerValue,
    ]),
  );

/** Polls DescribeTasks until `done` holds (bounded: 3 s). */
const waitFor = async (o: {
  client: ECSClient;
  taskArn: string;
  done: (task: Task) => boolean;
}): Promise<Task> => {
  const deadline = Date.now() + 3000;
  for (;;) {
    const out = await o.client.send(
      new DescribeTasksCommand({ cluster: CLUSTER, tasks: [o.taskArn] }),
    );
    const task = out.tasks?.[0];
    if (task && o.done(task)) return task;
    if (Date.now() > deadline) throw new Error(`task ${o.taskArn} stuck at ${task?.lastStatus}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('ECS emulator simulated EC2 capacity', () => {
  let stack: Stack;
  let small: string;
  let large: string;

  beforeAll(async () => {
    stack = await startStack();
    await stack.client.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await stack.client.send(new CreateClusterCommand({ clusterName: 'empty' }));
    const { containerInstanceArns } = stack.emulator.setCapacity({
      cluster: CLUSTER,
      instances: [
        { cpu: 1024, memory: 1024, ports: [22], availabilityZone: 'us-east-1b' },
        { cpu: 512, memory: 2048 },
      ],
    });
    expect(containerInstanceArns).toHaveLength(2);
    [small = '', large = ''] = containerInstanceArns;
    await register({
      client: stack.client,
      family: 'web',
      containers: [
        {
          name: 'web',
          image: 'nginx',
          cpu: 256,
          memory: 512,
          portMappings: [{ containerPort: 80, hostPort: 8080 }],
        },
        // Dynamic host port (bridge, hostPort 0): no port is reserved for it.
        {
          name: 'metrics',
          image: 'exporter',
          memoryReservation: 0,
          essential: false,
          portMappings: [{ containerPort: 9100, hostPort: 0 }],
        },
      ],
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('lists and describes container instances in the API model shape', async () => {
    const list = await stack.client.send(new ListContainerInstancesCommand({ cluster: CLUSTER }));
    expect([...(list.containerInstanceArns ?? [])].sort()).toEqual([small, large].sort());
    expect(small).toMatch(
      /^arn:aws:ecs:us-east-1:000000000000:container-instance\/ec2\/[0-9a-f]{32}$/,
    );

    const id = small.split('/').at(-1) ?? '';
    const out = await stack.client.send(
      new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [id, 'nope'] }),
    );
    expect(out.failures).toEqual([
      {
        arn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/ec2/nope',
        reason: 'MISSING',
      },
    ]);
    const instance = out.containerInstances?.[0];
    expect(instance).toMatchObject({
      containerInstanceArn: small,
      status: 'ACTIVE',
      agentConnected: true,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      attributes: [],
    });
    expect(instance?.ec2InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    expect(instance?.registeredAt).toBeInstanceOf(Date);
    expect(instance?.registeredResources).toContainEqual(
      expect.objectContaining({ name: 'CPU', type: 'INTEGER', integerValue: 1024 }),
    );
    expect(instance?.registeredResources).toContainEqual(
      expect.objectContaining({ name: 'PORTS', type: 'STRINGSET', stringSetValue: ['22'] }),
    );
    expect(resources(instance?.remainingResources)).toMatchObject({
      CPU: 1024,
      MEMORY: 1024,
      PORTS: ['22'],
    });

    const clusters = await stack.client.send(new DescribeClustersCommand({ clusters: [CLUSTER] }));
    expect(clusters.clusters?.[0]?.registeredContainerInstancesCount).toBe(2);
  });

  it('places EC2 tasks binpacked by memory, reports RESOURCE:* failures, releases on stop', async () => {
    // The instance with the least memory that fits takes the first task.
    const first = await run({ client: stack.client, family: 'web' });
    expect(first.failures).toEqual([]);
    const firstTask = first.tasks?.[0];
    expect(firstTask).toMatchObject({
      launchType: 'EC2',
      containerInstanceArn: small,
      availabilityZone: 'us-east-1b',
    });
    expect(
      resources((await describeInstance({ client: stack.client, arn: small })).remainingResources),
    ).toMatchObject({
      CPU: 768,
      MEMORY: 512,
      PORTS: ['22', '8080'],
    });

    // Host port 8080 is taken on the small instance: the next task goes to the large one, and
    // a third finds the port taken everywhere. The call still succeeds with what fits.
    const more = await run({ client: stack.client, family: 'web', count: 2 });
    expect(more.tasks?.map((t) => t.containerInstanceArn)).toEqual([large]);
    expect(more.failures).toHaveLength(1);
    expect(more.failures?.[0]?.reason).toBe('RESOURCE:PORTS');
    expect([small, large]).toContain(more.failures?.[0]?.arn);

    await register({
      client: stack.client,
      family: 'big',
      containers: [{ name: 'app', image: 'busybox', cpu: 128, memory: 4096 }],
    });
    const big = await run({ client: stack.client, family: 'big' });
    expect(big.tasks).toEqual([]);
    expect(big.failures).toEqual([expect.objectContaining({ reason: 'RESOURCE:MEMORY' })]);

    // Task-level cpu/memory win over the containers' figures.
    await register({
      client: stack.client,
      family: 'hungry',
      cpu: '2048',
      memory: '128',
      containers: [{ name: 'app', image: 'busybox', cpu: 10, memory: 64 }],
    });
    const hungry = await run({ client: stack.client, family: 'hungry' });
    expect(hungry.tasks).toEqual([]);
    expect(hungry.failures).toEqual([expect.objectContaining({ reason: 'RESOURCE:CPU' })]);

    const firstArn = firstTask?.taskArn ?? '';
    const listed = await stack.client.send(
      new ListTasksCommand({ cluster: CLUSTER, containerInstance: small }),
    );
    expect(listed.taskArns).toEqual([firstArn]);
    await waitFor({
      client: stack.client,
      taskArn: firstArn,
      done: (t) => t.lastStatus === 'RUNNING',
    });
    const busy = await describeInstance({ client: stack.client, arn: small });
    expect(busy).toMatchObject({ runningTasksCount: 1, pendingTasksCount: 0 });

    // The event carries the instance, as EC2 task events do.
    const event = stack.events.find((e) => e.resources[0] === firstArn);
    expect(event?.detail.containerInstanceArn).toBe(small);

    // Stopping releases cpu, memory and the host port once the task is STOPPED.
    await stack.client.send(new StopTaskCommand({ cluster: CLUSTER, task: firstArn }));
    await waitFor({
      client: stack.client,
      taskArn: firstArn,
      done: (t) => t.lastStatus === 'STOPPED',
    });
    const freed = await describeInstance({ client: stack.client, arn: small });
    expect(resources(freed.remainingResources)).toMatchObject({
      CPU: 1024,
      MEMORY: 1024,
      PORTS: ['22'],
    });
    expect(freed).toMatchObject({ runningTasksCount: 0, pendingTasksCount: 0 });
    const again = await run({ client: stack.client, family: 'web' });
    expect(again.tasks?.[0]?.containerInstanceArn).toBe(small);
    expect(again.failures).toEqual([]);
  });

  it('keeps the empty-cluster answer for EC2 where no instances are set', async () => {
    await register({
      client: stack.client,
      family: 'plain',
      containers: [{ name: 'app', image: 'busybox', memory: 64 }],
    });
    const error = await stack.client
      .send(new RunTaskCommand({ cluster: 'empty', taskDefinition: 'plain', launchType: 'EC2' }))
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.name).toBe('InvalidParameterException');
    expect(error?.message).toBe('No Container Instances were found in your cluster.');
  });

  it('setCapacity replaces the instances and validates them', async () => {
    const other = await stack.client.send(new CreateClusterCommand({ clusterName: 'swap' }));
    const before = stack.emulator.setCapacity({
      cluster: 'swap',
      instances: [{ cpu: 256, memory: 256 }],
    });
    const after = stack.emulator.setCapacity({
      cluster: other.cluster?.clusterArn ?? '',
      instances: [
        { cpu: 256, memory: 256 },
        { cpu: 256, memory: 256 },
      ],
    });
    expect(after.containerInstanceArns).toHaveLength(2);
    expect(after.containerInstanceArns).not.toContain(before.containerInstanceArns[0]);
    // spotAvailable alone leaves the instances as they are.
    expect(stack.emulator.setCapacity({ cluster: 'swap', spotAvailable: true })).toEqual(after);
    expect(() =>
      stack.emulator.setCapacity({ cluster: 'swap', instances: [{ cpu: 0, memory: 1 }] }),
    ).toThrow('instances[0].cpu must be a positive integer.');
    expect(() => stack.emulator.setCapacity({ cluster: 'nope', instances: [] })).toThrow(
      'Cluster not found.',
    );
  });
});
