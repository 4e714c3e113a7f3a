/**
 * A multi-turn chat on one sequence of a context that keeps its KV cache between turns: each
 * turn formats the whole conversation with the model's chat template, keeps the cached tokens
 * it shares with what is already decoded (the longest common prefix), and decodes only the
 * rest, so turn k costs its new messages instead of the whole history.
 *
 * Steering is per turn (`send(text, { steering })`): the cached turns keep the steering they
 * were decoded with, and the new tokens are decoded with this turn's.
 *
 * @example
 * const chat = ctx.chat({ system: 'You are terse.' });
 * const a = await chat.send('Hello!', { maxTokens: 40 });
 * const b = await chat.send('And then?', { steering: { set, emotion: 'calm', strength: 0.05 } });
 * console.log(b.text, chat.stats);
 */
import type { Context, GeneratedToken, GenerateOptions, GenerationResult } from './context.js';
import { EmosteerError } from '../errors.js';
import type { ChatMessage } from './model.js';

/** Options of {@link Context.chat}. */
export interface ChatSessionOptions {
  /** A system message that opens the conversation. */
  system?: string;
  /** Messages the conversation starts with (after the system message). */
  history?: readonly ChatMessage[];
  /** The sequence the session owns (default 0). Use different sequences for concurrent sessions. */
  sequence?: number;
}

/** Options of one turn: generation options without the ones the session decides. */
export type ChatTurnOptions = Omit<GenerateOptions, 'sequence' | 'append' | 'addSpecial' | 'parseSpecial'>;

/** Token counts of the session so far. */
export interface ChatSessionStats {
  /** Turns completed so far. */
  turns: number;
  /** Prompt tokens of all turns (what decoding every turn from scratch would have cost). */
  promptTokens: number;
  /** Prompt tokens actually decoded (the rest came from the cache). */
  decodedPromptTokens: number;
  /** Prompt tokens reused from the KV cache. */
  reusedTokens: number;
}

/** See the module comment. Made by {@link Context.chat}. */
export class ChatSession {
  /** The context this session decodes on. */
  readonly context: Context;
  /** The sequence it owns. */
  readonly sequence: number;
  readonly #messages: ChatMessage[];
  /** Tokens in the KV cache of the sequence, in order. */
  #cached: number[] = [];
  #stats: ChatSessionStats = { turns: 0, promptTokens: 0, decodedPromptTokens: 0, reusedTokens: 0 };
  #busy = false;

  /** @internal use {@link Context.chat} */
  constructor(context: Context, options: ChatSessionOptions = {}) {
    this.context = context;
    this.sequence = options.sequence ?? 0;
    this.#messages = [];
    if (options.system !== undefined) this.#messages.push({ role: 'system', content: options.system });
    if (options.history) this.#messages.push(...options.history.map((m) => ({ ...m })));
  }

  /** The conversation so far (copies). */
  get messages(): ChatMessage[] { return this.#messages.map((m) => ({ ...m })); }

  /** Token counts so far. */
  get stats(): Readonly<ChatSessionStats> { return { ...this.#stats }; }

  /** Sends a user message and returns the assistant's whole reply (added to the conversation). */
  async send(content: string, options: ChatTurnOptions = {}): Promise<GenerationResult> {
    let result: GenerationResult | undefined;
    const it = this.stream(content, options);
    for (;;) {
      const r = await it.next();
      if (r.done) { result = r.value; break; }
    }
    return result;
  }

  /** Sends a user message and streams the reply's tokens; the reply joins the conversation when it ends. */
  async *stream(content: string, options: ChatTurnOptions = {}): AsyncGenerator<GeneratedToken, GenerationResult, undefined> {
    if (typeof content !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'a chat message must be a string');
    if (this.#busy) throw new EmosteerError('CONTEXT_BUSY', 'this chat session is already answering; await the previous turn first');
    this.#busy = true;
    const model = this.context.model;
    const messages = [...this.#messages, { role: 'user', content }];
    try {
      const text = model.applyChatTemplate(messages, { addAssistant: true });
      const full = Array.from(model.tokenize(text, { addSpecial: true, parseSpecial: true }));
      // Keep the longest prefix the cache shares with the new prompt; at least one token is
      // decoded so that there are logits to sample the reply's first token from.
      let keep = 0;
      const limit = Math.min(this.#cached.length, full.length - 1);
      while (keep < limit && this.#cached[keep] === full[keep]) keep++;
      await this.context.clearSequence(this.sequence, keep);
      this.#cached.length = keep;
      const gen = this.context.generate(full.slice(keep), { ...options, sequence: this.sequence, append: keep > 0, addSpecial: false });
      let result: GenerationResult;
      for (;;) {
        const r = await gen.next();
        if (r.done) { result = r.value; break; }
        yield r.value;
      }
      // What the cache holds now: the prompt and the generated tokens that were fed back.
      const held = await this.context.sequenceLength(this.sequence);
      this.#cached = [...full, ...result.tokens].slice(0, held);
      this.#stats = {
        turns: this.#stats.turns + 1,
        promptTokens: this.#stats.promptTokens + full.length,
        decodedPromptTokens: this.#stats.decodedPromptTokens + full.length - keep,
        reusedTokens: this.#stats.reusedTokens + keep,
      };
      this.#messages.push({ role: 'user', content }, { role: 'assistant', content: result.text });
      return { ...result, promptTokens: full.length };
    } catch (err) {
      // The cache may hold part of a failed turn: forget it, the next turn decodes afresh.
      this.#cached = [];
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** Forgets the cached tokens (the next turn decodes the whole conversation again). */
  async reset(): Promise<void> {
    this.#cached = [];
    await this.context.clearSequence(this.sequence);
  }
}
