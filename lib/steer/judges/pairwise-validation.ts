/**
 * Validation of a pairwise forced-choice judge ({@link PairwiseJudge}) on labelled texts: pairs
 * of a text of emotion X and a text of another category, asked "which expresses more X?". A
 * judge that cannot tell is right half of the time; it votes only when the bootstrap interval
 * of its accuracy lies above 0.5.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { bootstrapCI } from '../../evaluate/statistics.js';
import type { Interval, LabelledText } from './judge-validation.js';
import type { PairwiseComparison, PairwiseJudge } from './pairwise-judge.js';

/** One validation pair: `target` is a text of `emotion`, `other` one of another category. */
export interface ValidationPair {
  /** The emotion asked about. */
  emotion: string;
  /** A text labelled `emotion` (the right answer). */
  target: LabelledText;
  /** A text of another category. */
  other: LabelledText;
}

/** Options of {@link validationPairs}. */
export interface ValidationPairOptions {
  /** Pairs per emotion (default 2); the emotion's first texts are used, in order. */
  perEmotion?: number;
  /** Category that is never asked about (default 'neutral'; it may still be the other text). */
  exclude?: string;
}

/**
 * A stratified set of validation pairs: for each category but `exclude`, its first
 * `perEmotion` texts, each against a text of another category taken in turn (the next
 * categories in order, so that every category is the other text about equally often).
 * @throws EmosteerError INVALID_ARGUMENT for fewer than 2 categories or a bad `perEmotion`
 */
export function validationPairs(texts: readonly LabelledText[], options: ValidationPairOptions = {}): ValidationPair[] {
  const per = options.perEmotion ?? 2;
  if (!Number.isInteger(per) || per < 1) throw new EmosteerError('INVALID_ARGUMENT', `perEmotion must be a positive integer (got ${String(per)})`);
  const exclude = options.exclude ?? 'neutral';
  const byClass = new Map<string, LabelledText[]>();
  for (const t of texts) byClass.set(t.category, [...(byClass.get(t.category) ?? []), t]);
  const classes = [...byClass.keys()];
  if (classes.length < 2) throw new EmosteerError('INVALID_ARGUMENT', 'validation pairs need texts of at least 2 categories');
  const used = new Map<string, number>();
  const pairs: ValidationPair[] = [];
  classes.forEach((c, ci) => {
    if (c === exclude) return;
    const own = byClass.get(c)!.slice(0, per);
    own.forEach((target, j) => {
      const oc = classes[(ci + 1 + j) % classes.length]!;
      const pool = byClass.get(oc === c ? classes[(ci + 2 + j) % classes.length]! : oc)!;
      const k = used.get(oc) ?? 0;
      used.set(oc, k + 1);
      pairs.push({ emotion: c, target, other: pool[k % pool.length]! });
    });
  });
  return pairs;
}

/** What {@link validatePairwise} measured. */
export interface PairwiseValidation {
  /** The judge's name. */
  judge: string;
  /** Where the texts came from (e.g. 'passages', 'stories'). */
  data: string;
  /** Pairs compared. */
  n: number;
  /** Share of pairs where the target text won (probability > 0.5), with a bootstrap 95% interval over pairs. */
  accuracy: Interval;
  /** Mean probability given to the target text. */
  meanProbability: number;
  /** Mean position bias (P(first answer) over both orders minus 0.5). */
  positionBias: number;
  /** Share of pairs where the two orders disagreed (one said the target won, the other not). */
  orderDisagreement: number;
  /** Right answers per emotion asked about. */
  perEmotion: Record<string, PairCount>;
  /** Chance accuracy (0.5). */
  chance: number;
  /** True when the interval's lower bound lies above chance. */
  votes: boolean;
  /** The vote rule in words. */
  rule: string;
  /** Every comparison, in pair order. */
  comparisons: PairOutcome[];
}

/** Pairs asked about one emotion, and how many the judge got right. */
export interface PairCount {
  /** Pairs. */
  n: number;
  /** Pairs where the emotion's text won. */
  correct: number;
}

/** One validation comparison as {@link PairwiseValidation} keeps it. */
export interface PairOutcome {
  /** The emotion asked about. */
  emotion: string;
  /** Category of the other text. */
  otherCategory: string;
  /** Probability given to the emotion's text (both orders averaged). */
  probability: number;
  /** Each order's probability (emotion's text first, second). */
  orders: [number, number];
}

/** The vote rule of a pairwise judge. */
export const PAIRWISE_VOTE_RULE = 'votes when the lower bound of the bootstrap 95% interval of its pair accuracy (target text preferred, both orders averaged) is above 0.5';

/**
 * Asks the judge about every pair and measures how often the text of the emotion asked about
 * wins.
 * `options.onProgress` is called after each pair with (done, total).
 * @throws EmosteerError INVALID_ARGUMENT for no pairs
 */
export async function validatePairwise(judge: PairwiseJudge, pairs: readonly ValidationPair[], options: { data?: string; resamples?: number; seed?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<PairwiseValidation> {
  if (pairs.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no validation pairs');
  const results: PairwiseComparison[] = [];
  for (const p of pairs) {
    results.push(await judge.compare(p.target.text, p.other.text, p.emotion));
    options.onProgress?.(results.length, pairs.length);
  }
  return pairwiseFigures(judge.name, pairs, results, options);
}

/** The figures of {@link validatePairwise} from comparisons already made (one per pair). */
export function pairwiseFigures(judge: string, pairs: readonly ValidationPair[], results: readonly PairwiseComparison[], options: { data?: string; resamples?: number; seed?: number } = {}): PairwiseValidation {
  if (pairs.length !== results.length) throw new EmosteerError('INVALID_ARGUMENT', `${pairs.length} pairs but ${results.length} comparisons`);
  if (pairs.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no validation pairs');
  const won = results.map((r) => (r.probability > 0.5 ? 1 : 0));
  const b = bootstrapCI(won.length, (idx) => { let s = 0; for (const i of idx) s += won[i]!; return s / idx.length; }, { resamples: options.resamples ?? 2000, seed: options.seed ?? 0 });
  const perEmotion: Record<string, PairCount> = {};
  pairs.forEach((p, i) => {
    const e = (perEmotion[p.emotion] ??= { n: 0, correct: 0 });
    e.n++;
    e.correct += won[i]!;
  });
  const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
  return {
    judge,
    data: options.data ?? pairs[0]!.target.source ?? 'texts',
    n: pairs.length,
    accuracy: { value: b.value, ci95: [b.ci95[0], b.ci95[1]] },
    meanProbability: mean(results.map((r) => r.probability)),
    positionBias: mean(results.map((r) => r.positionBias)),
    orderDisagreement: mean(results.map((r) => ((r.orders[0] > 0.5) !== (r.orders[1] > 0.5) ? 1 : 0))),
    perEmotion,
    chance: 0.5,
    votes: b.ci95[0] > 0.5,
    rule: PAIRWISE_VOTE_RULE,
    comparisons: pairs.map((p, i) => ({ emotion: p.emotion, otherCategory: p.other.category, probability: results[i]!.probability, orders: results[i]!.orders })),
  };
}
