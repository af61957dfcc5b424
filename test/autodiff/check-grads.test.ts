// The derivative checker itself can fail: a function whose derivative is wrong in forward mode, in reverse mode, only at second order, or that is not finite, is reported by checkGrads with the quantity that failed; and the transforms refuse malformed calls with messages naming what is wrong.
import { describe, expect, it } from 'vitest';
import { checkGrads, GradCheckError } from '../../src/autodiff/check-grads.js';
import { backward } from '../../src/autodiff/backward.js';
import { grad, hvp, jvp, valueAndGrad, variable } from '../../src/autodiff/transforms.js';
import { tensor } from '../../src/core/creation.js';
import { add, detach, div, exp, log, mul, sub, sum } from '../../src/core/ops.js';
import { CpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { withBackend } from '../../src/backend/registry.js';
import type { Tensor } from '../../src/core/tensor.js';

const x64 = (v: number[]): Tensor => tensor(v, [v.length], { dtype: 'float64' });
const xs = () => [x64([0.3, -1.2, 0.8, 2.1])];

/** x³ with the right first derivative 3x² but a wrong (zero) second derivative: the derivative is built from detached x. */
const cubeFirstOrderOnly = ([x]: Tensor[]): Tensor[] => {
  const s = detach(x!);
  return [add(mul(mul(s, s), s), mul(sub(x!, s), mul(mul(s, s), 3)))];
};

describe('checkGrads reports wrong derivatives', () => {
  it('passes a correct function at orders 1 and 2', () => {
    expect(() => checkGrads(([x]) => [mul(mul(x!, x!), x!)], xs(), { order: 2 })).not.toThrow();
  });

  it('forward mode: a derivative cut off from the graph fails the central-difference check', () => {
    // f(x) = x·detach(x): the value x², the derivative detach(x) = x instead of 2x.
    const f = ([x]: Tensor[]) => [mul(x!, detach(x!))];
    expect(() => checkGrads(f, xs(), { modes: ['fwd'] })).toThrow(/jvp vs central difference \(order 1\)/);
    expect(() => checkGrads(f, xs(), { modes: ['fwd'] })).toThrow(GradCheckError);
  });

  it('reverse mode alone: the vjp is compared with the central difference of <u, f>', () => {
    const f = ([x]: Tensor[]) => [mul(x!, detach(x!))];
    expect(() => checkGrads(f, xs(), { modes: ['rev'] })).toThrow(/vjp vs central difference of <u, f> \(order 1\)/);
    // With no mode selected nothing is compared, at first order.
    expect(() => checkGrads(f, xs(), { modes: [] })).not.toThrow();
  });

  it('second order: a first derivative that is right but not differentiable passes order 1 and fails order 2', () => {
    expect(() => checkGrads(cubeFirstOrderOnly, xs(), { order: 1 })).not.toThrow();
    expect(() => checkGrads(cubeFirstOrderOnly, xs(), { order: 2, modes: ['fwd'] })).toThrow(/\(order 1\)/);
    expect(() => checkGrads(cubeFirstOrderOnly, xs(), { order: 2, modes: ['rev'] })).toThrow(GradCheckError);
  });

  it('non-finite derivatives and references are reported with their index, not compared (NaN compares false)', () => {
    // log at a negative point: a finite derivative 1/x, but NaN values, so a NaN central difference.
    expect(() => checkGrads(([x]) => [log(x!)], [x64([1, -1, 2])], { modes: ['fwd'] })).toThrow(/non-finite reference value NaN at 1/);
    // x·(x/x) at 0: 0/0 makes the derivative (and the value) NaN there; the derivative is checked first.
    expect(() => checkGrads(([x]) => [mul(x!, div(x!, x!))], [x64([1, 0, 2])], { modes: ['fwd'] })).toThrow(/non-finite value NaN at 1/);
  });

  it('the tolerance is atol + rtol·|want|: a relative error just above rtol fails, just below passes', () => {
    // f(x) = x·(1 + δ) in value, derivative 1 from the graph (the scale is detached): relative error δ.
    const scaled = (d: number) => ([x]: Tensor[]) => [add(x!, mul(detach(x!), d))];
    expect(() => checkGrads(scaled(2e-3), xs(), { modes: ['fwd'], rtol: 1e-3, atol: 0 })).toThrow(/exceeds 0 \+ 0\.001·\|want\|/);
    expect(() => checkGrads(scaled(5e-4), xs(), { modes: ['fwd'], rtol: 1e-3, atol: 0 })).not.toThrow();
  });
});

describe('the transforms refuse malformed calls', () => {
  it('grad and hvp need a scalar function; jvp and hvp need one tangent per input', () => {
    const x = x64([1, 2]);
    expect(() => grad(([v]) => mul(v!, 2))([x])).toThrow('grad: the function must return a scalar, got');
    expect(() => valueAndGrad(([v]) => mul(v!, 2))([x])).toThrow('the function must return a scalar');
    expect(() => jvp(([v]) => [mul(v!, 2)], [x], [])).toThrow('jvp: 1 primals but 0 tangents');
    expect(() => hvp(([v]) => sum(mul(v!, v!)), [x], [x, x])).toThrow('hvp: 1 weight tensors but 2 direction tensors');
  });

  it('checkGrads needs a function returning an array and a positive finite eps, and says so', () => {
    const x = x64([1, 2]);
    expect(() => checkGrads(([v]) => sum(v!) as unknown as Tensor[], [x])).toThrow('checkGrads: f must return an array of tensors, got one tensor (return [y])');
    expect(() => checkGrads(([v]) => [sum(v!)], [x], { eps: 0 })).toThrow('checkGrads: eps must be a finite number > 0, got 0');
    expect(() => checkGrads(([v]) => [sum(v!)], [x], { eps: NaN })).toThrow('checkGrads: eps must be a finite number > 0, got NaN');
    checkGrads(([v]) => [sum(mul(v!, v!))], [x]);
  });

  it('backward needs one cotangent per output, each of its output\'s shape', () => {
    const x = variable(x64([1, 2, 3]));
    const y = mul(x, x);
    expect(() => backward([y], [], [x])).toThrow('backward: 1 outputs but 0 cotangents');
    expect(() => backward([y], [x64([1, 1])], [x])).toThrow('backward: cotangent 0 has shape [2], output has [3]');
    expect(backward([y], [x64([1, 1, 1])], [x])[0]!.toArray()).toEqual([2, 4, 6]);
  });
});

describe('backward runs rules only between the inputs and the outputs', () => {
  /** Primitives the backend runs while `f` runs. */
  function primsDuring(f: () => unknown): string[] {
    const be = new CpuBackend();
    const seen: string[] = [];
    const run0 = be.run.bind(be);
    be.run = (call, ...rest) => {
      seen.push(call.prim);
      return run0(call, ...rest);
    };
    withBackend(be, () => {
      const setup = f as () => () => unknown;
      const go = setup();
      seen.length = 0;
      go();
    });
    return seen;
  }
  const a = [0.5, -0.25, 1.5], b = [2, 1, -1];

  it('a branch that does not depend on the input runs no rule', () => {
    const both = primsDuring(() => {
      const x = variable(x64(a)), y = variable(x64(b));
      const z = sum(add(mul(exp(x), 2), mul(exp(y), 3)));
      return () => backward([z], [tensor([1], [], { dtype: 'float64' })], [x]);
    });
    const alone = primsDuring(() => {
      const x = variable(x64(a)), y = x64(b);
      const z = sum(add(mul(exp(x), 2), mul(exp(y), 3)));
      return () => backward([z], [tensor([1], [], { dtype: 'float64' })], [x]);
    });
    expect(both).toEqual(alone);
  });

  it('an intermediate taken as the input stops the walk there', () => {
    const through = primsDuring(() => {
      const x = variable(x64(a));
      const h = exp(x);
      const z = sum(mul(h, h));
      return () => backward([z], [tensor([1], [], { dtype: 'float64' })], [h]);
    });
    const fresh = primsDuring(() => {
      const h = variable(x64(a.map(Math.exp)));
      const z = sum(mul(h, h));
      return () => backward([z], [tensor([1], [], { dtype: 'float64' })], [h]);
    });
    expect(through).toEqual(fresh);
  });
});
