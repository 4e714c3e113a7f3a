/**
 * Quantization of real GGUF models through llama.cpp's own `llama_model_quantize` (the code
 * behind `llama-quantize`, built into the addon: no extra tool). This is the quantization
 * ladder: one model, re-encoded at several precisions, so that results can be compared per
 * precision. (Not to be confused with `gguf/quantize.ts`, the Q8_0/Q4_0 encoders the
 * synthetic-model writer uses.)
 *
 * @module
 */
import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmosteerError, fromNativeError } from '../errors.js';
import { readGguf } from '../gguf/reader.js';
import { GgmlType, ggmlTypeName, type GgufFile } from '../gguf/types.js';
import { addon } from '../runtime/native.js';

/**
 * Target types of {@link quantizeModel}, by their `llama-quantize` names (case does not
 * matter where a string is accepted). Types that need an importance matrix (IQ1/IQ2/IQ3_XXS,
 * Q2_K_S) are not offered: llama.cpp refuses them without one.
 */
export type QuantizationType =
  | 'f32' | 'f16' | 'bf16'
  | 'q8_0' | 'q6_k'
  | 'q5_k_m' | 'q5_k_s' | 'q5_1' | 'q5_0'
  | 'q4_k_m' | 'q4_k_s' | 'q4_1' | 'q4_0' | 'iq4_nl' | 'iq4_xs'
  | 'q3_k_l' | 'q3_k_m' | 'q3_k_s'
  | 'q2_k';

/**
 * Every {@link QuantizationType} with llama-quantize's own description (size and perplexity
 * increase measured by llama.cpp on Llama-3-8B / Mistral-7B; tools/quantize/quantize.cpp).
 */
export const QUANTIZATION_TYPES: Readonly<Record<QuantizationType, string>> = Object.freeze({
  f32: '26.00G @ 7B (no quantization)',
  f16: '14.00G, +0.0020 ppl @ Mistral-7B',
  bf16: '14.00G, -0.0050 ppl @ Mistral-7B',
  q8_0: '7.96G, +0.0026 ppl @ Llama-3-8B',
  q6_k: '6.14G, +0.0217 ppl @ Llama-3-8B',
  q5_k_m: '5.33G, +0.0569 ppl @ Llama-3-8B',
  q5_k_s: '5.21G, +0.1049 ppl @ Llama-3-8B',
  q5_1: '5.65G, +0.1062 ppl @ Llama-3-8B',
  q5_0: '5.21G, +0.1316 ppl @ Llama-3-8B',
  q4_k_m: '4.58G, +0.1754 ppl @ Llama-3-8B',
  q4_k_s: '4.37G, +0.2689 ppl @ Llama-3-8B',
  q4_1: '4.78G, +0.4511 ppl @ Llama-3-8B',
  q4_0: '4.34G, +0.4685 ppl @ Llama-3-8B',
  iq4_nl: '4.50 bpw non-linear quantization',
  iq4_xs: '4.25 bpw non-linear quantization',
  q3_k_l: '4.03G, +0.5562 ppl @ Llama-3-8B',
  q3_k_m: '3.74G, +0.6569 ppl @ Llama-3-8B',
  q3_k_s: '3.41G, +1.6321 ppl @ Llama-3-8B',
  q2_k: '2.96G, +3.5199 ppl @ Llama-3-8B',
});

/** llama-quantize's aliases, accepted as well: q3_k, q4_k, q5_k (the _M variants). */
const ALIASES: Readonly<Record<string, QuantizationType>> = { q3_k: 'q3_k_m', q4_k: 'q4_k_m', q5_k: 'q5_k_m' };

/**
 * The default ladder, from the highest precision down. The models emosteer ships are Q4_K_M
 * or Q4_1 already, so the steps above 4 bits re-encode 4-bit weights: they cost more memory
 * and recover no precision (see {@link quantizeModel}).
 */
export const QUANTIZATION_LADDER: readonly QuantizationType[] = Object.freeze(['q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_0', 'q3_k_m', 'q2_k'] as QuantizationType[]);

/**
 * Parses a type name, case-insensitively ('Q4_K_M', 'q4_k_m' and the alias 'q4_k' all give
 * 'q4_k_m').
 * @throws EmosteerError INVALID_ARGUMENT for anything else (the message lists the types)
 */
export function parseQuantizationType(name: string): QuantizationType {
  const key = typeof name === 'string' ? name.trim().toLowerCase() : '';
  if (Object.prototype.hasOwnProperty.call(QUANTIZATION_TYPES, key)) return key as QuantizationType;
  const alias = ALIASES[key];
  if (alias) return alias;
  throw new EmosteerError('INVALID_ARGUMENT', `unknown quantization type '${String(name)}'; use one of ${Object.keys(QUANTIZATION_TYPES).join(', ')}`);
}

