// Claims a run folder for one writing process: an exclusive lock file (pid, host), stale locks of dead processes taken over, temp files of killed writers removed.

import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TEMP_FILE_PATTERN } from './write-atomic.js';

export const LOCK_FILE = '.iml-lock';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/** A held lock; release() removes the lock file (also run at process exit). */
export interface RunFolderLock {
  readonly path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.host === 'string' ? (v as LockInfo) : null;
  } catch {
    return null;
  }
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`${path}: cannot create the lock file: ${(e as Error).message}`, { cause: e });
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Locks `dir` for this process. Another live process holding it is an error naming its pid, host and start
 * time; a lock left by a dead process on this host is taken over (`onMessage` says so); a lock from another
 * host cannot be checked and is an error telling how to remove it.
 */
export function lockRunFolder(dir: string, opts: { command?: string; onMessage?: (line: string) => void } = {}): RunFolderLock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: opts.command ?? process.argv.slice(1).join(' ') };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, info)) {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        // Only our own lock is removed (a takeover by someone else after a crash is theirs).
        if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
      };
      process.on('exit', release);
      return { path, release };
    }
    const held = readLock(path);
    if (held === null) {
      // Being written right now, or damaged: look again, then treat a lasting unreadable lock as stale.
      if (attempt < 2) continue;
      opts.onMessage?.(`${path}: unreadable lock file taken over`);
      unlinkSync(path);
      continue;
    }
    const since = held.startedAt ? ` since ${held.startedAt}` : '';
    if (held.host !== info.host) {
      throw new Error(`${dir} is locked by pid ${held.pid} on host ${held.host}${since} (${held.command}); if that process is gone, delete ${path}`);
    }
    if (alive(held.pid) && held.pid !== process.pid) {
      throw new Error(`${dir} is in use: pid ${held.pid} on this host writes it${since} (${held.command}); wait for it, or stop it, or use another --out`);
    }
    opts.onMessage?.(`${path}: taking over a stale lock of pid ${held.pid} (no longer running${since})`);
    // Remove it only if it is still the stale one we read; then race for the exclusive create again.
    if (readLock(path)?.pid === held.pid) unlinkSync(path);
  }
  throw new Error(`${dir}: could not take the lock ${path} (another process keeps claiming it)`);
}

/** Removes temporary files left by killed writers under `dir` (atomic writes name them `<file>.tmp-<pid>...`); returns their paths. Symlinks are not followed. */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  if (!existsSync(dir)) return removed;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && TEMP_FILE_PATTERN.test(name)) {
        rmSync(p, { force: true });
        removed.push(p);
      }
    }
  };
  walk(dir);
  return removed;
}
