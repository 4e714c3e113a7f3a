/**
 * Continuous batching: concurrent generation requests share one multi-sequence context and
 * one batched decode per step. Requests join (their prompt is decoded in the same step as the
 * running requests' next tokens) and leave between steps, each with its own sampler, stop
 * conditions, steering (per-sequence, so differently steered requests share the batch) and
 * AbortSignal. Admission is first come, first served, and every running request advances by
 * one token in every step, so none starves. Past `queueLimit` waiting requests, submit throws
 * QUEUE_FULL.
 *
 * Each request's tokens equal those of `ctx.generate()` alone with the same prompt, sampling,
 * seed and steering (tested; the batch composition does not change the arithmetic of a row on
 * the CPU backend with flash attention off).
 *
 * @example
 * const scheduler = await RequestScheduler.create(model, { parallel: 8 });
 * const req = scheduler.submit({ prompt: 'Dear diary,', maxTokens: 40, steering: { set, emotion: 'joy', strength: 0.05 } });
 * for await (const t of req) process.stdout.write(t.text);
 * console.log((await req.result).stopReason);
 */
import type { Context, ContextOptions, GenerateOptions, PromptInput } from './context.js';
import { EmosteerError } from '../errors.js';
import type { Model } from './model.js';
import type { BlockProbe } from './probe.js';
import type { SamplingOptions } from './sampling.js';
import type { GeneratedToken, GenerationResult, SequenceRun, StopReason } from './sequence-run.js';
import type { SteeringOption } from './steering.js';

/** Options of {@link RequestScheduler.create}. */
export interface SchedulerOptions {
  /** Requests decoded together (sequences of the context; default 4). */
  parallel?: number;
  /** Tokens of KV cache per request (prompt + generated; default 2048). */
  contextPerRequest?: number;
  /** Requests that may wait for a free sequence (default 64); more fail with QUEUE_FULL. */
  queueLimit?: number;
  /** Threads of the context (default: as createContext). */
  threads?: number;
  /**
   * Flash attention of the context (default false: see {@link ContextOptions.flashAttention}).
   * On, requests decode faster but a batched request's tokens may differ from those of the
   * same request alone at near ties (rounding depends on the batch size); `emosteer serve`
   * uses 'auto', as llama-server does.
   */
  flashAttention?: boolean | 'auto';
  /** Batch size of the context (default 512). */
  batchSize?: number;
  /**
   * Prompt cache (llama-server's `cache_prompt`; default true): a sequence keeps the KV rows of
   * its last request, and a new request goes to the free sequence that shares the longest
   * prefix of tokens with it (made under the same steering of prompt rows) and decodes only the
   * rest; see {@link ScheduledRequest.cachePrompt}. Off by default for recurrent and hybrid
   * models (their memory cannot drop a tail of a sequence); `true` there is an error.
   */
  promptCache?: boolean;
  /**
   * Chunked prefill: the most prompt tokens decoded in one step (default 64), so that a long
   * prompt joining the batch delays the running requests' next tokens by one chunk at a time
   * instead of its whole prefill. 0 decodes every prompt whole in one step.
   *
   * Within a step's chunk, prompts are served shortest remaining first, so that a short request
   * arriving while a long prompt is being decoded starts at the next step instead of after the
   * whole long prefill; the prompt that has waited longest always gets at least half the chunk,
   * so a stream of short prompts cannot starve it.
   */
  prefillChunk?: number;
  /**
   * Context shift for chat requests (default false): a `{ messages }` prompt that does not fit
   * `contextPerRequest` with its `maxTokens` loses its oldest messages (system messages and the
   * last message are kept) until it fits, instead of failing with PROMPT_TOO_LONG; the request
   * says how many it dropped ({@link ScheduledGeneration.droppedMessages}). The sampler's
   * repetition penalties and DRY still see the whole conversation's tokens. Text and token
   * prompts, and conversations that do not fit even so, still fail with PROMPT_TOO_LONG.
   */
  contextShift?: boolean;
}

