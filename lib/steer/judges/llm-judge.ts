/**
 * A zero-shot emotion judge built on emosteer itself: a (usually different, unsteered) GGUF
 * model is asked which emotion a text expresses, and every candidate label is scored by the
 * log-probability the model gives it as the answer.
 *
 * Scoring labels by log-probability instead of sampling an answer works on base and chat
 * models alike, never produces an unparsable answer, and gives a full probability
 * distribution over the labels. The prompt is plain text by default; `format: 'chat'` sends
 * it as the user's message through the judge model's own chat template, so that an
 * instruction-tuned judge is asked the way it was trained to answer.
 *
 * **Contextual calibration** (Zhao et al., 2021, "Calibrate before use"): a model prefers some
 * labels whatever the text says (the first in the list, the most frequent word). With
 * `calibration`, the judge first asks the same question about content-free texts (default
 * "N/A", "" and "[MASK]"), averages the label probabilities they get, and divides every later
 * distribution by that average before renormalising. The uncalibrated distribution is kept
 * beside it (`raw`).
 *
 * @module
 */
import type { Context } from '../../runtime/context.js';
import type { ChatMessage } from '../../runtime/model.js';
import { EmosteerError } from '../../errors.js';
import { CATEGORIES } from '../../stimuli/emotions.js';
import type { Judge, JudgeClassification } from './judge.js';

/**
 * What the judge needs from a context: `logProbs(prompt, continuation)` resolving to an object
 * with the summed natural-log probability `total` and the per-token `logProbs`.
 * A {@link Context} of emosteer satisfies it.
 */
export interface LogProbScorer {
  /** Log-probabilities of `continuation` after `prompt` (text, or chat messages to format with the model's template). */
  logProbs(prompt: JudgePrompt, continuation: string): Promise<ContinuationLogProbs>;
  /** Optional: all continuations after one prompt decoded once (a Context has it; much faster for long prompts). */
  logProbsMany?(prompt: JudgePrompt, continuations: readonly string[]): Promise<ContinuationLogProbs[]>;
}

/** What a judge sends to its scorer: plain text, or chat messages (formatted by the judge model's chat template). */
export type JudgePrompt = string | JudgeMessages;

/** A judge prompt as chat messages. */
export interface JudgeMessages {
  /** The messages, formatted by the judge model's chat template. */
  messages: ChatMessage[];
}

/** One question as the judge sends it ({@link judgeQuestion}). */
export interface JudgeQuestion {
  /** What is sent to the scorer. */
  prompt: JudgePrompt;
  /** The continuation scored for each label, in label order. */
  continuations: string[];
}

/** The content-free texts of contextual calibration by default (Zhao et al., 2021). */
export const CONTENT_FREE_TEXTS: readonly string[] = Object.freeze(['N/A', '', '[MASK]']);

/**
 * How a question is put to the judge model: `'plain'` sends the text as it is and scores
 * " <label>" (with a space, as a word continuing a document); `'chat'` sends it as the user's
 * message with the model's chat template and scores "<label>" at the start of the answer.
 */
export type JudgeFormat = 'plain' | 'chat';

/** The system message of a `'chat'` judge by default. */
export const JUDGE_SYSTEM_MESSAGE = 'You are a careful reader who judges the emotions of texts.';

/**
 * The prompt a judge sends and the continuation of each label, for one question; a `'chat'`
 * question goes after `system` (default {@link JUDGE_SYSTEM_MESSAGE}; '' for none).
 */
export function judgeQuestion(question: string, labels: readonly string[], format: JudgeFormat, system: string = JUDGE_SYSTEM_MESSAGE): JudgeQuestion {
  if (format === 'chat') {
    const messages: ChatMessage[] = system ? [{ role: 'system', content: system }] : [];
    messages.push({ role: 'user', content: question });
    return { prompt: { messages }, continuations: labels.map((l) => l) };
  }
  return { prompt: question, continuations: labels.map((l) => ` ${l}`) };
}

/**
 * Contextual calibration: divides each label's probability by its probability on content-free
 * inputs and renormalises. `contentFree` is the mean label distribution of the content-free
 * texts; labels it gives no probability keep their raw share (no division by 0).
 */
