// FixMatch training steps of the small CNN and a WideResNet (conv, 2x2 pooling, batch norm, relu, leaky relu, 1x1 and strided convs) on the CPU tensor heap give the same bits as on the plain-array backend with the JS kernels: losses, weights, EMA and running statistics after every step.
import { describe, expect, it } from 'vitest';
import { CpuBackend, type CpuBuffer } from '../../src/backend/cpu/cpu-backend.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { Module } from '../../src/nn/module.js';
import { WideResNet } from '../../src/nn/wide-resnet.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { fixMatchSteps } from '../core/pooled-steps.js';

interface Trace {
  losses: number[];
  /** Per step: every parameter, EMA value and batch-norm statistic, as bytes. */
  states: Uint8Array[][];
  inHeap: boolean;
}

const bytes = (t: Tensor): Uint8Array => {
  const d = t.dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
};

async function train(backend: CpuBackend, make: (rng: Random) => Module, shape: [number, number, number], steps: number): Promise<Trace> {
  const model = make(new Random(1));
  const params = model.parameters();
  const trace: Trace = { losses: [], states: [], inHeap: true };
  await fixMatchSteps({
    model, steps, channels: shape[0], side: shape[1], seed: 7, lr: 0.05, tau: 0.3,
    afterStep: (_step, loss, ema) => {
      trace.losses.push(loss);
      trace.states.push([...params.map((p) => bytes(p.value)), ...ema.values.map(bytes), ...model.buffers().map((b) => bytes(b.value))]);
      const heap = backend.heap();
      trace.inHeap &&= heap !== null && params.every((p) => heap.owns((p.value.buffer as CpuBuffer).data));
    },
  });
  return trace;
}

const CASES: { name: string; make: (rng: Random, be: CpuBackend) => Module; shape: [number, number, number] }[] = [
  { name: 'small CNN (conv, 2x2 max pool, batch norm, relu)', make: (rng, backend) => new SmallCnn(rng, { backend, side: 8, widths: [4, 8, 8] }), shape: [1, 8, 8] },
  {
    name: 'WideResNet depth 10 (leaky relu, strided and 1x1 convs, batch norm)',
    make: (rng, backend) => new WideResNet(rng, { backend, depth: 10, widen: 1, inChannels: 3, numClasses: 10 }),
    shape: [3, 8, 8],
  },
];

describe('FixMatch steps on the tensor heap equal the plain-array backend bit for bit', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const heapBe = new CpuBackend({ heap: true });
      const jsBe = new CpuBackend({ heap: false });
      const a = await train(heapBe, (rng) => c.make(rng, heapBe), c.shape, 4);
      const b = await train(jsBe, (rng) => c.make(rng, jsBe), c.shape, 4);
      expect(a.inHeap).toBe(true);
      expect(b.inHeap).toBe(false);
      expect(a.losses.every(Number.isFinite)).toBe(true);
      expect(a.losses).toEqual(b.losses);
      expect(a.states.length).toBe(4);
      for (let s = 0; s < a.states.length; s++) {
        expect(a.states[s].length).toBe(b.states[s].length);
        a.states[s].forEach((x, i) => expect(Buffer.compare(x, b.states[s][i]), `step ${s + 1}, tensor ${i}`).toBe(0));
      }
      // The weights moved: the comparison is of a real trajectory.
      expect(Buffer.compare(a.states[0][0], a.states[3][0])).not.toBe(0);
    }, 120_000);
  }
});
