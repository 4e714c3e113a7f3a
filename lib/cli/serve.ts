/**
 * `emosteer serve --model <gguf|name> [--vectors [name=]dir]... [--host 127.0.0.1] [--port 8080]
 * [--parallel 4] [--ctx-per-request 2048] [--queue-limit 64] [--threads N] [--api-key k] [--ui]
 * [--cors-origin <origin>]... [--no-prompt-cache] [--prefill-chunk 64] [--context-shift]
 * [--flash-attn auto|on|off]`: the OpenAI-compatible server of lib/server/. Prints
 * `emosteer serve listening on <url>` on stdout once it accepts connections (port 0 picks a
 * free one). SIGINT/SIGTERM stop
 * accepting, let in-flight requests finish, free the model and exit 0.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { loadModel } from '../runtime/model.js';
import { createServer } from '../server/server.js';
import { defaultIo, intFlag, listFlag, parseCommand, reportError, type CliIo } from './io.js';
import { resolveModelArg } from './model-arg.js';

const FLASH_ATTN = { auto: 'auto', on: true, off: false } as const;

/** Usage text of `emosteer serve`. */
export const SERVE_USAGE = `Usage: emosteer serve --model <gguf|registry name> [options]

An OpenAI-compatible HTTP server (docs/server.md): POST /v1/chat/completions, /v1/completions
(streamed or not), GET /v1/models, GET /v1/steering, POST /v1/activations, GET /health,
GET /metrics. Requests share one batched decode; each may carry its own steering
(top-level field "steering": [{ "emotion": "calm", "strength": 0.05 }]) and "meter": true.
--ui adds a browser playground at /ui: a chat with a slider per emotion, the live meter plot,
and the same message with and without steering side by side.

Options:
  -m, --model <m>          GGUF file or registry name (emosteer models list)
      --vectors <[n=]dir>  an emotion vector set folder, optionally named (repeatable)
      --host <h>           address to bind (default 127.0.0.1; anything else is reachable
                           from the network: use --api-key)
      --port <p>           port (default 8080; 0 = any free port)
      --parallel <n>       requests decoded together (default 4)
      --ctx-per-request <n> KV-cache tokens per request, prompt + generated (default 2048)
      --queue-limit <n>    waiting requests before 429 (default 64)
      --threads <n>        threads (default $EMOSTEER_THREADS or every core)
      --flash-attn <m>     auto, on or off (default auto, as llama-server: on where the
                           devices support it; off makes a batched request's tokens equal
                           those of the same request alone, at some speed)
      --api-key <k>        require "Authorization: Bearer <k>" (default $EMOSTEER_API_KEY)
      --max-tokens <n>     default max_tokens (default 256)
      --body-limit <bytes> largest request body (default 1048576)
      --ui                 serve the browser playground at /ui (and redirect / to it); the
                           page needs no key, the API behind it still does
      --cors-origin <o>    a browser origin allowed to call the API cross-origin, e.g.
                           http://localhost:5173 (repeatable or comma-separated; * = any);
                           default: none, no CORS headers
      --no-prompt-cache    decode every prompt whole (default: a request reuses the KV rows
                           of the longest prefix a free sequence holds from its last request,
                           as llama-server's cache_prompt; off anyway for recurrent models)
      --prefill-chunk <n>  most prompt tokens decoded per step, so that a long prompt does
                           not stall running requests (default 64; 0 = whole prompts)
      --context-shift      a chat request too long for --ctx-per-request loses its oldest
                           messages (system messages and the last one kept) instead of a 400;
                           the header x-emosteer-dropped-messages says how many
  -h, --help               show this help`;

/**
 * Runs `emosteer serve` until SIGINT/SIGTERM (or `signal`).
 * @returns exit code: 0 after a clean stop, 1 on a start-up failure, 2 on bad arguments
 */
