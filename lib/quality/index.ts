/**
 * `emosteer/quality`: how far a quantization (or a steering) moves a model's next-token
 * distributions from a reference's, on the same text: perplexity, KL divergence (mean,
 * median, p99, p99.9, max), RMS delta-p and top-1 agreement, each with a bootstrap interval
 * over chunks, beside file size, bits per weight and speed. The reference and the candidates
 * run in lockstep and every per-token reduction happens in native code
 * ({@link "emosteer"!NextTokenDistributions | NextTokenDistributions}); the text is cut and
 * scored as llama.cpp's `llama-perplexity` does. docs/quality.md has the method and its check
 * against llama-perplexity. The HTML section of a report is
 * {@link "emosteer/report"!renderQualitySection | renderQualitySection}; a study's requantized
 * variants are checked against their parent files with {@link VARIANT_QUALITY_OPTIONS}.
 *
 * @example
 * ```ts
 * import { loadModel } from 'emosteer';
 * import { compareQuality, formatQualityTable } from 'emosteer/quality';
 * const ref = await loadModel('gemma-3-270m-q4_k_m.gguf');
 * const q3 = await loadModel('gemma-3-270m-q3_k_m.gguf');
 * console.log(formatQualityTable(await compareQuality(ref, [q3])));
 * ```
 *
 * @module emosteer/quality
 */
export {
  compareQuality,
  compareSteering,
  compareSteerings,
  assertSameVocabulary,
  SCORING_CONVENTION,
  type QualityOptions,
  type SteeringQualityOptions,
  type QualityProgress,
  type QualityReport,
  type ModelQuality,
  type CandidateQuality,
  type SpeedFigures,
} from './compare.js';
export { DEFAULT_CORPUS, defaultCorpusPath, readDefaultCorpus, chunkTokens, textSha256, type CorpusInfo, type Chunks } from './corpus.js';
export { modelFileFacts, type ModelFileFacts } from './model-file.js';
export { perplexityEstimate, summarizeCandidate, type Estimate, type KldSummary, type CandidateSummary, type ChunkSeries, type ComparisonSeries } from './summary.js';
export { formatQualityTable } from './format.js';
export { VARIANT_QUALITY_FILE, VARIANT_QUALITY_OPTIONS, qualityHeadline, readVariantQuality, type QualityHeadline } from './variant.js';
