import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../lib/index.js';
import { gemmaModel } from '../helpers/models.js';

const gemma = gemmaModel();
if (!gemma.path) console.warn(`[gemma.test] skipped: ${gemma.reason}`);

/** Crude but falsifiable fluency check: mostly Latin words, common function words, no loop. */
function englishScore(text: string): { words: number; latin: number; functionWords: number; distinct: number } {
  const words = text.toLowerCase().match(/[\p{L}']+/gu) ?? [];
  const latin = words.filter((w) => /^[a-z']+$/.test(w)).length / Math.max(1, words.length);
  const fw = new Set(['the', 'a', 'an', 'is', 'and', 'of', 'to', 'in', 'it', 'i', 'he', 'she', 'that', 'was', 'for', 'my', 'with']);
  const functionWords = words.filter((w) => fw.has(w)).length;
  return { words: words.length, latin, functionWords, distinct: new Set(words).size / Math.max(1, words.length) };
}

describe.skipIf(!gemma.path)('Gemma 3 270M Q4_K_M (real weights)', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(gemma.path!);
    ctx = await model.createContext({ contextSize: 1024 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('reports its metadata', () => {
    expect(model.info.arch).toBe('gemma3');
    expect(model.info.nLayer).toBe(18);
    expect(model.info.nEmbd).toBe(640);
    expect(model.info.nVocab).toBe(262144);
    expect(model.info.quantization).toMatch(/Q4_K/);
    // The base model ships without a chat template: llama.cpp's built-in 'gemma' one is used.
    expect(model.info.hasChatTemplate).toBe(false);
    expect(model.chatTemplate).toBe('gemma');
    expect(model.applyChatTemplate([{ role: 'user', content: 'Hi' }])).toBe('<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n');
  });

  it('answers a chat prompt in fluent English', async () => {
    const g = await ctx.generateText({ messages: [{ role: 'user', content: 'Tell me a short story about a dog.' }] }, { maxTokens: 60, repeatPenalty: 1.3 });
    console.log(`[gemma.test] chat output: ${JSON.stringify(g.text)}`);
    const s = englishScore(g.text);
    expect(s.words).toBeGreaterThan(25);
    expect(s.latin).toBeGreaterThan(0.9);
    expect(s.functionWords).toBeGreaterThan(5);
    expect(s.distinct).toBeGreaterThan(0.5);
  });

  it('captures all 18 blocks, finite and non-zero, during a prompt and during generation', async () => {
    const r = await ctx.evaluate('The sea was calm and the sky was grey.', { capture: { layers: 'all', pooling: 'all' } });
    expect(r.activations!.layers).toHaveLength(18);
    for (const [, rows] of r.activations!.entries()) {
      expect(rows).toHaveLength(r.tokens.length * 640);
      expect(rows.every(Number.isFinite)).toBe(true);
      expect(rows.some((x) => x !== 0)).toBe(true);
    }
    const g = await ctx.generateText('The sea was', { maxTokens: 8, capture: { layers: 'all' } });
    expect(g.tokenActivations).toHaveLength(8);
    expect(g.tokenActivations![7]!.get(17).every(Number.isFinite)).toBe(true);
  });

  it('steers: a vector at block 9 moves that block by exactly the vector and changes the text', async () => {
    const base = await ctx.evaluate('The sea was calm.', { capture: { layers: [8, 9], pooling: 'last' } });
    const v = new Float32Array(640).map((_, i) => Math.sin(i) * 20);
    await ctx.setSteering(new Map([[9, v]]), { layers: [9, 9] });
    const steered = await ctx.evaluate('The sea was calm.', { capture: { layers: [8, 9], pooling: 'last' } });
    const plain = await ctx.generateText('The sea was', { maxTokens: 12 });
    await ctx.clearSteering();
    expect(steered.activations!.get(8)).toEqual(base.activations!.get(8));
    let maxErr = 0;
    for (let j = 0; j < 640; j++) maxErr = Math.max(maxErr, Math.abs(steered.activations!.get(9)[j]! - base.activations!.get(9)[j]! - v[j]!));
    expect(maxErr / 20).toBeLessThan(1e-4);
    const unsteered = await ctx.generateText('The sea was', { maxTokens: 12 });
    expect(plain.tokens).not.toEqual(unsteered.tokens);
  });

  it('`emosteer info --json` prints the model facts', () => {
    const out = execFileSync(process.execPath, ['dist/cli/main.js', 'info', '--model', gemma.path!, '--json'], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(j).toMatchObject({ arch: 'gemma3', nLayer: 18, nEmbd: 640, nVocab: 262144, nCtxTrain: 32768, hasChatTemplate: false });
    expect(j.sizeBytes).toBe(253113024);
  });
});

describe.skipIf(!gemma.path)('Gemma 3 270M: extraction end to end (4 emotions, 2 samples, 48 new tokens)', () => {
  it('both methods give finite, non-zero vectors at every block', async () => {
    const { extractComprehension } = await import('../../lib/extract/comprehension.js');
    const { extractGeneration } = await import('../../lib/extract/generation.js');
    const model = await loadModel(gemma.path!);
    try {
      const emotions = ['happy', 'sad', 'angry', 'calm'];
      const comp = await extractComprehension(model, { emotions, samples: 2 });
      const gen = await extractGeneration(model, { emotions, samples: 2, maxTokens: 48, batch: 5 });
      for (const set of [comp, gen]) {
        expect(set.layers).toHaveLength(18);
        for (const e of emotions) for (const l of set.layers) {
          const v = set.vector(e, l, { unit: false });
          expect(v.every(Number.isFinite)).toBe(true);
          expect(v.some((x) => x !== 0)).toBe(true);
        }
      }
      console.log(`[gemma.test] generation: ${gen.meta.timings.tokens} tokens in ${gen.meta.timings.seconds.toFixed(1)} s; sample story: ${JSON.stringify(gen.meta.samples[0]!.text!.slice(0, 160))}`);
    } finally {
      model.dispose();
    }
  });
});
