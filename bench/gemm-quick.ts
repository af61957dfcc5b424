// Quick GFLOPS check of the Wasm sgemm kernel at square and MLP shapes, 1 and 2 threads (not a unit test).
import { getGemmInfo, initGemm, setGemmThreads, sgemm } from '../src/backend/cpu/wasm-gemm.js';

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

/** ms per call of fn over one batch of ~60 ms. */
function timeBatch(fn: () => void, reps: number): number {
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t) / reps;
}

/**
 * Usage: gemm-quick [nameFilter|all] [threadCounts, default "1,2"] [rounds, default 5]
 * Thread counts are measured in alternating rounds (the machine may be shared); prints best and median.
 * Build: npm run build (or tsc), then node dist/bench/gemm-quick.js; add --experimental-wasm-relaxed-simd on Node 20 for FMA.
 */
async function main(): Promise<void> {
  await initGemm();
  const filter = process.argv[2];
  const threadCounts = (process.argv[3] ?? '1,2').split(',').map(Number);
  const rounds = Number(process.argv[4] ?? 5);
  console.log(`relaxed-SIMD FMA build: ${getGemmInfo().relaxedSimd}`);
  for (const s of shapes) {
    if (filter && filter !== 'all' && !s.name.includes(filter)) continue;
    const a = new Float32Array(s.M * s.K).map(() => Math.random() - 0.5);
    const b = new Float32Array(s.K * s.N).map(() => Math.random() - 0.5);
    const out = new Float32Array(s.M * s.N);
    const flop = 2 * s.M * s.N * s.K;
    const run = (): void => void sgemm(a, b, s.M, s.N, s.K, s.tA, s.tB, out);
    for (let i = 0; i < 3; i++) run(); // warm up / tier up
    const t0 = performance.now();
    run();
    const reps = Math.max(1, Math.min(2000, Math.round(60 / Math.max(performance.now() - t0, 1e-3))));
    const samples = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
    for (let r = 0; r < rounds; r++) {
      for (const t of threadCounts) {
        await setGemmThreads(t);
        run();
        for (let k = 0; k < 3; k++) samples.get(t)!.push(timeBatch(run, reps));
      }
    }
    const cols = threadCounts.map((t) => {
      const xs = samples.get(t)!;
      const best = Math.min(...xs), med = median(xs);
      return `${t}T ${med.toFixed(3).padStart(8)} ms  ${(flop / (med * 1e6)).toFixed(1).padStart(5)} GFLOPS (best ${(flop / (best * 1e6)).toFixed(1).padStart(5)})`;
    });
    console.log(`${s.name.padEnd(28)} ${cols.join('  |  ')}`);
  }
  await setGemmThreads(1);
}

void main();