export function calibrateDistribution(probs: readonly number[], contentFree: readonly number[]): number[] {
  if (probs.length !== contentFree.length) throw new EmosteerError('INVALID_ARGUMENT', `calibration needs one content-free probability per label (${contentFree.length} for ${probs.length})`);
  const w = probs.map((p, i) => (contentFree[i]! > 0 ? p / contentFree[i]! : p));
  const sum = w.reduce((a, b) => a + b, 0);
  return sum > 0 && Number.isFinite(sum) ? w.map((x) => x / sum) : probs.map(() => NaN);
}

/** What a {@link LogProbScorer} returns for one continuation (a subset of {@link emosteer!LogProbResult | LogProbResult}). */
export interface ContinuationLogProbs {
  /** Sum of the continuation tokens' natural-log probabilities. */
  total: number;
  /** Natural-log probability of each continuation token. */
  logProbs: ArrayLike<number>;
}

/** Options of {@link LlmJudge}. */
export interface LlmJudgeOptions {
  /** Candidate labels (default the 20 emotions and 'neutral'). At least 2, distinct, non-empty. */
  labels?: readonly string[];
  /**
   * Builds the question from the text and the labels; it should end so that the label is a
   * natural answer (the default ends with "Answer:", or asks for one word of the list with
   * `format: 'chat'`: {@link chatJudgePrompt}).
   */
  template?: (text: string, labels: readonly string[]) => string;
  /**
   * How a label's log-probability is aggregated over its tokens (default 'total', the sum:
   * the probability of the whole label). 'mean' divides by the token count, which removes
   * the bias against labels that the tokenizer splits into more pieces.
   */
  aggregate?: 'total' | 'mean';
  /** Longer texts are cut to this many characters before judging (default 2000). */
  maxChars?: number;
  /** Most texts whose label distribution is kept (default 1000; oldest dropped first). */
  cacheSize?: number;
  /** Judge name in reports (default 'llm'). */
  name?: string;
  /** How the question is put to the model (default 'plain'; 'chat' for instruction-tuned judges). */
  format?: JudgeFormat;
  /**
   * Contextual calibration: the content-free texts whose mean label distribution divides every
   * distribution (true = {@link CONTENT_FREE_TEXTS}; default false, no calibration).
   */
  calibration?: boolean | readonly string[];
}

/** The label distribution of one text, see {@link LlmJudge.distribution}. */
export interface LabelDistribution {
  /** Label with the highest probability (the first one on ties). */
  label: string;
  /** Probability of each label (calibrated when the judge calibrates). */
  probabilities: Record<string, number>;
  /** The softmax of the log-probabilities before calibration (equal to `probabilities` without calibration). */
  raw: Record<string, number>;
  /** The aggregated log-probability of each label's continuation behind each probability. */
  logProbs: Record<string, number>;
}

/**
 * The default zero-shot prompt: the text in quotes, the list of labels, and "Answer:".
 * Plain text, so base models (which continue documents) and chat models both follow it.
 */
export function defaultJudgePrompt(text: string, labels: readonly string[]): string {
  return (
    'Read the text and decide which emotion it expresses most strongly.\n\n' +
    `Text: "${text}"\n\n` +
    `Possible emotions: ${labels.join(', ')}.\n` +
    'Question: Which one emotion from the list does the text express?\n' +
    'Answer:'
  );
}

/**
 * The default question of a `'chat'` judge: the text, the labels, and an instruction to answer
 * with one of them (the answer is the start of the assistant's message).
 */
export function chatJudgePrompt(text: string, labels: readonly string[]): string {
  return (
    `Text: "${text}"\n\n` +
    `Which one of these emotions does the text express most strongly: ${labels.join(', ')}?\n` +
    'Answer with one word from the list.'
  );
}

/**
 * Numerically stable softmax. Entries of -Infinity get probability 0; when no entry is
 * finite, every probability is NaN.
 */
