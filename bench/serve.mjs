#!/usr/bin/env node
// `npm run bench:serve`: `emosteer serve` against llama.cpp's own `llama-server` (from the same
// pinned source, scripts/build-llama-server.mjs), both spoken to over the OpenAI HTTP API with
// streaming (server-sent events) through Node's built-in fetch, on one model (default Gemma 3
// 270M), as a markdown table of numbers, ratios and targets (met / missed).
//
// Each server is started by this script on 127.0.0.1 with an ephemeral port, with as many slots
// as the largest --clients, measured for every rep, and stopped before the next one starts.
// --interleave instead keeps both up and alternates the reps between them (llama-server rep 1,
// emosteer rep 1, emosteer rep 2, llama-server rep 2, ...; only one is measured at a time) so
// that the machine's drift falls on both sides of each ratio, which is then also given per rep.
// Not the default: in its first full run (6 reps, 2026-12-07) llama-server stopped making
// progress at 8 clients with both servers up, and the starved emosteer timed out after it; a
// second run (2 reps) went through. The cause was not found.
// A short warm-up request runs first. Then, --reps times (interleaved over the concurrencies):
//   unsteered       C clients at once (C in --clients), each one streaming POST /v1/completions
//                   with its own fixed short prompt, temperature 0, a seed, max_tokens
//                   (both get ignore_eos and cache_prompt: false, llama-server also n_predict, so
//                   that every request decodes exactly max_tokens tokens and no prompt is reused)
//   steered         emosteer only: the same, each client with a different emotion (names from
//                   GET /v1/steering) as a top-level `steering: [{ emotion, strength }]`
//   serial-steered  emosteer only: the steered requests of the largest C, one after another
// Per phase: tokens/s = generated tokens of all clients / wall time from the first request sent
// to the last stream ended; time to first token and inter-token latency, p50 and p95 over every
// request (every gap between streamed content chunks) of the phase. A request's tokens are its
// `usage.completion_tokens` when the stream reports usage, else its count of content chunks.
// Every number is the median over the reps.
// Ratios: emosteer / llama-server unsteered tokens/s at each C (no target); steered / unsteered
// at the largest C (target >= 0.85); steered / serial-steered at the largest C (target >= 1.8).
// Two more phases (--phases chat,long,throughput selects; default all), once per rep each:
//   chat   a --turns-turn conversation over streaming POST /v1/chat/completions (a ~400-token
//          system prompt, each turn the previous turns + the reply + a new question, max_tokens
//          --chat-tokens, temperature 0, ignore_eos): time to first token per turn, and the
//          prompt tokens served from the cache (usage.prompt_tokens_details.cached_tokens, or
//          llama-server's timings.cache_n). llama-server gets cache_prompt: true; emosteer's
//          prompt cache is on by default.
//   long   2 clients send short completions (max_tokens 16) one after another while one
//          ~--long-tokens-token prompt arrives (max_tokens 8); while it is served, a new short
//          request (max_tokens 4) arrives every --long-pace ms (open loop): TTFT p50/p95 of those
//          sent before the long one's first token, the longest gap between two tokens
//          of a short stream in that window (the stall), and the long request's TTFT. Every
//          request here has cache_prompt: false.
//
//   npm run bench:serve -- [--model <gguf>] [--threads 2] [--servers llama,emosteer]
//                          [--clients 1,4,8] [--max-tokens 64] [--reps 2] [--vectors <set dir>]
//                          [--strength 0.05] [--llama-server <bin>] [--build-llama-server]
//                          [--emosteer-main <dist/cli/main.js>]
//                          [--request-timeout 120] [--timeout 1800] [--json] [--out <file.json>] [--interleave]
//                          [--phases chat,long,throughput] [--turns 5] [--chat-tokens 32]
//                          [--long-tokens 1500] [--long-pace 500] [--emosteer-flags="--no-prompt-cache --prefill-chunk 0"]
// --emosteer-flags are added to `emosteer serve`'s arguments (e.g. the behaviour before the
// prompt cache and chunked prefill, for a comparison on the same machine).
// --model defaults to the Gemma path `node scripts/fetch-gemma.mjs` prints. llama-server is
// deps/llama-server-build/bin/llama-server (`node scripts/build-llama-server.mjs`, or pass
// --build-llama-server to build it first), or the binary --llama-server names. emosteer is
// `node dist/cli/main.js serve` (build with `npm run build:ts` first), or the CLI entry
// --emosteer-main names (another checkout's build). --request-timeout bounds each
// request, --timeout the whole run (seconds); a server that does not come up within 180 s fails.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LLAMA_SERVER_BIN, buildLlamaServer } from '../scripts/build-llama-server.mjs';
import { median, resolveModel } from './parts/util.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => console.error(`[bench:serve] ${m}`);

