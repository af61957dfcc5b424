// Diagnoses what the learned weights of a Confidence Network experiment do where they matter: over a setting's whole unlabelled pool, which in- and out-of-distribution images the phase-2 classifiers are confident on (max p >= tau, i.e. would get a pseudo-label), the kept CN's and table's weights of those images, their AUROC, and the share of the unlabelled loss's weight that goes to OOD images. Needs `npm run build`.
// node scripts/confidence-diagnosis.mjs --out RUN_FOLDER --setting ood-50 --seed 0 [--tau 0.95] [--data-dir DIR] [--fashion-dir DIR]
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initGemm } from '../dist/src/backend/cpu/wasm-gemm.js';
import { tensor } from '../dist/src/core/creation.js';
import { tidy } from '../dist/src/core/scope.js';
import { noGrad } from '../dist/src/core/tensor.js';
import { getBatch } from '../dist/src/data/dataset.js';
import { loadCheckpoint } from '../dist/src/node/checkpoint-file.js';
import { confidenceData } from '../dist/src/node/confidence-data.js';
import { readJsonFile } from '../dist/src/node/read-json.js';
import { softmax } from '../dist/src/ops/losses.js';
import { auroc } from '../dist/src/report/auroc.js';
import { parseConfidenceSetting } from '../dist/src/ssl/confidence-experiment.js';
import { ConfidenceNet, confidenceWeights } from '../dist/src/ssl/confidence-net.js';
import { createSslModel } from '../dist/src/ssl/models.js';
import { SampleWeightTable } from '../dist/src/ssl/sample-weight-table.js';
import { Random } from '../dist/src/util/random.js';

const { values: o } = parseArgs({ options: { out: { type: 'string' }, setting: { type: 'string', default: 'ood-50' }, seed: { type: 'string', default: '0' }, tau: { type: 'string' }, 'fashion-dir': { type: 'string' }, 'data-dir': { type: 'string' } } });
if (!o.out) throw new Error('--out RUN_FOLDER is required');
await initGemm();
const { protocol } = readJsonFile(join(o.out, 'config.json'));
const setting = parseConfidenceSetting(o.setting);
const seed = Number(o.seed);
const tau = o.tau === undefined ? protocol.fixmatch.tau : Number(o.tau);
const split = confidenceData([setting], { ...protocol, dataset: protocol.dataset ?? 'mnist', dataDir: o['data-dir'], fashionDir: o['fashion-dir'] }).split(setting, seed);
const pool = split.unlabelled;
const ood = Array.from(split.inDistribution, (f) => 1 - f);
const run = (part) => join(o.out, 'runs', `${setting.label}-seed${seed}`, part);
const BATCH = 500;

/** fn's [n, width] values on the pool in batches (no graph, scoped), as one [pool, width] array. */
function overPool(fn, width = 1) {
  const out = new Float32Array(pool.count * width);
  for (let s = 0; s < pool.count; s += BATCH) {
    const idx = Array.from({ length: Math.min(BATCH, pool.count - s) }, (_, i) => s + i);
    const v = tidy(() => noGrad(() => fn(tensor(getBatch(pool, idx).x, [idx.length, pool.channels, pool.height, pool.width]), idx).dataSync()));
    out.set(v, s * width);
  }
  return out;
}

/** Max softmax probability per pool image of a run's final live classifier (its own batch-norm statistics). */
async function confidence(part) {
  const ck = await loadCheckpoint(join(run(part), 'checkpoint.json'));
  const model = createSslModel(protocol.fixmatch.model, { channels: pool.channels, side: pool.height, classes: pool.numClasses }, new Random(seed));
  for (const p of model.parameters()) p.value = ck.params[p.name];
  for (const b of model.buffers()) b.value = ck.params[`buffer/${b.name}`];
  const C = pool.numClasses;
  const probs = overPool((x) => softmax(model.forward(x, { training: false }), 1), C);
  const conf = new Float32Array(pool.count);
  for (let i = 0; i < pool.count; i++) for (let c = 0; c < C; c++) conf[i] = Math.max(conf[i], probs[i * C + c]);
  return { step: ck.step, conf };
}

/** The kept learner's weights of every pool image (best.json's ω), or null when the run is missing. */
async function weights(kind) {
  const file = join(run(`phase1-${kind}`), 'best.json');
  if (!existsSync(file)) return null;
  const best = await loadCheckpoint(file);
  if (kind === 'cn') {
    const cn = new ConfidenceNet(new Random(0), { inChannels: pool.channels, widths: protocol.phase1.cnWidths });
    const names = cn.parameters().map((p) => `lam:cn/${p.name}`);
    const omega = names.map((n) => best.params[n]);
    return overPool((x) => confidenceWeights(cn, omega, x));
  }
  const table = new SampleWeightTable(pool.count);
  return overPool((_x, idx) => table.weightsFor([best.params['lam:table']], idx));
}

