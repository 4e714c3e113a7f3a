import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmosteerError, EmotionVectorSet, GgufWriter, readControlVector, readGguf, readTensorF32, writeControlVector, writeSyntheticModel } from '../../lib/index.js';
import { GgmlType, GgufValueType } from '../../lib/gguf/types.js';
// @ts-expect-error plain JS helper shared with scripts/fuzz-gguf-load.mjs
import { ggufFields, writeField } from '../fuzz/gguf-mutate.mjs';

interface Field { at: number; size: number; kind: string; key?: string }

const GGUF_CODES = ['NOT_GGUF', 'GGUF_TRUNCATED', 'GGUF_CORRUPT'];
const RUNS = 250;

let dir: string;
let rich: Buffer;
let richFields: Field[];
let richHeaderEnd: number;
let cv: Buffer;
let cvFields: Field[];
let setDir: string;
let n = 0;

/** A fresh path under the test folder holding `bytes`. */
function fileOf(bytes: Uint8Array): string {
  const p = join(dir, `m${n++}.gguf`);
  writeFileSync(p, bytes);
  return p;
}

/** Runs `fn` with Buffer.alloc/allocUnsafe watched: the largest size any call asked for. */
async function watchingAllocations<T>(fn: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; largest: number }> {
  let largest = 0;
  const alloc = Buffer.alloc.bind(Buffer);
  const unsafe = Buffer.allocUnsafe.bind(Buffer);
  const a = vi.spyOn(Buffer, 'alloc').mockImplementation(((size: number, ...rest: unknown[]) => { largest = Math.max(largest, size); return (alloc as (...x: unknown[]) => Buffer)(size, ...rest); }) as typeof Buffer.alloc);
  const u = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => { largest = Math.max(largest, size); return unsafe(size); });
  try {
    const settled = await Promise.race([
      fn().then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('hang: no answer in 5 s')), 5000)),
    ]);
    return { result: settled, largest };
  } finally {
    a.mockRestore();
    u.mockRestore();
  }
}

/**
 * The property every reader must have on any bytes: a typed error with one of `codes`, or a
 * parse that `check` accepts; no hang; no buffer larger than the file.
 */
async function mustBeTypedOrValid<T>(bytes: Uint8Array, read: (path: string) => Promise<T>, codes: string[], check: (v: T) => void): Promise<void> {
  const path = fileOf(bytes);
  const { result, largest } = await watchingAllocations(() => read(path));
  expect(largest).toBeLessThanOrEqual(Math.max(bytes.length, 16));
  if (result.status === 'rejected') {
    const e = result.reason as EmosteerError;
    expect(e, String(e)).toBeInstanceOf(EmosteerError);
    expect(codes).toContain(e.code);
  } else {
    check(result.value);
  }
  rmSync(path, { force: true });
}

/** A parsed file whose every tensor lies inside the file, and is readable (or typed-rejected). */
async function checkParsed(path: string, size: number): Promise<void> {
  const f = await readGguf(path).catch(() => null);
  if (!f) return;
  for (const t of f.tensors) {
    expect(f.dataOffset + t.offset + t.byteSize).toBeLessThanOrEqual(size);
    await readTensorF32(f, path, t.name).then(
      (v) => expect(v.length).toBe(t.dims.reduce((a, b) => a * b, 1)),
      (e) => { expect(e).toBeInstanceOf(EmosteerError); expect(['INVALID_ARGUMENT', 'GGUF_TRUNCATED']).toContain((e as EmosteerError).code); },
    );
  }
}

