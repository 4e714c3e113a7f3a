#!/usr/bin/env node
// A real client nobody here wrote against `emosteer serve`: EleutherAI's lm-evaluation-harness
// (PyPI `lm-eval`, its `local-completions` backend, the server's own tokenizer through
// /tokenizer_info + /tokenize) runs a small multiple-choice task defined from a local file, and
// its accuracy must equal the accuracy computed in process from the same log-likelihoods
// (Context.logProbs on the same token ids). It needs `echo: true` with `logprobs` on
// /v1/completions (which llama-server refuses) and token-id prompts.
//
// The task (written to deps/lm-eval-bench/, not committed): cloze items cut from the shipped
// public-domain corpus (Alice's Adventures in Wonderland, lib/quality/corpus): a sentence
// without its last word, and four candidate last words, the right one and three taken from
// other sentences (seeded). lm-eval scores each choice by its log-likelihood after the context
// and takes the most likely one (metric `acc`).
//
// Runs: the reference model (default Gemma 3 270M Q4_K_M of the registry) and its quantized
// copies (--types, made by quantizeModel), then the reference steered per request with an
// emotion of a vector set (--set, or a small comprehension set extracted here) at --strengths:
// the steering goes into every request's body by a small proxy in this script, as an OpenAI
// client's extra_body would put it there.
//
// The virtual environment lives outside the repository: $EMOSTEER_LM_EVAL_VENV or
// ~/.cache/emosteer/lm-eval-venv (created with `pip install 'lm-eval[api]==0.4.13'` if missing).
//
//   npm run build:ts && node bench/lm-eval-harness.mjs [--model <gguf|name>] [--types q8_0,q4_0]
//     [--items 40] [--strengths 0.05,0.1,0.2] [--emotion calm] [--set <dir>] [--threads N] [--save]
// --save writes bench/results/lm-eval-harness.json. Exits 1 when an accuracy differs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { cpus, homedir, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveModel, resolveThreads } from './parts/util.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    types: { type: 'string', default: 'q8_0,q4_0' },
    items: { type: 'string', default: '40' },
    strengths: { type: 'string', default: '0.05,0.1,0.2' },
    emotion: { type: 'string', default: 'calm' },
    set: { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string', default: '1' },
    save: { type: 'boolean' },
  },
});
const { loadModel, quantizeModel, EmotionVectorSet, versions } = await import('../dist/index.js');
const { readDefaultCorpus } = await import('../dist/quality/index.js');

const log = (m) => console.error(`[lm-eval-bench] ${m}`);
const threads = resolveThreads(values.threads);
const work = join(ROOT, 'deps', 'lm-eval-bench');
mkdirSync(work, { recursive: true });
const venv = process.env.EMOSTEER_LM_EVAL_VENV || join(homedir(), '.cache', 'emosteer', 'lm-eval-venv');
const LM_EVAL_SPEC = 'lm-eval[api]==0.4.13';

// --- the virtual environment ---------------------------------------------------------------
const lmEvalBin = join(venv, 'bin', 'lm_eval');
if (!existsSync(lmEvalBin)) {
  log(`creating ${venv} and installing ${LM_EVAL_SPEC}`);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', LM_EVAL_SPEC], { stdio: 'inherit' });
}
const lmEvalVersion = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as m; print(m.version("lm-eval"))'], { encoding: 'utf8' }).trim();

