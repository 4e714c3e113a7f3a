// Baking on real weights: SmolLM2-135M-Instruct (llama architecture, Q4_1) with 'calm' baked
// into every steerable block steers as llama.cpp's control vector does, up to the rounding
// noise of a quantized model. Gemma 3 (post-FFN norm) is refused by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bakeSteering, extractComprehension, loadModel, steeringVectors, type Model } from '../../lib/index.js';
import { gemmaModel, relativeError, smollm2Model, tempPath } from '../helpers/models.js';

const smol = smollm2Model();
const gemma = gemmaModel();
const PROMPT = 'Write one sentence about the harbour at dawn.';

describe.skipIf(!smol.path)('bakeSteering on SmolLM2-135M-Instruct (real weights)', () => {
  let model: Model;
  beforeAll(async () => { model = await loadModel(smol.path!); });
  afterAll(() => model?.dispose());

  it('the baked file steers as the control vector, up to the rounding of a quantized model: blocks 5, 15, 29 and the logits differ by far less than the steering moves them; same top token', async () => {
    const set = await extractComprehension(model, { emotions: ['calm', 'angry'], samples: 2, threads: 2 });
    const { vectors, layers } = steeringVectors(set, { emotion: 'calm', strength: 0.05 });
    const out = tempPath('smollm2-calm.gguf');
    const r = await bakeSteering(smol.path!, out, { vectors, layers });
    expect(r.blocks).toHaveLength(29);
    const baked = await loadModel(out);
    const [sctx, bctx, pctx] = await Promise.all([model.createContext({ contextSize: 512 }), baked.createContext({ contextSize: 512 }), model.createContext({ contextSize: 512 })]);
    try {
      await sctx.setSteering(vectors, { layers });
      const prompt = { messages: [{ role: 'user' as const, content: PROMPT }] };
      const opts = { capture: { layers: [5, 15, 29], pooling: 'all' as const }, logits: true };
      const [a, b, p] = [await sctx.evaluate(prompt, opts), await bctx.evaluate(prompt, opts), await pctx.evaluate(prompt, opts)];
      // The bias is added before the residual sum, the control vector after it: the same sum in
      // another order. On F32 weights that is 1e-5 (test/addon/bake.test.ts); here each block's
      // input is quantized to 8 bits for the next matmul, so a last-bit difference can flip a
      // rounding step and grows with depth (measured: 6.9e-4, 1.7e-3, 6.8e-3 at blocks 5, 15,
      // 29; logits 4.2e-2, against 0 for the per-sequence path, which adds at the same point).
      for (const l of [5, 15, 29]) {
        const bakedErr = relativeError(a.activations!.get(l), b.activations!.get(l));
        const effect = relativeError(p.activations!.get(l), a.activations!.get(l));
        console.log(`[bake-smollm2] block ${l}: baked vs control vector ${bakedErr.toExponential(2)}, steering effect ${effect.toExponential(2)}`);
        expect(bakedErr).toBeLessThan(effect / 10);
      }
      const argmax = (x: Float32Array) => x.reduce((bi, v, i, arr) => (v > arr[bi]! ? i : bi), 0);
      expect(argmax(b.logits!)).toBe(argmax(a.logits!));
      expect(relativeError(a.logits!, b.logits!)).toBeLessThan(relativeError(p.logits!, a.logits!) / 3);
      const ga = await sctx.generateText(prompt, { maxTokens: 24 });
      const gb = await bctx.generateText(prompt, { maxTokens: 24 });
      console.log(`[bake-smollm2] control vector: ${JSON.stringify(ga.text)}\n[bake-smollm2] baked:          ${JSON.stringify(gb.text)}`);
      expect(gb.tokens[0]).toBe(ga.tokens[0]);
    } finally {
      await sctx.dispose();
      await bctx.dispose();
      await pctx.dispose();
      baked.dispose();
    }
  });
});

describe.skipIf(!gemma.path)('bakeSteering refuses Gemma 3 (its FFN output is normalised after the bias)', () => {
  it('ARCH_UNSUPPORTED naming gemma3', async () => {
    const vectors = new Float32Array(18 * 640);
    vectors[640 * 9] = 1;
    await expect(bakeSteering(gemma.path!, tempPath('gemma-baked.gguf'), { vectors, layers: [9, 9] })).rejects.toMatchObject({ code: 'ARCH_UNSUPPORTED', message: expect.stringContaining("'gemma3'") });
  });
});
