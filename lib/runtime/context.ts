/**
 * Context: decoding, generation, activation capture and steering on one llama.cpp context.
 *
 * Every native operation of a context runs off the JS thread, one at a time: concurrent
 * calls queue (FIFO). For independent concurrent requests create one context each; they
 * share the model's weights, and steering set on one never reaches another.
 */
import { availableParallelism } from 'node:os';

/**
 * Threads of a context when its options give none: `$EMOSTEER_THREADS` when set (a shared
 * machine running several jobs at once should split its cores: llama.cpp's threads wait for
 * each other, and two jobs that each take every core slow each other down many times over),
 * else every core.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.EMOSTEER_THREADS;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new EmosteerError('INVALID_ARGUMENT', `EMOSTEER_THREADS must be a positive integer, got '${v}'`);
    return n;
  }
  return Math.max(1, availableParallelism());
}
import { Activations, type Pooling } from './activations.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { EmosteerError, fromNativeError } from '../errors.js';
import type { ChatMessage, Model } from './model.js';
import { addon, type NativeContext, type NativeStepItem, type NativeStepResult } from './native.js';
import type { BlockProbe } from './probe.js';
import { createSampler, DEFAULT_SAMPLING, type SamplingOptions } from './sampling.js';
import { poolItem, SequenceRun, type GeneratedToken, type GenerationResult, type RunStepRequest, type TokenLogProb } from './sequence-run.js';
import { compileSteering, flattenVectors, SteeringResolver, type Steering, type SteeringOption } from './steering.js';
import { Mutex } from './mutex.js';
import { nativeDistributions, toComparison, type DistributionComparison, type NextTokenDistributions } from './distributions.js';
import { SequenceLocks } from './sequence-locks.js';

/** Options of {@link Model.createContext}. */
export interface ContextOptions {
  /** KV-cache size in tokens, shared by all sequences (default 2048). */
  contextSize?: number;
  /** Most tokens submitted to one llama_decode call (default 512). */
  batchSize?: number;
  /** Physical micro-batch size (default = batchSize). */
  ubatchSize?: number;
  /** Independent sequences decoded together, for batched jobs (default 1). */
  sequences?: number;
  /** Default sampling seed of generation calls on this context (default 0). */
  seed?: number;
  /** Threads for single-token generation (default: available parallelism). */
  threads?: number;
  /** Threads for prompt processing (default = threads). */
  batchThreads?: number;
  /**
   * Keep ggml's CPU worker threads for the life of the context (default false), as llama.cpp's
   * own tools do, instead of ggml starting and joining them in every decode. On 2 cores this
   * gained nothing on plain decoding (ratio 1.008 and 1.042 in two runs) and cost 4-8% on the
   * eval-callback steering path (`node bench/context-speed.mjs`); it is for many-core machines,
   * where starting more threads per decode costs more: measure there. `options.threadPool`
   * reads false when the pools could not be made (no CPU backend).
   */
  threadPool?: boolean;
  /**
   * Flash attention (default false). Off by default because llama.cpp's CPU path then rounds
   * differently per batch size, and captured vectors would differ by ~5e-4 relative between
   * batch sizes (and a batched request's tokens from those of the same request alone, at near
   * ties). Turn it on for speed: on CPU it is worth ~17% of single-token generation on
   * SmolLM2-135M with 2 threads (`node bench/context-speed.mjs`), more with long contexts.
   * `'auto'` is llama.cpp's own default (and llama-server's): on where every device of the
   * context supports it.
   */
  flashAttention?: boolean | 'auto';
  /**
   * Install the capture hook as llama.cpp's eval callback (default true). With `false`, decoding
   * runs exactly as in plain llama.cpp, and capture (and the emotion meter) on this context
   * throws CAPTURE_DISABLED; steering still works. On CPU the hook costs nothing measurable; on
   * CUDA, llama.cpp synchronises after every graph split and keys CUDA graphs per split when a
   * callback is set, which costs single-token generation time (docs/benchmarks.md).
   */
  activationHooks?: boolean;
  /**
   * Uniform steering through llama.cpp's control vector (default true): a decode step whose
   * every token carries the same per-call steering, with no context-wide steering set, applies
   * it as the context-wide path does (`llama_set_adapter_cvec`, part of the graph) instead of
   * through the eval callback (a graph split per steered block); the tokens are the same
   * either way. It is set only once two steps in a row agree (each change rebuilds llama.cpp's
   * graph reservation) and removed by the first step that is steered otherwise. false keeps
   * every per-call steering on the eval-callback path.
   */
  steeringControlVector?: boolean;
}

/** Which residual-stream tensors to capture. */
export interface CaptureOptions {
  /** Blocks to read (default 'all' = 0..nLayer-1). */
  layers?: readonly number[] | 'all';
  /** Reduction over the input's tokens (default 'last'). */
  pooling?: Pooling;
  /**
   * Base name of the per-block tensor (default 'l_out', the block output). Other names
   * llama.cpp exposes for most architectures: 'ffn_inp', 'attn_norm', 'ffn_out'.
   */
  tensor?: string;
}

/** Input of a decode: text, token ids, or chat messages (formatted with the chat template). */
export type PromptInput =
  | string
  | ArrayLike<number>
  | {
      /** The conversation, formatted with the model's chat template (assistant turn opened). */
      messages: ChatMessage[];
    };

