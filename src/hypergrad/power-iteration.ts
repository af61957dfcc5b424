// Largest-magnitude Hessian eigenvalue by power iteration on HVPs (sets the Neumann step size).

import { randn } from '../core/creation.js';
import { Random } from '../util/random.js';
import type { LinearOperator } from './inverse-hvp.js';
import { vdot, vnorm, vscale, type VectorList } from './vector-list.js';

export interface TopEigen {
  /** Rayleigh quotient vᵀHv of the final unit vector (signed). */
  value: number;
  vector: VectorList;
  hvps: number;
}

/** v ← Hv/||Hv|| repeated; warm-started from `init` when given (e.g. the previous meta-step's vector). */
export async function topEigenvalue(hvp: LinearOperator, like: VectorList, opts: { iterations: number; init?: VectorList; seed?: number }): Promise<TopEigen> {
  const rng = new Random(opts.seed ?? 12345);
  let v = opts.init ?? like.map((t) => randn(t.shape, rng, 1, { dtype: t.dtype, backend: t.backend }));
  v = vscale(v, 1 / (await vnorm(v)));
  let value = 0;
  let hvps = 0;
  for (let i = 0; i < Math.max(1, opts.iterations); i++) {
    const hv = hvp(v);
    hvps++;
    value = await vdot(v, hv);
    const n = await vnorm(hv);
    if (n === 0 || !Number.isFinite(n)) break;
    v = vscale(hv, 1 / n);
  }
  return { value, vector: v, hvps };
}
