// Elementwise kernels over arrays that live in the CPU backend's shared Wasm heap (src/backend/cpu/wasm-heap.ts): binary ops and comparisons (same shape, scalar on either side), neg/sqrt/exp/log, relu and leaky relu with their gradients, and where; float32 and float64, SIMD with a scalar tail.
//
// Every result is the bits the JS loops they replace give (src/backend/cpu/binary.ts, elementwise.ts, relu.ts):
// IEEE add, sub, mul, div and sqrt round once in Wasm; JS computes float32 operands in double and rounds on the
// store, which gives the same float because a double holds 53 >= 2·24 + 2 bits (double rounding is innocuous).
// Comparisons give 1 or 0. exp and log are assembly/math-core.ts's, as in assembly/math.ts, so the same bits as the copy-in path.
// Pointers are byte addresses in the imported memory; arrays are 16-byte aligned.

import { exp2x, log2x } from './math-core';
import {
  EXP_C2, EXP_C3, EXP_C4, EXP_C5, EXP_C6, EXP_INV_LN2, EXP_SHIFTER, LN2F_HI, LN2F_LO, LOG_L1, LOG_L2, LOG_L3,
  exp4f, expK, expOutside, expP, expScaleFast, expT, log4f, logCore, logK, logOffset, logOutside,
} from './math-f32x4';

// Operation codes, shared with src/backend/cpu/wasm-elementwise.ts.
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, GT = 4, GE = 5, LT = 6, LE = 7, EQ = 8, NE = 9;

@inline function vop32(op: i32, x: v128, y: v128): v128 {
  const one = f32x4.splat(1.0);
  if (op == ADD) return f32x4.add(x, y);
  if (op == SUB) return f32x4.sub(x, y);
  if (op == MUL) return f32x4.mul(x, y);
  if (op == DIV) return f32x4.div(x, y);
  if (op == GT) return v128.and(f32x4.gt(x, y), one);
  if (op == GE) return v128.and(f32x4.ge(x, y), one);
  if (op == LT) return v128.and(f32x4.lt(x, y), one);
  if (op == LE) return v128.and(f32x4.le(x, y), one);
  if (op == EQ) return v128.and(f32x4.eq(x, y), one);
  return v128.and(f32x4.ne(x, y), one);
}

@inline function sop32(op: i32, x: f32, y: f32): f32 {
  if (op == ADD) return x + y;
  if (op == SUB) return x - y;
  if (op == MUL) return x * y;
  if (op == DIV) return x / y;
  if (op == GT) return <f32>(x > y);
  if (op == GE) return <f32>(x >= y);
  if (op == LT) return <f32>(x < y);
  if (op == LE) return <f32>(x <= y);
  if (op == EQ) return <f32>(x == y);
  return <f32>(x != y);
}

@inline function vop64(op: i32, x: v128, y: v128): v128 {
  const one = f64x2.splat(1.0);
  if (op == ADD) return f64x2.add(x, y);
  if (op == SUB) return f64x2.sub(x, y);
  if (op == MUL) return f64x2.mul(x, y);
  if (op == DIV) return f64x2.div(x, y);
  if (op == GT) return v128.and(f64x2.gt(x, y), one);
  if (op == GE) return v128.and(f64x2.ge(x, y), one);
  if (op == LT) return v128.and(f64x2.lt(x, y), one);
  if (op == LE) return v128.and(f64x2.le(x, y), one);
  if (op == EQ) return v128.and(f64x2.eq(x, y), one);
  return v128.and(f64x2.ne(x, y), one);
}

@inline function sop64(op: i32, x: f64, y: f64): f64 {
  if (op == ADD) return x + y;
  if (op == SUB) return x - y;
  if (op == MUL) return x * y;
  if (op == DIV) return x / y;
  if (op == GT) return <f64>(x > y);
  if (op == GE) return <f64>(x >= y);
  if (op == LT) return <f64>(x < y);
  if (op == LE) return <f64>(x <= y);
  if (op == EQ) return <f64>(x == y);
  return <f64>(x != y);
}