const { values } = parseArgs({
  options: {
    model: { type: 'string', short: 'm' },
    threads: { type: 'string', default: '2' },
    servers: { type: 'string', default: 'llama,emosteer' },
    clients: { type: 'string', default: '1,4,8' },
    'max-tokens': { type: 'string', default: '64' },
    reps: { type: 'string', default: '2' },
    vectors: { type: 'string' },
    strength: { type: 'string', default: '0.05' },
    'llama-server': { type: 'string' },
    'build-llama-server': { type: 'boolean', default: false },
    'emosteer-main': { type: 'string' },
    'request-timeout': { type: 'string', default: '120' },
    timeout: { type: 'string', default: '1800' },
    json: { type: 'boolean', default: false },
    interleave: { type: 'boolean', default: false },
    out: { type: 'string' },
    phases: { type: 'string', default: 'chat,long,throughput' },
    turns: { type: 'string', default: '5' },
    'chat-tokens': { type: 'string', default: '32' },
    'long-tokens': { type: 'string', default: '1500' },
    'long-pace': { type: 'string', default: '500' },
    'emosteer-flags': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  const header = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1)
    .filter((l) => l.startsWith('//')).map((l) => l.replace(/^\/\/ ?/, ''));
  console.log(header.join('\n'));
  process.exit(0);
}

function positiveInt(name, v) {
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    console.error(`--${name} must be a positive integer, got '${v}'`);
    process.exit(2);
  }
  return Number(v);
}

const SERVERS = values.servers.split(',').map((s) => s.trim()).filter(Boolean);
if (SERVERS.length === 0 || SERVERS.some((s) => s !== 'llama' && s !== 'emosteer')) {
  console.error(`--servers takes llama, emosteer (comma-separated); got ${values.servers}`);
  process.exit(2);
}
const CLIENTS = [...new Set(values.clients.split(',').map((c) => positiveInt('clients', c.trim())))].sort((a, b) => a - b);
const MAX_C = CLIENTS[CLIENTS.length - 1];
const THREADS = positiveInt('threads', values.threads);
const MAX_TOKENS = positiveInt('max-tokens', values['max-tokens']);
const REPS = positiveInt('reps', values.reps);
const REQUEST_TIMEOUT_MS = positiveInt('request-timeout', values['request-timeout']) * 1000;
const OVERALL_TIMEOUT_MS = positiveInt('timeout', values.timeout) * 1000;
const STARTUP_TIMEOUT_MS = 180_000;
const STRENGTH = Number(values.strength);
if (!Number.isFinite(STRENGTH)) {
  console.error(`--strength must be a number, got '${values.strength}'`);
  process.exit(2);
}
const TARGETS = { steeredOverUnsteered: 0.85, steeredOverSerial: 1.8 };
const PHASES = new Set(values.phases.split(',').map((s) => s.trim()).filter(Boolean));
if (PHASES.size === 0 || [...PHASES].some((p) => !['chat', 'long', 'throughput'].includes(p))) {
  console.error(`--phases takes chat, long, throughput (comma-separated); got ${values.phases}`);
  process.exit(2);
}
const TURNS = positiveInt('turns', values.turns);
const CHAT_TOKENS = positiveInt('chat-tokens', values['chat-tokens']);
const LONG_TOKENS = positiveInt('long-tokens', values['long-tokens']);
const LONG_PACE_MS = positiveInt('long-pace', values['long-pace']);
// Room per slot: the long prompt, the chat's last turn, or a short prompt and max_tokens.
const PER_SLOT = Math.ceil((Math.max(MAX_TOKENS + 256, PHASES.has('long') ? LONG_TOKENS + 256 : 0, PHASES.has('chat') ? 600 + TURNS * (CHAT_TOKENS + 40) : 0)) / 256) * 256;
// A long English text for the system prompt of the chat phase and the long prompt (about 13
// tokens a sentence with SmolLM2's and Gemma's tokenizers).
const SENTENCES = [
  'The committee met on a grey Tuesday to discuss the harbour project.',
  'Several members worried about the cost of dredging the old channel.',
  'Others argued that the fishing fleet would leave without a deeper berth.',
  'The mayor listened, took notes, and asked for a report by the spring.',
  'Meanwhile the weather turned, and the first storms of autumn arrived.',
  'Ships waited outside the breakwater for the tide to rise again.',
  'A young engineer proposed a floating pier that could be moved in winter.',
  'Nobody had tried such a thing in that part of the coast before.',
];
const longText = (tokens) => {
  const out = [];
  for (let i = 0; out.join(' ').length < tokens * 4.2; i++) out.push(SENTENCES[i % SENTENCES.length]);
  return out.join(' ');
};
const QUESTIONS = [
  'What should the committee decide first?',
  'Why would the fleet leave the harbour?',
  'Is the floating pier a good idea?',
  'What could go wrong in winter?',
  'How would you explain this to the fishermen?',
  'What would the report need to say?',
  'Who should pay for the dredging?',
  'Summarize the discussion in one sentence.',
];

