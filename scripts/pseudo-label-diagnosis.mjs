// Diagnoses a FixMatch result: loads the final checkpoints of a fixmatch run and its supervised-only twin and reports, per class of the unlabelled pool, accuracy, the share above tau and the precision of those confident predictions, plus the largest confusions. Needs `npm run build`.
// node scripts/pseudo-label-diagnosis.mjs --out RUN_FOLDER --dataset fashion-mnist [--data-dir DIR] --labels 10 --seed 0 [--tau 0.95] [--limit N] [--summary]
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { initGemm } from '../dist/src/backend/cpu/wasm-gemm.js';
import { tidy } from '../dist/src/core/scope.js';
import { noGrad } from '../dist/src/core/tensor.js';
import { getBatch } from '../dist/src/data/dataset.js';
import { loadDataset } from '../dist/src/node/datasets.js';
import { loadCheckpoint } from '../dist/src/node/checkpoint-file.js';
import { createSslModel } from '../dist/src/ssl/models.js';
import { sslSplit } from '../dist/src/ssl/ssl-split.js';
import { softmax } from '../dist/src/ops/losses.js';
import { Random } from '../dist/src/util/random.js';
import { batchNormImages, recomputeBatchNormStatistics } from '../dist/src/ssl/ema-batch-norm.js';
import { tensor } from '../dist/src/core/creation.js';

const { values: o } = parseArgs({ options: { out: { type: 'string' }, dataset: { type: 'string', default: 'mnist' }, 'data-dir': { type: 'string' }, labels: { type: 'string', default: '10' }, seed: { type: 'string', default: '0' }, tau: { type: 'string', default: '0.95' }, limit: { type: 'string', default: '0' }, summary: { type: 'boolean', default: false } } });
if (!o.out) throw new Error('--out RUN_FOLDER is required');
await initGemm();
const L = Number(o.labels), seed = Number(o.seed), tau = Number(o.tau);
const data = loadDataset(o.dataset, { dataDir: o['data-dir'], seed: 0 });
const split = sslSplit(data.train, L, seed);
const pool = split.unlabelled;
const n = Number(o.limit) > 0 ? Math.min(Number(o.limit), pool.count) : pool.count;
const C = pool.numClasses;

async function predictions(method, weights) {
  const model = await loadModel(method, weights);
  const { pred, conf } = predict(model, pool, n);
  const t = predict(model, data.test, data.test.count);
  let right = 0;
  for (let i = 0; i < data.test.count; i++) right += t.pred[i] === data.test.labels[i] ? 1 : 0;
  return { pred, conf, step: model.step, testAccuracy: right / data.test.count };
}

async function loadModel(method, weights) {
  const ck = await loadCheckpoint(join(o.out, 'runs', `${method}-L${L}-seed${seed}`, 'checkpoint.json'));
  const model = createSslModel('small-cnn', { channels: pool.channels, side: pool.height, classes: C }, new Random(seed));
  for (const p of model.parameters()) p.value = ck.params[weights === 'live' ? p.name : `ema/${p.name}`];
  for (const b of model.buffers()) b.value = ck.params[`buffer/${b.name}`];
  // As `iml fixmatch --ema-bn recompute`: statistics re-estimated at the EMA weights on the images the method trains on.
  if (weights === 'ema+bn') recomputeBatchNormStatistics(model, batchNormImages(method, split));
  model.step = ck.step;
  return model;
}

function predict(model, ds, n) {
  const pred = new Int32Array(n), conf = new Float32Array(n);
  for (let s = 0; s < n; s += 500) {
    const idx = Array.from({ length: Math.min(500, n - s) }, (_, i) => s + i);
    const probs = tidy(() => noGrad(() => {
      const b = getBatch(ds, idx);
      const x = tensor(b.x, [idx.length, ds.channels, ds.height, ds.width]);
      return softmax(model.forward(x, { training: false }), 1).dataSync();
    }));
    idx.forEach((_, r) => {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[r * C + c] > probs[r * C + best]) best = c;
      pred[s + r] = best;
      conf[s + r] = probs[r * C + best];
    });
  }
  return { pred, conf };
}

const FASHION = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const names = o.dataset === 'fashion-mnist' ? FASHION : Array.from({ length: C }, (_, c) => String(c));
for (const [method, weights] of [['supervised', 'live'], ['supervised', 'ema'], ['supervised', 'ema+bn'], ['fixmatch', 'live'], ['fixmatch', 'ema'], ['fixmatch', 'ema+bn']]) {
  const { pred, conf, step, testAccuracy } = await predictions(method, weights);
  const rows = [];
  const confusion = Array.from({ length: C }, () => new Array(C).fill(0));
  let acc = 0, confident = 0, confidentRight = 0;
  for (let c = 0; c < C; c++) rows.push({ n: 0, right: 0, conf: 0, confRight: 0 });
  for (let i = 0; i < n; i++) {
    const y = pool.labels[i], r = rows[y], ok = pred[i] === y;
    r.n++; r.right += ok; confusion[y][pred[i]]++;
    acc += ok;
    if (conf[i] >= tau) { r.conf++; r.confRight += ok; confident++; confidentRight += ok; }
  }
  console.log(`\n## ${method} (${weights} weights, step ${step}): test accuracy ${(100 * testAccuracy).toFixed(2)}%, pool accuracy ${(100 * acc / n).toFixed(1)}%, ${(100 * confident / n).toFixed(1)}% above tau ${tau}, of which ${(100 * confidentRight / confident).toFixed(1)}% right (${n} pool images)`);
  if (o.summary) continue;
  console.log('| class | accuracy | above tau | right among those |\n|---|---|---|---|');
  rows.forEach((r, c) => console.log(`| ${names[c]} | ${(100 * r.right / r.n).toFixed(1)}% | ${(100 * r.conf / r.n).toFixed(1)}% | ${r.conf ? (100 * r.confRight / r.conf).toFixed(1) + '%' : '-'} |`));
  const pairs = [];
  for (let y = 0; y < C; y++) for (let p = 0; p < C; p++) if (y !== p) pairs.push([confusion[y][p], y, p]);
  pairs.sort((a, b) => b[0] - a[0]);
  console.log('largest confusions (true -> predicted): ' + pairs.slice(0, 5).map(([k, y, p]) => `${names[y]} -> ${names[p]} ${(100 * k / n).toFixed(1)}%`).join(', '));
}
