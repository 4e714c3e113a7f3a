import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getModelEntry, loadModel, type Context, type Model } from '../../lib/index.js';
import { smollm2Model } from '../helpers/models.js';

const smol = smollm2Model();
if (!smol.path) console.warn(`[smollm2.test] skipped: ${smol.reason}`);

/** An instruction-tuned model of the llama architecture, end to end on real weights. */
describe.skipIf(!smol.path)('SmolLM2-135M-Instruct Q4_1 (real weights, llama architecture, instruct)', () => {
  const entry = getModelEntry('smollm2-135m-instruct');
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(smol.path!);
    ctx = await model.createContext({ contextSize: 1024 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('reports the metadata its registry entry pins', () => {
    expect(model.info.arch).toBe('llama');
    expect(model.info.nLayer).toBe(30);
    expect(model.info.nEmbd).toBe(576);
    expect(model.info.quantization).toMatch(/Q4_1/);
    expect(model.info.sizeBytes).toBe(98362432);
    expect({ arch: entry.arch, blocks: entry.blocks, embd: entry.embd, size: entry.size }).toEqual({ arch: 'llama', blocks: 30, embd: 576, size: 98362432 });
  });

  it('carries its own ChatML chat template', () => {
    expect(model.info.hasChatTemplate).toBe(true);
    expect(model.chatTemplate).toContain('<|im_start|>');
    const prompt = model.applyChatTemplate([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    expect(prompt).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    // The markers are single special tokens, not text.
    const ids = model.tokenize(prompt, { parseSpecial: true });
    expect(ids.length).toBeLessThan(20);
  });

  it('answers a chat message in English, stopping at its end-of-turn token', async () => {
    const g = await ctx.generateText({ messages: [{ role: 'user', content: 'What is the capital of France?' }] }, { maxTokens: 40 });
    console.log(`[smollm2.test] chat output: ${JSON.stringify(g.text)}`);
    expect(g.text).toMatch(/Paris/);
    expect(g.text).not.toContain('<|im_start|>');
  });

  it('captures all 30 blocks in one pass: finite, non-zero vectors of width 576', async () => {
    const r = await ctx.evaluate({ messages: [{ role: 'user', content: 'The sea was calm and the sky was grey.' }] }, { capture: { layers: 'all', pooling: 'last' } });
    expect(r.activations!.layers).toEqual([...Array(30).keys()]);
    for (const [, v] of r.activations!.entries()) {
      expect(v).toHaveLength(576);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(v.some((x) => x !== 0)).toBe(true);
    }
  });

  it('steering with a vector changes the greedy text; clearing it restores the text', async () => {
    const prompt = { messages: [{ role: 'user' as const, content: 'Write one sentence about the weather.' }] };
    const plain = await ctx.generateText(prompt, { maxTokens: 16 });
    const v = new Float32Array(576).map((_, i) => Math.sin(i * 0.37) * 4);
    await ctx.setSteering(new Map([10, 11, 12, 13, 14, 15].map((l) => [l, v] as [number, Float32Array])));
    const steered = await ctx.generateText(prompt, { maxTokens: 16 });
    await ctx.setSteering(new Map([[10, v]]), { layers: [10, 10] });
    const moved = await ctx.evaluate('The sea was calm.', { capture: { layers: [9, 10], pooling: 'last' } });
    await ctx.clearSteering();
    const base = await ctx.evaluate('The sea was calm.', { capture: { layers: [9, 10], pooling: 'last' } });
    // On the llama architecture too, block 10's output moves by exactly the vector, block 9's not at all.
    expect(moved.activations!.get(9)).toEqual(base.activations!.get(9));
    let maxErr = 0;
    for (let j = 0; j < 576; j++) maxErr = Math.max(maxErr, Math.abs(moved.activations!.get(10)[j]! - base.activations!.get(10)[j]! - v[j]!));
    expect(maxErr / 4).toBeLessThan(1e-4);
    const again = await ctx.generateText(prompt, { maxTokens: 16 });
    console.log(`[smollm2.test] plain ${JSON.stringify(plain.text)} / steered ${JSON.stringify(steered.text)}`);
    expect(steered.tokens).not.toEqual(plain.tokens);
    expect(again.tokens).toEqual(plain.tokens);
  });
});
