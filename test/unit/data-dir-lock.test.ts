import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DataDirInUseError, lockDataDir } from '../../local/data-dir-lock';

describe('the data directory lock', () => {
  it('is taken, refused to another live process, and released', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steward-lock-'));
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, 'lock.pid'), `${other.pid}\n`);
      expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
      expect(() => lockDataDir(dir)).toThrow(`in use by process ${other.pid}`);
    } finally {
      other.kill();
      await new Promise((r) => other.once('exit', r));
    }
    // The holder died: its lock is stale and taken over.
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, 'lock.pid'), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(join(dir, 'lock.pid'))).toBe(false);
  });
});