// mode 0: out[i] = a[i] op b[i]; 1: out[i] = a[i] op b[0]; 2: out[i] = a[0] op b[i].
@inline function loop32(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  const sa = f32x4.splat(load<f32>(a)), sb = f32x4.splat(load<f32>(b));
  let i = 0;
  // 16 floats per step: four independent vectors, a quarter of the loop overhead.
  // Loads before stores: out may be a or b (in place), so the engine cannot move a load above an earlier store.
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const x0 = mode == 2 ? sa : v128.load(a + o), y0 = mode == 1 ? sb : v128.load(b + o);
    const x1 = mode == 2 ? sa : v128.load(a + o, 16), y1 = mode == 1 ? sb : v128.load(b + o, 16);
    const x2 = mode == 2 ? sa : v128.load(a + o, 32), y2 = mode == 1 ? sb : v128.load(b + o, 32);
    const x3 = mode == 2 ? sa : v128.load(a + o, 48), y3 = mode == 1 ? sb : v128.load(b + o, 48);
    v128.store(out + o, vop32(op, x0, y0));
    v128.store(out + o, vop32(op, x1, y1), 16);
    v128.store(out + o, vop32(op, x2, y2), 32);
    v128.store(out + o, vop32(op, x3, y3), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const x = mode == 2 ? sa : v128.load(a + o);
    const y = mode == 1 ? sb : v128.load(b + o);
    v128.store(out + o, vop32(op, x, y));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, sop32(op, load<f32>(mode == 2 ? a : a + o), load<f32>(mode == 1 ? b : b + o)));
  }
}

@inline function loop64(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  const sa = f64x2.splat(load<f64>(a)), sb = f64x2.splat(load<f64>(b));
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 3;
    const x0 = mode == 2 ? sa : v128.load(a + o), y0 = mode == 1 ? sb : v128.load(b + o);
    const x1 = mode == 2 ? sa : v128.load(a + o, 16), y1 = mode == 1 ? sb : v128.load(b + o, 16);
    const x2 = mode == 2 ? sa : v128.load(a + o, 32), y2 = mode == 1 ? sb : v128.load(b + o, 32);
    const x3 = mode == 2 ? sa : v128.load(a + o, 48), y3 = mode == 1 ? sb : v128.load(b + o, 48);
    v128.store(out + o, vop64(op, x0, y0));
    v128.store(out + o, vop64(op, x1, y1), 16);
    v128.store(out + o, vop64(op, x2, y2), 32);
    v128.store(out + o, vop64(op, x3, y3), 48);
  }
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const x = mode == 2 ? sa : v128.load(a + o);
    const y = mode == 1 ? sb : v128.load(b + o);
    v128.store(out + o, vop64(op, x, y));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(out + o, sop64(op, load<f64>(mode == 2 ? a : a + o), load<f64>(mode == 1 ? b : b + o)));
  }
}

@inline function modes32(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  if (mode == 0) loop32(op, 0, a, b, out, n);
  else if (mode == 1) loop32(op, 1, a, b, out, n);
  else loop32(op, 2, a, b, out, n);
}

@inline function modes64(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  if (mode == 0) loop64(op, 0, a, b, out, n);
  else if (mode == 1) loop64(op, 1, a, b, out, n);
  else loop64(op, 2, a, b, out, n);
}

// One exported function per operation (and per rectifier, unary op and smooth kind below): binaryen inlines a
// function used once into its caller unless it is exported, and V8 compiled the one big dispatcher that resulted
// (thirty loops) to code 2-3x slower per element than the same loop in a function of its own (measured: mul over
// 623k floats 0.26-0.45 vs 0.14 ns/el). The dispatchers only pick one.
export function binAddF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(ADD, mode, a, b, out, n); }
export function binSubF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(SUB, mode, a, b, out, n); }
export function binMulF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(MUL, mode, a, b, out, n); }
export function binDivF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(DIV, mode, a, b, out, n); }
export function binGtF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(GT, mode, a, b, out, n); }
export function binGeF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(GE, mode, a, b, out, n); }
export function binLtF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(LT, mode, a, b, out, n); }
export function binLeF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(LE, mode, a, b, out, n); }
export function binEqF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(EQ, mode, a, b, out, n); }
export function binNeF32(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes32(NE, mode, a, b, out, n); }

/** out = a op b over n floats (op: ADD..NE above; mode: 0 same shape, 1 b is a scalar, 2 a is a scalar). */
export function binaryF32(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  switch (op) {
    case ADD: binAddF32(mode, a, b, out, n); break;
    case SUB: binSubF32(mode, a, b, out, n); break;
    case MUL: binMulF32(mode, a, b, out, n); break;
    case DIV: binDivF32(mode, a, b, out, n); break;
    case GT: binGtF32(mode, a, b, out, n); break;
    case GE: binGeF32(mode, a, b, out, n); break;
    case LT: binLtF32(mode, a, b, out, n); break;
    case LE: binLeF32(mode, a, b, out, n); break;
    case EQ: binEqF32(mode, a, b, out, n); break;
    default: binNeF32(mode, a, b, out, n);
  }
}