/** One generation request. */
export interface ScheduledRequest extends SamplingOptions {
  /** Text, token ids or chat messages to continue. */
  prompt: PromptInput;
  /** Most new tokens (default 256). */
  maxTokens?: number;
  /** Stop strings (cut off the text). */
  stop?: readonly string[];
  /** Stop at end-of-generation tokens (default true). */
  stopOnEog?: boolean;
  /** Steering of this request only. */
  steering?: SteeringOption;
  /**
   * Read for every generated token (its block is captured; one extra split per step), e.g. an
   * EmotionMeter; the reading arrives as `token.reading`.
   */
  probe?: BlockProbe;
  /** Log-probability of every generated token and its `logProbs` most probable alternatives (see {@link GenerateOptions.logProbs}). */
  logProbs?: number;
  /** For text input: add BOS as the tokenizer is configured to (default true). */
  addSpecial?: boolean;
  /** For text input: parse special tokens written in the text (default false; true for chat messages). */
  parseSpecial?: boolean;
  /**
   * May this request reuse the KV rows of a previous request's prompt (default true; only when
   * the scheduler's `promptCache` is on)? Rows are reused only when they hold the same tokens
   * and were made under the same steering of prompt rows; the result is the same as without the
   * cache (tested bit for bit on exact models). false decodes the whole prompt.
   */
  cachePrompt?: boolean;
  /** Cancels the request, queued or running (it then fails with ABORTED). */
  signal?: AbortSignal;
}

/** A generated token of a scheduled request (with `reading` when the request has a `probe`). */
export type ScheduledToken = GeneratedToken;

/** The end of a scheduled request. */
export interface ScheduledResult {
  /** The generated text (a matched stop string is cut off). */
  text: string;
  /** Generated token ids, in order. */
  tokens: number[];
  /** Number of prompt tokens (the cached ones included). */
  promptTokens: number;
  /** Prompt tokens reused from the prompt cache (not decoded by this request). */
  cachedTokens: number;
  /** Why generation ended. */
  stopReason: StopReason;
  /** Milliseconds from submit to the first token. */
  timeToFirstTokenMs: number | null;
  /** With `logProbs`, the end-of-generation token that ended the request (see {@link GenerationResult.endToken}). */
  endToken?: GenerationResult['endToken'];
  /** Messages dropped from the start of a chat prompt to fit the context (context shift; 0 if none). */
  droppedMessages: number;
}

/** Counters of a scheduler since it started. */
export interface SchedulerStats {
  /** Requests decoding now. */
  running: number;
  /** Requests waiting for a free sequence. */
  queued: number;
  /** Requests submitted. */
  requests: number;
  /** Requests that ended normally. */
  completed: number;
  /** Requests that ended with an error (aborted ones included). */
  failed: number;
  /** Tokens generated over all requests. */
  generatedTokens: number;
  /** Prompt tokens decoded over all requests (cached ones not included). */
  promptTokens: number;
  /** Prompt tokens reused from the prompt cache over all requests. */
  cachedPromptTokens: number;
  /** Native decode steps (one batch each). */
  steps: number;
  /** Seconds spent in native steps. */
  decodeSeconds: number;
}

/** A submitted request: iterate for its tokens; `result` settles when it ends. */
export class ScheduledGeneration implements AsyncIterable<ScheduledToken> {
  /** Resolves with the result, rejects with the request's error. */
  readonly result: Promise<ScheduledResult>;
  /** Messages dropped from the start of a chat prompt to fit the context (context shift; 0 if none). */
  droppedMessages = 0;
  readonly #buffer: ScheduledToken[] = [];
  #waiter: (() => void) | null = null;
  #ended = false;
  #error: unknown;
  #settle!: { resolve: (r: ScheduledResult) => void; reject: (e: unknown) => void };

  /** @internal */
  constructor() {
    this.result = new Promise((resolve, reject) => { this.#settle = { resolve, reject }; });
    this.result.catch(() => { /* observed through iteration or result */ });
  }

  /** @internal */
  push(t: ScheduledToken): void {
    this.#buffer.push(t);
    this.#wake();
  }

  /** @internal */
  end(r: ScheduledResult): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#settle.resolve(r);
    this.#wake();
  }

  /** @internal */
  fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = err;
    this.#settle.reject(err);
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }

