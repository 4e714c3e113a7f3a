#!/usr/bin/env node
// `node bench/serve-main-thread.mjs [--model <gguf|name>] [--requests 6] [--tokens 128]
//   [--threads 2] [--parallel 8] [--json <out.json>]`: how much JavaScript main-thread time
// `emosteer serve` spends per streamed token, the part of a token's cost that llama-server
// spends in C++ on its HTTP thread.
//
// Starts `emosteer serve` (dist/) under `node --cpu-prof` on 127.0.0.1 (port 0), sends one
// warm-up request, then --requests streaming POST /v1/completions of --tokens tokens one after
// another (temperature 0, ignore_eos, no prompt cache), stops the server (SIGINT writes the
// profile) and reads the profile: the main thread's non-idle time between the first measured
// request and the end of the last one (the profiler's clock is the same monotonic clock as
// process.hrtime here, Linux), per generated token, and the functions with the most self time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'smollm2-135m-instruct' },
    requests: { type: 'string', default: '6' },
    tokens: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    parallel: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const [REQUESTS, TOKENS, threads, parallel] = ['requests', 'tokens', 'threads', 'parallel'].map((k) => {
  const v = Number(values[k]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
  return v;
});
const modelPath = await resolveModel(values.model);
const dir = mkdtempSync(join(tmpdir(), 'emosteer-cpuprof-'));
const main = new URL('../dist/cli/main.js', import.meta.url).pathname;
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, main, 'serve', '--model', modelPath, '--port', '0',
  '--host', '127.0.0.1', '--parallel', String(parallel), '--threads', String(threads), '--ctx-per-request', String(Math.max(512, TOKENS + 64))],
{ stdio: ['ignore', 'pipe', 'inherit'] });
const killTimer = setTimeout(() => child.kill('SIGKILL'), 600_000);
const url = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (d) => { out += d; const m = /listening on (\S+)/.exec(out); if (m) resolve(m[1]); });
  child.on('exit', (code) => reject(new Error(`emosteer serve exited with ${code} before listening`)));
});

/** One streamed completion; resolves to the number of content chunks. */
async function complete(maxTokens, prompt) {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt, max_tokens: maxTokens, temperature: 0, stream: true, ignore_eos: true, cache_prompt: false }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let chunks = 0;
  let buf = '';
  const dec = new TextDecoder();
  for await (const part of res.body) {
    buf += dec.decode(part, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (ev.startsWith('data: {') && JSON.parse(ev.slice(6)).choices?.[0]?.text) chunks++;
    }
  }
  return chunks;
}

await complete(8, 'Warm up');
const t0 = process.hrtime.bigint();
let tokens = 0;
for (let i = 0; i < REQUESTS; i++) tokens += await complete(TOKENS, `Request ${i}: the old lighthouse keeper looked out at the sea and`);
const t1 = process.hrtime.bigint();
const exited = new Promise((resolve) => child.on('exit', resolve));
child.kill('SIGINT');
await exited;
clearTimeout(killTimer);

const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('the server wrote no CPU profile');
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
rmSync(dir, { recursive: true, force: true });
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const [from, to] = [Number(t0 / 1000n), Number(t1 / 1000n)];
let t = prof.startTime;
let busyUs = 0;
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  const dt = prof.timeDeltas[i + 1] ?? 0; // a sample stands for the interval up to the next one
  if (t < from || t > to) continue;
  const f = nodes.get(prof.samples[i]).callFrame;
  if (f.functionName === '(idle)') continue;
  busyUs += dt;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
}
const seconds = (to - from) / 1e6;
const result = {
  bench: 'serve-main-thread',
  command: `node bench/serve-main-thread.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  modelPath, threads, parallel, requests: REQUESTS, tokens, seconds,
  tokensPerSecond: tokens / seconds,
  mainThreadBusyMs: busyUs / 1000,
  mainThreadMsPerToken: busyUs / 1000 / tokens,
  top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([fn, us]) => ({ fn, msPerToken: us / 1000 / tokens })),
};
console.log(`${tokens} tokens in ${seconds.toFixed(1)} s (${result.tokensPerSecond.toFixed(1)} tok/s, one client): main thread busy ${result.mainThreadBusyMs.toFixed(0)} ms, ${result.mainThreadMsPerToken.toFixed(3)} ms per token`);
for (const { fn, msPerToken } of result.top) console.log(`  ${msPerToken.toFixed(3)} ms/token  ${fn}`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
