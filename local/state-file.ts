import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The parsed JSON of a local engine's state file, or undefined if it does not exist yet; `what`
 * names the engine in the error for a file that does not parse.
 */
export function readStateFile(path: string, what: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`${what} state file ${path} is not valid JSON; move it away to start fresh`, {
      cause,
    });
  }
}

export type StateFileOptions<T> = {
  path: string;
  snapshot: () => T;
  /** Names the engine in warnings ("ECS emulator"). */
  what: string;
  /** Coalesces bursts of changes (a RunTask of 10 tasks) into one write. */
  debounceMs?: number;
};

/**
 * Debounced, atomic persistence of a local engine's state (the ECS emulator's, the local ELBv2's):
 * writes go to a temporary file renamed over the target, so a crash mid-write leaves the previous
 * state intact. Writes never overlap.
 */
export class StateFile<T> {
  private readonly path: string;
  private readonly snapshot: () => T;
  private readonly what: string;
  private readonly debounceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(options: StateFileOptions<T>) {
    this.path = options.path;
    this.snapshot = options.snapshot;
    this.what = options.what;
    this.debounceMs = options.debounceMs ?? 50;
  }

  /** Schedules a write of the current state. */
  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((error: unknown) => {
        process.emitWarning(`${this.what} could not save ${this.path}: ${String(error)}`);
      });
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write; waits for a write in progress. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async write(): Promise<void> {
    const json = JSON.stringify(this.snapshot());
    const tmp = `${this.path}.${process.pid}.tmp`;
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(tmp, json, 'utf8');
    await rename(tmp, this.path);
  }
}
