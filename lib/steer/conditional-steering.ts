/**
 * Conditional steering: the emotion meter in the loop. A rule steers only while (or only when)
 * the meter reads an emotion past a threshold, e.g. "toward calm while the reply reads angry".
 * It compiles to a {@link SteeringSchedule} over the meter's readings, which the generation
 * loop hands to the schedule before every step (`step.reading`: the reading of the last token
 * decoded, the prompt's last token before the first generated one). Run it with the meter as
 * the call's `probe`:
 *
 * @example
 * const meter = new EmotionMeter(set);
 * const steering = conditionalSteering({ when: { emotion: 'angry', above: 0.2 }, then: { set, emotion: 'calm', strength: 0.05 } });
 * await ctx.generateText(prompt, { probe: meter, steering });
 *
 * Semantics (documented in docs/server.md too):
 * - `for: 'prompt'`: decided once, from the reading of the prompt's last token; the reply is
 *   steered from its first token to its end, or not at all.
 * - `for: 'reply'` (default): decided before every generated token from the reading of the
 *   token before it. The rule switches on when the reading is past the threshold; once on, it
 *   stays on for at least `hold` tokens (default 8) and then switches off at the first reading
 *   back past `release` (default: the threshold itself). The readings are of the steered
 *   stream, so steering that works lowers the reading that switched it on: `hold` and a
 *   `release` below `above` keep it from flickering token by token.
 * - The prompt itself is never steered by a rule (nothing has been read yet).
 */
import { EmosteerError } from '../errors.js';
import type { Steering, SteeringSchedule, SteeringStep } from '../runtime/steering.js';
import type { EmotionReading } from './emotion-meter.js';

/** When a rule fires: one emotion's reading above (or below) a threshold. */
export interface SteeringCondition {
  /** The emotion read (a key of the meter's readings). */
  emotion: string;
  /** Fires when the reading is above this value. */
  above?: number;
  /** Fires when the reading is below this value (give `above` or `below`, not both). */
  below?: number;
  /** Once on, switches off only when the reading is back past this value (default: the threshold). */
  release?: number;
}

/** A conditional steering rule. */
export interface ConditionalSteeringRule {
  /** The condition on the meter's reading. */
  when: SteeringCondition;
  /** The steering applied while the condition holds (positions other than 'prompt'). */
  then: Steering;
  /** 'reply' (default): decided per token; 'prompt': decided once after the prompt. */
  for?: 'prompt' | 'reply';
  /** Tokens the steering stays on at least once switched on ('reply' only; default 8). */
  hold?: number;
}

/** What {@link conditionalSteering}'s schedule did, for inspection and tests. */
export interface ConditionalSteeringTrace {
  /** Per generated-token step, in order: whether the rule steered it. */
  on: boolean[];
}

/**
 * Compiles a rule into a steering schedule. The call must have a probe whose readings are
 * {@link EmotionReading}s (an EmotionMeter); a step without a reading (the prompt) is not
 * steered. Pass `trace` to record what the schedule decided.
 * @throws EmosteerError INVALID_ARGUMENT for a malformed rule
 */
export function conditionalSteering(rule: ConditionalSteeringRule, trace?: ConditionalSteeringTrace): SteeringSchedule {
  const { when } = rule;
  if (typeof rule !== 'object' || rule === null || typeof when !== 'object' || when === null) throw new EmosteerError('INVALID_ARGUMENT', 'a conditional steering rule needs `when` and `then`');
  if (typeof when.emotion !== 'string' || when.emotion === '') throw new EmosteerError('INVALID_ARGUMENT', 'when.emotion must name an emotion of the meter');
  if ((when.above === undefined) === (when.below === undefined)) throw new EmosteerError('INVALID_ARGUMENT', 'give exactly one of when.above and when.below');
  const threshold = (when.above ?? when.below)!;
  const release = when.release ?? threshold;
  for (const [k, v] of [['threshold', threshold], ['release', release]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new EmosteerError('INVALID_ARGUMENT', `when.${k === 'threshold' ? (when.above !== undefined ? 'above' : 'below') : 'release'} must be a finite number`);
  }
  const upward = when.above !== undefined;
  if (upward ? release > threshold : release < threshold) throw new EmosteerError('INVALID_ARGUMENT', `when.release must lie on the far side of the threshold (${upward ? '<=' : '>='} ${threshold})`);
  const mode = rule.for ?? 'reply';
  if (mode !== 'reply' && mode !== 'prompt') throw new EmosteerError('INVALID_ARGUMENT', `for must be 'reply' or 'prompt' (got '${String(mode)}')`);
  const hold = rule.hold ?? 8;
  if (!Number.isInteger(hold) || hold < 1) throw new EmosteerError('INVALID_ARGUMENT', `hold must be a positive integer (got ${hold})`);
  if (typeof rule.then !== 'object' || rule.then === null) throw new EmosteerError('INVALID_ARGUMENT', 'then must be a steering');
  if (rule.then.positions === 'prompt') throw new EmosteerError('INVALID_ARGUMENT', "a rule steers generated tokens: then.positions cannot be 'prompt'");

  const value = (reading: unknown): number => {
    const r = reading as EmotionReading;
    const v = r?.[when.emotion];
    if (typeof v !== 'number') throw new EmosteerError('UNKNOWN_EMOTION', `the probe's reading has no '${when.emotion}' (it reads: ${Object.keys(r ?? {}).join(', ') || 'nothing'}); run the call with an EmotionMeter of a set that has it as its probe`);
    return v;
  };
  const fires = (v: number) => (upward ? v > threshold : v < threshold);
  const released = (v: number) => (upward ? v < release : v > release);

  let decided: boolean | undefined; // 'prompt' mode
  let on = false;
  let onSince = 0;
  let lastIndex = -1;
  return (step: SteeringStep): Steering | null => {
    if (step.reading === undefined) {
      if (step.index > 0) throw new EmosteerError('INVALID_ARGUMENT', 'conditional steering needs the call to have a probe (an EmotionMeter): no reading arrived');
      return null; // the prompt: nothing read yet
    }
    if (step.index === lastIndex) return on ? rule.then : null; // asked again for the same step
    lastIndex = step.index;
    if (mode === 'prompt') {
      decided ??= fires(value(step.reading));
      on = decided;
    } else {
      const v = value(step.reading);
      if (!on && fires(v)) { on = true; onSince = step.index; }
      else if (on && step.index - onSince >= hold && released(v)) on = false;
    }
    trace?.on.push(on);
    return on ? rule.then : null;
  };
}
