// FixMatch's pseudo-labels from the weak view's logits: q = softmax(z), label argmax q, kept where max q >= tau (computed on the host, so no gradient flows through q).

export interface PseudoLabels {
  /** argmax_c q_c per row (the first index on ties). */
  labels: Int32Array;
  /** 1 where max_c q_c >= tau, else 0. */
  mask: Float32Array;
  /** max_c q_c per row. */
  confidence: Float64Array;
}

/**
 * Softmax in float64 of each of `rows` rows of `classes` logits (shifted by the row max), its argmax and the
 * confidence mask 1(max q >= tau). The logits are read values, so the targets are constants for the gradient.
 */
export function pseudoLabels(logits: ArrayLike<number>, rows: number, classes: number, tau: number): PseudoLabels {
  if (logits.length !== rows * classes) throw new Error(`pseudoLabels: ${logits.length} logits for ${rows} rows x ${classes} classes`);
  if (!(tau >= 0 && tau <= 1)) throw new Error(`pseudoLabels: tau must be in [0, 1], got ${tau}`);
  const labels = new Int32Array(rows);
  const mask = new Float32Array(rows);
  const confidence = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c] > logits[r * classes + best]) best = c;
    const m = logits[r * classes + best];
    if (!Number.isFinite(m)) throw new Error(`pseudoLabels: row ${r} has a non-finite logit (${m})`);
    let s = 0;
    for (let c = 0; c < classes; c++) s += Math.exp(logits[r * classes + c] - m);
    // max q = exp(0) / Σ exp(z_c - m).
    confidence[r] = 1 / s;
    labels[r] = best;
    mask[r] = confidence[r] >= tau ? 1 : 0;
  }
  return { labels, mask, confidence };
}
