/**
 * `npm start`: runs Steward offline on its embedded defaults. Configuration (all optional):
 *   STEWARD_PORT (3000)          HTTP API
 *   STEWARD_AWS_PORT (4566)      AWS-compatible endpoint: ECS, DynamoDB, EventBridge, SQS,
 *                                CloudWatch, ELBv2 target groups
 *   STEWARD_DATA_DIR (.steward)  DynamoDB data, ECS state, API token, dead letters
 *   STEWARD_API_TOKEN            bearer token (default: generated once, kept in the data dir)
 *   STEWARD_TICK_SECONDS         schedule period (default: serverless.yml's rate, one minute)
 *   STEWARD_TASK_STEP_MS (1000)  delay between simulated task lifecycle steps
 *   STEWARD_ECS_RATE_LIMITS      1: AWS's ECS request throttling; a JSON object overrides buckets
 *   STEWARD_TIME_SCALE (1)       emulated time runs this many times faster (e.g. 60: Spot's 2-minute
 *                                warning takes 2 s; lifecycle steps and workload timers scale too)
 * The emulator's control API (faults, kills, counters) is under <AWS endpoint>/_steward/.
 */
import { rateLimitsFromEnv, timeScaleFromEnv } from './env';
import { startStack } from './stack';

// Locally Steward runs on the machine's Node (20 or later); in AWS on Lambda's nodejs22.x. The SDK's
// notice about Node 20 is about the former only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function intFromEnv(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a whole number, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

function portFromEnv(name: string, fallback: number): number {
  const port = intFromEnv(name, fallback) as number;
  if (port > 65_535) {
    console.error(`${name} must be a port number from 0 to 65535, got ${port}`);
    process.exit(2);
  }
  return port;
}

const ecsRateLimits = rateLimitsFromEnv('STEWARD_ECS_RATE_LIMITS');
const tickSeconds = intFromEnv('STEWARD_TICK_SECONDS', undefined);
const timeScale = timeScaleFromEnv();
const stack = await startStack({
  persist: true,
  dataDir: process.env.STEWARD_DATA_DIR || '.steward',
  apiPort: portFromEnv('STEWARD_PORT', 3000),
  awsPort: portFromEnv('STEWARD_AWS_PORT', 4566),
  taskStepDelayMs: intFromEnv('STEWARD_TASK_STEP_MS', 1000) as number,
  ecsRateLimits,
  timeScale,
  ...(tickSeconds !== undefined ? { tickIntervalMs: tickSeconds * 1000 } : {}),
  log: (line) => console.log(`[steward] ${line}`),
}).catch((error: unknown) => {
  const code = (error as NodeJS.ErrnoException)?.code;
  if ((error as Error)?.name === 'DataDirInUseError') {
    console.error((error as Error).message);
  } else if (code === 'EADDRINUSE') {
    console.error(
      `A port is already in use (${(error as Error).message}). Set STEWARD_PORT / STEWARD_AWS_PORT, or stop the other process.`,
    );
  } else {
    console.error('Steward failed to start:', error);
  }
  process.exit(1);
});

console.log(`
  Steward is running locally.

  HTTP API        ${stack.apiUrl}
  AWS endpoint    ${stack.awsUrl}   (ECS, DynamoDB, EventBridge, CloudWatch, ELBv2: aws --endpoint-url ${stack.awsUrl} …)
  API token       ${stack.token}
                  (saved in ${stack.tokenFile})
  Data            ${stack.dataDir}
  Emulator        ${stack.awsUrl}/_steward/   (control API: faults, kills, counters; ECS rate limits ${ecsRateLimits === false ? 'off' : 'on'})

  Try it:
    curl -H "Authorization: Bearer ${stack.token}" ${stack.apiUrl}/services

  Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n[steward] ${signal}: stopping…`);
  stack
    .stop()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error('[steward] unclean stop:', error);
      process.exit(1);
    });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
