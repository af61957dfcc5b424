// Convolutions as implicit GEMM loaders for the tiled core (gemm.wgsl): conv2d forward, conv2dGradInput and conv2dGradWeight (NCHW, weight [O, C, kh, kw]).

// Parameter slots after the GEMM ones: 4 batch n, 5 channels c, 6 height h, 7 width w, 8 out channels o,
// 9 kh, 10 kw, 11 output height ho, 12 output width wo, 13 stride y, 14 stride x, 15 pad y, 16 pad x.
/** 0 forward: Y[o, (n,oy,ox)] = W[o, (c,ki,kj)] · cols[(c,ki,kj), (n,oy,ox)]
 *  1 grad input: dX[c, (n,iy,ix)] = W[(o,ki,kj) -> c] · G[(o,ki,kj), (n,iy,ix)] (stride holes read as 0)
 *  2 grad weight: dW[o, (c,ki,kj)] = G[o, (n,oy,ox)] · cols[(n,oy,ox), (c,ki,kj)] */
override MODE: u32 = 0u;
/** Grad input with stride 1: every position is on the stride grid (no division). */
override UNIT_STRIDE: bool = false;

@group(0) @binding(1) var<storage, read_write> c_out: array<f32>;
@group(0) @binding(2) var<storage, read> a_in: array<f32>;
@group(0) @binding(3) var<storage, read> b_in: array<f32>;

fn a_at(row: u32, k: u32) -> f32 {
  if (MODE == 0u) {
    // W[o=row, k=(c,ki,kj)]: the weight is row-major [O, C*kh*kw].
    return a_in[row * prm(2u) + k];
  }
  if (MODE == 1u) {
    // W[o, c=row, ki, kj] with k = (o, ki, kj).
    let khw = prm(9u) * prm(10u);
    let o = udiv(k, khw);
    return a_in[(o * prm(5u) + row) * khw + (k - o * khw)];
  }
  // G[n, o=row, oy, ox] with k = (n, oy, ox).
  let hw = prm(11u) * prm(12u);
  let n = udiv(k, hw);
  return a_in[(n * prm(8u) + row) * hw + (k - n * hw)];
}

/** Per-column data of four consecutive columns of B, computed once per invocation. */
struct BCols {
  /** Element offset of each column's image (forward, grad input) or channel plane (grad weight). */
  base: vec4<u32>,
  /** Forward: oy*sh - ph, grad input: iy + ph, grad weight: ki. */
  y: vec4<i32>,
  /** Forward: ox*sw - pw, grad input: ix + pw, grad weight: kj. */
  x: vec4<i32>,
  valid: vec4<bool>,
}

fn b_cols(col: u32) -> BCols {
  var r: BCols;
  let cols = vec4<u32>(col) + vec4<u32>(0u, 1u, 2u, 3u);
  r.valid = cols < vec4<u32>(prm(1u));
  for (var j = 0u; j < 4u; j++) {
    let cj = cols[j];
    if (MODE == 0u) {
      // col = (n, oy, ox) over the output; base = start of image n of x.
      let wo = prm(12u);
      let hw = prm(11u) * wo;
      let n = udiv(cj, hw);
      let p = cj - n * hw;
      let oy = udiv(p, wo);
      r.base[j] = n * prm(5u) * prm(6u) * prm(7u);
      r.y[j] = i32(oy * prm(13u)) - i32(prm(15u));
      r.x[j] = i32((p - oy * wo) * prm(14u)) - i32(prm(16u));
    } else if (MODE == 1u) {
      // col = (n, iy, ix) over the input; base = start of image n of G.
      let w = prm(7u);
      let hw = prm(6u) * w;
      let n = udiv(cj, hw);
      let p = cj - n * hw;
      let iy = udiv(p, w);
      r.base[j] = n * prm(8u) * prm(11u) * prm(12u);
      r.y[j] = i32(iy + prm(15u));
      r.x[j] = i32(p - iy * w + prm(16u));
    } else {
      // col = (c, ki, kj) over the weight; base = start of channel plane c.
      let kw = prm(10u);
      let khw = prm(9u) * kw;
      let c = udiv(cj, khw);
      let r2 = cj - c * khw;
      let ki = udiv(r2, kw);
      r.base[j] = c * prm(6u) * prm(7u);
      r.y[j] = i32(ki);
      r.x[j] = i32(r2 - ki * kw);
    }
  }
  return r;
}

