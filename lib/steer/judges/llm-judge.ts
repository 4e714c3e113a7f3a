/**
 * A zero-shot emotion judge built on emosteer itself: a (usually different, unsteered) GGUF
 * model is asked which emotion a text expresses, and every candidate label is scored by the
 * log-probability the model gives it as the answer.
 *
 * Scoring labels by log-probability instead of sampling an answer works on base and chat
 * models alike, never produces an unparsable answer, and gives a full probability
 * distribution over the labels. The prompt is plain text (no chat template).
 *
 * @module
 */
import type { Context } from '../../runtime/context.js';
import { EmosteerError } from '../../errors.js';
import { CATEGORIES } from '../../stimuli/emotions.js';
import type { Judge, JudgeClassification } from './judge.js';

/**
 * What the judge needs from a context: `logProbs(prompt, continuation)` resolving to an object
 * with the summed natural-log probability `total` and the per-token `logProbs`.
 * A {@link Context} of emosteer satisfies it.
 */
export interface LogProbScorer {
  /** Log-probabilities of `continuation` after `prompt`. */
  logProbs(prompt: string, continuation: string): Promise<ContinuationLogProbs>;
  /** Optional: all continuations after one prompt decoded once (a Context has it; much faster for long prompts). */
  logProbsMany?(prompt: string, continuations: readonly string[]): Promise<ContinuationLogProbs[]>;
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
   * Builds the prompt from the text and the labels; it should end so that " <label>" is a
   * natural continuation (the default ends with "Answer:").
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
}

/** The label distribution of one text, see {@link LlmJudge.distribution}. */
export interface LabelDistribution {
  /** Label with the highest probability (the first one on ties). */
  label: string;
  /** Softmax probability of each label. */
  probabilities: Record<string, number>;
  /** The aggregated log-probability of " <label>" behind each probability. */
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
    this.#template = options.template ?? defaultJudgePrompt;
    this.#aggregate = aggregate;
    this.#maxChars = maxChars;
    this.#cacheSize = cacheSize;
    this.name = options.name ?? 'llm';
  }

  /** The prompt used for `text` (after truncation to `maxChars`). */
  prompt(text: string): string {
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'LlmJudge needs a string');
    const t = text.length > this.#maxChars ? text.slice(0, this.#maxChars) : text;
    return this.#template(t, this.labels);
  }

  async #compute(text: string): Promise<LabelDistribution> {
    const prompt = this.prompt(text);
    const scores: number[] = [];
    const score = (r: { total: number; logProbs: ArrayLike<number> }) => {
      const n = r.logProbs?.length ?? 0;
      return this.#aggregate === 'mean' && n > 0 ? r.total / n : r.total;
    };
    if (this.#ctx.logProbsMany) {
      // The prompt once, then every label after it.
      for (const r of await this.#ctx.logProbsMany(prompt, this.labels.map((l) => ` ${l}`))) scores.push(score(r));
    } else {
      // One label after the other: a context runs one operation at a time anyway.
      for (const label of this.labels) scores.push(score(await this.#ctx.logProbs(prompt, ` ${label}`)));
    }
    const probs = softmax(scores);
    const probabilities: Record<string, number> = {};
    const logProbs: Record<string, number> = {};
    let best = 0;
    this.labels.forEach((l, i) => {
      probabilities[l] = probs[i]!;
      logProbs[l] = scores[i]!;
      if (probs[i]! > probs[best]!) best = i;
    });
    return { label: this.labels[best]!, probabilities, logProbs };
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
