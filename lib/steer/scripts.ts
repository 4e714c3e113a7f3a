/**
 * Cross-lingual entanglement detection: which writing systems a text uses, which language it
 * is in, and whether steering made an English continuation drift into another script or
 * language (the paper: steering Qwen towards "desperate" surfaced 找了, 摸索 — tokens an
 * English-only safety filter never reads).
 *
 * @module
 */
import { franc, francAll } from 'franc';
import { EmosteerError } from '../errors.js';

/** The scripts {@link scriptShares} reports, besides the CJK total. */
export const SCRIPT_NAMES = [
  'Latin', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Cyrillic', 'Arabic', 'Greek', 'Devanagari', 'Hebrew', 'Thai', 'Other',
] as const;

/** One of {@link SCRIPT_NAMES}. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** The CJK family: the scripts whose shares add up to {@link ScriptShares.CJK}. */
export const CJK_SCRIPTS: readonly ScriptName[] = Object.freeze(['Han', 'Hiragana', 'Katakana', 'Hangul']);

/**
 * Share (0..1) of the text's letters in each script, plus `CJK` (Han + Hiragana + Katakana +
 * Hangul) and `total` (the number of letters counted, not a share). Shares of the entries of
 * {@link SCRIPT_NAMES} add up to 1 (all 0 for a text without letters).
 */
export type ScriptShares = Record<ScriptName, number> & {
  /** Share of Han + Hiragana + Katakana + Hangul letters. */
  CJK: number;
  /** Number of letters counted (not a share). */
  total: number;
};

const SCRIPT_TESTS: [ScriptName, RegExp][] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Han', /\p{Script=Han}/u],
  ['Hiragana', /\p{Script=Hiragana}/u],
  ['Katakana', /\p{Script=Katakana}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Thai', /\p{Script=Thai}/u],
];

/**
 * The scripts written without spaces between words (Chinese, Japanese, Thai): a letter of one
 * of them may stand next to letters of any other script within one whitespace-separated chunk.
 */
export const UNSPACED_SCRIPTS: ReadonlySet<ScriptName> = new Set<ScriptName>(['Han', 'Hiragana', 'Katakana', 'Thai']);

/**
 * The script of one character among {@link SCRIPT_NAMES}: 'Other' for a letter of any other
 * script, and for a character of no real script (Script=Common or Inherited: digits,
 * punctuation, combining marks); {@link scriptCounts} leaves those out before asking.
 */
export function scriptOf(ch: string): ScriptName {
  for (const [name, re] of SCRIPT_TESTS) if (re.test(ch)) return name;
  return 'Other';
}

/**
 * Letters per script. A "letter" is a code point of category L (letter) or M (mark: the vowel
 * signs of Devanagari and Thai) that belongs to a real script; combining marks inherited from
 * the base letter (Script=Inherited) and script-neutral characters (Script=Common: digits,
 * punctuation, the Japanese long-vowel mark) are not counted.
 */
export function scriptCounts(text: string): Record<ScriptName, number> & { CJK: number; total: number } {
  if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'scriptCounts needs a string');
  const counts = Object.fromEntries([...SCRIPT_NAMES.map((s) => [s, 0]), ['CJK', 0], ['total', 0]]) as Record<ScriptName, number> & { CJK: number; total: number };
  for (const m of text.matchAll(/[\p{L}\p{M}]/gu)) {
    const ch = m[0];
    if (/[\p{Script=Inherited}\p{Script=Common}]/u.test(ch)) continue;
    counts[scriptOf(ch)]++;
    counts.total++;
  }
  counts.CJK = CJK_SCRIPTS.reduce((a, s) => a + counts[s], 0);
  return counts;
}

/**
 * Share of letters per Unicode script (see {@link ScriptShares}).
 * @example scriptShares('abc 找了').Han // 0.4
 */
export function scriptShares(text: string): ScriptShares {
  const c = scriptCounts(text);
  const out = { ...c };
  for (const k of [...SCRIPT_NAMES, 'CJK'] as const) out[k] = c.total === 0 ? 0 : c[k] / c.total;
  return out;
}