const readerCheck = (size: number) => (f: Awaited<ReturnType<typeof readGguf>>) => {
  expect(f.fileSize).toBe(size);
  for (const t of f.tensors) expect(f.dataOffset + t.offset + t.byteSize).toBeLessThanOrEqual(size);
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emosteer-fuzz-'));
  const w = new GgufWriter();
  w.setString('general.architecture', 'llama');
  w.setString('general.name', 'fuzz');
  w.setU32('llama.block_count', 2);
  w.setU8('t.u8', 7); w.setI8('t.i8', -7); w.setU16('t.u16', 700); w.setI16('t.i16', -700); w.setI32('t.i32', -70000);
  w.setU64('t.u64', 1n << 40n); w.setI64('t.i64', -(1n << 40n)); w.setF32('llama.attention.layer_norm_rms_epsilon', 1e-5); w.setF64('t.f64', Math.PI); w.setBool('t.bool', true);
  w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['<s>', '</s>', 'a', 'b', 'hello', '▁x']);
  w.setArray('t.i32s', GgufValueType.INT32, [1, -2, 3, -4]);
  w.setArray('t.f32s', GgufValueType.FLOAT32, [0.5, 1.5]);
  w.setU32('general.alignment', 32);
  const vals = (k: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i));
  w.addTensor('a.f32', [8, 2], GgmlType.F32, vals(16));
  w.addTensor('b.f16', [16], GgmlType.F16, vals(16));
  w.addTensor('c.q8', [32, 2], GgmlType.Q8_0, vals(64));
  w.addTensor('d.q4', [32], GgmlType.Q4_0, vals(32));
  rich = await w.toBuffer();
  ({ fields: richFields, headerEnd: richHeaderEnd } = ggufFields(rich));
  await readGguf(fileOf(rich)); // the base is valid

  const cvPath = join(dir, 'cv.gguf');
  await writeControlVector(cvPath, new Map([[1, vals(32)], [2, vals(32)], [3, vals(32)]]), { modelHint: 'llama', nLayer: 4 });
  cv = readFileSync(cvPath);
  cvFields = ggufFields(cv).fields;

  setDir = join(dir, 'set');
  const v = (s: number) => Float32Array.from({ length: 16 }, (_, i) => Math.cos(s + i));
  const set = EmotionVectorSet.fromVectors(
    { method: 'synthetic', model: { path: '/x.gguf', sha256: '', arch: 'llama', description: 'x', nLayer: 3, nEmbd: 16, quantization: 'F32', nParams: 1 }, params: {} },
    new Map([['calm', new Map([[0, v(1)], [1, v(2)], [2, v(3)]])], ['angry', new Map([[0, v(4)], [1, v(5)], [2, v(6)]])]]),
  );
  await set.save(setDir);
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('fuzzing the GGUF reader (fast-check): a typed error or a correct parse, never a crash, hang or oversized allocation', () => {
  it('random truncations', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: rich.length - 1 }), async (cut) => {
      const bytes = rich.subarray(0, cut);
      await mustBeTypedOrValid(bytes, readGguf, GGUF_CODES, readerCheck(cut));
      // a cut inside the header (or the tensor infos) is always GGUF_TRUNCATED
      if (cut > 0 && cut <= richHeaderEnd) await expect(readGguf(fileOf(bytes))).rejects.toMatchObject({ code: 'GGUF_TRUNCATED' });
    }), { numRuns: RUNS });
  });

  it('random bit flips in the header and anywhere', async () => {
    const flips = fc.array(fc.record({ at: fc.integer({ min: 0, max: rich.length - 1 }), bit: fc.integer({ min: 0, max: 7 }), header: fc.boolean() }), { minLength: 1, maxLength: 8 });
    await fc.assert(fc.asyncProperty(flips, async (fs) => {
      const b = Buffer.from(rich);
      for (const f of fs) b[f.header ? f.at % richHeaderEnd : f.at]! ^= 1 << f.bit;
      await mustBeTypedOrValid(b, readGguf, GGUF_CODES, readerCheck(b.length));
      await checkParsed(fileOf(b), b.length);
    }), { numRuns: RUNS });
  });

  it('huge counts, string lengths and array sizes in every header field', async () => {
    const big = fc.oneof(fc.constantFrom(0n, 1n, 1n << 24n, (1n << 24n) + 1n, 1n << 30n, (1n << 30n) + 1n, 1n << 32n, 1n << 53n, 1n << 62n, (1n << 63n) - 1n, (1n << 64n) - 1n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
    const counts = richFields.filter((f) => ['tensorCount', 'kvCount', 'strlen', 'arrayCount', 'arrayStrlen', 'tensorNameLen', 'dim'].includes(f.kind));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: counts.length - 1 }), big, async (i, v) => {
      const f = counts[i]!;
      const b = Buffer.from(rich);
      writeField(b, f.at, f.size, v);
      const t0 = performance.now();
      await mustBeTypedOrValid(b, readGguf, GGUF_CODES, readerCheck(b.length));
      expect(performance.now() - t0).toBeLessThan(2000); // no loop or allocation driven by the count
    }), { numRuns: RUNS });
  });

  it('wrong value types, item types and tensor types', async () => {
    const types = richFields.filter((f) => ['valueType', 'arrayItemType', 'ggmlType', 'nDims', 'version'].includes(f.kind));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: types.length - 1 }), fc.oneof(fc.integer({ min: -3, max: 45 }), fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff)), async (i, v) => {
      const f = types[i]!;
      const b = Buffer.from(rich);
      writeField(b, f.at, f.size, v);
      await mustBeTypedOrValid(b, readGguf, GGUF_CODES, readerCheck(b.length));
      await checkParsed(fileOf(b), b.length);
    }), { numRuns: RUNS });
  });

  it('tensor offsets past the end, misaligned or overflowing', async () => {
    const offsets = richFields.filter((f) => f.kind === 'tensorOffset');
    const value = fc.oneof(fc.bigInt({ min: 0n, max: BigInt(rich.length * 2) }), fc.constantFrom(BigInt(rich.length), (1n << 53n), (1n << 63n) - 32n, (1n << 64n) - 32n));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: offsets.length - 1 }), value, async (i, v) => {
      const b = Buffer.from(rich);
      writeField(b, offsets[i]!.at, 8, v);
      await mustBeTypedOrValid(b, readGguf, GGUF_CODES, readerCheck(b.length));
      await checkParsed(fileOf(b), b.length);
    }), { numRuns: RUNS });
  });

  it('metadata llama.cpp would abort on is GGUF_CORRUPT (block count, norm epsilon, duplicate tokens)', async () => {
    const field = (key: string) => richFields.find((f) => f.kind === 'value' && f.key === key)!;
    for (const v of [0, 513, 0xffffffff]) {
      const b = Buffer.from(rich);
      writeField(b, field('llama.block_count').at, 4, v);
      await expect(readGguf(fileOf(b))).rejects.toMatchObject({ code: 'GGUF_CORRUPT', message: expect.stringContaining('block_count') });
    }
    for (const v of [-1e-5, Number.NaN, Infinity]) {
      const b = Buffer.from(rich);
      b.writeFloatLE(v, field('llama.attention.layer_norm_rms_epsilon').at);
      await expect(readGguf(fileOf(b))).rejects.toMatchObject({ code: 'GGUF_CORRUPT', message: expect.stringContaining('epsilon') });
    }
    const w = new GgufWriter();
    w.setString('general.architecture', 'llama');
    w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['a', 'b', 'a']);
    await expect(readGguf(fileOf(await w.toBuffer()))).rejects.toMatchObject({ code: 'GGUF_CORRUPT', message: expect.stringContaining('appears twice') });
    const empty = new GgufWriter();
    empty.setString('general.architecture', 'llama');
    empty.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['', 'b', '']);
    await expect(readGguf(fileOf(await empty.toBuffer()))).resolves.toBeDefined(); // llama.cpp renames empty tokens
    // weights of a type llama.cpp cannot compute with (it loads them, then crashes in the first matmul)
    for (const [type, bytes] of [[GgmlType.I32, 4 * 32], [GgmlType.Q8_1, 36]] as const) {
      const iw = new GgufWriter();
      iw.setString('general.architecture', 'llama');
      iw.addTensor('blk.0.ffn_down.weight', [32], type, new Uint8Array(bytes));
      await expect(readGguf(fileOf(await iw.toBuffer()))).rejects.toMatchObject({ code: 'GGUF_CORRUPT', message: expect.stringContaining('cannot compute with') });
    }
    // a leading U+FEFF is part of the token (Gemma has such tokens): kept, so no false duplicate
    const bom = new GgufWriter();
    bom.setString('general.architecture', 'llama');
    bom.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['\uFEFF//', '//', '\uFEFF']);
    const parsed = await readGguf(fileOf(await bom.toBuffer()));
    expect(parsed.kv.get('tokenizer.ggml.tokens')!.value).toEqual(['\uFEFF//', '//', '\uFEFF']);
  });
});