// One fixed short English prompt per client (client i uses PROMPTS[i % length]).
const PROMPTS = [
  'The old lighthouse keeper looked out at the sea and',
  'In the morning, the children ran to the market because',
  'She opened the letter slowly, and the first line said',
  'The city had been quiet for years until one day',
  'He sat by the window, watching the rain, and thought about',
  'At the edge of the forest there was a small house where',
  'The train was late again, so everyone on the platform',
  'When the music started, the whole room',
];

// ---------------------------------------------------------------------------------------------
// Child processes: started and killed by this script, also on exit, SIGINT and SIGTERM.

const children = new Set();
function killAll(signal = 'SIGKILL') {
  for (const c of children) {
    try { c.kill(signal); } catch { /* already gone */ }
  }
}
process.on('exit', () => killAll());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`${sig}: stopping the servers`);
    killAll();
    process.exit(130);
  });
}

const overall = new AbortController();
const overallTimer = setTimeout(() => {
  log(`the whole run passed --timeout ${OVERALL_TIMEOUT_MS / 1000} s; stopping`);
  overall.abort(new Error(`overall timeout (${OVERALL_TIMEOUT_MS / 1000} s)`));
  killAll();
  process.exit(1);
}, OVERALL_TIMEOUT_MS);
overallTimer.unref();

/** Spawns a server; its stdout/stderr are kept (tail) for error messages, and in a log file. */
function spawnServer(name, cmd, args) {
  const logFile = join(mkdtempSync(join(tmpdir(), `bench-serve-${name}-`)), 'server.log');
  log(`starting ${name}: ${cmd} ${args.join(' ')}  (log: ${logFile})`);
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const state = { child, logFile, tail: '', exited: null, stdoutLines: [] };
  let partial = '';
  const onData = (stream) => (d) => {
    const s = d.toString();
    state.tail = (state.tail + s).slice(-8000);
    try { writeFileSync(logFile, s, { flag: 'a' }); } catch { /* log is best effort */ }
    if (stream === 'stdout') {
      const lines = (partial + s).split('\n');
      partial = lines.pop();
      state.stdoutLines.push(...lines);
      state.onLine?.();
    }
  };
  child.stdout.on('data', onData('stdout'));
  child.stderr.on('data', onData('stderr'));
  child.on('exit', (code, signal) => {
    state.exited = { code, signal };
    children.delete(child);
    state.onLine?.();
  });
  child.on('error', (e) => {
    state.exited = { code: null, signal: null, error: e.message };
    children.delete(child);
    state.onLine?.();
  });
  return state;
}

async function stopServer(state) {
  if (state.exited) return;
  const gone = new Promise((res) => state.child.once('exit', res));
  state.child.kill('SIGTERM');
  const t = setTimeout(() => state.child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

function exitedMessage(state) {
  const e = state.exited;
  return `exited (${e.error ?? (e.code !== null ? `code ${e.code}` : `signal ${e.signal}`)}); last output:\n${state.tail.slice(-3000)}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (listen on port 0, read it back, close). */
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function startLlamaServer(modelPath) {
  let bin = values['llama-server'] ? resolve(values['llama-server']) : LLAMA_SERVER_BIN;
  if (!existsSync(bin)) {
    if (values['llama-server'] || !values['build-llama-server']) {
      throw new Error(`no llama-server at ${bin}: run \`node scripts/build-llama-server.mjs\` or pass --build-llama-server`);
    }
    bin = buildLlamaServer();
  }
  const port = await freePort();
  // -np slots share -c: with an explicit -np the KV cache is split per slot (not unified), so
  // -c is slots x (a prompt's few tokens + max_tokens + room).
  const perSlot = PER_SLOT;
  const args = [
    '-m', modelPath, '-t', String(THREADS), '--host', '127.0.0.1', '--port', String(port),
    '-np', String(MAX_C), '-c', String(perSlot * MAX_C), '--no-webui',
  ];
  const state = spawnServer('llama-server', bin, args);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (state.exited) throw new Error(`llama-server ${exitedMessage(state)}`);
    if (Date.now() > deadline) throw new Error(`llama-server was not healthy within ${STARTUP_TIMEOUT_MS / 1000} s`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) break;
    } catch { /* not listening yet */ }
    await sleep(250);
  }
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = `${v.stdout ?? ''}\n${v.stderr ?? ''}`.split('\n').filter((l) => /^version|built with/.test(l.trim())).join('; ') || null;
  return { state, url, command: [bin, ...args].join(' '), version, flavor: 'llama' };
}

