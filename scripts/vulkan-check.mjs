#!/usr/bin/env node
// A real model on the Vulkan device path: `emosteer doctor`'s checks with every layer offloaded
// through the Vulkan addon, greedy tokens (steered and not) against the CPU backend of the same
// binary, and what the device costs (prompt and generation speed on both). Without a GPU the
// device is Mesa's lavapipe, which runs Vulkan on the CPU: it tests the device code path, not
// speed (about two orders of magnitude slower than the CPU backend).
//
//   node scripts/vulkan-check.mjs [--model file.gguf] [--tokens 16] [--json]
//
// The model defaults to $EMOSTEER_GEMMA, else Gemma 3 270M from the registry (npm run model:gemma).
// Needs the Vulkan addon (npm run prebuild -- --gpu vulkan) and dist/ (npm run build:ts; or
// EMOSTEER_DIST=<folder>). Exit code 0 when every check passes.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

process.env.GGML_VK_VISIBLE_DEVICES ??= '0'; // ggml lists CPU Vulkan drivers (lavapipe) only with it
const { values } = parseArgs({ options: { model: { type: 'string' }, tokens: { type: 'string', default: '16' }, json: { type: 'boolean' } } });
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dist = resolve(root, process.env.EMOSTEER_DIST ?? 'dist');
const { loadModel, versions } = await import(pathToFileURL(resolve(dist, 'index.js')).href);
const { runDoctor } = await import(pathToFileURL(resolve(dist, 'runtime', 'doctor.js')).href);

const model = values.model ?? process.env.EMOSTEER_GEMMA
  ?? execFileSync(process.execPath, [resolve(root, 'scripts', 'fetch-model.mjs'), 'gemma-3-270m-it'], { encoding: 'utf8' }).trim().split('\n').pop();
const nTokens = Number(values.tokens);
const out = { model, checks: [], timings: {} };
const log = (m) => { if (!values.json) console.log(m); };
const check = (id, ok, detail) => { out.checks.push({ id, ok, detail }); log(`${ok ? 'pass' : 'FAIL'}  ${id}: ${detail}`); };

const t0 = performance.now();
const gpu = await loadModel(model, { gpu: 'vulkan', gpuLayers: 'max' });
const cpu = await loadModel(model, { gpu: 'cpu' });
const v = versions();
out.selection = { backend: v.selection.backend, reason: v.selection.reason, binary: v.binaryPath };
log(`backend: ${v.selection.backend} — ${v.selection.reason}`);
log(`loaded twice in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const doctor = await runDoctor(gpu);
for (const c of doctor.checks) check(`doctor ${c.id}`, c.status !== 'fail', c.detail);

const prompt = { messages: [{ role: 'user', content: 'Write one sentence about the sea.' }] };
const L = Math.max(1, Math.floor(gpu.nLayer / 2));
const steerVec = new Float32Array(gpu.nEmbd).map((_, i) => Math.sin(i * 0.37) * 4);
const steering = { vectors: new Map([[L, steerVec]]), layers: [L, L] };
const gctx = await gpu.createContext({ contextSize: 512, threads: 2 });
const cctx = await cpu.createContext({ contextSize: 512, threads: 2 });

async function timed(ctx, label) {
  const a = performance.now();
  const ev = await ctx.evaluate(prompt, { logits: true });
  const b = performance.now();
  const g = await ctx.generateText(prompt, { maxTokens: nTokens, temperature: 0, stopOnEog: false });
  const c = performance.now();
  out.timings[label] = { promptTokens: ev.tokens.length, promptSeconds: (b - a) / 1000, promptTokPerS: ev.tokens.length / ((b - a) / 1000), generateSeconds: (c - b) / 1000 };
  return g;
}
const gg = await timed(gctx, 'vulkan');
const cg = await timed(cctx, 'cpu');
const gt = out.timings.vulkan;
const ct = out.timings.cpu;
log(`prompt of ${gt.promptTokens} tokens: Vulkan ${gt.promptSeconds.toFixed(2)} s, CPU ${ct.promptSeconds.toFixed(3)} s (${(gt.promptSeconds / ct.promptSeconds).toFixed(0)}x); ` +
    `${nTokens} greedy tokens: Vulkan ${gt.generateSeconds.toFixed(1)} s, CPU ${ct.generateSeconds.toFixed(2)} s (${(gt.generateSeconds / ct.generateSeconds).toFixed(0)}x)`);
out.timings.ratio = { prompt: gt.promptSeconds / ct.promptSeconds, generate: gt.generateSeconds / ct.generateSeconds };

/** Where two token lists first differ, and how close the CPU's top two logits were there. */
async function compare(id, a, b, opts = {}) {
  const same = a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t === b.tokens[i]);
  if (same) return check(id, true, `${a.tokens.length} tokens identical: ${JSON.stringify(a.text.slice(0, 60))}`);
  const k = a.tokens.findIndex((t, i) => t !== b.tokens[i]);
  const ev = await cctx.evaluate([...cctx.tokenizePrompt(prompt), ...b.tokens.slice(0, k)], { logits: true, ...opts });
  const sorted = [...ev.logits].sort((x, y) => y - x);
  check(id, false, `token ${k} differs (Vulkan ${a.tokens[k]}, CPU ${b.tokens[k]}); the CPU's top two logits there are ${(sorted[0] - sorted[1]).toExponential(2)} apart`);
}
await compare('greedy tokens, unsteered, Vulkan = CPU', gg, cg);
const gs = await gctx.generateText(prompt, { maxTokens: nTokens, temperature: 0, stopOnEog: false, steering });
const cs = await cctx.generateText(prompt, { maxTokens: nTokens, temperature: 0, stopOnEog: false, steering });
await compare(`greedy tokens, steered at block ${L}, Vulkan = CPU`, gs, cs, { steering });
check('steering changes the Vulkan tokens', gs.tokens.some((t, i) => t !== gg.tokens[i]), `steered: ${JSON.stringify(gs.text.slice(0, 60))}`);

await gctx.dispose();
await cctx.dispose();
gpu.dispose();
cpu.dispose();
out.ok = out.checks.every((c) => c.ok);
out.seconds = (performance.now() - t0) / 1000;
if (values.json) console.log(JSON.stringify(out, null, 2));
else log(`${out.ok ? 'all checks passed' : 'a check FAILED'} in ${out.seconds.toFixed(0)} s`);
process.exit(out.ok ? 0 : 1);
