/**
 * Validation of a judge before it votes: on texts with known labels, the confusion matrix over
 * the classes the judge claims, macro-F1 and accuracy with bootstrap 95% intervals, their
 * chance levels, and the vote.
 *
 * **Classes.** A judge is validated through a {@link ClassView}: the classes it claims (its
 * own labels, e.g. NRC's joy / fear / ...; the 21 categories for the lexicon; positive /
 * negative for a polarity judge), a map from our 21 categories to those classes (null: the
 * category is not claimed, and its texts are left out), and its predicted label for a text.
 * A prediction outside the claimed classes (NRC's 'trust', a polarity judge's 'neutral', 'none')
 * lands in the matrix's `other` column: it is wrong for every text and belongs to no class.
 *
 * **Statistics.** Per class: precision, recall, F1 (precision 0 when the class is never
 * predicted). Macro-F1 = the mean F1 over the claimed classes that have texts. Intervals:
 * percentile bootstrap over texts (1000 resamples, seeded; {@link bootstrapCI}).
 *
 * **Chance.** Accuracy's chance is sum over classes of (share of texts of the class) x (share
 * of predictions of the class): the expected accuracy of a judge that gives the same answers
 * in the same proportions but independently of the text (it equals the majority share for a
 * judge that always gives one answer). Macro-F1's chance is the same idea by permutation: the
 * mean macro-F1 over 1000 seeded shuffles of the predictions against the labels. The uniform
 * level 1/K is reported too.
 *
 * **The vote.** A judge votes when the lower bound of its macro-F1 interval is above the
 * macro-F1 chance level on the classes it claims. Macro-F1 rather than accuracy, because a
 * judge that answers one frequent class (NRC's joy covers 7 of our 21 categories) gets a
 * high accuracy but a low macro-F1.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { bootstrapCI, seededRandom } from '../../evaluate/statistics.js';

/** The `other` column of a confusion matrix: predictions outside the claimed classes. */
export const OTHER_LABEL = 'other';

/** A text with the category it was written or generated to show (one of our 21 categories). */
export interface LabelledText {
  /** The text. */
  text: string;
  /** Its category (an emotion or 'neutral'). */
  category: string;
  /** Where it comes from (e.g. 'passages', 'stories', 'amazon'), for reports. */
  source?: string;
}

/** A judge as a classifier over the classes it claims (see the module comment). */
export interface ClassView {
  /** Name in reports, e.g. 'nrc-lexicon (5 NRC emotions)'. */
  name: string;
  /** The classes the judge claims, in report order. */
  classes: readonly string[];
  /** The claimed class of one of our categories, or null when the judge claims none for it. */
  classOf(category: string): string | null;
  /** The judge's label for a text (a claimed class, or anything else, which counts as 'other'). */
  predict(text: string): Promise<string>;
}

/** Options of {@link validatePredictions} and {@link validateJudge}. */
export interface ValidationOptions {
  /** Bootstrap resamples of the intervals (default 1000). */
  resamples?: number;
  /** Permutations of the macro-F1 chance level (default 1000). */
  permutations?: number;
  /** Seed of the bootstrap and the permutations (default 0). */
  seed?: number;
}

