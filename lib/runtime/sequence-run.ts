/**
 * SequenceRun: one generated sequence, the per-sequence half of the one generation loop. It
 * holds the sequence's sampler, its steering, its streaming UTF-8 decoder, its stop rules
 * (end-of-generation, token budget, stop strings), the final cut of a matched stop string and
 * what it produced. {@link Context.step} advances any number of runs by one batched decode;
 * `generate`, `generateText`, `generateBatch` and the {@link RequestScheduler} are all loops of
 * `step` over runs, so they share these rules instead of keeping copies of them.
 *
 * When a token is emitted: with neither per-token capture nor a probe, as soon as it is
 * sampled (before it is fed back); with capture or a probe, once it has been fed back, so that
 * the token arrives with its own activations (no second forward pass). Either way the steering
 * of a step is resolved from the tokens emitted before it.
 */
import { TextDecoder } from 'node:util';
import { EmosteerError } from '../errors.js';
import { Activations, type Pooling } from './activations.js';
import type { Model } from './model.js';
import type { NativeSampler, NativeStepItem, NativeStepResult } from './native.js';
import type { BlockProbe } from './probe.js';
import type { NativeSequenceSteering } from './native.js';
import { SteeringResolver, type SteeringKeys, type SteeringOption } from './steering.js';

/** Why generation ended. */
export type StopReason = 'eog' | 'maxTokens' | 'stop';

/** One generated token. */
export interface GeneratedToken {
  /** Token id. */
  token: number;
  /** The text this token adds (UTF-8 safe: bytes of a split character arrive with the last piece). */
  text: string;
  /** 0-based index among generated tokens. */
  index: number;
  /** This token's activations (1 row per block) when capture is on. */
  activations?: Activations;
  /** The probe's reading of this token, when the call has a `probe`. */
  reading?: unknown;
  /**
   * With the `logProbs` option: the token's natural-log probability under the model's own
   * next-token distribution (before the grammar, temperature, top-k and the other sampler stages).
   */
  logProb?: number;
  /** With `logProbs: k`: the k most probable tokens of that distribution, most probable first. */
  topLogProbs?: TokenLogProb[];
}

/** A token and its log-probability. */
export interface TokenLogProb {
  /** Token id. */
  token: number;
  /** Natural-log probability. */
  logProb: number;
}

/** A finished generation. */
export interface GenerationResult {
  /**
   * The generated text (a matched `stop` string is cut off): the streamed tokens' `text`
   * joined. Bytes of a UTF-8 character that generation stopped in the middle of are not in it
   * (a stream cannot have shown them either); `tokens` has every token.
   */
  text: string;
  /** Generated token ids, in order (the prompt not included). */
  tokens: number[];
  /** Number of prompt tokens decoded for this generation. */
  promptTokens: number;
  /** Why generation ended. */
  stopReason: StopReason;
  /** Pooled prompt activations, when `capture.prompt` was set. */
  promptActivations?: Activations;
  /** Per generated token activations, when capture was on. */
  tokenActivations?: Activations[];
  /**
   * With the `logProbs` option, when generation stopped at an end-of-generation token: that
   * token (not part of `tokens` or `text`) with its log-probability and alternatives, as
   * OpenAI-style legacy completions list it.
   */
  endToken?: {
    /** Token id of the end-of-generation token. */
    token: number;
    /** Its natural-log probability. */
    logProb: number;
    /** The most probable tokens at that step, most probable first. */
    topLogProbs: TokenLogProb[];
  };
}

/** The resolved rules of one run, as {@link Context.createRun} builds them. @internal */
export interface SequenceRunSpec {
  sequence: number;
  prompt: Int32Array;
  sampler: NativeSampler;
  steering: SteeringResolver;
  maxTokens: number;
  stop: readonly string[];
  stopOnEog: boolean;
  /** Keep the sequence's KV cells (continue it) instead of clearing them before the prompt. */
  append: boolean;
  /** Per-token capture: blocks (validated, ascending) and tensor; prompt pooling if the prompt is captured too. */
  capture?: { layers: Int32Array; tensor: string | undefined; prompt: Pooling | undefined };
  probe?: BlockProbe;
  /** Log-probability of every generated token and its `logProbs` most probable alternatives (computed natively). */
  logProbs?: number;
}