/** Options of {@link Context.evaluate}. */
export interface EvaluateOptions {
  /** Sequence id (default 0). */
  sequence?: number;
  /** Continue the sequence instead of starting it afresh (default false). */
  append?: boolean;
  /** Capture activations. */
  capture?: CaptureOptions;
  /** Return the logits of the last token (default false). */
  logits?: boolean;
  /** For text input: add BOS as the tokenizer is configured to (default true, false when appending). */
  addSpecial?: boolean;
  /** For text input: parse special tokens written in the text (default false; true for chat messages). */
  parseSpecial?: boolean;
  /** Steering of this call's tokens only (see {@link Steering}); every token counts as prompt. */
  steering?: Steering | null;
  /** Cancels the operation. */
  signal?: AbortSignal;
}

/** Result of {@link Context.evaluate}. */
export interface EvaluateResult {
  /** The tokens decoded. */
  tokens: Int32Array;
  /** Logits of the last token (nVocab floats) when requested. */
  logits?: Float32Array;
  /** Captured activations when requested. */
  activations?: Activations;
}

/** Options of generation calls. */
export interface GenerateOptions extends SamplingOptions {
  /** Most new tokens (default 256). */
  maxTokens?: number;
  /** Sequence id (default 0; generateBatch uses 0..n-1). */
  sequence?: number;
  /** Continue the sequence instead of starting afresh (default false). */
  append?: boolean;
  /** Stop at end-of-generation tokens (default true). */
  stopOnEog?: boolean;
  /** Stop when the generated text contains one of these strings (it is cut off the text). */
  stop?: readonly string[];
  /**
   * Capture activations while generating: every generated token's own vector (no second
   * pass), plus the prompt's pooled vectors when `prompt` is set.
   */
  capture?: {
    /** Blocks to read (default 'all' = 0..nLayer-1). */
    layers?: readonly number[] | 'all';
    /** Base name of the per-block tensor (default 'l_out', the block output); see {@link CaptureOptions.tensor}. */
    tensor?: string;
    /** Also capture the prompt, reduced this way (default: the prompt is not captured). */
    prompt?: Pooling;
  };
  /** For text input: add BOS as the tokenizer is configured to (default true, false when appending). */
  addSpecial?: boolean;
  /** For text input: parse special tokens written in the text (default false; true for chat messages). */
  parseSpecial?: boolean;
  /**
   * Steering of this generation's sequence only, for this call only: fixed, or a schedule
   * asked before every token (see {@link SteeringOption}). Other sequences decoded in the
   * same batch are not touched; context-wide steering (setSteering) adds to it.
   */
  steering?: SteeringOption;
  /**
   * Read at every generated token (e.g. an EmotionMeter): its block is captured for the token
   * (no second pass) and the reading arrives as `token.reading`.
   */
  probe?: BlockProbe;
  /**
   * Log-probabilities: every generated token gets `logProb` (under the model's own next-token
   * distribution, before the grammar and the sampler's penalties, temperature, top-k, ...) and `topLogProbs`, the
   * `logProbs` most probable tokens of that distribution (0..100; 0 = the token's own only).
   * Computed natively per token: no logits cross into JavaScript.
   */
  logProbs?: number;
  /** Cancels generation; stops within one token. */
  signal?: AbortSignal;
}

/** Options of {@link Context.generateBatch}. */
export interface GenerateBatchOptions extends GenerateOptions {
  /** Seed of prompt i (default: options.seed for all). */
  seeds?: readonly number[];
  /** Steering of prompt i (default: options.steering for all). */
  steerings?: readonly SteeringOption[];
  /** Called with every token as it is generated. */
  onToken?: (sequence: number, token: GeneratedToken) => void;
}

export type { GeneratedToken, GenerationResult, StopReason, TokenLogProb } from './sequence-run.js';

/** Options of {@link Context.setSteering}. */
export interface SteeringOptions {
  /** Multiplies every vector (default 1). */
  scale?: number;
  /** Inclusive block range to steer (default [1, nLayer-1]; block 0 cannot be steered). */
  layers?: [start: number, end: number];
}

/** The steering a context currently applies. */
export interface SteeringState {
  /** nLayer x nEmbd, row i = block i (before scaling). */
  vectors: Float32Array;
  /** Factor every vector is multiplied by. */
  scale: number;
  /** Inclusive block range steered. */
  layers: [number, number];
}

/** Log-probabilities of a continuation, see {@link Context.logProbs}. */
export interface LogProbResult {
  /** Continuation tokens. */
  tokens: Int32Array;
  /** Natural-log probability of each continuation token given everything before it. */
  logProbs: Float32Array;
  /** Sum of logProbs. */
  total: number;
  /** exp(-mean logProb). */
  perplexity: number;
  /** With `compareTo`: per continuation token, how this distribution differs from the reference's. */
  comparison?: DistributionComparison;
  /** With `topLogProbs: k`: per continuation token, the k most probable tokens at its position. */
  top?: TokenLogProb[][];
}

