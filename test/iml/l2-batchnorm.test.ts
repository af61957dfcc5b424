// The L2 problem on a model with batch norm: inner steps train on batch statistics and update the running ones, the meta-step's L_T uses batch statistics without touching them, L_V the running ones; checked against a plain float64 forward pass.
import { describe, expect, it } from 'vitest';
import { runBilevel } from '../../src/bilevel/loop.js';
import type { BilevelProblem } from '../../src/bilevel/problem.js';
import type { Tensor } from '../../src/core/tensor.js';
import { getBatch, type ImageDataset } from '../../src/data/dataset.js';
import { hypergradient, type LossFn } from '../../src/hypergrad/hypergradient.js';
import { perParameterL2 } from '../../src/hypergrad/meta-knowledge.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { l2Problem, type L2Metrics } from '../../src/iml/l2-problem.js';
import { BatchNorm, functionalCall, Linear, Module, Sequential, type ForwardContext } from '../../src/nn/index.js';
import { relu } from '../../src/ops/activations.js';
import { crossEntropy } from '../../src/ops/losses.js';
import { batchTensors } from '../../src/train/evaluate.js';
import { Random } from '../../src/util/random.js';
import { data } from './cases.js';

class Relu extends Module {
  forward(x: Tensor, _ctx?: ForwardContext): Tensor {
    return relu(x);
  }
}

const H = 6;
const EPS = 1e-5;
const MOMENTUM = 0.1;

/** Linear(16→6) - BatchNorm(6) - ReLU - Linear(6→3): the first Linear needs flattened [N, 16] rows (no reshape of its own). */
function bnModel(): { model: Sequential; bn: BatchNorm } {
  const rng = new Random(3);
  const bn = new BatchNorm(H);
  return { model: new Sequential(new Linear(16, H, rng), bn, new Relu(), new Linear(H, 3, rng)), bn };
}

/** θ as float64 arrays, in the model's parameter order: W1 [6,16], b1, γ, β, W2 [3,6], b2. */
type Weights = number[][];

/** Which statistics the batch norm uses: the batch's (training) or given running ones (evaluation). */
type Stats = 'batch' | { mean: number[]; variance: number[] };

/**
 * Mean cross-entropy of the model in plain float64 on `idx` of `ds`, and the batch mean and unbiased batch
 * variance of the batch-norm input (what a training step folds into the running statistics).
 */
function reference(w: Weights, ds: ImageDataset, idx: readonly number[], stats: Stats): { loss: number; mean: number[]; unbiased: number[] } {
  const [w1, b1, gamma, beta, w2, b2] = w;
  const { x, y } = getBatch(ds, idx);
  const n = idx.length;
  const d = ds.channels * ds.height * ds.width;
  const h = Array.from({ length: n }, (_, r) => Array.from({ length: H }, (_, j) => {
    let s = b1[j];
    for (let k = 0; k < d; k++) s += x[r * d + k] * w1[j * d + k];
    return s;
  }));
  const mean = Array.from({ length: H }, (_, j) => h.reduce((s, row) => s + row[j], 0) / n);
  const biased = Array.from({ length: H }, (_, j) => h.reduce((s, row) => s + (row[j] - mean[j]) ** 2, 0) / n);
  const m = stats === 'batch' ? mean : stats.mean;
  const v = stats === 'batch' ? biased : stats.variance;
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const a = h[r].map((hj, j) => Math.max(0, gamma[j] * (hj - m[j]) / Math.sqrt(v[j] + EPS) + beta[j]));
    const z = [0, 1, 2].map((c) => a.reduce((s, aj, j) => s + aj * w2[c * H + j], b2[c]));
    const zmax = Math.max(...z);
    const lse = zmax + Math.log(z.reduce((s, zc) => s + Math.exp(zc - zmax), 0));
    loss += lse - z[y[r]];
  }
  return { loss: loss / n, mean, unbiased: biased.map((b) => (b * n) / (n - 1)) };
}

const arrays = async (ts: readonly Tensor[]): Promise<number[][]> => Promise.all(ts.map(async (t) => Array.from(await t.data())));
const runningStats = async (bn: BatchNorm) => ({ mean: Array.from(await bn.runningMean.data()), variance: Array.from(await bn.runningVar.data()) });

/** |a - b| <= rel · max(1e-3, |b|) elementwise (float32 model against the float64 reference). */
function close(a: readonly number[], b: readonly number[], rel: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `${what}[${i}]: ${v} vs ${b[i]}`).toBeLessThanOrEqual(rel * Math.max(1e-3, Math.abs(b[i]))));
}