  /** The request's tokens as they are generated; throws the request's error if it fails. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ScheduledToken> {
    for (;;) {
      if (this.#buffer.length > 0) { yield this.#buffer.shift()!; continue; }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((r) => { this.#waiter = r; });
    }
  }
}

interface Running {
  req: ScheduledRequest;
  out: ScheduledGeneration;
  run: SequenceRun;
  submittedAt: number;
  firstTokenAt: number | null;
}

/**
 * What a sequence's KV cache holds after its last request: its tokens, and what steered their
 * rows (the prompt's rows one key, the fed-back generated tokens' rows another; null: none).
 */
interface SlotCache {
  tokens: Int32Array;
  promptLength: number;
  promptKey: string | null;
  generatedKey: string | null;
}

/**
 * How many prompt tokens each waiting prompt decodes in one step, given their remaining prompt
 * tokens in arrival order and the step's chunk (0: no limit, every prompt whole). The prompt
 * that has waited longest (index 0) is guaranteed min(remaining, ceil(chunk / 2)); then the
 * others get room shortest remaining first (ties: arrival order); what is left goes to the
 * longest-waiting prompt again. The shares sum to at most the chunk. @internal
 */
export function prefillShares(remaining: readonly number[], chunk: number): number[] {
  if (chunk <= 0) return [...remaining];
  const shares = remaining.map(() => 0);
  if (remaining.length === 0) return shares;
  let budget = chunk;
  shares[0] = Math.min(remaining[0]!, Math.ceil(chunk / 2));
  budget -= shares[0];
  const order = remaining.map((_, i) => i).slice(1).sort((a, b) => remaining[a]! - remaining[b]! || a - b);
  for (const i of order) {
    if (budget <= 0) break;
    shares[i] = Math.min(budget, remaining[i]!);
    budget -= shares[i]!;
  }
  shares[0] += Math.min(budget, remaining[0]! - shares[0]!);
  return shares;
}

/** See the module comment. */
export class RequestScheduler {
  /** The context the requests share. */
  readonly context: Context;
  /** Requests decoded together (the context's sequences). */
  readonly parallel: number;
  /** Tokens of KV cache per request. */
  readonly contextPerRequest: number;
  /** Requests that may wait for a free sequence; more fail with QUEUE_FULL. */
  readonly queueLimit: number;
  /** Whether the prompt cache is on (see {@link SchedulerOptions.promptCache}). */
  readonly promptCache: boolean;
  /** The most prompt tokens decoded per step (0: whole prompts; see {@link SchedulerOptions.prefillChunk}). */
  readonly prefillChunk: number;
  /** Whether chat prompts too long for the context lose their oldest messages (see {@link SchedulerOptions.contextShift}). */
  readonly contextShift: boolean;
  readonly #queue: Running[] = [];
  readonly #running = new Map<number, Running>();
  readonly #free: number[];
  /** Per sequence: what its KV cache holds (null: nothing reusable). */
  readonly #slots: (SlotCache | null)[];
  /** Per sequence: when it was last released (least recently used sequences are taken first). */
  readonly #releasedAt: number[];
  #releases = 0;
  /** Released sequences whose rows nothing will reuse, to be cleared before the next step. */
  readonly #stale: number[] = [];
  #loop: Promise<void> | null = null;
  #closing = false;
  #stats = { requests: 0, completed: 0, failed: 0, generatedTokens: 0, promptTokens: 0, cachedPromptTokens: 0, steps: 0, decodeSeconds: 0 };

