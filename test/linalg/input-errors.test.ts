// Every argument check of the dense linear algebra, the Hessian builders and the spectrum tools, with its whole message (what is wrong, the sizes, where): from the linalg mutation survivors.
import { describe, expect, it } from 'vitest';
import { mul, SolverFailure, sum, tensor, type Tensor } from '../../src/index.js';
import {
  Cholesky, denseOperator, eigh, ExactHessianSolver, exactHessian, hessianFromOperator, hessianOperator, lanczos, LDLT, LU, Matrix, matmul,
  matvec, solve, unflattenLike, WasmArray,
} from '../../src/linalg/index.js';

const F64 = { dtype: 'float64' as const };
const throwsExactly = (f: () => unknown, message: string): void => expect(f).toThrow(new Error(message));

describe('dense matrices', () => {
  it('shapes: non-negative integers; from() fills exactly; rows of one length', () => {
    throwsExactly(() => new Matrix(-1, 2), 'Matrix: shape must be non-negative integers, got -1x2');
    throwsExactly(() => new Matrix(2, 1.5), 'Matrix: shape must be non-negative integers, got 2x1.5');
    throwsExactly(() => Matrix.from([1, 2, 3], 2, 2), 'Matrix.from: 3 values do not fill a 2x2 matrix');
    throwsExactly(() => Matrix.from([1, 2, 3]), 'Matrix.from: 3 values do not fill a 2x1.5 matrix');
    throwsExactly(() => Matrix.from([[1, 2], [3]]), 'Matrix.from: row 1 has 1 values, expected 2');
    expect(Matrix.from([1, 2, 3, 4, 5, 6], 2, 3).toNested()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(Matrix.from([]).rows).toBe(0);
  });

  it('factorisations and eigh need a square, live matrix; right-hand sides of the right size', () => {
    const rect = Matrix.zeros(2, 3);
    throwsExactly(() => Cholesky.factor(rect), 'cholesky: expected a square matrix, got 2x3');
    throwsExactly(() => LU.factor(rect), 'lu: expected a square matrix, got 2x3');
    throwsExactly(() => LDLT.factor(rect), 'ldlt: expected a square matrix, got 2x3');
    throwsExactly(() => eigh(rect), 'eigh: expected a square matrix, got 2x3');
    const freed = Matrix.identity(2);
    freed.free();
    throwsExactly(() => Cholesky.factor(freed), 'cholesky: the matrix was freed');
    const spd = Matrix.from([[4, 1], [1, 3]]);
    throwsExactly(() => solve(spd, [1, 2, 3]), 'LU.solve: right-hand side has length 3, expected 2');
    throwsExactly(() => solve(spd, Matrix.zeros(3, 1)), 'LU.solve: right-hand side has 3 rows, expected 2');
    throwsExactly(() => solve(spd, [1, 2, 3], { assume: 'spd' }), 'Cholesky.solve: right-hand side has length 3, expected 2');
    const c = Cholesky.factor(spd);
    throwsExactly(() => c.solveInPlace(Matrix.zeros(3, 2)), 'Cholesky.solveInPlace: 3 rows, expected 2');
    c.free();
  });

  it('matmul and matvec check their dimensions and the accumulate target', () => {
    const a = Matrix.zeros(2, 3);
    const b = Matrix.zeros(2, 4);
    throwsExactly(() => matmul(a, b), 'matmul: inner dimensions differ (2x3 times 2x4)');
    throwsExactly(() => matmul(a, b, { transA: true, out: Matrix.zeros(3, 3) }), 'matmul: out is 3x3, expected 3x4');
    throwsExactly(() => matmul(a, b, { transA: true, accumulate: true }), 'matmul: accumulate needs `out`');
    throwsExactly(() => matvec(a, [1, 2]), 'matvec: x has length 2, expected 3');
    throwsExactly(() => matvec(a, [1, 2, 3], { transpose: true }), 'matvec: x has length 3, expected 2');
    expect(Array.from(matvec(Matrix.from([[1, 2, 3], [4, 5, 6]]), [1, 2], { transpose: true }))).toEqual([9, 12, 15]);
  });

  it('eigh and the exact solver name the first NaN or infinite entry of the lower triangle they read (eigh returned NaN eigenvalues)', () => {
    throwsExactly(() => eigh(Matrix.from([[1, 5, NaN], [2, 3, 4], [0, Infinity, 1]])), 'eigh: entry (2, 1) of the 3x3 matrix is Infinity; a matrix with NaN or infinite entries has no eigenvalues to compute');
    throwsExactly(() => eigh(Matrix.from([[1, 0], [NaN, 2]]), { vectors: false }), 'eigh: entry (1, 0) of the 2x2 matrix is NaN; a matrix with NaN or infinite entries has no eigenvalues to compute');
    // The upper triangle is not read.
    expect(Array.from(eigh(Matrix.from([[2, NaN], [0, 3]]), { vectors: false }).values)).toEqual([2, 3]);
    const solverError = (() => {
      try {
        ExactHessianSolver.create(Matrix.from([[1, 0], [-Infinity, 2]]));
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(solverError).toBeInstanceOf(SolverFailure);
    expect(solverError!.message).toBe("exact solver: the Hessian's entry (1, 0) is -Infinity (of 2x2); nothing can be solved with it");
  });

  it('WasmArray: lengths are non-negative integers, and a freed array is not readable', () => {
    throwsExactly(() => new WasmArray(-3), 'WasmArray: length must be a non-negative integer, got -3');
    throwsExactly(() => new WasmArray(2.5), 'WasmArray: length must be a non-negative integer, got 2.5');
    const a = new WasmArray(4);
    a.view.set([1, 2, 3, 4]);
    expect(Array.from(a.view)).toEqual([1, 2, 3, 4]);
    a.free();
    throwsExactly(() => a.view, 'WasmArray: used after free()');
  });
});

describe('Hessian builders and spectrum tools', () => {
  const w = [tensor([1, 2], [2], F64), tensor([3], [1], F64)];
  const vectorValued = (ws: Tensor[]): Tensor => mul(ws[0]!, ws[0]!);
  const scalar = (ws: Tensor[]): Tensor => sum(mul(ws[0]!, ws[1]!));

  it('need a scalar function of at least one parameter, and operators of the right arity', () => {
    throwsExactly(() => exactHessian(scalar, []), 'exactHessian: no parameters');
    expect(() => exactHessian(vectorValued, w)).toThrow(/^exactHessian: f must return a scalar, got #\d+\[2\]:float64$/);
    expect(() => hessianOperator(vectorValued, w)).toThrow(/^hessianOperator: f must return a scalar, got #\d+\[2\]:float64$/);
    throwsExactly(() => hessianOperator(scalar, w)([w[0]!]), 'hessianOperator: 2 parameter tensors but 1 direction tensors');
    throwsExactly(() => hessianFromOperator(() => [], []), 'hessianFromOperator: no parameters');
    throwsExactly(() => hessianFromOperator((v) => [v[0]!], w), 'hessianFromOperator: the operator returned 1 tensors, expected 2');
    throwsExactly(() => unflattenLike([1, 2], w), 'unflattenLike: 2 values for 3 parameters');
  });

  it('the Hessian of Σ w0·w1: the off-diagonal blocks, with and without symmetrisation', () => {
    // ∂²/∂w0_i∂w1 = 1 for both i; every other entry 0.
    const h = exactHessian(scalar, w);
    expect(h.matrix.toNested()).toEqual([[0, 0, 1], [0, 0, 1], [1, 1, 0]]);
    expect(h.asymmetry).toBe(0);
    const op = hessianOperator(scalar, w);
    const viaOp = hessianFromOperator(op, w);
    expect(viaOp.matrix.toNested()).toEqual([[0, 0, 1], [0, 0, 1], [1, 1, 0]]);
    // An asymmetric operator: (A + Aᵀ)/2 with its relative asymmetry, or A itself when not symmetrised.
    const asym = (v: Tensor[]): Tensor[] => [tensor([0, 0], [2], F64), tensor([2 * v[0]!.dataSync()[0]!], [1], F64)];
    const s = hessianFromOperator(asym, w);
    expect(s.matrix.toNested()).toEqual([[0, 0, 1], [0, 0, 0], [1, 0, 0]]);
    expect(s.asymmetry).toBe(1); // max |a_ij - a_ji| / max |a_ij| = 2 / 2
    const raw = hessianFromOperator(asym, w, { symmetrize: false });
    expect(raw.matrix.get(0, 2) + raw.matrix.get(2, 0)).toBe(2);
    const zero = hessianFromOperator((v) => v.map((t) => mul(t, 0)), w);
    expect(zero.asymmetry).toBe(0);
  });

  it('denseOperator needs a square matrix; lanczos a start vector of length n that is not zero', () => {
    throwsExactly(() => denseOperator(Matrix.zeros(2, 3)), 'denseOperator: expected a square matrix, got 2x3');
    const op = denseOperator(Matrix.from([[2, 0], [0, 3]]));
    throwsExactly(() => lanczos(op, { start: Float64Array.from([1, 2, 3]) }), 'lanczos: start vector has length 3, expected 2');
    throwsExactly(() => lanczos(op, { start: new Float64Array(2) }), 'lanczos: zero start vector');
    expect(Array.from(op.apply(Float64Array.from([1, 1])))).toEqual([2, 3]);
  });
});
