// Tiny Confidence Network problems shared by the CN trainer tests and the WebGPU comparison: the 8x8 toy FixMatch data with an OOD-flagged pool, a 2x2-channel CN, and a CN whose every output is exactly 1.
import type { Backend } from '../../src/backend/backend.js';
import type { BilevelConfig } from '../../src/bilevel/config.js';
import { full, tensor } from '../../src/core/creation.js';
import type { Tensor } from '../../src/core/tensor.js';
import { parseMethod } from '../../src/hypergrad/methods.js';
import { softplus } from '../../src/ops/activations.js';
import { ConfidenceNet } from '../../src/ssl/confidence-net.js';
import { confidenceProblem, type ConfidenceWeighting } from '../../src/ssl/confidence-problem.js';
import type { FixMatchConfig } from '../../src/ssl/fixmatch-config.js';
import { SampleWeightTable } from '../../src/ssl/sample-weight-table.js';
import { SmallCnn } from '../../src/ssl/small-cnn.js';
import { Random } from '../../src/util/random.js';
import { tinyConfig, tinyData } from './cases.js';
import { parseConfidenceSetting, type ConfidenceProtocol } from '../../src/ssl/confidence-experiment.js';
import { FIXMATCH_DEFAULTS } from '../../src/ssl/fixmatch-config.js';

export const CN_WIDTHS: [number, number] = [2, 3];

/** tinyData with every third pool image flagged out-of-distribution. */
export function cnData() {
  const data = tinyData();
  const inDistribution = Uint8Array.from({ length: data.unlabelled.count }, (_, i) => (i % 3 === 2 ? 0 : 1));
  return { data, inDistribution };
}

export const classifier = (cfg: FixMatchConfig, backend?: Backend) => new SmallCnn(new Random(cfg.seed), { side: 8, numClasses: 3, widths: [4, 4, 4], backend });

/** Builds the CN (or table) problem on the tiny data; total steps = the loop's warm-up + meta-epochs x inner steps. */
export function cnProblem(kind: 'cn' | 'table', cfg: FixMatchConfig, backend?: Backend, metaUnlabelled?: number) {
  const { data, inDistribution } = cnData();
  const model = classifier(cfg, backend);
  let weighting: ConfidenceWeighting;
  if (kind === 'cn') {
    const cn = new ConfidenceNet(new Random(5), { widths: CN_WIDTHS, backend });
    weighting = { kind: 'cn', cn, omega: cn.parameters().map((p) => p.value) };
  } else {
    weighting = { kind: 'table', table: new SampleWeightTable(data.unlabelled.count) };
  }
  const problem = confidenceProblem(model, data, {
    config: cfg, weighting, metaValidation: 6, metaUnlabelled, inDistribution, poolSample: { indices: [0, 1, 2, 3, 4, 5, 7, 8], seed: 11 },
  });
  return { problem, model, data };
}

export const loopConfig = (over: Partial<BilevelConfig> = {}): BilevelConfig => ({
  method: parseMethod('identity'), innerSteps: 2, metaEpochs: 3, warmupSteps: 2, patience: 0, seed: 7, metaLr: 0.01,
  metaOptimizer: { kind: 'adam' }, checkpointEvery: 1, ...over,
});

/** The FixMatch config of a loop config's run: K = warm-up + meta-epochs x inner steps. */
export const cnFixMatchConfig = (loop: BilevelConfig, over: Partial<FixMatchConfig> = {}): FixMatchConfig =>
  tinyConfig({ steps: loop.warmupSteps + loop.metaEpochs * loop.innerSteps, ...over });

/**
 * A ConfidenceNet ω whose output is exactly 1.0 on every image: all weights zero and the head's bias a float32
 * score s with softplus(s) = 1 exactly on `backend` (searched among the float32 neighbours of log(e − 1)).
 */
export async function allOnesCn(backend?: Backend): Promise<{ cn: ConfidenceNet; omega: Tensor[] }> {
  const cn = new ConfidenceNet(new Random(5), { widths: CN_WIDTHS, backend });
  const f = new Float32Array(1);
  f[0] = Math.log(Math.E - 1);
  const bits = new Int32Array(f.buffer);
  const candidates = Array.from({ length: 41 }, (_, k) => {
    const c = new Int32Array([bits[0] + k - 20]);
    return new Float32Array(c.buffer)[0];
  });
  const out = await softplus(tensor(candidates, [candidates.length], { backend })).data();
  const k = Array.from(out).findIndex((v) => v === 1);
  if (k < 0) throw new Error('no float32 score near log(e - 1) has softplus exactly 1');
  const omega = cn.parameters().map((p) => (p.name === 'head.bias' ? full(p.value.shape, candidates[k], { backend }) : full(p.value.shape, 0, { backend })));
  return { cn, omega };
}

/** A tiny protocol of the experiment runner: one setting and seed, a few steps per phase. */
export const tinyProtocol = (over: Partial<ConfidenceProtocol> = {}): ConfidenceProtocol => ({
  labelsPerClass: 2, validationPerClass: 2, poolInDistribution: 12, seeds: [0], settings: [parseConfidenceSetting('ood-50')],
  weightings: ['cn', 'table'], methods: ['supervised', 'fixmatch', 'fixmatch+cn', 'fixmatch+table'],
  fixmatch: { ...FIXMATCH_DEFAULTS, model: 'small-cnn', batchSize: 4, mu: 2, tau: 0.34, emaDecay: 0.9, evalEvery: 2, checkpointEvery: 2, flip: false },
  phase1: { warmupSteps: 2, metaEvery: 2, metaEpochs: 2, method: 'identity', normalisation: 'none', metaLr: { cn: 0.01, table: 0.05 }, metaUnlabelled: { cn: 0, table: 12 }, metaValidation: 4, cnWarmupSteps: 3, cnWidths: [2, 3], patience: 0, checkpointEvery: 1 },
  phase2: { steps: 4, evalEvery: 2 },
  poolSample: 10,
  ...over,
});
