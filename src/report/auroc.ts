// Area under the ROC curve of scores separating positives (in-distribution) from negatives (out-of-distribution), by the Mann-Whitney statistic with ties counted 1/2.

/**
 * AUROC = P(s⁺ > s⁻) + ½ P(s⁺ = s⁻) over all positive/negative pairs: the Mann-Whitney U of the positives
 * divided by n⁺ n⁻, i.e. the area under the ROC curve with tied scores joined by a straight segment.
 * Computed from ranks: sort all scores, give each group of equal scores the mean of its 1-based ranks, then
 * U = (Σ ranks of positives) − n⁺(n⁺ + 1)/2. O(n log n).
 *
 * `positive[i]` says whether item i is a positive (true/1: in-distribution). 1 means every positive scores
 * above every negative, 0.5 is chance (or all scores equal), 0 is perfectly inverted. Throws on length
 * mismatch, on a class with no members and on a non-finite score, naming the position.
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number {
  const n = scores.length;
  if (positive.length !== n) throw new Error(`auroc: ${n} scores but ${positive.length} labels`);
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`auroc: score ${scores[i]} at position ${i} is not finite`);
    const p = positive[i];
    if (p !== true && p !== false && p !== 0 && p !== 1) throw new Error(`auroc: label ${String(p)} at position ${i} must be true/false or 1/0`);
    if (p === true || p === 1) nPos++;
  }
  const nNeg = n - nPos;
  if (nPos === 0) throw new Error(`auroc: no positive (in-distribution) items among ${n}`);
  if (nNeg === 0) throw new Error(`auroc: no negative (out-of-distribution) items among ${n}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]] === scores[order[start]]) end++;
    // Items at sorted positions start..end-1 share the mean of the ranks start+1..end.
    const meanRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (positive[order[k]] === true || positive[order[k]] === 1) rankSum += meanRank;
    start = end;
  }
  const u = rankSum - (nPos * (nPos + 1)) / 2;
  return u / (nPos * nNeg);
}
