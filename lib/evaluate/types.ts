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
  /** Anisotropy-corrected cosine against the varied baseline: (cos - av) / (1 - av). Absent when the profile has no varied baseline. */
  correctedCosineVaried?: number;
  /**
   * Varied anisotropy baseline: mean cosine between activations of different neutral texts read
   * at several positions each (not only the final period). Absent in evaluations made before it
   * existed or from a cached profile without it.
   */
  anisotropyVaried?: number;
  /**
   * Held-out accuracy of single samples, nearest centroid (cosine after centring on the training
   * split's mean, unless evaluated with `center: false`), k-fold; 95% interval from a bootstrap
   * over clusters of stimuli (templates, passages).
   */
  heldOutAccuracy: Estimate;
  /** The same classifier without centring (emosteer 0.1's `heldOutAccuracy`). Absent in older evaluations. */
  heldOutAccuracyUncentred?: Estimate;
  /** Held-out accuracy of a linear probe (multinomial logistic regression), k-fold. */
  probeAccuracy: Estimate;
  /** 1 / number of classes. */
  chance: number;
  /** Nearest-centroid accuracy (same centring as heldOutAccuracy) with shuffled labels at this block alone (null distribution mean and 95th percentile). */
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

/**
 * The block with the highest held-out accuracy, read against the right null: the best of as many
 * blocks under permuted labels, not one block's chance.
 */
export interface BestBlock {
  /** Block index (the first of equal maxima). */
  layer: number;
  /** Its depth. */
  depth: number;
  /** Its held-out (nearest-centroid) accuracy. */
  accuracy: number;
  /** 95% interval of the best accuracy with the best block re-selected in every cluster-bootstrap resample. */
  accuracyCi95: [number, number];
  /** 95% interval of the best block's depth, re-selected in every resample. */
  depthCi95: [number, number];
  /** Peak accuracy minus the first block's, with its interval (peak re-selected per resample). */
  riseFromFirst: Estimate;
  /** Peak accuracy minus the last block's, with its interval. */
  riseFromLast: Estimate;
  /** Chance of one block (1 / number of classes). */
  chance: number;
  /** Mean of the best-of-all-blocks accuracy under permuted labels (NaN when not computed). */
  nullMean: number;
  /** Its 95th percentile: the level the best block has to beat at the 5% level. */
  nullP95: number;
  /** Permutation p-value of the best block: (1 + #{null >= observed}) / (1 + permutations). */
  p: number;
  /** Permutations of the null (0 when not computed). */
  permutations: number;
  /** The observed maximum as the null's classifier computed it (equal to `accuracy` but for rounding in exact ties). */
  nullObservedMax?: number;
}

/** What the words of the stimuli alone tell about their class (a bag-of-words classifier). */
export interface TextBaseline {
  /** The texts classified: the generated stories ('text') or the passages read ('prompt'). */
  source: 'text' | 'prompt';
  /** The classifier. */
  classifier: string;
  /** 1 / number of classes. */
  chance: number;
  /** Held-out accuracy on every word, with its cluster-bootstrap interval. */
  bagOfWords: Estimate;
  /** The same with the words naming the emotions removed (every form of the 20, e.g. happy, happiness, unhappily). */
  bagOfWordsMasked: Estimate;
  /** Word occurrences removed by the mask, over all texts. */
  maskedWords: number;
  /** Emotion texts that name their own emotion (some form of it). */
  textsNamingTheirEmotion: number;
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
  /** That block with its intervals and the null of the best of all blocks. Absent in older evaluations. */
  bestBlock?: BestBlock;
  /** The clusters of the bootstrap intervals of accuracies: stimuli sharing a template (or passage) are resampled together. */
  bootstrapClusters?: {
    /** 'template' (the default clustering) or 'custom' (a caller's). */
    unit: string;
    /** Number of clusters. */
    clusters: number;
  };
  /** Bag-of-words baseline on the texts (absent when the set lacks its texts, or in older evaluations). */
  textBaseline?: TextBaseline;
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
  /**
   * Generation minus comprehension (a minus b) in best-block held-out accuracy, each best block
   * re-selected in every resample, clusters of stimuli resampled independently in each method.
   * Present when both evaluations were made in this process over the same categories.
   */
  decodability?: {
    /** The metric compared. */
    metric: 'bestBlockHeldOutAccuracy';
    /** First method's best-block accuracy. */
    a: number;
    /** Second method's. */
    b: number;
    /** a - b with its 95% interval. */
    difference: Estimate;
    /** Two-sided bootstrap p-value of no difference (coarse; read the interval first). */
    p: number;
    /** Resamples. */
    resamples: number;
  };
  /** Cosine between the two methods' unit vectors per emotion, at each method's best block. */
  perEmotionCosine: {
    /** The emotion. */
    emotion: string;
    /** Cosine between its two unit vectors. */
    cosine: number;
  }[];
}

/** One set's best-block accuracy against another's, each best block re-selected per cluster-bootstrap resample. */
export interface DecodabilityPair {
  /** The first set (e.g. 'generation.mean'). */
  a: string;
  /** The second set (e.g. 'comprehension.mean'). */
  b: string;
  /** Best-block accuracy of a. */
  accuracyA: number;
  /** Best-block accuracy of b. */
  accuracyB: number;
  /** Best block of a. */
  layerA: number;
  /** Best block of b. */
  layerB: number;
  /** a - b with its 95% interval (clusters resampled independently in each set). */
  difference: Estimate;
  /** Two-sided bootstrap p-value of no difference (coarse; read the interval first). */
  p: number;
  /** Resamples of the bootstrap. */
  resamples: number;
  /** Whether the classifier centred on the training fold's mean. */
  centred: boolean;
}

/** Generation against comprehension under the read-outs of docs/PREREG.md (each present when the run has both sets). */
export interface EvaluationDecodability {
  /** Primary: mean over the text for both methods (`generation.mean` vs `comprehension.mean`), centred. */
  primary?: DecodabilityPair;
  /** The primary pair without centring. */
  primaryUncentred?: DecodabilityPair;
  /** The paper's read-outs: middle generated token (`generation`) vs last passage token (`comprehension`). */
  paper?: DecodabilityPair;
  /** Token type matched: punctuation nearest the middle (`generation.punctuation`) vs last passage token. */
  punctuation?: DecodabilityPair;
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
  /** Best-block accuracy of generation minus comprehension per pair of read-outs ({@link EvaluationDecodability}), when the run has them. */
  decodability?: EvaluationDecodability;
  /** Anisotropy per block (from neutral factual sentences). */
  anisotropy: {
    /** Block index. */
    layer: number;
    /** Mean pairwise cosine of the neutral sentences' last-token activations. */
    value: number;
    /** The varied baseline (several positions of varied neutral texts), when measured. */
    varied?: number;
  }[];
}
