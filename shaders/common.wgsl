// Shared prelude of every WebGPU kernel: the uniform parameter block (64 u32 slots) and flat invocation ids.

struct Params {
  p: array<vec4<u32>, 16>,
}

@group(0) @binding(0) var<uniform> params: Params;

/** Workgroup size of the one-dimensional kernels (compat mode allows at most 128). */
override WG: u32 = 128u;

/** Parameter slot i. */
fn prm(i: u32) -> u32 {
  return params.p[i >> 2u][i & 3u];
}

/** Flat invocation index of a 2-D grid of one-dimensional workgroups (grids wider than 65535 wrap into y). */
fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

/** Flat workgroup index of a 2-D grid. */
fn flat_group(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.y * nwg.x + wid.x;
}

/** Whether every numerator given to udiv stays below 2^22 (set by the host), so the float path is exact. */
override FAST_DIV: bool = true;

/**
 * a / d for u32. Integer division is scalarized on SIMD software rasterizers (lavapipe, SwiftShader); below 2^22
 * a float quotient is within 2 of the truth and two correction steps each way make it exact.
 */
fn udiv(a: u32, d: u32) -> u32 {
  if (!FAST_DIV) { return a / d; }
  var q = u32(max(f32(a) / f32(d), 0.0));
  q -= select(0u, 1u, q * d > a);
  q -= select(0u, 1u, q * d > a);
  q += select(0u, 1u, (q + 1u) * d <= a);
  q += select(0u, 1u, (q + 1u) * d <= a);
  return q;
}

/** Outputs handled by one invocation of the one-dimensional kernels (amortizes per-invocation cost). */
const ELEMS: u32 = 4u;