async function startEmosteer(modelPath) {
  const main = values['emosteer-main'] ? resolve(values['emosteer-main']) : join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`no ${main}: run \`npm run build\` first`);
  const args = [
    main, 'serve', '--model', modelPath, '--port', '0', '--host', '127.0.0.1',
    '--parallel', String(MAX_C), '--threads', String(THREADS), '--ctx-per-request', String(PER_SLOT),
    ...(values.vectors ? ['--vectors', resolve(values.vectors)] : []),
    ...values['emosteer-flags'].split(' ').filter(Boolean),
  ];
  const state = spawnServer('emosteer', process.execPath, args);
  const url = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`emosteer serve did not print its address within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
    state.onLine = () => {
      for (const line of state.stdoutLines) {
        const m = /emosteer serve listening on (http:\/\/[^\s/]+:(\d+))/.exec(line);
        if (m) { clearTimeout(timer); state.onLine = null; res(`http://127.0.0.1:${m[2]}`); return; }
      }
      if (state.exited) { clearTimeout(timer); state.onLine = null; rej(new Error(`emosteer serve ${exitedMessage(state)}`)); }
    };
    state.onLine();
  });
  return { state, url, command: [process.execPath, ...args].join(' '), version: null, flavor: 'emosteer' };
}

// ---------------------------------------------------------------------------------------------
// The client: one streaming POST /v1/completions, timed chunk by chunk.

function requestBody(server, client, steering) {
  const body = {
    model: 'bench',
    prompt: PROMPTS[client % PROMPTS.length],
    max_tokens: MAX_TOKENS,
    temperature: 0,
    seed: 1234 + client,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  };
  // No prompt is reused in the throughput phases, on either server (emosteer takes llama-server's field).
  Object.assign(body, { cache_prompt: false });
  if (server.flavor === 'llama') Object.assign(body, { n_predict: MAX_TOKENS });
  if (steering) body.steering = steering;
  return body;
}

/**
 * Sends one streaming completion; resolves to { tokens, chunks, ttftMs, itlMs[], usage, endMs }.
 * A content chunk is an event whose choices[0].text is not empty; `[DONE]` or the end of the
 * body ends the stream. Throws on an HTTP error, an `error` event, or the timeout.
 */
async function streamCompletion(server, body, timeoutMs = REQUEST_TIMEOUT_MS, path = '/v1/completions') {
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), overall.signal]);
  try {
    return await streamOnce(server, body, signal, path);
  } catch (e) {
    const why = signal.aborted && e.name === 'TimeoutError' ? `no complete stream within --request-timeout ${timeoutMs / 1000} s` : e.message;
    const what = body.prompt ?? body.messages?.at(-1)?.content ?? '';
    throw new Error(`${server.flavor === 'llama' ? 'llama-server' : 'emosteer'} POST ${path} (${JSON.stringify(what.slice(0, 24))}…): ${why}`);
  }
}

async function streamOnce(server, body, signal, path) {
  const t0 = performance.now();
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    throw new Error(`POST ${path}: HTTP ${res.status} ${text.slice(0, 500)}`);
  }
  const times = [];
  let text = '';
  let timings = null;
  let usage = null;
  let finishReason = null;
  let buf = '';
  let done = false;
  const decoder = new TextDecoder();
  const onEvent = (raw) => {
    const data = raw.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (data === '') return; // a comment (": ping") or an event without data
    if (data === '[DONE]') { done = true; return; }
    let ev;
    try { ev = JSON.parse(data); } catch { throw new Error(`a stream event that is not JSON: ${data.slice(0, 200)}`); }
    if (ev.error) throw new Error(`stream error: ${JSON.stringify(ev.error).slice(0, 500)}`);
    const choice = ev.choices?.[0];
    const piece = typeof choice?.text === 'string' ? choice.text : typeof choice?.delta?.content === 'string' ? choice.delta.content : '';
    if (piece.length > 0) { times.push(performance.now()); text += piece; }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (ev.usage) usage = ev.usage;
    if (ev.timings) timings = ev.timings; // llama-server's
  };
  const reader = res.body.getReader();
  try {
    while (!done) {
      const { value, done: eof } = await reader.read();
      if (eof) break;
      buf += decoder.decode(value, { stream: true });
      let m;
      while (!done && (m = /\r?\n\r?\n/.exec(buf))) {
        onEvent(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
      }
    }
    if (!done && buf.trim()) onEvent(buf);
  } finally {
    reader.cancel().catch(() => {});
  }
  const endMs = performance.now();
  const chunks = times.length;
  if (chunks === 0) throw new Error('the stream ended without any content');
  const tokens = Number.isFinite(usage?.completion_tokens) ? usage.completion_tokens : chunks;
  const itlMs = [];
  for (let k = 1; k < times.length; k++) itlMs.push(times[k] - times[k - 1]);
  return { tokens, chunks, ttftMs: times[0] - t0, itlMs, usage, finishReason, startMs: t0, endMs, text, times, timings };
}

