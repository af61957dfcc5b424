// Quick GFLOPS check of the Wasm sgemm kernel at square and MLP shapes (not a unit test).
import { initGemm, sgemm } from '../src/backend/cpu/wasm-gemm.js';

interface Shape {
  name: string;
  M: number;
  N: number;
  K: number;
  tA: boolean;
  tB: boolean;
}

const shapes: Shape[] = [
  { name: '512^3', M: 512, N: 512, K: 512, tA: false, tB: false },
  { name: '1024^3', M: 1024, N: 1024, K: 1024, tA: false, tB: false },
  { name: '1024^3 tA', M: 1024, N: 1024, K: 1024, tA: true, tB: false },
  { name: '1024^3 tB', M: 1024, N: 1024, K: 1024, tA: false, tB: true },
  { name: 'mlp fwd 128x784x784', M: 128, N: 784, K: 784, tA: false, tB: false },
  { name: 'mlp dW 784x784 (K=128, tA)', M: 784, N: 784, K: 128, tA: true, tB: false },
  { name: 'mlp dX 128x784 (K=10, tB)', M: 128, N: 784, K: 10, tA: false, tB: true },
  { name: 'mlp fwd2 128x10x784', M: 128, N: 10, K: 784, tA: false, tB: false },
];

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  await initGemm();
  const filter = process.argv[2];
  for (const s of shapes) {
    if (filter && !s.name.includes(filter)) continue;
    const a = new Float32Array(s.M * s.K).map(() => Math.random() - 0.5);
    const b = new Float32Array(s.K * s.N).map(() => Math.random() - 0.5);
    const out = new Float32Array(s.M * s.N);
    const flop = 2 * s.M * s.N * s.K;
    // Aim for ~0.15 s per sample, at least 1 call.
    const t0 = performance.now();
    sgemm(a, b, s.M, s.N, s.K, s.tA, s.tB, out);
    const once = Math.max(performance.now() - t0, 1e-3);
    const reps = Math.max(1, Math.min(2000, Math.round(150 / once)));
    const samples: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t = performance.now();
      for (let i = 0; i < reps; i++) sgemm(a, b, s.M, s.N, s.K, s.tA, s.tB, out);
      samples.push((performance.now() - t) / reps);
    }
    const ms = median(samples);
    console.log(`${s.name.padEnd(30)} ${ms.toFixed(3).padStart(9)} ms  ${(flop / (ms * 1e6)).toFixed(2).padStart(7)} GFLOPS`);
  }
}

void main();
