/**
 * `emosteer/study`: many models x quantizations, one row each, compared across models and
 * checked against the paper's claims one by one.
 *
 * A study run (`emosteer study`) writes study.json ({@link StudyResult}); these functions
 * rebuild its parts from the per-variant run folders: {@link readStudyRow} reads one variant,
 * {@link crossModelComparisons} and {@link quantizationCurves} compare them, {@link checkClaims}
 * gives a verdict per claim. The cross-model report is {@link "emosteer/report"!renderStudyReport | renderStudyReport}.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import type { StudyResult } from 'emosteer/study';
 * import { checkClaims } from 'emosteer/study';
 * const study = JSON.parse(await readFile('runs/study/study.json', 'utf8')) as StudyResult;
 * for (const v of checkClaims(study.rows, study.comparisons)) console.log(v.id, v.verdict, v.why);
 * ```
 *
 * @module emosteer/study
 */
export { checkClaims, depthBandVerdict, signAgreement, blockAgreement, crossLingualVerdict, MID_DEPTH, DECODABILITY_EQUIVALENCE, CROSS_LINGUAL_EQUIVALENCE, PRIMARY_SET, AUTHOR_ANISOTROPY, type AuthorAnisotropy } from './claims.js';
export { intervalVerdict, allOf, acrossModels, holm, bootstrapP, RULES_VERSION, MIN_MODELS_FOR_ACROSS_TEST, type Verdict, type AcrossModels, type IntervalEstimate, type IntervalRule, type RuledVerdict } from './verdict-rules.js';
export { steeringEndpoints, primaryStrength, pFromInterval, baselineRegime, PRIMARY_JUDGE_PREFERENCE, type SteeringEndpointOptions, type PairwiseEndpointInput } from './steering-endpoints.js';
export { resultsBlocks, replaceGeneratedBlocks, generatedBlocks, generatedBlockNames, type RunSteps, type RunStepRecord } from './results-markdown.js';
export { crossModelComparisons, quantizationCurves, readRow as readStudyRow } from './aggregate.js';
export { studyRsa, RSA_PRIMARY_SET, RSA_SECONDARY_SET, RSA_DEPTHS, type StudyRsa, type StudyRsaComparison, type RsaSide, type RsaBlockRule, type RsaModelFamily, type RsaUnderRule } from './study-rsa.js';
export type { StudyResult, StudyRow, StudyVariant, StudyMethodRow, StudySteeringRow, CrossModelComparison, QuantizationCurve, QuantizationInfo, ClaimVerdict, StudyDecodability, PairedDecodability, StudySteeringEndpoints, PairwiseValidationSummary } from './types.js';