/** What one step asks of the native decode for a run. @internal */
export interface RunStepRequest {
  item: NativeStepItem;
  /** Blocks this run needs captured in this step (empty: none). */
  layers: readonly number[];
  /** Tensor those blocks are read from. */
  tensor: string | undefined;
  /**
   * Clear the sequence from this position on before the step (the first prompt step of a run
   * that does not append: 0, or the length of the prefix reused from the KV cache); undefined:
   * keep it.
   */
  clearFrom: number | undefined;
}

/** See the module comment. Created by {@link Context.createRun}. */
export class SequenceRun {
  /** The context sequence this run decodes into; may be changed until the run has started. */
  #sequence: number;
  /** Prompt tokens. */
  readonly prompt: Int32Array;
  /** Generated token ids, in order. */
  readonly tokens: number[] = [];
  /** Text generated so far (a stop string is cut off only in {@link result}). */
  text = '';
  #started = false;
  /** Prompt tokens in the KV cache: the reused prefix, then the prompt chunks decoded so far. */
  #fed = 0;
  /** Prompt tokens reused from the KV cache (not decoded by this run). */
  #reused = 0;
  /** The prompt range [from, to) of the step in flight, while the prompt is being decoded. */
  #chunk: { from: number; to: number } | undefined;
  /** The prompt's steering, resolved once (a chunked prompt asks a schedule only once). */
  #promptSteering: NativeSequenceSteering | null | undefined;
  /** Positions the sequence holds after the last step (native nPast). */
  #nPast = 0;
  #keys: SteeringKeys | undefined;
  /** Tokens the sampler sees as the prompt's history instead of the prompt (see {@link setSamplerHistory}). */
  #history: Int32Array | undefined;
  /**
   * The most prompt tokens the next step may decode (chunked prefill: the request scheduler
   * sets it before each step); undefined: the whole rest of the prompt. Ignored when the prompt
   * is captured (its pooling needs every row in one step).
   */
  prefillLimit: number | undefined;
  #pending = -1;
  /** The log-probabilities of #pending's row, with the logProbs option. */
  #pendingLp: { logProb: number; top: TokenLogProb[] } | undefined;
  /** The end-of-generation token that ended the run, with the logProbs option. */
  #endToken: GenerationResult['endToken'];
  #eog = false;
  #done = false;
  #stopReason: StopReason = 'maxTokens';
  #error: unknown = undefined;
  /** The probe's reading of the last token decoded, and that token's output of the probe's block. */
  #lastReading: unknown = undefined;
  #lastActivation: Float32Array | undefined;
  readonly #spec: SequenceRunSpec;
  readonly #model: Model;
  readonly #decoder = new TextDecoder('utf-8');
  readonly #tokenActs: Activations[] = [];
  #promptActs: Activations | undefined;

  /** @internal use {@link Context.createRun} */
  constructor(model: Model, spec: SequenceRunSpec) {
    this.#model = model;
    this.#spec = spec;
    this.#sequence = spec.sequence;
    this.prompt = spec.prompt;
  }

