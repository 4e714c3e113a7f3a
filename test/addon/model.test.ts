import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, versions, type Model } from '../../lib/index.js';
import { syntheticModel } from '../helpers/models.js';

describe('Model: metadata, tokenizer, chat template, lifetime', () => {
  let path: string;
  let model: Model;
  beforeAll(async () => {
    path = await syntheticModel({ layers: 3, embd: 96, seed: 4, type: 'q8_0' });
    model = await loadModel(path);
  });
  afterAll(() => model?.dispose());

  it('reports architecture, sizes and quantization', () => {
    expect(model.info).toMatchObject({ arch: 'llama', nLayer: 3, nEmbd: 96, nVocab: 356, nCtxTrain: 512, hasChatTemplate: true, addBos: true, bos: 1, eos: 2 });
    expect(model.info.quantization).toMatch(/Q8_0/);
    expect(model.info.sizeBytes).toBeGreaterThan(model.info.tensorBytes);
    expect(model.info.metadata['general.architecture']).toBe('llama');
    expect(model.info.metadata['llama.block_count']).toBe('3');
  });

  it('tokenizes and detokenizes losslessly, bytes included', () => {
    const text = 'Grüße, world! 42';
    const toks = model.tokenize(text);
    expect(toks[0]).toBe(model.info.bos);
    expect(model.detokenize(toks, { removeSpecial: true }).trim()).toBe(text);
    const bytes = Buffer.concat([...toks.slice(1)].map((t) => Buffer.from(model.tokenToPiece(t))));
    expect(bytes.toString('utf8').trim()).toBe(text);
    expect(model.tokenize(text, { addSpecial: false })[0]).not.toBe(model.info.bos);
    expect(model.isEndOfGeneration(model.info.eos)).toBe(true);
    expect(model.isEndOfGeneration(toks[2]!)).toBe(false);
  });

  it('applies the chat template and parses its special tokens', () => {
    const text = model.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    expect(text).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    const special = model.tokenize(text, { parseSpecial: true });
    const literal = model.tokenize(text, { parseSpecial: false });
    expect(special.length).toBeLessThan(literal.length);
    expect(model.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addAssistant: false })).not.toContain('assistant');
  });

  it('reports load progress up to 1 and loads without mmap too', async () => {
    const seen: number[] = [];
    const m = await loadModel(path, { mmap: false, onProgress: (p) => seen.push(p) });
    try {
      // progress is delivered asynchronously: give the queue a turn
      await new Promise((r) => setImmediate(r));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toBe(1);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
      expect(m.info.nEmbd).toBe(96);
    } finally {
      m.dispose();
    }
  });

  it('reports the pinned llama.cpp commit and the devices', () => {
    const v = versions();
    expect(v.llamaCppCommit).toBe('80fb11ac73e66d89eae2c6a91d8a77428fa733ed');
    expect(v.devices.some((d) => d.type === 'cpu')).toBe(true);
    expect(v.systemInfo.length).toBeGreaterThan(0);
  });

  it('supports await using (Symbol.asyncDispose)', async () => {
    let ref: Model | undefined;
    {
      await using m = await loadModel(path);
      ref = m;
      await using ctx = await m.createContext({ contextSize: 64, threads: 1 });
      expect((await ctx.evaluate('hi', { logits: true })).logits).toHaveLength(356);
    }
    expect(ref!.disposed).toBe(true);
  });
});
