// CPU conv2d and its two gradients: float32 runs image by image in the GEMM's Wasm memory (im2col / col2im in assembly/conv.ts on that memory, no transposes); other dtypes use the JS reference.

import type { TypedArray } from '../../core/dtype.js';
import type { Conv2dParams } from '../../core/primitives.js';
import { conv2dGradInputJs, conv2dGradWeightJs, conv2dJs, geometry, type Geometry } from './conv2d-js.js';
import { gemmArena, type GemmArena } from './wasm-gemm.js';

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Byte addresses of consecutive float32 regions of the given lengths, starting at the arena's base. */
function layout(arena: GemmArena, ...lengths: number[]): number[] {
  const ptrs: number[] = [];
  let p = arena.base;
  for (const n of lengths) {
    ptrs.push(p);
    p += align16(n * 4);
  }
  return ptrs;
}

function arenaFor(what: string, ...lengths: number[]): GemmArena {
  return gemmArena(lengths.reduce((s, n) => s + align16(n * 4), 0), what);
}

/** A 1x1, stride-1, unpadded conv reads the image itself as its columns. */
const isPointwise = (g: Geometry): boolean => g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;

function packArgs(g: Geometry): [number, number, number, number, number, number, number, number, number, number, number] {
  return [g.c, g.h, g.w, g.kh, g.kw, g.ho, g.wo, g.sh, g.sw, g.ph, g.pw];
}

/** y[n] = W [O, K] · cols(x[n]) [K, Ho·Wo] for each image n: y comes out in NCHW directly. */
function conv2dWasm(x: Float32Array, w: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  const direct = isPointwise(g);
  const arena = arenaFor('conv2d', x.length, w.length, direct ? 0 : K * hw, out.length);
  const [px, pw, pc, py] = layout(arena, x.length, w.length, direct ? 0 : K * hw, out.length);
  arena.f32(px, x.length).set(x);
  arena.f32(pw, w.length).set(w);
  const e = arena.conv;
  const a = packArgs(g);
  for (let n = 0; n < g.n; n++) {
    const xn = px + n * img * 4;
    if (!direct) e.im2col(xn, ...a, pc);
    arena.gemm(false, false, g.o, hw, K, pw, direct ? xn : pc, py + n * g.o * hw * 4, false);
  }
  out.set(arena.f32(py, out.length));
}

/** dcols = Wᵀ [K, O] · gy[n] [O, Ho·Wo], then col2im into dx[n], for each image n. */
function conv2dGradInputWasm(gy: Float32Array, w: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  if (hw === 0) {
    out.fill(0);
    return;
  }
  const direct = isPointwise(g);
  const arena = arenaFor('conv2dGradInput', gy.length, w.length, direct ? 0 : K * hw, out.length);
  const [pg, pw, pc, px] = layout(arena, gy.length, w.length, direct ? 0 : K * hw, out.length);
  arena.f32(pg, gy.length).set(gy);
  arena.f32(pw, w.length).set(w);
  const e = arena.conv;
  const a = packArgs(g);
  for (let n = 0; n < g.n; n++) {
    const xn = px + n * img * 4;
    arena.gemm(true, false, K, hw, g.o, pw, pg + n * g.o * hw * 4, direct ? xn : pc, false);
    if (!direct) e.col2im(pc, ...a, xn);
  }
  out.set(arena.f32(px, out.length));
}

/** dW [O, K] = Σ_n gy[n] [O, Ho·Wo] · cols(x[n])ᵀ [Ho·Wo, K]. */
function conv2dGradWeightWasm(x: Float32Array, gy: Float32Array, g: Geometry, out: Float32Array): void {
  const hw = g.ho * g.wo, K = g.c * g.kh * g.kw, img = g.c * g.h * g.w;
  if (g.n === 0 || hw === 0) {
    out.fill(0);
    return;
  }
  const direct = isPointwise(g);
  const arena = arenaFor('conv2dGradWeight', x.length, gy.length, direct ? 0 : K * hw, out.length);
  const [px, pg, pc, pw] = layout(arena, x.length, gy.length, direct ? 0 : K * hw, out.length);
  arena.f32(px, x.length).set(x);
  arena.f32(pg, gy.length).set(gy);
  const e = arena.conv;
  const a = packArgs(g);
  for (let n = 0; n < g.n; n++) {
    const xn = px + n * img * 4;
    if (!direct) e.im2col(xn, ...a, pc);
    arena.gemm(false, true, g.o, K, hw, pg + n * g.o * hw * 4, direct ? xn : pc, pw, n > 0);
  }
  out.set(arena.f32(pw, out.length));
}

const f32 = (...xs: TypedArray[]): boolean => xs.every((x) => x instanceof Float32Array);

export function conv2dKernel(x: TypedArray, xShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, yShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(x, w, out)) return conv2dJs(x, xShape, w, wShape, p, out, yShape);
  conv2dWasm(x as Float32Array, w as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}

export function conv2dGradInputKernel(gy: TypedArray, yShape: readonly number[], w: TypedArray, wShape: readonly number[], p: Conv2dParams, out: TypedArray, xShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(gy, w, out)) return conv2dGradInputJs(gy, yShape, w, wShape, p, out, xShape);
  conv2dGradInputWasm(gy as Float32Array, w as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}

export function conv2dGradWeightKernel(x: TypedArray, xShape: readonly number[], gy: TypedArray, yShape: readonly number[], p: Conv2dParams, out: TypedArray, wShape: readonly number[]): void {
  if (out.length === 0) return;
  if (!f32(x, gy, out)) return conv2dGradWeightJs(x, xShape, gy, yShape, p, out, wShape);
  conv2dGradWeightWasm(x as Float32Array, gy as Float32Array, geometry(xShape, wShape, yShape, p), out as Float32Array);
}