function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Summary of one phase run: its requests, and the wall time from the first send to the last end. */
function summarize(results, wallMs) {
  const tokens = results.reduce((a, r) => a + r.tokens, 0);
  const ttft = results.map((r) => r.ttftMs);
  const itl = results.flatMap((r) => r.itlMs);
  return {
    requests: results.length,
    tokens,
    wallS: wallMs / 1000,
    tokensPerS: tokens / (wallMs / 1000),
    ttftP50Ms: percentile(ttft, 0.5),
    ttftP95Ms: percentile(ttft, 0.95),
    itlP50Ms: percentile(itl, 0.5),
    itlP95Ms: percentile(itl, 0.95),
    short: results.filter((r) => r.tokens < MAX_TOKENS).length,
    chunksPerRequest: median(results.map((r) => r.chunks)),
    usageReported: results.every((r) => r.usage),
  };
}

async function concurrentPhase(server, c, steerings) {
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: c }, (_, i) => streamCompletion(server, requestBody(server, i, steerings?.[i]))));
  return summarize(results, performance.now() - t0);
}

async function serialPhase(server, n, steerings) {
  const t0 = performance.now();
  const results = [];
  for (let i = 0; i < n; i++) results.push(await streamCompletion(server, requestBody(server, i, steerings?.[i])));
  return summarize(results, performance.now() - t0);
}

/**
 * The chat phase: a --turns-turn conversation, each turn streamed; per turn its TTFT and the
 * prompt tokens served from the cache.
 */
async function chatPhase(server) {
  const messages = [{ role: 'system', content: `You are the harbour committee's assistant. The minutes so far: ${longText(400)}` }];
  const turns = [];
  for (let t = 0; t < TURNS; t++) {
    messages.push({ role: 'user', content: QUESTIONS[t % QUESTIONS.length] });
    const body = { model: 'bench', messages, max_tokens: CHAT_TOKENS, temperature: 0, seed: 7, stream: true, stream_options: { include_usage: true }, ignore_eos: true };
    if (server.flavor === 'llama') Object.assign(body, { n_predict: CHAT_TOKENS, cache_prompt: true });
    const r = await streamCompletion(server, body, REQUEST_TIMEOUT_MS, '/v1/chat/completions');
    const cached = r.usage?.prompt_tokens_details?.cached_tokens ?? r.timings?.cache_n ?? null;
    turns.push({ turn: t + 1, ttftMs: r.ttftMs, promptTokens: r.usage?.prompt_tokens ?? r.timings?.prompt_n ?? null, cachedTokens: cached });
    messages.push({ role: 'assistant', content: r.text });
  }
  return turns;
}

/**
 * The long-prompt phase: 2 clients loop over short completions while one long prompt arrives;
 * the short requests sent before the long one's first token are the ones it could delay.
 */
async function longPhase(server) {
  const noCache = { cache_prompt: false }; // both servers take llama-server's field
  const shortBody = (i, k, tokens) => ({ ...requestBody(server, i + k * 2), max_tokens: tokens, ...(server.flavor === 'llama' ? { n_predict: tokens } : {}), ...noCache });
  let longFirst = Infinity;
  let longSent = Infinity;
  let stop = false;
  const shorts = [];
  const loop = async (i) => {
    for (let k = 0; !stop; k++) shorts.push(await streamCompletion(server, shortBody(i, k, 16)));
  };
  const loops = [loop(0), loop(1)];
  await sleep(1500); // the short clients are running
  longSent = performance.now();
  const longBody = { model: 'bench', prompt: longText(LONG_TOKENS), max_tokens: 8, temperature: 0, seed: 3, stream: true, stream_options: { include_usage: true }, ignore_eos: true, ...noCache };
  if (server.flavor === 'llama') longBody.n_predict = 8;
  const longDone = streamCompletion(server, longBody);
  // Open-loop arrivals: a new short request (4 tokens) every LONG_PACE_MS while the long prompt
  // is served, sent whether or not the earlier ones have finished.
  const paced = [];
  let longEnded = false;
  longDone.finally(() => { longEnded = true; }).catch(() => {});
  for (let k = 0; !longEnded && k < 200; k++) {
    paced.push(streamCompletion(server, shortBody(2, k, 4)));
    await Promise.race([sleep(LONG_PACE_MS), longDone.catch(() => {})]);
  }
  const long = await longDone;
  longFirst = long.times[0];
  await sleep(500);
  stop = true;
  await Promise.all(loops);
  const arrivals = (await Promise.all(paced)).filter((r) => r.startMs < longFirst);
  // The longest gap between two tokens of a stream that was running when the long one arrived.
  let stall = 0;
  for (const r of shorts) {
    for (let k = 1; k < r.times.length; k++) {
      if (r.times[k] > longSent && r.times[k - 1] < longFirst) stall = Math.max(stall, r.times[k] - r.times[k - 1]);
    }
  }
  return {
    longPromptTokens: long.usage?.prompt_tokens ?? long.timings?.prompt_n ?? null,
    longTtftMs: long.ttftMs,
    shortInWindow: arrivals.length,
    shortTtftP50Ms: percentile(arrivals.map((r) => r.ttftMs), 0.5),
    shortTtftP95Ms: percentile(arrivals.map((r) => r.ttftMs), 0.95),
    maxShortGapMs: stall,
  };
}

