// A run folder on disk (Node): metrics.jsonl, checkpoint.json and best.json, checkpoints written atomically.

import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointInput } from '../train/checkpoint.js';
import type { RunStore } from './run-store.js';
import type { MetaEpochMetrics } from './trainer.js';

/** The run store of `runDir` (created if missing). */
export function fileRunStore(runDir: string): RunStore {
  mkdirSync(runDir, { recursive: true });
  const metricsFile = join(runDir, 'metrics.jsonl');
  const checkpointFile = join(runDir, 'checkpoint.json');
  return {
    location: runDir,
    readMetrics: async () => {
      if (!existsSync(metricsFile)) return [];
      const out: MetaEpochMetrics[] = [];
      readFileSync(metricsFile, 'utf8').split('\n').forEach((line, i) => {
        if (!line.trim()) return;
        try {
          out.push(JSON.parse(line) as MetaEpochMetrics);
        } catch (e) {
          throw new Error(`${metricsFile}: line ${i + 1} is not JSON (${(e as Error).message})`, { cause: e });
        }
      });
      return out;
    },
    writeMetrics: async (ms: readonly MetaEpochMetrics[]) => writeFileSync(metricsFile, ms.map((m) => `${JSON.stringify(m)}\n`).join('')),
    appendMetrics: async (m: MetaEpochMetrics) => appendFileSync(metricsFile, `${JSON.stringify(m)}\n`),
    loadCheckpoint: async (backend?: Backend) => (existsSync(checkpointFile) ? loadCheckpoint(checkpointFile, { backend }) : null),
    saveCheckpoint: (ckpt: CheckpointInput) => saveCheckpoint(checkpointFile, ckpt),
    saveBest: (ckpt: CheckpointInput) => saveCheckpoint(join(runDir, 'best.json'), ckpt),
  };
}
