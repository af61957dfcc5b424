// A hypergradient ∂L_V/∂λ with every inverse-HVP method (exact, CG, Neumann, damped Neumann, identity) on a small regularised classifier, compared with the exact one.
import {
  add, Adam, batchTensors, cast, crossEntropy, hypergradient, nn, parseMethod, randn, Random, softplus, sum, mul, valueAndGrad, vcosine, vnorm, vsub,
  type Tensor,
} from 'iml-engine';
import { syntheticImages, printResult } from './shared.js';

const F64 = { dtype: 'float64' as const };
const rng = new Random(1);
const train = batchTensors(syntheticImages(40, 1, 'train'), Array.from({ length: 40 }, (_, i) => i), true);
const val = batchTensors(syntheticImages(20, 2, 'validation'), Array.from({ length: 20 }, (_, i) => i), true);
const [xT, tT, xV, tV] = [train.x, train.t, val.x, val.t].map((a) => cast(a, 'float64'));
// Multinomial logistic regression 16 -> 3 with per-parameter L2 softplus(λ)².
const model = new nn.MLP([16, 3], rng, 'relu', F64);
const params = model.parameters();
const lam = params.map((p) => randn(p.value.shape, rng, 0.5, F64));

const trainLoss = (ws: Tensor[], ls: Tensor[]): Tensor =>
  nn.functionalCall(model, ws, () => {
    let loss = crossEntropy(model.forward(xT!), tT!);
    ws.forEach((wi, i) => {
      const r = mul(softplus(ls[i]!), wi);
      loss = add(loss, sum(mul(r, r)));
    });
    return loss;
  });
const valLoss = (ws: Tensor[]): Tensor => nn.functionalCall(model, ws, () => crossEntropy(model.forward(xV!), tV!));

// Fit the weights first (λ fixed): the hypergradient is taken near a minimum of the training loss, as in IML.
const opt = new Adam(params, { lr: 0.05 });
for (let step = 0; step < 200; step++) opt.step(valueAndGrad((ws: Tensor[]) => trainLoss(ws, lam))(params.map((p) => p.value)).grads);
const w = params.map((p) => p.value);

const methods = ['exact', 'cg:51', 'cg:5', 'neumann:100:alpha=0.1', 'damped-neumann:100', 'identity'];
const exact = await hypergradient(trainLoss, valLoss, w, lam, parseMethod('exact'));
const rows = [];
for (const spec of methods) {
  const r = await hypergradient(trainLoss, valLoss, w, lam, parseMethod(spec));
  rows.push({
    method: spec,
    norm: r.hypergradNorm,
    cosine: await vcosine(r.hypergrad, exact.hypergrad),
    relativeError: (await vnorm(vsub(r.hypergrad, exact.hypergrad))) / exact.hypergradNorm,
    hvps: r.ihvp.hvps,
    ms: r.seconds.total * 1000,
  });
}
console.log(`${w.reduce((s, t) => s + t.size, 0)} weights; training loss ${exact.trainLoss.toFixed(5)}, validation loss ${exact.valLoss.toFixed(5)}`);
console.log('| method | ||∂L_V/∂λ|| | cos to exact | rel. error | HVPs | ms |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.method} | ${r.norm.toExponential(4)} | ${r.cosine.toFixed(6)} | ${r.relativeError.toExponential(2)} | ${r.hvps} | ${r.ms.toFixed(1)} |`);
printResult(rows);
