import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ElbV2State } from './engine';

// The local ELBv2's state file, written the way the ECS emulator writes its own
// (ecs/persistence.ts): debounced, to a temporary file renamed over the target, never overlapping.

/** Reads a state file written by ElbV2StateFile; undefined if it does not exist yet. */
export const loadElbV2State = (path: string): ElbV2State | undefined => {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new Error(`ELBv2 state file ${path} is not valid JSON; move it away to start fresh`, {
      cause,
    });
  }
  const state = parsed as Partial<ElbV2State> | null;
  if (state?.format !== 1 || !Array.isArray(state.targetGroups)) {
    throw new Error(`ELBv2 state file ${path} has an unknown format`);
  }
  return { format: 1, targetGroups: state.targetGroups };
};

/** Debounced, atomic writes of the local ELBv2's state. */
export class ElbV2StateFile {
  private readonly path: string;
  private readonly snapshot: () => ElbV2State;
  private readonly debounceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(o: { path: string; snapshot: () => ElbV2State; debounceMs?: number }) {
    this.path = o.path;
    this.snapshot = o.snapshot;
    this.debounceMs = o.debounceMs ?? 50;
  }

  /** Schedules a write of the current state. */
  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((error: unknown) => {
        process.emitWarning(`The local ELBv2 could not save ${this.path}: ${String(error)}`);
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
