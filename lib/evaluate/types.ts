/**
 * The shape of an evaluation: what `emosteer evaluate --json` prints and what the report
 * renders. Layers are block indices (0..nLayer-1); depth = layer / (nLayer - 1).
 */

/** A value with a 95% bootstrap confidence interval. */
export interface Estimate {
  value: number;
  ci95: [number, number];
}

/** Every metric of one method at one block. */
export interface LayerMetrics {
  layer: number;
  /** layer / (nLayer - 1). */
  depth: number;
  /** The paper's metric: mean pairwise cosine between unit emotion vectors (lower = better separated). */
  meanPairwiseCosine: number;
  /** Same, after subtracting the mean activation of all samples at this block from each category mean. */
  meanPairwiseCosineCentered: number;
  /** Anisotropy baseline: mean pairwise cosine of last-token activations of neutral factual sentences. */
  anisotropy: number;
  /** Mean pairwise cosine of the raw category means, corrected: (cos - a) / (1 - a). */
  correctedCosine: number;
  /** Held-out accuracy of single samples, nearest centroid, k-fold. */
  heldOutAccuracy: Estimate;
  /** Held-out accuracy of a linear probe (multinomial logistic regression), k-fold. */
  probeAccuracy: Estimate;
  /** 1 / number of classes. */
  chance: number;
  /** Nearest-centroid accuracy with shuffled labels (null distribution mean and 95th percentile). */
  shuffledAccuracy: { mean: number; p95: number };
  /** Silhouette of samples by category (cosine distance). */
  silhouette: Estimate;
  /** Fisher ratio: trace of between-class scatter / trace of within-class scatter. */
  fisherRatio: Estimate;
}

/** Where the layer curve bottoms out, and whether it is U-shaped. */
export interface LayerCurveShape {
  metric: 'meanPairwiseCosine';
  /** Block of the minimum. */
  minLayer: number;
  minDepth: number;
  /** True when the minimum is interior (not the first or last block) and both ends are higher. */
  uShaped: boolean;
  /** How much higher the ends are than the minimum: [start - min, end - min]. */
  rise: [number, number];
}

/** 2-D map of the emotion vectors at the best block. */
export interface EmotionMap {
  layer: number;
  /** Variance explained by the first components. */
  explained: number[];
  points: { emotion: string; x: number; y: number }[];
}

/** Evaluation of one extraction method on one model. */
export interface MethodEvaluation {
  method: string;
  model: { description: string; arch: string; nLayer: number; nEmbd: number; quantization: string; sha256: string };
  emotions: string[];
  nSamples: number;
  folds: number;
  /** Block with the lowest meanPairwiseCosine (the paper's choice). */
  bestLayer: number;
  bestDepth: number;
  /** Block with the highest held-out accuracy (the better-founded choice). */
  bestLayerByAccuracy: number;
  layers: LayerMetrics[];
  shape: LayerCurveShape;
  /** emotions x emotions cosine of unit vectors at bestLayer. */
  cosineMatrix: { layer: number; emotions: string[]; values: number[][] };
  map: EmotionMap;
  /** Average-linkage clustering of the emotions at bestLayer (cosine distance), as merge steps. */
  clusters: { layer: number; merges: { a: string[]; b: string[]; distance: number }[] };
  params: Record<string, unknown>;
}

/** Generation vs comprehension on the same model. */
export interface MethodComparison {
  /** What each observation is (here: the per-block meanPairwiseCosine values of each method). */
  unit: 'layers';
  /**
   * Always true: the blocks of one model are correlated, paired numbers, not independent
   * samples, so the U test below describes the two curves and its p-value tests nothing. The
   * comparison with a meaning has models as the unit (`emosteer study`).
   */
  descriptiveOnly: true;
  metric: 'meanPairwiseCosine';
  mannWhitneyU: number;
  mannWhitneyP: number;
  exact: boolean;
  /** Cohen's d with pooled SD, (generation - comprehension) / sd. */
  cohensD: number;
  cliffsDelta: number;
  /** Spearman correlation between the two methods' emotion RDMs (1 - cosine), per block. */
  rsa: { layer: number; spearman: number }[];
  /** Cosine between the two methods' unit vectors per emotion, at each method's best block. */
  perEmotionCosine: { emotion: string; cosine: number }[];
}

/** Everything `emosteer evaluate` computes for a run folder. */
export interface EvaluationResult {
  runDir: string;
  createdAt: string;
  emosteerVersion: string;
  methods: Record<string, MethodEvaluation>;
  comparison?: MethodComparison;
  /** Anisotropy per block (from neutral factual sentences). */
  anisotropy: { layer: number; value: number }[];
}
