import { copyFileSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, GgufWriter, loadModel, readGguf, type Model } from '../../lib/index.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

/** Every stable error code the native core can produce, each provoked for real. */
describe('typed errors (EmosteerError with a stable code), never a crash', () => {
  let path: string;
  let model: Model;
  beforeAll(async () => {
    path = await syntheticModel({ layers: 2, embd: 64, seed: 1 });
    model = await loadModel(path);
  });
  afterAll(() => model?.dispose());

  it('FILE_NOT_FOUND for a missing path', async () => {
    const err = await loadModel('/no/such/model.gguf').catch((e) => e);
    expect(err).toBeInstanceOf(EmosteerError);
    expect(err.code).toBe('FILE_NOT_FOUND');
    expect(err.message).toMatch(/does not exist/);
  });

  it('NOT_GGUF for a file with another magic, naming the bytes seen', async () => {
    const zip = tempPath('model.gguf');
    writeFileSync(zip, Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(loadModel(zip)).rejects.toMatchObject({ code: 'NOT_GGUF', message: expect.stringContaining('PK') });
  });

  it('GGUF_TRUNCATED for a cut header and for cut tensor data', async () => {
    const cutHeader = tempPath('cut-header.gguf');
    copyFileSync(path, cutHeader);
    truncateSync(cutHeader, 200);
    await expect(loadModel(cutHeader)).rejects.toMatchObject({ code: 'GGUF_TRUNCATED' });
    const cutData = tempPath('cut-data.gguf');
    copyFileSync(path, cutData);
    const size = readFileSync(path).length;
    truncateSync(cutData, size - 1000);
    await expect(loadModel(cutData)).rejects.toMatchObject({ code: 'GGUF_TRUNCATED' });
  });

  it('GGUF_CORRUPT for an impossible header', async () => {
    const bad = tempPath('corrupt.gguf');
    copyFileSync(path, bad);
    const fd = openSync(bad, 'r+');
    // tensor count (int64 at offset 8) set to 2^40
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(1n << 40n);
    writeSync(fd, b, 0, 8, 8);
    closeSync(fd);
    await expect(loadModel(bad)).rejects.toMatchObject({ code: 'GGUF_CORRUPT' });
  });

  it('MODEL_LOAD_FAILED when llama.cpp refuses a well-formed GGUF (unknown architecture)', async () => {
    const out = tempPath('unknown-arch.gguf');
    const w = new GgufWriter();
    w.setString('general.architecture', 'no-such-architecture');
    await w.write(out);
    await readGguf(out); // well-formed
    await expect(loadModel(out)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringMatching(/unknown model architecture|no-such-architecture/) });
  });

  it('ARCH_NO_LAYER_HOOKS when the model does not expose the requested per-block tensor', async () => {
    const ctx = await model.createContext({ contextSize: 128, threads: 1 });
    try {
      // attn_post_norm exists in Gemma graphs, not in llama's.
      await expect(ctx.evaluate('hello', { capture: { tensor: 'attn_post_norm' } })).rejects.toMatchObject({ code: 'ARCH_NO_LAYER_HOOKS' });
      expect((await ctx.evaluate('hello', { capture: {} })).activations!.layers).toEqual([0, 1]);
    } finally {
      await ctx.dispose();
    }
  });

  it('VECTOR_WIDTH_MISMATCH, LAYER_OUT_OF_RANGE, NON_FINITE_VECTOR, INVALID_ARGUMENT', async () => {
    const ctx = await model.createContext({ contextSize: 128, threads: 1 });
    try {
      await expect(ctx.setSteering(new Map([[1, new Float32Array(63)]]))).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH' });
      await expect(ctx.evaluate('hi', { capture: { layers: [2] } })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
      await expect(ctx.setSteering(new Map([[1, new Float32Array(64).fill(Number.NaN)]]))).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR' });
      await expect(ctx.evaluate([999_999])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(ctx.evaluate('hi', { capture: { pooling: { index: 50 } } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(model.createContext({ contextSize: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(() => model.tokenToPiece(-5)).toThrowError(EmosteerError);
    } finally {
      await ctx.dispose();
    }
  });

  it('NO_CHAT_TEMPLATE and CHAT_TEMPLATE_UNSUPPORTED', async () => {
    const plain = await loadModel(await syntheticModel({ layers: 1, embd: 32, seed: 2, chatTemplate: false }));
    try {
      expect(() => plain.applyChatTemplate([{ role: 'user', content: 'x' }])).toThrowError(expect.objectContaining({ code: 'NO_CHAT_TEMPLATE' }));
      expect(() => plain.applyChatTemplate([{ role: 'user', content: 'x' }], { template: '{% for m in nonsense %}' })).toThrowError(expect.objectContaining({ code: 'CHAT_TEMPLATE_UNSUPPORTED' }));
      expect(plain.applyChatTemplate([{ role: 'user', content: 'x' }], { template: 'chatml' })).toContain('<|im_start|>user');
    } finally {
      plain.dispose();
    }
  });

  it('DISPOSED for use after dispose (model and context); contexts outlive a disposed model', async () => {
    const m = await loadModel(path);
    const ctx = await m.createContext({ contextSize: 128, threads: 1 });
    m.dispose();
    expect(() => m.tokenize('x')).toThrowError(expect.objectContaining({ code: 'DISPOSED' }));
    await expect(m.createContext()).rejects.toMatchObject({ code: 'DISPOSED' });
    // The context holds its own reference to the weights.
    const r = await ctx.evaluate([1, 40, 41], { logits: true });
    expect(r.logits!.length).toBe(m.info.nVocab);
    await ctx.dispose();
    await expect(ctx.evaluate([1, 40])).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(ctx.setSteering(new Float32Array(128))).rejects.toMatchObject({ code: 'DISPOSED' });
    await ctx.dispose(); // idempotent
  });

  it('PROMPT_TOO_LONG, ABORTED and CONTEXT_BUSY', async () => {
    const ctx = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const n = ctx.options.contextSize;
      await expect(ctx.evaluate('y'.repeat(n + 1))).rejects.toMatchObject({ code: 'PROMPT_TOO_LONG' });
      await expect(ctx.evaluate('y', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
      const native = ctx.nativeHandle;
      const running = native.step([{ seq: 0, tokens: Int32Array.of(1, 40, 41) }]);
      expect(() => native.setSteering(new Float32Array(128), 1, 1, 1)).toThrowError(expect.objectContaining({ code: 'CONTEXT_BUSY' }));
      expect(() => native.dispose()).toThrowError(expect.objectContaining({ code: 'CONTEXT_BUSY' }));
      await running;
    } finally {
      await ctx.dispose();
    }
  });
});
