// Kernel micro-benchmark: matmul, conv2d, elementwise and HVP at chosen sizes on the CPU (JS + Wasm SIMD) and, with --webgpu, on WebGPU through Dawn.
// Usage: node kernel-benchmark.js [--sizes 64,128] [--repeats 5] [--webgpu]
import { benchKernel, CpuBackend, initGemm, KERNELS, type Backend, type KernelBenchResult } from 'iml-engine';
import { createNodeWebGpuBackend } from 'iml-engine/node';
import { printResult } from './shared.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const sizes = (arg('--sizes') ?? '64,128').split(',').map(Number);
const repeats = Number(arg('--repeats') ?? 5);
await initGemm();
const backends: Backend[] = [new CpuBackend()];
if (process.argv.includes('--webgpu')) backends.push(await createNodeWebGpuBackend());

const results: KernelBenchResult[] = [];
console.log('| kernel | size | backend | problem | median ms | GFLOPS | checksum |\n|---|---|---|---|---|---|---|');
for (const kernel of KERNELS) {
  for (const size of sizes) {
    for (const backend of backends) {
      const r = await benchKernel(kernel, { size, backend, repeats });
      results.push(r);
      console.log(`| ${kernel} | ${size} | ${r.backend} | ${r.shape} | ${r.ms.toFixed(3)} | ${r.gflops.toFixed(2)} | ${r.checksum.toPrecision(8)} |`);
    }
  }
}
printResult(results);