/**
 * Languages {@link detectLanguage} chooses from by default (ISO 639-3): 34 widely written
 * languages. franc knows ~190, and with all of them short English prose is often called
 * Scots ('sco') and Russian Bosnian ('bos') or Serbian ('srp'); the list leaves out such close
 * neighbours of large languages (Scots, Bosnian, Serbian, Croatian, Belarusian, Slovak,
 * Malay, Catalan, Afrikaans...), trading their detection for fewer false language changes. Pass `only: 'all'` to use every language franc knows.
 */
export const COMMON_LANGUAGES: readonly string[] = Object.freeze([
  'eng', 'cmn', 'jpn', 'kor', 'spa', 'fra', 'deu', 'por', 'ita', 'nld', 'rus', 'ukr', 'bul', 'pol', 'ces',
  'ron', 'hun', 'fin', 'swe', 'dan', 'nob', 'tur', 'ell', 'arb', 'pes', 'urd', 'heb', 'hin', 'ben', 'tha',
  'vie', 'ind', 'tgl', 'swh',
]);

/** Options of {@link detectLanguage}. */
export interface DetectLanguageOptions {
  /** Texts shorter than this many characters get 'und' (default 10, franc's own default). */
  minLength?: number;
  /** Candidate languages (ISO 639-3), or 'all' for every language franc knows (default {@link COMMON_LANGUAGES}). */
  only?: readonly string[] | 'all';
}

/**
 * The language of `text` by franc's trigram model, as an ISO 639-3 code ('eng', 'deu',
 * 'cmn', ...), or 'und' (undetermined) when the text is too short or franc cannot tell.
 * Detection on a few dozen characters is unreliable; see {@link crossLingualFlag} for the
 * length it requires.
 */
export function detectLanguage(text: string, options: DetectLanguageOptions = {}): string {
  if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'detectLanguage needs a string');
  const minLength = options.minLength ?? 10;
  if (!Number.isInteger(minLength) || minLength < 1) throw new EmosteerError('INVALID_ARGUMENT', `minLength must be a positive integer (got ${minLength})`);
  const only = options.only ?? COMMON_LANGUAGES;
  if (only !== 'all' && (!Array.isArray(only) || only.length === 0)) {
    throw new EmosteerError('INVALID_ARGUMENT', "only must be a non-empty array of ISO 639-3 codes or 'all'");
  }
  return franc(text, only === 'all' ? { minLength } : { minLength, only: [...only] });
}

/** Options of {@link crossLingualFlag}. */
export interface CrossLingualOptions {
  /** A non-Latin script counts as new when its share of the steered text's letters is at least this (default 0.05)... */
  minShare?: number;
  /**
   * ...or when the steered text has at least this many of its letters (default 3; 0 disables).
   * A 256-token continuation holds ~1000 letters, and the paper's 找了 / 摸索 is 4 characters
   * (0.4%): a share threshold alone would miss the very case it is meant to catch, while
   * 3 letters still ignore a stray symbol-like letter (π, µ).
   */
  minLetters?: number;
  /** ...provided its share in the baseline is below this (default 0.01). */
  maxBaselineShare?: number;
  /**
   * Language detection only runs on texts with at least this many letters (default 60);
   * shorter texts are 'und' and never trigger a language change.
   */
  minLanguageLength?: number;
  /** The language expected when the baseline is too short to detect (default 'eng'). */
  expectedLanguage?: string;
  /**
   * A change of language counts only when the reference language is clearly beaten: its
   * relative franc score on the text (1 = the best language) is below this (default 0.9).
   * On Gemma 3 270M, 48-token English continuations were often ranked Danish or Norwegian by a
   * hair; requiring a clear margin keeps those out of the flags.
   */
  minLanguageMargin?: number;
  /** Candidate languages for {@link detectLanguage} (default {@link COMMON_LANGUAGES}). */
  languages?: readonly string[] | 'all';
}

/** Result of {@link crossLingualFlag}. */
export interface CrossLingualResult {
  /** True when a new script appeared or the language changed. */
  flagged: boolean;
  /** One line saying why (or why not). */
  reason: string;
  /** Non-Latin scripts new in the steered text (fine-grained: 'Han', not 'CJK'). */
  newScripts: string[];
  /** True when the steered text's detected language differs from the baseline's. */
  languageChanged: boolean;
  /** Detected language of the steered text ('und' when too short). */
  steeredLanguage: string;
  /** Detected language of the baseline text ('und' when too short). */
  baselineLanguage: string;
}