  private constructor(context: Context, parallel: number, perRequest: number, queueLimit: number, promptCache: boolean, prefillChunk: number, contextShift: boolean) {
    this.context = context;
    this.parallel = parallel;
    this.contextPerRequest = perRequest;
    this.queueLimit = queueLimit;
    this.promptCache = promptCache;
    this.prefillChunk = prefillChunk;
    this.contextShift = contextShift;
    this.#free = Array.from({ length: parallel }, (_, i) => i);
    this.#slots = Array.from({ length: parallel }, () => null);
    this.#releasedAt = Array.from({ length: parallel }, () => -1);
  }

  /** Creates the shared context and the scheduler. */
  static async create(model: Model, options: SchedulerOptions = {}): Promise<RequestScheduler> {
    const parallel = options.parallel ?? 4;
    const per = options.contextPerRequest ?? 2048;
    const queueLimit = options.queueLimit ?? 64;
    for (const [k, v] of [['parallel', parallel], ['contextPerRequest', per]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new EmosteerError('INVALID_ARGUMENT', `${k} must be a positive integer (got ${v})`);
    }
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new EmosteerError('INVALID_ARGUMENT', `queueLimit must be a non-negative integer (got ${queueLimit})`);
    const prefillChunk = options.prefillChunk ?? 64;
    if (!Number.isInteger(prefillChunk) || prefillChunk < 0) throw new EmosteerError('INVALID_ARGUMENT', `prefillChunk must be a non-negative integer (got ${prefillChunk})`);
    if (options.promptCache !== undefined && typeof options.promptCache !== 'boolean') throw new EmosteerError('INVALID_ARGUMENT', `promptCache must be a boolean (got ${String(options.promptCache)})`);
    if (options.promptCache === true && model.info.isRecurrent) {
      throw new EmosteerError('INVALID_ARGUMENT', `promptCache: this model's memory is recurrent or hybrid (${model.info.arch}): it cannot drop the tail of a sequence, so a cached prefix cannot be reused; leave promptCache out or false`);
    }
    const promptCache = options.promptCache ?? !model.info.isRecurrent;
    const context = await model.createContext({
      sequences: parallel,
      contextSize: per * parallel,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.flashAttention !== undefined ? { flashAttention: options.flashAttention } : {}),
    });
    if (options.contextShift !== undefined && typeof options.contextShift !== 'boolean') throw new EmosteerError('INVALID_ARGUMENT', `contextShift must be a boolean (got ${String(options.contextShift)})`);
    return new RequestScheduler(context, parallel, per, queueLimit, promptCache, prefillChunk, options.contextShift ?? false);
  }