/** Options of {@link Context.logProbs}. */
export interface LogProbsOptions {
  /** Sequence id (default 0); left cleared. */
  sequence?: number;
  /** Steering of this call's tokens (every token counts as prompt). */
  steering?: Steering | null;
  /**
   * Keep this call's next-token distributions at every continuation position (natively: none
   * crosses into JavaScript), as the reference of later calls' `compareTo`.
   */
  record?: NextTokenDistributions;
  /**
   * Compare this call's next-token distributions with a recorded reference's, position by
   * position (the same prompt and continuation tokens, a model with the same vocabulary):
   * the result gets `comparison`.
   * @throws EmosteerError VOCAB_MISMATCH (another vocabulary), INVALID_ARGUMENT (other tokens, nothing recorded)
   */
  compareTo?: NextTokenDistributions;
  /**
   * Also return, per continuation token, the `topLogProbs` most probable tokens at its
   * position (1..100, computed natively): the result gets `top`.
   */
  topLogProbs?: number;
  /** Cancels the operation. */
  signal?: AbortSignal;
}

/** What a dropped generation still holds, released when its generator is garbage collected. */
interface Reservation {
  release?: () => void;
}

/**
 * Releases the sequences of generators dropped without `return()` (an abandoned
 * `for await` that never finished nor broke out): they are collectable while suspended, and
 * their reservation goes with them.
 */
const abandoned = new FinalizationRegistry<Reservation>((r) => r.release?.());

/** An inference context on a {@link Model}. */
export class Context {
  /** The model this context decodes with. */
  readonly model: Model;
  /** Resolved options. */
  readonly options: Readonly<Required<Omit<ContextOptions, 'flashAttention'>>>;
  readonly #seed: number;
  readonly #native: NativeContext;
  /** Taken for each native operation (one step, one synchronous call), never across a yield. */
  readonly #mutex = new Mutex();
  /** Sequences reserved by running calls. */
  readonly #sequences = new SequenceLocks();
  #disposed = false;
  #disposing = false;

  private constructor(model: Model, native: NativeContext, seed: number) {
    this.model = model;
    this.#native = native;
    this.#seed = seed;
    const i = native.info();
    this.options = Object.freeze({
      contextSize: i.contextSize,
      batchSize: i.batchSize,
      ubatchSize: i.ubatchSize,
      sequences: i.sequences,
      threads: i.threads,
      batchThreads: i.batchThreads,
      seed,
      activationHooks: i.activationHooks,
      threadPool: i.threadPool,
      steeringControlVector: i.steeringControlVector,
    });
  }