/** Progress of {@link quantizeModel}, reported when llama.cpp starts each tensor. */
export interface QuantizeProgress {
  /** Tensors finished (0..tensorsTotal). */
  tensorsDone: number;
  /** Tensors in the model. */
  tensorsTotal: number;
  /** The tensor llama.cpp works on now ('' once done). */
  tensor: string;
  /**
   * Share of the work done in [0, 1]: weight elements of the finished tensors over all weight
   * elements (the cost of (de)quantizing is proportional to elements; tensors differ in size
   * by orders of magnitude, so this is steadier than tensorsDone / tensorsTotal).
   */
  fraction: number;
  /** Seconds since the start. */
  seconds: number;
}

/** Options of {@link quantizeModel}. */
export interface QuantizeModelOptions {
  /** Target type (required), case-insensitive, e.g. 'q8_0', 'Q3_K_M'. */
  type: QuantizationType | Uppercase<QuantizationType> | (string & {});
  /** Output file (required). Written atomically: `<out>.partial-<pid>`, renamed when complete. Missing folders are created; an existing file is replaced. */
  out: string;
  /** CPU threads (default: all cores, llama.cpp's `hardware_concurrency`). */
  threads?: number;
  /** Called as llama.cpp starts each tensor, and once at the end with fraction 1. */
  onProgress?: (progress: QuantizeProgress) => void;
  /** Cancels: llama.cpp stops before the next tensor, the partial file is removed, the promise rejects with ABORTED. */
  signal?: AbortSignal;
}

/** What {@link quantizeModel} did. */
export interface QuantizeResult {
  /** Target type. */
  type: QuantizationType;
  /** llama.cpp's name of the file type written, as `model.info.quantization` reports it (e.g. 'Q8_0', 'Q3_K - Medium'). */
  quantization: string;
  /** Absolute input path. */
  input: string;
  /** Absolute output path. */
  out: string;
  /** Size of the input file. */
  bytesIn: number;
  /** Size of the output file. */
  bytesOut: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Tensors in the model. */
  tensors: number;
  /**
   * Tensors llama.cpp stored in another type because their rows do not fit the target's block
   * (k-quants and IQ4_XS need rows that are multiples of 256, e.g. Q3_K falls back to Q4_0).
   */
  fallbackTensors: number;
  /** True when the input already held quantized weights: the output re-encodes them (the error adds up). */
  requantized: boolean;
  /** Bits per weight of the output's tensor data (bytes x 8 / elements). */
  bitsPerWeight: number;
  /**
   * What the output holds, per ggml type ('Q8_0', 'Q4_K', 'F32', ...): tensors and bytes. With
   * fallbacks, a 'q3_k_m' file can be mostly Q4_0: read this before comparing rungs.
   */
  tensorTypes: Record<
    string,
    {
      /** Number of tensors of this type. */
      tensors: number;
      /** Bytes of tensor data of this type. */
      bytes: number;
    }
  >;
}

/** @internal the native binding of native/quantize.cpp */
interface NativeQuantize {
  quantize(input: string, partial: string, output: string, options: {
    type: string;
    threads?: number;
    onProgress?: (e: { index: number; total: number; tensor: string }) => void;
  }): { promise: Promise<{ bytesOut: number; tensors: number; fallbackTensors: number; quantization: string }>; abort(): void };
  quantizationTypes(): { name: string; ftype: number; quantization: string }[];
}

/** @internal */
export function nativeQuantize(): NativeQuantize {
  const native = addon() as unknown as Partial<NativeQuantize>;
  if (typeof native.quantize !== 'function' || typeof native.quantizationTypes !== 'function') {
    throw new EmosteerError('ADDON_NOT_BUILT', 'the emosteer addon was built without quantize (an older build); rebuild it with `npm run build:native`');
  }
  return native as NativeQuantize;
}

const UNQUANTIZED = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.F64, GgmlType.I8, GgmlType.I16, GgmlType.I32, GgmlType.I64]);

