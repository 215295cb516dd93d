#!/usr/bin/env node
// The npm registry this project's machines reach serves only the Linux builds of some native
// packages (biome, swc, unrs-resolver). npm then leaves the other platforms' optional packages out
// of package-lock.json, and `npm ci` rejects the lock as out of sync. This adds the missing entries
// as a lock written on any other machine has them: optional, with the os/cpu/libc their names state,
// so `npm ci` skips them here without fetching. Run it after any `npm install` that changed the lock:
//   npm run lock:complete
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'android',
  'darwin',
  'linux',
  'win32',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU = [
  'arm64',
  'x64',
  'arm',
  'ia32',
  'ppc64',
  's390x',
  'riscv64',
  'loong64',
  'mips64el',
  'wasm32',
];

/** The platform a native package's name states, e.g. `@swc/core-linux-arm-gnueabihf`. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  const abi = parts.at(-1);
  const libc =
    os === 'linux'
      ? abi.startsWith('musl')
        ? 'musl'
        : abi.startsWith('gnu')
          ? 'glibc'
          : undefined
      : undefined;
  if (!cpu) return undefined;
  return { cpu, os, libc };
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform) {
      console.error(`complete-lockfile: cannot tell the platform of ${name}; left out`);
      continue;
    }
    packages[key] = {
      version,
      cpu: [platform.cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      ...(platform.os ? { os: [platform.os] } : {}),
    };
    added += 1;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
