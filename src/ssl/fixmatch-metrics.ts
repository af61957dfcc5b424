// One line of a FixMatch run's metrics.jsonl: the losses, mask rate and pseudo-label accuracy averaged since the previous evaluation, and the EMA model's accuracies.

export interface FixMatchMetrics {
  step: number;
  /** Learning rate of the last step. */
  lr: number;
  /** Means over the steps since the previous evaluation. */
  loss: number;
  supervisedLoss: number;
  unsupervisedLoss: number;
  /** Share of unlabelled images with max q >= tau. */
  maskRate: number;
  /** Share of unlabelled images whose pseudo-label (argmax q) equals their true label, over all of them / over the masked ones (null if none). */
  pseudoAccuracy: number;
  maskedPseudoAccuracy: number | null;
  /** EMA model, batch-norm statistics of the live model. */
  validationAccuracy: number;
  testAccuracy: number;
  testLoss: number;
  stepsPerSecond: number;
  /** Wall time since the run started (across resumes). */
  seconds: number;
}

/** Fields that depend on wall time, left out when runs are compared bit for bit. */
export const TIMING_FIELDS: readonly (keyof FixMatchMetrics)[] = ['stepsPerSecond', 'seconds'];
