import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, openSync, readdirSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmosteerError,
  QUANTIZATION_LADDER,
  QUANTIZATION_TYPES,
  cosine,
  loadModel,
  parseQuantizationType,
  quantizeModel,
  readGguf,
  writeControlVector,
  type QuantizeProgress,
} from '../../lib/index.js';
import { nativeQuantize } from '../../lib/models/quantize-model.js';
import { gemmaModel, syntheticModel, tempPath } from '../helpers/models.js';

const written: string[] = [];
afterAll(async () => {
  await Promise.all(written.map((p) => rm(p, { force: true })));
});
/** A temp output path, removed after the tests. */
function outPath(name: string): string {
  const p = tempPath(name);
  written.push(p);
  return p;
}
/** Nothing at `out`, and no partial file beside it. */
function nothingAt(out: string): boolean {
  return !existsSync(out) && readdirSync(dirname(out)).every((f) => !f.startsWith(basename(out)));
}
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EmosteerError);
    return (e as EmosteerError).code;
  }
  return 'resolved';
}

// embd 256 and ff 512: every row is a multiple of 256, so k-quants apply without fallback.
const F32 = { layers: 4, embd: 256, seed: 7, type: 'f32' } as const;

describe('quantizeModel: llama_model_quantize from the addon', () => {
  it('offers exactly the types the native table maps, case-insensitively and with aliases', () => {
    const native = nativeQuantize().quantizationTypes();
    expect(native.map((t) => t.name)).toEqual(Object.keys(QUANTIZATION_TYPES));
    expect(native.find((t) => t.name === 'q3_k_m')?.quantization).toBe('Q3_K - Medium');
    expect(parseQuantizationType('Q4_K_M')).toBe('q4_k_m');
    expect(parseQuantizationType(' q5_k ')).toBe('q5_k_m');
    expect(() => parseQuantizationType('q9_0')).toThrowError(/unknown quantization type 'q9_0'; use one of f32, f16/);
    for (const t of QUANTIZATION_LADDER) expect(Object.keys(QUANTIZATION_TYPES)).toContain(t);
  });

  it('f32 -> q8_0 and q4_0: smaller files that load with the new type, progress up to 1, no partial left', async () => {
    const src = await syntheticModel(F32);
    const srcTensors = (await readGguf(src)).tensors.length;
    for (const [type, name] of [['q8_0', 'Q8_0'], ['Q4_0', 'Q4_0']] as const) {
      const out = outPath(`${type}.gguf`);
      const events: QuantizeProgress[] = [];
      const r = await quantizeModel(src, { type, out, threads: 2, onProgress: (p) => events.push(p) });
      expect(r).toMatchObject({ type: type.toLowerCase(), quantization: name, out, tensors: srcTensors, fallbackTensors: 0, requantized: false });
      expect(r.bytesOut).toBeLessThan(r.bytesIn / 2);
      expect(r.seconds).toBeGreaterThan(0);
      // most tensors in the target type; norms stay F32 (and llama.cpp keeps output.weight at Q6_K for Q4_0)
      expect(r.tensorTypes[name]!.tensors).toBeGreaterThan(r.tensors / 2);
      expect(r.tensorTypes.F32!.bytes).toBeLessThan(r.bytesOut / 100);
      const [lo, hi] = name === 'Q8_0' ? [8.5, 8.6] : [4.5, 5];
      expect(r.bitsPerWeight).toBeGreaterThanOrEqual(lo);
      expect(r.bitsPerWeight).toBeLessThan(hi);
      const model = await loadModel(out);
      expect(model.info.quantization).toBe(name);
      expect(model.info.sizeBytes).toBe(r.bytesOut);
      expect(model.info.nLayer).toBe(4);
      model.dispose();
      expect(readdirSync(dirname(out)).filter((f) => f.startsWith(basename(out)))).toEqual([basename(out)]);
      // one event as each tensor starts (the TSFN may drop none here: unbounded queue), then the end
      expect(events.length).toBe(srcTensors + 1);
      const fractions = events.map((e) => e.fraction);
      expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
      expect(events[0]).toMatchObject({ tensorsDone: 0, fraction: 0 });
      expect(events.at(-1)).toMatchObject({ tensorsDone: srcTensors, tensorsTotal: srcTensors, tensor: '', fraction: 1 });
    }
  });

  it('the ladder q8_0 > q6_k > q5_k_m > q4_k_m > q4_0 > q3_k_m > q2_k: each loads with its type, files shrink', async () => {
    const src = await syntheticModel(F32);
    const sizes: number[] = [];
    for (const type of QUANTIZATION_LADDER) {
      const out = outPath(`${type}.gguf`);
      const r = await quantizeModel(src, { type, out, threads: 2 });
      expect(r.fallbackTensors).toBe(0);
      const model = await loadModel(out);
      expect(model.info.quantization).toBe(r.quantization);
      model.dispose();
      sizes.push(r.bytesOut);
    }
    // measured on this model: 2999040, 2320064, 2012000, 1722080, 1620704, 1416096, 1091456 bytes
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]!);
  });

  it('rows that do not fit a k-quant block fall back to another type (and are counted)', async () => {
    const src = await syntheticModel({ layers: 2, embd: 64, type: 'f32' });
    const out = outPath('fallback.gguf');
    const r = await quantizeModel(src, { type: 'q4_k_m', out, threads: 2 });
    expect(r.fallbackTensors).toBeGreaterThan(0); // measured: 15 of 21 (rows of 64 or 128)
    expect(Object.keys(r.tensorTypes).length).toBeGreaterThan(2); // Q4_K where rows allow, others elsewhere
    const model = await loadModel(out);
    expect(model.info.quantization).toBe('Q4_K - Medium');
    model.dispose();
  });

  describe('a q8_0 re-encoding keeps activations and emotion-like difference vectors', () => {
    const A = [
      'She laughed with delight as the sun rose over the hills.',
      'The children cheered and danced when the music began.',
      'He grinned, hugging his old friend at the station.',
      'What a wonderful, bright morning full of good news!',
    ];
    const B = [
      'She wept quietly beside the empty chair.',
      'The funeral was grey and the rain would not stop.',
      'He stared at the letter, his heart heavy with loss.',
      'Nothing was left of the home they had loved.',
    ];
    /** acts[prompt][block]: mean-pooled l_out of every block. */
    async function capture(path: string): Promise<Float32Array[][]> {
      const model = await loadModel(path);
      const ctx = await model.createContext({ contextSize: 256, threads: 2 });
      const out: Float32Array[][] = [];
      for (const text of [...A, ...B]) {
        const r = await ctx.evaluate(text, { capture: { layers: 'all', pooling: 'mean' } });
        out.push(r.activations!.layers.map((l) => Float32Array.from(r.activations!.get(l))));
      }
      await ctx.dispose();
      model.dispose();
      return out;
    }
    /** mean(A) - mean(B) at a block. */
    function meanDiff(acts: Float32Array[][], l: number): Float32Array {
      const n = acts[0]![l]!.length;
      const d = new Float32Array(n);
      for (let i = 0; i < A.length; i++) for (let j = 0; j < n; j++) d[j]! += (acts[i]![l]![j]! - acts[i + A.length]![l]![j]!) / A.length;
      return d;
    }
    /** Smallest per-prompt activation cosine and smallest difference-vector cosine over the blocks. */
    function agreement(a: Float32Array[][], b: Float32Array[][]): { act: number; diff: number } {
      let act = 1;
      let diff = 1;
      for (let l = 0; l < a[0]!.length; l++) {
        for (let p = 0; p < a.length; p++) act = Math.min(act, cosine(a[p]![l]!, b[p]![l]!));
        diff = Math.min(diff, cosine(meanDiff(a, l), meanDiff(b, l)));
      }
      return { act, diff };
    }

    it('f32 -> q8_0: per-block cosine >= 0.999 (activations) and >= 0.99 (A-B mean differences); q4_0 and q2_k drift further', async () => {
      const src = await syntheticModel(F32);
      const base = await capture(src);
      const results: Record<string, { act: number; diff: number }> = {};
      for (const type of ['q8_0', 'q4_0', 'q2_k'] as const) {
        const out = outPath(`geo-${type}.gguf`);
        await quantizeModel(src, { type, out, threads: 2 });
        results[type] = agreement(base, await capture(out));
      }
      // measured (4 blocks, 8 prompts): q8_0 act 0.99990 diff 0.99988; q4_0 0.9814 / 0.9742; q2_k 0.871 / 0.835
      expect(results.q8_0!.act).toBeGreaterThanOrEqual(0.999);
      expect(results.q8_0!.diff).toBeGreaterThanOrEqual(0.99);
      expect(results.q4_0!.act).toBeLessThan(results.q8_0!.act);
      expect(results.q2_k!.act).toBeLessThan(results.q4_0!.act);
      expect(results.q2_k!.diff).toBeLessThan(results.q4_0!.diff);
    });

    it('a 4-bit source requantized to q8_0 (what the ladder does with the shipped models) agrees as closely', async () => {
      const src = await syntheticModel({ ...F32, type: 'q4_0' });
      const out = outPath('requant-q8_0.gguf');
      const r = await quantizeModel(src, { type: 'q8_0', out, threads: 2 });
      expect(r.requantized).toBe(true);
      expect(r.bytesOut).toBeGreaterThan(r.bytesIn); // the same 4-bit weights in 8.5 bits
      const g = agreement(await capture(src), await capture(out));
      // measured: act 0.99989, diff 0.99982
      expect(g.act).toBeGreaterThanOrEqual(0.999);
      expect(g.diff).toBeGreaterThanOrEqual(0.99);
    });
  });

  describe('bad input: a typed error and nothing at out', () => {
    it('unknown type, bad threads, out = input -> INVALID_ARGUMENT', async () => {
      const src = await syntheticModel(F32);
      const out = outPath('bad-type.gguf');
      expect(await code(quantizeModel(src, { type: 'q9_0', out }))).toBe('INVALID_ARGUMENT');
      expect(await code(quantizeModel(src, { type: 'q8_0', out, threads: 0 }))).toBe('INVALID_ARGUMENT');
      expect(await code(quantizeModel(src, { type: 'q8_0', out: '' }))).toBe('INVALID_ARGUMENT');
      expect(nothingAt(out)).toBe(true);
      const copy = outPath('self.gguf');
      copyFileSync(src, copy);
      expect(await code(quantizeModel(copy, { type: 'q8_0', out: copy }))).toBe('INVALID_ARGUMENT');
      expect(existsSync(copy)).toBe(true);
    });

    it('missing input -> FILE_NOT_FOUND; not GGUF -> NOT_GGUF; truncated -> GGUF_TRUNCATED', async () => {
      const out = outPath('missing.gguf');
      expect(await code(quantizeModel(tempPath('does-not-exist.gguf'), { type: 'q8_0', out }))).toBe('FILE_NOT_FOUND');
      const zip = outPath('zip.gguf');
      writeFileSync(zip, 'PK\x03\x04 this is a zip, not a model');
      expect(await code(quantizeModel(zip, { type: 'q8_0', out }))).toBe('NOT_GGUF');
      const cut = outPath('cut.gguf');
      writeFileSync(cut, Buffer.from('GGUF\x03\x00\x00\x00\x05', 'latin1'));
      expect(await code(quantizeModel(cut, { type: 'q8_0', out }))).toBe('GGUF_TRUNCATED');
      expect(nothingAt(out)).toBe(true);
    });

    it('a GGUF llama.cpp cannot quantize (a control vector) -> QUANTIZE_FAILED with llama.cpp\'s reason', async () => {
      const cv = outPath('cv.gguf');
      await writeControlVector(cv, new Map([[1, new Float32Array(64).fill(0.5)]]), { modelHint: 'llama', nLayer: 3 });
      const out = outPath('cv-q8.gguf');
      await expect(quantizeModel(cv, { type: 'q8_0', out })).rejects.toThrowError(/unknown model architecture: 'controlvector'/);
      expect(await code(quantizeModel(cv, { type: 'q8_0', out }))).toBe('QUANTIZE_FAILED');
      expect(nothingAt(out)).toBe(true);
    });

    it('a failure after the partial file was opened (NaN in a weight) removes the partial', async () => {
      const src = await syntheticModel(F32);
      const nan = outPath('nan.gguf');
      copyFileSync(src, nan);
      const g = await readGguf(nan);
      const t = g.tensors.find((x) => x.name === 'token_embd.weight')!;
      const fd = openSync(nan, 'r+');
      const b = Buffer.alloc(4);
      b.writeFloatLE(Number.NaN);
      writeSync(fd, b, 0, 4, g.dataOffset + t.offset + 400);
      closeSync(fd);
      const out = outPath('nan-q8.gguf');
      let sawTensor = false;
      const p = quantizeModel(nan, { type: 'q8_0', out, threads: 2, onProgress: (e) => { if (e.tensor) sawTensor = true; } });
      await expect(p).rejects.toThrowError(/tensor 'token_embd.weight' has invalid data/);
      expect(await code(p)).toBe('QUANTIZE_FAILED');
      expect(sawTensor).toBe(true); // llama.cpp had started writing
      expect(nothingAt(out)).toBe(true);
    });
  });

  describe('cancellation and the event loop', () => {
    it('an aborted signal -> ABORTED before anything starts', async () => {
      const src = await syntheticModel(F32);
      const out = outPath('pre-abort.gguf');
      expect(await code(quantizeModel(src, { type: 'q8_0', out, signal: AbortSignal.abort() }))).toBe('ABORTED');
      const ac = new AbortController();
      const p = quantizeModel(src, { type: 'q8_0', out, signal: ac.signal });
      ac.abort();
      expect(await code(p)).toBe('ABORTED');
      expect(nothingAt(out)).toBe(true);
    });

    it('native abort stops llama.cpp at the next tensor and removes the partial', async () => {
      const src = await syntheticModel(F32);
      const out = outPath('native-abort.gguf');
      const partial = `${out}.partial-test`;
      const job = nativeQuantize().quantize(src, partial, out, { type: 'q2_k', threads: 1 }); // q2_k: about 0.2 s in all
      job.abort();
      await expect(job.promise).rejects.toMatchObject({ code: 'ABORTED' });
      expect(existsSync(partial)).toBe(false);
      expect(nothingAt(out)).toBe(true);
    });

    it('an onProgress that throws stops the quantization with that error, and nothing stays at out', async () => {
      const src = await syntheticModel(F32);
      const out = outPath('callback-throws.gguf');
      const boom = new Error('boom');
      await expect(quantizeModel(src, { type: 'q2_k', out, threads: 1, onProgress: () => { throw boom; } })).rejects.toBe(boom);
      expect(nothingAt(out)).toBe(true);
    });

    it('runs off the JS thread: timers fire while it quantizes', async () => {
      const src = await syntheticModel(F32);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 2);
      const r = await quantizeModel(src, { type: 'q5_k_m', out: outPath('timer.gguf'), threads: 1 });
      clearInterval(timer);
      expect(r.seconds).toBeGreaterThan(0.02);
      expect(ticks).toBeGreaterThan(2);
    });
  });
});

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
async function cliFails(...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await cli(...args);
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
  throw new Error(`emosteer ${args.join(' ')} succeeded`);
}

