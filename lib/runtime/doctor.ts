/**
 * `emosteer doctor`: checks in seconds that a model works with everything emosteer does to it:
 * every block can be captured; context-wide steering at a middle block moves that block's
 * output by exactly the vector, leaves the block before it alone, changes the logits and is
 * undone by clearSteering; per-sequence steering (the `steering` option) agrees with it; and the
 * chat template formats a conversation (or is reported absent).
 *
 * @module
 */
import type { Context } from './context.js';
import { EmosteerError } from '../errors.js';
import { loadModel, type Model } from './model.js';
import type { GpuBackend, GpuRequest } from './backend-select.js';
import { versions } from './native.js';
import { relativeError } from '../util/vec.js';

/** Outcome of one check: `warn` and `absent` do not fail the doctor, `fail` does. */
export type DoctorStatus = 'pass' | 'fail' | 'warn' | 'absent';

/** One check of {@link runDoctor}. */
export interface DoctorCheck {
  /** Stable id: load, capture, steering, steering-clear, sequence-steering, chat-template. */
  id: string;
  /** What was checked, in words. */
  title: string;
  /** Outcome of the check. */
  status: DoctorStatus;
  /** What was measured, or why it failed. */
  detail: string;
  /** The EmosteerError code of a failure, when there was one. */
  code?: string;
  /** Measured numbers (relative errors, widths, ...). */
  values?: Record<string, number | string | boolean>;
  /** Wall time of the check. */
  ms: number;
}

/** What {@link runDoctor} found. */
export interface DoctorReport {
  /** The model file. */
  path: string;
  /** Architecture, blocks, width and vocabulary, when the model loaded. */
  model?: {
    /** `general.architecture`, e.g. 'llama'. */
    arch: string;
    /** `general.name` (may be empty). */
    name: string;
    /** Number of blocks. */
    nLayer: number;
    /** Width of the residual stream. */
    nEmbd: number;
    /** Vocabulary size. */
    nVocab: number;
    /** Whether the file carries a chat template. */
    hasChatTemplate: boolean;
  };
  /** The block steered. */
  layer?: number;
  /** The compute backend in use and why (`versions().selection`), once the model loaded. */
  backend?: {
    /** What was asked: the `gpu` option, EMOSTEER_GPU, or 'auto'. */
    requested: GpuRequest;
    /** The backend of the loaded addon ('cpu' when it runs without a GPU backend). */
    backend: GpuBackend;
    /** Why this addon, in words (what 'auto' tried, what a probe found). */
    reason: string;
    /** The .node file loaded. */
    binary: string;
    /** The GPU devices the addon sees, e.g. 'Vulkan0 (llvmpipe (LLVM 15.0.6, 256 bits))'. */
    gpuDevices: string[];
  };
  /** Every check, in the order run. */
  checks: DoctorCheck[];
  /** True when no check failed. */
  ok: boolean;
  /** Wall time of the whole run. */
  seconds: number;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Block to steer (default: the middle block, at least 1). */
  layer?: number;
  /** CPU threads of the context (default: as createContext). */
  threads?: number;
  /** Prompt decoded by the checks. */
  prompt?: string;
  /** Most relative error accepted between steered output and expectation (default 1e-3). */
  tolerance?: number;
  /** Compute backend when the doctor loads the model from a path (`loadModel`'s `gpu`; default EMOSTEER_GPU, else 'auto'). */
  gpu?: GpuRequest;
}

const PROMPT = 'The quick brown fox jumps over the lazy dog, and then it rests.';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
  return true;
}

/** A deterministic vector with entries in ±scale (xorshift32). */
function probeVector(n: number, scale: number): Float32Array {
  let s = 0x9e3779b9;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return v;
}

const fmt = (x: number) => (x === 0 ? '0' : x < 1e-3 || x >= 1e4 ? x.toExponential(1) : x.toPrecision(3));

/**
 * Runs the checks on a model (a path, loaded and disposed here, or a loaded {@link Model}).
 * Never throws for a failing check: every failure is a `fail` entry with its reason and code.
 *
 * @example
 * const r = await runDoctor('model.gguf');
 * if (!r.ok) console.error(r.checks.filter((c) => c.status === 'fail'));
 */