// --- the task --------------------------------------------------------------------------------
function seeded(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
const corpus = (await readDefaultCorpus()).replace(/\s+/g, ' ');
const sentences = corpus.split(/(?<=[.!?])\s+/).map((s) => s.trim())
  .filter((s) => /^[A-Z]/.test(s) && !s.includes('`') && !s.includes("'"))
  .map((s) => ({ s, m: /^(.*\S)\s+([A-Za-z]{3,})[.!?]$/.exec(s) }))
  .filter((x) => x.m && x.s.split(' ').length >= 8 && x.s.split(' ').length <= 30);
const rand = seeded(Number(values.seed));
const pool = [...new Set(sentences.map((x) => x.m[2].toLowerCase()))];
const items = [];
const nItems = Number(values.items);
const used = new Set();
while (items.length < nItems && used.size < sentences.length) {
  const i = Math.floor(rand() * sentences.length);
  if (used.has(i)) continue;
  used.add(i);
  const { m } = sentences[i];
  const answer = m[2];
  const choices = [answer];
  while (choices.length < 4) {
    const w = pool[Math.floor(rand() * pool.length)];
    if (!choices.some((c) => c.toLowerCase() === w)) choices.push(w);
  }
  // the right answer at a seeded position
  const label = Math.floor(rand() * 4);
  [choices[0], choices[label]] = [choices[label], choices[0]];
  items.push({ context: m[1], choices, label });
}
const taskDir = join(work, 'task');
rmSync(taskDir, { recursive: true, force: true });
mkdirSync(taskDir, { recursive: true });
const dataFile = join(taskDir, 'alice_cloze.jsonl');
writeFileSync(dataFile, items.map((x) => JSON.stringify(x)).join('\n') + '\n');
writeFileSync(join(taskDir, 'alice_cloze.yaml'), [
  'task: alice_cloze',
  'dataset_path: json',
  'dataset_kwargs:',
  '  data_files:',
  `    test: ${dataFile}`,
  'test_split: test',
  'output_type: multiple_choice',
  'doc_to_text: context',
  'doc_to_choice: choices',
  'doc_to_target: label',
  'target_delimiter: " "',
  'metric_list:',
  '  - metric: acc',
  '    aggregation: mean',
  '    higher_is_better: true',
  '',
].join('\n'));
log(`${items.length} cloze items from ${sentences.length} sentences of the corpus (seed ${values.seed})`);

// --- the models ------------------------------------------------------------------------------
const ref = resolveModel(values.model);
const types = values.types.split(',').map((t) => t.trim()).filter(Boolean);
const files = [{ label: basename(ref), path: ref }];
for (const t of types) {
  const out = join(ROOT, 'deps', 'quality-bench', `${basename(ref, '.gguf')}-${t}.gguf`);
  mkdirSync(dirname(out), { recursive: true });
  if (!existsSync(out)) { log(`quantizing to ${t}`); await quantizeModel(ref, { type: t, out, threads }); }
  files.push({ label: `${basename(ref, '.gguf')}-${t}.gguf`, path: out });
}
let setDir = values.set;
if (!setDir) {
  setDir = join(work, `set-${basename(ref, '.gguf')}`);
  if (!existsSync(join(setDir, 'manifest.json'))) {
    log(`extracting a small comprehension vector set (4 emotions, 6 passages each) into ${setDir}`);
    execFileSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'extract', '--model', ref, '--method', 'comprehension', '--emotions', `${values.emotion},angry,happy,sad`, '--samples', '6', '--out', setDir, '--threads', String(threads)], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
const strengths = values.strengths.split(',').map(Number).filter((x) => Number.isFinite(x));

// --- one run: serve, lm_eval through a proxy, the same numbers in process ---------------------
async function startServe(model) {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'serve', '--model', model, '--port', '0', '--threads', String(threads), '--parallel', '1', '--vectors', `emo=${setDir}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => { err += b; });
  const url = await new Promise((res, rej) => {
    let out = '';
    child.stdout.on('data', (b) => { out += b; const m = /listening on (\S+)/.exec(out); if (m) res(m[1]); });
    child.on('exit', (c) => rej(new Error(`emosteer serve exited with ${c}: ${err}`)));
  });
  return { child, url };
}

/** A proxy that adds `steering` to every JSON body it forwards (what extra_body does for an OpenAI client). */
async function startProxy(target, steering) {
  const t = new URL(target);
  const server = createHttpServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (steering && req.method === 'POST' && req.url?.startsWith('/v1/') && body.length > 0) {
        body = Buffer.from(JSON.stringify({ ...JSON.parse(body.toString('utf8')), steering }));
      }
      const fwd = httpRequest({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: { ...req.headers, 'content-length': String(body.length) } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      fwd.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
      fwd.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

/** Runs lm_eval asynchronously (the proxy in this process must keep serving meanwhile). */
function runProcess(cmd, args, env) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    child.stderr.on('data', (b) => { err = (err + b).slice(-20000); });
    child.on('error', rej);
    child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`${cmd} exited with ${code}:\n${err.slice(-4000)}`))));
  });
}

async function runLmEval(baseUrl, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  const t0 = performance.now();
  await runProcess(lmEvalBin, [
    'run', '--model', 'local-completions',
    '--model_args', `model=emosteer,base_url=${baseUrl}/v1/completions,tokenizer_backend=remote,tokenized_requests=True,num_concurrent=1,max_retries=1,max_length=2048`,
    '--tasks', 'alice_cloze', '--include_path', taskDir, '--output_path', outDir, '--log_samples', '--batch_size', '1',
  ], { ...process.env, HF_HUB_OFFLINE: '1', HF_DATASETS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' });
  const seconds = (performance.now() - t0) / 1000;
  const found = [];
  const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else found.push(p); } };
  walk(outDir);
  const resultsFile = found.find((f) => /results_.*\.json$/.test(basename(f)));
  const samplesFile = found.find((f) => /samples_alice_cloze_.*\.jsonl$/.test(basename(f)));
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const samples = readFileSync(samplesFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return { acc: results.results.alice_cloze['acc,none'], samples, seconds };
}

/** The same log-likelihoods in process: lm-eval's tokenization (_encode_pair, no BOS), Context.logProbs. */
async function inProcess(modelPath, steering) {
  const model = await loadModel(modelPath);
  const ctx = await model.createContext({ contextSize: 2048, threads });
  const enc = (s) => model.tokenize(s, { addSpecial: false, parseSpecial: true });
  let correct = 0;
  const lls = [];
  try {
    for (const it of items) {
      const scores = [];
      for (const choice of it.choices) {
        const whole = enc(`${it.context} ${choice}`);
        const c = enc(it.context);
        const r = await ctx.logProbs(c, whole.subarray(c.length), steering ? { steering } : {});
        scores.push(r.total);
      }
      lls.push(scores);
      const best = scores.indexOf(Math.max(...scores));
      if (best === it.label) correct++;
    }
  } finally {
    await ctx.dispose();
    model.dispose();
  }
  return { acc: correct / items.length, lls };
}

const runs = [];
const configs = [
  ...files.map((f) => ({ label: f.label, path: f.path, strength: 0 })),
  ...strengths.map((s) => ({ label: `${files[0].label} ${values.emotion} x ${s}`, path: files[0].path, strength: s })),
];
let set = null;
for (const c of configs) {
  const steeringBody = c.strength ? [{ emotion: values.emotion, strength: c.strength }] : null;
  if (c.strength && !set) set = await EmotionVectorSet.load(setDir);
  const steering = c.strength ? { components: [{ set, emotion: values.emotion, strength: c.strength }], positions: 'all' } : null;
  log(`${c.label}: emosteer serve + lm_eval`);
  const { child, url } = await startServe(c.path);
  const proxy = await startProxy(url, steeringBody);
  let lm;
  try {
    lm = await runLmEval(proxy.url, join(work, 'out'));
  } finally {
    proxy.server.close();
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
  }
  log(`${c.label}: the same log-likelihoods in process`);
  const ours = await inProcess(c.path, steering);
  // per choice: lm-eval's log-likelihood (resps) against ours
  let maxDiff = 0;
  for (const s of lm.samples) {
    const mine = ours.lls[s.doc_id];
    s.resps.forEach((r, j) => { const ll = Number(Array.isArray(r[0]) ? r[0][0] : r[0]); maxDiff = Math.max(maxDiff, Math.abs(ll - mine[j])); });
  }
  runs.push({ label: c.label, strength: c.strength, lmEvalAccuracy: lm.acc, inProcessAccuracy: ours.acc, equal: lm.acc === ours.acc, maxLogLikelihoodDiff: maxDiff, lmEvalSeconds: lm.seconds });
  log(`${c.label}: lm-eval acc ${lm.acc}, in process ${ours.acc}, largest log-likelihood difference ${maxDiff.toExponential(2)}`);
}

console.log(`\n${items.length} items, lm-eval ${lmEvalVersion} (local-completions, remote tokenizer, token-id prompts), emosteer serve --parallel 1 --threads ${threads}\n`);
console.log('| model / steering | lm-eval acc | in-process acc | equal | largest log-likelihood difference | lm-eval wall s |');
console.log('| --- | ---: | ---: | --- | ---: | ---: |');
for (const r of runs) console.log(`| ${r.label} | ${r.lmEvalAccuracy.toFixed(3)} | ${r.inProcessAccuracy.toFixed(3)} | ${r.equal ? 'yes' : '**no**'} | ${r.maxLogLikelihoodDiff.toExponential(2)} | ${r.lmEvalSeconds.toFixed(1)} |`);
if (values.save) {
  const out = join(ROOT, 'bench', 'results', 'lm-eval-harness.json');
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg(), node: process.version }, llamaCpp: versions().llamaCppCommit, lmEval: lmEvalVersion, items: items.length, seed: Number(values.seed), emotion: values.emotion, setDir, threads, runs }, null, 2)}\n`);
  log(`wrote ${out}`);
}
process.exitCode = runs.every((r) => r.equal) ? 0 : 1;
