import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, type Context, type Model } from '../../lib/index.js';
import { gemmaModel, randomVector, relativeError, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const LAYERS = 4;
const A = 'A calm sea under a grey sky, and a boat drifting slowly home.';
const B = 'The storm broke the windows and the people ran.';

describe('per-sequence steering inside one batched decode', () => {
  let model: Model;
  let batch: Context;
  let solo: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 5 }));
    batch = await model.createContext({ contextSize: 512, sequences: 4, threads: 2 });
    solo = await model.createContext({ contextSize: 256, threads: 2 });
  });
  afterAll(async () => {
    await batch?.dispose();
    await solo?.dispose();
    model?.dispose();
  });

  it('sequence A steered and B unsteered in one batch equal each run alone (logits and activations, 1e-4)', async () => {
    const v = randomVector(EMBD, 11, 0.8);
    const steering = { vectors: new Map([[2, v]]), layers: [2, 2] as [number, number] };
    const [a, b] = await batch.evaluateBatch([A, B], { capture: { pooling: 'all' }, logits: true, steerings: [steering, null] });
    const aloneA = await solo.evaluate(A, { capture: { pooling: 'all' }, logits: true, steering });
    const aloneB = await solo.evaluate(B, { capture: { pooling: 'all' }, logits: true });
    expect(relativeError(aloneA.logits!, a!.logits!)).toBeLessThan(1e-4);
    expect(relativeError(aloneB.logits!, b!.logits!)).toBeLessThan(1e-4);
    for (let l = 0; l < LAYERS; l++) {
      expect(relativeError(aloneA.activations!.get(l), a!.activations!.get(l))).toBeLessThan(1e-4);
      expect(relativeError(aloneB.activations!.get(l), b!.activations!.get(l))).toBeLessThan(1e-4);
    }
    // and B really is unsteered: equal to a batch where nobody is steered
    const [, plainB] = await batch.evaluateBatch([A, B], { logits: true });
    expect(relativeError(plainB!.logits!, b!.logits!)).toBeLessThan(1e-4);
  });

  it('per-sequence steering equals the context-wide control vector (logits and every block)', async () => {
    const vs = Array.from({ length: LAYERS }, (_, l) => (l === 0 ? null : randomVector(EMBD, 300 + l, 0.4)));
    const perSeq = await solo.evaluate(A, { capture: { pooling: 'all' }, logits: true, steering: { vectors: vs, scale: 1.5, layers: [1, 3] } });
    await solo.setSteering(vs, { scale: 1.5, layers: [1, 3] });
    const wide = await solo.evaluate(A, { capture: { pooling: 'all' }, logits: true });
    await solo.clearSteering();
    expect(relativeError(wide.logits!, perSeq.logits!)).toBeLessThan(1e-6);
    for (let l = 0; l < LAYERS; l++) expect(relativeError(wide.activations!.get(l), perSeq.activations!.get(l))).toBeLessThan(1e-6);
  });

  it('a vector at block L moves only that sequence\'s block-L rows by exactly v; earlier blocks and the other sequence unchanged', async () => {
    const base = await batch.evaluateBatch([A, B], { capture: { pooling: 'all' } });
    for (const L of [1, 2, 3]) {
      const v = randomVector(EMBD, 100 + L, 0.5);
      const [a, b] = await batch.evaluateBatch([A, B], { capture: { pooling: 'all' }, steerings: [{ vectors: new Map([[L, v]]), layers: [L, L] }, null] });
      for (let l = 0; l < L; l++) expect(a!.activations!.get(l)).toEqual(base[0]!.activations!.get(l));
      for (let l = 0; l < LAYERS; l++) expect(b!.activations!.get(l)).toEqual(base[1]!.activations!.get(l));
      for (let t = 0; t < a!.tokens.length; t++) {
        const diff = a!.activations!.row(L, t).map((x, j) => x - base[0]!.activations!.row(L, t)[j]!);
        expect(relativeError(v, diff)).toBeLessThan(1e-4);
      }
    }
  });

  it('generateBatch: four differently steered sequences each equal their run alone (tokens, same seed)', async () => {
    const prompts = [A, B, 'Once upon a time', 'The letter said'];
    const steerings = [
      { vectors: new Map([[2, randomVector(EMBD, 1, 2)]]) },
      null,
      { vectors: new Map([[1, randomVector(EMBD, 2, 2)], [3, randomVector(EMBD, 3, 2)]]) },
      { vectors: new Map([[3, randomVector(EMBD, 4, 2)]]), positions: 'generated' as const },
    ];
    const opts = { maxTokens: 12, temperature: 0.8, seeds: [1, 2, 3, 4] };
    const together = await batch.generateBatch(prompts, { ...opts, steerings });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await solo.generateText(prompts[i]!, { maxTokens: 12, temperature: 0.8, seed: i + 1, steering: steerings[i] });
      expect(together[i]!.tokens).toEqual(alone.tokens);
    }
    const plain = await solo.generateText(prompts[0]!, { maxTokens: 12, temperature: 0.8, seed: 1 });
    expect(plain.tokens).not.toEqual(together[0]!.tokens);
  });

  it('positions: prompt-only steering changes the first token\'s logits, generated-only does not', async () => {
    const v = new Map([[2, randomVector(EMBD, 21, 3)]]);
    const base = await solo.generateText(A, { maxTokens: 6, temperature: 0 });
    const promptOnly = await solo.generateText(A, { maxTokens: 6, temperature: 0, steering: { vectors: v, positions: 'prompt' } });
    const genOnly = await solo.generateText(A, { maxTokens: 6, temperature: 0, steering: { vectors: v, positions: 'generated' } });
    const ev = await solo.evaluate(A, { logits: true, steering: { vectors: v, positions: 'generated' } });
    const evBase = await solo.evaluate(A, { logits: true });
    expect(ev.logits).toEqual(evBase.logits); // evaluate has no generated tokens
    expect(genOnly.tokens[0]).toBe(base.tokens[0]);
    expect(promptOnly.tokens).not.toEqual(base.tokens);
    expect(genOnly.tokens).not.toEqual(base.tokens);
  });

  it('a steering schedule switches steering between two tokens of one generation', async () => {
    const v = new Map([[2, randomVector(EMBD, 31, 4)]]);
    const base = await solo.generateText(A, { maxTokens: 12, temperature: 0 });
    const steps: number[] = [];
    const switched = await solo.generateText(A, {
      maxTokens: 12,
      temperature: 0,
      steering: ({ index }) => { steps.push(index); return index >= 4 ? { vectors: v } : null; },
    });
    expect(steps[0]).toBe(0);
    // tokens 0..3 come before the switch; token 4 is sampled from the first steered decode
    expect(switched.tokens.slice(0, 4)).toEqual(base.tokens.slice(0, 4));
    expect(switched.tokens).not.toEqual(base.tokens);
  });

  it('a component list sums its parts: a vector on [1,2] plus another on [2,3] equals the per-block vectors of the sum', async () => {
    const a = randomVector(EMBD, 31, 0.4);
    const b = randomVector(EMBD, 32, 0.3);
    const perBlock = new Map([[1, a.map((x) => 2 * x)], [2, a.map((x, j) => 2 * x - b[j]!)], [3, b.map((x) => -x)]]);
    const viaVectors = await solo.evaluate(A, { capture: { pooling: 'all' }, logits: true, steering: { vectors: perBlock, layers: [1, 3] } });
    const viaComponents = await solo.evaluate(A, { capture: { pooling: 'all' }, logits: true, steering: { components: [{ vector: a, strength: 2, layers: [1, 2] }, { vector: Array.from(b), strength: -1, layers: [2, 3] }] } });
    for (const l of [1, 2, 3]) expect(relativeError(viaVectors.activations!.get(l), viaComponents.activations!.get(l))).toBeLessThan(1e-5);
    expect(relativeError(viaVectors.logits!, viaComponents.logits!)).toBeLessThan(1e-5);
  });

  it('an error about a component names it in `field`', async () => {
    const ok = { vector: randomVector(EMBD, 1), strength: 1 };
    await expect(solo.evaluate(A, { steering: { components: [ok, { vector: new Float32Array(EMBD + 2) }] } })).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH', field: 'components[1]' });
    await expect(solo.evaluate(A, { steering: { components: [{ ...ok, layers: [0, 2] }] } })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE', field: 'components[0]' });
    await expect(solo.evaluate(A, { steering: { components: [ok, ok, { ...ok, strength: Number.NaN }] } })).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR', field: 'components[2]' });
    await expect(solo.evaluate(A, { steering: { components: [] } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rejects bad steering with typed errors', async () => {
    await expect(solo.evaluate(A, { steering: { vectors: new Map([[0, randomVector(EMBD, 1)]]), layers: [0, 1] } })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
    await expect(solo.evaluate(A, { steering: { vectors: new Map([[1, new Float32Array(EMBD + 1)]]) } })).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH' });
    const nan = randomVector(EMBD, 1);
    nan[3] = Number.NaN;
    await expect(solo.evaluate(A, { steering: { vectors: new Map([[1, nan]]) } })).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR' });
    await expect(solo.evaluate(A, { steering: { vectors: new Map([[1, randomVector(EMBD, 1)]]), scale: Number.POSITIVE_INFINITY } })).rejects.toBeInstanceOf(EmosteerError);
    await expect(solo.evaluate(A, { steering: { vectors: new Map([[1, randomVector(EMBD, 1)]]), positions: 'middle' as never } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const noHooks = await model.createContext({ contextSize: 128, threads: 2, activationHooks: false });
    try {
      await expect(noHooks.evaluate(A, { steering: { vectors: new Map([[1, randomVector(EMBD, 1)]]) } })).rejects.toMatchObject({ code: 'CAPTURE_DISABLED' });
    } finally {
      await noHooks.dispose();
    }
    // the context is still usable
    expect((await solo.evaluate(A, { logits: true })).logits!.length).toBeGreaterThan(0);
  });
});

const gemma = gemmaModel();
describe.skipIf(!gemma.path)('per-sequence steering on Gemma 3 270M Q4_K_M (real weights)', () => {
  it('steering one sequence never reaches the others: their logits are bit-identical to the same batch unsteered; steered equals context-wide', async () => {
    const m = await loadModel(gemma.path!);
    const ctx = await m.createContext({ contextSize: 1024, sequences: 3, threads: 2 });
    const solo1 = await m.createContext({ contextSize: 256, threads: 2 });
    try {
      const prompts = ['The weather today is', 'Once upon a time', 'Dear diary,'];
      const v = randomVector(m.info.nEmbd, 9, 20);
      const steering = { vectors: new Map([[9, v]]), layers: [9, 9] as [number, number] };
      const plain = await ctx.evaluateBatch(prompts, { logits: true });
      const steered = await ctx.evaluateBatch(prompts, { logits: true, steerings: [steering, null, null] });
      expect(steered[1]!.logits).toEqual(plain[1]!.logits);
      expect(steered[2]!.logits).toEqual(plain[2]!.logits);
      expect(relativeError(plain[0]!.logits!, steered[0]!.logits!)).toBeGreaterThan(1e-3);
      // the same prompt alone: per-sequence steering equals the context-wide control vector exactly
      const a = await solo1.evaluate(prompts[0]!, { logits: true, steering });
      await solo1.setSteering(steering.vectors, { layers: steering.layers });
      const b = await solo1.evaluate(prompts[0]!, { logits: true });
      await solo1.clearSteering();
      expect(a.logits).toEqual(b.logits);
    } finally {
      await ctx.dispose();
      await solo1.dispose();
      m.dispose();
    }
  }, 120_000);
});
