// Checkpoint files (Node): the portable format of src/train/checkpoint.ts written atomically (temp + fsync + rename) and read back.

import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointInput, type LoadCheckpointOptions } from '../train/checkpoint.js';

/**
 * Writes a checkpoint to `path` atomically: the whole file is serialised first, written to
 * `path.tmp-<pid>`, flushed to disk and renamed over `path`, so a failed or interrupted save leaves any
 * previous checkpoint at `path` intact. Tensors are read with `await t.data()` (any backend).
 */
export async function saveCheckpoint(path: string, ckpt: CheckpointInput): Promise<void> {
  const where = `saveCheckpoint(${path})`;
  const text = await encodeCheckpoint(ckpt, where);
  const tmp = `${path}.tmp-${process.pid}`;
  let created = false;
  try {
    const handle = await fsp.open(tmp, 'w');
    created = true;
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
    created = false;
  } catch (e) {
    if (created) await fsp.unlink(tmp).catch(() => undefined);
    throw new Error(`${where}: write failed, the previous file (if any) is unchanged: ${(e as Error).message}`, { cause: e });
  }
  await syncDirectory(dirname(path));
}

/** Best-effort fsync of the directory so the rename itself survives a crash (not possible on every platform). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const h = await fsp.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // Directories cannot be opened or synced on some platforms (Windows); the data itself is already synced.
  }
}

/**
 * Reads a checkpoint written by saveCheckpoint. A missing, truncated or corrupt file (bad JSON, bad
 * base64, wrong byte count, checksum mismatch) or an unsupported version throws an error naming the file.
 */
export async function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  const where = `loadCheckpoint(${path})`;
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${where}: cannot read the file: ${(e as Error).message}`, { cause: e });
  }
  return decodeCheckpoint(text, opts, where);
}
