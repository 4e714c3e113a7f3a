/**
 * The verdict rules of the study (docs/PREREG.md, version {@link RULES_VERSION}): how an
 * estimate with its 95% interval becomes **holds**, **does not hold** or **inconclusive**, and
 * how per-model verdicts are counted across models. Every claim of lib/study/claims.ts decides
 * through these functions, so each rule can be tested on planted data in all three directions.
 *
 * A verdict from an interval:
 * - **holds**: the interval lies entirely on the claimed side of the null;
 * - **does not hold**: the interval lies entirely on the other side, or entirely inside the
 *   equivalence band around the null (the effect, if any, is too small to matter);
 * - **inconclusive**: anything else (the interval includes the null and reaches beyond the band).
 *
 * @module
 */

/** Version of the pre-registered rules (docs/PREREG.md); recorded in every study.json. */
export const RULES_VERSION = 'prereg-2';

/** The outcome of a claim on one model, or across models. */
export type Verdict = 'holds' | 'does not hold' | 'inconclusive' | 'cannot be tested here';

/** A point estimate with a 95% interval. */
export interface IntervalEstimate {
  /** The estimate on all the data. */
  value: number;
  /** 95% interval [low, high]. */
  ci95: readonly [number, number];
}

/** How an interval is read. */
export interface IntervalRule {
  /** The value of "no effect" (default 0). */
  null?: number;
  /** Half-width of the band around the null inside which an effect counts as none (default 0: no band). */
  equivalence?: number;
  /** Which side the claim predicts (default 'greater': the claim says the estimate exceeds the null). */
  side?: 'greater' | 'less';
}

/** A verdict and the sentence that explains it. */
export interface RuledVerdict {
  /** The outcome. */
  verdict: Verdict;
  /** Why, in words, with the numbers. */
  reason: string;
}

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 || x === 0 ? x.toFixed(0) : Math.abs(x) < 0.01 ? x.toExponential(1) : x.toFixed(3)) : 'n/a');

/**
 * Reads an estimate's interval against the null: holds / does not hold / inconclusive.
 * A missing or non-finite interval cannot be tested.
 */
export function intervalVerdict(est: IntervalEstimate | undefined, rule: IntervalRule = {}): RuledVerdict {
  const nul = rule.null ?? 0;
  const eq = rule.equivalence ?? 0;
  const side = rule.side ?? 'greater';
  if (!est || !Number.isFinite(est.ci95[0]) || !Number.isFinite(est.ci95[1])) return { verdict: 'cannot be tested here', reason: 'no interval could be estimated' };
  const [lo, hi] = est.ci95;
  const text = `${fmt(est.value)} [${fmt(lo)}, ${fmt(hi)}]`;
  const above = lo > nul;
  const below = hi < nul;
  const inBand = eq > 0 && lo >= nul - eq && hi <= nul + eq;
  if (side === 'greater' ? above : below) return { verdict: 'holds', reason: `${text} lies ${side === 'greater' ? 'above' : 'below'} ${fmt(nul)}` };
  if (side === 'greater' ? below : above) return { verdict: 'does not hold', reason: `${text} lies ${side === 'greater' ? 'below' : 'above'} ${fmt(nul)}: the opposite of the claim` };
  if (inBand) return { verdict: 'does not hold', reason: `${text} lies inside the equivalence band ${fmt(nul)} ± ${fmt(eq)}: no effect worth the name` };
  return { verdict: 'inconclusive', reason: `${text} includes ${fmt(nul)}${eq > 0 ? ` and reaches beyond the band ± ${fmt(eq)}` : ''}` };
}

/** Both parts must hold for the claim to hold; either failing fails it; otherwise inconclusive. */
export function allOf(parts: readonly (RuledVerdict & { name: string })[]): RuledVerdict {
  const testable = parts.filter((p) => p.verdict !== 'cannot be tested here');
  const reason = parts.map((p) => `${p.name}: ${p.verdict} (${p.reason})`).join('; ');
  if (testable.length < parts.length) return { verdict: 'cannot be tested here', reason };
  if (parts.some((p) => p.verdict === 'does not hold')) return { verdict: 'does not hold', reason };
  if (parts.every((p) => p.verdict === 'holds')) return { verdict: 'holds', reason };
  return { verdict: 'inconclusive', reason };
}

/** The smallest number of paired models a two-sided test across models can reject at 0.05 with (sign test / Wilcoxon: 6). */
export const MIN_MODELS_FOR_ACROSS_TEST = 6;

/** Per-model verdicts counted across models. */
export interface AcrossModels {
  /** Models whose verdict was tested (holds, does not hold or inconclusive). */
  tested: number;
  /** Models where the claim holds. */
  holds: number;
  /** Models where it does not hold. */
  doesNotHold: number;
  /** Models where it is inconclusive. */
  inconclusive: number;
  /**
   * Across models: 'holds' when it holds on every tested model, 'does not hold' when it holds on
   * none and fails on at least one, 'inconclusive' otherwise (mixed or undecided).
   */
  verdict: Verdict;
  /** "k of n models", and whether a test across models is possible at all. */
  sentence: string;
}

/**
 * Counts per-model verdicts: a sign count, never a p-value across fewer than
 * {@link MIN_MODELS_FOR_ACROSS_TEST} models.
 */
export function acrossModels(perModel: readonly Verdict[]): AcrossModels {
  const tested = perModel.filter((v) => v !== 'cannot be tested here');
  const holds = tested.filter((v) => v === 'holds').length;
  const doesNotHold = tested.filter((v) => v === 'does not hold').length;
  const inconclusive = tested.length - holds - doesNotHold;
  let verdict: Verdict;
  if (tested.length === 0) verdict = 'cannot be tested here';
  else if (holds === tested.length) verdict = 'holds';
  else if (holds === 0 && doesNotHold > 0 && inconclusive === 0) verdict = 'does not hold';
  else verdict = 'inconclusive';
  const n = tested.length;
  const test = n >= MIN_MODELS_FOR_ACROSS_TEST
    ? `a test across models is possible with ${n} models`
    : `not testable across models below about ${MIN_MODELS_FOR_ACROSS_TEST} paired models (here ${n})`;
  return { tested: n, holds, doesNotHold, inconclusive, verdict, sentence: `holds in ${holds} of ${n} models, does not hold in ${doesNotHold}, inconclusive in ${inconclusive}; ${test}` };
}

/**
 * Holm's step-down adjustment of p-values (family-wise error), in the input order.
 * @returns adjusted p-values, each in [0, 1]
 */
export function holm(pValues: readonly number[]): number[] {
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(pValues.length);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (pValues.length - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * A two-sided p-value from bootstrap replicates of an estimate: twice the smaller share of
 * replicates on either side of the null (with the +1 correction), at most 1.
 */
export function bootstrapP(replicates: ArrayLike<number>, nul = 0): number {
  const n = replicates.length;
  if (n === 0) return Number.NaN;
  let le = 0;
  let ge = 0;
  for (let i = 0; i < n; i++) {
    if (replicates[i]! <= nul) le++;
    if (replicates[i]! >= nul) ge++;
  }
  return Math.min(1, (2 * (Math.min(le, ge) + 1)) / (n + 1));
}
