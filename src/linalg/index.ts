// Exact curvature: dense float64 linear algebra in Wasm, exact Hessians and inverse-HVPs, HVP-only spectrum tools.

import { registerExactSolver } from '../hypergrad/hypergradient.js';
import { exactInverseHvpFromOperator } from './exact-inverse-hvp.js';

// Importing this module provides the dense solver behind the 'exact' hypergradient method. Inside
// training loops the Lanczos spectrum report of large Hessians (seconds) is skipped; LDLᵀ still
// reports the inertia, and all eigenvalues are computed for n <= 1000.
registerExactSolver((hvp, b, damping) => {
  const slow = b.find((t) => !t.backend.readSync);
  if (slow) {
    throw new Error(`exact inverse-HVP: the dense float64 solve runs in Wasm and reads every Hessian column synchronously; `
      + `'${slow.describe()}' is on the '${slow.backend.name}' backend. Run exact solves and exact comparisons on the CPU backend.`);
  }
  const n = b.reduce((s, t) => s + t.size, 0);
  return exactInverseHvpFromOperator(hvp, b, { damping, spectrum: n <= 1000 ? 'full' : 'none' });
});

export { initLinalg, linalgReady, linalgMemoryStats, resetLinalgPeak, WasmArray } from './wasm.js';
export type { WasmMemoryStats } from './wasm.js';
export {
  Matrix, Cholesky, LU, LDLT, NotPositiveDefiniteError, SingularMatrixError,
  matmul, matvec, symmetrize, norm1, solveTriangular, cholesky, lu, ldlt, eigh, solve,
} from './dense.js';
export type { MatmulOptions, TriangularOptions, FactorOptions, EighResult, Inertia } from './dense.js';
export { exactHessian, hessianFromOperator, flattenTensors, unflattenLike, flatOffsets } from './hessian.js';
export type { HessianOptions, HessianResult } from './hessian.js';
export { ExactHessianSolver, exactInverseHvp, exactInverseHvpFromOperator } from './exact-inverse-hvp.js';
export type {
  ExactMethod, ExactSolverOptions, ExactCurvatureReport, ExactSolveResult, ExactInverseHvpOptions, ExactInverseHvpResult,
} from './exact-inverse-hvp.js';
export {
  flatOperator, denseOperator, hessianOperator, powerIteration, lanczos, tridiagonalEigen, extremeEigenvalues,
  topEigenvalues, hutchinsonTrace, spectralDensity,
} from './spectrum.js';
export type {
  FlatOperator, SpectrumOperator, PowerIterationOptions, PowerIterationResult, LanczosOptions, LanczosResult,
  ExtremeEigenvalues, TopEigenOptions, HutchinsonOptions, HutchinsonResult, DensityOptions, SpectralDensity,
} from './spectrum.js';