describe('fuzzing the control-vector reader (fast-check)', () => {
  const CV_CODES = [...GGUF_CODES, 'INVALID_ARGUMENT', 'VECTOR_WIDTH_MISMATCH'];
  const cvCheck = (f: Awaited<ReturnType<typeof readControlVector>>) => {
    expect(f.appliedAt.size).toBeGreaterThan(0);
    for (const v of f.appliedAt.values()) expect(v.length).toBe(f.nEmbd);
    expect(f.readFrom.size).toBe(f.appliedAt.size);
  };

  it('truncations, bit flips and field overwrites', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('cut' as const), at: fc.integer({ min: 0, max: cv.length - 1 }) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.integer({ min: 0, max: cv.length - 1 }), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('field' as const), i: fc.integer({ min: 0, max: cvFields.length - 1 }), v: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    );
    await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (ms) => {
      let b = Buffer.from(cv);
      for (const m of ms) {
        if (m.kind === 'cut') b = b.subarray(0, Math.min(m.at, b.length));
        else if (m.kind === 'flip') { if (m.at < b.length) b[m.at]! ^= 1 << m.bit; }
        else { const f = cvFields[m.i]!; if (f.at + f.size <= b.length) writeField(b, f.at, f.size, m.v); }
      }
      await mustBeTypedOrValid(b, (p) => readControlVector(p), CV_CODES, cvCheck);
    }), { numRuns: RUNS * 2 });
  });
});

