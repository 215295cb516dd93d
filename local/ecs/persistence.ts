import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PersistedState } from './model';

/** Reads a state file written by StateFile; undefined if it does not exist yet. */
export const loadStateFile = (path: string): PersistedState | undefined => {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(
      `ECS emulator state file ${path} is not valid JSON; move it away to start fresh`,
      {
        cause,
      },
    );
  }
  const state = parsed as Partial<PersistedState> | null;
  if (state?.format !== 1) {
    throw new Error(`ECS emulator state file ${path} has an unknown format`);
  }
  return {
    format: 1,
    clusters: state.clusters ?? [],
    taskDefinitions: state.taskDefinitions ?? [],
    tasks: state.tasks ?? [],
    clientTokens: state.clientTokens ?? [],
    containerInstances: state.containerInstances ?? [],
    spotUnavailable: state.spotUnavailable ?? [],
  };
};

export type StateFileOptions = {
  path: string;
  snapshot: () => PersistedState;
  /** Coalesces bursts of changes (a RunTask of 10 tasks) into one write. */
  debounceMs?: number;
};

/**
 * Debounced, atomic persistence: writes go to a temporary file renamed over the target, so a crash
 * mid-write leaves the previous state intact. Writes never overlap.
 */
export class StateFile {
  private readonly path: string;
  private readonly snapshot: () => PersistedState;
  private readonly debounceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(options: StateFileOptions) {
    this.path = options.path;
    this.snapshot = options.snapshot;
    this.debounceMs = options.debounceMs ?? 50;
  }

  /** Schedules a write of the current state. */
  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((error: unknown) => {
        process.emitWarning(`ECS emulator could not save ${this.path}: ${String(error)}`);
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