export function softmax(values: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (!Number.isFinite(max)) return values.map(() => NaN);
  const exps = values.map((v) => (Number.isNaN(v) ? 0 : Math.exp(v - max)));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/**
 * Zero-shot LLM emotion judge. `score(text, emotion)` is the probability (0..1) of `emotion`
 * among the labels; `classify` returns the most probable label. Results are cached per text.
 *
 * @example
 * const judgeModel = await loadModel('qwen2.5-1.5b-instruct-q4_k_m.gguf');
 * const judge = new LlmJudge(await judgeModel.createContext());
 * await judge.score('She wept at the grave.', 'sad'); // e.g. 0.71
 */
export class LlmJudge implements Judge {
  /** Judge name in reports. */
  readonly name: string;
  /** Candidate labels, in order. */
  readonly labels: readonly string[];
  readonly #ctx: LogProbScorer;
  readonly #template: (text: string, labels: readonly string[]) => string;
  readonly #aggregate: 'total' | 'mean';
  readonly #maxChars: number;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, Promise<LabelDistribution>>();
  readonly #format: JudgeFormat;
  readonly #contentFree: readonly string[] | null;
  #calibration: Promise<number[]> | null = null;

  /**
   * @param ctx a context (or anything with `logProbs(prompt, continuation)`), ideally of a
   *   model that is not being steered; the judge never changes its steering
   * @param options labels, prompt template, aggregation, truncation, cache size
   * @throws EmosteerError INVALID_ARGUMENT for a missing context or bad options
   */
  constructor(ctx: LogProbScorer, options: LlmJudgeOptions = {}) {
    if (!ctx || typeof ctx.logProbs !== 'function') {
      throw new EmosteerError('INVALID_ARGUMENT', 'LlmJudge needs a context with a logProbs(prompt, continuation) method');
    }
    const labels = [...(options.labels ?? CATEGORIES)];
    if (labels.length < 2) throw new EmosteerError('INVALID_ARGUMENT', 'LlmJudge needs at least 2 labels');
    if (labels.some((l) => typeof l !== 'string' || l.trim().length === 0)) throw new EmosteerError('INVALID_ARGUMENT', 'every LlmJudge label must be a non-empty string');
    if (new Set(labels).size !== labels.length) throw new EmosteerError('INVALID_ARGUMENT', 'LlmJudge labels must be distinct');
    const aggregate = options.aggregate ?? 'total';
    if (aggregate !== 'total' && aggregate !== 'mean') throw new EmosteerError('INVALID_ARGUMENT', `aggregate must be 'total' or 'mean' (got ${String(aggregate)})`);
    const maxChars = options.maxChars ?? 2000;
    const cacheSize = options.cacheSize ?? 1000;
    if (!Number.isInteger(maxChars) || maxChars < 1) throw new EmosteerError('INVALID_ARGUMENT', `maxChars must be a positive integer (got ${maxChars})`);
    if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new EmosteerError('INVALID_ARGUMENT', `cacheSize must be a non-negative integer (got ${cacheSize})`);
    if (options.template !== undefined && typeof options.template !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'template must be a function (text, labels) => string');
    this.#ctx = ctx;
    this.labels = Object.freeze(labels);
    this.#template = options.template ?? (options.format === 'chat' ? chatJudgePrompt : defaultJudgePrompt);
    this.#aggregate = aggregate;
    this.#maxChars = maxChars;
    this.#cacheSize = cacheSize;
    this.name = options.name ?? 'llm';
    const format = options.format ?? 'plain';
    if (format !== 'plain' && format !== 'chat') throw new EmosteerError('INVALID_ARGUMENT', `format must be 'plain' or 'chat' (got ${String(format)})`);
    this.#format = format;
    const cal = options.calibration ?? false;
    if (cal !== true && cal !== false && !(Array.isArray(cal) && cal.length > 0 && cal.every((t) => typeof t === 'string'))) {
      throw new EmosteerError('INVALID_ARGUMENT', 'calibration must be true, false or a non-empty list of content-free texts');
    }
    this.#contentFree = cal === true ? CONTENT_FREE_TEXTS : cal === false ? null : Object.freeze([...(cal as readonly string[])]);
  }

  /** How questions are put to the model. */
  get format(): JudgeFormat { return this.#format; }

  /** The content-free texts of contextual calibration, or null when the judge does not calibrate. */
  get contentFreeTexts(): readonly string[] | null { return this.#contentFree; }

  /**
   * The mean label distribution of the content-free texts (what calibration divides by),
   * computed once; null when the judge does not calibrate.
   */
  async contentFreeDistribution(): Promise<Record<string, number> | null> {
    if (!this.#contentFree) return null;
    const cf = await this.#calibrationVector();
    return Object.fromEntries(this.labels.map((l, i) => [l, cf[i]!]));
  }

  #calibrationVector(): Promise<number[]> {
    if (!this.#calibration) {
      const texts = this.#contentFree ?? [];
      this.#calibration = (async () => {
        const sum = this.labels.map(() => 0);
        for (const t of texts) softmax(await this.#scores(t)).forEach((p, i) => { sum[i]! += p; });
        return sum.map((x) => x / texts.length);
      })();
      this.#calibration.catch(() => { this.#calibration = null; });
    }
    return this.#calibration;
  }

  /** The prompt used for `text` (after truncation to `maxChars`). */
  prompt(text: string): string {
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'LlmJudge needs a string');
    const t = text.length > this.#maxChars ? text.slice(0, this.#maxChars) : text;
    return this.#template(t, this.labels);
  }

  /** Every label's aggregated log-probability as the answer about `text`. */
  async #scores(text: string): Promise<number[]> {
    const { prompt, continuations } = judgeQuestion(this.prompt(text), this.labels, this.#format);
    const scores: number[] = [];
    const score = (r: { total: number; logProbs: ArrayLike<number> }) => {
      const n = r.logProbs?.length ?? 0;
      return this.#aggregate === 'mean' && n > 0 ? r.total / n : r.total;
    };
    if (this.#ctx.logProbsMany) {
      // The prompt once, then every label after it.
      for (const r of await this.#ctx.logProbsMany(prompt, continuations)) scores.push(score(r));
    } else {
      // One label after the other: a context runs one operation at a time anyway.
      for (const c of continuations) scores.push(score(await this.#ctx.logProbs(prompt, c)));
    }
    return scores;
  }

  async #compute(text: string): Promise<LabelDistribution> {
    const scores = await this.#scores(text);
    const rawProbs = softmax(scores);
    const probs = this.#contentFree ? calibrateDistribution(rawProbs, await this.#calibrationVector()) : rawProbs;
    const probabilities: Record<string, number> = {};
    const raw: Record<string, number> = {};
    const logProbs: Record<string, number> = {};
    let best = 0;
    this.labels.forEach((l, i) => {
      probabilities[l] = probs[i]!;
      raw[l] = rawProbs[i]!;
      logProbs[l] = scores[i]!;
      if (probs[i]! > probs[best]!) best = i;
    });
    return { label: this.labels[best]!, probabilities, raw, logProbs };
  }

  /** The label distribution of `text` (computed once per text, then cached). */
  distribution(text: string): Promise<LabelDistribution> {
    if (typeof text !== 'string') return Promise.reject(new EmosteerError('INVALID_ARGUMENT', 'LlmJudge needs a string'));
    const hit = this.#cache.get(text);
    if (hit) {
      // Refresh recency.
      this.#cache.delete(text);
      this.#cache.set(text, hit);
      return hit;
    }
    const p = this.#compute(text);
    if (this.#cacheSize > 0) {
      this.#cache.set(text, p);
      while (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
      // A failed computation is not remembered.
      p.catch(() => { if (this.#cache.get(text) === p) this.#cache.delete(text); });
    }
    return p;
  }

  /** Number of texts in the cache. */
  get cacheEntries(): number { return this.#cache.size; }

  /** Forgets all cached results. */
  clearCache(): void { this.#cache.clear(); }

  /**
   * Probability (0..1) that the model picks `emotion` among the labels for `text`.
   * @throws EmosteerError INVALID_ARGUMENT when `emotion` is not one of the labels
   */
  async score(text: string, emotion: string): Promise<number> {
    if (!this.labels.includes(emotion)) {
      throw new EmosteerError('INVALID_ARGUMENT', `'${emotion}' is not a label of this judge; labels: ${this.labels.join(', ')}`);
    }
    return (await this.distribution(text)).probabilities[emotion]!;
  }

  /** The most probable label and every label's probability. */
  async classify(text: string): Promise<JudgeClassification> {
    const d = await this.distribution(text);
    return { label: d.label, scores: { ...d.probabilities } };
  }
}
