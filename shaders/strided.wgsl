// Strided index arithmetic shared by the elementwise, compare and movement kernels (output dims and per-input strides in the uniform block).

// Layout of the parameter block for strided kernels:
//   0: number of outputs   4..11: output dims (RANK of them, after collapsing)
//   12..19 / 20..27 / 28..35: element strides of inputs 0 / 1 / 2 (0 on broadcast axes)
//   36 / 37 / 38: element offsets of inputs 0 / 1 / 2
override RANK: u32 = 1u;

/** Element offsets into inputs 0, 1 and 2 of output element i (the outermost coordinate needs no division). */
fn strided_offsets(i: u32) -> vec3<u32> {
  var rem = i;
  var off = vec3<u32>(prm(36u), prm(37u), prm(38u));
  for (var k = RANK - 1u; k > 0u; k--) {
    let dim = prm(4u + k);
    let q = udiv(rem, dim);
    off += (rem - q * dim) * vec3<u32>(prm(12u + k), prm(20u + k), prm(28u + k));
    rem = q;
  }
  return off + rem * vec3<u32>(prm(12u), prm(20u), prm(28u));
}