  /** Counters (requests, tokens, queue depth). */
  get stats(): SchedulerStats {
    return { ...this.#stats, running: this.#running.size, queued: this.#queue.length };
  }

  /**
   * Queues a request. Validation (prompt, steering, sampling) happens here, so bad input
   * throws at once; decoding errors reject the request's stream and result.
   * @throws EmosteerError QUEUE_FULL, PROMPT_TOO_LONG, INVALID_ARGUMENT, steering errors
   */
  submit(req: ScheduledRequest): ScheduledGeneration {
    if (this.#closing) throw new EmosteerError('DISPOSED', 'the scheduler is closing');
    const maxTokens = req.maxTokens ?? 256;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new EmosteerError('INVALID_ARGUMENT', `maxTokens must be a positive integer (got ${maxTokens})`);
    const { prompt: input, signal: _signal, cachePrompt, ...rest } = req;
    if (cachePrompt !== undefined && typeof cachePrompt !== 'boolean') throw new EmosteerError('INVALID_ARGUMENT', `cachePrompt must be a boolean (got ${String(cachePrompt)})`);
    // Validates prompt, sampling, steering, probe and stop rules now; the sequence is given at admission.
    const options = { ...rest, maxTokens, addSpecial: req.addSpecial ?? true, sequence: 0 };
    let run = this.context.createRun(input, options);
    let dropped = 0;
    if (run.prompt.length + maxTokens > this.contextPerRequest && this.contextShift && typeof input === 'object' && input !== null && 'messages' in input && Array.isArray(input.messages)) {
      // Context shift: drop the oldest messages but the system ones and the last, until it fits;
      // the sampler keeps the whole conversation as its history.
      const whole = run.prompt;
      const messages = [...input.messages];
      for (;;) {
        const i = messages.findIndex((m, k) => m.role !== 'system' && k < messages.length - 1);
        if (i < 0) break;
        messages.splice(i, 1);
        dropped++;
        run = this.context.createRun({ messages }, options);
        if (run.prompt.length + maxTokens <= this.contextPerRequest) break;
      }
      run.setSamplerHistory(whole);
    }
    if (run.prompt.length + maxTokens > this.contextPerRequest) {
      throw new EmosteerError('PROMPT_TOO_LONG', `the prompt has ${run.prompt.length} tokens and ${maxTokens} more are asked for, but a request may hold ${this.contextPerRequest}`);
    }
    if (this.#queue.length >= this.queueLimit && this.#free.length === 0) {
      throw new EmosteerError('QUEUE_FULL', `${this.#running.size} requests are running and ${this.#queue.length} waiting (the limit); retry later`);
    }
    const out = new ScheduledGeneration();
    out.droppedMessages = dropped;
    const r: Running = { req, out, run, submittedAt: performance.now(), firstTokenAt: null };
    if (req.signal?.aborted) {
      out.fail(new EmosteerError('ABORTED', 'the request was aborted', { cause: req.signal.reason }));
      return out;
    }
    this.#stats.requests++;
    this.#queue.push(r);
    this.#kick();
    return out;
  }

  /**
   * Stops taking requests; with `drain` (default) waits for queued and running ones to finish,
   * else aborts them. Then disposes the context.
   */
  async close(options: { drain?: boolean } = {}): Promise<void> {
    this.#closing = true;
    if (options.drain === false) {
      for (const r of this.#queue.splice(0)) this.#fail(r, new EmosteerError('ABORTED', 'the scheduler was closed'));
      for (const r of this.#running.values()) this.#fail(r, new EmosteerError('ABORTED', 'the scheduler was closed'));
    }
    await this.#loop;
    await this.context.dispose();
  }

  #kick(): void {
    if (this.#loop) return;
    this.#loop = this.#run().catch((err: unknown) => {
      for (const r of [...this.#running.values(), ...this.#queue]) this.#fail(r, err);
    }).finally(() => {
      this.#loop = null;
      if (this.#queue.length > 0 || this.#running.size > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    for (;;) {
      // Drop aborted requests; admit queued ones into free sequences.
      for (const r of [...this.#running.values()]) {
        if (r.req.signal?.aborted) this.#fail(r, new EmosteerError('ABORTED', 'the request was aborted', { cause: r.req.signal.reason }));
      }
      // Sequences released with nothing reusable drop their KV rows: idle rows still widen every
      // later step's attention (llama.cpp attends over the cells up to the highest one in use).
      for (const seq of this.#stale.splice(0)) {
        if (!this.#running.has(seq) && this.#slots[seq] === null) await this.context.clearSequence(seq);
      }
      while (this.#free.length > 0 && this.#queue.length > 0) {
        const r = this.#queue.shift()!;
        if (r.req.signal?.aborted) { this.#fail(r, new EmosteerError('ABORTED', 'the request was aborted', { cause: r.req.signal.reason })); continue; }
        this.#admit(r);
      }
      if (this.#running.size === 0) return;

      // One step of the context's generation loop over every running request: each generating
      // request's next token, and prompt tokens up to prefillChunk (see prefillShares; a request
      // whose prompt gets no room this step waits for the next).
      const shares = prefillShares([...this.#running.values()].filter((r) => !r.run.started).map((r) => r.run.remainingPrompt), this.prefillChunk);
      const batch: Running[] = [];
      let waiting = 0;
      for (const r of this.#running.values()) {
        if (!r.run.started) {
          const n = shares[waiting++]!;
          if (n === 0) continue;
          r.run.prefillLimit = n;
        }
        batch.push(r);
      }
      const starting = batch.filter((r) => !r.run.started);
      const t0 = performance.now();
      let emitted;
      try {
        emitted = await this.context.step(batch.map((r) => r.run));
      } catch (err) {
        // A failed step fails every request in it (their KV cells were rolled back).
        for (const r of batch) this.#fail(r, err);
        if ((err as { code?: string }).code === 'DISPOSED') return;
        continue;
      } finally {
        this.#stats.steps++;
        this.#stats.decodeSeconds += (performance.now() - t0) / 1000;
      }
      for (const r of starting) {
        if (!r.run.started) continue;
        this.#stats.promptTokens += r.run.prompt.length - r.run.reusedPromptTokens;
        this.#stats.cachedPromptTokens += r.run.reusedPromptTokens;
      }
      batch.forEach((r, k) => {
        if (this.#running.get(r.run.sequence) !== r) return; // failed meanwhile
        if (r.run.error !== undefined) { this.#fail(r, r.run.error); return; } // a steering schedule threw
        const t = emitted[k];
        if (t) {
          if (r.firstTokenAt === null) r.firstTokenAt = performance.now();
          this.#stats.generatedTokens++;
          r.out.push(t);
        }
        if (r.run.done) this.#finish(r);
      });
    }
  }

  /**
   * Gives a queued request a free sequence: with the prompt cache, the one whose cached tokens
   * share the longest usable prefix with its prompt (ties and no match: the least recently used),
   * and the run skips that prefix; else the lowest free sequence.
   */
  #admit(r: Running): void {
    let pick = 0;
    let keep = 0;
    if (this.promptCache && r.req.cachePrompt !== false) {
      for (let i = 0; i < this.#free.length; i++) {
        const seq = this.#free[i]!;
        const m = this.#matchLength(seq, r.run);
        const best = this.#free[pick]!;
        if (m > keep || (m === keep && this.#releasedAt[seq]! < this.#releasedAt[best]!)) { pick = i; keep = m; }
      }
    }
    const seq = this.#free.splice(pick, 1)[0]!;
    r.run.sequence = seq;
    r.run.reusePrefix(keep);
    // From here the sequence holds only the kept prefix plus what this run decodes; until the
    // run ends its cache is unknown.
    this.#slots[seq] = null;
    this.#running.set(seq, r);
  }

  /**
   * Prompt tokens of `run` that sequence `seq`'s KV cache holds, made under the same steering
   * of prompt rows; at most all but the prompt's last token, which is always decoded.
   */
  #matchLength(seq: number, run: SequenceRun): number {
    const c = this.#slots[seq];
    if (!c) return 0;
    const key = run.steeringKeys.prompt;
    const p = run.prompt;
    const limit = Math.min(c.tokens.length, p.length - 1);
    let n = 0;
    while (n < limit && c.tokens[n] === p[n] && (n < c.promptLength ? c.promptKey : c.generatedKey) === key) n++;
    return n;
  }

  #finish(r: Running): void {
    const seq = r.run.sequence;
    const owned = this.#running.get(seq) === r;
    this.#release(r);
    if (owned && this.promptCache && r.req.cachePrompt !== false) {
      const keys = r.run.steeringKeys;
      this.#slots[seq] = { tokens: r.run.kvTokens(), promptLength: r.run.prompt.length, promptKey: keys.prompt, generatedKey: keys.generated };
    }
    this.#stats.completed++;
    r.out.end({ ...r.run.result(), cachedTokens: r.run.reusedPromptTokens, droppedMessages: r.out.droppedMessages, timeToFirstTokenMs: r.firstTokenAt === null ? null : r.firstTokenAt - r.submittedAt });
  }

  #fail(r: Running, err: unknown): void {
    const i = this.#queue.indexOf(r);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#release(r);
    this.#stats.failed++;
    r.out.fail(err);
  }

  #release(r: Running): void {
    const seq = r.run.sequence;
    if (this.#running.get(seq) === r) {
      this.#running.delete(seq);
      this.#slots[seq] = null; // #finish records what a finished run left
      this.#stale.push(seq);
      this.#releasedAt[seq] = ++this.#releases;
      this.#free.push(seq);
      this.#free.sort((a, b) => a - b);
    }
  }
}
