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
import type { Context, GenerateOptions, PromptInput } from './context.js';
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
  /** Batch size of the context (default 512). */
  batchSize?: number;
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
  /** Number of prompt tokens decoded. */
  promptTokens: number;
  /** Why generation ended. */
  stopReason: StopReason;
  /** Milliseconds from submit to the first token. */
  timeToFirstTokenMs: number | null;
  /** With `logProbs`, the end-of-generation token that ended the request (see {@link GenerationResult.endToken}). */
  endToken?: GenerationResult['endToken'];
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
  /** Prompt tokens decoded over all requests. */
  promptTokens: number;
  /** Native decode steps (one batch each). */
  steps: number;
  /** Seconds spent in native steps. */
  decodeSeconds: number;
}

/** A submitted request: iterate for its tokens; `result` settles when it ends. */
export class ScheduledGeneration implements AsyncIterable<ScheduledToken> {
  /** Resolves with the result, rejects with the request's error. */
  readonly result: Promise<ScheduledResult>;
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
  readonly #queue: Running[] = [];
  readonly #running = new Map<number, Running>();
  readonly #free: number[];
  #loop: Promise<void> | null = null;
  #closing = false;
  #stats = { requests: 0, completed: 0, failed: 0, generatedTokens: 0, promptTokens: 0, steps: 0, decodeSeconds: 0 };

  private constructor(context: Context, parallel: number, perRequest: number, queueLimit: number) {
    this.context = context;
    this.parallel = parallel;
    this.contextPerRequest = perRequest;
    this.queueLimit = queueLimit;
    this.#free = Array.from({ length: parallel }, (_, i) => i);
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
    const context = await model.createContext({
      sequences: parallel,
      contextSize: per * parallel,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    });
    return new RequestScheduler(context, parallel, per, queueLimit);
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
    const { prompt: input, signal: _signal, ...rest } = req;
    // Validates prompt, sampling, steering, probe and stop rules now; the sequence is given at admission.
    const run = this.context.createRun(input, { ...rest, maxTokens, addSpecial: req.addSpecial ?? true, sequence: 0 });
    if (run.prompt.length + maxTokens > this.contextPerRequest) {
      throw new EmosteerError('PROMPT_TOO_LONG', `the prompt has ${run.prompt.length} tokens and ${maxTokens} more are asked for, but a request may hold ${this.contextPerRequest}`);
    }
    if (this.#queue.length >= this.queueLimit && this.#free.length === 0) {
      throw new EmosteerError('QUEUE_FULL', `${this.#running.size} requests are running and ${this.#queue.length} waiting (the limit); retry later`);
    }
    const out = new ScheduledGeneration();
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
      while (this.#free.length > 0 && this.#queue.length > 0) {
        const r = this.#queue.shift()!;
        if (r.req.signal?.aborted) { this.#fail(r, new EmosteerError('ABORTED', 'the request was aborted', { cause: r.req.signal.reason })); continue; }
        r.run.sequence = this.#free.shift()!;
        this.#running.set(r.run.sequence, r);
      }
      if (this.#running.size === 0) return;

      // One step of the context's generation loop over every running request.
      const batch = [...this.#running.values()];
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
      for (const r of starting) if (r.run.started) this.#stats.promptTokens += r.run.prompt.length;
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

  #finish(r: Running): void {
    this.#release(r);
    this.#stats.completed++;
    r.out.end({ ...r.run.result(), timeToFirstTokenMs: r.firstTokenAt === null ? null : r.firstTokenAt - r.submittedAt });
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
      this.#free.push(seq);
      this.#free.sort((a, b) => a - b);
    }
  }
}
