/**
 * The shape of an evaluation: what `emosteer evaluate --json` prints and what the report
 * renders. Layers are block indices (0..nLayer-1); depth = layer / (nLayer - 1).
 */

/** A value with a 95% bootstrap confidence interval. */
export interface Estimate {
  /** The estimate on all the data. */
  value: number;
  /** 95% percentile bootstrap interval [low, high]. */
  ci95: [number, number];
}

/** Every metric of one method at one block. */
export interface LayerMetrics {
  /** Block index. */
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
  shuffledAccuracy: {
    /** Mean accuracy over the label permutations. */
    mean: number;
    /** Its 95th percentile. */
    p95: number;
  };
  /** Silhouette of samples by category (cosine distance). */
  silhouette: Estimate;
  /** Fisher ratio: trace of between-class scatter / trace of within-class scatter. */
  fisherRatio: Estimate;
}

/** Where the layer curve bottoms out, and whether it is U-shaped. */
export interface LayerCurveShape {
  /** The metric whose curve over blocks is described. */
  metric: 'meanPairwiseCosine';
  /** Block of the minimum. */
  minLayer: number;
  /** Depth of that block: minLayer / (nLayer - 1). */
  minDepth: number;
  /** True when the minimum is interior (not the first or last block) and both ends are higher. */
  uShaped: boolean;
  /** How much higher the ends are than the minimum: [start - min, end - min]. */
  rise: [number, number];
}

/** 2-D map of the emotion vectors at the best block. */
export interface EmotionMap {
  /** The block mapped. */
  layer: number;
  /** Variance explained by the first components. */
  explained: number[];
  /** One point per emotion: its unit vector projected on the first two principal components. */
  points: {
    /** The emotion. */
    emotion: string;
    /** Coordinate on the first principal component. */
    x: number;
    /** Coordinate on the second principal component. */
    y: number;
  }[];
}

/** Evaluation of one extraction method on one model. */
export interface MethodEvaluation {
  /** The extraction method of the set ('generation', 'comprehension'). */
  method: string;
  /** The model the set was extracted from (from the set's {@link emosteer!ModelIdentity | ModelIdentity}). */
  model: {
    /** llama.cpp's one-line description. */
    description: string;
    /** `general.architecture`. */
    arch: string;
    /** Number of blocks. */
    nLayer: number;
    /** Width of the residual stream. */
    nEmbd: number;
    /** Quantization (file type). */
    quantization: string;
    /** sha256 of the GGUF file ('' when unknown). */
    sha256: string;
  };
  /** Emotions evaluated, in the set's order. */
  emotions: string[];
  /** Samples (stimuli) over all categories, neutral included. */
  nSamples: number;
  /** Folds of the cross-validation actually used (fewer than asked when a category has fewer distinct stimuli, at least 2). */
  folds: number;
  /** Block with the lowest meanPairwiseCosine (the paper's choice). */
  bestLayer: number;
  /** Depth of bestLayer. */
  bestDepth: number;
  /** Block with the highest held-out accuracy (the better-founded choice). */
  bestLayerByAccuracy: number;
  /** Every metric at every block of the set, ascending. */
  layers: LayerMetrics[];
  /** Shape of the meanPairwiseCosine curve over blocks. */
  shape: LayerCurveShape;
  /** emotions x emotions cosine of unit vectors at bestLayer. */
  cosineMatrix: {
    /** The block (bestLayer). */
    layer: number;
    /** Row and column order. */
    emotions: string[];
    /** values[i][j] = cosine of emotions i and j. */
    values: number[][];
  };
  /** PCA map of the emotions at bestLayer. */
  map: EmotionMap;
  /** Average-linkage clustering of the emotions at bestLayer (cosine distance), as merge steps. */
  clusters: {
    /** The block (bestLayer). */
    layer: number;
    /** Merges in order of distance, lowest first. */
    merges: {
      /** Emotions of one cluster merged. */
      a: string[];
      /** Emotions of the other. */
      b: string[];
      /** Average-linkage cosine distance at which they merge. */
      distance: number;
    }[];
  };
  /** The extraction parameters recorded in the set. */
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
  /** The metric compared. */
  metric: 'meanPairwiseCosine';
  /** Mann-Whitney U of generation's values against comprehension's. */
  mannWhitneyU: number;
  /** Its two-sided p-value (descriptive only, see `descriptiveOnly`). */
  mannWhitneyP: number;
  /** Whether the p-value is exact (small samples) rather than the normal approximation. */
  exact: boolean;
  /** Cohen's d with pooled SD, (generation - comprehension) / sd. */
  cohensD: number;
  /** Cliff's delta: P(generation > comprehension) - P(generation < comprehension). */
  cliffsDelta: number;
  /** Spearman correlation between the two methods' emotion RDMs (1 - cosine), per block. */
  rsa: {
    /** Block index. */
    layer: number;
    /** Spearman correlation of the two RDMs at this block. */
    spearman: number;
  }[];
  /** Cosine between the two methods' unit vectors per emotion, at each method's best block. */
  perEmotionCosine: {
    /** The emotion. */
    emotion: string;
    /** Cosine between its two unit vectors. */
    cosine: number;
  }[];
}

/** Everything `emosteer evaluate` computes for a run folder. */
export interface EvaluationResult {
  /** The run folder evaluated. */
  runDir: string;
  /** When the evaluation ran (ISO 8601). */
  createdAt: string;
  /** emosteer's package version. */
  emosteerVersion: string;
  /** Evaluation of each method's set, by method name. */
  methods: Record<string, MethodEvaluation>;
  /** Generation vs comprehension, when the run has both. */
  comparison?: MethodComparison;
  /** Anisotropy per block (from neutral factual sentences). */
  anisotropy: {
    /** Block index. */
    layer: number;
    /** Mean pairwise cosine of the neutral sentences' last-token activations. */
    value: number;
  }[];
}
