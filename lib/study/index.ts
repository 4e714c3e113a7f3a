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
export { checkClaims } from './claims.js';
export { crossModelComparisons, quantizationCurves, readRow as readStudyRow } from './aggregate.js';
export type { StudyResult, StudyRow, StudyVariant, StudyMethodRow, StudySteeringRow, CrossModelComparison, QuantizationCurve, QuantizationInfo, ClaimVerdict } from './types.js';
