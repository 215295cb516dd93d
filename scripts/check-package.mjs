#!/usr/bin/env node
// After `osls package`: unzip each function's artifact and import its handler the way Lambda's
// Node runtime does (ESM .mjs), so a bundle that cannot load fails CI instead of the first invoke.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = '.serverless';
const zips = readdirSync(dir).filter((f) => f.endsWith('.zip'));
if (zips.length === 0) {
  console.error('check-package: no artifacts in .serverless (run osls package first)');
  process.exit(1);
}
// The handlers read their configuration at load, as on a cold start.
process.env.TABLE_NAME ??= 'check-package';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let failed = 0;
for (const zip of zips) {
  const out = mkdtempSync(join(tmpdir(), 'steward-pkg-'));
  try {
    execFileSync('unzip', ['-q', join(dir, zip), '-d', out]);
    const handlers = execFileSync('find', [out, '-name', 'handler.mjs'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
    if (handlers.length !== 1)
      throw new Error(`expected one handler.mjs, found ${handlers.length}`);
    const mod = await import(pathToFileURL(handlers[0]).href);
    if (typeof mod.handler !== 'function') throw new Error('exports no function named handler');
    console.log(`check-package: ${zip} loads, exports handler`);
  } catch (error) {
    failed += 1;
    console.error(
      `check-package: ${zip}: ${error instanceof Error ? error.message : String(error)}`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
process.exit(failed === 0 ? 0 : 1);
