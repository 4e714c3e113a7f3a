/**
 * A pairwise forced-choice judge: an LLM is shown two texts and asked which one expresses more
 * of an emotion; the answer is read from the probabilities it gives "Text 1" and "Text 2", in
 * both orders, so that its preference for the first (or the second) position cancels.
 *
 * The answers are scored as the model would write them: Qwen2.5-Coder-1.5B-Instruct gives a
 * bare "1" or "2" a log-probability near -14 at the start of its answer, and the ratio of two
 * such unlikely tokens carried no signal in a trial (scripts/llm-judge-validation.mjs), while
 * "Text 1" / "Text 2" are its likely answers.
 *
 * A steering experiment asks exactly this question of every run (is the steered text more X
 * than the unsteered one?), and a small model that cannot name one of 21 labels reliably may
 * still compare two texts on one emotion. The probability that the first text wins,
 * averaged over both orders, is 0.5 for a judge that cannot tell them apart.
 *
 * @module
 */
import { EmosteerError } from '../../errors.js';
import { JUDGE_SYSTEM_MESSAGE, judgeQuestion, softmax, type JudgeFormat, type LogProbScorer } from './llm-judge.js';

/** Options of {@link PairwiseJudge}. */
export interface PairwiseJudgeOptions {
  /** How the question is put to the model (default 'chat': the judge is meant to be an instruction-tuned model). */
  format?: JudgeFormat;
  /** Builds the question from the two texts and the emotion (default {@link defaultPairwisePrompt}); it must ask for one of `answers`. */
  template?: (first: string, second: string, emotion: string) => string;
  /** The two answers scored, for the first and the second text (default ['Text 1', 'Text 2']). */
  answers?: readonly [string, string];
  /** System message of a 'chat' judge (default {@link JUDGE_SYSTEM_MESSAGE}; '' for none). */
  system?: string;
  /** Longer texts are cut to this many characters before judging (default 1200). */
  maxChars?: number;
  /** Judge name in reports (default 'llm-pairwise'). */
  name?: string;
}

/** One comparison of {@link PairwiseJudge.compare}. */
export interface PairwiseComparison {
  /** Probability that text `a` expresses more of the emotion than `b`: the mean over both orders. */
  probability: number;
  /** P(first answer) with `a` shown first, and P(second answer) with `a` shown second (each renormalised over the two answers). */
  orders: [number, number];
  /** Mean probability of the first answer over both orders minus 0.5: the judge's position bias on this pair. */
  positionBias: number;
}

/** The default question: both texts, then "which expresses more <emotion>? Reply with Text 1 or Text 2". */
export function defaultPairwisePrompt(first: string, second: string, emotion: string): string {
  return `Text 1: "${first}"\n\nText 2: "${second}"\n\nWhich of the two texts expresses more ${emotion}? Reply with "Text 1" or "Text 2".`;
}

/**
 * Pairwise forced-choice emotion judge over a log-probability scorer (an emosteer Context of a
 * model that is not being steered).
 *
 * @example
 * const judge = new PairwiseJudge(await judgeModel.createContext({ contextSize: 2048 }));
 * const c = await judge.compare(steeredText, baselineText, 'joy'); // c.probability > 0.5: steered is more joyful
 */
export class PairwiseJudge {
  /** Judge name in reports. */
  readonly name: string;
  readonly #ctx: LogProbScorer;
  readonly #format: JudgeFormat;
  readonly #template: (first: string, second: string, emotion: string) => string;
  readonly #maxChars: number;
  readonly #answers: [string, string];
  readonly #system: string;

  /**
   * @param ctx a context (or anything with `logProbs(prompt, continuation)`) of the judge model
   * @param options format, question template, truncation, name
   * @throws EmosteerError INVALID_ARGUMENT for a missing context or bad options
   */
  constructor(ctx: LogProbScorer, options: PairwiseJudgeOptions = {}) {
    if (!ctx || typeof ctx.logProbs !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'PairwiseJudge needs a context with a logProbs(prompt, continuation) method');
    const format = options.format ?? 'chat';
    if (format !== 'plain' && format !== 'chat') throw new EmosteerError('INVALID_ARGUMENT', `format must be 'plain' or 'chat' (got ${String(format)})`);
    const maxChars = options.maxChars ?? 1200;
    if (!Number.isInteger(maxChars) || maxChars < 1) throw new EmosteerError('INVALID_ARGUMENT', `maxChars must be a positive integer (got ${maxChars})`);
    if (options.template !== undefined && typeof options.template !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'template must be a function (first, second, emotion) => string');
    this.#ctx = ctx;
    this.#format = format;
    this.#template = options.template ?? defaultPairwisePrompt;
    this.#maxChars = maxChars;
    const answers = options.answers ?? ['Text 1', 'Text 2'];
    if (!Array.isArray(answers) || answers.length !== 2 || answers.some((a) => typeof a !== 'string' || a.trim() === '') || answers[0] === answers[1]) {
      throw new EmosteerError('INVALID_ARGUMENT', 'answers must be two different non-empty strings');
    }
    this.#answers = [answers[0]!, answers[1]!];
    if (options.system !== undefined && typeof options.system !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'system must be a string');
    this.#system = options.system ?? JUDGE_SYSTEM_MESSAGE;
    this.name = options.name ?? 'llm-pairwise';
  }

  /** How questions are put to the model. */
  get format(): JudgeFormat { return this.#format; }

  /** P(first answer) among the two answers for one order. */
  async #firstWins(first: string, second: string, emotion: string): Promise<number> {
    const cut = (t: string) => (t.length > this.#maxChars ? t.slice(0, this.#maxChars) : t);
    const { prompt, continuations } = judgeQuestion(this.#template(cut(first), cut(second), emotion), this.#answers, this.#format, this.#system);
    const rs = this.#ctx.logProbsMany
      ? await this.#ctx.logProbsMany(prompt, continuations)
      : [await this.#ctx.logProbs(prompt, continuations[0]!), await this.#ctx.logProbs(prompt, continuations[1]!)];
    return softmax(rs.map((r) => r.total))[0]!;
  }

  /**
   * Which of two texts expresses more of `emotion`: the probability that it is `a`, asked in
   * both orders and averaged.
   * @throws EmosteerError INVALID_ARGUMENT for a non-string text or an empty emotion
   */
  async compare(a: string, b: string, emotion: string): Promise<PairwiseComparison> {
    if (typeof a !== 'string' || typeof b !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'PairwiseJudge compares two strings');
    if (typeof emotion !== 'string' || emotion.trim().length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'PairwiseJudge needs a non-empty emotion name');
    const ab = await this.#firstWins(a, b, emotion);
    const ba = await this.#firstWins(b, a, emotion);
    const second = 1 - ba;
    return { probability: (ab + second) / 2, orders: [ab, second], positionBias: (ab + ba) / 2 - 0.5 };
  }
}
