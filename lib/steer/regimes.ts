/**
 * Text-degeneration metrics and the classifier of the paper's three steering regimes:
 * *surgical* (coherent text, emotion changed), *repetitive* collapse (the text loops) and
 * *explosive* (the text falls apart).
 *
 * The paper tells the regimes apart by perplexity ratios; a perplexity ratio alone misses
 * loops (a loop is *easy* to predict, so its perplexity often drops), hence the repetition
 * metrics beside it.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { scriptOf, UNSPACED_SCRIPTS, type ScriptName } from './scripts.js';

/** The three steering regimes. */
export type Regime = 'surgical' | 'repetitive' | 'explosive';

/** Inputs of {@link classifyRegime}. */
export interface RegimeMetrics {
  /**
   * Perplexity of the steered continuation under the *unsteered* model divided by the
   * perplexity of the unsteered continuation under the unsteered model (same prompt).
   * 1 = as fluent as normal; Infinity allowed (a token of probability 0).
   */
  perplexityRatio: number;
  /** {@link repeatedNgramRate} of the steered text's words, n = 3. */
  repeatedTrigramRate: number;
  /** {@link distinctN} of the steered text's words, n = 2. */
  distinct2: number;
  /** Length of the steered continuation (words or tokens: the same unit as baselineLength). */
  length: number;
  /** Length of the unsteered continuation, in the same unit. */
  baselineLength: number;
  /** Optional {@link nonWordRate} of the steered text (share of garbage-looking chunks). */
  nonWordRate?: number;
}

/** Thresholds of {@link classifyRegime}; see {@link DEFAULT_REGIME_THRESHOLDS}. */
export interface RegimeThresholds {
  /** Explosive when perplexityRatio is strictly above this. */
  maxPerplexityRatio: number;
  /** Explosive when nonWordRate (if given) is strictly above this. */
  maxNonWordRate: number;
  /**
   * Explosive when the steered text is shorter than this fraction of the baseline (strictly
   * below), and the baseline has at least `minLength` units. 0 disables the check.
   */
  minLengthRatio: number;
  /** Repetitive when repeatedTrigramRate is strictly above this. */
  maxRepeatedTrigramRate: number;
  /** Repetitive when distinct2 is strictly below this. */
  minDistinct2: number;
  /**
   * Texts shorter than this (in the unit of `length`) are too short for repetition metrics
   * (and the length-collapse check needs a baseline at least this long); only the perplexity
   * and non-word checks apply to them.
   */
  minLength: number;
}

/**
 * Default regime thresholds. Each is a strict inequality: a metric exactly on a threshold
 * stays on the surgical side.
 *
 * - `maxPerplexityRatio: 20` — the unsteered model finds the steered text more than 20 times as
 *   surprising per token as its own continuation. Calibrated on Gemma 3 270M (48-token
 *   continuations): fluent text that changed topic and mood ("gently drizzle the golden colour
 *   of the flowers into the warm air" for a recipe steered to blissful) reached ratios of 4-8,
 *   so the ratio alone must be large before it means broken language; loops are caught by the
 *   repetition thresholds below and token salad by `maxNonWordRate`.
 * - `maxNonWordRate: 0.5` — more than half of the whitespace-separated chunks look like
 *   garbage (see {@link nonWordRate}): the text has stopped being language.
 * - `minLengthRatio: 0.2` — the continuation ends after less than a fifth of the baseline's
 *   length: strong steering commonly throws the model straight into an end-of-text or stray
 *   special token, the same loss of control as gibberish, only shorter.
 * - `maxRepeatedTrigramRate: 0.35` — more than 35% of word trigrams already occurred earlier.
 *   Natural prose of a few hundred words repeats well under 10% of its trigrams; a loop of a
 *   phrase drives the rate towards 1.
 * - `minDistinct2: 0.4` — fewer than 40% of word bigrams are distinct. Natural prose sits
 *   around 0.8-1.0; loops of short phrases drop it far below 0.4.
 * - `minLength: 8` — below 8 words n-gram statistics are meaningless (3 words cannot loop).
 */
export const DEFAULT_REGIME_THRESHOLDS: Readonly<RegimeThresholds> = Object.freeze({
  maxPerplexityRatio: 20,
  maxNonWordRate: 0.5,
  minLengthRatio: 0.2,
  maxRepeatedTrigramRate: 0.35,
  minDistinct2: 0.4,
  minLength: 8,
});

function checkN(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new EmosteerError('INVALID_ARGUMENT', `n must be a positive integer (got ${n})`);
}