function elements(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Quantizes a GGUF model with llama.cpp's `llama_model_quantize` and writes the result to
 * `options.out`, off the JavaScript thread.
 *
 * - Requantizing is allowed (`allow_requantize`): the models emosteer ships are 4-bit
 *   already (Gemma 3 270M Q4_K_M, SmolLM2 Q4_1, Qwen Q4_K_M). The ladder therefore goes
 *   down from the shipped precision: a q8_0 file made from a Q4_K_M one holds the same
 *   4-bit information in 8 bits (near-identical activations, twice the memory), and a q2_k
 *   made from it carries both quantization errors. `requantized` in the result says when
 *   this happened.
 * - The output appears at `out` only when complete: llama.cpp writes `<out>.partial-<pid>`,
 *   which is renamed when it has finished, and removed on any failure or abort.
 * - Progress: llama_model_quantize has no progress callback; emosteer reads llama.cpp's
 *   per-tensor log line ("[ n/ N] name ...") on the worker thread, and weights it by the
 *   tensors' element counts from the input's tensor table.
 *
 * @example
 * const r = await quantizeModel('gemma-3-270m-q4_k_m.gguf', { type: 'q3_k_m', out: 'gemma-q3_k_m.gguf' });
 * console.log(`${r.bytesIn} -> ${r.bytesOut} bytes in ${r.seconds.toFixed(1)} s`);
 *
 * @throws EmosteerError INVALID_ARGUMENT (unknown type, bad options, out equals the input),
 *   FILE_NOT_FOUND, NOT_GGUF / GGUF_TRUNCATED / GGUF_CORRUPT (checked before llama.cpp sees
 *   the file), QUANTIZE_FAILED (llama.cpp refused; its reason is in the message), ABORTED
 */
export async function quantizeModel(input: string, options: QuantizeModelOptions): Promise<QuantizeResult> {
  if (typeof input !== 'string' || input.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'quantizeModel(input): input must be the path of a .gguf file');
  if (options === null || typeof options !== 'object') throw new EmosteerError('INVALID_ARGUMENT', 'quantizeModel(input, { type, out }): options are required');
  const type = parseQuantizationType(options.type);
  if (typeof options.out !== 'string' || options.out.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'quantizeModel: out must be the path of the file to write');
  const threads = options.threads;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) {
    throw new EmosteerError('INVALID_ARGUMENT', `quantizeModel: threads must be an integer from 1 to 1024 (got ${String(threads)})`);
  }
  const { signal, onProgress } = options;
  const abs = resolve(input);
  const out = resolve(options.out);
  const abortedError = () => new EmosteerError('ABORTED', `quantization of ${abs} was cancelled; nothing was written to ${out}`);
  if (signal?.aborted) throw abortedError();

  let bytesIn: number;
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new EmosteerError('FILE_NOT_FOUND', `${abs} is not a file; pass the path of a .gguf model`);
    bytesIn = st.size;
  } catch (err) {
    if (err instanceof EmosteerError) throw err;
    throw new EmosteerError('FILE_NOT_FOUND', `model file ${abs} does not exist; pass the path of a .gguf model`, { cause: err });
  }
  const gguf: GgufFile = await readGguf(abs); // NOT_GGUF / GGUF_TRUNCATED / GGUF_CORRUPT, before llama.cpp sees it
  const realIn = await realpath(abs);
  const realOut = await realpath(out).catch(() => out);
  if (realIn === realOut) throw new EmosteerError('INVALID_ARGUMENT', `quantizeModel: out is the input file ${abs}; write to another path`);
  await mkdir(dirname(out), { recursive: true });
  if (signal?.aborted) throw abortedError();

  const sizes = new Map(gguf.tensors.map((t) => [t.name, elements(t.dims)]));
  const totalElements = [...sizes.values()].reduce((a, b) => a + b, 0) || 1;
  const requantized = gguf.tensors.some((t) => !UNQUANTIZED.has(t.type));
  const partial = `${out}.partial-${process.pid}`;
  const t0 = performance.now();
  let finished = false;
  let doneElements = 0;
  let current: string | null = null;
  let callbackError: unknown;
  let job: ReturnType<NativeQuantize['quantize']> | undefined;
  const report = (p: QuantizeProgress) => {
    if (!onProgress || callbackError !== undefined) return;
    try {
      onProgress(p);
    } catch (err) {
      callbackError = err; // stop, and reject with the caller's own error
      job?.abort();
    }
  };
  const onAbort = () => job?.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    job = nativeQuantize().quantize(abs, partial, out, {
      type,
      threads,
      onProgress: (e) => {
        if (finished) return; // a late event queued before the end
        if (current !== null) doneElements += sizes.get(current) ?? 0;
        current = e.tensor;
        report({ tensorsDone: e.index - 1, tensorsTotal: e.total, tensor: e.tensor, fraction: Math.min(1, doneElements / totalElements), seconds: (performance.now() - t0) / 1000 });
      },
    });
    const r = await job.promise;
    finished = true;
    if (callbackError !== undefined) {
      // the callback failed after the last tensor had started: the file is complete, but the caller asked to stop
      await rm(out, { force: true });
      throw callbackError;
    }
    const seconds = (performance.now() - t0) / 1000;
    const written = await readGguf(out);
    const tensorTypes: QuantizeResult['tensorTypes'] = {};
    let bytes = 0;
    let count = 0;
    for (const t of written.tensors) {
      const e = (tensorTypes[ggmlTypeName(t.type)] ??= { tensors: 0, bytes: 0 });
      e.tensors++;
      e.bytes += t.byteSize;
      bytes += t.byteSize;
      count += elements(t.dims);
    }
    report({ tensorsDone: r.tensors, tensorsTotal: r.tensors, tensor: '', fraction: 1, seconds });
    return {
      type, quantization: r.quantization, input: abs, out, bytesIn, bytesOut: r.bytesOut, seconds, tensors: r.tensors,
      fallbackTensors: r.fallbackTensors, requantized, bitsPerWeight: count > 0 ? (bytes * 8) / count : 0, tensorTypes,
    };
  } catch (err) {
    finished = true;
    await rm(partial, { force: true }); // the native side removes it already; never leave one behind
    if (callbackError !== undefined) throw callbackError;
    throw fromNativeError(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