export function binAddF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(ADD, mode, a, b, out, n); }
export function binSubF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(SUB, mode, a, b, out, n); }
export function binMulF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(MUL, mode, a, b, out, n); }
export function binDivF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(DIV, mode, a, b, out, n); }
export function binGtF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(GT, mode, a, b, out, n); }
export function binGeF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(GE, mode, a, b, out, n); }
export function binLtF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(LT, mode, a, b, out, n); }
export function binLeF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(LE, mode, a, b, out, n); }
export function binEqF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(EQ, mode, a, b, out, n); }
export function binNeF64(mode: i32, a: usize, b: usize, out: usize, n: i32): void { modes64(NE, mode, a, b, out, n); }

/** binaryF32 for doubles. */
export function binaryF64(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32): void {
  switch (op) {
    case ADD: binAddF64(mode, a, b, out, n); break;
    case SUB: binSubF64(mode, a, b, out, n); break;
    case MUL: binMulF64(mode, a, b, out, n); break;
    case DIV: binDivF64(mode, a, b, out, n); break;
    case GT: binGtF64(mode, a, b, out, n); break;
    case GE: binGeF64(mode, a, b, out, n); break;
    case LT: binLtF64(mode, a, b, out, n); break;
    case LE: binLeF64(mode, a, b, out, n); break;
    case EQ: binEqF64(mode, a, b, out, n); break;
    default: binNeF64(mode, a, b, out, n);
  }
}

// Unary codes: 0 neg, 1 sqrt, 2 exp, 3 log.

/** exp or log of four floats, exactly as assembly/math.ts's expF32 / logF32 compute them (in float32x4 lanes). */
@inline function explog32(log: bool, v: v128): v128 {
  return log ? log4f(v) : exp4f(v);
}

/** The vectors after an exp/log pass's last step of 16, one at a time, the last partial one copied to out and transformed there in place. */
@inline function tail32(log: bool, x: usize, out: usize, i: i32, n: i32): void {
  for (; i < n; i += 4) {
    const o = <usize>i << 2;
    if (i + 4 > n) memory.copy(out + o, x + o, <usize>(n - i) << 2);
    v128.store(out + o, explog32(log, v128.load(i + 4 > n ? out + o : x + o)));
  }
}

/**
 * out = exp(x) over n floats, sixteen per step in four independent chains (for the CPU to overlap) with the constants
 * in registers. A step where any lane leaves the fast path (a result that is not a normal float, NaN, |x| past 2^22)
 * is redone with exp4f, whose bits on the other lanes are the fast path's. The last partial vector is copied to out
 * and transformed there in place: out must own its bytes up to the next multiple of 16 (every heap block does; the
 * lanes past n are scratch).
 */
export function expF32(x: usize, out: usize, n: i32): void {
  const inv = EXP_INV_LN2, sh = EXP_SHIFTER, hi = LN2F_HI, lo = LN2F_LO;
  const c2 = EXP_C2, c3 = EXP_C3, c4 = EXP_C4, c5 = EXP_C5, c6 = EXP_C6;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(x + o), b = v128.load(x + o, 16), c = v128.load(x + o, 32), d = v128.load(x + o, 48);
    const ta = expT(a, inv, sh), tb = expT(b, inv, sh), tc = expT(c, inv, sh), td = expT(d, inv, sh);
    const ka = expK(ta, sh), kb = expK(tb, sh), kc = expK(tc, sh), kd = expK(td, sh);
    if (v128.any_true(v128.or(v128.or(expOutside(ka), expOutside(kb)), v128.or(expOutside(kc), expOutside(kd))))) {
      v128.store(out + o, exp4f(a));
      v128.store(out + o, exp4f(b), 16);
      v128.store(out + o, exp4f(c), 32);
      v128.store(out + o, exp4f(d), 48);
      continue;
    }
    v128.store(out + o, expScaleFast(expP(a, ta, sh, hi, lo, c2, c3, c4, c5, c6), ka));
    v128.store(out + o, expScaleFast(expP(b, tb, sh, hi, lo, c2, c3, c4, c5, c6), kb), 16);
    v128.store(out + o, expScaleFast(expP(c, tc, sh, hi, lo, c2, c3, c4, c5, c6), kc), 32);
    v128.store(out + o, expScaleFast(expP(d, td, sh, hi, lo, c2, c3, c4, c5, c6), kd), 48);
  }
  tail32(false, x, out, i, n);
}

