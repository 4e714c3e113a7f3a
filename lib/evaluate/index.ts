/**
 * `emosteer/evaluate`: how well a run's emotion vectors separate the emotions, block by block.
 *
 * The paper's mean pairwise cosine and its anisotropy-corrected form (against two baselines),
 * held-out accuracy (centred nearest centroid and a linear probe) with cluster-bootstrap
 * intervals, the best block against the permutation null of the best of all blocks, a
 * bag-of-words baseline on the texts, silhouette and Fisher ratio, the layer curve's shape, the
 * PCA map and clustering, generation vs comprehension, and the statistics behind them
 * (agreement kappas). Loads ml-matrix, ml-pca, ml-hclust and @stdlib:
 * import it only where you evaluate.
 *
 * @example
 * ```ts
 * import { evaluateRun, evaluationSummary } from 'emosteer/evaluate';
 * const result = await evaluateRun('runs/gemma'); // runs/gemma/{generation,comprehension}
 * console.log(evaluationSummary(result));
 * ```
 *
 * @module emosteer/evaluate
 */
export { evaluateRun, evaluateSet, compareMethods, findSets, stimulusCluster, decodabilityPair, DECODABILITY_PAIRS, type EvaluateOptions as EvaluationOptions } from './evaluate.js';
export {
  measureAnisotropy,
  measureVariedAnisotropy,
  variedNeutralTexts,
  type AnisotropyProfile,
  type AnisotropyOptions,
  type VariedAnisotropyOptions,
  type VariedAnisotropyInfo,
  type VariedAnisotropy,
} from './anisotropy.js';
export { evaluationSummary } from './summary.js';
export type { EvaluationResult, MethodEvaluation, MethodComparison, LayerMetrics, Estimate, LayerCurveShape, EmotionMap, BestBlock, TextBaseline, DecodabilityPair, EvaluationDecodability } from './types.js';
export { maxOverBlocksNull, type MaxNullOptions, type MaxNullResult } from './max-null.js';
export { compareRdms, rdmFromCosineMatrix, type LabelledRdm, type RsaOptions, type RsaResult } from './representational-similarity.js';
export { setGeometry, textGeometry, geometryAt, layerAtDepth, GEOMETRY_DECIMALS, GEOMETRY_FILE, GEOMETRY_VERSION, type SetGeometry, type GeometryFile, type TextGeometry } from './block-geometry.js';
export {
  clusterBootstrapCI,
  bestBlockBootstrap,
  compareDecodability,
  type ClusterBootstrapOptions,
  type BestBlockBootstrap,
  type DecodabilityInput,
  type DecodabilityComparison,
  type IntervalEstimate,
} from './cluster-bootstrap.js';
export { bagOfWordsAccuracy, emotionWordMask, textFeatures, type BagOfWordsOptions, type BagOfWordsResult, type TextFeatures, type TextFeatureOptions } from './bag-of-words.js';
export { cohensKappa, fleissKappa, bootstrapCI, stratifiedBootstrapCI, seededRandom, type KappaResult, type RatingLabel, type BootstrapOptions, type BootstrapResult } from './statistics.js';
export { fitLinearProbe, linearProbeAccuracy, linearProbePredict, type LinearProbeModel, type LinearProbeOptions, type ProbeResult, type ProbePrediction } from './linear-probe.js';
