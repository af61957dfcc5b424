// Peak growth of JS memory (heap + array buffers) over a baseline, sampled during a solve (0 where the runtime does not report memory).

/** Samples JS memory (heap + array buffers) to find the peak growth over a baseline. */
export class MemoryProbe {
  private readonly base: number;
  peak = 0;
  constructor() {
    (globalThis as { gc?: () => void }).gc?.();
    this.base = MemoryProbe.now();
  }
  static now(): number {
    const proc = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number; arrayBuffers: number } } }).process;
    const m = proc?.memoryUsage?.();
    return m ? m.heapUsed + m.arrayBuffers : 0;
  }
  sample(): void {
    this.peak = Math.max(this.peak, MemoryProbe.now() - this.base);
  }
}
