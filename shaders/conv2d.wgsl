// Convolutions as implicit GEMM loaders for the tiled core (gemm.wgsl): conv2d forward, conv2dGradInput and conv2dGradWeight (NCHW, weight [O, C, kh, kw]).

// Parameter slots after the GEMM ones: 4 batch n, 5 channels c, 6 height h, 7 width w, 8 out channels o,
// 9 kh, 10 kw, 11 output height ho, 12 output width wo, 13 stride y, 14 stride x, 15 pad y, 16 pad x.
/** 0 forward: Y[o, (n,oy,ox)] = W[o, (c,ki,kj)] · cols[(c,ki,kj), (n,oy,ox)]
 *  1 grad input: dX[c, (n,iy,ix)] = W[(o,ki,kj) -> c] · G[(o,ki,kj), (n,iy,ix)] (stride holes read as 0)
 *  2 grad weight: dW[o, (c,ki,kj)] = G[o, (n,oy,ox)] · cols[(n,oy,ox), (c,ki,kj)] */
override MODE: u32 = 0u;

@group(0) @binding(1) var<storage, read_write> c_out: array<f32>;
@group(0) @binding(2) var<storage, read> a_in: array<f32>;
@group(0) @binding(3) var<storage, read> b_in: array<f32>;

/** Input pixel x[n, c, oy*sh - ph + ki, ox*sw - pw + kj], 0 in the padding (x is b_in in forward and grad weight). */
fn x_at(n: u32, c: u32, oy: u32, ox: u32, ki: u32, kj: u32) -> f32 {
  let iy = i32(oy * prm(13u) + ki) - i32(prm(15u));
  let ix = i32(ox * prm(14u) + kj) - i32(prm(16u));
  let h = prm(6u);
  let w = prm(7u);
  if (iy < 0 || ix < 0 || u32(iy) >= h || u32(ix) >= w) { return 0.0; }
  return b_in[((n * prm(5u) + c) * h + u32(iy)) * w + u32(ix)];
}

fn a_at(row: u32, k: u32) -> f32 {
  if (MODE == 0u) {
    // W[o=row, k=(c,ki,kj)]: the weight is row-major [O, C*kh*kw].
    return a_in[row * prm(2u) + k];
  }
  if (MODE == 1u) {
    // W[o, c=row, ki, kj] with k = (o, ki, kj).
    let khw = prm(9u) * prm(10u);
    let o = k / khw;
    let r = k % khw;
    return a_in[(o * prm(5u) + row) * khw + r];
  }
  // G[n, o=row, oy, ox] with k = (n, oy, ox).
  let hw = prm(11u) * prm(12u);
  let n = k / hw;
  return a_in[(n * prm(8u) + row) * hw + k % hw];
}

fn b_at(k: u32, col: u32) -> f32 {
  let kh = prm(9u);
  let kw = prm(10u);
  if (MODE == 0u) {
    // cols[(c,ki,kj), (n,oy,ox)]
    let wo = prm(12u);
    let hw = prm(11u) * wo;
    let n = col / hw;
    let p = col % hw;
    let c = k / (kh * kw);
    let r = k % (kh * kw);
    return x_at(n, c, p / wo, p % wo, r / kw, r % kw);
  }
  if (MODE == 1u) {
    // G[n, o, oy, ox] where oy*sh - ph + ki = iy, ox*sw - pw + kj = ix; k = (o, ki, kj), col = (n, iy, ix).
    let w = prm(7u);
    let hw = prm(6u) * w;
    let n = col / hw;
    let p = col % hw;
    let o = k / (kh * kw);
    let r = k % (kh * kw);
    let ty = i32(p / w + prm(15u)) - i32(r / kw);
    let tx = i32(p % w + prm(16u)) - i32(r % kw);
    let sh = i32(prm(13u));
    let sw = i32(prm(14u));
    if (ty < 0 || tx < 0 || ty % sh != 0 || tx % sw != 0) { return 0.0; }
    let oy = u32(ty / sh);
    let ox = u32(tx / sw);
    let ho = prm(11u);
    let wo = prm(12u);
    if (oy >= ho || ox >= wo) { return 0.0; }
    return b_in[((n * prm(8u) + o) * ho + oy) * wo + ox];
  }
  // cols[(n,oy,ox), (c,ki,kj)] for grad weight (x is b_in).
  let wo = prm(12u);
  let hw = prm(11u) * wo;
  let n = k / hw;
  let p = k % hw;
  let c = col / (kh * kw);
  let r = col % (kh * kw);
  return x_at(n, c, p / wo, p % wo, r / kw, r % kw);
}

fn store_c(row: u32, col: u32, split: u32, v: f32) {
  let total = prm(0u) * prm(1u);
  if (MODE == 2u) {
    c_out[split * total + row * prm(1u) + col] = v;
    return;
  }
  // NCHW output: col = (n, spatial), row = channel.
  var hw: u32;
  if (MODE == 0u) { hw = prm(11u) * prm(12u); } else { hw = prm(6u) * prm(7u); }
  let n = col / hw;
  c_out[split * total + (n * prm(0u) + row) * hw + col % hw] = v;
}
