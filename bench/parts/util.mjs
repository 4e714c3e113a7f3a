// Helpers the bench parts share. Each part runs in its own process (started by bench/run.mjs)
// so that its peak RSS is its own; it prints one JSON object as the last line of stdout.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const fetchGemma = fileURLToPath(new URL('../../scripts/fetch-gemma.mjs', import.meta.url));

export const median = (xs) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The model to measure: --model, or Gemma 3 270M from `npm run model:gemma`. */
export function resolveModel(path) {
  return path ?? execFileSync(process.execPath, [fetchGemma], { encoding: 'utf8' }).trim().split('\n').pop();
}

export function resolveThreads(t) {
  return t ? Number(t) : availableParallelism();
}

/** The options every part that loads a model takes (parseArgs form). */
export const MODEL_OPTIONS = {
  model: { type: 'string' },
  threads: { type: 'string' },
  'gpu-layers': { type: 'string' },
};

/** The pp/tg options of the parts that compare with llama-bench. */
export const SPEED_OPTIONS = {
  pp: { type: 'string', default: '128' },
  tg: { type: 'string', default: '64' },
  reps: { type: 'string', default: '5' },
  batch: { type: 'string', default: '512' },
};

/** --gpu-layers: a count, or 'max' (default: every layer, which is loadModel's default too). */
export function resolveGpuLayers(v) {
  if (v === undefined || v === 'max') return 'max';
  if (!/^\d+$/.test(v)) throw new Error(`--gpu-layers must be a non-negative integer or 'max', got '${v}'`);
  return Number(v);
}

/** The same for llama-bench's -ngl, where "every layer" is a large count. */
export function llamaBenchGpuLayers(gpuLayers) {
  return gpuLayers === 'max' ? 999 : gpuLayers;
}

/** This process's peak resident set size so far, in MiB (maxRSS is in KiB). */
export function peakRssMiB() {
  return +(process.resourceUsage().maxRSS / 1024).toFixed(1);
}

/** Prints a part's result, with its process's peak RSS, as the last line of stdout. */
export function emit(result) {
  process.stdout.write(`${JSON.stringify({ ...result, peakRssMiB: peakRssMiB() })}\n`);
}

/** Seconds taken by an async function. */
export async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Runs a command (its stderr kept for the error message) and returns the JSON object its stdout ends with. */
export function runJson(cmd, args, { cwd } = {}) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', rej);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        rej(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${err.trim().split('\n').slice(-15).join('\n')}`));
        return;
      }
      try { res(JSON.parse(last)); } catch { rej(new Error(`${cmd} ${args.join(' ')} printed no JSON result:\n${out.slice(-2000)}\n${err.slice(-2000)}`)); }
    });
  });
}