  /** @internal use {@link Model.createContext} */
  static async create(model: Model, options: ContextOptions): Promise<Context> {
    if (options.seed !== undefined && (!Number.isInteger(options.seed) || options.seed < 0)) {
      throw new EmosteerError('INVALID_ARGUMENT', `seed must be a non-negative integer (got ${options.seed})`);
    }
    if (options.flashAttention !== undefined && typeof options.flashAttention !== 'boolean' && options.flashAttention !== 'auto') {
      throw new EmosteerError('INVALID_ARGUMENT', `flashAttention must be true, false or 'auto' (got ${String(options.flashAttention)})`);
    }
    for (const k of ['activationHooks', 'steeringControlVector', 'threadPool'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') throw new EmosteerError('INVALID_ARGUMENT', `${k} must be a boolean (got ${String(options[k])})`);
    }
    for (const k of ['contextSize', 'batchSize', 'ubatchSize', 'sequences', 'threads', 'batchThreads'] as const) {
      const v = options[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new EmosteerError('INVALID_ARGUMENT', `${k} must be a positive integer (got ${v})`);
    }
    const threads = options.threads ?? defaultThreads();
    try {
      const native = await addon().createContext(model.checkNative(), { ...options, threads, batchThreads: options.batchThreads ?? threads });
      return new Context(model, native, options.seed ?? DEFAULT_SAMPLING.seed);
    } catch (err) {
      throw fromNativeError(err);
    }
  }

  /** Number of blocks of the model. */
  get nLayer(): number { return this.model.info.nLayer; }
  /** Residual-stream width. */
  get nEmbd(): number { return this.model.info.nEmbd; }
  /** True once disposed. */
  get disposed(): boolean { return this.#disposed; }
  /** Decode steps that applied uniform per-call steering through the control vector (see {@link ContextOptions.steeringControlVector}). */
  get controlVectorSteps(): number { return call(() => this.#check().info().controlVectorSteps); }

  #check(): NativeContext {
    if (this.#disposed || this.#disposing) throw disposedError();
    return this.#native;
  }

  /** Runs `fn` on the native context while no other operation runs on it. */
  #exclusive<T>(fn: (native: NativeContext) => T | Promise<T>): Promise<T> {
    return this.#mutex.run(() => fn(this.#check()));
  }

  /** Reserves sequences for the length of `fn`. */
  async #reserved<T>(seqs: readonly number[], fn: () => Promise<T>): Promise<T> {
    this.#checkSequences(seqs);
    const release = await this.#sequences.acquire(seqs);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #checkSequences(seqs: readonly number[]): void {
    this.#check();
    for (const s of seqs) {
      if (!Number.isInteger(s) || s < 0 || s >= this.options.sequences) {
        throw new EmosteerError('INVALID_ARGUMENT', `sequence ${s} is outside 0..${this.options.sequences - 1} (create the context with more sequences)`);
      }
    }
  }

  /** Resolves a prompt to token ids. */
  tokenizePrompt(input: PromptInput, options: { addSpecial?: boolean; parseSpecial?: boolean } = {}): Int32Array {
    if (typeof input === 'string') {
      return this.model.tokenize(input, { addSpecial: options.addSpecial ?? true, parseSpecial: options.parseSpecial ?? false });
    }
    if (input === null || input === undefined || (typeof input !== 'object' && typeof input !== 'string')) {
      throw new EmosteerError('INVALID_ARGUMENT', `a prompt must be a string, token ids or { messages } (got ${input === null ? 'null' : typeof input})`);
    }
    if (typeof input === 'object' && 'messages' in input) {
      if (!Array.isArray(input.messages)) throw new EmosteerError('INVALID_ARGUMENT', 'prompt.messages must be an array of { role, content }');
      const text = this.model.applyChatTemplate(input.messages, { addAssistant: true });
      return this.model.tokenize(text, { addSpecial: options.addSpecial ?? true, parseSpecial: options.parseSpecial ?? true });
    }
    if (typeof (input as ArrayLike<number>).length !== 'number') throw new EmosteerError('INVALID_ARGUMENT', 'a prompt object must be token ids (an array) or { messages }');
    const arr = Int32Array.from(input as ArrayLike<number>);
    return arr;
  }

  #layers(spec: readonly number[] | 'all' | undefined): Int32Array {
    if (!this.options.activationHooks) throw new EmosteerError('CAPTURE_DISABLED', 'this context was created with activationHooks: false and cannot capture');
    if (spec === undefined || spec === 'all') return Int32Array.from({ length: this.nLayer }, (_, i) => i);
    const sorted = [...new Set(spec)].sort((a, b) => a - b);
    for (const l of sorted) {
      if (!Number.isInteger(l) || l < 0 || l >= this.nLayer) {
        throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${l} does not exist: the model has blocks 0..${this.nLayer - 1}`);
      }
    }
    return Int32Array.from(sorted);
  }

  #rows(p: Pooling | undefined, n: number): number {
    return p === 'all' ? n : 1;
  }

  /** The steering item field of a fixed per-call steering on prompt tokens. */
  #promptSteering(steering: Steering | null | undefined): Pick<NativeStepItem, 'steering'> {
    if (steering === null || steering === undefined) return {};
    const c = compileSteering(this.model, steering);
    return c.positions === 'generated' ? {} : { steering: c.native };
  }

  /** One native step under the context's mutex (optionally after a synchronous preparation). */
  async #step(items: NativeStepItem[], layers?: Int32Array, tensor?: string, signal?: AbortSignal, before?: (native: NativeContext) => void): Promise<NativeStepResult[]> {
    if (signal?.aborted) throw abortError(signal);
    return this.#exclusive(async (native) => {
      if (before) call(() => before(native));
      if (signal?.aborted) throw abortError(signal);
      const onAbort = () => native.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        return await native.step(items, layers, tensor);
      } catch (err) {
        if (this.#disposing) throw disposedError(err);
        throw fromNativeError(err);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** A synchronous native call under the mutex. */
  #sync<T>(fn: (native: NativeContext) => T): Promise<T> {
    return this.#exclusive((native) => call(() => fn(native)));
  }

  /**
   * Decodes a prompt (one forward pass), optionally capturing activations of many blocks at
   * once and returning the last token's logits.
   *
   * @example
   * const { activations } = await ctx.evaluate('The cat sat.', { capture: { layers: 'all', pooling: 'last' } });
   * activations!.get(5); // Float32Array(nEmbd), block 5's output at the last token
   */
  async evaluate(input: PromptInput, options: EvaluateOptions = {}): Promise<EvaluateResult> {
    const seq = options.sequence ?? 0;
    return this.#reserved([seq], async () => {
      const tokens = this.tokenizePrompt(input, { addSpecial: options.addSpecial ?? !options.append, parseSpecial: options.parseSpecial });
      if (tokens.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the prompt is empty');
      const layers = options.capture ? this.#layers(options.capture.layers) : undefined;
      const pool = options.capture ? poolItem(options.capture.pooling, tokens.length) : { pool: 'none' as const };
      const item: NativeStepItem = { seq, tokens, logits: options.logits ?? false, ...pool, ...this.#promptSteering(options.steering) };
      const [r] = await this.#step([item], layers, options.capture?.tensor, options.signal, options.append ? undefined : (n) => n.clearSequence(seq));
      const out: EvaluateResult = { tokens };
      if (r!.logits) out.logits = r!.logits;
      if (layers && r!.activations) {
        out.activations = new Activations([...layers], this.nEmbd, this.#rows(options.capture!.pooling, tokens.length), r!.activations);
      }
      return out;
    });
  }

  /**
   * Decodes several prompts in one batch (sequences 0..n-1, each started afresh) and captures
   * the same blocks and pooling for each: the fast path for reading many short passages.
   * Needs a context with `sequences >= inputs.length`. `steerings[i]` steers prompt i only.
   */
  async evaluateBatch(inputs: PromptInput[], options: Omit<EvaluateOptions, 'sequence' | 'append'> & { steerings?: readonly (Steering | null | undefined)[] } = {}): Promise<EvaluateResult[]> {
    if (inputs.length === 0) return [];
    if (inputs.length > this.options.sequences) {
      throw new EmosteerError('INVALID_ARGUMENT', `${inputs.length} prompts but the context has ${this.options.sequences} sequences; create it with { sequences: ${inputs.length} }`);
    }
    const seqs = inputs.map((_, i) => i);
    return this.#reserved(seqs, async () => {
      const all = inputs.map((inp) => this.tokenizePrompt(inp, { addSpecial: options.addSpecial ?? true, parseSpecial: options.parseSpecial }));
      all.forEach((t, i) => { if (t.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `prompt ${i} is empty`); });
      const layers = options.capture ? this.#layers(options.capture.layers) : undefined;
      const items: NativeStepItem[] = all.map((tokens, seq) => ({
        seq,
        tokens,
        logits: options.logits ?? false,
        ...(options.capture ? poolItem(options.capture.pooling, tokens.length) : { pool: 'none' as const }),
        ...this.#promptSteering(options.steerings?.[seq] ?? options.steering),
      }));
      try {
        const res = await this.#step(items, layers, options.capture?.tensor, options.signal, (n) => { for (const seq of seqs) n.clearSequence(seq); });
        return res.map((r, i) => {
          const out: EvaluateResult = { tokens: all[i]! };
          if (r.logits) out.logits = r.logits;
          if (layers && r.activations) out.activations = new Activations([...layers], this.nEmbd, this.#rows(options.capture!.pooling, all[i]!.length), r.activations);
          return out;
        });
      } finally {
        await this.#clearQuietly(seqs);
      }
    });
  }

  /** Clears sequences after a call that must leave them empty (skipped once disposed). */
  async #clearQuietly(seqs: readonly number[]): Promise<void> {
    if (this.#disposed || this.#disposing) return;
    await this.#mutex.run(() => {
      if (this.#disposed || this.#disposing) return;
      call(() => { for (const s of seqs) this.#native.clearSequence(s); });
    });
  }

  /**
   * Log-probabilities of `continuation` after `prompt` (one pass), e.g. for perplexity or for
   * scoring labels. Uses sequence `options.sequence` (default 0) and leaves it cleared. With
   * `record` / `compareTo` it also keeps or compares the next-token distributions at every
   * continuation position, natively ({@link NextTokenDistributions}).
   */
  async logProbs(prompt: PromptInput, continuation: string | ArrayLike<number>, options: LogProbsOptions = {}): Promise<LogProbResult> {
    const seq = options.sequence ?? 0;
    return this.#reserved([seq], async () => {
      const p = this.tokenizePrompt(prompt);
      const c = typeof continuation === 'string' ? this.model.tokenize(continuation, { addSpecial: false }) : Int32Array.from(continuation);
      if (p.length === 0 || c.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'logProbs needs a non-empty prompt and continuation');
      const tokens = new Int32Array(p.length + c.length);
      tokens.set(p, 0);
      tokens.set(c, p.length);
      try {
        const item: NativeStepItem = { seq, tokens, scoreFrom: p.length, ...this.#promptSteering(options.steering) };
        if (options.record !== undefined) item.record = nativeDistributions(options.record);
        if (options.compareTo !== undefined) item.compare = nativeDistributions(options.compareTo);
        const k = options.topLogProbs;
        if (k !== undefined) {
          if (!Number.isInteger(k) || k < 1 || k > 100) throw new EmosteerError('INVALID_ARGUMENT', `topLogProbs must be an integer in 1..100 (got ${String(k)})`);
          item.scoreTopK = k;
        }
        const [r] = await this.#step([item], undefined, undefined, options.signal, (n) => n.clearSequence(seq));
        const out = logProbResult(c, r!.scores!);
        if (r!.comparison) out.comparison = toComparison(r!.comparison);
        if (k !== undefined) {
          const ids = r!.scoreTopTokens!;
          const lps = r!.scoreTopLogProbs!;
          out.top = Array.from({ length: c.length }, (_, j) => Array.from({ length: k }, (_, i) => ({ token: ids[j * k + i]!, logProb: lps[j * k + i]! })).filter((e) => e.token >= 0));
        }
        return out;
      } finally {
        await this.#clearQuietly([seq]);
      }
    });
  }

  /**
   * Log-probabilities of several continuations after one prompt: the prompt is decoded once
   * and kept in the KV cache; each continuation is decoded after it and removed again, so
   * scoring k labels of a long prompt costs one prompt pass plus the labels' own tokens
   * (instead of k prompt passes with {@link logProbs}). Uses sequence `options.sequence`
   * (default 0) and leaves it cleared. Equal to {@link logProbs} per continuation up to
   * float rounding (tested to 1e-3).
   */
  async logProbsMany(prompt: PromptInput, continuations: readonly (string | ArrayLike<number>)[], options: { sequence?: number; steering?: Steering | null; signal?: AbortSignal } = {}): Promise<LogProbResult[]> {
    const seq = options.sequence ?? 0;
    return this.#reserved([seq], async () => {
      const p = this.tokenizePrompt(prompt);
      const cs = continuations.map((c) => (typeof c === 'string' ? this.model.tokenize(c, { addSpecial: false }) : Int32Array.from(c)));
      if (p.length === 0 || cs.some((c) => c.length === 0)) throw new EmosteerError('INVALID_ARGUMENT', 'logProbsMany needs a non-empty prompt and non-empty continuations');
      const steer = this.#promptSteering(options.steering);
      try {
        // All of the prompt but its last token stays in the cache; the last token is decoded
        // with each continuation, so that its logits score the continuation's first token.
        const keep = p.length - 1;
        await this.#sync((n) => n.clearSequence(seq));
        if (keep > 0) await this.#step([{ seq, tokens: p.subarray(0, keep), ...steer }], undefined, undefined, options.signal);
        const out: LogProbResult[] = [];
        for (const c of cs) {
          const tokens = new Int32Array(1 + c.length);
          tokens[0] = p[keep]!;
          tokens.set(c, 1);
          const [r] = await this.#step([{ seq, tokens, scoreFrom: 1, ...steer }], undefined, undefined, options.signal);
          await this.#sync((n) => n.clearSequence(seq, keep));
          out.push(logProbResult(c, r!.scores!));
        }
        return out;
      } finally {
        await this.#clearQuietly([seq]);
      }
    });
  }

  /**
   * Streams generated tokens. Capture (optional) yields each token's own activations without
   * a second forward pass. The context is free between tokens: other calls, `setSteering`
   * and `dispose` may run while a generation is suspended at a token (dispose ends it with a
   * DISPOSED error). Its sequence stays reserved until it finishes, is returned from (`break`
   * in `for await`) or is garbage collected.
   *
   * @example
   * for await (const t of ctx.generate({ messages: [{ role: 'user', content: 'Hi' }] }, { maxTokens: 32 })) {
   *   process.stdout.write(t.text);
   * }
   */
  generate(input: PromptInput, options: GenerateOptions = {}): AsyncGenerator<GeneratedToken, GenerationResult, undefined> {
    const reservation: Reservation = {};
    const it = this.#streamOne(input, options, reservation);
    abandoned.register(it, reservation);
    return it;
  }

  async *#streamOne(input: PromptInput, options: GenerateOptions, reservation: Reservation): AsyncGenerator<GeneratedToken, GenerationResult, undefined> {
    const results: GenerationResult[] = [];
    const gen = this.#generateMany([input], [options.sequence ?? 0], options, [options.seed ?? this.#seed], [options.steering], results, reservation);
    for await (const ev of gen) yield ev.token;
    return results[0]!;
  }

  /** Generates to the end and returns the whole result. */
  async generateText(input: PromptInput, options: GenerateOptions = {}): Promise<GenerationResult> {
    const results: GenerationResult[] = [];
    for await (const _ of this.#generateMany([input], [options.sequence ?? 0], options, [options.seed ?? this.#seed], [options.steering], results, {})) { /* drain */ }
    return results[0]!;
  }

  /**
   * Generates for several prompts at once, decoding all sequences together in each step
   * (needs a context with `sequences >= inputs.length`). Sequence i uses seed `seeds[i]`
   * (default: options.seed for all) and steering `steerings[i]` (default: options.steering),
   * so results equal one-at-a-time runs with those seeds and steerings.
   */
  async generateBatch(inputs: PromptInput[], options: GenerateBatchOptions = {}): Promise<GenerationResult[]> {
    if (inputs.length === 0) return [];
    if (inputs.length > this.options.sequences) {
      throw new EmosteerError('INVALID_ARGUMENT', `${inputs.length} prompts but the context has ${this.options.sequences} sequences; create it with { sequences: ${inputs.length} }`);
    }
    if (options.steerings !== undefined && options.steerings.length !== inputs.length) {
      throw new EmosteerError('INVALID_ARGUMENT', `${options.steerings.length} steerings for ${inputs.length} prompts`);
    }
    const seeds = inputs.map((_, i) => options.seeds?.[i] ?? options.seed ?? this.#seed);
    const steerings = inputs.map((_, i) => (options.steerings ? options.steerings[i] : options.steering));
    const results: GenerationResult[] = [];
    for await (const ev of this.#generateMany(inputs, inputs.map((_, i) => i), options, seeds, steerings, results, {})) {
      options.onToken?.(ev.index, ev.token);
    }
    return results;
  }

  async *#generateMany(
    inputs: PromptInput[],
    seqs: number[],
    options: GenerateOptions,
    seeds: number[],
    steerings: SteeringOption[],
    results: GenerationResult[],
    reservation: Reservation,
  ): AsyncGenerator<{ index: number; token: GeneratedToken }> {
    this.#checkSequences(seqs);
    // Validate everything (prompts, sampling, steering, capture) before waiting for sequences.
    const runs = inputs.map((input, i) => this.createRun(input, { ...options, signal: undefined, sequence: seqs[i]!, seed: seeds[i]!, steering: steerings[i] }));
    const release = await this.#sequences.acquire(seqs);
    reservation.release = release;
    try {
      for (;;) {
        const active = runs.filter((r) => !r.done);
        if (active.length === 0) break;
        if (options.signal?.aborted) throw abortError(options.signal);
        const emitted = await this.#advance(active, options.signal);
        const failed = active.find((r) => r.error !== undefined);
        if (failed) throw failed.error;
        for (let k = 0; k < active.length; k++) {
          const t = emitted[k];
          if (t) yield { index: runs.indexOf(active[k]!), token: t };
        }
      }
      runs.forEach((r, i) => { results[i] = r.result(); });
    } finally {
      release();
    }
  }

  /**
   * A run of one generated sequence (see {@link SequenceRun}), validated and ready for
   * {@link step}: the prompt is tokenized, the sampler, steering, capture and stop rules are
   * resolved now, so bad input throws here. `generate` and the request scheduler are loops of
   * `step` over such runs.
   * @throws EmosteerError INVALID_ARGUMENT (empty prompt, bad sampling or stop rules), steering and capture errors
   */
  createRun(input: PromptInput, options: GenerateOptions = {}): SequenceRun {
    // A run has no signal of its own: the caller aborts a step (step(runs, { signal })).
    if (options.signal !== undefined) throw new EmosteerError('INVALID_ARGUMENT', 'createRun takes no signal: pass it to step(runs, { signal })');
    const maxTokens = options.maxTokens ?? 256;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new EmosteerError('INVALID_ARGUMENT', 'maxTokens must be a non-negative integer');
    const stop = options.stop ?? [];
    if (!Array.isArray(stop) || stop.some((x) => typeof x !== 'string')) throw new EmosteerError('INVALID_ARGUMENT', 'stop must be an array of strings');
    const sequence = options.sequence ?? 0;
    this.#checkSequences([sequence]);
    const prompt = this.tokenizePrompt(input, { addSpecial: options.addSpecial ?? !options.append, parseSpecial: options.parseSpecial });
    if (prompt.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'the prompt is empty');
    const capture = options.capture ? { layers: this.#layers(options.capture.layers), tensor: options.capture.tensor, prompt: options.capture.prompt } : undefined;
    if (capture?.prompt !== undefined) poolItem(capture.prompt, prompt.length); // checks the pooling now
    const probe = options.probe;
    if (probe !== undefined) {
      if (typeof probe !== 'object' || probe === null || typeof probe.read !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'probe must be { layer, read(activation) }');
      this.#layers([probe.layer]);
      if (capture && capture.tensor !== undefined && capture.tensor !== 'l_out') throw new EmosteerError('INVALID_ARGUMENT', 'a probe reads l_out; it cannot be combined with capture of another tensor');
    }
    const logProbs = options.logProbs;
    if (logProbs !== undefined && (!Number.isInteger(logProbs) || logProbs < 0 || logProbs > 100)) {
      throw new EmosteerError('INVALID_ARGUMENT', `logProbs must be an integer in 0..100 (got ${String(logProbs)})`);
    }
    const steering = new SteeringResolver(this.model, options.steering);
    const sampler = createSampler(this.model, options, this.#seed, this.options.contextSize);
    return new SequenceRun(this.model, {
      sequence,
      prompt,
      sampler,
      steering,
      maxTokens,
      stop,
      stopOnEog: options.stopOnEog ?? true,
      append: options.append ?? false,
      ...(capture ? { capture } : {}),
      ...(probe ? { probe } : {}),
      ...(logProbs !== undefined ? { logProbs } : {}),
    });
  }

  /**
   * Advances each run by one batched decode: a run that has not started decodes its prompt,
   * the others their last sampled token; every run samples its next token. Returns, per run,
   * the token this step emitted (undefined if none: see {@link SequenceRun}). The runs'
   * sequences must be distinct and not in use by another call of this context (a generation,
   * an evaluation, a chat turn); the caller owns them between steps.
   * @throws EmosteerError INVALID_ARGUMENT (ended or foreign runs, shared or busy sequences), ABORTED, DISPOSED
   */
  async step(runs: readonly SequenceRun[], options: { signal?: AbortSignal } = {}): Promise<(GeneratedToken | undefined)[]> {
    const seqs = runs.map((r) => r.sequence);
    this.#checkSequences(seqs);
    for (const s of seqs) {
      if (this.#sequences.held.has(s)) throw new EmosteerError('INVALID_ARGUMENT', `sequence ${s} is in use by another call of this context`);
    }
    return this.#advance(runs, options.signal);
  }

  /** {@link step} without the ownership checks (the caller holds the sequences). */
  async #advance(runs: readonly SequenceRun[], signal: AbortSignal | undefined): Promise<(GeneratedToken | undefined)[]> {
    if (new Set(runs.map((r) => r.sequence)).size !== runs.length) throw new EmosteerError('INVALID_ARGUMENT', 'two runs of one step share a sequence');
    for (const r of runs) if (r.done) throw new EmosteerError('INVALID_ARGUMENT', `the run on sequence ${r.sequence} has ended`);
    // A run whose steering schedule throws ends with that error and leaves the step.
    const live: SequenceRun[] = [];
    const requests: RunStepRequest[] = [];
    for (const r of runs) {
      try {
        requests.push(r.request());
        live.push(r);
      } catch (err) {
        r.fail(err);
      }
    }
    if (live.length === 0) return runs.map(() => undefined);
    // One capture for the whole batch: the union of the blocks the runs need, of one tensor.
    const union = [...new Set(requests.flatMap((q) => q.layers))].sort((a, b) => a - b);
    const tensors = new Set(requests.filter((q) => q.layers.length > 0).map((q) => q.tensor ?? 'l_out'));
    if (tensors.size > 1) throw new EmosteerError('INVALID_ARGUMENT', `runs of one step capture different tensors (${[...tensors].join(', ')})`);
    const layers = union.length > 0 ? Int32Array.from(union) : undefined;
    const items = requests.map((q) => (layers && q.layers.length === 0 ? { ...q.item, pool: 'none' as const } : q.item));
    const clear = requests.filter((q) => q.clearFrom !== undefined).map((q) => [q.item.seq, q.clearFrom!] as const);
    const res = await this.#step(items, layers, layers ? [...tensors][0] : undefined, signal, clear.length > 0 ? (n) => { for (const [s, from] of clear) n.clearSequence(s, from); } : undefined);
    const emitted = new Map<SequenceRun, GeneratedToken | undefined>();
    live.forEach((r, k) => {
      const rows = new Map<number, Float32Array>();
      if (layers && requests[k]!.layers.length > 0) union.forEach((l, i) => rows.set(l, res[k]!.activations![i]!));
      emitted.set(r, r.accept(res[k]!, rows, this.nEmbd));
    });
    return runs.map((r) => emitted.get(r));
  }

  /**
   * Adds vectors to the residual stream from now on (every token of every sequence), via
   * llama.cpp's control-vector mechanism: `vectors[i]` is added to the output of block i.
   * It may be called while a generation is suspended at a token: the next token is decoded
   * with the new steering. For steering of one call or one sequence, use the `steering` option
   * of that call instead.
   *
   * @param vectors nLayer x nEmbd floats (row i = block i), an array of per-block rows, or a
   *   map block -> vector (blocks not given get zeros)
   * @throws EmosteerError VECTOR_WIDTH_MISMATCH, LAYER_OUT_OF_RANGE (block 0, or outside the model), NON_FINITE_VECTOR
   *
   * @example
   * ```ts
   * // block 9's output gets 0.5 x v for every token from now on
   * await ctx.setSteering(new Map([[9, v]]), { scale: 0.5, layers: [9, 9] });
   * const { text } = await ctx.generateText('The weather today is', { maxTokens: 40 });
   * await ctx.clearSteering();
   * ```
   */
  async setSteering(vectors: Float32Array | readonly (Float32Array | null | undefined)[] | ReadonlyMap<number, Float32Array>, options: SteeringOptions = {}): Promise<void> {
    const flat = flattenVectors(vectors, this.nLayer, this.nEmbd, options.layers === undefined);
    const [start, end] = options.layers ?? [1, this.nLayer - 1];
    const scale = options.scale ?? 1;
    if (!Number.isFinite(scale)) throw new EmosteerError('NON_FINITE_VECTOR', `steering scale ${scale} is not finite`);
    await this.#sync((n) => n.setSteering(flat, scale, start, end));
  }

  /** Removes steering; the next decode is exactly unsteered again. */
  async clearSteering(): Promise<void> {
    await this.#sync((n) => n.clearSteering());
  }

  /** The context-wide steering currently applied, or null. */
  get steering(): SteeringState | null {
    const s = call(() => this.#check().getSteering());
    return s ? { vectors: s.vectors, scale: s.scale, layers: [s.start, s.end] } : null;
  }

  /**
   * A multi-turn chat on one sequence that keeps its KV cache between turns and decodes only
   * the new messages of each turn, with steering per turn (see {@link ChatSession}).
   */
  chat(options: ChatSessionOptions = {}): ChatSession {
    this.#checkSequences([options.sequence ?? 0]);
    return new ChatSession(this, options);
  }

  /** Forgets a sequence's tokens (all sequences when omitted), from token `from` on when given. */
  async clearSequence(sequence?: number, from?: number): Promise<void> {
    await this.#sync((n) => n.clearSequence(sequence, from));
  }

  /** Tokens currently held by a sequence. */
  async sequenceLength(sequence = 0): Promise<number> {
    return this.#sync((n) => n.sequenceLength(sequence));
  }

  /**
   * Frees the context. A step running now is aborted; a generation suspended between tokens,
   * and every call waiting for the context, ends with a DISPOSED error.
   */
  async dispose(): Promise<void> {
    if (this.#disposed || this.#disposing) return;
    this.#disposing = true;
    this.#native.abort();
    this.#sequences.failAll(disposedError());
    await this.#mutex.run(() => {
      if (this.#disposed) return;
      this.#disposed = true;
      this.#native.dispose();
    });
  }

  /** `await using ctx = await model.createContext()` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** @internal direct access for tests of the native busy guard */
  get nativeHandle(): NativeContext { return this.#native; }
}

function logProbResult(tokens: Int32Array, logProbs: Float32Array): LogProbResult {
  let total = 0;
  for (const v of logProbs) total += v;
  return { tokens, logProbs, total, perplexity: Math.exp(-total / logProbs.length) };
}

function disposedError(cause?: unknown): EmosteerError {
  return new EmosteerError('DISPOSED', 'the context was disposed; create a new one', cause === undefined ? undefined : { cause });
}

function abortError(signal: AbortSignal): EmosteerError {
  return new EmosteerError('ABORTED', 'the operation was aborted', { cause: signal.reason });
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err);
  }
}
