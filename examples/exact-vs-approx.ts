// Exact vs approximate inverse-HVPs on your own model and data: build an InverseCheckProblem, run the exact dense solve and Neumann/CG/identity, print the table.
import {
  Adam, batchTensors, cast, formatInverseCheck, makeLosses, nn, Random, randn, runInverseCheck, tensor, valueAndGrad,
  type InverseCheckProblem, type Tensor,
} from 'iml-engine';
import { printResult, syntheticImages } from './shared.js';

const F64 = { dtype: 'float64' as const };
const sizes = [16, 12, 3];
const model = new nn.MLP(sizes, new Random(3), 'tanh', F64);
const params = model.parameters();
const batch = (n: number, seed: number, name: string): { x: Tensor; y: number[] } => {
  const ds = syntheticImages(n, seed, name);
  const b = batchTensors(ds, Array.from({ length: n }, (_, i) => i), true);
  return { x: cast(b.x, 'float64'), y: Array.from(ds.labels) };
};
const lrng = new Random(4);
const problem: InverseCheckProblem = {
  description: `my model: MLP ${sizes.join('-')} (tanh) on synthetic 4x4 images, per-parameter L2`,
  sizes, activation: 'tanh', names: params.map((p) => p.name), weights: params.map((p) => p.value),
  lambdas: params.map((p) => tensor(randn(p.value.shape, lrng, 0.3, F64).toArray().map((a) => a - 2), p.value.shape, F64)),
  train: batch(30, 1, 'train'), validation: batch(30, 2, 'validation'),
};
// Train the weights briefly on L_T (λ fixed) so the Hessian is that of a partly fitted model.
const { trainLoss } = makeLosses(problem, model);
const opt = new Adam(params, { lr: 0.02 });
for (let step = 0; step < 150; step++) opt.step(valueAndGrad((ws: Tensor[]) => trainLoss(ws, problem.lambdas))(params.map((p) => p.value)).grads);
problem.weights = params.map((p) => p.value);

const result = await runInverseCheck(problem, { neumann: [5, 50], alpha: 0.1, cg: [5, 50], ridge: 0, method: 'auto', damping: 0, spectrum: 'full' });
console.log(formatInverseCheck(result));
printResult({
  parameters: result.problem.parameters, exactResidual: result.exact.residual, lambdaMin: result.exact.lambdaMin, lambdaMax: result.exact.lambdaMax,
  rows: result.rows.map((r) => ({ method: r.method, cosine: r.cosine, relativeError: r.relativeError, hvps: r.hvps })),
});
