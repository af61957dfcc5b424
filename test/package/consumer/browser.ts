// A browser consumer of the packed package: only the root entry, compiled with strict and bundled for the browser with no plugins.
import {
  Random, cgInverseHvp, createWebGpuBackend, fetchMnist, grad, hvpAndMixed, hypergradient, identityInverseHvp, memoryRunStore,
  mnistSplits, mul, neumannInverseHvp, nn, parseMethod, perParameterL2, randn, runIml, sum, tensor, THESIS_DEFAULTS, linalg,
  type ImlConfig, type InverseHvpResult, type RunStore, type Tensor, type WebGpuBackend,
} from 'iml-engine';

const w = [tensor([1, 2, 3])];
const cube = (ws: Tensor[]): Tensor => sum(mul(mul(ws[0]!, ws[0]!), ws[0]!));
const g: Tensor[] = grad(cube)(w);
const store: RunStore = memoryRunStore();

/** Type-level use of the GPU and data entry points (not run here). */
export async function startInPage(): Promise<WebGpuBackend> {
  const mnist = mnistSplits(await fetchMnist('/mnist/'), { seed: 0, imageSize: 14 });
  const model = new nn.MLP([196, 16, 10], new Random(0));
  const config: ImlConfig = { ...THESIS_DEFAULTS, method: parseMethod('neumann:3'), seed: 0, metaEpochs: 1 };
  await runIml(model, perParameterL2(model.parameters()), mnist, config, { store });
  const solvers: Promise<InverseHvpResult>[] = [neumannInverseHvp((v) => v, g, { alpha: 0.1, steps: 3 }), cgInverseHvp((v) => v, g, { steps: 3 })];
  await Promise.all([...solvers, hypergradient((a, b) => sum(mul(a[0]!, b[0]!)), (a) => sum(a[0]!), w, w, parseMethod('cg:3'))]);
  void identityInverseHvp(g);
  void hvpAndMixed((a, b) => sum(mul(a[0]!, b[0]!)), w, [randn([3], new Random(1))], w);
  void linalg.lanczos;
  return createWebGpuBackend(navigator.gpu);
}

console.log(g[0]!.toArray().join(','), store.location);
