// The engine's gradients, HVP and mixed second derivative match PyTorch float64 reference values.
import { describe, expect, it } from 'vitest';
import { flat, goldenProblem, loadGolden } from '../fixtures/golden.js';
import { cgInverseHvp, identityInverseHvp, neumannInverseHvp } from '../../src/hypergrad/inverse-hvp.js';
import {
  neg, secondOrderOperator, hvpAndMixed, innerProduct, valueAndGrad, type Tensor,
} from '../../src/index.js';

const load = loadGolden;
const setup = goldenProblem;

function relErr(got: number[], want: number[]): number {
  let num = 0;
  let den = 0;
  got.forEach((g, i) => {
    num += (g - want[i]) ** 2;
    den += want[i] ** 2;
  });
  return Math.sqrt(num / den);
}

describe.each(['mlp-tanh-seed1.json', 'mlp-tanh-seed2.json'])('PyTorch float64 reference %s', (file) => {
  const g = load(file);
  const p = setup(g);

  it('training and validation gradients', () => {
    const gt = valueAndGrad((ws) => p.trainLoss(ws, p.lam))(p.w).grads;
    const gv = valueAndGrad(p.valLoss)(p.w).grads;
    expect(relErr(flat(gt), g.grad_train)).toBeLessThan(1e-12);
    expect(relErr(flat(gv), g.grad_val)).toBeLessThan(1e-12);
  });

  it('Hessian-vector product and mixed term vᵀ ∂²L/∂w∂λ in one pass', () => {
    const r = hvpAndMixed(p.trainLoss, p.w, p.lam, p.split(g.v));
    expect(relErr(flat(r.hvp), g.hvp)).toBeLessThan(1e-12);
    expect(relErr(flat(r.mixed), g.mixed)).toBeLessThan(1e-12);
    expect(relErr(flat(r.grad), g.grad_train)).toBeLessThan(1e-12);
  });

  it('a recorded second-order operator gives the same H v and mixed term on repeated use', () => {
    const op = secondOrderOperator(p.trainLoss, p.w, p.lam);
    for (let k = 0; k < 2; k++) {
      const r = op.hvpAndMixed(p.split(g.v));
      expect(relErr(flat(r.hvp), g.hvp)).toBeLessThan(1e-12);
      expect(relErr(flat(r.mixed), g.mixed)).toBeLessThan(1e-12);
    }
    expect(relErr(flat(op.hvp(p.split(g.v))), g.hvp)).toBeLessThan(1e-12);
    expect(relErr(flat(op.mixed(p.split(g.v))), g.mixed)).toBeLessThan(1e-12);
    expect(relErr(flat(op.grad), g.grad_train)).toBeLessThan(1e-12);
  });

  it('HVP is symmetric: <u, Hv> = <v, Hu>', () => {
    const v = p.split(g.v);
    const u = p.split(g.grad_val);
    const hv = hvpAndMixed(p.trainLoss, p.w, p.lam, v).hvp;
    const hu = hvpAndMixed(p.trainLoss, p.w, p.lam, u).hvp;
    const a = innerProduct(u, hv).item();
    const b = innerProduct(v, hu).item();
    expect(Math.abs(a - b)).toBeLessThan(1e-12 * Math.max(1, Math.abs(a)));
  });
});

describe.each(['mlp-tanh-seed1.json', 'mlp-tanh-seed2.json'])('inverse-HVP approximations and hypergradients vs PyTorch (%s)', (file) => {
  const g = load(file);
  const p = setup(g);
  const op = secondOrderOperator(p.trainLoss, p.w, p.lam);
  const H = (v: Tensor[]): Tensor[] => op.hvp(v);
  const b = p.split(g.grad_val);
  const methods: Record<string, () => Promise<Tensor[]>> = {
    identity: async () => identityInverseHvp(b).x,
    neumann3: async () => (await neumannInverseHvp(H, b, { alpha: 0.1, steps: 3 })).x,
    neumann10: async () => (await neumannInverseHvp(H, b, { alpha: 0.1, steps: 10 })).x,
    cg3: async () => (await cgInverseHvp(H, b, { steps: 3, keepBest: false })).x,
    cg5: async () => (await cgInverseHvp(H, b, { steps: 5, keepBest: false })).x,
  };
  for (const [name, run] of Object.entries(methods)) {
    it(`${name}: inverse-HVP and hypergradient -xᵀ ∂²L_T/∂w∂λ`, async () => {
      const x = await run();
      expect(relErr(flat(x), g.ihvp[name])).toBeLessThan(1e-10);
      const hg = op.mixed(x).map((m) => neg(m));
      expect(relErr(flat(hg), g.hypergrad[name])).toBeLessThan(1e-10);
    });
  }
});