const pct = (a, b) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '-');
const fmt = (v) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(3));
function stats(w, pick) {
  let sId = 0, nId = 0, sOod = 0, nOod = 0;
  const ws = [], flags = [];
  for (let i = 0; i < pool.count; i++) {
    if (!pick(i)) continue;
    ws.push(w[i]);
    flags.push(split.inDistribution[i]);
    if (ood[i]) { sOod += w[i]; nOod++; } else { sId += w[i]; nId++; }
  }
  const both = nId > 0 && nOod > 0;
  return { meanId: nId ? sId / nId : null, meanOod: nOod ? sOod / nOod : null, auroc: both ? auroc(ws, flags) : null, oodWeightShare: sId + sOod > 0 ? sOod / (sId + sOod) : null, nId, nOod };
}

const nOod = ood.reduce((a, b) => a + b, 0);

/** Pearson correlation of xs and ys over the pool images pick() selects. */
function pearson(xs, ys, pick) {
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < xs.length; i++) if (pick(i)) { n++; sx += xs[i]; sy += ys[i]; }
  const mx = sx / n, my = sy / n;
  let cxy = 0, cxx = 0, cyy = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!pick(i)) continue;
    const dx = xs[i] - mx, dy = ys[i] - my;
    cxy += dx * dy; cxx += dx * dx; cyy += dy * dy;
  }
  return n > 2 && cxx > 0 && cyy > 0 ? cxy / Math.sqrt(cxx * cyy) : null;
}

// Mean pixel value of each pool image (its "ink"): Fashion-MNIST items cover far more of the frame than digits.
const size = pool.channels * pool.height * pool.width;
const ink = Float64Array.from({ length: pool.count }, (_, i) => {
  let t = 0;
  for (let k = 0; k < size; k++) t += pool.images[i * size + k];
  return t / size;
});
console.log(`# ${setting.label}, seed ${seed}: pool of ${pool.count} images, ${nOod} out of distribution; confident = max p >= ${tau} (evaluation mode, original images)`);
console.log('\n| phase-2 classifier (final live weights) | step | ID confident | OOD confident | OOD share of confident images | mean -log max p of confident ID / OOD |\n|---|---|---|---|---|---|');
const conf = {};
for (const part of ['phase2-fixmatch', 'phase2-fixmatch+cn', 'phase2-fixmatch+table']) {
  if (!existsSync(join(run(part), 'checkpoint.json'))) continue;
  const c = await confidence(part);
  conf[part] = c.conf;
  // The unsupervised loss an image passing tau contributes is the cross-entropy to its pseudo-label, -log max p (on the original image).
  let id = 0, od = 0, ceId = 0, ceOod = 0;
  for (let i = 0; i < pool.count; i++) {
    if (c.conf[i] < tau) continue;
    if (ood[i]) { od++; ceOod -= Math.log(c.conf[i]); } else { id++; ceId -= Math.log(c.conf[i]); }
  }
  console.log(`| ${part.slice(7)} | ${c.step} | ${pct(id, pool.count - nOod)} | ${pct(od, nOod)} | ${pct(od, id + od)} | ${id ? (ceId / id).toExponential(2) : '-'} / ${od ? (ceOod / od).toExponential(2) : '-'} |`);
}
console.log('\n| learner | images | mean weight ID | mean weight OOD | AUROC (ID vs OOD) | OOD share of the summed weight |\n|---|---|---|---|---|---|');
const weightsOf = {};
for (const kind of ['cn', 'table']) {
  const w = await weights(kind);
  if (!w) continue;
  const c = conf[kind === 'cn' ? 'phase2-fixmatch+cn' : 'phase2-fixmatch+table'];
  const rows = [['all pool images', () => true]];
  if (c) rows.push([`confident under fixmatch+${kind}`, (i) => c[i] >= tau]);
  for (const [what, pick] of rows) {
    const s = stats(w, pick);
    console.log(`| ${kind} | ${what} (${s.nId} ID, ${s.nOod} OOD) | ${fmt(s.meanId)} | ${fmt(s.meanOod)} | ${fmt(s.auroc)} | ${s.oodWeightShare === null ? '-' : pct(s.oodWeightShare, 1)} (unweighted ${pct(s.nOod, s.nId + s.nOod)}) |`);
  }
  weightsOf[kind] = w;
}
console.log('\n| learner | correlation of the weight with the mean pixel value: all | ID | OOD |\n|---|---|---|---|');
for (const [kind, w] of Object.entries(weightsOf)) {
  console.log(`| ${kind} | ${fmt(pearson(w, ink, () => true))} | ${fmt(pearson(w, ink, (i) => !ood[i]))} | ${fmt(pearson(w, ink, (i) => ood[i] === 1))} |`);
}
