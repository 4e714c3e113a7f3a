#!/usr/bin/env node
// What running a model's layers on llama.cpp's rpc-server costs, on loopback, against the same
// model in-process: prompt processing (pp) and token generation (tg) in tok/s, plain, with a
// capture of every block and with per-sequence steering, plus the bytes that cross the socket
// per token (from the kernel's TCP counters, `ss -ti`). It also checks on the real model what
// test/models/rpc.test.ts checks on a synthetic one: captures, context-wide and per-sequence steering
// and greedy tokens equal the local run. Prints a JSON object as its last line.
//
//   node bench/rpc-loopback.mjs [--model m.gguf] [--threads 2] [--pp 128] [--tg 48] [--reps 3]
// Needs the RPC backend in the addon (prebuild, or EMOSTEER_RPC=1) and `npm run build:rpc-server`.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadModel, versions } from '../dist/index.js';
import { startRpcServer } from '../scripts/rpc-server-process.mjs';
import { median, resolveModel, resolveThreads } from './parts/util.mjs';

const { values: o } = parseArgs({
  options: {
    model: { type: 'string' }, threads: { type: 'string' },
    pp: { type: 'string', default: '128' }, tg: { type: 'string', default: '48' }, reps: { type: 'string', default: '3' },
  },
});
const threads = resolveThreads(o.threads);
const pp = Number(o.pp);
const tg = Number(o.tg);
const reps = Number(o.reps);
if (!versions().rpc) throw new Error('this addon has no RPC backend (npm run prebuild, or EMOSTEER_RPC=1 npm run build:native)');
const path = resolveModel(o.model);

/** bytes the server's socket sent and received so far (server side of the loopback connection). */
function socketBytes(port) {
  const out = execFileSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const num = (re) => Number(re.exec(out)?.[1] ?? NaN);
  return { sent: num(/bytes_sent:(\d+)/), received: num(/bytes_received:(\d+)/) };
}

const maxRel = (a, b) => {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(a[i])); }
  return s === 0 ? m : m / s;
};

