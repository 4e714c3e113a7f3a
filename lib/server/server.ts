/**
 * `emosteer serve`: an OpenAI-compatible HTTP server (Fastify) over one model, whose requests
 * share one batched decode (RequestScheduler) and may each carry their own steering.
 *
 * Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming with server-sent
 * events or not), GET /v1/models, GET /v1/steering, POST /v1/activations, GET /health,
 * GET /metrics (Prometheus), and with `ui` the browser playground at GET /ui. Extensions, as
 * top-level request fields: `steering` (a list of
 * `{ emotion | vector, strength, layers?, positions?, set? }`) and `meter` (true or a set
 * name: every streamed chunk carries the emotion meter's reading of its token). docs/server.md
 * has the whole reference.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Context, PromptInput, StopReason, TokenLogProb } from '../runtime/context.js';
import type { Model } from '../runtime/model.js';
import { RequestScheduler, type ScheduledGeneration, type ScheduledResult, type ScheduledToken, type SchedulerOptions } from '../runtime/scheduler.js';
import type { EmotionMeter, EmotionReading } from '../steer/emotion-meter.js';
import { toHttpError, HttpError } from './errors.js';
import { LoadedVectorSets } from './loaded-vector-sets.js';
import { isPlaygroundRequest, registerPlayground } from './playground/routes.js';
import { requestFromBody } from './request.js';
import {
  activationsSchema, chatCompletionSchema, completionSchema, detokenizeSchema, tokenizeSchema, UNSUPPORTED_FIELDS,
  type ActivationsBody, type ChatCompletionBody, type CompletionBody, type DetokenizeBody, type LogProbFields, type SamplingFields, type TokenizeBody, type WireMessage,
} from './schemas.js';

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** Vector sets (`[name=]dir`) for emotion steering and the meter. */
  vectors?: readonly string[];
  /** Requests decoded together (default 4). */
  parallel?: number;
  /** Tokens of KV cache per request (default 2048). */
  contextPerRequest?: number;
  /** Waiting requests before 429 (default 64). */
  queueLimit?: number;
  /** Threads (default: as createContext). */
  threads?: number;
  /**
   * Flash attention of the generation context (default 'auto', as llama-server: on where the
   * devices support it, which on CPU is worth ~17% of single-token speed on SmolLM2-135M;
   * see {@link SchedulerOptions.flashAttention}). Activation capture runs on its own context,
   * always without it.
   */
  flashAttention?: boolean | 'auto';
  /** Bearer key required on every endpoint but /health. */
  apiKey?: string;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** The model id reported by /v1/models (default: the file's general.name or arch). */
  modelId?: string;
  /** Default max_tokens (default 256). */
  defaultMaxTokens?: number;
  /** Milliseconds a client has to send its whole request (default 30,000). */
  requestTimeoutMs?: number;
  /**
   * Serve the browser playground at GET /ui (and redirect GET / to it): a chat with a slider per
   * emotion, the live meter plot and a steered/unsteered comparison. The page itself needs no
   * API key (it holds no data; it asks for the key). Default false: /ui is a 404.
   */
  ui?: boolean;
  /**
   * Browser origins (`scheme://host[:port]`, exactly as a browser sends its Origin header, or
   * `'*'` for any) allowed to call this server cross-origin: their requests get
   * `Access-Control-Allow-Origin`, and their preflights are answered before the API-key check.
   * Default: none (no CORS headers at all).
   */
  corsOrigin?: string | readonly string[];
  /** The scheduler's prompt cache (default: on, off for recurrent models; see {@link SchedulerOptions.promptCache}). */
  promptCache?: boolean;
  /** Most prompt tokens decoded per step (default 64; 0 = whole prompts; see {@link SchedulerOptions.prefillChunk}). */
  prefillChunk?: number;
  /**
   * Chat requests too long for `contextPerRequest` lose their oldest messages instead of
   * failing (default false; see {@link SchedulerOptions.contextShift}); the response says how
   * many in the `x-emosteer-dropped-messages` header and the `dropped_messages` field.
   */
  contextShift?: boolean;
}

