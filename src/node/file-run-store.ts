// A run folder on disk (Node): metrics.jsonl, checkpoint.json and best.json, checkpoints written atomically.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { writeFileAtomic } from './write-atomic.js';
import type { CheckpointInput } from '../train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
import type { RunStore } from '../iml/run-store.js';
import type { MetaEpochMetrics } from '../iml/trainer.js';

/**
 * Parses metrics.jsonl text: one JSON object per line. A last line without its newline that does not parse
 * was being written when the process died and is dropped; any other bad line is an error naming it.
 * With `upTo`, lines after the first `upTo` are not read at all.
 */
export function parseMetricsLines(text: string, file: string, upTo = Infinity): MetaEpochMetrics[] {
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || text === '';
  const out: MetaEpochMetrics[] = [];
  for (let i = 0; i < lines.length && out.length < upTo; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as MetaEpochMetrics);
    } catch (e) {
      if (i === lines.length - 1 && !complete) break;
      throw new Error(`${file}: line ${i + 1} is not JSON (${(e as Error).message})`, { cause: e });
    }
  }
  return out;
}

/** The run store of `runDir` (created if missing); M is the per-meta-epoch record (MetaEpochMetrics for the L2 runs). */
export function fileRunStore<M extends { metaEpoch: number } = MetaEpochMetrics>(runDir: string): RunStore<M> {
  mkdirSync(runDir, { recursive: true });
  const metricsFile = join(runDir, 'metrics.jsonl');
  const checkpointFile = join(runDir, 'checkpoint.json');
  return {
    location: runDir,
    readMetrics: async (upTo?: number) => (existsSync(metricsFile) ? parseMetricsLines(readFileSync(metricsFile, 'utf8'), metricsFile, upTo) as unknown as M[] : []),
    // Replacing the metrics (a fresh start, or the resumed prefix) goes through a temp file and a rename.
    writeMetrics: async (ms: readonly M[]) => writeFileAtomic(metricsFile, ms.map((m) => `${JSON.stringify(m)}\n`).join('')),
    appendMetrics: async (m: M) => appendFileSync(metricsFile, `${JSON.stringify(m)}\n`),
    loadCheckpoint: async (backend?: Backend) => (existsSync(checkpointFile) ? loadCheckpoint(checkpointFile, { backend }) : null),
    saveCheckpoint: (ckpt: CheckpointInput) => saveCheckpoint(checkpointFile, ckpt),
    saveBest: (ckpt: CheckpointInput) => saveCheckpoint(join(runDir, 'best.json'), ckpt),
  };
}
