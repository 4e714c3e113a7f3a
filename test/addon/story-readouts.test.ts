import { existsSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehensionReadouts } from '../../lib/extract/comprehension.js';
import { extractGenerationReadouts } from '../../lib/extract/generation.js';
import { generateStories, readStories } from '../../lib/extract/stories.js';
import { readStoryActivations, STORY_READOUTS } from '../../lib/extract/story-readouts.js';
import { loadModel, type Model } from '../../lib/index.js';
import { relativeError, syntheticModel, tempPath } from '../helpers/models.js';

const EMOTIONS = ['happy', 'sad'];

describe('stories and their read-outs on a synthetic model', () => {
  let model: Model;
  let other: Model;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 31 }));
    other = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 32 }));
  });
  afterAll(() => { model?.dispose(); other?.dispose(); });

  it('every read-out comes from one prefill and equals a plain capture at its position', async () => {
    const sets = await extractGenerationReadouts(model, { emotions: EMOTIONS, samples: 2, maxTokens: 12, threads: 2 });
    expect([...sets.keys()]).toEqual(['middle', 'mean', 'last', 'punctuation']);
    const mean = sets.get('mean')!;
    const ctx = await model.createContext({ threads: 2 });
    try {
      const k = 1;
      const s = mean.meta.samples[k]!;
      const prompt = ctx.tokenizePrompt({ messages: [{ role: 'user', content: s.prompt }] });
      const again = await ctx.generateText({ messages: [{ role: 'user', content: s.prompt }] }, { maxTokens: 12 });
      expect(again.text).toBe(s.text);
      const full = Int32Array.from([...prompt, ...again.tokens]);
      const n = again.tokens.length;
      const ref = await ctx.evaluate(full, { capture: { pooling: { mean: [prompt.length, prompt.length + n] } } });
      for (const l of mean.layers) expect(relativeError(ref.activations!.get(l), mean.sampleActivation(k, l))).toBeLessThan(1e-4);
      for (const ro of ['middle', 'last', 'punctuation'] as const) {
        const set = sets.get(ro)!;
        const pos = set.meta.samples[k]!.position as number;
        expect(set.meta.params.position).toBe(ro);
        if (ro === 'last') expect(pos).toBe(n - 1);
        if (ro === 'middle') expect(pos).toBe(Math.floor(n / 2));
        const one = await ctx.evaluate(full, { capture: { pooling: { index: prompt.length + pos } } });
        for (const l of set.layers) expect(relativeError(one.activations!.get(l), set.sampleActivation(k, l))).toBeLessThan(1e-4);
      }
    } finally {
      await ctx.dispose();
    }
    // The texts are the same in every read-out's set: one set of stories.
    expect(sets.get('last')!.meta.samples.map((x) => x.text)).toEqual(mean.meta.samples.map((x) => x.text));
  });

  it('comprehension read at the last token and the mean from one pass equals the single read-outs', async () => {
    const both = await extractComprehensionReadouts(model, { emotions: EMOTIONS, samples: 2, threads: 2, readouts: ['last', 'mean'] });
    const { extractComprehension } = await import('../../lib/extract/comprehension.js');
    for (const ro of ['last', 'mean'] as const) {
      const alone = await extractComprehension(model, { emotions: EMOTIONS, samples: 2, threads: 2, position: ro });
      for (const l of alone.layers) for (const e of EMOTIONS) expect(relativeError(both.get(ro)!.vector(e, l), alone.vector(e, l))).toBeLessThan(1e-4);
      expect(both.get(ro)!.meta.params.position).toBe(ro);
    }
  });

  it('stories are kept with their token ids; another model or other parameters are refused', async () => {
    const file = tempPath('stories.jsonl');
    const run = await generateStories(model, { emotions: EMOTIONS, samples: 1, neutralSamples: 1, maxTokens: 6, threads: 2, file });
    expect(run.stories).toHaveLength(3);
    const back = await readStories(file);
    expect(back.stories.size).toBe(3);
    const s = back.stories.get('sad#0')!;
    expect(model.detokenize(s.tokens)).toBe(s.text);
    expect(s.promptTokens.length).toBeGreaterThan(3);
    // Resume: everything restored, nothing generated.
    const again = await generateStories(model, { emotions: EMOTIONS, samples: 1, neutralSamples: 1, maxTokens: 6, threads: 2, file });
    expect(again.restored).toBe(3);
    expect(again.stories).toEqual(run.stories);
    await expect(generateStories(other, { emotions: EMOTIONS, samples: 1, neutralSamples: 1, maxTokens: 6, threads: 2, file })).rejects.toMatchObject({ code: 'STATE_MISMATCH', message: expect.stringMatching(/another model file/) });
    await expect(generateStories(model, { emotions: EMOTIONS, samples: 1, neutralSamples: 1, maxTokens: 7, threads: 2, file })).rejects.toMatchObject({ code: 'STATE_MISMATCH', message: expect.stringMatching(/maxTokens/) });
    // A file that is not a stories file is refused, not overwritten.
    await writeFile(file, '{"hello":1}\n');
    await expect(generateStories(model, { emotions: EMOTIONS, samples: 1, neutralSamples: 1, maxTokens: 6, threads: 2, file })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await readFile(file, 'utf8')).toBe('{"hello":1}\n');
  });

  it('a read-out stopped part way resumes from its checkpoint and gives the same floats', async () => {
    const run = await generateStories(model, { emotions: EMOTIONS, samples: 2, neutralSamples: 2, maxTokens: 8, threads: 2 });
    const opts = { layers: [0, 1, 2, 3], batch: 2, threads: 2 };
    const whole = await readStoryActivations(model, run.stories, opts);
    const file = tempPath('readouts.partial');
    const stop = new AbortController();
    const seen: number[] = [];
    await expect(readStoryActivations(model, run.stories, {
      ...opts, checkpointFile: file, signal: stop.signal,
      onProgress: (done) => { seen.push(done); if (done >= 2) stop.abort(); },
    })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toEqual([2]);
    expect(JSON.parse(await readFile(`${file}.json`, 'utf8')).done).toBe(2);
    // Extra floats past the sidecar's count (a stop between the two writes) are cut off.
    await appendFile(file, new Uint8Array(12));
    const progress: [number, number][] = [];
    const resumed = await readStoryActivations(model, run.stories, { ...opts, checkpointFile: file, onProgress: (done, _t, restored) => progress.push([done, restored]) });
    expect(progress[0]).toEqual([2, 2]);
    expect(progress.at(-1)).toEqual([run.stories.length, 2]);
    expect(resumed.positions).toEqual(whole.positions);
    for (const ro of STORY_READOUTS) {
      expect(resumed.activations.get(ro)!.length).toBe(run.stories.length);
      resumed.activations.get(ro)!.forEach((a, k) => expect(a).toEqual(whole.activations.get(ro)![k]));
    }
    // Done: the checkpoint is gone.
    expect(existsSync(file) || existsSync(`${file}.json`)).toBe(false);
    // A checkpoint of other blocks is not used: the read-out starts over.
    const other = { ...opts, layers: [1, 3] };
    const stop2 = new AbortController();
    await expect(readStoryActivations(model, run.stories, { ...other, checkpointFile: file, signal: stop2.signal, onProgress: () => stop2.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    const starts: number[] = [];
    await readStoryActivations(model, run.stories, { ...opts, checkpointFile: file, onProgress: (_d, _t, restored) => starts.push(restored) });
    expect(starts.every((r) => r === 0)).toBe(true);
  });
});