describe('fuzzing the vector-set loader (fast-check)', () => {
  const SET_CODES = ['VECTOR_SET_CORRUPT', 'FILE_NOT_FOUND', 'INVALID_ARGUMENT'];
  const manifest = () => JSON.parse(readFileSync(join(setDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;

  async function loadEdited(edit: (m: Record<string, unknown>, d: string) => unknown): Promise<void> {
    const d = join(dir, `set${n++}`);
    cpSync(setDir, d, { recursive: true });
    const m = manifest();
    const r = edit(m, d);
    writeFileSync(join(d, 'manifest.json'), typeof r === 'string' ? r : JSON.stringify(m));
    const got = await EmotionVectorSet.load(d).then((s) => s, (e: unknown) => e);
    if (got instanceof EmotionVectorSet) {
      // a set that loads is usable
      for (const e of got.emotions) for (const l of got.layers) expect(got.vector(e, l).length).toBe(got.nEmbd);
    } else {
      expect(got, String(got)).toBeInstanceOf(EmosteerError);
      expect(SET_CODES).toContain((got as EmosteerError).code);
    }
    rmSync(d, { recursive: true, force: true });
  }

  it('any JSON value in place of any manifest field (top level and inside arrays)', async () => {
    const keys = Object.keys(manifest());
    const paths = [...keys.map((k) => [k]), ...['vectors', 'unit', 'means'].flatMap((a) => ['file', 'shape', 'sha256'].map((k) => ['arrays', a, k]))];
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: paths.length - 1 }), fc.oneof(fc.jsonValue(), fc.constant(undefined)), async (i, v) => {
      await loadEdited((m) => {
        const p = paths[i]!;
        let o = m as Record<string, unknown>;
        for (const k of p.slice(0, -1)) o = o[k] as Record<string, unknown>;
        if (v === undefined) delete o[p.at(-1)!]; else o[p.at(-1)!] = v;
      });
    }), { numRuns: RUNS });
  });

  it('any text as manifest.json, and damaged array files', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.json()), async (text) => { await loadEdited(() => text || ' '); }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(fc.constantFrom('vectors.f32', 'unit.f32', 'means.f32'), fc.integer({ min: 0, max: 200 }), fc.boolean(), async (file, at, cut) => {
      await loadEdited((m, d) => {
        const p = join(d, file);
        const b = readFileSync(p);
        writeFileSync(p, cut ? b.subarray(0, at % b.length) : (b[at % b.length]! ^= 0x10, b));
        return JSON.stringify(m);
      }).then(async () => {
        // damage is always caught by the sha256
        const d = join(dir, `set${n++}`);
        cpSync(setDir, d, { recursive: true });
        const p = join(d, file);
        const b = readFileSync(p);
        writeFileSync(p, cut ? b.subarray(0, at % b.length) : (b[at % b.length]! ^= 0x10, b));
        await expect(EmotionVectorSet.load(d)).rejects.toMatchObject({ code: 'VECTOR_SET_CORRUPT' });
      });
    }), { numRuns: 40 });
  });
});

describe('fuzzing loadModel in child processes (scripts/fuzz-gguf-load.mjs)', () => {
  it('300 mutants of a synthetic model: no crash, no hang, only typed errors', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [resolve('scripts/fuzz-gguf-load.mjs'), '--cases', '300', '--seed', '5', '--batch', '50', '--json'], {
      env: { ...process.env, EMOSTEER_THREADS: '1' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024,
    }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const r = JSON.parse(stdout) as { cases: number; outcomes: Record<string, number>; crashes: unknown[]; untyped: unknown[] };
    expect(r.crashes).toEqual([]);
    expect(r.untyped).toEqual([]);
    expect(r.cases).toBe(300);
    expect(r.outcomes['loaded+decoded']).toBeGreaterThan(0);
    expect((r.outcomes.GGUF_CORRUPT ?? 0) + (r.outcomes.GGUF_TRUNCATED ?? 0)).toBeGreaterThan(50);
  }, 130_000);

  it('a small synthetic model the script starts from loads (the base is valid)', async () => {
    const p = join(dir, 'base.gguf');
    await writeSyntheticModel({ out: p, layers: 2, embd: 32, seed: 3, type: 'f32' });
    const f = await readGguf(p);
    expect(ggufFields(readFileSync(p)).headerEnd).toBeLessThanOrEqual(f.dataOffset);
  });
});
