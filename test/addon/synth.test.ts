import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmosteerError } from '../../lib/errors.js';
import { GgmlType, GgufValueType, LlamaTokenType } from '../../lib/gguf/types.js';
import { readGguf, readTensorF32, ggufKvValue } from '../../lib/gguf/reader.js';
import {
  CHATML_TEMPLATE,
  SYNTHETIC_SHAPES,
  SYNTHETIC_TOKEN_IDS,
  buildSyntheticVocab,
  writeSyntheticModel,
  type SyntheticWeightType,
} from '../../lib/synth/synthetic-model.js';
import { runSynth } from '../../lib/cli/synth.js';
import { loadModel } from '../../lib/runtime/model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emosteer-synth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

function capture(): { io: { out(l: string): void; err(l: string): void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

describe('synthetic vocabulary', () => {
  it('has specials, 256 byte tokens, printable ASCII, ▁ and optionally ChatML', () => {
    const v = buildSyntheticVocab(true);
    expect(v.tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(v.types.slice(0, 3)).toEqual([LlamaTokenType.UNKNOWN, LlamaTokenType.CONTROL, LlamaTokenType.CONTROL]);
    expect(v.tokens[SYNTHETIC_TOKEN_IDS.firstByte]).toBe('<0x00>');
    expect(v.tokens[SYNTHETIC_TOKEN_IDS.firstByte + 0x0a]).toBe('<0x0A>');
    expect(v.tokens[SYNTHETIC_TOKEN_IDS.firstByte + 255]).toBe('<0xFF>');
    expect(v.types.slice(3, 259).every((t) => t === LlamaTokenType.BYTE)).toBe(true);
    expect(v.tokens[SYNTHETIC_TOKEN_IDS.firstChar]).toBe('!');
    expect(v.tokens[SYNTHETIC_TOKEN_IDS.firstChar + 0x7e - 0x21]).toBe('~');
    expect(v.tokens.slice(-3)).toEqual(['\u2581', '<|im_start|>', '<|im_end|>']);
    expect(v.types.slice(-2)).toEqual([LlamaTokenType.CONTROL, LlamaTokenType.CONTROL]);
    expect(new Set(v.tokens).size).toBe(v.tokens.length); // llama.cpp asserts unique texts
    expect(v.tokens.length).toBe(356);
    expect(buildSyntheticVocab(false).tokens.length).toBe(354);
  });
});

describe('writeSyntheticModel', () => {
  it('writes a 2-layer 64-wide llama model with the KVs and tensors llama.cpp requires', async () => {
    const out = join(dir, 'tiny.gguf');
    const t0 = Date.now();
    const info = await writeSyntheticModel({ out });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(info).toMatchObject({ path: out, layers: 2, embd: 64, heads: 4, kvHeads: 4, headDim: 16, ff: 128, ctx: 512, vocabSize: 356, seed: 0, type: 'f32', chat: true });
    expect(info.bytes).toBe((await stat(out)).size);
    expect(info.sha256).toBe(await sha256(out));

    const f = await readGguf(out);
    expect(f.version).toBe(3);
    const kv = (k: string): unknown => ggufKvValue(f, k);
    expect(kv('general.architecture')).toBe('llama');
    expect(kv('general.name')).toBe('emosteer-synthetic');
    expect(kv('general.file_type')).toBe(0);
    expect(kv('llama.context_length')).toBe(512);
    expect(kv('llama.embedding_length')).toBe(64);
    expect(kv('llama.block_count')).toBe(2);
    expect(kv('llama.feed_forward_length')).toBe(128);
    expect(kv('llama.attention.head_count')).toBe(4);
    expect(kv('llama.attention.head_count_kv')).toBe(4);
    expect(kv('llama.attention.layer_norm_rms_epsilon')).toBe(Math.fround(1e-5));
    expect(kv('llama.rope.dimension_count')).toBe(16);
    expect(kv('llama.rope.freq_base')).toBe(10000);
    expect(kv('llama.vocab_size')).toBe(356);
    // types llama.cpp's loader checks strictly
    for (const k of ['llama.context_length', 'llama.embedding_length', 'llama.block_count', 'llama.vocab_size', 'general.file_type', 'tokenizer.ggml.bos_token_id']) {
      expect(f.kv.get(k)?.type, k).toBe(GgufValueType.UINT32);
    }
    expect(f.kv.get('llama.rope.freq_base')?.type).toBe(GgufValueType.FLOAT32);
    expect(kv('tokenizer.ggml.model')).toBe('llama');
    expect(kv('tokenizer.ggml.bos_token_id')).toBe(1);
    expect(kv('tokenizer.ggml.eos_token_id')).toBe(2);
    expect(kv('tokenizer.ggml.unknown_token_id')).toBe(0);
    expect(kv('tokenizer.ggml.add_bos_token')).toBe(true);
    expect(kv('tokenizer.chat_template')).toBe(CHATML_TEMPLATE);
    expect(CHATML_TEMPLATE).toContain('<|im_start|>');
    const tokens = f.kv.get('tokenizer.ggml.tokens');
    expect(tokens?.type === GgufValueType.ARRAY && tokens.itemType).toBe(GgufValueType.STRING);
    expect(tokens?.value).toEqual(buildSyntheticVocab(true).tokens);
    const scores = f.kv.get('tokenizer.ggml.scores');
    expect(scores?.type === GgufValueType.ARRAY && scores.itemType).toBe(GgufValueType.FLOAT32);
    const types = f.kv.get('tokenizer.ggml.token_type');
    expect(types?.type === GgufValueType.ARRAY && types.itemType).toBe(GgufValueType.INT32);
    expect((types?.value as number[]).length).toBe(356);

    const dims = Object.fromEntries(f.tensors.map((t) => [t.name, t.dims]));
    expect(f.tensors.length).toBe(3 + 9 * 2);
    expect(dims['token_embd.weight']).toEqual([64, 356]);
    expect(dims['output_norm.weight']).toEqual([64]);
    expect(dims['output.weight']).toEqual([64, 356]);
    for (const i of [0, 1]) {
      expect(dims[`blk.${i}.attn_norm.weight`]).toEqual([64]);
      expect(dims[`blk.${i}.attn_q.weight`]).toEqual([64, 64]);
      expect(dims[`blk.${i}.attn_k.weight`]).toEqual([64, 64]);
      expect(dims[`blk.${i}.attn_v.weight`]).toEqual([64, 64]);
      expect(dims[`blk.${i}.attn_output.weight`]).toEqual([64, 64]);
      expect(dims[`blk.${i}.ffn_norm.weight`]).toEqual([64]);
      expect(dims[`blk.${i}.ffn_gate.weight`]).toEqual([64, 128]);
      expect(dims[`blk.${i}.ffn_up.weight`]).toEqual([64, 128]);
      expect(dims[`blk.${i}.ffn_down.weight`]).toEqual([128, 64]);
    }
    expect(f.tensors.every((t) => t.type === GgmlType.F32)).toBe(true);

    const norm = await readTensorF32(f, out, 'blk.1.ffn_norm.weight');
    expect(Array.from(norm).every((v) => v === 1)).toBe(true);
    const emb = await readTensorF32(f, out, 'token_embd.weight');
    const q = await readTensorF32(f, out, 'blk.0.attn_q.weight');
    const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    expect(std(emb)).toBeGreaterThan(0.9);
    expect(std(emb)).toBeLessThan(1.1);
    expect(std(q)).toBeGreaterThan(0.9 / 8);
    expect(std(q)).toBeLessThan(1.1 / 8);
    expect(Array.from(q).every(Number.isFinite)).toBe(true);
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await writeSyntheticModel({ out: join(dir, 'seed1a.gguf'), seed: 1 });
    const b = await writeSyntheticModel({ out: join(dir, 'seed1b.gguf'), seed: 1 });
    const c = await writeSyntheticModel({ out: join(dir, 'seed2.gguf'), seed: 2 });
    expect(a.sha256).toBe(b.sha256);
    expect(await sha256(a.path)).toBe(await sha256(b.path));
    expect(c.sha256).not.toBe(a.sha256);
    expect(c.bytes).toBe(a.bytes);
  });

  const cases: [SyntheticWeightType, number, number][] = [
    ['f32', GgmlType.F32, 0],
    ['f16', GgmlType.F16, 1],
    ['q8_0', GgmlType.Q8_0, 7],
    ['q4_0', GgmlType.Q4_0, 2],
  ];
  for (const [type, ggml, fileType] of cases) {
    it(`writes ${type} weights with F32 norms and correct dims`, async () => {
      const out = join(dir, `m-${type}.gguf`);
      const info = await writeSyntheticModel({ out, type, layers: 3, embd: 96, heads: 3, kvHeads: 1, ff: 160, seed: 5 });
      expect(info).toMatchObject({ type, layers: 3, embd: 96, heads: 3, kvHeads: 1, headDim: 32, ff: 160 });
      const f = await readGguf(out);
      expect(ggufKvValue(f, 'general.file_type')).toBe(fileType);
      expect(ggufKvValue(f, 'llama.attention.head_count_kv')).toBe(1);
      expect(ggufKvValue(f, 'llama.rope.dimension_count')).toBe(32);
      expect(f.tensors.length).toBe(3 + 9 * 3);
      for (const t of f.tensors) {
        const isNorm = t.name.endsWith('norm.weight');
        expect(t.type, t.name).toBe(isNorm ? GgmlType.F32 : ggml);
        expect(t.dims.length).toBe(isNorm ? 1 : 2);
      }
      const dims = Object.fromEntries(f.tensors.map((t) => [t.name, t.dims]));
      expect(dims['blk.2.attn_k.weight']).toEqual([96, 32]);
      expect(dims['blk.2.attn_v.weight']).toEqual([96, 32]);
      expect(dims['blk.2.attn_q.weight']).toEqual([96, 96]);
      expect(dims['blk.2.ffn_down.weight']).toEqual([160, 96]);
      expect(dims['token_embd.weight']).toEqual([96, 356]);

      // same seed and shape: the quantized weights approximate the f32 ones
      const ref = join(dir, `m-${type}-ref.gguf`);
      await writeSyntheticModel({ out: ref, type: 'f32', layers: 3, embd: 96, heads: 3, kvHeads: 1, ff: 160, seed: 5 });
      const fr = await readGguf(ref);
      const x = await readTensorF32(fr, ref, 'blk.2.ffn_up.weight');
      const y = await readTensorF32(f, out, 'blk.2.ffn_up.weight');
      const tol = { f32: 0, f16: 1e-3, q8_0: 0.01, q4_0: 0.1 }[type];
      let maxErr = 0;
      for (let i = 0; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(x[i]! - y[i]!));
      expect(maxErr).toBeLessThanOrEqual(tol);
    });
  }

  it('leaves out the chat template and ChatML tokens when chatTemplate is false', async () => {
    const out = join(dir, 'nochat.gguf');
    const info = await writeSyntheticModel({ out, chatTemplate: false, name: 'plain' });
    expect(info.vocabSize).toBe(354);
    expect(info.chat).toBe(false);
    const f = await readGguf(out);
    expect(f.kv.has('tokenizer.chat_template')).toBe(false);
    expect(ggufKvValue(f, 'general.name')).toBe('plain');
    expect(f.tensors.find((t) => t.name === 'output.weight')?.dims).toEqual([64, 354]);
  });

  it('pads the vocabulary, ties the embeddings and shares block weights for real-shape benchmark models', async () => {
    const out = join(dir, 'shape.gguf');
    const info = await writeSyntheticModel({ out, layers: 3, embd: 128, heads: 2, kvHeads: 1, ff: 256, vocabSize: 1000, tiedEmbeddings: true, shareBlockWeights: true, type: 'q4_0', chatTemplate: false });
    expect(info).toMatchObject({ vocabSize: 1000, tiedEmbeddings: true, shareBlockWeights: true, kvHeads: 1 });
    const f = await readGguf(out);
    const tokens = ggufKvValue(f, 'tokenizer.ggml.tokens') as string[];
    expect(tokens).toHaveLength(1000);
    expect(tokens[999]).toBe('<unused_999>');
    expect((ggufKvValue(f, 'tokenizer.ggml.token_type') as number[])[999]).toBe(LlamaTokenType.UNUSED);
    expect(f.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    expect(f.tensors.find((t) => t.name === 'token_embd.weight')?.dims).toEqual([128, 1000]);
    // every block holds block 0's bytes; without sharing, blocks differ
    const q0 = await readTensorF32(f, out, 'blk.0.ffn_up.weight');
    expect(await readTensorF32(f, out, 'blk.2.ffn_up.weight')).toEqual(q0);
    const own = join(dir, 'shape-own.gguf');
    await writeSyntheticModel({ out: own, layers: 3, embd: 128, heads: 2, kvHeads: 1, ff: 256, vocabSize: 1000, tiedEmbeddings: true, type: 'q4_0', chatTemplate: false });
    const g = await readGguf(own);
    expect(await readTensorF32(g, own, 'blk.0.ffn_up.weight')).toEqual(q0);
    expect(await readTensorF32(g, own, 'blk.2.ffn_up.weight')).not.toEqual(q0);
    // llama.cpp loads it (output tied to the embedding) and runs it
    const model = await loadModel(out);
    expect(model.info.nVocab).toBe(1000);
    const ctx = await model.createContext({ contextSize: 64 });
    const r = await ctx.evaluate('hello world', { logits: true });
    expect(r.logits).toHaveLength(1000);
    expect(Array.from(r.logits!).every(Number.isFinite)).toBe(true);
    await ctx.dispose();
    model.dispose();
  });

  it('offers real model shapes', () => {
    expect(SYNTHETIC_SHAPES['llama-0.5b']).toMatchObject({ layers: 24, embd: 896, heads: 14, kvHeads: 2, ff: 4864, vocabSize: 151936 });
    expect(SYNTHETIC_SHAPES['llama-1.5b']).toMatchObject({ layers: 28, embd: 1536, heads: 12, kvHeads: 2, ff: 8960, vocabSize: 151936 });
  });

  it('rejects invalid options with INVALID_ARGUMENT', async () => {
    const bad = [
      { layers: 0 }, { layers: 33 }, { embd: 48 }, { embd: 8192 }, { heads: 3 }, { embd: 96, heads: 2 },
      { kvHeads: 3 }, { ff: 100 }, { seed: -1 }, { vocabSize: 10 }, { vocabSize: 2.5 }, { type: 'q5_k' as SyntheticWeightType }, { chatTemplate: '' },
    ];
    for (const o of bad) {
      await expect(writeSyntheticModel({ out: join(dir, 'bad.gguf'), ...o }), JSON.stringify(o)).rejects.toSatisfy(
        (e: unknown) => e instanceof EmosteerError && e.code === 'INVALID_ARGUMENT',
      );
    }
  });
});

describe('emosteer synth CLI', () => {
  it('writes a model and prints a one-line summary', async () => {
    const c = capture();
    const out = join(dir, 'cli.gguf');
    const code = await runSynth(['--out', out, '--layers', '1', '--embd', '32', '--seed', '3', '--type', 'q8_0'], c.io);
    expect(code).toBe(0);
    expect(c.err).toEqual([]);
    expect(c.out.length).toBe(1);
    expect(c.out[0]).toContain(out);
    expect(c.out[0]).toContain('q8_0');
    const f = await readGguf(out);
    expect(ggufKvValue(f, 'llama.block_count')).toBe(1);
    expect(ggufKvValue(f, 'llama.embedding_length')).toBe(32);
  });

  it('takes a real shape with --shape, flags given win', async () => {
    const c = capture();
    const out = join(dir, 'cli-shape.gguf');
    expect(await runSynth(['--out', out, '--shape', 'llama-0.5b', '--layers', '1', '--vocab', '1000', '--share-blocks', '--type', 'q4_0', '--json'], c.io)).toBe(0);
    expect(JSON.parse(c.out[0]!)).toMatchObject({ layers: 1, embd: 896, heads: 14, kvHeads: 2, ff: 4864, vocabSize: 1000, tiedEmbeddings: true, shareBlockWeights: true, type: 'q4_0' });
    const bad = capture();
    expect(await runSynth(['--out', out, '--shape', 'llama-70b'], bad.io)).toBe(2);
    expect(bad.err[0]).toMatch(/--shape must be one of llama-0\.5b, llama-1\.5b/);
  });

  it('prints JSON with --json', async () => {
    const c = capture();
    const out = join(dir, 'cli-json.gguf');
    expect(await runSynth(['synth', '-o', out, '--json', '--type', 'F16'], c.io)).toBe(0);
    const info = JSON.parse(c.out[0]!);
    expect(info).toMatchObject({ path: out, layers: 2, embd: 64, type: 'f16', vocabSize: 356 });
    expect(info.sha256).toBe(await sha256(out));
  });

  it('returns 2 with a clear message for bad arguments', async () => {
    const cases: [string[], RegExp][] = [
      [[], /--out/],
      [['--out', join(dir, 'x.gguf'), '--layers', 'abc'], /--layers/],
      [['--out', join(dir, 'x.gguf'), '--type', 'q5_k'], /--type/],
      [['--out', join(dir, 'x.gguf'), '--bogus'], /bogus/],
      [['--out', join(dir, 'x.gguf'), 'extra'], /extra/],
      [['--out', join(dir, 'x.gguf'), '--embd', '48'], /embd/],
      [['--out', join(dir, 'x.gguf'), '--layers', '0'], /layers/],
    ];
    for (const [argv, msg] of cases) {
      const c = capture();
      expect(await runSynth(argv, c.io), argv.join(' ')).toBe(2);
      expect(c.err.join('\n')).toMatch(msg);
      expect(c.out).toEqual([]);
    }
  });

  it('prints usage with --help', async () => {
    const c = capture();
    expect(await runSynth(['--help'], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('emosteer synth --out');
  });

  it('returns 1 when the file cannot be written', async () => {
    const c = capture();
    expect(await runSynth(['--out', join(dir, 'no-such-dir', 'x.gguf')], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/failed to write/);
  });
});
