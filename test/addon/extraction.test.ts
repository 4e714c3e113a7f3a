import { readFile, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehension } from '../../lib/extract/comprehension.js';
import { extractGeneration } from '../../lib/extract/generation.js';
import { loadModel, type Model } from '../../lib/index.js';
import { meanOf, sub } from '../../lib/util/vec.js';
import { readControlVector, writeControlVector } from '../../lib/vectors/control-vector-gguf.js';
import { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { relativeError, syntheticModel, tempPath } from '../helpers/models.js';

const EMOTIONS = ['happy', 'sad', 'calm'];

describe('emotion vector extraction on a synthetic model', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 31 }));
  });
  afterAll(() => model?.dispose());

  it('comprehension: last-token and mean activations are the ones a plain capture gives', async () => {
    const set = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, threads: 2 });
    expect(set.emotions).toEqual(EMOTIONS);
    expect(set.meta.categories).toEqual([...EMOTIONS, 'neutral']);
    expect(set.meta.samples).toHaveLength(8);
    expect(set.layers).toEqual([0, 1, 2, 3]);
    const ctx = await model.createContext({ threads: 2 });
    try {
      const s = set.meta.samples[3]!;
      const ref = await ctx.evaluate(s.prompt, { capture: { pooling: 'last' } });
      expect(s.nTokens).toBe(ref.tokens.length);
      for (const l of set.layers) expect(relativeError(ref.activations!.get(l), set.sampleActivation(3, l))).toBeLessThan(1e-4);
      const meanSet = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, position: 'mean', threads: 2 });
      const refMean = await ctx.evaluate(meanSet.meta.samples[5]!.prompt, { capture: { pooling: 'mean' } });
      expect(relativeError(refMean.activations!.get(2), meanSet.sampleActivation(5, 2))).toBeLessThan(1e-4);
    } finally {
      await ctx.dispose();
    }
  });

  it('comprehension baseline: emotion mean minus the mean of all category means, unit-normalized', async () => {
    const set = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, threads: 2 });
    const L = 2;
    const byCat = (c: string) => set.meta.samples.map((s, i) => [s, i] as const).filter(([s]) => s.category === c).map(([, i]) => set.sampleActivation(i, L));
    const means = set.meta.categories.map((c) => meanOf(byCat(c), 64));
    const expected = sub(means[1]!, meanOf(means, 64));
    expect(relativeError(expected, set.vector('sad', L, { unit: false }))).toBeLessThan(1e-5);
    let n = 0;
    for (const x of set.vector('sad', L)) n += x * x;
    expect(Math.sqrt(n)).toBeCloseTo(1, 5);
    const neutralBase = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, baseline: 'neutral', threads: 2 });
    expect(relativeError(sub(means[1]!, means[3]!), neutralBase.vector('sad', L, { unit: false }))).toBeLessThan(1e-5);
  });

  it('generation: reads the middle generated token by a prefill of prompt + story, equal to a plain capture', async () => {
    const set = await extractGeneration(model, { emotions: EMOTIONS, samples: 2, maxTokens: 10, batch: 4, threads: 2 });
    expect(set.meta.samples).toHaveLength(8);
    expect(set.meta.baseline).toBe('neutral');
    // tokens counted without an onProgress listener too: 8 stories x 10 new tokens + prompts
    expect(set.meta.timings.tokens).toBeGreaterThan(80);
    expect(set.meta.timings.tokensPerSecond).toBeGreaterThan(0);
    const s = set.meta.samples[2]!;
    expect(s.position).toBe(Math.floor(s.nTokens / 2));
    // Recompute with a plain pass over prompt + generated text.
    const ctx = await model.createContext({ threads: 2 });
    try {
      const prompt = ctx.tokenizePrompt({ messages: [{ role: 'user', content: s.prompt }] });
      const again = await ctx.generateText({ messages: [{ role: 'user', content: s.prompt }] }, { maxTokens: 10 });
      expect(again.text).toBe(s.text);
      const full = Int32Array.from([...prompt, ...again.tokens]);
      const ref = await ctx.evaluate(full, { capture: { pooling: { index: prompt.length + (s.position as number) } } });
      for (const l of set.layers) expect(relativeError(ref.activations!.get(l), set.sampleActivation(2, l))).toBeLessThan(1e-4);
    } finally {
      await ctx.dispose();
    }
    // Baseline 'neutral': vector = emotion mean - neutral mean.
    const L = 3;
    const acts = (c: string) => set.meta.samples.map((x, i) => [x, i] as const).filter(([x]) => x.category === c).map(([, i]) => set.sampleActivation(i, L));
    expect(relativeError(sub(meanOf(acts('calm'), 64), meanOf(acts('neutral'), 64)), set.vector('calm', L, { unit: false }))).toBeLessThan(1e-5);
  });

  it('generation with sampling is reproducible from its seed, and batching does not change it', async () => {
    const opts = { emotions: ['happy'], samples: 2, neutralSamples: 2, maxTokens: 8, temperature: 1.0, seed: 9, threads: 2 };
    const a = await extractGeneration(model, { ...opts, batch: 4 });
    const b = await extractGeneration(model, { ...opts, batch: 1 });
    const c = await extractGeneration(model, { ...opts, batch: 4, seed: 10 });
    expect(b.meta.samples.map((s) => s.text)).toEqual(a.meta.samples.map((s) => s.text));
    expect(relativeError(a.vector('happy', 2), b.vector('happy', 2))).toBeLessThan(1e-4);
    expect(c.meta.samples.map((s) => s.text)).not.toEqual(a.meta.samples.map((s) => s.text));
    expect(a.meta.params).toMatchObject({ temperature: 1, seed: 9, maxTokens: 8, position: 'middle', chatTemplate: true });
  });

  it('saves and loads back bit for bit, with every parameter recorded', async () => {
    const set = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, threads: 2 });
    const dir = tempPath('set');
    await set.save(dir);
    const back = await EmotionVectorSet.load(dir);
    expect(back.meta).toEqual(JSON.parse(JSON.stringify(set.meta)));
    for (const e of EMOTIONS) for (const l of set.layers) {
      expect(back.vector(e, l)).toEqual(set.vector(e, l));
      expect(back.vector(e, l, { unit: false })).toEqual(set.vector(e, l, { unit: false }));
    }
    for (let i = 0; i < set.meta.samples.length; i++) expect(back.sampleActivation(i, 1)).toEqual(set.sampleActivation(i, 1));
    expect(back.meta.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(back.meta.versions.llamaCppCommit).toBe('80fb11ac73e66d89eae2c6a91d8a77428fa733ed');
    const light = await EmotionVectorSet.load(dir, { activations: false });
    expect(light.hasActivations).toBe(false);
    // A damaged array is detected.
    const buf = await readFile(`${dir}/unit.f32`);
    buf[10] ^= 0xff;
    await (await import('node:fs/promises')).writeFile(`${dir}/unit.f32`, buf);
    await expect(EmotionVectorSet.load(dir)).rejects.toMatchObject({ code: 'VECTOR_SET_CORRUPT' });
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a llama.cpp control-vector GGUF that imports to the same vectors at the same blocks, and steers the same block', async () => {
    const set = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, threads: 2 });
    const vectors = new Map([1, 2, 3].map((l) => [l, set.vector('sad', l)]));
    const file = tempPath('sad.gguf');
    await writeControlVector(file, vectors, { modelHint: 'llama', nLayer: 4, scale: 3 });
    const cv = await readControlVector(file);
    expect(cv).toMatchObject({ modelHint: 'llama', layerCount: 3, nEmbd: 64, convention: 'block' });
    expect([...cv.appliedAt.keys()]).toEqual([1, 2, 3]);
    for (const l of [1, 2, 3]) expect(cv.appliedAt.get(l)).toEqual(vectors.get(l)!.map((x) => x * 3));
    // Steering with the imported file moves block N by direction.N (llama.cpp's own numbering).
    const ctx = await model.createContext({ threads: 2 });
    try {
      const base = await ctx.evaluate('The sky', { capture: { pooling: 'last' } });
      await ctx.setSteering(new Map([[2, cv.appliedAt.get(2)!]]), { layers: [2, 2] });
      const steered = await ctx.evaluate('The sky', { capture: { pooling: 'last' } });
      expect(steered.activations!.get(1)).toEqual(base.activations!.get(1));
      expect(relativeError(cv.appliedAt.get(2)!, sub(steered.activations!.get(2), base.activations!.get(2)))).toBeLessThan(1e-4);
    } finally {
      await ctx.dispose();
    }
    await expect(writeControlVector(tempPath('x.gguf'), new Map([[0, vectors.get(1)!]]), { modelHint: 'llama', nLayer: 4 })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
  });

  it('imports cvector-generator files with their off-by-one: direction.{i+1} was read from block i', async () => {
    const file = tempPath('cvgen.gguf');
    const v = new Float32Array(64).map((_, i) => i / 64);
    // Written as llama.cpp's tool does (no emosteer convention key): build it by hand.
    const { GgufWriter } = await import('../../lib/gguf/writer.js');
    const { GgmlType } = await import('../../lib/gguf/types.js');
    const w = new GgufWriter();
    w.setString('general.architecture', 'controlvector');
    w.setString('controlvector.model_hint', 'llama');
    w.setU32('controlvector.layer_count', 3);
    for (const n of [1, 2, 3]) w.addTensor(`direction.${n}`, [64], GgmlType.F32, v.map((x) => x * n));
    await w.write(file);
    const asBlock = await readControlVector(file);
    const asGen = await readControlVector(file, { convention: 'cvector-generator' });
    expect([...asBlock.readFrom.keys()]).toEqual([1, 2, 3]);
    expect([...asGen.readFrom.keys()]).toEqual([0, 1, 2]);
    expect([...asGen.appliedAt.keys()]).toEqual([1, 2, 3]);
    expect(asGen.readFrom.get(0)).toEqual(asGen.appliedAt.get(1));
  });

  it('stops cleanly on abort and resumes from the checkpoint to the same result', async () => {
    const dir = tempPath('resume');
    const full = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, batch: 2, threads: 2 });
    const ac = new AbortController();
    let reports = 0;
    await expect(extractComprehension(model, {
      emotions: EMOTIONS, samples: 2, batch: 2, threads: 2, checkpointDir: dir, signal: ac.signal,
      onProgress: () => { if (++reports === 2) ac.abort(); },
    })).rejects.toMatchObject({ code: 'ABORTED' });
    const seen: number[] = [];
    const resumed = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, batch: 2, threads: 2, checkpointDir: dir, onProgress: (p) => seen.push(p.done) });
    expect(seen[0]).toBe(6); // 4 samples restored, first new step adds 2
    for (const e of EMOTIONS) expect(relativeError(full.vector(e, 3), resumed.vector(e, 3))).toBeLessThan(1e-5);
    await rm(dir, { recursive: true, force: true });
  });

  it('a run killed in the middle of a batch resumes bit-identical to the uninterrupted run (both methods)', async () => {
    // The checkpoint holds an odd number of samples, as after a kill between the two writes of a
    // batch of 2: the rerun must redo that whole batch, not regroup what is left.
    const { mkdir, writeFile } = await import('node:fs/promises');
    for (const method of ['comprehension', 'generation'] as const) {
      const run = (checkpointDir: string) => (method === 'comprehension'
        ? extractComprehension(model, { emotions: EMOTIONS, samples: 3, batch: 2, threads: 1, checkpointDir })
        : extractGeneration(model, { emotions: EMOTIONS, samples: 2, neutralSamples: 2, batch: 2, maxTokens: 6, temperature: 0.8, threads: 1, checkpointDir }));
      const fullDir = tempPath(`full-${method}`);
      const full = await run(fullDir);
      // Generation keeps its stories (text and token ids) in stories.jsonl; comprehension its activations.
      const file = method === 'generation' ? 'stories.jsonl' : 'checkpoint.jsonl';
      const lines = (await readFile(`${fullDir}/${file}`, 'utf8')).split('\n').filter((l) => l.trim());
      const cut = tempPath(`cut-${method}`);
      await mkdir(cut, { recursive: true });
      // header + 3 samples, and half of the 4th as a kill in the middle of a write leaves it
      await writeFile(`${cut}/${file}`, `${lines.slice(0, 4).join('\n')}\n${lines[4]!.slice(0, 20)}`);
      const resumed = await run(cut);
      for (const l of full.layers) {
        for (const e of EMOTIONS) expect(resumed.vector(e, l)).toEqual(full.vector(e, l));
      }
      await rm(fullDir, { recursive: true, force: true });
      await rm(cut, { recursive: true, force: true });
    }
  });
});