/** Four values of B at row k: the implicit im2col matrix (forward, grad weight) or the strided gradient (grad input). */
fn b_vec(k: u32, c: BCols) -> vec4<f32> {
  let h = i32(prm(6u));
  let w = i32(prm(7u));
  var iy: vec4<i32>;
  var ix: vec4<i32>;
  var off: vec4<u32>;
  var ok = c.valid;
  if (MODE == 0u) {
    // k = (c, ki, kj): pixel (oy*sh - ph + ki, ox*sw - pw + kj) of channel c.
    let kw = prm(10u);
    let khw = prm(9u) * kw;
    let ch = udiv(k, khw);
    let r = k - ch * khw;
    let ki = udiv(r, kw);
    iy = c.y + vec4<i32>(i32(ki));
    ix = c.x + vec4<i32>(i32(r - ki * kw));
    ok = ok & (iy >= vec4<i32>(0)) & (iy < vec4<i32>(h)) & (ix >= vec4<i32>(0)) & (ix < vec4<i32>(w));
    off = c.base + vec4<u32>(ch * u32(h * w)) + vec4<u32>(iy * w + ix);
  } else if (MODE == 1u) {
    // k = (o, ki, kj): G[n, o, oy, ox] with oy*sh = iy + ph - ki and ox*sw = ix + pw - kj (0 off the stride grid).
    let kw = prm(10u);
    let khw = prm(9u) * kw;
    let o = udiv(k, khw);
    let r = k - o * khw;
    let ki = udiv(r, kw);
    let ty = c.y - vec4<i32>(i32(ki));
    let tx = c.x - vec4<i32>(i32(r - ki * kw));
    var oy = ty;
    var ox = tx;
    if (!UNIT_STRIDE) {
      let sh = i32(prm(13u));
      let sw = i32(prm(14u));
      oy = ty / vec4<i32>(sh);
      ox = tx / vec4<i32>(sw);
      ok = ok & (oy * sh == ty) & (ox * sw == tx);
    }
    let ho = i32(prm(11u));
    let wo = i32(prm(12u));
    ok = ok & (ty >= vec4<i32>(0)) & (tx >= vec4<i32>(0)) & (oy < vec4<i32>(ho)) & (ox < vec4<i32>(wo));
    off = c.base + vec4<u32>(o * u32(ho * wo)) + vec4<u32>(oy * wo + ox);
  } else {
    // k = (n, oy, ox): pixel (oy*sh - ph + ki, ox*sw - pw + kj) of image n.
    let wo = prm(12u);
    let hw = prm(11u) * wo;
    let n = udiv(k, hw);
    let p = k - n * hw;
    let oy = udiv(p, wo);
    iy = c.y + vec4<i32>(i32(oy * prm(13u)) - i32(prm(15u)));
    ix = c.x + vec4<i32>(i32((p - oy * wo) * prm(14u)) - i32(prm(16u)));
    ok = ok & (iy >= vec4<i32>(0)) & (iy < vec4<i32>(h)) & (ix >= vec4<i32>(0)) & (ix < vec4<i32>(w));
    off = c.base + vec4<u32>(n * prm(5u) * u32(h * w)) + vec4<u32>(iy * w + ix);
  }
  let idx = select(vec4<u32>(0u), off, ok);
  return select(vec4<f32>(), vec4<f32>(b_in[idx.x], b_in[idx.y], b_in[idx.z], b_in[idx.w]), ok);
}

/** Output offsets: grad weight is row-major [O, C*kh*kw]; forward and grad input are NCHW with row = channel, col = (n, pixel). */
fn c_row(row: u32) -> u32 {
  if (MODE == 2u) { return row * prm(1u); }
  return row * out_hw();
}

fn c_col(col: u32) -> u32 {
  if (MODE == 2u) { return col; }
  let hw = out_hw();
  let n = udiv(col, hw);
  return n * prm(0u) * hw + (col - n * hw);
}

/** Pixels per output channel plane: Ho*Wo (forward) or H*W (grad input). */
fn out_hw() -> u32 {
  if (MODE == 0u) { return prm(11u) * prm(12u); }
  return prm(6u) * prm(7u);
}
