// Gradient, Hessian-vector product and mixed term vᵀ ∂²L/∂w∂λ of an MLP's regularised loss in one call, checked against central differences.
import {
  add, crossEntropy, hvpAndMixed, mul, nn, oneHot, randn, Random, softplus, sum, tensor, valueAndGrad, type Tensor,
} from 'iml-engine';
import { printResult } from './shared.js';

const F64 = { dtype: 'float64' as const };
const rng = new Random(0);
const model = new nn.MLP([16, 8, 3], rng, 'tanh', F64);
const w = model.parameters().map((p) => p.value); // fc1.weight, fc1.bias, fc2.weight, fc2.bias
const lam = w.map((wi) => randn(wi.shape, rng, 0.5, F64)); // per-parameter L2 hyperparameters (before softplus)
const v = w.map((wi) => randn(wi.shape, rng, 1, F64)); // the direction of the HVP
const x = randn([10, 16], rng, 1, F64);
const t = oneHot(Array.from({ length: 10 }, (_, i) => i % 3), 3, F64);

// L(w, λ) = CE(f(x; w), t) + Σ_i Σ (softplus(λ_i) ⊙ w_i)²
const trainLoss = (ws: Tensor[], ls: Tensor[]): Tensor =>
  nn.functionalCall(model, ws, () => {
    let loss = crossEntropy(model.forward(x), t);
    ws.forEach((wi, i) => {
      const r = mul(softplus(ls[i]!), wi);
      loss = add(loss, sum(mul(r, r)));
    });
    return loss;
  });

// One reverse-over-reverse pass: ∇_w L, H v and vᵀ ∂²L/∂w∂λ.
const { grad, hvp, mixed } = hvpAndMixed(trainLoss, w, lam, v);

// Checks: H v ≈ (∇_w L(w + εv) - ∇_w L(w - εv)) / 2ε and vᵀ∂²L/∂w∂λ ≈ (∇_λ L(w + εv) - ∇_λ L(w - εv)) / 2ε.
const eps = 1e-5;
const shifted = (s: number): Tensor[] => w.map((wi, i) => tensor(wi.toArray().map((a, k) => a + s * eps * v[i]!.toArray()[k]!), wi.shape, F64));
const gradsAt = (ws: Tensor[]): Tensor[] => valueAndGrad((all: Tensor[]) => trainLoss(all.slice(0, w.length), all.slice(w.length)))([...ws, ...lam]).grads;
const plus = gradsAt(shifted(1));
const minus = gradsAt(shifted(-1));
const fd = plus.map((p, i) => p.toArray().map((a, k) => (a - minus[i]!.toArray()[k]!) / (2 * eps)));
const relErr = (exact: Tensor[], approx: number[][]): number => {
  let num = 0;
  let den = 0;
  exact.forEach((e, i) => e.toArray().forEach((a, k) => {
    num += (a - approx[i]![k]!) ** 2;
    den += a * a;
  }));
  return Math.sqrt(num / den);
};
const hvpError = relErr(hvp, fd.slice(0, w.length));
const mixedError = relErr(mixed, fd.slice(w.length));
const norm = (ts: Tensor[]): number => Math.sqrt(ts.reduce((s, ti) => s + ti.toArray().reduce((a, b) => a + b * b, 0), 0));

console.log(`parameters: ${model.parameterCount()} in ${w.length} tensors`);
console.log(`||∇_w L|| = ${norm(grad).toFixed(6)}, ||H v|| = ${norm(hvp).toFixed(6)}, ||vᵀ∂²L/∂w∂λ|| = ${norm(mixed).toFixed(6)}`);
console.log(`relative error against central differences: H v ${hvpError.toExponential(2)}, mixed term ${mixedError.toExponential(2)}`);
printResult({ gradNorm: norm(grad), hvpNorm: norm(hvp), mixedNorm: norm(mixed), hvpError, mixedError });
