import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../lib/index.js';
import { gemmaModel, randomVector, relativeError, syntheticModel } from '../helpers/models.js';

/**
 * Row attribution of multi-sequence batches (capture and per-sequence steering) and several
 * contexts on several models busy at once in one process.
 */
describe('several contexts on two models at once', () => {
  it('four contexts on two models generate at once: each equals its run alone, the event loop stays responsive', async () => {
    const a = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 5 }));
    const b = await loadModel(await syntheticModel({ layers: 3, embd: 96, seed: 7 }));
    try {
      const jobs = [
        { model: a, prompt: 'A calm sea under a grey sky', seed: 1, steer: randomVector(64, 1, 2) },
        { model: a, prompt: 'The storm broke the windows', seed: 2, steer: null },
        { model: b, prompt: 'Once upon a time', seed: 3, steer: randomVector(96, 3, 2) },
        { model: b, prompt: 'The letter said', seed: 4, steer: null },
      ];
      const opts = (j: (typeof jobs)[number]) => ({
        maxTokens: 60, temperature: 0.8, seed: j.seed, stopOnEog: false,
        ...(j.steer ? { steering: { vectors: new Map([[1, j.steer]]) } } : {}),
        capture: { layers: [1] },
      });
      const contexts = await Promise.all(jobs.map((j) => j.model.createContext({ contextSize: 256, threads: 1 })));
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const together = await Promise.all(jobs.map((j, i) => contexts[i]!.generateText(j.prompt, opts(j))));
      delay.disable();
      const alone = [];
      for (const [i, j] of jobs.entries()) alone.push(await contexts[i]!.generateText(j.prompt, opts(j)));
      for (let i = 0; i < jobs.length; i++) {
        expect(together[i]!.tokens).toEqual(alone[i]!.tokens);
        expect(together[i]!.tokenActivations!.length).toBe(60);
        for (let t = 0; t < 60; t++) expect(together[i]!.tokenActivations![t]!.get(1)).toEqual(alone[i]!.tokenActivations![t]!.get(1));
      }
      const maxMs = delay.max / 1e6;
      console.log(`[attribution.test] 4 contexts on 2 models x 60 tokens: largest event-loop delay ${maxMs.toFixed(1)} ms`);
      expect(maxMs).toBeLessThan(200);
      await Promise.all(contexts.map((c) => c.dispose()));
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 120_000);
});

const gemma = gemmaModel();
describe.skipIf(!gemma.path)('Gemma 3 (sliding-window KV cache): multi-sequence rows beyond the 512-token window', () => {
  it('two 700-token sequences in one batch capture and steer the same rows as each alone', async () => {
    const m = await loadModel(gemma.path!);
    const batch = await m.createContext({ contextSize: 4096, batchSize: 2048, sequences: 2, threads: 2 });
    const solo = await m.createContext({ contextSize: 2048, batchSize: 2048, threads: 2 });
    try {
      expect(m.info.metadata['gemma3.attention.sliding_window']).toBe('512');
      const words = (seed: number) => Array.from({ length: 700 }, (_, i) => ['sea', 'storm', 'calm', 'house', 'night', 'road', 'light'][(i * seed) % 7]).join(' ');
      const prompts = [words(3), words(5)];
      const steering = { vectors: new Map([[9, randomVector(m.info.nEmbd, 4, 10)]]), layers: [9, 9] as [number, number] };
      const capture = { layers: [9, 17], pooling: 'all' as const };
      const [sa, sb] = await batch.evaluateBatch(prompts, { capture, steerings: [steering, null] });
      const aloneA = await solo.evaluate(prompts[0]!, { capture, steering });
      const aloneB = await solo.evaluate(prompts[1]!, { capture });
      const plainA = await solo.evaluate(prompts[0]!, { capture: { layers: [9], pooling: 'all' } });
      const n = sa!.tokens.length;
      expect(n).toBeGreaterThan(600);
      // Every row of both sequences, past the window too, is the row of that sequence's own
      // token: a misattributed row would be another token's vector (relative error ~1).
      let worst = 0;
      for (const l of [9, 17]) {
        for (let t = 0; t < n; t++) {
          worst = Math.max(worst, relativeError(aloneA.activations!.row(l, t), sa!.activations!.row(l, t)));
          worst = Math.max(worst, relativeError(aloneB.activations!.row(l, t), sb!.activations!.row(l, t)));
        }
      }
      // What a misattributed row would look like: the distance between neighbouring tokens' rows.
      const neighbour: number[] = [];
      for (let t = 0; t + 1 < n; t++) neighbour.push(relativeError(aloneB.activations!.row(17, t), aloneB.activations!.row(17, t + 1)));
      neighbour.sort((x, y) => x - y);
      const median = neighbour[Math.floor(neighbour.length / 2)]!;
      console.log(`[attribution.test] Gemma, 2 x ${n} tokens: worst per-row relative error batch vs alone ${worst.toExponential(2)}; neighbouring rows differ by ${median.toExponential(2)} (median)`);
      expect(worst).toBeLessThan(median / 2);
      // steering reached A's block-9 rows: each moved by the vector, up to rounding
      const v = steering.vectors.get(9)!;
      for (const t of [0, 300, 600, n - 1]) {
        const d = sa!.activations!.row(9, t).map((x, j) => x - plainA.activations!.row(9, t)[j]!);
        expect(relativeError(v, d)).toBeLessThan(0.05);
      }
    } finally {
      await batch.dispose();
      await solo.dispose();
      m.dispose();
    }
  }, 300_000);
});