describe('emosteer quantize (built dist/)', () => {
  it('writes the file, prints JSON or a summary with plain progress lines; exit codes 2 and 1 on bad input', async () => {
    const src = await syntheticModel(F32);
    const out = outPath('cli-q8.gguf');
    const json = JSON.parse((await cli('quantize', src, '--type', 'Q8_0', '--out', out, '--threads', '2', '--json')).stdout);
    expect(json).toMatchObject({ type: 'q8_0', quantization: 'Q8_0', out, fallbackTensors: 0, requantized: false });
    expect(json.bytesOut).toBeLessThan(json.bytesIn);
    const out2 = outPath('cli-q3.gguf');
    const plain = await cli('quantize', src, '-t', 'q3_k_m', '-o', out2, '--threads', '2');
    expect(plain.stdout).toContain(out2);
    expect(plain.stdout).toMatch(/Q3_K - Medium: [\d.]+ MiB -> [\d.]+ MiB/);
    expect(plain.stderr).toMatch(/^\[quantize\] 0% \(0\/39 tensors/m);
    expect(plain.stderr).toMatch(/^\[quantize\] 100% \(39\/39 tensors\)/m);
    const m = await loadModel(out2);
    expect(m.info.quantization).toBe('Q3_K - Medium');
    m.dispose();

    const help = await cli('quantize', '--help');
    expect(help.stdout).toContain('allow');
    expect(help.stdout).toContain('q2_k');
    const bad = outPath('cli-bad.gguf');
    expect(await cliFails('quantize', src, '--type', 'q9', '--out', bad)).toMatchObject({ code: 2, stderr: expect.stringContaining('[INVALID_ARGUMENT]') });
    expect(await cliFails('quantize', src, '--out', bad)).toMatchObject({ code: 2 });
    expect(await cliFails('quantize', src, '--type', 'q8_0', '--out', bad, '--threads', 'many')).toMatchObject({ code: 2 });
    expect(await cliFails('quantize', tempPath('nope.gguf'), '--type', 'q8_0', '--out', bad)).toMatchObject({ code: 1, stderr: expect.stringContaining('[FILE_NOT_FOUND]') });
    expect(nothingAt(bad)).toBe(true);
  });
});

const gemma = gemmaModel();
describe.runIf(gemma.path)('Gemma 3 270M Q4_K_M -> q8_0 (real model, requantized)', () => {
  it('writes a Q8_0 file that loads with its 18 blocks', async () => {
    const out = outPath('gemma-q8_0.gguf');
    const r = await quantizeModel(gemma.path!, { type: 'q8_0', out });
    expect(r).toMatchObject({ quantization: 'Q8_0', requantized: true, fallbackTensors: 0 });
    const model = await loadModel(out);
    expect(model.info.quantization).toBe('Q8_0');
    expect(model.info.nLayer).toBe(18);
    model.dispose();
  }, 240_000);
});