const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('l2Problem with batch norm', () => {
  it('inner steps use and update batch statistics; the meta-step takes L_T on batch statistics (running ones untouched) and L_V on the running ones', async () => {
    const { model, bn } = bnModel();
    const mk = perParameterL2(model.parameters());
    const method = parseMethod('neumann:3');
    const innerBatch = 8;
    // metaSubset 0: the meta-step's batches are the whole training and validation sets, in index order.
    const problem = l2Problem(model, mk, data, { innerBatch, innerLr: 0.05, metaSubset: 0 });
    let innerChecked = 0;
    let metaChecked = 0;
    let statsAtMetaStep: { mean: number[]; variance: number[] } | null = null;
    const checked: BilevelProblem<L2Metrics> = {
      ...problem,
      async innerStep(lam, ctx) {
        // The batch is the next innerBatch samples of the problem's data order (no reshuffle in 4 steps of 8 out of 40).
        const { order, cursor } = (await problem.state()).json as { order: number[]; cursor: number };
        expect(cursor + innerBatch).toBeLessThanOrEqual(order.length);
        const w = await arrays(model.parameters().map((p) => p.value));
        const before = await runningStats(bn);
        const ref = reference(w, data.train, order.slice(cursor, cursor + innerBatch), 'batch');
        const evalLoss = reference(w, data.train, order.slice(cursor, cursor + innerBatch), before).loss;
        // Batch and running statistics give clearly different losses here, so the comparison below tells them apart.
        expect(Math.abs(evalLoss - ref.loss)).toBeGreaterThan(1e-2);
        const s = await problem.innerStep(lam, ctx);
        close([s.loss], [ref.loss], 1e-5, `inner loss at step ${ctx.step}`);
        // Running statistics: (1 - momentum) · old + momentum · batch mean / unbiased batch variance.
        const after = await runningStats(bn);
        close(after.mean, before.mean.map((m, j) => (1 - MOMENTUM) * m + MOMENTUM * ref.mean[j]), 1e-5, `running mean after step ${ctx.step}`);
        close(after.variance, before.variance.map((v, j) => (1 - MOMENTUM) * v + MOMENTUM * ref.unbiased[j]), 1e-5, `running variance after step ${ctx.step}`);
        innerChecked++;
        return s;
      },
      async metaObjective(theta, lam, rng) {
        statsAtMetaStep = await runningStats(bn);
        return problem.metaObjective(theta, lam, rng);
      },
    };
    const r = await runBilevel(checked, { method, innerSteps: 2, metaEpochs: 2, warmupSteps: 0, patience: 0, seed: 5, metaLr: 0.1, checkpointEvery: 0 }, {
      onMetaStep: async ({ theta, meta, result }) => {
        const stats = statsAtMetaStep!;
        // The meta-step left the running statistics as the inner steps had them.
        expect(await runningStats(bn)).toEqual(stats);
        const w = await arrays(theta);
        const train = reference(w, data.train, all(data.train.count), 'batch');
        const val = reference(w, data.validation, all(data.validation.count), stats);
        expect(Math.abs(reference(w, data.train, all(data.train.count), stats).loss - train.loss)).toBeGreaterThan(1e-2);
        expect(Math.abs(reference(w, data.validation, all(data.validation.count), 'batch').loss - val.loss)).toBeGreaterThan(1e-2);
        close([result.trainLoss], [train.loss], 1e-5, 'meta-step L_T (closed-form penalty: data part)');
        close([result.valLoss], [val.loss], 1e-5, 'meta-step L_V');
        // The same hypergradient from hypergradient() with the modes spelled out: L_T training-mode without
        // updating the statistics, L_V evaluation-mode.
        const tr = batchTensors(data.train, all(data.train.count), true);
        const va = batchTensors(data.validation, all(data.validation.count), true);
        const trainLoss: LossFn = (ws) => functionalCall(model, ws, () => crossEntropy(model.forward(tr.x, { training: true, updateStats: false }), tr.t));
        const valLoss: LossFn = (ws) => functionalCall(model, ws, () => crossEntropy(model.forward(va.x, { training: false }), va.t));
        const own = await hypergradient(trainLoss, valLoss, [...theta], [...meta], method, {}, undefined, mk.closedForm!(theta, meta));
        const expected = (await arrays(own.hypergrad)).flat();
        close((await arrays(result.hypergrad)).flat(), expected, 1e-5, 'hypergradient');
        expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(0);
        expect(await runningStats(bn)).toEqual(stats);
        metaChecked++;
      },
    });
    expect(r.diverged).toBeNull();
    expect([innerChecked, metaChecked]).toEqual([4, 2]);
  });
});
