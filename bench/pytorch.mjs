#!/usr/bin/env node
// emosteer vs PyTorch: the default comprehension extraction (every block, the same passages,
// last token, baseline = mean over all category means) done by emosteer and by
// bench/pytorch/extract_comprehension.py (transformers on the CPU, loading the same GGUF).
// Reports the wall-time ratio and, per block, the cosine between the two implementations'
// emotion vectors (mean and minimum over the emotions) and between their per-passage
// activations (mean over passages).
//
// Sets up a Python venv in deps/pytorch-venv (ignored) the first time, with pip from the
// default index: torch (on Linux x86-64 that is the CUDA build, several GB with its nvidia
// packages: only the CPU is used), transformers, gguf, accelerate, numpy.
//
//   npm run bench -- --pytorch            (from bench/run.mjs, reusing its extraction)
//   node bench/pytorch.mjs [--model <gguf>] [--threads N] [--from <dir>] [--reps 1] [--json]
// --reps: PyTorch extractions after one model load (its time is their median).
// --from: a folder written by `node bench/parts/extraction.mjs --method comprehension --out <dir>`;
// without it the emosteer extraction runs first, in its own process.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EmotionVectorSet } from '../dist/index.js';
import { resolveModel, resolveThreads, runJson } from './parts/util.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VENV = join(root, 'deps', 'pytorch-venv');
const venvPython = join(VENV, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
const PY_PACKAGES = ['torch', 'transformers', 'gguf', 'accelerate', 'numpy'];
const log = (m) => console.error(`[bench] ${m}`);

function findPython() {
  for (const py of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    try { execFileSync(py, ['-c', 'import venv, sys; assert sys.version_info >= (3, 9)'], { stdio: 'ignore' }); return py; } catch { /* next */ }
  }
  throw new Error('python3 (>= 3.9) with the venv module is needed for the PyTorch comparison');
}

/** Creates deps/pytorch-venv and installs the packages if they are not importable there. */
export function ensureVenv() {
  const t0 = performance.now();
  if (!existsSync(venvPython)) {
    log(`creating ${VENV}`);
    execFileSync(findPython(), ['-m', 'venv', VENV], { stdio: ['ignore', process.stderr, process.stderr] });
  }
  const importable = () => {
    try { execFileSync(venvPython, ['-c', 'import torch, transformers, gguf, accelerate, numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
  };
  let installed = false;
  if (!importable()) {
    log(`pip install ${PY_PACKAGES.join(' ')} into ${VENV} (torch from the default index: the CUDA build on Linux x86-64, several GB)`);
    execFileSync(venvPython, ['-m', 'pip', 'install', '--progress-bar', 'off', ...PY_PACKAGES], { stdio: ['ignore', process.stderr, process.stderr] });
    installed = true;
    if (!importable()) throw new Error(`the packages were installed but \`import torch, transformers, gguf, accelerate, numpy\` still fails in ${VENV}`);
  }
  return { python: venvPython, installed, setupSeconds: (performance.now() - t0) / 1000 };
}

/** Reads a little-endian float32 .npy file. */
export function readNpy(file) {
  const buf = readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file} is not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) throw new Error(`${file}: only C-order little-endian float32 is read (${header.trim()})`);
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { shape, data };
}

function norm(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / (Math.sqrt(na * nb) || 1);
}

/**
 * Compares an emosteer comprehension run saved in `dir` (EmotionVectorSet + passages.json) with
 * the PyTorch script run on the same passages; `emosteer` is that run's part result.
 */
export async function comparePytorch({ dir, modelPath, threads, emosteer, reps = 1 }) {
  const setup = ensureVenv();
  const out = join(dir, 'pytorch');
  const script = join(root, 'bench', 'pytorch', 'extract_comprehension.py');
  const batch = String(emosteer?.params?.batch ?? 8);
  log(`PyTorch comprehension extraction (${threads} threads, batch ${batch})`);
  const torch = await runJson(setup.python, [script, '--gguf', modelPath, '--passages', join(dir, 'passages.json'), '--out', out, '--threads', String(threads), '--batch', batch, '--reps', String(reps)]);
  return { ...(await compareOutputs(dir, out, torch, emosteer)), venv: { path: VENV, installedNow: setup.installed, setupSeconds: setup.setupSeconds } };
}

/** Cosines and time ratios between the emosteer set in `dir` and the PyTorch outputs in `out`. */
export async function compareOutputs(dir, out, torch, emosteer) {
  const set = await EmotionVectorSet.load(dir, { activations: true });
  const vec = readNpy(join(out, 'vectors.npy'));
  const acts = readNpy(join(out, 'activations.npy'));
  const { emotions, layers, nEmbd } = set.meta;
  const [E, L, D] = vec.shape;
  if (E !== emotions.length || L !== layers.length || D !== nEmbd) throw new Error(`PyTorch vectors have shape ${vec.shape}, emosteer's ${[emotions.length, layers.length, nEmbd]}`);
  const nSamples = set.meta.samples.length;
  const perLayer = layers.map((layer, li) => {
    const cos = emotions.map((e, ei) => cosine(set.vector(e, layer, { unit: false }), vec.data.subarray((ei * L + li) * D, (ei * L + li + 1) * D)));
    let actCos = 0;
    let actNorm = 0;
    let actDiff = 0;
    for (let s = 0; s < nSamples; s++) {
      const a = set.sampleActivation(s, layer);
      const b = acts.data.subarray((s * L + li) * D, (s * L + li + 1) * D);
      actCos += cosine(a, b);
      actNorm += norm(a);
      actDiff += norm(a.map((x, j) => x - b[j]));
    }
    const vecNorm = emotions.reduce((acc, e) => acc + norm(set.vector(e, layer, { unit: false })), 0) / emotions.length;
    return {
      layer,
      vectorCosineMean: cos.reduce((a, b) => a + b, 0) / cos.length,
      vectorCosineMin: Math.min(...cos),
      activationCosineMean: actCos / nSamples,
      // why a block's vectors agree less than its activations: the emotion vectors (differences
      // of category means) are a small share of the activation, while the two implementations'
      // activations differ by a roughly constant share
      vectorShareOfActivation: vecNorm / (actNorm / nSamples),
      activationRelativeDifference: actDiff / actNorm,
    };
  });
  return {
    pytorch: torch,
    emosteer: emosteer ? { seconds: emosteer.seconds, wallSeconds: emosteer.wallSeconds, tokens: emosteer.tokens, tokensPerSecond: emosteer.tokensPerSecond, peakRssMiB: emosteer.peakRssMiB } : undefined,
    // > 1: emosteer is faster. extraction = forward passes only, both with the model loaded;
    // process = start-up (imports) + model load + one extraction.
    speedup: emosteer ? { extraction: torch.seconds / emosteer.seconds, process: (torch.importSeconds + torch.loadSeconds + torch.seconds) / emosteer.wallSeconds } : undefined,
    cosine: {
      vectorMeanOverLayers: perLayer.reduce((a, r) => a + r.vectorCosineMean, 0) / perLayer.length,
      vectorMinOverLayers: Math.min(...perLayer.map((r) => r.vectorCosineMin)),
      perLayer,
    },
  };
}

export function printPytorch(r) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
  const v = r.pytorch.versions;
  console.log(`PyTorch ${v.torch}, transformers ${v.transformers} (${r.pytorch.modelClass}, ${r.pytorch.threads} threads, batch ${r.pytorch.batch}); token counts differ for ${r.pytorch.tokenMismatches} of ${r.pytorch.samples} passages`);
  if (r.emosteer) {
    console.log(`  extraction   emosteer ${f(r.emosteer.seconds)} s (${f(r.emosteer.tokensPerSecond, 1)} tok/s)   PyTorch ${f(r.pytorch.seconds)} s (${f(r.pytorch.tokensPerSecond, 1)} tok/s)   emosteer ${f(r.speedup.extraction)}x faster`);
    const torchProcess = r.pytorch.importSeconds + r.pytorch.loadSeconds + r.pytorch.seconds;
    console.log(`  start-up + load + extraction  emosteer ${f(r.emosteer.wallSeconds)} s   PyTorch ${f(torchProcess)} s (imports ${f(r.pytorch.importSeconds)} s, model load ${f(r.pytorch.loadSeconds)} s)   ${f(r.speedup.process)}x`);
    console.log(`  peak RSS     emosteer ${r.emosteer.peakRssMiB} MiB   PyTorch ${r.pytorch.peakRssMiB} MiB`);
  }
  console.log('  block  vector cosine (mean / min over emotions)  activation cosine  |vector|/|activation|  |a_emosteer - a_torch|/|a|');
  for (const l of r.cosine.perLayer) console.log(`  ${String(l.layer).padStart(5)}  ${f(l.vectorCosineMean, 4)} / ${f(l.vectorCosineMin, 4)}${' '.repeat(27)}${f(l.activationCosineMean, 5)}  ${f(l.vectorShareOfActivation, 4)}  ${f(l.activationRelativeDifference, 4)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      threads: { type: 'string' },
      from: { type: 'string' },
      reps: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const modelPath = resolveModel(values.model);
  const threads = resolveThreads(values.threads);
  let dir = values.from;
  let emosteer;
  let tmp;
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'emosteer-bench-pytorch-'));
    dir = tmp;
    log('emosteer comprehension extraction');
    emosteer = await runJson(process.execPath, [join(root, 'bench', 'parts', 'extraction.mjs'), '--method', 'comprehension', '--model', modelPath, '--threads', String(threads), '--out', dir]);
  }
  try {
    const r = await comparePytorch({ dir, modelPath, threads, emosteer, reps: Number(values.reps) });
    if (values.json) console.log(JSON.stringify(r, null, 2));
    else printPytorch(r);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
