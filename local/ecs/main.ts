// Standalone ECS emulator: `npm run emulator`. Serves the ECS JSON 1.1 API on
// 127.0.0.1:${STEWARD_AWS_PORT:-4566}, keeps state in ${STEWARD_DATA_DIR:-.steward}/emulator/ecs-state.json
// (its own: never the file of `npm start`, whose ECS state it would overwrite) and
// prints every task state change event as one JSON line on stdout. STEWARD_ECS_RATE_LIMITS=1 turns
// on AWS's request throttling (token buckets); a JSON object there overrides some buckets, e.g.
// '{"reads":{"burst":10,"perSecond":5}}'. STEWARD_TIME_SCALE=60 runs emulated time 60 times faster.
// The control API (/_steward/: kill, Spot, capacity, usage, faults, counters) is served here too.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createControlApi, isControlRequest } from '../control-api';
import { lockDataDir } from '../data-dir-lock';
import { rateLimitsFromEnv, timeScaleFromEnv } from '../env';
import { makeFaultyTransport } from '../event-faults';
import { EcsEmulator } from './emulator';
import { createEcsRequestHandler } from './http';

const port = Number(process.env.STEWARD_AWS_PORT ?? 4566);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`STEWARD_AWS_PORT must be a port number, got '${process.env.STEWARD_AWS_PORT}'`);
  process.exit(2);
}
const dataDir = join(process.env.STEWARD_DATA_DIR ?? '.steward', 'emulator');
mkdirSync(dataDir, { recursive: true });
let unlock: () => void;
try {
  unlock = lockDataDir(dataDir);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const stateFile = join(dataDir, 'ecs-state.json');

const rateLimits = rateLimitsFromEnv('STEWARD_ECS_RATE_LIMITS');

const timeScale = timeScaleFromEnv();
const faults = makeFaultyTransport();
const emulator = new EcsEmulator({
  stateFile,
  rateLimits,
  timeScale,
  // Through the same fault injection as the stack's, so dropped or duplicated events show here too.
  emit: (event) =>
    faults.transport(() => process.stdout.write(`${JSON.stringify(event)}\n`), event),
});
const ecs = createEcsRequestHandler(emulator);
// The control API (kill, Spot, capacity, usage, faults, counters) as on `npm start`'s endpoint.
const control = createControlApi({ emulator, faults, requestCounts: () => ({}) });
const server = createServer((req, res) =>
  isControlRequest(req) ? control(req, res) : ecs(req, res),
);

server.on('error', (error) => {
  console.error(`ECS emulator could not listen on 127.0.0.1:${port}: ${error.message}`);
  process.exit(1);
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const limits = rateLimits === false ? 'off' : 'on';
  console.log(
    `ECS emulator listening on http://127.0.0.1:${actual} (state: ${stateFile}, rate limits: ${limits})`,
  );
});

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeAllConnections();
  emulator
    .close()
    .then(() => {
      unlock();
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(`ECS emulator could not save its state: ${String(error)}`);
      process.exit(1);
    });
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
