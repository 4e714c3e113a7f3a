/**
 * A valence judge: positive vs negative sentiment by VADER (the `vader-sentiment` package),
 * turned into an emotion score through each emotion's valence sign.
 *
 * Valence is the coarsest external check of steering: it cannot tell `sad` from `afraid`, but
 * it is a published, rule-based, model-free measure, so it cannot share a blind spot with the
 * steered model.
 *
 * @module
 */
import { SentimentIntensityAnalyzer } from 'vader-sentiment';
import { EmosteerError } from '../../errors.js';
import type { Judge, JudgeClassification } from './judge.js';

/**
 * Our valence sign of each emotion (+1 pleasant, -1 unpleasant, 0 neither) and of 'neutral'.
 * `calm` counts as pleasant (low-arousal positive); `reflective` has no clear sign and gets 0,
 * so the valence judge answers NaN for it.
 */
export const EMOTION_VALENCE: Readonly<Record<string, -1 | 0 | 1>> = Object.freeze({
  happy: 1,
  sad: -1,
  calm: 1,
  desperate: -1,
  afraid: -1,
  angry: -1,
  proud: 1,
  guilty: -1,
  nervous: -1,
  hopeful: 1,
  brooding: -1,
  gloomy: -1,
  reflective: 0,
  enthusiastic: 1,
  hostile: -1,
  loving: 1,
  exasperated: -1,
  blissful: 1,
  anxious: -1,
  grateful: 1,
  neutral: 0,
});

/** Options of {@link ValenceJudge}. */
export interface ValenceJudgeOptions {
  /**
   * How a multi-sentence text is scored (default 'sentence-mean'):
   * - 'sentence-mean': the mean VADER compound over the text's sentences. VADER is built for
   *   sentences; its compound saturates towards +-1 on long texts, so its authors recommend
   *   averaging sentence scores for paragraphs.
   * - 'whole': one VADER compound for the whole text.
   */
  mode?: 'sentence-mean' | 'whole';
  /** Valence signs to use instead of {@link EMOTION_VALENCE} (e.g. for custom emotions). */
  valences?: Readonly<Record<string, -1 | 0 | 1>>;
}

/** |compound| below this is 'neutral' in {@link ValenceJudge.classify} (VADER's usual cut-off). */
export const VADER_NEUTRAL_BAND = 0.05;

/**
 * Splits text into sentences for VADER: runs of text ending in ., ! or ? (kept, since VADER
 * reads '!' as emphasis) or in a line break.
 */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[^.!?\n]+[.!?]*/g)) {
    const s = m[0].trim();
    if (/\p{L}/u.test(s)) out.push(s);
  }
  return out;
}

/**
 * Judges emotion through valence: `score(text, emotion) = valence(text) x sign(emotion)`,
 * where valence is VADER's compound in [-1, 1] and the sign comes from
 * {@link EMOTION_VALENCE}. NaN for emotions of valence 0 (reflective, neutral).
 *
 * @example
 * const judge = new ValenceJudge();
 * await judge.score('What a wonderful day!', 'happy'); // > 0
 */
export class ValenceJudge implements Judge {
  /** Judge name in reports. */
  readonly name = 'valence-vader';
  readonly #mode: 'sentence-mean' | 'whole';
  readonly #valences: Readonly<Record<string, -1 | 0 | 1>>;

  /** @param options scoring mode and valence signs */
  constructor(options: ValenceJudgeOptions = {}) {
    const mode = options.mode ?? 'sentence-mean';
    if (mode !== 'sentence-mean' && mode !== 'whole') {
      throw new EmosteerError('INVALID_ARGUMENT', `mode must be 'sentence-mean' or 'whole' (got ${String(mode)})`);
    }
    this.#mode = mode;
    const valences = options.valences ?? EMOTION_VALENCE;
    for (const [k, v] of Object.entries(valences)) {
      if (v !== -1 && v !== 0 && v !== 1) throw new EmosteerError('INVALID_ARGUMENT', `valence of '${k}' must be -1, 0 or 1 (got ${String(v)})`);
    }
    this.#valences = valences;
  }

  /**
   * VADER valence of `text` in [-1, 1] (0 for text without sentiment or without letters).
   * @throws EmosteerError INVALID_ARGUMENT when text is not a string
   */
  valence(text: string): number {
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'valence needs a string');
    if (this.#mode === 'whole') return /\p{L}/u.test(text) ? SentimentIntensityAnalyzer.polarity_scores(text).compound : 0;
    const parts = sentences(text);
    if (parts.length === 0) return 0;
    let sum = 0;
    for (const s of parts) sum += SentimentIntensityAnalyzer.polarity_scores(s).compound;
    return sum / parts.length;
  }

  /**
   * valence(text) x the emotion's valence sign; NaN for an emotion of valence 0.
   * @throws EmosteerError INVALID_ARGUMENT for an emotion with no valence entry
   */
  async score(text: string, emotion: string): Promise<number> {
    const sign = this.#valences[emotion];
    if (sign === undefined || !Object.hasOwn(this.#valences, emotion)) {
      throw new EmosteerError('INVALID_ARGUMENT', `no valence sign for emotion '${emotion}'; known: ${Object.keys(this.#valences).join(', ')}`);
    }
    if (sign === 0) return NaN;
    return this.valence(text) * sign;
  }

  /**
   * Labels the text 'positive', 'negative' or 'neutral' (|valence| < {@link VADER_NEUTRAL_BAND});
   * scores: `{ valence, positive, negative }` with positive = max(valence, 0), negative = max(-valence, 0).
   */
  async classify(text: string): Promise<JudgeClassification> {
    const v = this.valence(text);
    const label = v >= VADER_NEUTRAL_BAND ? 'positive' : v <= -VADER_NEUTRAL_BAND ? 'negative' : 'neutral';
    return { label, scores: { valence: v, positive: Math.max(v, 0), negative: Math.max(-v, 0) } };
  }
}
