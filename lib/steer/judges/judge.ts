/**
 * The judge interface: an external measure of how strongly a text expresses an emotion.
 *
 * The paper confirms causal steering with an *external* emotion classifier: the text a steered
 * model writes is scored by something that is not the steered model's own geometry. Every
 * judge of emosteer (valence, lexicon, LLM zero-shot) implements {@link Judge}, so a steering
 * experiment can report several of them side by side.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';

/** An external emotion judge of generated text. */
export interface Judge {
  /** Short stable name, used in reports (e.g. 'valence-vader', 'lexicon', 'llm'). */
  readonly name: string;
  /**
   * How strongly `text` expresses `emotion`, on the judge's own scale (higher = more).
   * NaN when the judge cannot say (e.g. valence judge for an emotion with no valence).
   */
  score(text: string, emotion: string): Promise<number>;
  /** Optional: a label for the text (e.g. the top emotion / 7-class label). */
  classify?(text: string): Promise<JudgeClassification>;
}

/** A judge's label for a text, and the scores it chose the label from. */
export interface JudgeClassification<Label extends string = string> {
  /** The label (e.g. the top emotion, or 'positive' / 'negative' / 'neutral'). */
  label: Label;
  /** Score of every label (or of the quantities the label is derived from), on the judge's scale. */
  scores: Record<Label, number>;
}

/** Which way steering was meant to move the emotion. */
export type SteerDirection = 'toward' | 'away';

/** Result of {@link judgeSuccess}. */
export interface JudgeSuccessResult {
  /** True when the judge saw a change of more than `margin` in the intended direction. */
  success: boolean;
  /** Judge score of the steered text. */
  steered: number;
  /** Judge score of the unsteered (baseline) text. */
  baseline: number;
  /** steered - baseline (NaN when either score is NaN). */
  delta: number;
}

/**
 * Decides whether steering worked according to one judge: scores the steered and the
 * baseline text for `target` and calls it a success when
 * `(steered - baseline) * (direction === 'toward' ? 1 : -1) > margin`.
 * A NaN score (the judge cannot say) is never a success.
 *
 * @param judge the external judge
 * @param target the emotion steered toward (or away from)
 * @param direction 'toward' when the target emotion was added, 'away' when it was subtracted
 * @param steeredText text generated with steering
 * @param baselineText text generated from the same prompt without steering
 * @param margin minimum change, on the judge's scale, that counts (0 = any strict change)
 * @throws EmosteerError INVALID_ARGUMENT for a bad direction, margin or non-string text
 */
export async function judgeSuccess(
  judge: Judge,
  target: string,
  direction: SteerDirection,
  steeredText: string,
  baselineText: string,
  margin: number,
): Promise<JudgeSuccessResult> {
  if (!judge || typeof judge.score !== 'function') {
    throw new EmosteerError('INVALID_ARGUMENT', 'judgeSuccess needs a judge with a score(text, emotion) method');
  }
  if (direction !== 'toward' && direction !== 'away') {
    throw new EmosteerError('INVALID_ARGUMENT', `direction must be 'toward' or 'away' (got ${String(direction)})`);
  }
  if (typeof margin !== 'number' || !Number.isFinite(margin)) {
    throw new EmosteerError('INVALID_ARGUMENT', `margin must be a finite number (got ${String(margin)})`);
  }
  if (typeof steeredText !== 'string' || typeof baselineText !== 'string') {
    throw new EmosteerError('INVALID_ARGUMENT', 'judgeSuccess needs the steered and the baseline text as strings');
  }
  if (typeof target !== 'string' || target.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', 'judgeSuccess needs a target emotion name');
  }
  // One after the other: LLM judges share one context, which serialises anyway.
  const steered = await judge.score(steeredText, target);
  const baseline = await judge.score(baselineText, target);
  const delta = steered - baseline;
  const sign = direction === 'toward' ? 1 : -1;
  const success = !Number.isNaN(delta) && delta * sign > margin;
  return { success, steered, baseline, delta };
}
