// The CPU backend's Wasm tensor heap: size classes, zeroed and reused blocks, views that survive memory growth, the limit (spill or a clear error), frees checked, statistics, and the GC backstop with flat memory over 2000 training steps (child process with --expose-gc).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import { cpuHeap, heapOf, makeWasmHeap, setCpuHeapLimit, sizeClass } from '../../src/backend/cpu/wasm-heap.js';
import { tensor } from '../../src/core/creation.js';
import { matmul, mul } from '../../src/core/ops.js';
import type { HeapChildReport } from './wasm-heap-child.js';

const MiB = 2 ** 20;

describe('size classes', () => {
  it('hold the request, are multiples of 16 (whole SIMD vectors) and round up by at most 25% above 1 KiB', () => {
    let prev = 0;
    for (let bytes = 1; bytes < 3 * MiB; bytes = Math.ceil(bytes * 1.07) + 3) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c % 16).toBe(0);
      expect(c).toBeGreaterThanOrEqual(prev);
      if (bytes > 1024) expect(c / bytes).toBeLessThanOrEqual(1.25);
      prev = c;
    }
    expect([1, 64, 65, 1024, 1025, 1280, 1281, 4096, 4097].map(sizeClass)).toEqual([64, 64, 128, 1024, 1280, 1280, 1536, 4096, 5120]);
  });
});

