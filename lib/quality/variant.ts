/**
 * The quality check of a study's requantized variant against its parent file (the model as
 * shipped): {@link compareQuality} on a short stretch of the default corpus, cached as
 * `quality.json` in the variant's folder, and the few figures a study row shows of it
 * ({@link qualityHeadline}).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { QualityOptions, QualityReport } from './compare.js';
import type { Estimate } from './summary.js';

/** The file, in a requantized variant's study folder, that holds its {@link QualityReport} against its parent. */
export const VARIANT_QUALITY_FILE = 'quality.json';

/**
 * How a study compares a requantized variant with its parent: 8 chunks of 512 tokens of the
 * default corpus (the first ~4,100 tokens of *Alice's Adventures in Wonderland*; 255 scored
 * tokens per chunk, 2,040 in all), no speed measurement. 8 chunks keep the check at 16
 * decodes of 512 tokens per variant (the parent's and the variant's; docs/quality.md estimates
 * the time) while still giving the bootstrap over chunks 8 units to resample; `emosteer quality`
 * with more chunks gives tighter intervals.
 */
export const VARIANT_QUALITY_OPTIONS: Readonly<Pick<QualityOptions, 'contextSize' | 'chunks' | 'speed'>> = Object.freeze({
  contextSize: 512,
  chunks: 8,
  speed: false,
});

/** The figures of one candidate of a {@link QualityReport} that a study's quantization row shows. */
export interface QualityHeadline {
  /** The reference's label (its file name). */
  reference: string;
  /** The candidate's label (its file name). */
  candidate: string;
  /** Bits per weight the reference's file holds. */
  referenceBitsPerWeight: number;
  /** Bits per weight the candidate's file holds. */
  bitsPerWeight: number;
  /** Mean KL(reference || candidate) in nats per token, with its 95% interval over chunks. */
  kldMean: Estimate;
  /** Tokens whose most probable next token is the reference's, in %, with its interval. */
  sameTopPercent: Estimate;
  /** PPL(candidate) / PPL(reference), paired per chunk, with its interval. */
  perplexityRatio: Estimate;
  /** The text's name. */
  text: string;
  /** Chunks scored. */
  chunks: number;
  /** Tokens per chunk. */
  contextSize: number;
  /** Scored tokens in all. */
  scoredTokens: number;
}

/**
 * The headline figures of a report's candidate.
 * @param index which candidate (default the first)
 * @returns undefined when the report has no such candidate
 */
export function qualityHeadline(report: QualityReport, index = 0): QualityHeadline | undefined {
  const c = report.candidates[index];
  if (!c) return undefined;
  return {
    reference: report.reference.label,
    candidate: c.label,
    referenceBitsPerWeight: report.reference.file.bitsPerWeight,
    bitsPerWeight: c.file.bitsPerWeight,
    kldMean: c.kld.mean,
    sameTopPercent: c.sameTopPercent,
    perplexityRatio: c.perplexityRatio,
    text: report.text.name,
    chunks: report.chunks,
    contextSize: report.contextSize,
    scoredTokens: report.scoredTokens,
  };
}

/**
 * The {@link QualityReport} cached in a variant's folder ({@link VARIANT_QUALITY_FILE}), or
 * undefined when there is none or it does not hold a report with a candidate (a broken file is
 * ignored, so that a rerun computes it again).
 */
export async function readVariantQuality(dir: string): Promise<QualityReport | undefined> {
  const path = join(dir, VARIANT_QUALITY_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const report = JSON.parse(await readFile(path, 'utf8')) as QualityReport;
    return Array.isArray(report?.candidates) && report.candidates.length > 0 && report.candidates[0]?.kld?.mean ? report : undefined;
  } catch {
    return undefined;
  }
}
