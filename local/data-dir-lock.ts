/**
 * One process per data directory: two stacks (or a stack and the standalone emulator) writing the same
 * DynamoDB files and ECS state would overwrite each other's state.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown when another live process holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `Data directory ${dir} is in use by process ${pid}. Stop that process, or set STEWARD_DATA_DIR to another directory.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** Takes the data directory for this process; returns the release function. A lock left by a dead process is taken over. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'lock.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(dir, holder);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