function checkTokens(tokens: readonly (string | number)[]): void {
  if (!Array.isArray(tokens)) throw new EmosteerError('INVALID_ARGUMENT', 'tokens must be an array of strings or numbers');
}

function* ngramKeys(tokens: readonly (string | number)[], n: number): Generator<string> {
  for (let i = 0; i + n <= tokens.length; i++) {
    // JSON keeps 1 and '1', or 'a b' + 'c' and 'a' + 'b c', apart.
    yield JSON.stringify(tokens.slice(i, i + n));
  }
}

/**
 * Fraction of the text's n-grams that already occurred earlier in it: with k n-grams in
 * total, (k - distinct n-grams) / k. 0 when the text has fewer than n tokens.
 *
 * @param tokens words (see {@link wordTokens}) or token ids
 * @param n n-gram size (default 3)
 * @example repeatedNgramRate(['a', 'b', 'a', 'b'], 2) // 1/3: "a b", "b a", "a b" (repeat)
 */
export function repeatedNgramRate(tokens: readonly string[] | readonly number[], n = 3): number {
  checkTokens(tokens);
  checkN(n);
  const seen = new Set<string>();
  let total = 0;
  let repeated = 0;
  for (const key of ngramKeys(tokens, n)) {
    total++;
    if (seen.has(key)) repeated++;
    else seen.add(key);
  }
  return total === 0 ? 0 : repeated / total;
}

/**
 * Distinct-n: number of distinct n-grams / number of n-grams (1 = no repeats). 1 when the
 * text has fewer than n tokens (nothing can repeat).
 *
 * @param tokens words (see {@link wordTokens}) or token ids
 * @param n n-gram size
 */
export function distinctN(tokens: readonly string[] | readonly number[], n: number): number {
  checkTokens(tokens);
  checkN(n);
  const seen = new Set<string>();
  let total = 0;
  for (const key of ngramKeys(tokens, n)) {
    total++;
    seen.add(key);
  }
  return total === 0 ? 1 : seen.size / total;
}

/**
 * A simple word tokenizer for degeneration metrics: lower-cased runs of letters, marks and
 * digits (inner apostrophes and hyphens kept: "don't", "well-known"); every Han, Hiragana or
 * Katakana character is a word of its own, since those scripts do not separate words by
 * spaces. Punctuation and whitespace are dropped.
 */
export function wordTokens(text: string): string[] {
  if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'wordTokens needs a string');
  const re = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{M}\p{N}])+(?:['\u2019-](?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])[\p{L}\p{M}\p{N}])+)*/gu;
  const out: string[] = [];
  for (const m of text.matchAll(re)) out.push(m[0].toLowerCase().replace(/\u2019/g, "'"));
  return out;
}

/**
 * Whether one whitespace-separated chunk looks like garbage rather than a word (or a word with
 * punctuation, a number, a URL): it contains U+FFFD, control, private-use or unassigned
 * characters; it has no letter or digit, is longer than 3 characters and is not a separator
 * run of one character ("----", "****"); a letter repeats 4+ times in a row ("aaaa"); it mixes
 * letters of two space-separated scripts ("pрivет": Latin with Cyrillic; Han, Kana and Thai
 * mixed with anything are allowed, as real text does that); letters and digits alternate
 * more than twice ("a1b2c3"); it is a lower- or mixed-case Latin word of 5+ letters with no
 * vowel (aeiouy), or a chunk of over 30 characters outside the scripts written without spaces.
 */
export function isGarbageChunk(chunk: string): boolean {
  if (chunk.length === 0) return false;
  if (/[\uFFFD\p{Cc}\p{Co}\p{Cn}]/u.test(chunk)) return true;
  if (/^(https?:\/\/|www\.)/i.test(chunk)) return false;
  if (!/[\p{L}\p{N}]/u.test(chunk)) return chunk.length > 3 && !/^([-=*_.~#+])\1*$/u.test(chunk);
  if (/(\p{L})\1{3,}/u.test(chunk)) return true;
  const scripts = new Set<ScriptName>();
  let noSpaceLetters = 0;
  for (const ch of chunk) {
    if (!/\p{L}/u.test(ch)) continue;
    const sc = scriptOf(ch);
    if (UNSPACED_SCRIPTS.has(sc)) noSpaceLetters++;
    else scripts.add(sc);
  }
  if (scripts.size > 1) return true;
  if (chunk.length > 30 && noSpaceLetters === 0) return true;
  const switches = (chunk.match(/\p{L}(?=\p{N})|\p{N}(?=\p{L})/gu) ?? []).length;
  if (switches > 2) return true;
  const letters = chunk.replace(/\P{L}/gu, '');
  if (letters.length >= 5 && /^\p{Script=Latin}+$/u.test(letters) && letters !== letters.toUpperCase() && !/[aeiouy]/i.test(letters.normalize('NFD'))) return true;
  return false;
}

/**
 * Share (0..1) of the text's whitespace-separated chunks that {@link isGarbageChunk} calls
 * garbage; 0 for empty text. Dictionary-free, so it works for any language, but it only
 * catches the crude garbage explosive steering produces (symbol runs, letter soup, broken
 * bytes), not fluent nonsense — which is what the perplexity ratio is for.
 */
export function nonWordRate(text: string): number {
  if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'nonWordRate needs a string');
  const chunks = text.split(/\s+/u).filter((c) => c.length > 0);
  if (chunks.length === 0) return 0;
  let bad = 0;
  for (const c of chunks) if (isGarbageChunk(c)) bad++;
  return bad / chunks.length;
}

/**
 * The text-only metrics of a steered continuation (everything {@link classifyRegime} needs
 * except the perplexity ratio and the baseline length): words by {@link wordTokens}.
 */
export function measureText(text: string): { repeatedTrigramRate: number; distinct2: number; length: number; nonWordRate: number } {
  const words = wordTokens(text);
  return {
    repeatedTrigramRate: repeatedNgramRate(words, 3),
    distinct2: distinctN(words, 2),
    length: words.length,
    nonWordRate: nonWordRate(text),
  };
}

function checkMetric(name: string, v: unknown, opts: { allowInfinity?: boolean; max?: number } = {}): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!opts.allowInfinity && !Number.isFinite(v)) || (opts.max !== undefined && v > opts.max)) {
    throw new EmosteerError('INVALID_ARGUMENT', `${name} must be a number >= 0${opts.max !== undefined ? ` and <= ${opts.max}` : ''}${opts.allowInfinity ? '' : ' (finite)'} (got ${String(v)})`);
  }
}

