// parseMethod: every valid spec parses to its method, and every unknown, repeated or malformed part is an error naming it.

import { describe, expect, it } from 'vitest';
import { parseMethod, methodLabel } from '../../src/hypergrad/methods.js';

describe('parseMethod: valid specs', () => {
  it.each([
    ['neumann:3', { kind: 'neumann', steps: 3, alpha: 0.1 }],
    ['neumann:0', { kind: 'neumann', steps: 0, alpha: 0.1 }],
    ['neumann:60:alpha=50', { kind: 'neumann', steps: 60, alpha: 50 }],
    [' neumann:3:alpha=0.5 ', { kind: 'neumann', steps: 3, alpha: 0.5 }],
    ['damped-neumann:10', { kind: 'damped-neumann', steps: 10, damping: 1e-3, powerIterations: 10 }],
    ['damped-neumann:10:damping=0.01:power=4', { kind: 'damped-neumann', steps: 10, damping: 0.01, powerIterations: 4 }],
    ['cg:5', { kind: 'cg', steps: 5, ridge: 0, warmStart: false }],
    ['cg:5:ridge=0.01', { kind: 'cg', steps: 5, ridge: 0.01, warmStart: false }],
    ['cg:3:warm', { kind: 'cg', steps: 3, ridge: 0, warmStart: true }],
    ['cg:3:warm:ridge=1e-3', { kind: 'cg', steps: 3, ridge: 1e-3, warmStart: true }],
    ['cg:3:ridge=1e-3:warm', { kind: 'cg', steps: 3, ridge: 1e-3, warmStart: true }],
    ['identity', { kind: 'identity' }],
    ['t1t2', { kind: 't1t2' }],
    ['exact', { kind: 'exact', damping: 0 }],
    ['exact:damping=0.1', { kind: 'exact', damping: 0.1 }],
    ['baseline', { kind: 'baseline', l2: 0 }],
    ['baseline:l2=1e-3', { kind: 'baseline', l2: 1e-3 }],
  ])('%s', (spec, expected) => {
    expect(parseMethod(spec)).toEqual(expected);
  });

  it('labels are unchanged', () => {
    expect(methodLabel(parseMethod('cg:5:ridge=0.01:warm'))).toBe('CG(5, ridge=0.01, warm)');
    expect(methodLabel(parseMethod('neumann:3'))).toBe('Neumann(3, α=0.1)');
  });
});

describe('parseMethod: errors', () => {
  it.each([
    ['neumann:3:alpah=0.5', "method 'neumann:3:alpah=0.5': unknown option 'alpah' (neumann accepts alpha=A)"],
    ['cg:3:warmm', "method 'cg:3:warmm': unknown flag 'warmm' (cg accepts ridge=R, warm)"],
    ['cg:3:damping=1', "method 'cg:3:damping=1': unknown option 'damping' (cg accepts ridge=R, warm)"],
    ['neumann:3:5', "method 'neumann:3:5': unknown flag '5' (neumann accepts alpha=A)"],
    ['neumann:3:warm', "method 'neumann:3:warm': unknown flag 'warm' (neumann accepts alpha=A)"],
    ['neumann:3:', "method 'neumann:3:': empty option (neumann accepts alpha=A)"],
    ['exact:3', "method 'exact:3': unknown flag '3' (exact accepts damping=D)"],
    ['baseline:weight_decay=1', "method 'baseline:weight_decay=1': unknown option 'weight_decay' (baseline accepts l2=C)"],
    ['damped-neumann:10:alpha=1', "method 'damped-neumann:10:alpha=1': unknown option 'alpha' (damped-neumann accepts damping=D, power=P)"],
    ['identity:3', "method 'identity:3': identity takes no options, got '3'"],
    ['t1t2:alpha=1', "method 't1t2:alpha=1': t1t2 takes no options, got 'alpha=1'"],
    ['identity:', "method 'identity:': identity takes no options, got ''"],
    ['identity:a:b', "method 'identity:a:b': identity takes no options, got 'a:b'"],
    ['neumann:3:alpha=0.5:alpha=1', "method 'neumann:3:alpha=0.5:alpha=1': option 'alpha' is given twice"],
    ['cg:3:warm:warm', "method 'cg:3:warm:warm': flag 'warm' is given twice"],
    ['damped-neumann:10:power=2.5', "method 'damped-neumann:10:power=2.5': power must be a positive integer, got '2.5'"],
    ['damped-neumann:10:power=0', "method 'damped-neumann:10:power=0': power must be a positive integer, got '0'"],
    ['damped-neumann:10:power=', "method 'damped-neumann:10:power=': power must be a positive integer, got ''"],
    ['neumann:3:alpha=', "method 'neumann:3:alpha=': alpha must be a non-negative number, got ''"],
    ['neumann:3:alpha=-1', "method 'neumann:3:alpha=-1': alpha must be a non-negative number, got '-1'"],
    ['cg:3:ridge=abc', "method 'cg:3:ridge=abc': ridge must be a non-negative number, got 'abc'"],
    ['neumann', "method 'neumann': the number of steps must be a non-negative integer (e.g. neumann:3)"],
    ['neumann:', "method 'neumann:': the number of steps must be a non-negative integer (e.g. neumann:3), got ''"],
    ['cg:warm', "method 'cg:warm': the number of steps must be a non-negative integer (e.g. cg:3), got 'warm'"],
    ['neumann:2.5', "method 'neumann:2.5': the number of steps must be a non-negative integer (e.g. neumann:3), got '2.5'"],
    ['neumann:alpha=1', "method 'neumann:alpha=1': the number of steps must be a non-negative integer (e.g. neumann:3), got 'alpha=1'"],
  ])('%s', (spec, message) => {
    expect(() => parseMethod(spec)).toThrow(new Error(message));
  });

  it('unknown methods, including Object.prototype names, list the methods', () => {
    for (const spec of ['newton:3', 'constructor', 'toString', '']) {
      expect(() => parseMethod(spec)).toThrow(new Error(
        `unknown hypergradient method '${spec}'; expected neumann:K[:alpha=A] | damped-neumann:K[:damping=D][:power=P] | cg:K[:ridge=R][:warm] | identity | t1t2 | exact[:damping=D] | baseline[:l2=C]`));
    }
  });
});