  /** The context sequence the run decodes into. */
  get sequence(): number { return this.#sequence; }
  /** Moves a run that has not started to another sequence (the scheduler assigns one at admission). */
  set sequence(s: number) {
    if (this.#started) throw new EmosteerError('INVALID_ARGUMENT', 'a run that has started cannot change its sequence');
    this.#sequence = s;
  }

  /** True once the prompt has been decoded (all of it, when it is decoded in chunks). */
  get started(): boolean { return this.#started; }
  /** Prompt tokens not yet in the KV cache (decoded by the next steps). */
  get remainingPrompt(): number { return this.prompt.length - this.#fed; }
  /** Prompt tokens taken from the KV cache instead of being decoded (the request scheduler's prompt cache). */
  get reusedPromptTokens(): number { return this.#reused; }
  /** What steers this run's prompt rows and generated rows (keys that compare steerings). @internal */
  get steeringKeys(): SteeringKeys { return (this.#keys ??= this.#spec.steering.keys); }

  /**
   * Before the run starts: the sequence already holds this run's first `n` prompt tokens
   * (decoded under the same steering), so the run decodes only the rest. At least the prompt's
   * last token is always decoded (its logits give the first generated token; a probe reads it).
   * The sampler still sees the whole prompt (repetition penalties, DRY). @internal
   */
  reusePrefix(n: number): void {
    if (this.#started || this.#chunk !== undefined) throw new EmosteerError('INVALID_ARGUMENT', 'a run that has started cannot reuse a prefix');
    if (!Number.isInteger(n) || n < 0 || n >= this.prompt.length) throw new EmosteerError('INVALID_ARGUMENT', `a reused prefix must be 0..${this.prompt.length - 1} tokens (got ${n})`);
    if (n > 0 && (this.#spec.append || this.#spec.capture?.prompt !== undefined)) {
      throw new EmosteerError('INVALID_ARGUMENT', 'a run that appends to its sequence or captures its prompt cannot reuse a cached prefix');
    }
    this.#fed = n;
    this.#reused = n;
  }

  /**
   * Before the run starts: the sampler's history (repetition penalties, DRY) is `tokens`
   * instead of the prompt, e.g. the whole conversation when older turns were dropped from the
   * prompt to fit the context (the request scheduler's context shift). @internal
   */
  setSamplerHistory(tokens: Int32Array): void {
    if (this.#started || this.#chunk !== undefined) throw new EmosteerError('INVALID_ARGUMENT', 'a run that has started cannot change its sampler history');
    this.#history = tokens;
  }

  /**
   * The tokens the sequence's KV cache holds after this run: the prompt, then the generated
   * tokens that were fed back (the last sampled one is not). @internal
   */
  kvTokens(): Int32Array {
    if (this.#spec.append) throw new EmosteerError('INVALID_ARGUMENT', 'an appending run does not know the tokens before its own');
    const all = new Int32Array(this.prompt.length + this.tokens.length);
    all.set(this.prompt, 0);
    all.set(this.tokens, this.prompt.length);
    return all.subarray(0, Math.min(all.length, this.#nPast));
  }
  /** True once the run has ended (see {@link stopReason}). */
  get done(): boolean { return this.#done; }
  /** Why the run ended (meaningful once {@link done}). */
  get stopReason(): StopReason { return this.#stopReason; }
  /** The error that ended the run (a steering schedule that threw), if any. */
  get error(): unknown { return this.#error; }
  /** Tokens emitted so far. */
  get count(): number { return this.tokens.length; }
  /** The probe read for every token, if any. */
  get probe(): BlockProbe | undefined { return this.#spec.probe; }

  /** True when tokens are emitted after they are fed back (capture or a probe). */
  get #afterFeed(): boolean { return this.#spec.capture !== undefined || this.#spec.probe !== undefined; }

  /** What the next step decodes for this run. @internal */
  request(): RunStepRequest {
    if (this.#done) throw new EmosteerError('INVALID_ARGUMENT', 'the run has ended');
    const prompt = !this.#started;
    const s = this.#spec;
    const at = (p: boolean) => s.steering.at(p, {
      index: this.count,
      text: this.text,
      ...(this.#lastReading !== undefined ? { reading: this.#lastReading, activation: this.#lastActivation! } : {}),
    });
    let steering: NativeSequenceSteering | undefined;
    let item: NativeStepItem;
    let last = true;
    let clearFrom: number | undefined;
    if (prompt) {
      if (this.#promptSteering === undefined) this.#promptSteering = at(true) ?? null;
      steering = this.#promptSteering ?? undefined;
      const from = this.#fed;
      const limit = s.capture?.prompt !== undefined ? undefined : this.prefillLimit;
      const to = limit === undefined ? s.prompt.length : Math.min(s.prompt.length, from + Math.max(1, Math.floor(limit)));
      last = to === s.prompt.length;
      if (from === this.#reused && !s.append) clearFrom = this.#reused;
      this.#chunk = { from, to };
      const tokens = s.prompt.subarray(from, to);
      if (last) {
        // The sampler sees the whole prompt, in order: the part decoded earlier (or reused from
        // the cache) now, this chunk with the step (penalties and DRY read the history).
        if (this.#history) {
          s.sampler.accept(this.#history);
          item = { seq: this.#sequence, tokens, sampler: s.sampler };
        } else {
          if (from > 0) s.sampler.accept(s.prompt.subarray(0, from));
          item = { seq: this.#sequence, tokens, sampler: s.sampler, acceptTokens: true };
        }
      } else {
        item = { seq: this.#sequence, tokens };
      }
    } else {
      steering = at(false);
      item = { seq: this.#sequence, tokens: Int32Array.of(this.#pending), sampler: s.sampler };
    }
    if (steering) item.steering = steering;
    if (s.logProbs !== undefined && last) item.sampledTopK = s.logProbs;
    const layers: number[] = [];
    if (prompt && !last) {
      // A middle chunk of the prompt: nothing is sampled or read.
    } else if (prompt) {
      if (s.capture?.prompt !== undefined) {
        layers.push(...s.capture.layers);
        Object.assign(item, poolItem(s.capture.prompt, s.prompt.length));
      }
      // A probe also reads the prompt's last token, so a steering schedule can decide after the
      // prompt (e.g. conditional steering); not when the prompt is captured with another pooling.
      if (s.probe && (s.capture?.prompt === undefined || s.capture.prompt === 'last')) {
        if (!layers.includes(s.probe.layer)) layers.push(s.probe.layer);
        item.pool = 'last';
      }
    } else {
      if (s.capture) layers.push(...s.capture.layers);
      if (s.probe && !layers.includes(s.probe.layer)) layers.push(s.probe.layer);
      if (layers.length > 0) item.pool = 'last';
    }
    return { item, layers, tensor: s.capture?.tensor, clearFrom };
  }

  /**
   * Takes the result of the step that decoded {@link request}'s item, with the captured rows
   * of `captured` (blocks -> row data of this run's item); returns the token emitted by this
   * step, if any. @internal
   */
  accept(res: NativeStepResult, captured: ReadonlyMap<number, Float32Array>, nEmbd: number): GeneratedToken | undefined {
    const s = this.#spec;
    const rowsOf = (layers: Int32Array, rows: number) => new Activations([...layers], nEmbd, rows, [...layers].map((l) => captured.get(l)!));
    let emitted: GeneratedToken | undefined;
    this.#nPast = res.nPast;
    if (!this.#started) {
      const chunk = this.#chunk!;
      this.#chunk = undefined;
      this.#fed = chunk.to;
      if (chunk.to < s.prompt.length) return undefined; // more of the prompt to decode
      this.#started = true;
      if (s.capture?.prompt !== undefined) this.#promptActs = rowsOf(s.capture.layers, s.capture.prompt === 'all' ? s.prompt.length : 1);
      const row = s.probe ? captured.get(s.probe.layer) : undefined;
      if (s.probe && row) this.#read(s.probe, row);
    } else if (this.#afterFeed) {
      const acts = s.capture ? rowsOf(s.capture.layers, 1) : undefined;
      const reading = s.probe ? this.#read(s.probe, captured.get(s.probe.layer)!) : undefined;
      emitted = this.#emit(this.#pending, acts, reading);
    }
    if (res.grammarStuck) {
      this.fail(new EmosteerError('INVALID_ARGUMENT', `the grammar admits no token of this model's vocabulary after ${this.tokens.length} generated tokens ` +
        `(${JSON.stringify(this.text.slice(-40))}): it needs text the vocabulary cannot spell, or it is complete and the model has no end-of-generation token`, { field: 'grammar' }));
      return emitted;
    }
    this.#pending = res.sampled!;
    if (res.sampledLogProb !== undefined) {
      const top: TokenLogProb[] = [];
      res.topTokens!.forEach((token, i) => top.push({ token, logProb: res.topLogProbs![i]! }));
      this.#pendingLp = { logProb: res.sampledLogProb, top };
    }
    this.#eog = res.eog!;
    if (!this.#done && this.tokens.length >= s.maxTokens) this.#finish('maxTokens'); // maxTokens 0: the prompt only
    if (this.#done) return emitted;
    if (this.#eog && s.stopOnEog) {
      if (this.#pendingLp) this.#endToken = { token: this.#pending, logProb: this.#pendingLp.logProb, topLogProbs: this.#pendingLp.top };
      this.#finish('eog');
      return emitted;
    }
    if (!this.#afterFeed) emitted = this.#emit(this.#pending, undefined, undefined);
    return emitted;
  }

  /** Reads the probe at one token and keeps the reading for the next steering decision. */
  #read(probe: BlockProbe, row: Float32Array): unknown {
    this.#lastReading = probe.read(row);
    this.#lastActivation = row;
    return this.#lastReading;
  }

  #emit(token: number, acts: Activations | undefined, reading: unknown): GeneratedToken {
    const text = this.#decoder.decode(this.#model.tokenToPiece(token), { stream: true });
    this.text += text;
    const t: GeneratedToken = { token, text, index: this.tokens.length };
    if (this.#pendingLp) {
      t.logProb = this.#pendingLp.logProb;
      t.topLogProbs = this.#pendingLp.top;
    }
    this.tokens.push(token);
    if (acts) { t.activations = acts; this.#tokenActs.push(acts); }
    if (reading !== undefined) t.reading = reading;
    if (this.tokens.length >= this.#spec.maxTokens) this.#finish('maxTokens');
    if (this.#spec.stop.some((st) => st.length > 0 && this.text.includes(st))) this.#finish('stop');
    return t;
  }

  #finish(reason: StopReason): void {
    this.#done = true;
    this.#stopReason = reason;
  }

  /** Ends the run with an error (it takes no further step). @internal */
  fail(err: unknown): void {
    this.#done = true;
    this.#error = err;
  }

  /** The finished generation (text with a matched stop string cut off). */
  result(): GenerationResult {
    // The decoder may still hold the first bytes of a character the run stopped inside: they are
    // left out, as they were left out of the stream (flushing would add U+FFFD here only).
    let text = this.text;
    if (this.#stopReason === 'stop') {
      const stops = this.#spec.stop.filter((st) => st.length > 0 && text.includes(st));
      text = text.slice(0, Math.min(...stops.map((st) => text.indexOf(st))));
    }
    const r: GenerationResult = { text, tokens: this.tokens, promptTokens: this.#spec.prompt.length, stopReason: this.#stopReason };
    if (this.#promptActs) r.promptActivations = this.#promptActs;
    if (this.#spec.capture) r.tokenActivations = this.#tokenActs;
    if (this.#endToken) r.endToken = this.#endToken;
    return r;
  }
}

/** The pooling fields of a native item for `p` over `n` input tokens. @internal */
export function poolItem(p: Pooling | undefined, n: number): Pick<NativeStepItem, 'pool' | 'start' | 'end'> {
  if (p === undefined || p === 'last') return { pool: 'last' };
  if (p === 'all') return { pool: 'all' };
  if (p === 'mean') return { pool: 'mean', start: 0, end: n };
  if (typeof p === 'object' && p !== null && 'index' in p) {
    const idx = p.index < 0 ? n + p.index : p.index;
    if (!Number.isInteger(idx) || idx < 0 || idx >= n) throw new EmosteerError('INVALID_ARGUMENT', `token index ${p.index} is outside the ${n} input tokens`);
    return { pool: 'index', start: idx };
  }
  if (typeof p === 'object' && p !== null && 'mean' in p) {
    const [s, e] = p.mean;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > n || s >= e) {
      throw new EmosteerError('INVALID_ARGUMENT', `mean range [${s}, ${e}) is not inside the ${n} input tokens`);
    }
    return { pool: 'mean', start: s, end: e };
  }
  throw new EmosteerError('INVALID_ARGUMENT', `unknown pooling ${JSON.stringify(p)}`);
}