/**
 * Classifies one steered continuation into a regime. The checks run in this order:
 * 1. explosive: perplexityRatio > maxPerplexityRatio, or nonWordRate > maxNonWordRate, or the
 *    text collapsed in length (length < minLengthRatio x baselineLength, with
 *    baselineLength >= minLength);
 * 2. repetitive (only when length >= minLength): repeatedTrigramRate > maxRepeatedTrigramRate
 *    or distinct2 < minDistinct2;
 * 3. otherwise surgical.
 * Explosive wins over repetitive: a loop of garbage is garbage first.
 *
 * @param m the metrics of the steered text (see {@link RegimeMetrics})
 * @param thresholds defaults in {@link DEFAULT_REGIME_THRESHOLDS}; a partial object overrides them
 * @throws EmosteerError INVALID_ARGUMENT for NaN, negative or out-of-range metrics or thresholds
 */
export function classifyRegime(m: RegimeMetrics, thresholds: Partial<RegimeThresholds> = DEFAULT_REGIME_THRESHOLDS): Regime {
  if (!m || typeof m !== 'object') throw new EmosteerError('INVALID_ARGUMENT', 'classifyRegime needs a metrics object');
  const t: RegimeThresholds = { ...DEFAULT_REGIME_THRESHOLDS, ...thresholds };
  for (const [k, v] of Object.entries(t)) checkMetric(`threshold ${k}`, v, { allowInfinity: true });
  checkMetric('perplexityRatio', m.perplexityRatio, { allowInfinity: true });
  checkMetric('repeatedTrigramRate', m.repeatedTrigramRate, { max: 1 });
  checkMetric('distinct2', m.distinct2, { max: 1 });
  checkMetric('length', m.length);
  checkMetric('baselineLength', m.baselineLength);
  if (m.nonWordRate !== undefined) checkMetric('nonWordRate', m.nonWordRate, { max: 1 });

  if (m.perplexityRatio > t.maxPerplexityRatio) return 'explosive';
  if (m.nonWordRate !== undefined && m.nonWordRate > t.maxNonWordRate) return 'explosive';
  if (t.minLengthRatio > 0 && m.baselineLength >= t.minLength && m.length < t.minLengthRatio * m.baselineLength) return 'explosive';
  if (m.length >= t.minLength) {
    if (m.repeatedTrigramRate > t.maxRepeatedTrigramRate) return 'repetitive';
    if (m.distinct2 < t.minDistinct2) return 'repetitive';
  }
  return 'surgical';
}