function checkFraction(name: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new EmosteerError('INVALID_ARGUMENT', `${name} must be a number in [0, 1] (got ${String(v)})`);
}

/**
 * Compares a steered continuation with the unsteered one from the same prompt and flags
 * cross-lingual drift:
 * - a new script: a non-Latin script (each of {@link SCRIPT_NAMES} but Latin) whose share
 *   of the steered text's letters is >= `minShare` or whose letter count is >= `minLetters`,
 *   while its share of the baseline's letters is < `maxBaselineShare`;
 * - a language change: both texts long enough to detect (>= `minLanguageLength` letters; a
 *   baseline too short stands for `expectedLanguage`), and the steered text's language,
 *   if determined, differs from the baseline's.
 *
 * @example
 * crossLingualFlag('I searched everywhere, 找了 摸索, but nothing.', 'I searched everywhere but found nothing.').flagged // true
 */
export function crossLingualFlag(steered: string, baseline: string, options: CrossLingualOptions = {}): CrossLingualResult {
  if (typeof steered !== 'string' || typeof baseline !== 'string') {
    throw new EmosteerError('INVALID_ARGUMENT', 'crossLingualFlag needs the steered and the baseline text as strings');
  }
  const minShare = options.minShare ?? 0.05;
  const minLetters = options.minLetters ?? 3;
  const maxBaselineShare = options.maxBaselineShare ?? 0.01;
  const minLanguageLength = options.minLanguageLength ?? 60;
  const expected = options.expectedLanguage ?? 'eng';
  checkFraction('minShare', minShare);
  checkFraction('maxBaselineShare', maxBaselineShare);
  if (!Number.isInteger(minLetters) || minLetters < 0) throw new EmosteerError('INVALID_ARGUMENT', `minLetters must be a non-negative integer (got ${minLetters})`);
  if (!Number.isInteger(minLanguageLength) || minLanguageLength < 1) throw new EmosteerError('INVALID_ARGUMENT', `minLanguageLength must be a positive integer (got ${minLanguageLength})`);

  const sc = scriptCounts(steered);
  const bc = scriptCounts(baseline);
  const share = (c: typeof sc, k: ScriptName) => (c.total === 0 ? 0 : c[k] / c.total);
  const newScripts: string[] = [];
  const details: string[] = [];
  for (const k of SCRIPT_NAMES) {
    if (k === 'Latin' || sc[k] === 0) continue;
    const s = share(sc, k);
    const b = share(bc, k);
    if (b < maxBaselineShare && (s >= minShare || (minLetters > 0 && sc[k] >= minLetters))) {
      newScripts.push(k);
      details.push(`${k} ${sc[k]} letters (${(100 * s).toFixed(1)}%, baseline ${(100 * b).toFixed(1)}%)`);
    }
  }

  const langOpts: DetectLanguageOptions = { only: options.languages ?? COMMON_LANGUAGES };
  const margin = options.minLanguageMargin ?? 0.9;
  const only = [...(options.languages ?? COMMON_LANGUAGES)];
  const scoreOf = (text: string, lang: string) => new Map(francAll(text, { minLength: 10, only })).get(lang) ?? 0;
  const steeredLanguage = sc.total >= minLanguageLength ? detectLanguage(steered, langOpts) : 'und';
  const baselineLanguage = bc.total >= minLanguageLength ? detectLanguage(baseline, langOpts) : 'und';
  // The baseline's language, unless the expected one is about as likely (short texts are noisy).
  const reference = baselineLanguage === 'und' || baselineLanguage === expected || scoreOf(baseline, expected) >= margin ? expected : baselineLanguage;
  const languageChanged = steeredLanguage !== 'und' && steeredLanguage !== reference && scoreOf(steered, reference) < margin;

  const reasons: string[] = [];
  if (newScripts.length > 0) reasons.push(`new script${newScripts.length > 1 ? 's' : ''}: ${details.join('; ')}`);
  if (languageChanged) reasons.push(`language changed: ${reference} -> ${steeredLanguage}`);
  const flagged = reasons.length > 0;
  const reason = flagged
    ? reasons.join('; ')
    : `no new script; language ${steeredLanguage === 'und' ? 'undetermined (text too short)' : steeredLanguage}`;
  return { flagged, reason, newScripts, languageChanged, steeredLanguage, baselineLanguage };
}
