/**
 * `emosteer serve`: an OpenAI-compatible HTTP server (Fastify) over one model, whose requests
 * share one batched decode (RequestScheduler) and may each carry their own steering.
 *
 * Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming with server-sent
 * events or not), GET /v1/models, GET /v1/steering, POST /v1/activations, GET /health,
 * GET /metrics (Prometheus). Extensions, as top-level request fields: `steering` (a list of
 * `{ emotion | vector, strength, layers?, positions?, set? }`) and `meter` (true or a set
 * name: every streamed chunk carries the emotion meter's reading of its token). docs/server.md
 * has the whole reference.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Context, StopReason } from '../runtime/context.js';
import type { Model } from '../runtime/model.js';
import { RequestScheduler, type ScheduledRequest, type ScheduledResult, type ScheduledToken } from '../runtime/scheduler.js';
import type { EmotionReading } from '../steer/emotion-meter.js';
import { toHttpError, HttpError } from './errors.js';
import { LoadedVectorSets } from './loaded-vector-sets.js';
import { requestFromBody } from './request.js';
import {
  activationsSchema, chatCompletionSchema, completionSchema,
  type ActivationsBody, type ChatCompletionBody, type CompletionBody, type SamplingFields, type WireMessage,
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
  const tokensIn = new Counter({ name: 'emosteer_prompt_tokens_total', help: 'Prompt tokens decoded', registers: [registry] });
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
  if (options.apiKey) {
    const key = Buffer.from(`Bearer ${options.apiKey}`);
    app.addHook('onRequest', async (req) => {
      if (req.url === '/health') return;
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length !== key.length || !timingSafeEqual(got, key)) {
        throw new HttpError(401, 'authentication_error', 'invalid_api_key', 'missing or wrong API key: send Authorization: Bearer <key>');
      }
    });
  }

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

  /** Runs one completion, streamed or not, in the chat or the text shape. */
  const complete = async (request: FastifyRequest, reply: FastifyReply, body: SamplingFields, prompt: ScheduledRequest['prompt'], chat: boolean) => {
    const abort = new AbortController();
    const { req, meter } = requestFromBody(body, prompt, abort.signal, { sets, contextPerRequest: scheduler.contextPerRequest, defaultMaxTokens });
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const gen = scheduler.submit(req);
    const usage = (r: ScheduledResult) => ({ prompt_tokens: r.promptTokens, completion_tokens: r.tokens.length, total_tokens: r.promptTokens + r.tokens.length });
    const meterOf = (t: ScheduledToken) => {
      if (!meter || t.reading === undefined) return undefined;
      const emotions = t.reading as EmotionReading; // the request's probe is its set's EmotionMeter
      return { emotions, top: meter.top(emotions).emotion };
    };
    const onClose = () => { if (!reply.raw.writableFinished) abort.abort(new Error('client disconnected')); };
    reply.raw.on('close', onClose);

    if (!body.stream) {
      const readings: { text: string; emotions: EmotionReading; top: string }[] = [];
      for await (const t of gen) { const m = meterOf(t); if (m) readings.push({ text: t.text, ...m }); }
      const r = await gen.result;
      tokensOut.inc(r.tokens.length);
      tokensIn.inc(r.promptTokens);
      const choice = chat
        ? { index: 0, message: { role: 'assistant', content: r.text }, finish_reason: FINISH[r.stopReason], logprobs: null }
        : { index: 0, text: r.text, finish_reason: FINISH[r.stopReason], logprobs: null };
      return { id, object: chat ? 'chat.completion' : 'text_completion', created, model: modelId, choices: [choice], usage: usage(r), ...(meter ? { meter: readings } : {}) };
    }

    // Streaming: server-sent events, one chunk per token, then the finish chunk and [DONE].
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = (o: object) => { if (!res.writableEnded) res.write(`data: ${JSON.stringify(o)}\n\n`); };
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const chunk = (delta: string | null, finish: string | null, extra: object = {}, first = false) => chat
      ? { id, object, created, model: modelId, choices: [{ index: 0, delta: delta === null ? {} : { ...(first ? { role: 'assistant' } : {}), content: delta }, finish_reason: finish, logprobs: null }], ...extra }
      : { id, object, created, model: modelId, choices: [{ index: 0, text: delta ?? '', finish_reason: finish, logprobs: null }], ...extra };
    try {
      if (chat) send(chunk('', null, {}, true));
      for await (const t of gen) {
        const m = meterOf(t);
        send(chunk(t.text, null, m ? { meter: m } : {}));
      }
      const r = await gen.result;
      tokensOut.inc(r.tokens.length);
      tokensIn.inc(r.promptTokens);
      send(chunk(null, FINISH[r.stopReason]));
      if (body.stream_options?.include_usage) send({ id, object, created, model: modelId, choices: [], usage: usage(r) });
      if (!res.writableEnded) res.end('data: [DONE]\n\n');
    } catch (err) {
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

  app.post<{ Body: ChatCompletionBody }>('/v1/chat/completions', { schema: { body: chatCompletionSchema } }, async (request, reply) => {
    const messages = request.body.messages.map(toChatMessage);
    return complete(request, reply, request.body, { messages }, true);
  });

  app.post<{ Body: CompletionBody }>('/v1/completions', { schema: { body: completionSchema } }, async (request, reply) => {
    const p = request.body.prompt;
    return complete(request, reply, request.body, typeof p === 'string' ? p : p[0]!, false);
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

