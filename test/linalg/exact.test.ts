// Exact Hessians and exact H⁻¹v: PyTorch golden fixtures, a plain-TS Gaussian-elimination reference, method policy, Neumann/CG convergence.
import { describe, expect, it } from 'vitest';
import { flat, goldenProblem, loadGolden } from '../fixtures/golden.js';
import { secondOrderOperator } from '../../src/autodiff/transforms.js';
import { neg, type Tensor } from '../../src/index.js';
import { solveInverseHvp } from '../../src/hypergrad/hypergradient.js';
import { cgInverseHvp, neumannInverseHvp } from '../../src/hypergrad/inverse-hvp.js';
import { vaxpy } from '../../src/hypergrad/vector-list.js';
import {
  exactHessian, exactInverseHvp, exactInverseHvpFromOperator, ExactHessianSolver, flattenTensors, hessianFromOperator, Matrix,
  NotPositiveDefiniteError,
} from '../../src/linalg/index.js';
import { gaussSolve, randomMatrix, randomSpd, refMatvec, relErr, relResidual } from './helpers.js';

const load = loadGolden;
const setup = goldenProblem;

describe.each(['mlp-tanh-seed1.json', 'mlp-tanh-seed2.json'])('exact curvature vs PyTorch float64 (%s)', (file) => {
  const g = load(file);
  const p = setup(g);
  const b = p.split(g.grad_val);
  const n = g.grad_val.length;

  it('Hessian eigenvalues match hessian_eigs to 1e-10', () => {
    const H = exactHessian(p.f, p.w);
    expect(H.n).toBe(n);
    expect(H.asymmetry).toBeLessThan(1e-13);
    const solver = ExactHessianSolver.create(H.matrix, { spectrum: 'full' });
    const { lambdaMin, lambdaMax, negativeEigenvalues } = solver.report;
    const eigs = g.hessian_eigs;
    const scale = Math.max(...eigs.map(Math.abs));
    expect(Math.abs(lambdaMin - eigs[0]!)).toBeLessThan(1e-10 * scale);
    expect(Math.abs(lambdaMax - eigs.at(-1)!)).toBeLessThan(1e-10 * scale);
    expect(negativeEigenvalues).toBe(eigs.filter((e) => e < 0).length);
    solver.free();
    // All of them, through the eigen path.
    const e = ExactHessianSolver.create(H.matrix, { method: 'eigen' });
    expect(e.report.spectrumSource).toBe('eigenvalues');
    expect(e.report.method).toBe('eigen');
    e.free();
    H.matrix.free();
  });

  it('all eigenvalues (eigh on the assembled Hessian) match to 1e-10', async () => {
    const { eigh } = await import('../../src/linalg/index.js');
    const H = exactHessian(p.f, p.w);
    const { values } = eigh(H.matrix, { vectors: false });
    const scale = Math.max(...g.hessian_eigs.map(Math.abs));
    values.forEach((v, i) => expect(Math.abs(v - g.hessian_eigs[i]!)).toBeLessThan(1e-10 * scale));
    H.matrix.free();
  });

  it('exact H⁻¹g matches ihvp.exact and the hypergradient matches hypergrad.exact (1e-10); LU on the indefinite Hessian', () => {
    const r = exactInverseHvp(p.f, p.w, b);
    expect(relErr(flat(r.x), g.ihvp.exact!)).toBeLessThan(1e-10);
    const op = secondOrderOperator(p.trainLoss, p.w, p.lam);
    const hg = op.mixed(r.x).map((m) => neg(m));
    expect(relErr(flat(hg), g.hypergrad.exact!)).toBeLessThan(1e-10);
    expect(r.report.method).toBe('ldlt'); // the fixture's Hessians are indefinite (random weights)
    expect(r.report.inertia!.negative).toBe(g.hessian_eigs.filter((e) => e < 0).length);
    expect(r.report.notes.join(' ')).toMatch(/indefinite/);
    expect(r.report.lambdaMin).toBeLessThan(0);
    expect(r.report.conditionNumber).toBeGreaterThan(1);
    expect(r.report.rcond1).toBeGreaterThan(0);
    expect(r.residual).toBeLessThan(1e-12);
    expect(r.hvps).toBe(n);
    expect(r.note).toMatch(/^exact \(ldlt\)/);
    // LU (what torch.linalg.solve uses) gives the same solution.
    const rl = exactInverseHvp(p.f, p.w, b, { method: 'lu' });
    expect(rl.report.method).toBe('lu');
    expect(relErr(flat(rl.x), g.ihvp.exact!)).toBeLessThan(1e-10);
  });

  it('agrees with a plain-TS Gaussian elimination on the same Hessian, and via the operator-only entry point', async () => {
    const H = exactHessian(p.f, p.w);
    const dense = H.matrix.toArray();
    const bf = flattenTensors(b);
    const ref = gaussSolve(dense, bf, n);
    expect(relResidual(dense, ref, bf, n)).toBeLessThan(1e-10);
    const r = exactInverseHvp(p.f, p.w, b);
    expect(relErr(flattenTensors(r.x), ref)).toBeLessThan(1e-10);
    // The operator route (what the 'exact' hypergradient method uses) assembles the same matrix.
    const op = secondOrderOperator(p.trainLoss, p.w, p.lam);
    const Ho = hessianFromOperator(op.hvp, p.w);
    expect(relErr(Ho.matrix.toArray(), dense)).toBeLessThan(1e-14);
    const ro = exactInverseHvpFromOperator(op.hvp, b);
    expect(relErr(flattenTensors(ro.x), ref)).toBeLessThan(1e-10);
    // Registered as the 'exact' hypergradient method by importing src/linalg.
    const rm = await solveInverseHvp({ kind: 'exact', damping: 0 }, op.hvp, b);
    expect(relErr(flat(rm.x), g.ihvp.exact!)).toBeLessThan(1e-10);
    [H.matrix, Ho.matrix].forEach((m) => m.free());
  });

  it('with damping above -λmin: Cholesky, and Neumann (contracting alpha) and CG (<= n steps) converge to the exact solution', async () => {
    const lmin = g.hessian_eigs[0]!;
    const lmax = g.hessian_eigs.at(-1)!;
    const damping = -lmin + 0.05;
    const r = exactInverseHvp(p.f, p.w, b, { damping });
    expect(r.report.method).toBe('cholesky');
    expect(r.report.damping).toBe(damping);
    expect(Math.abs(r.report.lambdaMin - (lmin + damping))).toBeLessThan(1e-10);
    const exact = flat(r.x);
    // Reference: plain Gaussian elimination on H + δI.
    const H = exactHessian(p.f, p.w);
    const dense = H.matrix.toArray();
    for (let i = 0; i < n; i++) dense[i * n + i]! += damping;
    expect(relErr(exact, gaussSolve(dense, flattenTensors(b), n))).toBeLessThan(1e-10);
    H.matrix.free();
    const op = secondOrderOperator(p.trainLoss, p.w, p.lam);
    const A = (v: Tensor[]): Tensor[] => vaxpy(op.hvp(v), damping, v);
    // ||I - αA|| < 1 for α < 2 / λmax(A); the error shrinks like (1 - α λmin(A))^k.
    const alpha = 1 / (lmax + damping);
    const rate = 1 - alpha * (lmin + damping);
    const steps = Math.ceil(Math.log(1e-11) / Math.log(rate));
    const neu = await neumannInverseHvp(A, b, { alpha, steps });
    expect(relErr(flat(neu.x), exact)).toBeLessThan(1e-8);
    const few = await neumannInverseHvp(A, b, { alpha, steps: 5 });
    expect(relErr(flat(few.x), exact)).toBeGreaterThan(1e-3); // not converged yet: the test is not trivial
    const cg = await cgInverseHvp(A, b, { steps: n, keepBest: false });
    expect(relErr(flat(cg.x), exact)).toBeLessThan(1e-8);
    expect(cg.hvps).toBeLessThanOrEqual(n);
  });
});

