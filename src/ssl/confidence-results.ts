// What a Confidence Network experiment hands to its report: per setting and seed, the test accuracies of the compared methods, the weight learner's validation curve and the weights it gave the unlabelled pool over training.

/** The methods an OOD/mismatch setting compares (thesis 5.3.1 protocol; the table is Ren et al. 2020's transductive weighting). */
export type ConfidenceMethod = 'supervised' | 'fixmatch' | 'fixmatch+cn' | 'fixmatch+table';

export const CONFIDENCE_METHODS: readonly ConfidenceMethod[] = ['supervised', 'fixmatch', 'fixmatch+cn', 'fixmatch+table'];

/** What the unlabelled pool holds besides the task's own images. */
export interface ConfidenceSetting {
  /** 'ood': another data set added to the pool (Fashion-MNIST); 'mismatch': unseen classes of the same data set; 'none': in-distribution only. */
  kind: 'ood' | 'mismatch' | 'none';
  /** Share of the pool that is out of distribution, in [0, 1). */
  share: number;
  /** Short label for tables and folder names, e.g. 'ood-25', 'mismatch-50'. */
  label: string;
}

/** The weights a learner gave a fixed sample of the pool at one meta-epoch of weight learning. */
export interface PoolWeightSnapshot {
  metaEpoch: number;
  /** Inner (FixMatch) steps done when the snapshot was taken. */
  step: number;
  /** Weight of each sampled image as it is (no augmentation), in `WeightLearningRun.sample` order. */
  original: number[];
  /** Weight of one weak view α(u) of each sampled image (the view the learner sees in training; thesis fig. 5.1). */
  weak: number[];
}

/** Phase 1 of the protocol for one weighting: FixMatch + the weight learner trained by implicit differentiation. */
export interface WeightLearningRun {
  weighting: 'cn' | 'table';
  /** Inverse-HVP method label (IFT-Identity by default). */
  method: string;
  /** Pool indices of the images every snapshot scores (the whole pool when it is small). */
  sample: number[];
  /** 1 where sample[i] is in-distribution, 0 where it is OOD. */
  inDistribution: number[];
  /** The pool's own label of sample[i] (the source data set's class; only for pictures, never trained on). */
  labels: number[];
  /** Validation loss L_V after each meta-epoch (and the base model's test accuracy then). */
  curve: { metaEpoch: number; step: number; validationLoss: number; testAccuracy: number; meanWeight: number }[];
  /** Meta-epoch with the lowest validation loss: the learner kept for phase 2. */
  bestMetaEpoch: number;
  /** Pool weights over training; the one at bestMetaEpoch is the kept learner's. */
  snapshots: PoolWeightSnapshot[];
  /** Set when weight learning diverged ('meta-epoch m, step s: what'). */
  diverged?: string;
}

/** One setting x seed: phase 2 accuracies (every model trained from scratch on the same labelled data) and phase 1 weight learning. */
export interface ConfidenceSettingResult {
  setting: ConfidenceSetting;
  seed: number;
  labelsPerClass: number;
  /** Final EMA test accuracy of each method that was run. */
  testAccuracy: Partial<Record<ConfidenceMethod, number>>;
  weightLearning: WeightLearningRun[];
  /** Phase 2 runs that diverged ('step s: what'); their methods have no test accuracy. */
  phase2Diverged?: Partial<Record<ConfidenceMethod, string>>;
}
