// Endless seeded sampling without replacement within an epoch (reshuffled when exhausted), with a two-number state for checkpoints.

import { Random } from '../util/random.js';

export interface SamplerState {
  /** Generator state before the current epoch's permutation was drawn. */
  epochState: number[];
  cursor: number;
}

/** Visits 0..n-1 in a fresh random order per epoch; a batch larger than what is left continues into the next epoch. */
export class EpochSampler {
  private order: Int32Array;
  private cursor = 0;
  private epochState: number[];

  constructor(readonly n: number, private readonly rng: Random) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`EpochSampler: needs at least one item, got ${n}`);
    this.epochState = rng.getState();
    this.order = rng.permutation(n);
  }

  next(k: number): Int32Array {
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) {
      if (this.cursor === this.n) {
        this.epochState = this.rng.getState();
        this.order = this.rng.permutation(this.n);
        this.cursor = 0;
      }
      out[i] = this.order[this.cursor++];
    }
    return out;
  }

  state(): SamplerState {
    return { epochState: [...this.epochState], cursor: this.cursor };
  }

  /** Continues exactly where `s` was taken (redraws that epoch's permutation from its saved generator state). */
  restore(s: SamplerState): void {
    if (!Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor > this.n) throw new Error(`EpochSampler.restore: cursor ${s.cursor} is outside [0, ${this.n}]`);
    this.rng.setState(s.epochState);
    this.epochState = [...s.epochState];
    this.order = this.rng.permutation(this.n);
    this.cursor = s.cursor;
  }
}
