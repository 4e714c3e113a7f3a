/**
 * `emosteer/evaluate`: how well a run's emotion vectors separate the emotions, block by block.
 *
 * The paper's mean pairwise cosine and its anisotropy-corrected form, held-out accuracy
 * (nearest centroid and a linear probe) with bootstrap intervals, silhouette and Fisher ratio,
 * the layer curve's shape, the PCA map and clustering, generation vs comprehension, and the
 * statistics behind them (agreement kappas). Loads ml-matrix, ml-pca, ml-hclust and @stdlib:
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
export { evaluateRun, evaluateSet, compareMethods, findSets, type EvaluateOptions as EvaluationOptions } from './evaluate.js';
export { measureAnisotropy, type AnisotropyProfile } from './anisotropy.js';
export { evaluationSummary } from './summary.js';
export type { EvaluationResult, MethodEvaluation, MethodComparison, LayerMetrics, Estimate, LayerCurveShape, EmotionMap } from './types.js';
export { cohensKappa, fleissKappa, bootstrapCI, stratifiedBootstrapCI, seededRandom, type KappaResult, type RatingLabel, type BootstrapOptions, type BootstrapResult } from './statistics.js';