/** Per-class figures of a {@link JudgeValidation}. */
export interface ClassFigures {
  /** Texts of the class. */
  support: number;
  /** Texts predicted as the class. */
  predicted: number;
  /** Correct / predicted (0 when never predicted). */
  precision: number;
  /** Correct / support (NaN without support). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
}

/** A statistic with its percentile bootstrap 95% interval. */
export interface Interval {
  /** On all texts. */
  value: number;
  /** 95% percentile bootstrap interval over texts. */
  ci95: [number, number];
}

/** Result of {@link validatePredictions}: how well a judge tells its classes apart. */
export interface JudgeValidation {
  /** The claimed classes (rows of the matrix). */
  classes: string[];
  /** Texts validated (those of claimed categories). */
  n: number;
  /** Confusion matrix: counts[gold][predicted], rows in `classes` order, columns `classes` then {@link OTHER_LABEL}. */
  confusion: {
    /** Gold classes, in `classes` order. */
    rows: string[];
    /** Predicted classes: `classes`, then {@link OTHER_LABEL}. */
    columns: string[];
    /** counts[gold][predicted]. */
    counts: number[][];
  };
  /** Per-class precision, recall and F1. */
  perClass: Record<string, ClassFigures>;
  /** Macro-F1 over the classes with texts, and its interval. */
  macroF1: Interval;
  /** Accuracy, and its interval. */
  accuracy: Interval;
  /** Share of predictions in the `other` column. */
  otherRate: number;
  /** Chance levels (see the module comment). */
  chance: {
    /** Mean macro-F1 of the predictions shuffled against the labels. */
    macroF1: number;
    /** Expected accuracy of answers independent of the text, in the same proportions. */
    accuracy: number;
    /** 1 / number of classes with texts. */
    uniform: number;
  };
  /** Whether the judge votes: macroF1.ci95[0] > chance.macroF1. */
  votes: boolean;
  /** The vote rule, in words. */
  rule: string;
}

/** The vote rule of {@link JudgeValidation.votes}, in words. */
export const VOTE_RULE = 'votes when the lower bound of the bootstrap 95% interval of macro-F1 (over the classes it claims) is above the macro-F1 chance level (mean over permutations of its predictions against the labels)';

/** Macro-F1 and accuracy of class-index predictions over the indices `idx` (-1 = other). */
function scoresOf(gold: Int32Array, pred: Int32Array, K: number, idx: ArrayLike<number>): { macroF1: number; accuracy: number } {
  const tp = new Float64Array(K);
  const predicted = new Float64Array(K);
  const support = new Float64Array(K);
  let correct = 0;
  for (let t = 0; t < idx.length; t++) {
    const i = idx[t] as number;
    const g = gold[i] as number;
    const p = pred[i] as number;
    support[g] = (support[g] as number) + 1;
    if (p >= 0) predicted[p] = (predicted[p] as number) + 1;
    if (p === g) {
      tp[g] = (tp[g] as number) + 1;
      correct++;
    }
  }
  let f = 0;
  let classes = 0;
  for (let c = 0; c < K; c++) {
    if ((support[c] as number) === 0) continue;
    classes++;
    const precision = (predicted[c] as number) > 0 ? (tp[c] as number) / (predicted[c] as number) : 0;
    const recall = (tp[c] as number) / (support[c] as number);
    f += precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
  return { macroF1: classes ? f / classes : NaN, accuracy: idx.length ? correct / idx.length : NaN };
}

/**
 * Validation figures of predictions against gold labels, both already in the judge's classes
 * (a prediction not in `classes` is 'other'; a gold label must be one of `classes`).
 *
 * @param classes the claimed classes
 * @param gold the gold class of each text
 * @param predicted the judge's label of each text
 * @throws EmosteerError INVALID_ARGUMENT for no classes, duplicate classes, lengths that differ, no texts or a gold label outside `classes`
 */
export function validatePredictions(classes: readonly string[], gold: readonly string[], predicted: readonly string[], options: ValidationOptions = {}): JudgeValidation {
  if (!Array.isArray(classes) || classes.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'validation needs at least one claimed class');
  if (new Set(classes).size !== classes.length) throw new EmosteerError('INVALID_ARGUMENT', `the claimed classes repeat one: ${classes.join(', ')}`);
  if (classes.includes(OTHER_LABEL)) throw new EmosteerError('INVALID_ARGUMENT', `'${OTHER_LABEL}' is reserved for predictions outside the claimed classes`);
  if (gold.length !== predicted.length) throw new EmosteerError('INVALID_ARGUMENT', `${gold.length} gold labels but ${predicted.length} predictions`);
  const n = gold.length;
  if (n === 0) throw new EmosteerError('INVALID_ARGUMENT', 'validation needs at least one text of a claimed class');
  const resamples = options.resamples ?? 1000;
  const permutations = options.permutations ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(permutations) || permutations < 1) throw new EmosteerError('INVALID_ARGUMENT', `permutations must be a positive integer, got ${String(permutations)}`);
  const K = classes.length;
  const index = new Map(classes.map((c, k) => [c, k]));
  const g = new Int32Array(n);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const gi = index.get(gold[i]!);
    if (gi === undefined) throw new EmosteerError('INVALID_ARGUMENT', `gold label '${gold[i]}' is not a claimed class (${classes.join(', ')})`);
    g[i] = gi;
    p[i] = index.get(predicted[i]!) ?? -1;
  }
  const counts = classes.map(() => new Array<number>(K + 1).fill(0));
  for (let i = 0; i < n; i++) counts[g[i]!]![p[i]! >= 0 ? p[i]! : K]!++;
  const perClass: Record<string, ClassFigures> = {};
  let other = 0;
  classes.forEach((c, k) => {
    const support = counts[k]!.reduce((a, b) => a + b, 0);
    let predictedK = 0;
    for (let r = 0; r < K; r++) predictedK += counts[r]![k]!;
    const tp = counts[k]![k]!;
    const precision = predictedK > 0 ? tp / predictedK : 0;
    const recall = support > 0 ? tp / support : NaN;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[c] = { support, predicted: predictedK, precision, recall, f1 };
    other += counts[k]![K]!;
  });
  const f1 = bootstrapCI(n, (idx) => scoresOf(g, p, K, idx).macroF1, { resamples, seed });
  const acc = bootstrapCI(n, (idx) => scoresOf(g, p, K, idx).accuracy, { resamples, seed });

