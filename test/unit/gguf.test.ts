import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmosteerError } from '../../lib/errors.js';
import { GgmlType, GgufValueType, ggmlTypeName, ggufValueTypeName } from '../../lib/gguf/types.js';
import { readGguf, readTensorF32, ggufKvValue } from '../../lib/gguf/reader.js';
import { GgufWriter } from '../../lib/gguf/writer.js';
import {
  dequantizeQ4_0,
  dequantizeQ8_0,
  floatToHalf,
  halfToFloat,
  quantizeQ4_0,
  quantizeQ8_0,
} from '../../lib/gguf/quantize.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emosteer-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random floats in [-scale, scale). */
function randomFloats(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<EmosteerError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    const err = e as EmosteerError;
    expect(err.code).toBe(code);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected ${code}, but the call succeeded`);
}

describe('type tables', () => {
  it('names value types and ggml types', () => {
    expect(ggufValueTypeName(GgufValueType.UINT32)).toBe('UINT32');
    expect(ggufValueTypeName(99)).toBe('unknown(99)');
    expect(ggmlTypeName(GgmlType.Q8_0)).toBe('Q8_0');
    expect(ggmlTypeName(GgmlType.Q6_K)).toBe('Q6_K');
    expect(ggmlTypeName(4)).toBe('unknown(4)');
  });
});

describe('GgufWriter / readGguf round trip', () => {
  it('round-trips every scalar and array value type', async () => {
    const w = new GgufWriter();
    w.setU8('t.u8', 250)
      .setI8('t.i8', -120)
      .setU16('t.u16', 65000)
      .setI16('t.i16', -32000)
      .setU32('t.u32', 4_000_000_000)
      .setI32('t.i32', -2_000_000_000)
      .setF32('t.f32', 1.5)
      .setF32('t.f32b', 0.1)
      .setBool('t.bool', true)
      .setBool('t.boolf', false)
      .setString('t.str', 'héllo ▁ wörld <|im_start|>')
      .setString('t.empty', '')
      .setU64('t.u64', 12345)
      .setU64('t.u64big', 2n ** 63n + 5n)
      .setI64('t.i64', -9_007_199_254_740_991)
      .setI64('t.i64big', -(2n ** 62n))
      .setF64('t.f64', Math.PI)
      .setArray('a.u8', GgufValueType.UINT8, [0, 1, 255])
      .setArray('a.i8', GgufValueType.INT8, [-128, 0, 127])
      .setArray('a.u16', GgufValueType.UINT16, [0, 65535])
      .setArray('a.i16', GgufValueType.INT16, [-32768, 32767])
      .setArray('a.u32', GgufValueType.UINT32, [0, 4294967295])
      .setArray('a.i32', GgufValueType.INT32, [-2147483648, 2147483647, 3])
      .setArray('a.f32', GgufValueType.FLOAT32, [0.5, -2, 0.1])
      .setArray('a.bool', GgufValueType.BOOL, [true, false, true])
      .setArray('a.str', GgufValueType.STRING, ['a', '', '▁b', '<0x0A>'])
      .setArray('a.u64', GgufValueType.UINT64, [1, 2n ** 64n - 1n])
      .setArray('a.i64', GgufValueType.INT64, [-1, -(2n ** 63n)])
      .setArray('a.f64', GgufValueType.FLOAT64, [1e300, -0.1])
      .setArray('a.empty', GgufValueType.INT32, []);
    const path = join(dir, 'kv.gguf');
    const res = await w.write(path);
    const f = await readGguf(path);
    expect(f.version).toBe(3);
    expect(f.tensors).toEqual([]);
    expect(f.fileSize).toBe(res.bytes);
    expect(f.dataOffset).toBe(res.bytes); // no tensors: no padding

    const scalars: [string, number, unknown][] = [
      ['t.u8', GgufValueType.UINT8, 250],
      ['t.i8', GgufValueType.INT8, -120],
      ['t.u16', GgufValueType.UINT16, 65000],
      ['t.i16', GgufValueType.INT16, -32000],
      ['t.u32', GgufValueType.UINT32, 4_000_000_000],
      ['t.i32', GgufValueType.INT32, -2_000_000_000],
      ['t.f32', GgufValueType.FLOAT32, 1.5],
      ['t.f32b', GgufValueType.FLOAT32, Math.fround(0.1)],
      ['t.bool', GgufValueType.BOOL, true],
      ['t.boolf', GgufValueType.BOOL, false],
      ['t.str', GgufValueType.STRING, 'héllo ▁ wörld <|im_start|>'],
      ['t.empty', GgufValueType.STRING, ''],
      ['t.u64', GgufValueType.UINT64, 12345],
      ['t.u64big', GgufValueType.UINT64, 2n ** 63n + 5n],
      ['t.i64', GgufValueType.INT64, -9_007_199_254_740_991],
      ['t.i64big', GgufValueType.INT64, -(2n ** 62n)],
      ['t.f64', GgufValueType.FLOAT64, Math.PI],
    ];
    for (const [key, type, value] of scalars) {
      expect(f.kv.get(key), key).toEqual({ type, value });
    }
    const arrays: [string, number, unknown[]][] = [
      ['a.u8', GgufValueType.UINT8, [0, 1, 255]],
      ['a.i8', GgufValueType.INT8, [-128, 0, 127]],
      ['a.u16', GgufValueType.UINT16, [0, 65535]],
      ['a.i16', GgufValueType.INT16, [-32768, 32767]],
      ['a.u32', GgufValueType.UINT32, [0, 4294967295]],
      ['a.i32', GgufValueType.INT32, [-2147483648, 2147483647, 3]],
      ['a.f32', GgufValueType.FLOAT32, [0.5, -2, Math.fround(0.1)]],
      ['a.bool', GgufValueType.BOOL, [true, false, true]],
      ['a.str', GgufValueType.STRING, ['a', '', '▁b', '<0x0A>']],
      ['a.u64', GgufValueType.UINT64, [1, 2n ** 64n - 1n]],
      ['a.i64', GgufValueType.INT64, [-1, -(2n ** 63n)]],
      ['a.f64', GgufValueType.FLOAT64, [1e300, -0.1]],
      ['a.empty', GgufValueType.INT32, []],
    ];
    for (const [key, itemType, value] of arrays) {
      expect(f.kv.get(key), key).toEqual({ type: GgufValueType.ARRAY, itemType, value });
    }
    // file order is insertion order
    expect([...f.kv.keys()]).toEqual([...scalars.map((x) => x[0]), ...arrays.map((x) => x[0])]);
    expect(ggufKvValue(f, 't.str')).toBe('héllo ▁ wörld <|im_start|>');
    expect(ggufKvValue(f, 'missing')).toBeUndefined();
  });

  it('writes tensors with ggml dims, alignment and conversions, and reads them back', async () => {
    const a = randomFloats(64 * 3, 1);
    const b = randomFloats(32 * 2, 2, 4);
    const c = randomFloats(64 * 2, 3, 0.01);
    const d = randomFloats(96, 4);
    const raw = new Uint8Array([1, 2, 3, 250, 0]);
    const w = new GgufWriter()
      .setString('general.architecture', 'test')
      .addTensor('a.f32', [64, 3], GgmlType.F32, a)
      .addTensor('b.f16', [32, 2], GgmlType.F16, b)
      .addTensor('c.q8', [64, 2], GgmlType.Q8_0, () => c)
      .addTensor('d.q4', [32, 3], GgmlType.Q4_0, async () => d)
      .addTensor('e.i8', [5], GgmlType.I8, raw);
    const path = join(dir, 'tensors.gguf');
    const res = await w.write(path);
    expect(await readFile(path)).toEqual(await w.toBuffer());

    const f = await readGguf(path);
    expect(f.alignment).toBe(32);
    expect(f.dataOffset % 32).toBe(0);
    expect(f.tensors.map((t) => [t.name, t.dims, t.type, t.byteSize])).toEqual([
      ['a.f32', [64, 3], GgmlType.F32, 64 * 3 * 4],
      ['b.f16', [32, 2], GgmlType.F16, 64 * 2],
      ['c.q8', [64, 2], GgmlType.Q8_0, 4 * 34],
      ['d.q4', [32, 3], GgmlType.Q4_0, 3 * 18],
      ['e.i8', [5], GgmlType.I8, 5],
    ]);
    for (const t of f.tensors) expect(t.offset % 32).toBe(0);
    // every tensor, the last included, is padded to the alignment
    const last = f.tensors[f.tensors.length - 1]!;
    expect(res.bytes).toBe(f.dataOffset + last.offset + 32);

    expect(await readTensorF32(f, path, 'a.f32')).toEqual(a);
    const bf = await readTensorF32(f, path, 'b.f16');
    for (let i = 0; i < b.length; i++) expect(Math.abs(bf[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(b[i]!) * 2 ** -11 + 2 ** -24);
    expect(await readTensorF32(f, path, 'c.q8')).toEqual(dequantizeQ8_0(quantizeQ8_0(c, 64)));
    expect(await readTensorF32(f, path, 'd.q4')).toEqual(dequantizeQ4_0(quantizeQ4_0(d, 32)));
    await expectCode(readTensorF32(f, path, 'e.i8'), 'INVALID_ARGUMENT', /I8/);
    await expectCode(readTensorF32(f, path, 'nope'), 'INVALID_ARGUMENT', /nope/);
  });

  it('honours general.alignment', async () => {
    const w = new GgufWriter().setU32('general.alignment', 64);
    w.addTensor('x', [3], GgmlType.F32, new Float32Array([1, 2, 3]));
    w.addTensor('y', [2], GgmlType.F32, new Float32Array([4, 5]));
    const path = join(dir, 'align64.gguf');
    await w.write(path);
    const f = await readGguf(path);
    expect(f.alignment).toBe(64);
    expect(f.dataOffset % 64).toBe(0);
    expect(f.tensors.map((t) => t.offset)).toEqual([0, 64]);
    expect(await readTensorF32(f, path, 'y')).toEqual(new Float32Array([4, 5]));
    expect(() => new GgufWriter().setU32('general.alignment', 48)).toThrow(EmosteerError);
    expect(() => new GgufWriter().setU64('general.alignment', 64)).toThrow(/UINT32/);
  });

  it('rejects bad writer input with INVALID_ARGUMENT', () => {
    const w = new GgufWriter();
    const bad = (fn: () => unknown): void => {
      try {
        fn();
      } catch (e) {
        expect((e as EmosteerError).code).toBe('INVALID_ARGUMENT');
        return;
      }
      throw new Error('expected a throw');
    };
    bad(() => w.setU8('k', 256));
    bad(() => w.setI32('k', 1.5));
    bad(() => w.setU64('k', -1));
    bad(() => w.setArray('k', GgufValueType.UINT16, [1, 70000]));
    bad(() => w.setString('', 'x'));
    bad(() => w.addTensor('t', [31], GgmlType.Q8_0, new Float32Array(31)));
    bad(() => w.addTensor('t', [32], GgmlType.F32, new Float32Array(31)));
    bad(() => w.addTensor('t', [32], GgmlType.F16, new Uint8Array(10)));
    bad(() => w.addTensor('t', [32], GgmlType.Q6_K, new Float32Array(32)));
    bad(() => w.addTensor('x'.repeat(64), [32], GgmlType.F32, new Float32Array(32)));
    bad(() => w.addTensor('t', [1, 1, 1, 1, 1], GgmlType.F32, new Float32Array(1)));
    bad(() => w.setArray('k', 99 as typeof GgufValueType.INT32, [1]));
    bad(() => w.setArray('k', GgufValueType.ARRAY as unknown as typeof GgufValueType.INT32, []));
    w.addTensor('t', [32], GgmlType.F32, new Float32Array(32));
    bad(() => w.addTensor('t', [32], GgmlType.F32, new Float32Array(32)));
  });
});

describe('float16', () => {
  it('converts known values', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(0.5)).toBe(0x3800);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(2 ** -14)).toBe(0x0400); // smallest normal
    expect(floatToHalf(0)).toBe(0x0000);
    expect(floatToHalf(-0)).toBe(0x8000);
    expect(floatToHalf(Infinity)).toBe(0x7c00);
    expect(floatToHalf(-Infinity)).toBe(0xfc00);
    expect(floatToHalf(NaN)).toBe(0x7e00);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(1e-10)).toBe(0x0000);
  });

  it('rounds to nearest, ties to even', () => {
    // halfway between 1 (0x3c00, even) and 1+2^-10 (0x3c01): down to even
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    // halfway between 0x3c01 (odd) and 0x3c02: up to even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // just above halfway rounds up
    expect(floatToHalf(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // 65520 is halfway between 65504 and 2^16: ties to even -> Infinity
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(65519)).toBe(0x7bff);
    // subnormals: 2^-25 is halfway between 0 and 2^-24 -> 0 (even); 3*2^-25 -> 2*2^-24
    expect(floatToHalf(2 ** -25)).toBe(0x0000);
    expect(floatToHalf(3 * 2 ** -25)).toBe(0x0002);
    expect(floatToHalf(2 ** -25 + 2 ** -35)).toBe(0x0001);
    // largest subnormal + half ulp carries into the smallest normal
    expect(floatToHalf(1023.5 * 2 ** -24)).toBe(0x0400);
  });

  it('round-trips every finite half exactly', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const exp = (h >>> 10) & 0x1f;
      if (exp === 0x1f && (h & 0x3ff) !== 0) continue; // NaN payloads
      if (floatToHalf(halfToFloat(h)) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });
});

describe('Q8_0 / Q4_0', () => {
  it('quantizes a hand-computed Q8_0 block', () => {
    const x = new Float32Array(32);
    x.set([127, -127, 0.5, -0.5, 1.5, -1.5, 2.4999, 100.6, -3.5, 0.49]);
    const q = quantizeQ8_0(x);
    expect(q.length).toBe(34);
    // d = 127/127 = 1 -> f16 0x3c00, little-endian
    expect([q[0], q[1]]).toEqual([0x00, 0x3c]);
    const qs = Array.from(new Int8Array(q.buffer, 2, 32));
    // roundf: halves away from zero
    expect(qs.slice(0, 10)).toEqual([127, -127, 1, -1, 2, -2, 2, 101, -4, 0]);
    expect(qs.slice(10).every((v) => v === 0)).toBe(true);
    expect(Array.from(dequantizeQ8_0(q).slice(0, 4))).toEqual([127, -127, 1, -1]);
  });

  it('quantizes hand-computed Q4_0 blocks', () => {
    // max magnitude is -8 -> d = -8 / -8 = 1, q = min(15, trunc(x + 8.5))
    const x = new Float32Array(32);
    x.set([-8, 7, 7.6, 0, -0.5, 0.49, 0.5, -3.2]);
    x[16] = 1; // pairs with x[0] in byte 0's high nibble
    x[17] = -1;
    const q = quantizeQ4_0(x);
    expect(q.length).toBe(18);
    expect([q[0], q[1]]).toEqual([0x00, 0x3c]);
    const lo = Array.from(q.slice(2, 18), (b) => b & 15);
    const hi = Array.from(q.slice(2, 18), (b) => b >> 4);
    expect(lo.slice(0, 8)).toEqual([0, 15, 15, 8, 8, 8, 9, 5]);
    expect(hi.slice(0, 2)).toEqual([9, 7]);
    expect(Array.from(dequantizeQ4_0(q).slice(0, 8))).toEqual([-8, 7, 7, 0, 0, 0, 1, -3]);

    // max magnitude +8 -> d = -1 (f16 0xbc00); +8 -> q 0, -8 -> 16 clamped to 15
    const y = new Float32Array(32);
    y[0] = 8;
    y[1] = -8;
    const p = quantizeQ4_0(y);
    expect([p[0], p[1]]).toEqual([0x00, 0xbc]);
    expect(p[2]! & 15).toBe(0);
    expect(p[3]! & 15).toBe(15);
    expect(Array.from(dequantizeQ4_0(p).slice(0, 3))).toEqual([8, -7, -0]);
  });

  it('quantizes all-zero blocks to zero', () => {
    const z = new Float32Array(64);
    expect(Array.from(dequantizeQ8_0(quantizeQ8_0(z)))).toEqual(Array(64).fill(0));
    const q4 = quantizeQ4_0(z);
    expect(q4[2]).toBe(0x88);
    expect(Array.from(dequantizeQ4_0(q4)).every((v) => v === 0)).toBe(true);
  });

  it('stays within the quantization error bounds', () => {
    const cols = 256;
    const x = randomFloats(cols * 8, 7, 3);
    for (let i = 0; i < x.length; i += 97) x[i] = x[i]! * 10; // some outliers
    const q8 = dequantizeQ8_0(quantizeQ8_0(x, cols));
    const q4 = dequantizeQ4_0(quantizeQ4_0(x, cols));
    for (let b = 0; b < x.length / 32; b++) {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]!));
      for (let j = 0; j < 32; j++) {
        const i = b * 32 + j;
        // half a step, plus the f16 rounding of the scale (relative 2^-11) times up to 127 steps
        expect(Math.abs(q8[i]! - x[i]!)).toBeLessThanOrEqual((amax / 127) * 0.5 + amax * 2 ** -11 + 1e-6);
        // one full step (the value opposite the max is clamped), plus the f16 scale error
        expect(Math.abs(q4[i]! - x[i]!)).toBeLessThanOrEqual(amax / 8 + amax * 2 ** -8 + 1e-6);
      }
    }
  });

  it('rejects shapes that are not whole blocks', () => {
    expect(() => quantizeQ8_0(new Float32Array(48))).toThrow(EmosteerError);
    expect(() => quantizeQ4_0(new Float32Array(64), 48)).toThrow(/multiple of 32/);
    expect(() => quantizeQ4_0(new Float32Array(96), 64)).toThrow(/whole number of rows/);
  });
});

describe('readGguf errors', () => {
  async function smallFile(): Promise<Buffer> {
    const w = new GgufWriter().setString('a.b', 'hello').setU32('c.d', 7);
    w.addTensor('w', [64, 2], GgmlType.F32, randomFloats(128, 9));
    return w.toBuffer();
  }

  it('FILE_NOT_FOUND for a missing file', async () => {
    const p = join(dir, 'does-not-exist.gguf');
    await expectCode(readGguf(p), 'FILE_NOT_FOUND', /does-not-exist\.gguf/);
  });

  it('FILE_NOT_FOUND for a directory', async () => {
    await expectCode(readGguf(dir), 'FILE_NOT_FOUND');
  });

  it('NOT_GGUF for a zip file, showing the bytes seen', async () => {
    const p = join(dir, 'model.zip');
    await writeFile(p, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
    const err = await expectCode(readGguf(p), 'NOT_GGUF');
    expect(err.message).toContain("'PK\\x03\\x04'");
    expect(err.message).toContain('.gguf');
  });

  it('NOT_GGUF for an empty file, GGUF_TRUNCATED for a cut magic', async () => {
    const empty = join(dir, 'empty.gguf');
    await writeFile(empty, Buffer.alloc(0));
    await expectCode(readGguf(empty), 'NOT_GGUF', /empty/);
    const gg = join(dir, 'gg.gguf');
    await writeFile(gg, Buffer.from('GG'));
    await expectCode(readGguf(gg), 'GGUF_TRUNCATED');
  });

  it('GGUF_TRUNCATED when the file ends inside the header, metadata or tensor infos', async () => {
    const full = await smallFile();
    const f = join(dir, 'full.gguf');
    await writeFile(f, full);
    const info = await readGguf(f);
    for (const cut of [10, 30, 40, 60, info.dataOffset - 20]) {
      const p = join(dir, `cut-${cut}.gguf`);
      await writeFile(p, full.subarray(0, cut));
      await expectCode(readGguf(p), 'GGUF_TRUNCATED', /truncated/);
    }
  });

  it('GGUF_TRUNCATED when tensor data extends past the end of the file', async () => {
    const full = await smallFile();
    const p = join(dir, 'cut-data.gguf');
    await writeFile(p, full.subarray(0, full.length - 100));
    await expectCode(readGguf(p), 'GGUF_TRUNCATED', /tensor 'w'/);
  });

  /** Offsets in smallFile(): header 24 bytes, then key 'a.b' (8 + 3 bytes), its type at 35, value length at 39. */
  async function patched(name: string, patch: (b: Buffer) => void): Promise<string> {
    const b = Buffer.from(await smallFile());
    patch(b);
    const p = join(dir, name);
    await writeFile(p, b);
    return p;
  }

  it('GGUF_CORRUPT for an unknown value type', async () => {
    const p = await patched('bad-type.gguf', (b) => {
      expect(b.readInt32LE(35)).toBe(GgufValueType.STRING);
      b.writeInt32LE(99, 35);
    });
    await expectCode(readGguf(p), 'GGUF_CORRUPT', /unknown value type 99/);
  });

  it('GGUF_CORRUPT for nested arrays and duplicate keys', async () => {
    const b = await new GgufWriter().setArray('x', GgufValueType.INT32, [1]).setU8('y', 1).toBuffer();
    // key 'x' at 24 (8 + 1 bytes), ARRAY type at 33, item type at 37
    expect(b.readInt32LE(33)).toBe(GgufValueType.ARRAY);
    const nested = Buffer.from(b);
    nested.writeInt32LE(GgufValueType.ARRAY, 37);
    const p = join(dir, 'nested.gguf');
    await writeFile(p, nested);
    await expectCode(readGguf(p), 'GGUF_CORRUPT', /do not nest/);
    const dup = Buffer.from(b);
    dup.write('x', b.indexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x79])) + 8, 'latin1'); // rename 'y' to 'x'
    const p2 = join(dir, 'dup.gguf');
    await writeFile(p2, dup);
    await expectCode(readGguf(p2), 'GGUF_CORRUPT', /twice/);
  });

  it('GGUF_CORRUPT for an unsupported version', async () => {
    const p = await patched('v4.gguf', (b) => b.writeUInt32LE(4, 4));
    await expectCode(readGguf(p), 'GGUF_CORRUPT', /version 4/);
    const p1 = await patched('v1.gguf', (b) => b.writeUInt32LE(1, 4));
    await expectCode(readGguf(p1), 'GGUF_CORRUPT', /version 1/);
    const be = await patched('be.gguf', (b) => b.writeUInt32LE(0x03000000, 4));
    await expectCode(readGguf(be), 'GGUF_CORRUPT', /big-endian/);
  });

  it('GGUF_CORRUPT for absurd lengths and counts', async () => {
    const p = await patched('long-string.gguf', (b) => b.writeBigUInt64LE(2n ** 40n, 39));
    await expectCode(readGguf(p), 'GGUF_CORRUPT', /length/);
    const p2 = await patched('many-kv.gguf', (b) => b.writeBigInt64LE(2n ** 40n, 16));
    await expectCode(readGguf(p2), 'GGUF_CORRUPT', /metadata count/);
    const p3 = await patched('neg-tensors.gguf', (b) => b.writeBigInt64LE(-1n, 8));
    await expectCode(readGguf(p3), 'GGUF_CORRUPT', /tensor count/);
  });

  it('GGUF_CORRUPT for a misaligned tensor offset or unknown tensor type', async () => {
    const full = await smallFile();
    // tensor info is at the end of the header: name 'w', n_dims, 2 dims, type, offset
    const f = join(dir, 'full2.gguf');
    await writeFile(f, full);
    const info = await readGguf(f);
    const tiStart = full.indexOf(Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0x77])); // u64 len 1 + 'w'
    expect(tiStart).toBeGreaterThan(0);
    const typeAt = tiStart + 9 + 4 + 16;
    const offAt = typeAt + 4;
    expect(full.readInt32LE(typeAt)).toBe(GgmlType.F32);
    const p = await patched('misaligned.gguf', (b) => b.writeBigUInt64LE(4n, offAt));
    await expectCode(readGguf(p), 'GGUF_CORRUPT', /not a multiple of the alignment/);
    const p2 = await patched('bad-ggml-type.gguf', (b) => b.writeInt32LE(4, typeAt));
    await expectCode(readGguf(p2), 'GGUF_CORRUPT', /unknown ggml type 4/);
    expect(info.tensors[0]!.name).toBe('w');
  });
});