const server = await startRpcServer({ threads });
try {
  const local = await loadModel(path);
  const before = socketBytes(server.port);
  const t0 = Date.now();
  const remote = await loadModel(path, { rpcServers: [server.endpoint] });
  const loadSeconds = (Date.now() - t0) / 1000;
  const afterLoad = socketBytes(server.port);
  const nLayer = local.nLayer;
  const mid = Math.floor(nLayer / 2);
  const words = 'the keeper of the lighthouse watched the sea rise and the ships come home at night'.split(' ');
  const prompt = Array.from({ length: pp * 2 }, (_, i) => words[i % words.length]).join(' ');
  const tokens = local.tokenize(prompt).slice(0, pp);
  const vector = new Float32Array(local.nEmbd).map((_, i) => Math.sin(i * 0.37) * 0.5);
  const steering = { vectors: new Map([[mid, vector]]), scale: 4 };

  const ctxs = {
    local: await local.createContext({ contextSize: 1024, threads }),
    remote: await remote.createContext({ contextSize: 1024, threads }),
  };

  // Exactness on the real model, against the local run as users get it (repacked weights: other
  // CPU kernels than the server's, which never repacks) and against a local run with repack off.
  const plainLocal = await loadModel(path, { repack: false });
  const plainCtx = await plainLocal.createContext({ contextSize: 1024, threads });
  async function compare(ctxA, ctxB) {
    const a = await ctxA.evaluate(tokens, { capture: { pooling: 'all' }, logits: true });
    const b = await ctxB.evaluate(tokens, { capture: { pooling: 'all' }, logits: true });
    let captureErr = 0;
    for (let l = 0; l < nLayer; l++) captureErr = Math.max(captureErr, maxRel(a.activations.get(l), b.activations.get(l)));
    const sa = await ctxA.evaluate(tokens, { logits: true, steering });
    const sb = await ctxB.evaluate(tokens, { logits: true, steering });
    await ctxA.setSteering(new Map([[mid, vector]]), { scale: 4 });
    await ctxB.setSteering(new Map([[mid, vector]]), { scale: 4 });
    const wa = await ctxA.evaluate(tokens, { logits: true });
    const wb = await ctxB.evaluate(tokens, { logits: true });
    await ctxA.clearSteering();
    await ctxB.clearSteering();
    const ga = await ctxA.generateText('Once upon a time', { maxTokens: 32, temperature: 0 });
    const gb = await ctxB.generateText('Once upon a time', { maxTokens: 32, temperature: 0 });
    const gsa = await ctxA.generateText('Once upon a time', { maxTokens: 32, temperature: 0, steering });
    const gsb = await ctxB.generateText('Once upon a time', { maxTokens: 32, temperature: 0, steering });
    const firstDiff = (x, y) => { const i = x.findIndex((t, k) => t !== y[k]); return i < 0 ? null : i; };
    return {
      logitsRelErr: maxRel(a.logits, b.logits),
      captureRelErrAllBlocks: captureErr,
      perSequenceSteeringLogitsRelErr: maxRel(sa.logits, sb.logits),
      contextWideSteeringLogitsRelErr: maxRel(wa.logits, wb.logits),
      greedyTokensEqual: firstDiff(ga.tokens, gb.tokens) === null,
      greedyFirstDifference: firstDiff(ga.tokens, gb.tokens),
      steeredGreedyTokensEqual: firstDiff(gsa.tokens, gsb.tokens) === null,
      greedyTokens: ga.tokens.length,
    };
  }
  const exact = {
    againstLocalRepacked: await compare(ctxs.local, ctxs.remote),
    againstLocalNoRepack: await compare(plainCtx, ctxs.remote),
  };
  console.error(`[rpc] exactness: ${JSON.stringify(exact)}`);
  await plainCtx.dispose();
  plainLocal.dispose();

  async function ppRate(ctx, opts) {
    const times = [];
    for (let r = 0; r < reps; r++) {
      const t = process.hrtime.bigint();
      // with the last token's logits, as before a generation: without any output, llama.cpp
      // returns as soon as the graph is queued to the rpc-server, and the time measures nothing
      await ctx.evaluate(tokens, { ...opts, logits: true });
      times.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    return tokens.length / median(times);
  }
  async function tgRate(ctx, opts) {
    const rates = [];
    for (let r = 0; r < reps; r++) {
      let first = 0n, last = 0n, n = 0;
      for await (const _ of ctx.generate('Once upon a time', { maxTokens: tg, temperature: 0, ...opts })) {
        last = process.hrtime.bigint();
        if (n++ === 0) first = last;
      }
      rates.push((n - 1) / (Number(last - first) / 1e9));
    }
    return median(rates);
  }
  const modes = {
    plain: {},
    'capture every block': { capture: { pooling: 'all' } },
    'per-sequence steering': { steering },
  };
  const speed = {};
  for (const [mode, opts] of Object.entries(modes)) {
    const row = {};
    for (const side of ['local', 'remote']) {
      const s0 = socketBytes(server.port);
      const ppr = await ppRate(ctxs[side], opts);
      const s1 = socketBytes(server.port);
      const tgOpts = mode === 'capture every block' ? { capture: { layers: 'all' } } : opts;
      const tgr = await tgRate(ctxs[side], tgOpts);
      const s2 = socketBytes(server.port);
      row[side] = { pp: ppr, tg: tgr };
      if (side === 'remote') {
        row.remote.ppBytesPerToken = (s1.sent + s1.received - s0.sent - s0.received) / (reps * tokens.length);
        row.remote.tgBytesPerToken = (s2.sent + s2.received - s1.sent - s1.received) / (reps * tg);
      }
    }
    row.ppRatio = row.remote.pp / row.local.pp;
    row.tgRatio = row.remote.tg / row.local.tg;
    speed[mode] = row;
    console.error(`[rpc] ${mode}: pp local ${row.local.pp.toFixed(1)} remote ${row.remote.pp.toFixed(1)} (x${row.ppRatio.toFixed(2)}), ` +
      `tg local ${row.local.tg.toFixed(1)} remote ${row.remote.tg.toFixed(1)} (x${row.tgRatio.toFixed(2)}), ` +
      `bytes/token pp ${row.remote.ppBytesPerToken.toFixed(0)} tg ${row.remote.tgBytesPerToken.toFixed(0)}`);
  }
  await ctxs.local.dispose();
  await ctxs.remote.dispose();
  remote.dispose();
  local.dispose();
  const result = {
    model: path, description: local.info.description, nLayer, nEmbd: local.nEmbd, threads, pp: tokens.length, tg, reps,
    binary: versions().build, remoteLoadSeconds: loadSeconds,
    loadBytes: (afterLoad.sent + afterLoad.received) - ((before.sent || 0) + (before.received || 0)),
    exact, speed,
  };
  console.log(JSON.stringify(result));
} finally {
  await server.stop();
}