  // Chance: accuracy analytically, macro-F1 by permutation of the predictions.
  const goldShare = new Float64Array(K);
  const predShare = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    goldShare[g[i]!] = (goldShare[g[i]!] as number) + 1 / n;
    if (p[i]! >= 0) predShare[p[i]!] = (predShare[p[i]!] as number) + 1 / n;
  }
  let chanceAcc = 0;
  for (let c = 0; c < K; c++) chanceAcc += (goldShare[c] as number) * (predShare[c] as number);
  const rand = seededRandom(seed + 7919);
  const shuffled = Int32Array.from(p);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  let chanceF1 = 0;
  for (let r = 0; r < permutations; r++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = shuffled[i]!;
      shuffled[i] = shuffled[j]!;
      shuffled[j] = t;
    }
    chanceF1 += scoresOf(g, shuffled, K, all).macroF1;
  }
  chanceF1 /= permutations;
  const present = [...goldShare].filter((v) => v > 0).length;
  return {
    classes: [...classes],
    n,
    confusion: { rows: [...classes], columns: [...classes, OTHER_LABEL], counts },
    perClass,
    macroF1: { value: f1.value, ci95: f1.ci95 },
    accuracy: { value: acc.value, ci95: acc.ci95 },
    otherRate: other / n,
    chance: { macroF1: chanceF1, accuracy: chanceAcc, uniform: 1 / present },
    votes: f1.ci95[0] > chanceF1,
    rule: VOTE_RULE,
  };
}

/** Result of {@link validateJudge}: {@link JudgeValidation} plus what was left out. */
export interface JudgeValidationReport extends JudgeValidation {
  /** The view's name. */
  judge: string;
  /** Texts of categories the judge does not claim (left out), by category. */
  excluded: Record<string, number>;
}

/**
 * Validates a judge on labelled texts: each text whose category the view claims is predicted
 * (one after the other), then {@link validatePredictions}.
 * @throws EmosteerError INVALID_ARGUMENT when no text is of a claimed category, and what the view's predict throws
 */
export async function validateJudge(view: ClassView, texts: readonly LabelledText[], options: ValidationOptions = {}): Promise<JudgeValidationReport> {
  const gold: string[] = [];
  const predicted: string[] = [];
  const excluded: Record<string, number> = {};
  for (const t of texts) {
    const cls = view.classOf(t.category);
    if (cls === null) {
      excluded[t.category] = (excluded[t.category] ?? 0) + 1;
      continue;
    }
    gold.push(cls);
    predicted.push(await view.predict(t.text));
  }
  if (gold.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `none of the ${texts.length} texts is of a category that ${view.name} claims`);
  return { judge: view.name, excluded, ...validatePredictions(view.classes, gold, predicted, options) };
}
