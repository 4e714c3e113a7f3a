// Uniform steering through the control vector: a step whose every row carries the same
// per-call steering applies it with llama.cpp's control vector instead of the eval callback;
// the tokens and their log-probabilities are the same either way, and the control vector never
// outlives the steps that want it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type GenerateOptions, type Model } from '../../lib/index.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const PROMPTS = ['The sea was calm that day', 'A letter arrived at noon', 'Nobody knew the answer'];

describe('uniform per-call steering through the control vector', () => {
  let model: Model;
  let viaCvec: Context;
  let viaHook: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 13 }));
    viaCvec = await model.createContext({ contextSize: 512, sequences: 3, threads: 1 });
    viaHook = await model.createContext({ contextSize: 512, sequences: 3, threads: 1, steeringControlVector: false });
  });
  afterAll(async () => {
    await viaCvec?.dispose();
    await viaHook?.dispose();
    model?.dispose();
  });

  const tokensAndLogProbs = async (ctx: Context, options: GenerateOptions & { steerings?: GenerateOptions['steering'][] }) => {
    const out = await ctx.generateBatch(PROMPTS, { maxTokens: 10, temperature: 0, stopOnEog: false, logProbs: 2, ...options });
    return out.map((r) => r.tokens);
  };
  const logProbsOf = async (ctx: Context, options: GenerateOptions) => {
    const lps: number[] = [];
    for await (const t of ctx.generate(PROMPTS[0]!, { maxTokens: 10, temperature: 0, stopOnEog: false, logProbs: 2, ...options })) lps.push(t.logProb!);
    return lps;
  };

  it('the same steering on every sequence: the control vector path, same tokens and log-probabilities as the per-sequence path', async () => {
    expect(viaCvec.options.steeringControlVector).toBe(true);
    expect(viaHook.options.steeringControlVector).toBe(false);
    const v = randomVector(EMBD, 21, 3);
    // Three equal steerings made separately (distinct objects, same vectors): still uniform.
    const steerings = PROMPTS.map(() => ({ vectors: new Map([[2, v]]), scale: 1.5 }));
    const before = viaCvec.controlVectorSteps;
    const a = await tokensAndLogProbs(viaCvec, { steerings });
    const b = await tokensAndLogProbs(viaHook, { steerings });
    expect(a).toEqual(b);
    expect(viaCvec.controlVectorSteps - before).toBeGreaterThanOrEqual(8);
    expect(viaHook.controlVectorSteps).toBe(0);

    const steering = { components: [{ vector: randomVector(EMBD, 22, 2), strength: 1.2, layers: [1, 3] as [number, number] }] };
    const c0 = viaCvec.controlVectorSteps;
    const lc = await logProbsOf(viaCvec, { steering });
    const lh = await logProbsOf(viaHook, { steering });
    expect(lc).toEqual(lh);
    expect(viaCvec.controlVectorSteps).toBeGreaterThan(c0);
  });

  it('rows steered differently, or not at all, take the per-sequence path and are never touched by a leftover control vector', async () => {
    const v = randomVector(EMBD, 23, 3);
    const w = randomVector(EMBD, 24, 3);
    // Uniform first (the control vector is set), then mixed, then unsteered.
    await tokensAndLogProbs(viaCvec, { steering: { vectors: new Map([[1, v]]) } });
    const mixed = [{ vectors: new Map([[1, v]]) }, { vectors: new Map([[1, w]]) }, undefined];
    const c0 = viaCvec.controlVectorSteps;
    expect(await tokensAndLogProbs(viaCvec, { steerings: mixed })).toEqual(await tokensAndLogProbs(viaHook, { steerings: mixed }));
    expect(viaCvec.controlVectorSteps).toBe(c0);
    await tokensAndLogProbs(viaCvec, { steering: { vectors: new Map([[1, v]]) } });
    expect(await logProbsOf(viaCvec, {})).toEqual(await logProbsOf(viaHook, {}));
    // 'generated' positions: the prompt step is unsteered, the generated steps uniform.
    const gen = { vectors: new Map([[3, w]]), positions: 'generated' as const };
    expect(await logProbsOf(viaCvec, { steering: gen })).toEqual(await logProbsOf(viaHook, { steering: gen }));
  });

  it('context-wide steering takes precedence: no control vector for per-call steering while it is set', async () => {
    const v = randomVector(EMBD, 25, 2);
    const w = randomVector(EMBD, 26, 2);
    await viaCvec.setSteering(new Map([[2, w]]));
    await viaHook.setSteering(new Map([[2, w]]));
    try {
      const c0 = viaCvec.controlVectorSteps;
      const steering = { vectors: new Map([[1, v]]) };
      expect(await logProbsOf(viaCvec, { steering })).toEqual(await logProbsOf(viaHook, { steering }));
      expect(viaCvec.controlVectorSteps).toBe(c0);
    } finally {
      await viaCvec.clearSteering();
      await viaHook.clearSteering();
    }
    expect(await logProbsOf(viaCvec, {})).toEqual(await logProbsOf(viaHook, {}));
  });
});