/** out = log(x) over n floats, as expF32: four chains; a step with any lane not a positive normal float is redone with log4f. */
export function logF32(x: usize, out: usize, n: i32): void {
  const hi = LN2F_HI, lo = LN2F_LO, l1 = LOG_L1, l2 = LOG_L2, l3 = LOG_L3;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(x + o), b = v128.load(x + o, 16), c = v128.load(x + o, 32), d = v128.load(x + o, 48);
    if (v128.any_true(v128.or(v128.or(logOutside(a), logOutside(b)), v128.or(logOutside(c), logOutside(d))))) {
      v128.store(out + o, log4f(a));
      v128.store(out + o, log4f(b), 16);
      v128.store(out + o, log4f(c), 32);
      v128.store(out + o, log4f(d), 48);
      continue;
    }
    const ua = logOffset(a), ub = logOffset(b), uc = logOffset(c), ud = logOffset(d);
    v128.store(out + o, logCore(ua, logK(ua), hi, lo, l1, l2, l3));
    v128.store(out + o, logCore(ub, logK(ub), hi, lo, l1, l2, l3), 16);
    v128.store(out + o, logCore(uc, logK(uc), hi, lo, l1, l2, l3), 32);
    v128.store(out + o, logCore(ud, logK(ud), hi, lo, l1, l2, l3), 48);
  }
  tail32(true, x, out, i, n);
}

/** exp or log over n doubles: four per step, the last odd one through out's block. */
@inline function explogF64(log: bool, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 3;
    const a = v128.load(x + o), b = v128.load(x + o, 16);
    v128.store(out + o, log ? log2x(a) : exp2x(a));
    v128.store(out + o, log ? log2x(b) : exp2x(b), 16);
  }
  for (; i < n; i += 2) {
    const o = <usize>i << 3;
    if (i + 2 > n) memory.copy(out + o, x + o, 8);
    const v = v128.load(i + 2 > n ? out + o : x + o);
    v128.store(out + o, log ? log2x(v) : exp2x(v));
  }
}

/** out = -x (op 0) or sqrt(x) (op 1) over n floats. */
@inline function negSqrt32(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, op == 0 ? f32x4.neg(v) : f32x4.sqrt(v));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, op == 0 ? -v : sqrt<f32>(v));
  }
}

/** negSqrt32 for doubles. */
@inline function negSqrt64(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const v = v128.load(x + o);
    v128.store(out + o, op == 0 ? f64x2.neg(v) : f64x2.sqrt(v));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(x + o);
    store<f64>(out + o, op == 0 ? -v : sqrt<f64>(v));
  }
}

export function negF32(x: usize, out: usize, n: i32): void { negSqrt32(0, x, out, n); }
export function sqrtF32(x: usize, out: usize, n: i32): void { negSqrt32(1, x, out, n); }
export function negF64(x: usize, out: usize, n: i32): void { negSqrt64(0, x, out, n); }
export function sqrtF64(x: usize, out: usize, n: i32): void { negSqrt64(1, x, out, n); }
export function expF64(x: usize, out: usize, n: i32): void { explogF64(false, x, out, n); }
export function logF64(x: usize, out: usize, n: i32): void { explogF64(true, x, out, n); }

/** out = op(x) over n floats (0 neg, 1 sqrt, 2 exp, 3 log; exp and log: see expF32 for what out must own). */
export function unaryF32(op: i32, x: usize, out: usize, n: i32): void {
  if (op == 0) negF32(x, out, n);
  else if (op == 1) sqrtF32(x, out, n);
  else if (op == 2) expF32(x, out, n);
  else logF32(x, out, n);
}

/** unaryF32 for doubles. */
export function unaryF64(op: i32, x: usize, out: usize, n: i32): void {
  if (op == 0) negF64(x, out, n);
  else if (op == 1) sqrtF64(x, out, n);
  else if (op == 2) expF64(x, out, n);
  else logF64(x, out, n);
}

/**
 * Rectifiers, float32. kind 0: out = x·[x > 0]; 1: out = g·[x > 0] (g at `g`); 2: out = x·s(x), s = 1 for x > 0
 * else slope; 3: out = g·s(x) + 0 (the + 0 turns -0 into +0, as the JS kernels do).
 */
@inline function rectify32(kind: i32, x: usize, g: usize, slope: f32, out: usize, n: i32): void {
  const one = f32x4.splat(1.0), sl = f32x4.splat(slope), zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const pos = f32x4.gt(v, zero);
    let r: v128;
    if (kind == 0) r = f32x4.mul(v, v128.and(pos, one));
    else if (kind == 1) r = f32x4.mul(v128.load(g + o), v128.and(pos, one));
    else if (kind == 2) r = f32x4.mul(v, v128.bitselect(one, sl, pos));
    else r = f32x4.add(f32x4.mul(v128.load(g + o), v128.bitselect(one, sl, pos)), zero);
    v128.store(out + o, r);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    const s: f32 = v > 0 ? 1.0 : (kind >= 2 ? slope : 0.0);
    let r: f32;
    if (kind == 0 || kind == 2) r = v * s;
    else if (kind == 1) r = load<f32>(g + o) * s;
    else r = load<f32>(g + o) * s + 0.0;
    store<f32>(out + o, r);
  }
}

