/**
 * The local ECS emulator behind a real HTTP server on loopback, with an AWS SDK client for it, and
 * the Fargate task definition most emulator tests register.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ContainerDefinition,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type RegisterTaskDefinitionCommandOutput,
} from '@aws-sdk/client-ecs';
import {
  EcsEmulator,
  type EcsEmulatorOptions,
  type EventBridgeEvent,
} from '../../local/ecs/emulator';
import { createEcsRequestHandler } from '../../local/ecs/http';

/** How emitted task events reach `events`: as emitted, deep-copied when emitted, or not at all. */
export type EventCapture = 'as-emitted' | 'cloned' | 'none';

/** startEmulatorServer's options: the emulator's own, plus event capture and client retries. */
export type EmulatorServerOptions = EcsEmulatorOptions & {
  /** Default 'as-emitted'. An `emit` among the emulator options replaces the capture. */
  capture?: EventCapture;
  /** The SDK client's maxAttempts; unset leaves the SDK's default (which retries). */
  maxAttempts?: number;
};

/** A running emulator, its loopback endpoint, an SDK client for it, and its captured events. */
export type EmulatorServer = {
  emulator: EcsEmulator;
  client: ECSClient;
  endpoint: string;
  /** Every task event the emulator emitted, in emission order (empty with capture 'none'). */
  events: EventBridgeEvent[];
  /** Destroys the client, closes the server and its connections, then closes the emulator. */
  stop: () => Promise<void>;
};

const captureInto = (
  events: EventBridgeEvent[],
  capture: EventCapture,
): Pick<EcsEmulatorOptions, 'emit'> => {
  if (capture === 'none') return {};
  if (capture === 'cloned') return { emit: (e) => events.push(structuredClone(e)) };
  return { emit: (e) => events.push(e) };
};

/** Starts a fresh emulator behind an HTTP server on 127.0.0.1:0 and an SDK client pointed at it. */
export async function startEmulatorServer(
  options: EmulatorServerOptions = {},
): Promise<EmulatorServer> {
  const { capture = 'as-emitted', maxAttempts, ...emulatorOptions } = options;
  const events: EventBridgeEvent[] = [];
  const emulator = new EcsEmulator({ ...captureInto(events, capture), ...emulatorOptions });
  const server: Server = createServer(createEcsRequestHandler(emulator));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new ECSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  const stop = async (): Promise<void> => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await emulator.close();
  };
  return { emulator, client, endpoint, events, stop };
}

/** A Fargate task definition input: awsvpc, 256 CPU units, 512 MiB, the given containers. */
export function fargateTaskDefinition(o: {
  family: string;
  containers: ContainerDefinition[];
}): RegisterTaskDefinitionCommandInput {
  return {
    family: o.family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: o.containers,
  };
}

/** Registers a Fargate task definition (awsvpc, 256 CPU units, 512 MiB) with the given containers. */
export async function registerFargateTaskDefinition(o: {
  client: ECSClient;
  family: string;
  containers: ContainerDefinition[];
}): Promise<RegisterTaskDefinitionCommandOutput> {
  return o.client.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition({ family: o.family, containers: o.containers }),
    ),
  );
}
