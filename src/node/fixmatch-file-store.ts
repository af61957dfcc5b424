// A FixMatch run folder on disk (Node): metrics.jsonl (one line per evaluation) and checkpoint.json (atomic, checksummed).

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import { parseMetricsLines } from './file-run-store.js';
import type { FixMatchMetrics } from '../ssl/fixmatch-metrics.js';
import type { FixMatchStore } from '../ssl/fixmatch-store.js';
import type { CheckpointInput } from '../train/checkpoint.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint-file.js';
import { writeFileAtomic } from './write-atomic.js';

/** The store of `runDir` (created if missing); metrics after the checkpoint's step or half-written lines are dropped on resume. */
export function fileFixMatchStore(runDir: string): FixMatchStore {
  mkdirSync(runDir, { recursive: true });
  const metricsFile = join(runDir, 'metrics.jsonl');
  const checkpointFile = join(runDir, 'checkpoint.json');
  return {
    location: runDir,
    readMetrics: async (upTo = Infinity) => {
      if (!existsSync(metricsFile)) return [];
      const ms = parseMetricsLines(readFileSync(metricsFile, 'utf8'), metricsFile) as unknown as FixMatchMetrics[];
      return ms.filter((m) => m.step <= upTo);
    },
    writeMetrics: async (ms: readonly FixMatchMetrics[]) => writeFileAtomic(metricsFile, ms.map((m) => `${JSON.stringify(m)}\n`).join('')),
    appendMetrics: async (m: FixMatchMetrics) => appendFileSync(metricsFile, `${JSON.stringify(m)}\n`),
    loadCheckpoint: async (backend?: Backend) => (existsSync(checkpointFile) ? loadCheckpoint(checkpointFile, { backend }) : null),
    saveCheckpoint: (ck: CheckpointInput) => saveCheckpoint(checkpointFile, ck),
  };
}
