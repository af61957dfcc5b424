// Atomic file writes for Node (temp file beside the target, flushed, then renamed) and the temp-name pattern used to clean up after killed writers.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Names of temporary files written by this module (`<file>.tmp-<pid>-<hex>`), and by older builds (`<file>.tmp-<pid>`, `<file>.<pid>.<hex>.tmp`). */
export const TEMP_FILE_PATTERN = /\.tmp-\d+(-[0-9a-f]+)?$|\.\d+\.[0-9a-f]+\.tmp$/;

function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Writes `data` to a temporary file beside `path`, flushes it and renames it over `path`: readers never see a partial file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(data, 'utf8');
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Synchronous writeFileAtomic. */
export function writeFileAtomicSync(path: string, data: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Makes sure a later writeFileAtomic(path) can succeed: creates the folder and writes and removes a temporary file
 * beside path (the target itself is left alone). For commands that compute first and write at the end, so that an
 * unwritable destination is reported before the work, not after it. The error reads "<what>: cannot be written (...)".
 */
export async function checkWritable(path: string, what: string = path): Promise<void> {
  const fail = (e: unknown): Error => new Error(`${what}: cannot be written (${(e as Error).message})`);
  await mkdir(dirname(path), { recursive: true }).catch((e: unknown) => {
    throw fail(e);
  });
  const tmp = tempName(path);
  try {
    await (await open(tmp, 'w')).close();
  } catch (e) {
    throw fail(e);
  } finally {
    await rm(tmp, { force: true });
  }
}