describe('method policy and report', () => {
  it('SPD: Cholesky; indefinite: LU; singular: eigen pseudo-inverse; forced methods', () => {
    const n = 30;
    const spd = Matrix.from(randomSpd(n, 1), n, n);
    const s1 = ExactHessianSolver.create(spd);
    expect(s1.report.method).toBe('cholesky');
    expect(s1.report.negativeEigenvalues).toBe(0);
    const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const x1 = s1.solve(b);
    expect(x1.residual).toBeLessThan(1e-12);
    expect(relErr(x1.x, gaussSolve(spd.toArray(), b, n))).toBeLessThan(1e-12);

    // Indefinite: flip one eigenvalue's sign via A - 2 λ v vᵀ ... simpler: shift the SPD matrix.
    const ind = spd.clone();
    for (let i = 0; i < n; i++) ind.set(i, i, ind.get(i, i) - 1.5);
    const s2 = ExactHessianSolver.create(ind);
    expect(s2.report.method).toBe('ldlt');
    expect(s2.report.inertia!.negative).toBe(s2.report.negativeEigenvalues);
    expect(s2.report.lambdaMin).toBeLessThan(0);
    expect(s2.report.negativeEigenvalues).toBeGreaterThan(0);
    expect(relErr(s2.solve(b).x, gaussSolve(ind.toArray(), b, n))).toBeLessThan(1e-10);
    expect(() => ExactHessianSolver.create(ind, { method: 'cholesky' })).toThrow(NotPositiveDefiniteError);
    // Without the spectrum, auto factors LDLᵀ once (no Cholesky attempt that fails first) and reports the inertia.
    const s2b = ExactHessianSolver.create(ind, { spectrum: 'none' });
    expect(s2b.report.method).toBe('ldlt');
    expect(s2b.report.inertia!.negative).toBe(s2.report.negativeEigenvalues);
    expect(s2b.report.notes.join('; ')).toMatch(/no spectrum: LDLᵀ directly/);
    expect(s2b.report.notes.join('; ')).not.toMatch(/Cholesky failed/);
    expect(s2b.report.spectrumSource).toBe('none');
    expect(relErr(s2b.solve(b).x, gaussSolve(ind.toArray(), b, n))).toBeLessThan(1e-10);
    // A positive definite matrix without the spectrum: LDLᵀ with inertia all positive, the same solution.
    const s1b = ExactHessianSolver.create(spd, { spectrum: 'none' });
    expect(s1b.report.method).toBe('ldlt');
    expect(s1b.report.inertia).toEqual({ positive: n, negative: 0, zero: 0 });
    expect(relErr(s1b.solve(b).x, x1.x)).toBeLessThan(1e-10);
    s1b.free();

    // Singular PSD (rank n-2): the pseudo-inverse, which gives the minimum-norm least-squares solution.
    const ur = randomMatrix(n, n - 2, 5);
    const u = Array.from({ length: n }, (_, i) => Array.from(ur.subarray(i * (n - 2), (i + 1) * (n - 2))));
    const sing = Matrix.zeros(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sing.set(i, j, u[i]!.reduce((s, ui, k) => s + ui * u[j]![k]!, 0));
    const s3 = ExactHessianSolver.create(sing);
    expect(s3.report.method).toBe('eigen');
    expect(s3.report.pseudoInverse).toBe(true);
    expect(s3.report.droppedEigenvalues).toBe(2);
    expect(s3.report.conditionNumber).toBeGreaterThan(1e12);
    // b in the range of the matrix: the pseudo-inverse solves it exactly.
    const bRange = refMatvec(sing.toArray(), b, n, n);
    expect(s3.solve(bRange).residual).toBeLessThan(1e-9);
    // Damping makes it positive definite.
    const s4 = ExactHessianSolver.create(sing, { damping: 1e-3 });
    expect(s4.report.method).toBe('cholesky');
    expect(Math.abs(s4.report.lambdaMin - 1e-3)).toBeLessThan(1e-9);
    // Forced LU on an exactly singular matrix throws; forced eigen on an SPD one is a plain inverse.
    const zero = Matrix.zeros(3, 3);
    expect(() => ExactHessianSolver.create(zero, { method: 'lu' })).toThrow(/singular/);
    expect(() => ExactHessianSolver.create(zero, { method: 'ldlt' })).toThrow(/singular/);
    const s5 = ExactHessianSolver.create(spd, { method: 'eigen' });
    expect(s5.report.pseudoInverse).toBe(false);
    expect(relErr(s5.solve(b).x, x1.x)).toBeLessThan(1e-10);
    // The input matrices were not modified.
    expect(relErr(spd.toArray(), randomSpd(n, 1))).toBe(0);
    [s1, s2, s2b, s3, s4, s5].forEach((s) => s.free());
  });

  it('Lanczos spectrum estimates agree with the exact extremes and condition number', () => {
    const n = 120;
    const a = randomSpd(n, 9);
    for (let i = 0; i < n; i++) a[i * n + i]! -= 1.2; // indefinite, smallest |λ| well inside the spectrum
    const A = Matrix.from(a, n, n);
    const full = ExactHessianSolver.create(A, { spectrum: 'full' }).report;
    const lz = ExactHessianSolver.create(A, { spectrum: 'lanczos', lanczosSteps: 120 }).report;
    expect(lz.spectrumSource).toBe('lanczos');
    expect(lz.method).toBe('ldlt');
    expect(Math.abs(lz.lambdaMin - full.lambdaMin)).toBeLessThan(1e-8);
    expect(Math.abs(lz.lambdaMax - full.lambdaMax)).toBeLessThan(1e-8);
    expect(Math.abs(lz.absLambdaMin - full.absLambdaMin) / full.absLambdaMin).toBeLessThan(1e-6);
    expect(Math.abs(lz.conditionNumber - full.conditionNumber) / full.conditionNumber).toBeLessThan(1e-6);
  });

  it('overwrite: in-place factorisation, residual still measured after Cholesky', () => {
    const n = 20;
    const a = randomSpd(n, 4);
    const A = Matrix.from(a, n, n);
    const s = ExactHessianSolver.create(A, { overwrite: true, spectrum: 'full' });
    expect(s.report.method).toBe('cholesky');
    const b = Float64Array.from({ length: n }, (_, i) => i - 3);
    const r = s.solve(b);
    expect(r.residual).toBeLessThan(1e-13);
    expect(relResidual(a, r.x, b, n)).toBeLessThan(1e-13);
  });

  it('rejects bad input', () => {
    expect(() => ExactHessianSolver.create(Matrix.zeros(2, 3))).toThrow(/square/);
    expect(() => ExactHessianSolver.create(Matrix.identity(2), { damping: -1 })).toThrow(/damping/);
    expect(() => ExactHessianSolver.create(Matrix.identity(2)).solve([1])).toThrow(/length 1, expected 2/);
    // Singular beyond the eigen fallback's size limit: a clear error suggesting damping.
    const n = 30;
    const rank1 = Matrix.zeros(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rank1.set(i, j, (i + 1) * (j + 1));
    expect(() => ExactHessianSolver.create(rank1, { eigenMaxN: 10, spectrum: 'none' })).toThrow(/singular to working precision.*damping/);
  });
});

describe('exact solver: the pseudo-inverse cut and damping, on a diagonal Hessian (from the linalg mutation survivors)', () => {
  it('drops exactly the eigenvalues at or below pinvRtol·max|λ|, says how many, and zeroes their components; damping shifts every eigenvalue', () => {
    const d = [4, 2e-3, -1e-9, 0];
    const H = Matrix.zeros(4, 4);
    d.forEach((v, i) => H.set(i, i, v));
    const b = Float64Array.from([8, 2e-3, 5, 7]);
    const s = ExactHessianSolver.create(H, { method: 'eigen', pinvRtol: 1e-6 });
    expect(s.report.pseudoInverse).toBe(true);
    expect(s.report.droppedEigenvalues).toBe(2);
    expect(s.report.notes).toContain('eigen pseudo-inverse: 2 eigenvalue(s) with |λ| <= 1.00e-6·max|λ| treated as 0');
    const x = s.solve(b).x;
    [2, 1, 0, 0].forEach((want, i) => expect(Math.abs(x[i]! - want)).toBeLessThan(1e-12));
    // A smaller cut keeps -1e-9 and drops only the exact 0.
    const full = ExactHessianSolver.create(H, { method: 'eigen', pinvRtol: 1e-12 });
    expect(full.report.droppedEigenvalues).toBe(1);
    expect(full.report.notes.join('; ')).toMatch(/1 eigenvalue\(s\)/);
    // Damping δ solves (H + δI) x = b on the diagonal, and only there.
    const damped = ExactHessianSolver.create(H, { damping: 0.5 });
    expect(damped.report.method).toBe('cholesky');
    const xd = damped.solve(b).x;
    d.forEach((v, i) => expect(Math.abs(xd[i]! - b[i]! / (v + 0.5))).toBeLessThan(1e-12));
    [s, full, damped].forEach((x) => x.free());
  });
});

describe('exact solver: singular and nearly singular paths, the spectrum mode and its timings (from the linalg mutation survivors)', () => {
  const diag = (d: number[]): Matrix => {
    const H = Matrix.zeros(d.length, d.length);
    d.forEach((v, i) => H.set(i, i, v));
    return H;
  };

  it('auto with the full spectrum: a zero eigenvalue is named with its |λ| and sends the solve to the pseudo-inverse', () => {
    const s = ExactHessianSolver.create(diag([3, -2, 0, 1]));
    expect(s.report.notes[0]).toBe('singular to working precision: smallest |λ| = 0.000e+0');
    expect(s.report.method).toBe('eigen');
    expect(s.report.droppedEigenvalues).toBe(1);
    expect(s.report.inertia).toEqual({ positive: 2, negative: 1, zero: 1 });
    expect(s.report.conditionNumber).toBe(Infinity);
    const x = s.solve(Float64Array.from([3, 4, 9, -1])).x;
    [1, -2, 0, -1].forEach((want, i) => expect(Math.abs(x[i]! - want)).toBeLessThan(1e-14));
    s.free();
  });

  it('auto without a spectrum: LDLᵀ meets the exactly zero pivot, says at which step, and the eigen pseudo-inverse takes over', () => {
    const s = ExactHessianSolver.create(diag([3, -2, 0, 1]), { spectrum: 'none' });
    expect(s.report.notes).toEqual([
      'no spectrum: LDLᵀ directly (it reports the inertia), no Cholesky attempt',
      'LDLᵀ: singular to working precision (an exactly zero pivot at step 3)',
      'eigen pseudo-inverse: 1 eigenvalue(s) with |λ| <= 8.88e-16·max|λ| treated as 0',
    ]);
    expect(s.report.method).toBe('eigen');
    expect(s.report.pseudoInverse).toBe(true);
    s.free();
  });

  it('a nearly singular matrix: forced LDLᵀ solves it and warns with rcond₁; auto treats it as singular below singularRcond', () => {
    // rcond₁ = 1 / (||H||₁ ||H⁻¹||₁) = 1 / (2 · 1e17) = 5e-18, below the default threshold ε = 2.2e-16.
    const H = diag([1, -1e-17, 2]);
    const forced = ExactHessianSolver.create(H, { method: 'ldlt', spectrum: 'none' });
    expect(forced.report.method).toBe('ldlt');
    expect(forced.report.notes).toEqual(['LDLᵀ: nearly singular (rcond₁ ≈ 5.00e-18); the solution is unreliable']);
    expect(forced.report.rcond1! / 5e-18).toBeCloseTo(1, 12);
    expect(forced.solve(Float64Array.from([1, 1e-17, 2])).x[1]).toBeCloseTo(-1, 10);
    // A looser threshold accepts it silently; auto with the default one calls it singular and takes the pseudo-inverse.
    const loose = ExactHessianSolver.create(H, { method: 'ldlt', spectrum: 'none', singularRcond: 1e-20 });
    expect(loose.report.notes).toEqual([]);
    const auto = ExactHessianSolver.create(H, { spectrum: 'none' });
    expect(auto.report.notes[1]).toBe('LDLᵀ: singular to working precision (rcond₁ ≈ 5.00e-18)');
    expect(auto.report.method).toBe('eigen');
    const stricter = ExactHessianSolver.create(diag([1, -1e-10, 2]), { spectrum: 'none', singularRcond: 1e-9 });
    expect(stricter.report.method).toBe('eigen');
    expect(ExactHessianSolver.create(diag([1, -1e-10, 2]), { spectrum: 'none' }).report.method).toBe('ldlt');
    [forced, loose, auto, stricter].forEach((s) => s.free());
  });

  it('spectrum "auto" is the full eigendecomposition up to n = 1000 and Lanczos above; Lanczos steps are capped at n', () => {
    const d = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 + i / n);
    const small = ExactHessianSolver.create(diag(d(5)), { spectrum: 'lanczos' });
    expect(small.report.spectrumSource).toBe('lanczos');
    expect(small.report.notes).toContain('spectrum from 5 Lanczos steps on H + δI and on its inverse (estimates: inner bounds of the extremes)');
    small.free();
    const at = ExactHessianSolver.create(diag(d(1000)), { spectrum: 'auto', method: 'cholesky' });
    expect(at.report.spectrumSource).toBe('eigenvalues');
    at.free();
    const above = ExactHessianSolver.create(diag(d(1001)), { spectrum: 'auto', method: 'cholesky', lanczosSteps: 8 });
    expect(above.report.spectrumSource).toBe('lanczos');
    expect(above.report.notes).toContain('spectrum from 8 Lanczos steps on H + δI and on its inverse (estimates: inner bounds of the extremes)');
    above.free();
  });

  it('spectrum and factor times lie within the wall clock of the call', () => {
    const n = 200;
    const A = Matrix.from(randomSpd(n, 3), n, n);
    for (const spectrum of ['full', 'lanczos', 'none'] as const) {
      const t0 = performance.now();
      const s = ExactHessianSolver.create(A, { spectrum });
      const wall = performance.now() - t0;
      expect(s.report.spectrumMs).toBeGreaterThanOrEqual(0);
      expect(s.report.factorMs).toBeGreaterThan(0);
      expect(s.report.spectrumMs + s.report.factorMs).toBeLessThanOrEqual(wall);
      if (spectrum !== 'none') expect(s.report.spectrumMs).toBeGreaterThan(0);
      s.free();
    }
  });
});
