/**
 * float16 conversion and the Q8_0 / Q4_0 block quantizers of ggml, written so that the
 * bytes equal those of ggml's reference quantizers (`quantize_row_q8_0_ref`,
 * `quantize_row_q4_0_ref` in ggml-quants.c): every intermediate is rounded to float32
 * exactly where the C code computes in `float`.
 *
 * Block layouts (little-endian):
 * - Q8_0, 34 bytes per 32 values: f16 scale `d`, then 32 × int8 `q`; value = d·q.
 * - Q4_0, 18 bytes per 32 values: f16 scale `d`, then 16 bytes of nibbles; byte j holds
 *   value j in its low nibble and value j+16 in its high nibble; value = d·(q − 8).
 *
 * Used by the GGUF writer (float32 data given for an F16, Q8_0 or Q4_0 tensor), the reader
 * (decoding F16, BF16, Q8_0 and Q4_0 tensors) and the synthetic models of lib/synth/. Real
 * models are quantized by llama.cpp itself (lib/models/quantize-model.ts).
 *
 * @module
 */

import { EmosteerError } from '../errors.js';

/** Values per Q8_0 / Q4_0 block. */
export const QK = 32;

/** Bytes per Q8_0 block. */
export const Q8_0_BLOCK_BYTES = 34;

/** Bytes per Q4_0 block. */
export const Q4_0_BLOCK_BYTES = 18;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fround = Math.fround;

/**
 * Converts a number to IEEE-754 binary16 bits, rounding to nearest, ties to even (as ggml's
 * `GGML_FP32_TO_FP16`). The number is first rounded to float32, as the C code receives a
 * `float`. Overflow gives ±Infinity (0x7C00 | sign), NaN gives 0x7E00 | sign.
 *
 * @param value any number
 * @returns the 16-bit pattern, 0..0xFFFF
 * @example
 * floatToHalf(1) === 0x3c00; floatToHalf(65504) === 0x7bff; floatToHalf(2 ** -24) === 0x0001
 */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;

  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);

  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;

  if (e >= 1) {
    // normal half: keep the top 10 mantissa bits, round on the 13 dropped bits
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // may carry into the exponent (up to inf)
    return sign | h;
  }

  // subnormal half (or zero): value / 2^-24 = m * 2^(e - 14)
  if (exp === 0) return sign; // float32 zero or subnormal (< 2^-126) -> ±0
  const m = mant | 0x800000;
  const shift = 14 - e; // >= 14
  if (shift > 24) return sign; // below 2^-25: rounds to zero
  let q = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (q & 1) === 1)) q += 1;
  return sign | q;
}

/**
 * Converts IEEE-754 binary16 bits to a number (exact).
 * @param h 16-bit pattern
 */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Converts float32 values to binary16 bit patterns.
 * @param src values
 * @returns one 16-bit pattern per value
 */
export function floatsToHalves(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = floatToHalf(src[i]!);
  return out;
}

/**
 * Converts a bfloat16 bit pattern to a number (exact).
 * @param h 16-bit pattern (the high half of a float32)
 */
export function bf16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

function checkShape(what: string, n: number, cols: number): void {
  if (!Number.isInteger(cols) || cols <= 0 || cols % QK !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `${what}: row length ${cols} must be a positive multiple of ${QK}`);
  }
  if (n % cols !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `${what}: ${n} values is not a whole number of rows of ${cols}`);
  }
}

/** C `roundf`: round half away from zero. */
function roundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/**
 * Quantizes row-major float32 data `[rows][cols]` to Q8_0, byte-identical to ggml's
 * `quantize_row_q8_0_ref` applied to each row. Blocks never cross rows because `cols`
 * must be a multiple of 32.
 *
 * @param src the values, `rows * cols` of them
 * @param cols row length (ne[0]); defaults to `src.length`
 * @returns `src.length / 32 * 34` bytes
 * @throws EmosteerError INVALID_ARGUMENT when the shape is not a whole number of blocks
 */