/** A created server: the Fastify app and what it owns. */
export interface EmosteerServer {
  app: FastifyInstance;
  scheduler: RequestScheduler;
  sets: LoadedVectorSets;
  /** Stops listening, lets in-flight requests finish, frees the contexts (not the model). */
  close(): Promise<void>;
}

const FINISH: Record<StopReason, 'stop' | 'length'> = { eog: 'stop', stop: 'stop', maxTokens: 'length' };

/** Builds the server (not listening yet: call `app.listen`). */
export async function createServer(model: Model, options: ServerOptions = {}): Promise<EmosteerServer> {
  const sets = await LoadedVectorSets.load(model, options.vectors ?? []);
  const scheduler = await RequestScheduler.create(model, {
    parallel: options.parallel ?? 4,
    contextPerRequest: options.contextPerRequest ?? 2048,
    queueLimit: options.queueLimit ?? 64,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    flashAttention: options.flashAttention ?? 'auto',
    ...(options.promptCache !== undefined ? { promptCache: options.promptCache } : {}),
    ...(options.prefillChunk !== undefined ? { prefillChunk: options.prefillChunk } : {}),
    ...(options.contextShift !== undefined ? { contextShift: options.contextShift } : {}),
  });
  const modelId = options.modelId ?? (model.info.name || model.info.arch);
  const defaultMaxTokens = options.defaultMaxTokens ?? 256;
  let activationContext: Promise<Context> | null = null;
  const activationCtx = () => (activationContext ??= model.createContext({
    contextSize: scheduler.contextPerRequest,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  }));

  const registry = new Registry();
  const requests = new Counter({ name: 'emosteer_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const tokensOut = new Counter({ name: 'emosteer_generated_tokens_total', help: 'Generated tokens', registers: [registry] });
  const tokensIn = new Counter({ name: 'emosteer_prompt_tokens_total', help: 'Prompt tokens of requests (cached ones included)', registers: [registry] });
  const tokensCached = new Counter({ name: 'emosteer_prompt_cached_tokens_total', help: 'Prompt tokens reused from the prompt cache instead of being decoded', registers: [registry] });
  new Gauge({ name: 'emosteer_queue_depth', help: 'Requests waiting for a sequence', registers: [registry], collect() { this.set(scheduler.stats.queued); } });
  new Gauge({ name: 'emosteer_running_requests', help: 'Requests being decoded', registers: [registry], collect() { this.set(scheduler.stats.running); } });
  new Gauge({
    name: 'emosteer_decode_tokens_per_second',
    help: 'Generated tokens per second of decode time since start',
    registers: [registry],
    collect() { const s = scheduler.stats; this.set(s.decodeSeconds > 0 ? s.generatedTokens / s.decodeSeconds : 0); },
  });

  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // A client must send its whole request within this time (a stalled upload is cut off);
    // streamed answers are not limited by it.
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logger: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err);
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error', code: 'not_found', param: null } });
  });
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
  });
  const corsOrigins = options.corsOrigin === undefined ? [] : typeof options.corsOrigin === 'string' ? [options.corsOrigin] : [...options.corsOrigin];
  if (corsOrigins.length > 0) {
    // Before the key check, so that preflights (which carry no key) are answered. A list (even of
    // one) makes @fastify/cors echo a listed Origin and send nothing for any other.
    await app.register(cors, { origin: corsOrigins.includes('*') ? '*' : corsOrigins, methods: ['GET', 'HEAD', 'POST'], maxAge: 600 });
  }
  if (options.apiKey) {
    const key = Buffer.from(`Bearer ${options.apiKey}`);
    app.addHook('onRequest', async (req) => {
      if (req.url === '/health' || (options.ui && isPlaygroundRequest(req.method, req.url))) return;
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== key.length || !timingSafeEqual(got, key)) {
        throw new HttpError(401, 'authentication_error', 'invalid_api_key', 'missing or wrong API key: send Authorization: Bearer <key>');
      }
    });
  }

  if (options.ui) registerPlayground(app);

  app.get('/health', async () => ({ status: 'ok', model: modelId, ...scheduler.stats }));

  app.get('/metrics', async (req, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: modelId, object: 'model', created: 0, owned_by: 'emosteer', meta: { arch: model.info.arch, description: model.info.description, n_layer: model.info.nLayer, n_embd: model.info.nEmbd, context_per_request: scheduler.contextPerRequest, parallel: scheduler.parallel } }],
  }));

  app.get('/v1/steering', async () => sets.describe());

  const pieceBytes = (token: number) => model.tokenToPiece(token);
  const pieceText = (token: number) => Buffer.from(pieceBytes(token)).toString('utf8');
  /** OpenAI's chat shape of one token's log-probabilities. */
  const chatLogProb = (t: { token: number; logProb?: number; topLogProbs?: TokenLogProb[] }, k: number) => ({
    token: pieceText(t.token),
    logprob: t.logProb!,
    bytes: Array.from(pieceBytes(t.token)),
    top_logprobs: (t.topLogProbs ?? []).slice(0, k).map((e) => ({ token: pieceText(e.token), logprob: e.logProb, bytes: Array.from(pieceBytes(e.token)) })),
  });
  /** The legacy completions shape of tokens' log-probabilities, starting at text offset `offset`. */
  const legacyLogProbs = (toks: { token: number; logProb: number | null; top: TokenLogProb[] | null }[], k: number, offset: number) => {
    const out = { tokens: [] as string[], token_logprobs: [] as (number | null)[], top_logprobs: [] as (Record<string, number> | null)[], text_offset: [] as number[] };
    let at = offset;
    for (const t of toks) {
      const text = pieceText(t.token);
      out.tokens.push(text);
      out.token_logprobs.push(t.logProb);
      out.top_logprobs.push(t.top === null ? null : Object.fromEntries(t.top.slice(0, k).map((e) => [pieceText(e.token), e.logProb])));
      out.text_offset.push(at);
      at += text.length;
    }
    return out;
  };
  const FIELD_CHECK = (endpoint: 'chat' | 'completions') => async (request: FastifyRequest) => {
    const body = request.body as Record<string, unknown> | null;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    for (const [key, f] of Object.entries(UNSUPPORTED_FIELDS)) {
      if (!(key in body) || (f.endpoints && !f.endpoints.includes(endpoint))) continue;
      if (!f.neutral(body[key])) throw new HttpError(400, 'invalid_request_error', 'unsupported_field', `${key} is not supported by emosteer serve: ${f.why}; leave it out (or send its neutral value)`, key);
    }
  };

  /**
   * Runs a completion request: one choice per prompt and per `n`, streamed or not, in the chat
   * or the text shape, with log-probabilities and (text completions) the echoed prompt.
   */
  const complete = async (request: FastifyRequest, reply: FastifyReply, body: SamplingFields & LogProbFields, prompts: PromptInput[], chat: boolean) => {
    const abort = new AbortController();
    const n = body.n ?? 1;
    const limits = { sets, contextPerRequest: scheduler.contextPerRequest, defaultMaxTokens };
    const echo = !chat && body.echo === true;
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const onClose = () => { if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected')); };
    reply.raw.on('close', onClose);

    // Every choice is validated and submitted before anything is sent: a bad request fails whole.
    interface Choice { index: number; prompt: number; gen: ScheduledGeneration | null; meter: EmotionMeter | undefined; k: number | undefined; echo: { text: string; tokens: ReturnType<typeof legacyLogProbs> | null } | null }
    const choices: Choice[] = [];
    const promptTokens: number[] = [];
    try {
      for (let p = 0; p < prompts.length; p++) {
        const prompt = prompts[p]!;
        const first = requestFromBody(body, prompt, abort.signal, limits, chat);
        const k = first.req.logProbs;
        let echoed: Choice['echo'] = null;
        if (echo) {
          // The prompt's own tokens (as generation tokenizes them) and, with logprobs, their
          // log-probabilities (the first token has none), scored with the request's steering.
          const tokens = typeof prompt === 'string' ? model.tokenize(prompt, { addSpecial: true }) : Int32Array.from(prompt as ArrayLike<number>);
          const text = typeof prompt === 'string' ? prompt : model.detokenize(tokens);
          let scored: ReturnType<typeof legacyLogProbs> | null = null;
          if (k !== undefined) {
            const rows: { token: number; logProb: number | null; top: TokenLogProb[] | null }[] = [{ token: tokens[0]!, logProb: null, top: null }];
            if (tokens.length > 1) {
              const ctx = await activationCtx();
              const r = await ctx.logProbs(tokens.subarray(0, 1), tokens.subarray(1), { topLogProbs: Math.max(1, k), signal: abort.signal, ...(first.steering ? { steering: first.steering } : {}) });
              for (let j = 0; j < r.tokens.length; j++) rows.push({ token: r.tokens[j]!, logProb: r.logProbs[j]!, top: r.top![j]! });
            }
            scored = legacyLogProbs(rows, k, 0);
          }
          echoed = { text, tokens: scored };
          promptTokens.push(tokens.length);
        }
        for (let j = 0; j < n; j++) {
          const { req, meter } = j === 0 ? first : requestFromBody(body, prompt, abort.signal, limits, chat);
          // n > 1: the same seed would give n copies; choice j takes seed + j.
          if (j > 0) req.seed = (req.seed! + j) % 2 ** 32;
          const gen = req.maxTokens === 0 ? null : scheduler.submit(req);
          choices.push({ index: p * n + j, prompt: p, gen, meter, k, echo: echoed });
        }
      }
    } catch (err) {
      abort.abort(err);
      reply.raw.off('close', onClose);
      throw err;
    }
    const empty: ScheduledResult = { text: '', tokens: [], promptTokens: 0, cachedTokens: 0, droppedMessages: 0, stopReason: 'maxTokens', timeToFirstTokenMs: null };
    // Context shift: messages dropped from the start of the conversation to fit the context.
    const dropped = Math.max(0, ...choices.map((c) => c.gen?.droppedMessages ?? 0));
    const droppedField = dropped > 0 ? { dropped_messages: dropped } : {};
    if (dropped > 0) void reply.header('x-emosteer-dropped-messages', String(dropped));
    const meterOf = (c: Choice, t: ScheduledToken) => {
      if (!c.meter || t.reading === undefined) return undefined;
      const emotions = t.reading as EmotionReading; // the request's probe is its set's EmotionMeter
      return { emotions, top: c.meter.top(emotions).emotion };
    };
    const lpOf = (t: ScheduledToken) => ({ token: t.token, logProb: t.logProb ?? null, top: t.topLogProbs ?? [] });
    const finishUsage = (results: ScheduledResult[]) => {
      const byPrompt = new Map<number, number>();
      choices.forEach((c, i) => byPrompt.set(c.prompt, Math.max(byPrompt.get(c.prompt) ?? 0, results[i]!.promptTokens, promptTokens[c.prompt] ?? 0)));
      const prompt = [...byPrompt.values()].reduce((a, b) => a + b, 0);
      const completion = results.reduce((a, r) => a + r.tokens.length, 0);
      // Prompt tokens served from the prompt cache, as OpenAI reports them (per prompt, the
      // choice that reused the most: n choices of one prompt count the prompt once).
      const cachedByPrompt = new Map<number, number>();
      choices.forEach((c, i) => cachedByPrompt.set(c.prompt, Math.max(cachedByPrompt.get(c.prompt) ?? 0, results[i]!.cachedTokens)));
      const cached = [...cachedByPrompt.values()].reduce((a, b) => a + b, 0);
      tokensOut.inc(completion);
      tokensIn.inc(prompt);
      tokensCached.inc(cached);
      return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
    };

    if (!body.stream) {
      try {
        const outs = await Promise.all(choices.map(async (c) => {
          const readings: { text: string; emotions: EmotionReading; top: string }[] = [];
          const toks: ScheduledToken[] = [];
          if (c.gen) for await (const t of c.gen) { toks.push(t); const m = meterOf(c, t); if (m) readings.push({ text: t.text, ...m }); }
          const r = c.gen ? await c.gen.result : empty;
          let logprobs: object | null = null;
          if (c.k !== undefined) {
            if (chat) logprobs = { content: toks.map((t) => chatLogProb(t, c.k!)), refusal: null };
            else {
              // The end-of-generation token that stopped it is listed too (its text is empty), as
              // OpenAI's and vLLM's legacy completions do: harnesses expect the max_tokens-th entry.
              const listed = r.endToken ? [...toks.map(lpOf), { token: r.endToken.token, logProb: r.endToken.logProb, top: r.endToken.topLogProbs }] : toks.map(lpOf);
              const gen = legacyLogProbs(listed, c.k, c.echo ? c.echo.text.length : 0);
              const pre = c.echo?.tokens;
              logprobs = pre
                ? { tokens: [...pre.tokens, ...gen.tokens], token_logprobs: [...pre.token_logprobs, ...gen.token_logprobs], top_logprobs: [...pre.top_logprobs, ...gen.top_logprobs], text_offset: [...pre.text_offset, ...gen.text_offset] }
                : gen;
            }
          }
          const finish = c.gen ? FINISH[r.stopReason] : 'length';
          const choice = chat
            ? { index: c.index, message: { role: 'assistant', content: r.text }, finish_reason: finish, logprobs }
            : { index: c.index, text: (c.echo ? c.echo.text : '') + r.text, finish_reason: finish, logprobs };
          return { choice, r, readings };
        }));
        const usage = finishUsage(outs.map((o) => o.r));
        const anyMeter = choices.some((c) => c.meter);
        // One choice: the meter readings at the top level (as before); several: in each choice.
        const list = outs.map((o) => (anyMeter && outs.length > 1 ? { ...o.choice, meter: o.readings } : o.choice));
        return { id, object: chat ? 'chat.completion' : 'text_completion', created, model: modelId, choices: list, usage, ...droppedField, ...(anyMeter && outs.length === 1 ? { meter: outs[0]!.readings } : {}) };
      } catch (err) {
        abort.abort(err);
        throw err;
      } finally {
        reply.raw.off('close', onClose);
      }
    }

    // Streaming: server-sent events, one chunk per token and choice, then each choice's finish
    // chunk, the usage chunk if asked for, and data: [DONE].
    reply.hijack();
    const res = reply.raw;
    // The headers hooks set (CORS) are kept: a hijacked reply writes its own.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (o: object) => { if (!res.writableEnded) res.write(`data: ${JSON.stringify(o)}\n\n`); };
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const chunk = (c: Choice, delta: string | null, finish: string | null, extra: object = {}, logprobs: object | null = null, first = false) => chat
      ? { id, object, created, model: modelId, choices: [{ index: c.index, delta: delta === null ? {} : { ...(first ? { role: 'assistant' } : {}), content: delta }, finish_reason: finish, logprobs }], ...extra }
      : { id, object, created, model: modelId, choices: [{ index: c.index, text: delta ?? '', finish_reason: finish, logprobs }], ...extra };
    try {
      const results = await Promise.all(choices.map(async (c) => {
        if (chat) send(chunk(c, '', null, {}, null, true));
        let offset = 0;
        if (c.echo) {
          send(chunk(c, c.echo.text, null, {}, c.echo.tokens));
          offset = c.echo.text.length;
        }
        if (!c.gen) return empty;
        for await (const t of c.gen) {
          const m = meterOf(c, t);
          let lp: object | null = null;
          if (c.k !== undefined) {
            lp = chat ? { content: [chatLogProb(t, c.k)], refusal: null } : legacyLogProbs([lpOf(t)], c.k, offset);
          }
          offset += t.text.length;
          send(chunk(c, t.text, null, m ? { meter: m } : {}, lp));
        }
        const r = await c.gen.result;
        const end = !chat && c.k !== undefined && r.endToken ? legacyLogProbs([{ token: r.endToken.token, logProb: r.endToken.logProb, top: r.endToken.topLogProbs }], c.k, offset) : null;
        send(chunk(c, null, FINISH[r.stopReason], {}, end));
        return r;
      }));
      const usage = finishUsage(results);
      if (body.stream_options?.include_usage) send({ id, object, created, model: modelId, choices: [], usage });
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
    } catch (err) {
      abort.abort(err);
      // Headers are sent: the error travels as an event in the OpenAI shape.
      const { status, body: eb } = toHttpError(err);
      if (status !== 499) send(eb);
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
    } finally {
      reply.raw.off('close', onClose);
      requests.inc({ route: request.routeOptions.url ?? 'unknown', status: '200' });
    }
    return reply;
  };

  app.post<{ Body: ChatCompletionBody }>('/v1/chat/completions', { schema: { body: chatCompletionSchema }, preValidation: FIELD_CHECK('chat') }, async (request, reply) => {
    const messages = request.body.messages.map(toChatMessage);
    return complete(request, reply, request.body, [{ messages }], true);
  });

  app.post<{ Body: CompletionBody }>('/v1/completions', { schema: { body: completionSchema }, preValidation: FIELD_CHECK('completions') }, async (request, reply) => {
    const p = request.body.prompt;
    // A string, token ids, or a list of either: one choice (times n) per prompt.
    const prompts: (string | number[])[] = typeof p === 'string' ? [p] : typeof p[0] === 'number' ? [p as number[]] : (p as (string | number[])[]);
    for (const q of prompts) {
      if (typeof q !== 'string' && q.some((t) => t >= model.info.nVocab)) {
        throw new HttpError(400, 'invalid_request_error', 'invalid_request', `prompt token ids must be below the vocabulary size ${model.info.nVocab}`, 'prompt');
      }
    }
    return complete(request, reply, request.body, prompts, false);
  });

  // The tokenizer endpoints of vLLM and llama-server, which evaluation harnesses use to
  // tokenize with the served model's own tokenizer (lm-evaluation-harness's remote tokenizer).
  app.get('/tokenizer_info', async () => {
    const i = model.info;
    const special = (t: number) => (t >= 0 ? Buffer.from(model.tokenToPiece(t, { renderSpecial: true })).toString('utf8') : null);
    return { bos_token: special(i.bos), eos_token: special(i.eos), pad_token: null, add_bos_token: i.addBos, vocab_size: i.nVocab, model_max_length: scheduler.contextPerRequest, chat_template: i.chatTemplate };
  });
  app.post<{ Body: TokenizeBody }>('/tokenize', { schema: { body: tokenizeSchema } }, async (request) => {
    const b = request.body;
    const text = b.prompt ?? b.content ?? '';
    // vLLM's `prompt` adds special tokens unless told not to; llama-server's `content` does not.
    const addSpecial = b.add_special_tokens ?? b.add_special ?? b.prompt !== undefined;
    const tokens = Array.from(model.tokenize(text, { addSpecial, parseSpecial: b.parse_special ?? true }));
    return {
      tokens: b.with_pieces ? tokens.map((id) => ({ id, piece: pieceText(id) })) : tokens,
      count: tokens.length,
      max_model_len: scheduler.contextPerRequest,
    };
  });
  app.post<{ Body: DetokenizeBody }>('/detokenize', { schema: { body: detokenizeSchema } }, async (request) => {
    const tokens = request.body.tokens;
    if (tokens.some((t) => t >= model.info.nVocab)) throw new HttpError(400, 'invalid_request_error', 'invalid_request', `token ids must be below the vocabulary size ${model.info.nVocab}`, 'tokens');
    const text = model.detokenize(tokens);
    return { prompt: text, content: text };
  });

  app.post<{ Body: ActivationsBody }>('/v1/activations', { schema: { body: activationsSchema } }, async (request) => {
    const b = request.body;
    const ctx = await activationCtx();
    const layers = b.layers ?? 'all';
    const input = typeof b.input === 'string' ? b.input : { messages: b.input.map(toChatMessage) };
    const r = await ctx.evaluate(input, { capture: { layers, pooling: b.pooling ?? 'last' } });
    const acts = r.activations!;
    const base64 = b.encoding_format === 'base64';
    return {
      object: 'list',
      model: modelId,
      pooling: b.pooling ?? 'last',
      data: acts.layers.map((layer) => {
        const v = acts.get(layer);
        return { object: 'activation', layer, embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v) };
      }),
      usage: { prompt_tokens: r.tokens.length, total_tokens: r.tokens.length },
    };
  });

  const close = async () => {
    // Stop accepting (new requests get 503), let the running and queued generations finish,
    // then drop idle keep-alive connections so that close() cannot wait on a client forever.
    const closing = app.close();
    await scheduler.close({ drain: true });
    app.server.closeAllConnections();
    await closing;
    if (activationContext) await (await activationContext).dispose();
  };
  return { app, scheduler, sets, close };
}

function toChatMessage(m: WireMessage): { role: string; content: string } {
  const role = m.role === 'developer' ? 'system' : m.role;
  const content = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
  return { role, content };
}