export async function runServe(argv: string[], io: CliIo = defaultIo, signal?: AbortSignal): Promise<number> {
  const parsed = parseCommand('serve', argv, {
    model: { type: 'string', short: 'm' },
    vectors: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
    parallel: { type: 'string' },
    'ctx-per-request': { type: 'string' },
    'queue-limit': { type: 'string' },
    threads: { type: 'string' },
    'api-key': { type: 'string' },
    'max-tokens': { type: 'string' },
    'body-limit': { type: 'string' },
    ui: { type: 'boolean' },
    'cors-origin': { type: 'string', multiple: true },
    'no-prompt-cache': { type: 'boolean' },
    'prefill-chunk': { type: 'string' },
    'context-shift': { type: 'boolean' },
    'flash-attn': { type: 'string' },
  }, SERVE_USAGE, io);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let stage = 'start';
  try {
    if (!values.model) throw new EmosteerError('INVALID_ARGUMENT', '--model is required');
    const port = intFlag('port', values.port, { min: 0, max: 65535 }) ?? 8080;
    const threads = intFlag('threads', values.threads, { min: 1 });
    const fa = values['flash-attn'];
    if (fa !== undefined && !Object.hasOwn(FLASH_ATTN, fa)) throw new EmosteerError('INVALID_ARGUMENT', `--flash-attn takes auto, on or off (got '${fa}')`);
    const opts = {
      parallel: intFlag('parallel', values.parallel, { min: 1 }) ?? 4,
      contextPerRequest: intFlag('ctx-per-request', values['ctx-per-request'], { min: 16 }) ?? 2048,
      queueLimit: intFlag('queue-limit', values['queue-limit'], { min: 0 }) ?? 64,
      defaultMaxTokens: intFlag('max-tokens', values['max-tokens'], { min: 1 }) ?? 256,
      bodyLimit: intFlag('body-limit', values['body-limit'], { min: 1024 }) ?? 1024 * 1024,
      ...(threads !== undefined ? { threads } : {}),
      ...(fa !== undefined ? { flashAttention: FLASH_ATTN[fa as keyof typeof FLASH_ATTN] } : {}),
      ...(values['no-prompt-cache'] ? { promptCache: false } : {}),
      ...(values['context-shift'] ? { contextShift: true } : {}),
      ...(values['prefill-chunk'] !== undefined ? { prefillChunk: intFlag('prefill-chunk', values['prefill-chunk'], { min: 0 })! } : {}),
      vectors: values.vectors ?? [],
    };
    const apiKey = values['api-key'] ?? process.env.EMOSTEER_API_KEY;
    const corsOrigin = (values['cors-origin'] ?? []).flatMap((v) => listFlag('cors-origin', v)!.map((o) => corsOriginArg(o)));
    const host = values.host ?? '127.0.0.1';
    stage = 'load';
    const path = await resolveModelArg(values.model, io);
    const model = await loadModel(path);
    const server = await createServer(model, { ...opts, ...(apiKey ? { apiKey } : {}), ...(values.ui ? { ui: true } : {}), ...(corsOrigin.length > 0 ? { corsOrigin } : {}) });
    stage = 'listen';
    const url = await server.app.listen({ host, port });
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1' && !apiKey) {
      io.err(`emosteer serve: warning: listening on ${host} without --api-key: anyone who can reach this address can use the model`);
    }
    io.err(`emosteer serve: ${model.info.description}, ${opts.parallel} parallel, ${server.scheduler.contextPerRequest} tokens per request, ${server.sets.sets.length} vector set(s): ${server.sets.sets.map((s) => s.name).join(', ') || 'none'}`);
    if (values.ui) io.err(`emosteer serve: playground at ${url}/ui`);
    io.out(`emosteer serve listening on ${url}`);
    // The first SIGINT/SIGTERM drains. Under `npx`, npm forwards the same Ctrl-C to this
    // process a moment later: signals within a second of the first are that echo and ignored;
    // a later one (a second Ctrl-C) stops at once without draining.
    let stoppingSince = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stoppingSince === 0) { stoppingSince = Date.now(); stopNow(); return; }
      if (Date.now() - stoppingSince < 1000) return;
      io.err(`emosteer serve: ${sig} again: exiting without finishing in-flight requests`);
      process.exit(130);
    };
    let stopNow = () => {};
    await new Promise<void>((resolve) => {
      stopNow = resolve;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      signal?.addEventListener('abort', () => onSignal('SIGTERM'), { once: true });
    });
    io.err('emosteer serve: stopping: finishing in-flight requests');
    await server.close();
    model.dispose();
    io.err('emosteer serve: stopped');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 0;
  } catch (e) {
    return reportError(`serve (${stage})`, e, io);
  }
}

/**
 * One `--cors-origin` value: `*`, or an origin exactly as a browser sends it in its Origin
 * header (`scheme://host[:port]`, no path, no trailing slash), which is what CORS matches on.
 * @throws EmosteerError `INVALID_ARGUMENT` for anything else, with the origin to give instead
 */
function corsOriginArg(text: string): string {
  if (text === '*') return text;
  let origin: string | null = null;
  try {
    const u = new URL(text);
    if (u.protocol === 'http:' || u.protocol === 'https:') origin = u.origin;
  } catch {
    origin = null;
  }
  if (origin === text) return text;
  throw new EmosteerError('INVALID_ARGUMENT', `--cors-origin must be * or an origin such as http://localhost:5173 (scheme://host[:port], no path or trailing slash); got '${text}'${origin ? `: give ${origin}` : ''}`);
}
