// Where a FixMatch run keeps its per-evaluation metrics and resumable checkpoint; memoryFixMatchStore for browsers and tests (the Node run folder is in the CLI).

import { tensor } from '../core/creation.js';
import type { Backend } from '../backend/backend.js';
import type { Checkpoint, CheckpointInput } from '../train/checkpoint.js';
import type { FixMatchMetrics } from './fixmatch-metrics.js';

export interface FixMatchStore {
  readonly location: string;
  /** Metrics written so far, optionally only those at or before step `upTo`. */
  readMetrics(upTo?: number): Promise<FixMatchMetrics[]>;
  writeMetrics(metrics: readonly FixMatchMetrics[]): Promise<void>;
  appendMetrics(m: FixMatchMetrics): Promise<void>;
  loadCheckpoint(backend?: Backend): Promise<Checkpoint | null>;
  saveCheckpoint(ckpt: CheckpointInput): Promise<void>;
}

/** Everything in memory (tensor values copied off their backend at save time). */
export function memoryFixMatchStore(): FixMatchStore & { saves: number } {
  let metrics: FixMatchMetrics[] = [];
  let saved: { params: Record<string, { data: Float32Array | Float64Array; shape: number[] }>; rest: string } | null = null;
  const store = {
    location: 'memory',
    saves: 0,
    async readMetrics(upTo = Infinity) {
      return metrics.filter((m) => m.step <= upTo).map((m) => ({ ...m }));
    },
    async writeMetrics(ms: readonly FixMatchMetrics[]) {
      metrics = ms.map((m) => ({ ...m }));
    },
    async appendMetrics(m: FixMatchMetrics) {
      metrics.push({ ...m });
    },
    async loadCheckpoint(backend?: Backend): Promise<Checkpoint | null> {
      if (!saved) return null;
      const rest = JSON.parse(saved.rest) as Omit<Checkpoint, 'params'>;
      const params = Object.fromEntries(Object.entries(saved.params).map(([k, v]) => [k, tensor(v.data.slice(), v.shape, { backend, dtype: v.data instanceof Float64Array ? 'float64' : 'float32' })]));
      return { ...rest, params };
    },
    async saveCheckpoint(ck: CheckpointInput) {
      const params: Record<string, { data: Float32Array | Float64Array; shape: number[] }> = {};
      const entries = Array.isArray(ck.params) ? ck.params.map((p) => [p.name, p.value] as const) : Object.entries(ck.params);
      for (const [k, t] of entries) params[k] = { data: (await t.data()).slice() as Float32Array | Float64Array, shape: [...t.shape] };
      saved = { params, rest: JSON.stringify({ step: ck.step, optimizer: ck.optimizer, meta: ck.meta }) };
      store.saves++;
    },
  };
  return store;
}