export function quantizeQ8_0(src: Float32Array, cols: number = src.length): Uint8Array {
  checkShape('quantizeQ8_0', src.length, cols);
  const nb = src.length / QK;
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
  for (let b = 0; b < nb; b++) {
    const base = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) {
      const a = Math.abs(src[base + j]!);
      if (a > amax) amax = a;
    }
    const d = fround(amax / 127);
    const id = d !== 0 ? fround(1 / d) : 0;
    const o = b * Q8_0_BLOCK_BYTES;
    const h = floatToHalf(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < QK; j++) {
      out[o + 2 + j] = roundf(fround(src[base + j]! * id)) & 0xff;
    }
  }
  return out;
}

/**
 * Dequantizes Q8_0 blocks (as ggml's `dequantize_row_q8_0`).
 * @param src whole Q8_0 blocks
 * @returns 32 values per block
 */
export function dequantizeQ8_0(src: Uint8Array): Float32Array {
  if (src.length % Q8_0_BLOCK_BYTES !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `dequantizeQ8_0: ${src.length} bytes is not a whole number of ${Q8_0_BLOCK_BYTES}-byte blocks`);
  }
  const nb = src.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(nb * QK);
  for (let b = 0; b < nb; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    const d = halfToFloat(src[o]! | (src[o + 1]! << 8));
    for (let j = 0; j < QK; j++) {
      const q = (src[o + 2 + j]! << 24) >> 24; // int8
      out[b * QK + j] = q * d;
    }
  }
  return out;
}

/**
 * Quantizes row-major float32 data `[rows][cols]` to Q4_0, byte-identical to ggml's
 * `quantize_row_q4_0_ref` applied to each row: per block, `d = max / -8` where `max` is the
 * first value of largest magnitude, `q = min(15, trunc(x / d + 8.5))`.
 *
 * @param src the values, `rows * cols` of them
 * @param cols row length (ne[0]); defaults to `src.length`
 * @returns `src.length / 32 * 18` bytes
 * @throws EmosteerError INVALID_ARGUMENT when the shape is not a whole number of blocks
 */
export function quantizeQ4_0(src: Float32Array, cols: number = src.length): Uint8Array {
  checkShape('quantizeQ4_0', src.length, cols);
  const nb = src.length / QK;
  const out = new Uint8Array(nb * Q4_0_BLOCK_BYTES);
  const half = QK / 2;
  for (let b = 0; b < nb; b++) {
    const base = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[base + j]!;
      const a = Math.abs(v);
      if (amax < a) {
        amax = a;
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d !== 0 ? fround(1 / d) : 0;
    const o = b * Q4_0_BLOCK_BYTES;
    const h = floatToHalf(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < half; j++) {
      const x0 = fround(src[base + j]! * id);
      const x1 = fround(src[base + half + j]! * id);
      const q0 = Math.min(15, Math.trunc(fround(x0 + 8.5)) | 0);
      const q1 = Math.min(15, Math.trunc(fround(x1 + 8.5)) | 0);
      out[o + 2 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
    }
  }
  return out;
}

/**
 * Dequantizes Q4_0 blocks (as ggml's `dequantize_row_q4_0`).
 * @param src whole Q4_0 blocks
 * @returns 32 values per block
 */
export function dequantizeQ4_0(src: Uint8Array): Float32Array {
  if (src.length % Q4_0_BLOCK_BYTES !== 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `dequantizeQ4_0: ${src.length} bytes is not a whole number of ${Q4_0_BLOCK_BYTES}-byte blocks`);
  }
  const nb = src.length / Q4_0_BLOCK_BYTES;
  const out = new Float32Array(nb * QK);
  const half = QK / 2;
  for (let b = 0; b < nb; b++) {
    const o = b * Q4_0_BLOCK_BYTES;
    const d = halfToFloat(src[o]! | (src[o + 1]! << 8));
    for (let j = 0; j < half; j++) {
      const byte = src[o + 2 + j]!;
      out[b * QK + j] = ((byte & 0x0f) - 8) * d;
      out[b * QK + half + j] = ((byte >>> 4) - 8) * d;
    }
  }
  return out;
}