export async function runDoctor(model: string | Model, options: DoctorOptions = {}): Promise<DoctorReport> {
  const t0 = performance.now();
  const checks: DoctorCheck[] = [];
  const tol = options.tolerance ?? 1e-3;
  const prompt = options.prompt ?? PROMPT;
  const path = typeof model === 'string' ? model : model.info.path;
  const report = (): DoctorReport => ({ ...rep, checks, ok: checks.every((c) => c.status !== 'fail'), seconds: Math.round(performance.now() - t0) / 1000 });
  const rep: Omit<DoctorReport, 'checks' | 'ok' | 'seconds'> = { path };

  /** Runs one check: its function returns the status, detail and values; a throw is a failure. */
  const check = async (id: string, title: string, fn: () => Promise<Omit<DoctorCheck, 'id' | 'title' | 'ms'>>): Promise<boolean> => {
    const c0 = performance.now();
    let r: Omit<DoctorCheck, 'id' | 'title' | 'ms'>;
    try {
      r = await fn();
    } catch (e) {
      r = { status: 'fail', detail: (e as Error).message, ...(e instanceof EmosteerError ? { code: e.code } : {}) };
    }
    checks.push({ id, title, ...r, ms: Math.round(performance.now() - c0) });
    return r.status !== 'fail';
  };

  let m: Model | null = typeof model === 'string' ? null : model;
  if (!(await check('load', 'the model loads', async () => {
    if (!m) m = await loadModel(path, options.gpu !== undefined ? { gpu: options.gpu } : {});
    const i = m.info;
    const v = versions();
    const gpuDevices = v.devices.filter((d) => d.type === 'gpu' || d.type === 'igpu').map((d) => `${d.name} (${d.description})`);
    rep.backend = { requested: v.selection.requested, backend: v.selection.backend, reason: v.selection.reason, binary: v.binaryPath, gpuDevices };
    return { status: 'pass', detail: `${i.arch}, ${i.nLayer} blocks x ${i.nEmbd}, vocabulary ${i.nVocab}; backend ${v.selection.backend}`, values: { backend: v.selection.backend } };
  }))) return report();
  const loaded = m!;
  const { nLayer, nEmbd, nVocab, arch, name, hasChatTemplate } = loaded.info;
  rep.model = { arch, name, nLayer, nEmbd, nVocab, hasChatTemplate };
  const L = options.layer ?? Math.max(1, Math.floor(nLayer / 2));
  rep.layer = L;

  let ctx: Context | null = null;
  try {
    ctx = await loaded.createContext({ contextSize: 256, ...(options.threads !== undefined ? { threads: options.threads } : {}) });
    const c = ctx;
    const all = Array.from({ length: nLayer }, (_, i) => i);
    let base: { h: Float32Array; before: Float32Array | null; logits: Float32Array } | null = null;
    let v: Float32Array | null = null;
    let steered: { h: Float32Array; logits: Float32Array } | null = null;

    await check('capture', 'every block can be captured', async () => {
      const r = await c.evaluate(prompt, { capture: { layers: 'all', pooling: 'last' }, logits: true });
      const a = r.activations!;
      const missing = all.filter((l) => !a.layers.includes(l));
      if (missing.length) return { status: 'fail', detail: `blocks ${missing.join(', ')} were not captured` };
      const bad = all.filter((l) => a.get(l).length !== nEmbd || !allFinite(a.get(l)));
      if (bad.length) return { status: 'fail', detail: `blocks ${bad.join(', ')} are not ${nEmbd} finite values` };
      if (r.logits?.length !== nVocab || !allFinite(r.logits)) return { status: 'fail', detail: `the logits are not ${nVocab} finite values` };
      return { status: 'pass', detail: `${nLayer} of ${nLayer} blocks, ${nEmbd} finite values each, over ${r.tokens.length} tokens`, values: { blocks: nLayer, tokens: r.tokens.length } };
    });

    const layers = L >= 1 ? [L - 1, L] : [L];
    await check('steering', `setSteering at block ${L} moves block ${L} by exactly the vector`, async () => {
      const b = await c.evaluate(prompt, { capture: { layers, pooling: 'last' }, logits: true });
      const h = b.activations!.get(L);
      base = { h, before: L >= 1 ? b.activations!.get(L - 1) : null, logits: b.logits! };
      let sq = 0;
      for (const x of h) sq += x * x;
      v = probeVector(nEmbd, Math.max(1e-3, Math.sqrt(sq / nEmbd)));
      await c.setSteering(new Map([[L, v]]), { layers: [L, L] });
      const s = await c.evaluate(prompt, { capture: { layers, pooling: 'last' }, logits: true });
      const hs = s.activations!.get(L);
      steered = { h: hs, logits: s.logits! };
      const delta = hs.map((x, i) => x - h[i]!);
      const err = relativeError(delta, v);
      const beforeDiff = base.before ? maxAbsDiff(s.activations!.get(L - 1), base.before) : 0;
      const logitChange = maxAbsDiff(s.logits!, b.logits!);
      const values = { relativeError: err, blockBeforeMaxChange: beforeDiff, logitsMaxChange: logitChange };
      const problems = [
        ...(err < tol ? [] : [`block ${L} moved by the vector with relative error ${fmt(err)} (limit ${fmt(tol)})`]),
        ...(beforeDiff === 0 ? [] : [`block ${L - 1}, before the steered block, changed by ${fmt(beforeDiff)}`]),
        ...(logitChange > 0 ? [] : ['the logits did not change']),
      ];
      if (problems.length) return { status: 'fail', detail: problems.join('; '), values };
      return { status: 'pass', detail: `relative error ${fmt(err)}; block ${L - 1} unchanged; logits moved by up to ${fmt(logitChange)}`, values };
    });

    await check('steering-clear', 'clearSteering restores the unsteered logits', async () => {
      if (!base) return { status: 'fail', detail: 'no unsteered baseline (the steering check failed first)' };
      await c.clearSteering();
      const r = await c.evaluate(prompt, { logits: true });
      const d = maxAbsDiff(r.logits!, base.logits);
      return d === 0 ? { status: 'pass', detail: 'bit-identical to never having steered', values: { logitsMaxChange: 0 } } : { status: 'fail', detail: `the logits differ by up to ${fmt(d)} after clearSteering`, values: { logitsMaxChange: d } };
    });

    await check('sequence-steering', 'per-sequence steering (the steering option) agrees with setSteering', async () => {
      if (!base || !v || !steered) return { status: 'fail', detail: 'no context-wide result to compare with (the steering check failed first)' };
      const s = await c.evaluate(prompt, { capture: { layers: [L], pooling: 'last' }, logits: true, steering: { vectors: new Map([[L, v]]), layers: [L, L] } });
      const hs = s.activations!.get(L);
      const hErr = relativeError(hs, steered.h);
      const lErr = relativeError(s.logits!, steered.logits);
      const moved = relativeError(hs.map((x, i) => x - base!.h[i]!), v);
      const values = { blockRelativeError: hErr, logitsRelativeError: lErr, vectorRelativeError: moved };
      const ok = hErr < tol && lErr < tol && moved < tol;
      return ok
        ? { status: 'pass', detail: `block ${L} and logits agree with setSteering (relative errors ${fmt(hErr)}, ${fmt(lErr)})`, values }
        : { status: 'fail', detail: `per-sequence steering differs from setSteering: block ${L} ${fmt(hErr)}, logits ${fmt(lErr)}, moved by the vector with error ${fmt(moved)} (limit ${fmt(tol)})`, values };
    });
  } catch (e) {
    checks.push({ id: 'context', title: 'a context can be created', status: 'fail', detail: (e as Error).message, ...(e instanceof EmosteerError ? { code: e.code } : {}), ms: 0 });
  } finally {
    await ctx?.dispose();
  }

  await check('chat-template', 'the chat template formats a conversation', async () => {
    if (!hasChatTemplate) return { status: 'absent', detail: 'the GGUF has no chat template (pass one explicitly to chat APIs)' };
    try {
      const text = loaded.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], { addAssistant: true });
      if (!text.includes('Hello there')) return { status: 'fail', detail: 'the formatted conversation lacks the message text' };
      const n = loaded.tokenize(text, { parseSpecial: true }).length;
      return { status: 'pass', detail: `${text.length} characters, ${n} tokens for a system and a user message`, values: { tokens: n } };
    } catch (e) {
      if (e instanceof EmosteerError && e.code === 'CHAT_TEMPLATE_UNSUPPORTED') return { status: 'warn', detail: e.message, code: e.code };
      throw e;
    }
  });

  if (typeof model === 'string') loaded.dispose();
  return report();
}