/** The emotions `GET /v1/steering` offers: those of its first set that has any. */
async function steeringEmotions(server) {
  const r = await fetch(`${server.url}/v1/steering`, { signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`GET /v1/steering: HTTP ${r.status}`);
  const body = await r.json();
  const set = (body.sets ?? []).find((s) => Array.isArray(s.emotions) && s.emotions.length > 0);
  return set ? { set: set.name, emotions: set.emotions } : null;
}

// ---------------------------------------------------------------------------------------------

const MEDIAN_KEYS = ['tokensPerS', 'ttftP50Ms', 'ttftP95Ms', 'itlP50Ms', 'itlP95Ms', 'wallS', 'chunksPerRequest'];
function medianOf(reps) {
  const out = Object.fromEntries(MEDIAN_KEYS.map((k) => [k, median(reps.map((r) => r[k]))]));
  out.short = reps.reduce((a, r) => a + r.short, 0);
  out.requests = reps.reduce((a, r) => a + r.requests, 0);
  out.usageReported = reps.every((r) => r.usageReported);
  return out;
}

/** Starts one server, warms it up and finds its steering emotions: the state that reps add to. */
async function openServer(name, start, modelPath) {
  const server = await start(modelPath);
  const bench = { name, server, entry: { server: name, url: server.url, command: server.command, version: server.version, phases: [] }, steer: null, runs: new Map(), chats: [], longs: [] };
  try {
    log(`${name} is up at ${server.url}; warm-up`);
    await streamCompletion(server, { ...requestBody(server, 0), max_tokens: 8, ...(server.flavor === 'llama' ? { n_predict: 8 } : {}) });
    if (name === 'emosteer') {
      try {
        bench.steer = await steeringEmotions(server);
        if (!bench.steer) log('GET /v1/steering offers no emotions: no steered phases');
      } catch (e) {
        log(`no steered phases: ${e.message}`);
      }
      if (bench.steer) bench.entry.steering = { set: bench.steer.set, strength: STRENGTH, emotions: bench.steer.emotions.slice(0, MAX_C) };
    }
  } catch (e) {
    await stopServer(server.state);
    throw e;
  }
  return bench;
}

/** One rep of every selected phase on one server. */
async function runRep(bench, rep) {
  const { name, server, steer } = bench;
  const steeringsFor = (n) => Array.from({ length: n }, (_, i) => [{ emotion: steer.emotions[i % steer.emotions.length], strength: STRENGTH }]);
  const add = (phase, clients, r) => {
    const key = `${phase}/${clients}`;
    if (!bench.runs.has(key)) bench.runs.set(key, { phase, clients, reps: [] });
    bench.runs.get(key).reps.push(r);
    log(`${name} ${phase} C=${clients}: ${r.tokensPerS.toFixed(1)} tokens/s, TTFT p50 ${r.ttftP50Ms.toFixed(0)} ms, ITL p50 ${r.itlP50Ms.toFixed(1)} ms${r.short ? `, ${r.short} short` : ''}`);
  };
  log(`${name}: rep ${rep + 1}/${REPS}`);
  if (PHASES.has('chat')) {
    const turns = await chatPhase(server);
    log(`${name} chat: TTFT per turn ${turns.map((t) => `${t.ttftMs.toFixed(0)} ms (${t.cachedTokens ?? '?'}/${t.promptTokens ?? '?'} cached)`).join(', ')}`);
    bench.chats.push(turns);
  }
  if (PHASES.has('long')) {
    const l = await longPhase(server);
    log(`${name} long prompt (${l.longPromptTokens} tokens): TTFT ${l.longTtftMs.toFixed(0)} ms; ${l.shortInWindow} short requests meanwhile, TTFT p50 ${f(l.shortTtftP50Ms, 0)} p95 ${f(l.shortTtftP95Ms, 0)} ms, longest gap ${l.maxShortGapMs.toFixed(0)} ms`);
    bench.longs.push(l);
  }
  if (!PHASES.has('throughput')) return;
  for (const c of CLIENTS) add('unsteered', c, await concurrentPhase(server, c));
  if (steer) {
    for (const c of CLIENTS) add('steered', c, await concurrentPhase(server, c, steeringsFor(c)));
    add('serial-steered', MAX_C, await serialPhase(server, MAX_C, steeringsFor(MAX_C)));
  }
}

/** Stops the server and turns its reps into the entry of the result (medians over reps). */
async function closeServer(bench) {
  await stopServer(bench.server.state);
  log(`${bench.name} stopped`);
  const { entry, runs, chats, longs } = bench;
  entry.phases = [...runs.values()].map((r) => ({ ...r, median: medianOf(r.reps) }));
  if (chats.length) {
    entry.chat = Array.from({ length: TURNS }, (_, t) => ({
      turn: t + 1,
      ttftMs: median(chats.map((c) => c[t].ttftMs)),
      promptTokens: chats[0][t].promptTokens,
      cachedTokens: chats[0][t].cachedTokens,
    }));
  }
  if (longs.length) {
    entry.long = Object.fromEntries(['longPromptTokens', 'longTtftMs', 'shortInWindow', 'shortTtftP50Ms', 'shortTtftP95Ms', 'maxShortGapMs'].map((k) => [k, median(longs.map((l) => l[k]))]));
  }
  return entry;
}

function ratios(servers) {
  const tps = (server, phase, c) => servers.find((s) => s.server === server)?.phases.find((p) => p.phase === phase && p.clients === c)?.median.tokensPerS;
  const out = [];
  for (const c of CLIENTS) {
    const a = tps('emosteer', 'unsteered', c);
    const b = tps('llama', 'unsteered', c);
    if (a !== undefined && b !== undefined) {
      // rep k of one server against rep k of the other: paired when the reps alternated
      const ra = servers.find((s) => s.server === 'emosteer').phases.find((p) => p.phase === 'unsteered' && p.clients === c).reps;
      const rb = servers.find((s) => s.server === 'llama').phases.find((p) => p.phase === 'unsteered' && p.clients === c).reps;
      const perRep = ra.slice(0, rb.length).map((r, k) => r.tokensPerS / rb[k].tokensPerS);
      out.push({ name: `emosteer / llama-server unsteered tokens/s, C=${c}`, value: a / b, target: null, perRep });
    }
  }
  const st = tps('emosteer', 'steered', MAX_C);
  const un = tps('emosteer', 'unsteered', MAX_C);
  const se = tps('emosteer', 'serial-steered', MAX_C);
  if (st !== undefined && un !== undefined) out.push({ name: `steered${MAX_C} / unsteered${MAX_C} tokens/s (emosteer)`, value: st / un, target: TARGETS.steeredOverUnsteered });
  if (st !== undefined && se !== undefined) out.push({ name: `steered${MAX_C} / serial-steered tokens/s (emosteer)`, value: st / se, target: TARGETS.steeredOverSerial });
  return out.map((r) => ({ ...r, met: r.target === null ? null : r.value >= r.target }));
}

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

function markdown(result) {
  const m = result.meta;
  const lines = [
    `## bench:serve — ${m.model.split('/').pop()}, ${m.threads} threads, max_tokens ${m.maxTokens}, ${m.reps} rep(s), medians`,
    '',
    `CPU: ${m.cpu} (${m.cores} cores); load average at start ${m.load.start.join(' ')}, at end ${m.load.end.join(' ')}`,
    '',
    '| server | phase | clients | tokens/s | TTFT p50 ms | TTFT p95 ms | ITL p50 ms | ITL p95 ms | short requests |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of result.servers) {
    for (const p of s.phases) {
      const r = p.median;
      lines.push(`| ${s.server === 'llama' ? 'llama-server' : s.server} | ${p.phase} | ${p.clients} | ${f(r.tokensPerS)} | ${f(r.ttftP50Ms, 0)} | ${f(r.ttftP95Ms, 0)} | ${f(r.itlP50Ms)} | ${f(r.itlP95Ms)} | ${r.short}/${r.requests} |`);
    }
  }
  const label = (s) => (s.server === 'llama' ? 'llama-server' : s.server);
  const chats = result.servers.filter((s) => s.chat);
  if (chats.length) {
    lines.push('', `Chat, ${result.meta.turns} turns (TTFT ms; prompt tokens cached / prompt tokens):`, '', `| server | ${chats[0].chat.map((t) => `turn ${t.turn}`).join(' | ')} |`, `| --- |${chats[0].chat.map(() => ' ---: |').join('')}`);
    for (const s of chats) lines.push(`| ${label(s)} | ${s.chat.map((t) => `${f(t.ttftMs, 0)} (${t.cachedTokens ?? '?'}/${t.promptTokens ?? '?'})`).join(' | ')} |`);
  }
  const longs = result.servers.filter((s) => s.long);
  if (longs.length) {
    lines.push('', 'Short requests while a long prompt arrives (ms):', '', '| server | long prompt tokens | long TTFT | short requests meanwhile | short TTFT p50 | short TTFT p95 | longest gap in a short stream |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of longs) lines.push(`| ${label(s)} | ${s.long.longPromptTokens ?? '?'} | ${f(s.long.longTtftMs, 0)} | ${s.long.shortInWindow} | ${f(s.long.shortTtftP50Ms, 0)} | ${f(s.long.shortTtftP95Ms, 0)} | ${f(s.long.maxShortGapMs, 0)} |`);
  }
  for (const e of result.errors) lines.push('', `**${e.server} failed:** ${e.error.split('\n')[0]}`);
  if (result.ratios.length) {
    lines.push('', '| ratio | value | target | |', '| --- | ---: | ---: | --- |');
    for (const r of result.ratios) lines.push(`| ${r.name} | ${f(r.value, 2)}${r.perRep ? ` (per rep ${r.perRep.map((x) => f(x, 2)).join(', ')})` : ''} | ${r.target === null ? '—' : `>= ${r.target}`} | ${r.met === null ? '' : r.met ? 'met' : 'missed'} |`);
  }
  const steered = result.servers.find((s) => s.steering);
  if (steered) lines.push('', `Steering: set ${steered.steering.set}, strength ${steered.steering.strength}, emotions ${steered.steering.emotions.join(', ')}`);
  lines.push('', '"short requests": requests that produced fewer than max_tokens tokens, of all requests of all reps.');
  return lines.join('\n');
}

async function main() {
  const modelPath = resolve(resolveModel(values.model));
  if (!existsSync(modelPath)) throw new Error(`no model at ${modelPath}`);
  const meta = {
    model: modelPath,
    threads: THREADS,
    maxTokens: MAX_TOKENS,
    clients: CLIENTS,
    phases: [...PHASES],
    turns: TURNS,
    reps: REPS,
    strength: STRENGTH,
    vectors: values.vectors ? resolve(values.vectors) : null,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    load: { start: loadavg().map((x) => +x.toFixed(2)) },
    date: new Date().toISOString(),
  };
  const servers = [];
  const errors = [];
  const starters = { llama: startLlamaServer, emosteer: startEmosteer };
  const fail = (name, e) => { log(`${name} failed: ${e.message}`); errors.push({ server: name, error: e.message }); };
  if (!values.interleave || SERVERS.length < 2) {
    // each server alone: started, every rep, stopped, then the next
    for (const name of SERVERS) {
      let bench = null;
      try {
        bench = await openServer(name, starters[name], modelPath);
        for (let rep = 0; rep < REPS; rep++) await runRep(bench, rep);
      } catch (e) {
        fail(name, e);
      } finally {
        if (bench) { const entry = await closeServer(bench); if (!errors.some((x) => x.server === name)) servers.push(entry); }
      }
    }
  } else {
    // both servers up (the idle one waits on its socket), reps alternating between them in an
    // order that flips every rep (A B, B A, ...), so that the machine's drift falls on both
    const benches = [];
    for (const name of SERVERS) {
      try { benches.push(await openServer(name, starters[name], modelPath)); } catch (e) { fail(name, e); }
    }
    try {
      for (let rep = 0; rep < REPS; rep++) {
        for (const bench of rep % 2 === 0 ? benches : [...benches].reverse()) {
          if (errors.some((x) => x.server === bench.name)) continue;
          try { await runRep(bench, rep); } catch (e) { fail(bench.name, e); }
        }
      }
    } finally {
      for (const bench of benches) {
        const entry = await closeServer(bench);
        if (!errors.some((x) => x.server === bench.name)) servers.push(entry);
      }
    }
  }
  meta.load.end = loadavg().map((x) => +x.toFixed(2));
  const result = { meta, servers, errors, ratios: ratios(servers) };
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(values.json ? JSON.stringify(result, null, 2) : markdown(result));
  return errors.length === 0 ? 0 : 1;
}

main().then((code) => {
  clearTimeout(overallTimer);
  process.exitCode = code;
}, (e) => {
  log(e.stack ?? e.message);
  killAll();
  process.exit(1);
});