/** rectify32 for doubles. */
@inline function rectify64(kind: i32, x: usize, g: usize, slope: f64, out: usize, n: i32): void {
  const one = f64x2.splat(1.0), sl = f64x2.splat(slope), zero = f64x2.splat(0.0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const v = v128.load(x + o);
    const pos = f64x2.gt(v, zero);
    let r: v128;
    if (kind == 0) r = f64x2.mul(v, v128.and(pos, one));
    else if (kind == 1) r = f64x2.mul(v128.load(g + o), v128.and(pos, one));
    else if (kind == 2) r = f64x2.mul(v, v128.bitselect(one, sl, pos));
    else r = f64x2.add(f64x2.mul(v128.load(g + o), v128.bitselect(one, sl, pos)), zero);
    v128.store(out + o, r);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(x + o);
    const s: f64 = v > 0 ? 1.0 : (kind >= 2 ? slope : 0.0);
    let r: f64;
    if (kind == 0 || kind == 2) r = v * s;
    else if (kind == 1) r = load<f64>(g + o) * s;
    else r = load<f64>(g + o) * s + 0.0;
    store<f64>(out + o, r);
  }
}

export function reluF32(x: usize, g: usize, slope: f32, out: usize, n: i32): void { rectify32(0, x, g, slope, out, n); }
export function reluGradF32(x: usize, g: usize, slope: f32, out: usize, n: i32): void { rectify32(1, x, g, slope, out, n); }
export function leakyF32(x: usize, g: usize, slope: f32, out: usize, n: i32): void { rectify32(2, x, g, slope, out, n); }
export function leakyGradF32(x: usize, g: usize, slope: f32, out: usize, n: i32): void { rectify32(3, x, g, slope, out, n); }
export function reluF64(x: usize, g: usize, slope: f64, out: usize, n: i32): void { rectify64(0, x, g, slope, out, n); }
export function reluGradF64(x: usize, g: usize, slope: f64, out: usize, n: i32): void { rectify64(1, x, g, slope, out, n); }
export function leakyF64(x: usize, g: usize, slope: f64, out: usize, n: i32): void { rectify64(2, x, g, slope, out, n); }
export function leakyGradF64(x: usize, g: usize, slope: f64, out: usize, n: i32): void { rectify64(3, x, g, slope, out, n); }

/** Rectifier `kind` (see rectify32) over n floats. */
export function rectifyF32(kind: i32, x: usize, g: usize, slope: f32, out: usize, n: i32): void {
  if (kind == 0) reluF32(x, g, slope, out, n);
  else if (kind == 1) reluGradF32(x, g, slope, out, n);
  else if (kind == 2) leakyF32(x, g, slope, out, n);
  else leakyGradF32(x, g, slope, out, n);
}

/** rectifyF32 for doubles. */
export function rectifyF64(kind: i32, x: usize, g: usize, slope: f64, out: usize, n: i32): void {
  if (kind == 0) reluF64(x, g, slope, out, n);
  else if (kind == 1) reluGradF64(x, g, slope, out, n);
  else if (kind == 2) leakyF64(x, g, slope, out, n);
  else leakyGradF64(x, g, slope, out, n);
}

