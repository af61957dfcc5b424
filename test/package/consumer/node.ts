// A Node consumer of the packed package: the root entry and iml-engine/node, with none of the optional peer dependencies installed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grad, hvp, mul, sum, tensor, type Tensor } from 'iml-engine';
import { createNodeWebGpuBackend, fileRunStore, loadCheckpoint, loadMnist, saveCheckpoint } from 'iml-engine/node';

const cube = (ws: Tensor[]): Tensor => sum(mul(mul(ws[0]!, ws[0]!), ws[0]!));
const w = [tensor([1, 2, 3])];
// f(w) = Σ w³: ∇f = 3w², H v = 6 w ⊙ v.
const gradient = grad(cube)(w)[0]!.toArray();
const hv = hvp(cube, w, [tensor([1, 1, 1])])[0]!.toArray();

const dir = mkdtempSync(join(tmpdir(), 'iml-consumer-'));
await saveCheckpoint(join(dir, 'ck.json'), { params: { w: w[0]! }, step: 3 });
const back = await loadCheckpoint(join(dir, 'ck.json'));
const store = fileRunStore(join(dir, 'run'));

const refusal = async (f: () => unknown): Promise<string> => {
  try {
    await f();
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
};
console.log(JSON.stringify({
  gradient, hv, checkpoint: { step: back.step, w: back.params.w!.toArray() }, store: store.location === join(dir, 'run'),
  webgpu: await refusal(() => createNodeWebGpuBackend()), mnist: await refusal(() => loadMnist()),
}));
