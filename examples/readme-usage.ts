// The README's first example, verbatim below this line (a test checks that the README shows exactly this and runs it).
import { add, crossEntropy, hvpAndMixed, mul, nn, oneHot, randn, Random, softplus, sum, type Tensor } from 'iml-engine';

const rng = new Random(0);
const model = new nn.MLP([784, 32, 10], rng);
const w = model.parameters().map((p) => p.value);           // named: fc1.weight, fc1.bias, ...
const lam = w.map((wi) => randn(wi.shape, rng));            // per-parameter L2 hyperparameters
const v = w.map((wi) => randn(wi.shape, rng));              // a direction for the HVP
const x = randn([16, 784], rng);                            // a batch of inputs ...
const t = oneHot(Array.from({ length: 16 }, (_, i) => i % 10), 10); // ... and one-hot targets
const trainLoss = (ws: Tensor[], ls: Tensor[]): Tensor => nn.functionalCall(model, ws, () => {
  let loss = crossEntropy(model.forward(x, { training: true }), t);
  ws.forEach((wi, i) => { const r = mul(softplus(ls[i]!), wi); loss = add(loss, sum(mul(r, r))); });
  return loss;
});
// One reverse-over-reverse pass: ∇_w L, H v and vᵀ ∂²L/∂w∂λ.
const { grad, hvp, mixed } = hvpAndMixed(trainLoss, w, lam, v);
console.log(grad.length, hvp[0]!.shape, mixed[0]!.shape); // 4 [ 32, 784 ] [ 32, 784 ]