/** out[i] = c[i] != 0 ? a[i] : b[i] over n floats of one size (c of the same dtype; NaN counts as true). */
export function where32(c: usize, a: usize, b: usize, out: usize, n: i32): void {
  const zero = f32x4.splat(0.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, v128.bitselect(v128.load(a + o), v128.load(b + o), f32x4.ne(v128.load(c + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(c + o) != 0 ? load<f32>(a + o) : load<f32>(b + o));
  }
}

/** where32 for doubles. */
export function where64(c: usize, a: usize, b: usize, out: usize, n: i32): void {
  const zero = f64x2.splat(0.0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, v128.bitselect(v128.load(a + o), v128.load(b + o), f64x2.ne(v128.load(c + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(out + o, load<f64>(c + o) != 0 ? load<f64>(a + o) : load<f64>(b + o));
  }
}

// Smooth activations, kinds shared with src/backend/cpu/wasm-elementwise.ts: the composites' steps fused into one pass,
// each step rounded as its primitive rounds it (IEEE float ops, exp/log as above), so the composites' bits.
const SOFTPLUS = 0;

/** −|x| as the composites form it: neg(where(x < 0, −x, x)). */
@inline function negAbs32(v: v128): v128 {
  return f32x4.neg(v128.bitselect(f32x4.neg(v), v, f32x4.lt(v, f32x4.splat(0.0))));
}

/** softplus's last step from x, ge = [x ≥ 0] (a lane mask) and log(z + 1): (x ≥ 0 ? x : +0) + log(z + 1). */
@inline function softplusFrom32(v: v128, ge: v128, logD: v128): v128 {
  return f32x4.add(v128.and(v, ge), logD);
}

/** σ's last step from z = e^{−|x|}, d = z + 1 and ge: ([x ≥ 0] ? 1 : z)/d (one division: the composite's where(x ≥ 0, 1/d, z/d) picks the same quotient). */
@inline function sigmoidFrom32(z: v128, d: v128, ge: v128): v128 {
  return f32x4.div(v128.bitselect(f32x4.splat(1.0), z, ge), d);
}

/** negAbs32, softplusFrom32 and sigmoidFrom32 on two doubles (σ as the composite's where of two quotients). */
@inline function negAbs64(v: v128): v128 {
  return f64x2.neg(v128.bitselect(f64x2.neg(v), v, f64x2.lt(v, f64x2.splat(0.0))));
}

@inline function softplusFrom64(v: v128, ge: v128, logD: v128): v128 {
  return f64x2.add(v128.and(v, ge), logD);
}

@inline function sigmoidFrom64(z: v128, d: v128, ge: v128): v128 {
  const one = f64x2.splat(1.0);
  return v128.bitselect(f64x2.div(one, d), f64x2.div(z, d), ge);
}

/** softplus or σ from x and z = e^{−|x|}, with log's fast path: z + 1 must be a positive normal float. */
@inline function smoothFinish(kind: i32, v: v128, z: v128, hi: v128, lo: v128, l1: v128, l2: v128, l3: v128): v128 {
  const d = f32x4.add(z, f32x4.splat(1.0));
  const ge = f32x4.ge(v, f32x4.splat(0.0));
  if (kind == SOFTPLUS) {
    const u = logOffset(d);
    return softplusFrom32(v, ge, logCore(u, logK(u), hi, lo, l1, l2, l3));
  }
  return sigmoidFrom32(z, d, ge);
}

/** softplus = x·[x ≥ 0] + log(e^{−|x|} + 1) or σ = [x ≥ 0] ? 1/(1 + z) : z/(1 + z), z = e^{−|x|}, on four floats, every input. */
@inline function smooth32(kind: i32, v: v128): v128 {
  const z = exp4f(negAbs32(v));
  const d = f32x4.add(z, f32x4.splat(1.0));
  const ge = f32x4.ge(v, f32x4.splat(0.0));
  return kind == SOFTPLUS ? softplusFrom32(v, ge, log4f(d)) : sigmoidFrom32(z, d, ge);
}

/** smooth32 on two doubles. */
@inline function smooth64(kind: i32, v: v128): v128 {
  const z = exp2x(negAbs64(v));
  const d = f64x2.add(z, f64x2.splat(1.0));
  const ge = f64x2.ge(v, f64x2.splat(0.0));
  return kind == SOFTPLUS ? softplusFrom64(v, ge, log2x(d)) : sigmoidFrom64(z, d, ge);
}

/**
 * out = softplus(x) (kind 0) or σ(x) (kind 1) over n floats: sixteen per step in four chains with the constants in
 * registers, as expF32. Where e^{−|x|} is a normal float (|x| below about 86.9, not NaN) the exponential takes exp's
 * fast path and z + 1 (in (1, 2]) log's; a step with any other lane is redone with smooth32. The last partial vector
 * goes through out's block, as in expF32.
 */
@inline function smoothRun32(kind: i32, x: usize, out: usize, n: i32): void {
  const inv = EXP_INV_LN2, sh = EXP_SHIFTER, hi = LN2F_HI, lo = LN2F_LO;
  const c2 = EXP_C2, c3 = EXP_C3, c4 = EXP_C4, c5 = EXP_C5, c6 = EXP_C6, l1 = LOG_L1, l2 = LOG_L2, l3 = LOG_L3;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(x + o), b = v128.load(x + o, 16), c = v128.load(x + o, 32), d = v128.load(x + o, 48);
    const ea = negAbs32(a), eb = negAbs32(b), ec = negAbs32(c), ed = negAbs32(d);
    const ta = expT(ea, inv, sh), tb = expT(eb, inv, sh), tc = expT(ec, inv, sh), td = expT(ed, inv, sh);
    const ka = expK(ta, sh), kb = expK(tb, sh), kc = expK(tc, sh), kd = expK(td, sh);
    if (v128.any_true(v128.or(v128.or(expOutside(ka), expOutside(kb)), v128.or(expOutside(kc), expOutside(kd))))) {
      v128.store(out + o, smooth32(kind, a));
      v128.store(out + o, smooth32(kind, b), 16);
      v128.store(out + o, smooth32(kind, c), 32);
      v128.store(out + o, smooth32(kind, d), 48);
      continue;
    }
    const za = expScaleFast(expP(ea, ta, sh, hi, lo, c2, c3, c4, c5, c6), ka);
    const zb = expScaleFast(expP(eb, tb, sh, hi, lo, c2, c3, c4, c5, c6), kb);
    const zc = expScaleFast(expP(ec, tc, sh, hi, lo, c2, c3, c4, c5, c6), kc);
    const zd = expScaleFast(expP(ed, td, sh, hi, lo, c2, c3, c4, c5, c6), kd);
    v128.store(out + o, smoothFinish(kind, a, za, hi, lo, l1, l2, l3));
    v128.store(out + o, smoothFinish(kind, b, zb, hi, lo, l1, l2, l3), 16);
    v128.store(out + o, smoothFinish(kind, c, zc, hi, lo, l1, l2, l3), 32);
    v128.store(out + o, smoothFinish(kind, d, zd, hi, lo, l1, l2, l3), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, smooth32(kind, v128.load(x + o)));
  }
  if (i < n) {
    const o = <usize>i << 2;
    memory.copy(out + o, x + o, <usize>(n - i) << 2);
    v128.store(out + o, smooth32(kind, v128.load(out + o)));
  }
}

/** smoothRun32 for doubles. */
@inline function smoothRun64(kind: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    v128.store(out + o, smooth64(kind, v128.load(x + o)));
  }
  if (i < n) {
    const o = <usize>i << 3;
    memory.copy(out + o, x + o, 8);
    v128.store(out + o, smooth64(kind, v128.load(out + o)));
  }
}

export function softplusF32(x: usize, out: usize, n: i32): void { smoothRun32(SOFTPLUS, x, out, n); }
export function sigmoidF32(x: usize, out: usize, n: i32): void { smoothRun32(1, x, out, n); }
export function softplusF64(x: usize, out: usize, n: i32): void { smoothRun64(SOFTPLUS, x, out, n); }
export function sigmoidF64(x: usize, out: usize, n: i32): void { smoothRun64(1, x, out, n); }

/** out = softplus(x) (kind 0) or σ(x) (kind 1) over n floats (see smoothRun32). */
export function smoothF32(kind: i32, x: usize, out: usize, n: i32): void {
  if (kind == SOFTPLUS) softplusF32(x, out, n);
  else sigmoidF32(x, out, n);
}

/** smoothF32 for doubles. */
export function smoothF64(kind: i32, x: usize, out: usize, n: i32): void {
  if (kind == SOFTPLUS) softplusF64(x, out, n);
  else sigmoidF64(x, out, n);
}

// The L2 meta-knowledge's softplus terms (src/hypergrad/softplus-terms.ts) in one pass, each value rounded as the
// composites round it: c = (s·s)·2 and dc = (s·σ(λ))·4 with s = softplus(λ), where softplus and σ share z = e^{−|λ|}.

/** c, dc of four floats from λ, z = e^{−|λ|} and log(z + 1), stored at offset o of the two outputs. */
@inline function storeTerms32(v: v128, z: v128, logD: v128, c: usize, dc: usize, o: usize): void {
  const ge = f32x4.ge(v, f32x4.splat(0.0));
  const sp = softplusFrom32(v, ge, logD);
  const sg = sigmoidFrom32(z, f32x4.add(z, f32x4.splat(1.0)), ge);
  v128.store(c + o, f32x4.mul(f32x4.mul(sp, sp), f32x4.splat(2.0)));
  v128.store(dc + o, f32x4.mul(f32x4.mul(sp, sg), f32x4.splat(4.0)));
}

/** storeTerms32 for every input (the full exp and log). */
@inline function terms32(v: v128, c: usize, dc: usize, o: usize): void {
  const z = exp4f(negAbs32(v));
  storeTerms32(v, z, log4f(f32x4.add(z, f32x4.splat(1.0))), c, dc, o);
}

/** The fast-path terms of four floats whose exponent k lies on exp's fast path (see softplusTermsF32). */
@inline function fastTerms32(
  v: v128, e: v128, t: v128, k: v128, c: usize, dc: usize, o: usize,
  sh: v128, hi: v128, lo: v128, c2: v128, c3: v128, c4: v128, c5: v128, c6: v128, l1: v128, l2: v128, l3: v128,
): void {
  const z = expScaleFast(expP(e, t, sh, hi, lo, c2, c3, c4, c5, c6), k);
  const u = logOffset(f32x4.add(z, f32x4.splat(1.0)));
  storeTerms32(v, z, logCore(u, logK(u), hi, lo, l1, l2, l3), c, dc, o);
}

/**
 * c, dc over n floats (see above): sixteen per step in four independent chains on exp's and log's fast paths
 * (z + 1 lies in [1, 2], always on log's), a step with a lane off exp's redone in full; then four per step; the
 * tail through the outputs' blocks.
 */
export function softplusTermsF32(x: usize, c: usize, dc: usize, n: i32): void {
  const inv = EXP_INV_LN2, sh = EXP_SHIFTER, hi = LN2F_HI, lo = LN2F_LO;
  const c2 = EXP_C2, c3 = EXP_C3, c4 = EXP_C4, c5 = EXP_C5, c6 = EXP_C6, l1 = LOG_L1, l2 = LOG_L2, l3 = LOG_L3;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a = v128.load(x + o), b = v128.load(x + o, 16), cc = v128.load(x + o, 32), d = v128.load(x + o, 48);
    const ea = negAbs32(a), eb = negAbs32(b), ec = negAbs32(cc), ed = negAbs32(d);
    const ta = expT(ea, inv, sh), tb = expT(eb, inv, sh), tc = expT(ec, inv, sh), td = expT(ed, inv, sh);
    const ka = expK(ta, sh), kb = expK(tb, sh), kc = expK(tc, sh), kd = expK(td, sh);
    if (v128.any_true(v128.or(v128.or(expOutside(ka), expOutside(kb)), v128.or(expOutside(kc), expOutside(kd))))) {
      terms32(a, c, dc, o);
      terms32(b, c, dc, o + 16);
      terms32(cc, c, dc, o + 32);
      terms32(d, c, dc, o + 48);
      continue;
    }
    fastTerms32(a, ea, ta, ka, c, dc, o, sh, hi, lo, c2, c3, c4, c5, c6, l1, l2, l3);
    fastTerms32(b, eb, tb, kb, c, dc, o + 16, sh, hi, lo, c2, c3, c4, c5, c6, l1, l2, l3);
    fastTerms32(cc, ec, tc, kc, c, dc, o + 32, sh, hi, lo, c2, c3, c4, c5, c6, l1, l2, l3);
    fastTerms32(d, ed, td, kd, c, dc, o + 48, sh, hi, lo, c2, c3, c4, c5, c6, l1, l2, l3);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    terms32(v128.load(x + o), c, dc, o);
  }
  if (i < n) {
    const o = <usize>i << 2;
    // The last partial vector: λ copied into c's block first (c is written after it is read).
    memory.copy(c + o, x + o, <usize>(n - i) << 2);
    terms32(v128.load(c + o), c, dc, o);
  }
}

/** softplusTermsF32 for doubles, two per step. */
export function softplusTermsF64(x: usize, c: usize, dc: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const o = <usize>i << 3;
    if (i + 2 > n) memory.copy(c + o, x + o, 8);
    const v = v128.load(i + 2 > n ? c + o : x + o);
    const z = exp2x(negAbs64(v));
    const d = f64x2.add(z, f64x2.splat(1.0));
    const ge = f64x2.ge(v, f64x2.splat(0.0));
    const sp = softplusFrom64(v, ge, log2x(d));
    const sg = sigmoidFrom64(z, d, ge);
    v128.store(c + o, f64x2.mul(f64x2.mul(sp, sp), f64x2.splat(2.0)));
    v128.store(dc + o, f64x2.mul(f64x2.mul(sp, sg), f64x2.splat(4.0)));
  }
}

/**
 * out[0..n) = v over n floats: a byte fill where v is +0 (all bits zero), else 16 floats per step. V8 fills a typed
 * array over shared memory one relaxed atomic store at a time (0.28 ns per float against 0.07 unshared), so the heap's
 * fills come here.
 */
export function fillF32(out: usize, v: f32, n: i32): void {
  if (reinterpret<u32>(v) == 0) {
    memory.fill(out, 0, <usize>n << 2);
    return;
  }
  const s = f32x4.splat(v);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = out + (<usize>i << 2);
    v128.store(o, s);
    v128.store(o, s, 16);
    v128.store(o, s, 32);
    v128.store(o, s, 48);
  }
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), v);
}

/** fillF32 for doubles. */
export function fillF64(out: usize, v: f64, n: i32): void {
  if (reinterpret<u64>(v) == 0) {
    memory.fill(out, 0, <usize>n << 3);
    return;
  }
  const s = f64x2.splat(v);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = out + (<usize>i << 3);
    v128.store(o, s);
    v128.store(o, s, 16);
    v128.store(o, s, 32);
    v128.store(o, s, 48);
  }
  for (; i < n; i++) store<f64>(out + (<usize>i << 3), v);
}