describe('the process heap', () => {
  const heap = cpuHeap()!;

  it('exists in Node, is shared Wasm memory, and its limit is fixed once it is made', () => {
    expect(heap).not.toBeNull();
    expect(heap.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(() => setCpuHeapLimit(MiB * 512)).toThrow('setCpuHeapLimit: the CPU heap already exists');
    expect(() => setCpuHeapLimit(10)).toThrow('setCpuHeapLimit: 10 bytes is outside');
  });

  it('hands out zeroed, disjoint, 16-byte aligned blocks and reuses a freed one (last freed first), zeroed again', () => {
    const a = heap.alloc('float32', 1000, 'error', 't')!;
    const b = heap.alloc('float64', 7, 'error', 't')!;
    for (const v of [a, b]) {
      expect(heap.owns(v)).toBe(true);
      expect(v.byteOffset % 16).toBe(0);
      expect(Array.from(v).every((x) => x === 0)).toBe(true);
    }
    const [lo, hi] = a.byteOffset < b.byteOffset ? [a, b] : [b, a];
    expect(lo.byteOffset + sizeClass(lo.byteLength)).toBeLessThanOrEqual(hi.byteOffset);
    a.fill(3);
    const s0 = heap.stats();
    heap.free(a);
    expect(heap.stats()).toMatchObject({ liveBlocks: s0.liveBlocks - 1, liveBytes: s0.liveBytes - 4000 - 96, freeBytes: s0.freeBytes + 4096 });
    // 900 floats share the class of 1000 (4096 bytes): the same block, zeroed.
    const c = heap.alloc('float32', 900, 'error', 't')!;
    expect(heap.lastFresh).toBe(false);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(Array.from(c).every((x) => x === 0)).toBe(true);
    // Not zeroed on request (kernels that overwrite every element): the old values are still there.
    c.fill(5);
    heap.free(c);
    const d = heap.alloc('float32', 900, 'error', 't', false)!;
    expect(d[899]).toBe(5);
    // The same dtype and length get the freed view object itself (no new view, no new GC registration).
    expect(d).toBe(c);
    heap.free(d);
    const e = heap.alloc('float64', 500, 'error', 't')!; // 4000 bytes, same class, other dtype: a new view on the block
    expect(e).not.toBe(d);
    expect(e.byteOffset).toBe(d.byteOffset);
    expect(e).toBeInstanceOf(Float64Array);
    heap.free(e);
    heap.free(b);
  });

  it('reports a double free and a foreign array', () => {
    const a = heap.alloc('float32', 10, 'error', 't')!;
    heap.free(a);
    expect(() => heap.free(a)).toThrow(`WasmHeap.free: the array at byte ${a.byteOffset} is not a live heap block`);
    expect(() => heap.free(new Float32Array(4))).toThrow('is not a live heap block');
    expect(heapOf(new Float32Array(4))).toBeUndefined();
  });

  it('keeps earlier views valid and their contents when the memory grows', () => {
    const before = heap.alloc('float32', 1000, 'error', 't')!;
    before.fill(1.5);
    const bytes0 = heap.memory.buffer.byteLength;
    const big = heap.alloc('float32', (bytes0 / 4) | 0, 'error', 't')!; // more than the whole memory had
    expect(heap.memory.buffer.byteLength).toBeGreaterThan(bytes0);
    expect(heap.owns(before) && heap.owns(big)).toBe(true);
    expect(before.length).toBe(1000);
    expect(before.every((x) => x === 1.5)).toBe(true);
    before[999] = 2.5; // the old view writes into the same memory the new buffer sees
    expect(new Float32Array(heap.memory.buffer, before.byteOffset, 1000)[999]).toBe(2.5);
    heap.free(big);
    heap.free(before);
  });
});

describe('a heap with a limit', () => {
  it('spills to plain arrays past its limit (counted), or throws naming the sizes with heapOverflow: error', () => {
    const heap = makeWasmHeap(48 * MiB);
    const base = heap.stats().topBytes; // tensors start above the GEMM's packing scratch
    expect(base).toBeGreaterThanOrEqual(64 * 1024);
    const room = Math.floor((48 * MiB - base) / (4 * MiB));
    expect(room).toBeGreaterThan(0);
    const spill = new CpuBackend({ heap });
    const inHeap = Array.from({ length: room }, () => spill.alloc(MiB, 'float32') as CpuBuffer); // 4 MiB each
    const extra = spill.alloc(MiB, 'float32') as CpuBuffer; // past 48 MiB
    expect(inHeap.every((x) => heap.owns(x.data))).toBe(true);
    expect(heap.owns(extra.data)).toBe(false);
    expect(extra.data).toBeInstanceOf(Float32Array);
    expect(spill.memoryStats()).toMatchObject({ spilledArrays: 1, createdArrays: room + 1, heap: { liveBlocks: room, liveBytes: room * 4 * MiB } });
    // A freed block serves the next request again; the spilled array goes to the plain pool.
    spill.free(inHeap[0]);
    spill.free(extra);
    expect(heap.owns((spill.alloc(MiB, 'float32') as CpuBuffer).data)).toBe(true);
    expect(spill.memoryStats()).toMatchObject({ pooledArrays: 1, reusedArrays: 1 });

    const strict = new CpuBackend({ heap, heapOverflow: 'error' });
    expect(() => strict.alloc(MiB, 'float32')).toThrow(
      `cpu.alloc: 4194304 bytes (1048576 float32) do not fit in the CPU tensor heap: it holds ${room * 4 * MiB} bytes of live tensors and its limit is ${48 * MiB} bytes`,
    );
    expect(() => makeWasmHeap(1)).toThrow('WasmHeap: maxPages must be an integer in [512, 65536], got 1');
  });

  it('a heap past the 2 GiB limit of the GEMM build has no bound GEMM: matmul copies through the GEMM memory, same result', () => {
    const big = makeWasmHeap(3 * 1024 * MiB); // address space only: pages are touched when used
    expect(big.gemm()).toBeNull();
    expect(makeWasmHeap(48 * MiB).gemm()).not.toBeNull();
    const a = [1, 2, 3, 4, 5, 6], b = [1, 0, 0, 1, 1, 1];
    const onBig = new CpuBackend({ heap: big });
    const y = matmul(tensor(a, [2, 3], { backend: onBig }), tensor(b, [3, 2], { backend: onBig }));
    expect(big.owns((y.buffer as CpuBuffer).data)).toBe(true);
    expect(y.toArray()).toEqual([4, 5, 10, 11]);
  });

  it('tensors of a backend on its own heap compute in it and free into it', () => {
    const heap = makeWasmHeap(48 * MiB);
    const be = new CpuBackend({ heap });
    const x = tensor([1, 2, 3, 4, 5], [5], { backend: be });
    const y = mul(x, x);
    expect(heap.owns((y.buffer as CpuBuffer).data)).toBe(true);
    expect(y.toArray()).toEqual([1, 4, 9, 16, 25]);
    const live = heap.stats().liveBlocks;
    y.dispose();
    expect(heap.stats().liveBlocks).toBe(live - 1);
  });
});

describe('--backend cpu, cpu-js and the default', () => {
  it('the default CPU backend keeps tensors in the heap; cpu-js selects plain arrays with JS kernels; cpu-heap is the default', async () => {
    expect(new CpuBackend().heap()).toBe(cpuHeap());
    expect(new CpuBackend({ heap: false }).heap()).toBeNull();
    const { selectBackend } = await import('../../src/node/select-backend.js');
    const { getBackend, setBackend } = await import('../../src/backend/registry.js');
    const before = getBackend();
    try {
      for (const kind of ['cpu', 'cpu-heap'] as const) {
        expect(await selectBackend(kind)).toBe('cpu (tensors in the Wasm heap, SIMD kernels on pointers)');
        const be = getBackend() as CpuBackend;
        expect(be).toBeInstanceOf(CpuBackend);
        expect(be.heap()).toBe(cpuHeap());
        const t = mul(tensor([1, 2, 3], [3]), 2);
        expect(heapOf((t.buffer as CpuBuffer).data)).toBe(cpuHeap());
        expect(t.toArray()).toEqual([2, 4, 6]);
      }
      expect(await selectBackend('cpu-js')).toBe('cpu-js (plain arrays, JS kernels: the reference backend)');
      const t = mul(tensor([1, 2, 3], [3]), 2);
      expect(heapOf((t.buffer as CpuBuffer).data)).toBeUndefined();
      expect(t.toArray()).toEqual([2, 4, 6]);
    } finally {
      setBackend(before);
    }
  });
});

describe('IML_CPU_THREADS: the CPU backend on worker threads, the same training bits', () => {
  it('sets the thread count of --backend cpu, names it in the label, refuses bad values', async () => {
    const { selectBackend, cpuThreadsFromEnv } = await import('../../src/node/select-backend.js');
    const { getBackend, setBackend } = await import('../../src/backend/registry.js');
    const { getGemmThreads, setGemmThreads } = await import('../../src/backend/cpu/wasm-gemm.js');
    expect(cpuThreadsFromEnv({})).toBe(1);
    expect(cpuThreadsFromEnv({ IML_CPU_THREADS: '2' })).toBe(2);
    for (const bad of ['0', '1.5', 'two', '9']) expect(() => cpuThreadsFromEnv({ IML_CPU_THREADS: bad })).toThrow(`IML_CPU_THREADS must be an integer from 1 to 8, got '${bad}'`);
    const before = getBackend();
    const saved = process.env.IML_CPU_THREADS;
    try {
      process.env.IML_CPU_THREADS = '2';
      expect(await selectBackend('cpu')).toBe('cpu (tensors in the Wasm heap, SIMD kernels on pointers, products, convolutions and large elementwise passes on 2 threads)');
      expect(getGemmThreads()).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.IML_CPU_THREADS;
      else process.env.IML_CPU_THREADS = saved;
      await setGemmThreads(1);
      setBackend(before);
    }
  });

  it('a small CNN trained 5 SGD steps on 2 threads gives the 1-thread losses and weights bit for bit, the worker having run', async () => {
    const { getGemmWorkerJobs, setGemmThreads } = await import('../../src/backend/cpu/wasm-gemm.js');
    const { withBackend } = await import('../../src/backend/registry.js');
    const { conv2d, add, reshape, sub } = await import('../../src/core/ops.js');
    const { relu } = await import('../../src/ops/activations.js');
    const { maxPool2d } = await import('../../src/ops/pooling.js');
    const { crossEntropy } = await import('../../src/ops/losses.js');
    const { randn, oneHot } = await import('../../src/core/creation.js');
    const { valueAndGrad } = await import('../../src/autodiff/transforms.js');
    const { tidy } = await import('../../src/core/scope.js');
    const { Random } = await import('../../src/util/random.js');
    const train = async (threads: number): Promise<{ losses: number[]; weights: number[][] }> => {
      expect(await setGemmThreads(threads)).toBe(threads);
      return withBackend(new CpuBackend(), () => {
        const rng = new Random(3);
        let ws = [randn([16, 1, 3, 3], rng, 1 / 3), randn([16], rng, 0.1), randn([16 * 14 * 14, 10], rng, 0.02), randn([10], rng, 0)];
        const x = randn([64, 1, 28, 28], rng, 1);
        const t = oneHot(Array.from({ length: 64 }, (_, i) => (i * 7) % 10), 10);
        const loss = (p: typeof ws) => {
          const h = maxPool2d(relu(add(conv2d(x, p[0]!, { padding: 1 }), reshape(p[1]!, [1, -1, 1, 1]))), 2);
          return crossEntropy(add(matmul(reshape(h, [64, -1]), p[2]!), p[3]!), t);
        };
        const vg = valueAndGrad(loss);
        const losses: number[] = [];
        for (let step = 0; step < 5; step++) {
          ws = tidy(() => {
            const { value, grads } = vg(ws);
            losses.push(value.dataSync()[0]!);
            return ws.map((w, i) => sub(w, mul(grads[i]!, 0.1)));
          });
        }
        return { losses, weights: ws.map((w) => Array.from(w.dataSync())) };
      });
    };
    const one = await train(1);
    const jobs0 = getGemmWorkerJobs();
    const two = await train(2);
    await setGemmThreads(1);
    // The conv (64 images, 16 channels: 2M+ multiply-adds) ran shares on the worker: forward, grad-weight per step.
    expect(getGemmWorkerJobs() - jobs0).toBeGreaterThanOrEqual(10);
    two.losses.forEach((v, i) => expect(Object.is(v, one.losses[i]), `loss ${i}: ${v} vs ${one.losses[i]}`).toBe(true));
    for (let i = 0; i < one.weights.length; i++) {
      const diff = one.weights[i]!.findIndex((v, j) => !Object.is(v, two.weights[i]![j]));
      expect(diff, `weight ${i}: first element that differs`).toBe(-1);
    }
    expect(one.losses[4]!).toBeLessThan(one.losses[0]!);
  });
});

describe('the GC backstop and flat memory (child process, node --expose-gc)', () => {
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('blocks of tensors dropped without dispose() come back after a GC; 2000 training steps keep the heap flat', async () => {
    const esbuild = await import('esbuild');
    dir = mkdtempSync(join(tmpdir(), 'iml-heap-'));
    const file = join(dir, 'wasm-heap-child.mjs');
    await esbuild.build({
      entryPoints: [join(import.meta.dirname, 'wasm-heap-child.ts')],
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: file, logLevel: 'silent',
    });
    const r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', file], { encoding: 'utf8', timeout: 240_000 })) as HeapChildReport;
    // 100 dropped tensors of 1000 floats: all finalized and back on the free list.
    expect(r.dropped.finalized).toBe(100);
    expect(r.dropped.liveAfter).toBe(r.dropped.liveBefore);
    // The training loop: after warm-up the heap neither grows nor takes fresh blocks; everything is reused.
    const [s200, s1000, s2000] = r.samples;
    expect(r.samples.map((s) => s.step)).toEqual([200, 1000, 2000]);
    expect(s1000.heapBytes).toBe(s200.heapBytes);
    expect(s2000.heapBytes).toBe(s200.heapBytes);
    // Nothing is left to the GC any more: the optimizer, the EMA and batch norm dispose the state they replace, so
    // the tensor part of the heap (above the GEMM scratch) and its live blocks are exactly the same at steps 200,
    // 1000 and 2000, and no block is finalized. (Before, 1950 state blocks were dropped per 50 steps, and the heap
    // stayed within ~1% only thanks to the GC backstop.)
    const tensors = (s: { topBytes: number }): number => s.topBytes - r.base;
    expect(tensors(s200)).toBeGreaterThan(0);
    expect(tensors(s1000)).toBe(tensors(s200));
    expect(tensors(s2000)).toBe(tensors(s200));
    // The model's state: 11 parameters, their momentum buffers and EMA values, and 6 batch-norm statistics.
    for (const s of [s200, s1000, s2000]) expect(s.liveBlocks).toBeGreaterThanOrEqual(39);
    expect(s1000.liveBlocks).toBe(s200.liveBlocks);
    expect(s2000.liveBlocks).toBe(s200.liveBlocks);
    expect(s2000.finalizedBlocks).toBe(s200.finalizedBlocks);
    expect(r.spilled).toBe(0);
    expect(Number.isFinite(r.loss)).toBe(true);
  }, 300_000);
});
