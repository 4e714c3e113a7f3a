// Quality against a reference (lib/quality, native/distributions.*): the native per-position
// reduction checked against the same numbers computed in JavaScript from full logits, the
// lockstep comparison on synthetic models (a model against itself, a perturbed copy, a
// quantized copy, another vocabulary), llama-perplexity's chunking, and steering damage.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, NextTokenDistributions, type Context, type Model } from '../../lib/index.js';
import { chunkTokens, compareQuality, compareSteering, DEFAULT_CORPUS, formatQualityTable, readDefaultCorpus } from '../../lib/quality/index.js';
import { syntheticModel } from '../helpers/models.js';

/** log-softmax of a logits row, in double. */
function logSoftmax(logits: Float32Array): Float64Array {
  let mx = -Infinity;
  for (const v of logits) mx = Math.max(mx, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - mx);
  const lse = mx + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

function argmax(x: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[b]!) b = i;
  return b;
}

describe('next-token distributions compared natively', () => {
  let a: Model; // reference
  let b: Model; // the same architecture, other weights (seed)
  let q: Model; // a Q8_0 copy of the reference
  let ca: Context;
  let cb: Context;
  let ca2: Context;
  let cq: Context;
  let text = '';
  beforeAll(async () => {
    a = await loadModel(await syntheticModel({ layers: 2, embd: 64, seed: 7 }));
    b = await loadModel(await syntheticModel({ layers: 2, embd: 64, seed: 8 }));
    q = await loadModel(await syntheticModel({ layers: 2, embd: 64, seed: 7, type: 'q8_0' }));
    ca = await a.createContext({ contextSize: 256, threads: 1 });
    ca2 = await a.createContext({ contextSize: 256, threads: 1 });
    cb = await b.createContext({ contextSize: 256, threads: 1 });
    cq = await q.createContext({ contextSize: 256, threads: 1 });
    text = (await readDefaultCorpus()).slice(0, 4000);
  });
  afterAll(async () => {
    for (const c of [ca, ca2, cb, cq]) await c?.dispose();
    for (const m of [a, b, q]) m?.dispose();
  });

  it('a model against itself: KL 0, same top-1 everywhere, delta-p 0, the same log-probabilities', async () => {
    const tokens = a.tokenize(text.slice(1000, 1200));
    const prefix = tokens.subarray(0, 40);
    const rest = tokens.subarray(40, 120);
    using ref = new NextTokenDistributions();
    const r = await ca.logProbs(prefix, rest, { record: ref });
    for (const ctx of [ca, ca2]) { // the same context, and another context on the same model
      const x = await ctx.logProbs(prefix, rest, { compareTo: ref });
      const c = x.comparison!;
      expect(c.kld).toHaveLength(rest.length);
      expect(Math.max(...c.kld)).toBe(0);
      expect([...c.sameTop].every((v) => v === 1)).toBe(true);
      expect(Math.max(...c.deltaP.map(Math.abs))).toBe(0);
      expect(Math.max(...c.deltaPTop.map(Math.abs))).toBe(0);
      expect([...x.logProbs]).toEqual([...r.logProbs]);
      expect([...c.referenceLogProbs]).toEqual([...r.logProbs]);
    }
  });

  it('a perturbed copy: KL, top-1, delta-p and both log-probabilities equal what full logits give in JavaScript', async () => {
    const tokens = a.tokenize(text.slice(1000, 1120));
    const prefix = tokens.subarray(0, 30);
    const rest = tokens.subarray(30, 60);
    using ref = new NextTokenDistributions();
    await ca.logProbs(prefix, rest, { record: ref });
    const x = await cb.logProbs(prefix, rest, { compareTo: ref });
    const c = x.comparison!;
    let positive = 0;
    for (const j of [0, 1, 7, 15, rest.length - 1]) {
      const upto = tokens.subarray(0, 30 + j); // the position predicting rest[j]
      const la = logSoftmax((await ca.evaluate(upto, { logits: true })).logits!);
      const lb = logSoftmax((await cb.evaluate(upto, { logits: true })).logits!);
      let kl = 0;
      for (let i = 0; i < la.length; i++) kl += Math.exp(la[i]!) * (la[i]! - lb[i]!);
      expect(c.kld[j]).toBeCloseTo(kl, 4);
      expect(Math.abs(c.kld[j]! - kl) / kl).toBeLessThan(1e-3);
      const t = rest[j]!;
      expect(c.referenceLogProbs[j]).toBeCloseTo(la[t]!, 4);
      expect(x.logProbs[j]).toBeCloseTo(lb[t]!, 4);
      expect(c.deltaP[j]).toBeCloseTo(Math.exp(lb[t]!) - Math.exp(la[t]!), 5);
      const top = argmax(la);
      expect(c.deltaPTop[j]).toBeCloseTo(Math.exp(lb[top]!) - Math.exp(la[top]!), 5);
      expect(c.sameTop[j]).toBe(argmax(lb) === top ? 1 : 0);
      if (kl > 1e-3) positive++;
    }
    expect(positive).toBeGreaterThan(3);
  });

  it('rows reduced on several threads (a large vocabulary) give the numbers full logits give', async () => {
    // 80 scored rows x 65,536 tokens is past the threshold where the reduction runs on the context's threads
    const big = await loadModel(await syntheticModel({ layers: 1, embd: 64, seed: 3, vocabSize: 65536 }));
    const big2 = await loadModel(await syntheticModel({ layers: 1, embd: 64, seed: 4, vocabSize: 65536 }));
    const c1 = await big.createContext({ contextSize: 256, threads: 2 });
    const c2 = await big2.createContext({ contextSize: 256, threads: 2 });
    try {
      const tokens = big.tokenize(text.slice(1000, 1200));
      const prefix = tokens.subarray(0, 20);
      const rest = tokens.subarray(20, 100);
      using ref = new NextTokenDistributions();
      const r = await c1.logProbs(prefix, rest, { record: ref, topLogProbs: 3 });
      const self = await c1.logProbs(prefix, rest, { compareTo: ref });
      expect(Math.max(...self.comparison!.kld)).toBe(0);
      const x = await c2.logProbs(prefix, rest, { compareTo: ref });
      for (const j of [0, 41, rest.length - 1]) {
        const upto = tokens.subarray(0, 20 + j);
        const la = logSoftmax((await c1.evaluate(upto, { logits: true })).logits!);
        const lb = logSoftmax((await c2.evaluate(upto, { logits: true })).logits!);
        let kl = 0;
        for (let i = 0; i < la.length; i++) kl += Math.exp(la[i]!) * (la[i]! - lb[i]!);
        expect(Math.abs(x.comparison!.kld[j]! - kl) / kl).toBeLessThan(1e-3);
        expect(r.logProbs[j]).toBeCloseTo(la[rest[j]!]!, 4);
        expect(r.top![j]![0]!.token).toBe(argmax(la));
      }
    } finally {
      await c1.dispose();
      await c2.dispose();
      big.dispose();
      big2.dispose();
    }
  });

  it('refuses a comparison with nothing recorded, other tokens, or another vocabulary', async () => {
    const tokens = a.tokenize(text.slice(1000, 1100)); // prose (the start is blank lines)
    using empty = new NextTokenDistributions();
    await expect(ca.logProbs(tokens.subarray(0, 10), tokens.subarray(10, 20), { compareTo: empty })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    using ref = new NextTokenDistributions();
    await ca.logProbs(tokens.subarray(0, 10), tokens.subarray(10, 20), { record: ref });
    await expect(cb.logProbs(tokens.subarray(0, 10), tokens.subarray(11, 21), { compareTo: ref })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const other = await loadModel(await syntheticModel({ layers: 2, embd: 64, seed: 7, chatTemplate: false }));
    const co = await other.createContext({ contextSize: 64, threads: 1 });
    try {
      expect(other.info.nVocab).not.toBe(a.info.nVocab);
      const err = await co.logProbs(tokens.subarray(0, 10), tokens.subarray(10, 20), { compareTo: ref }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmosteerError);
      expect((err as EmosteerError).code).toBe('VOCAB_MISMATCH');
      await expect(compareQuality(a, [other], { text, contextSize: 64 })).rejects.toMatchObject({ code: 'VOCAB_MISMATCH' });
    } finally {
      await co.dispose();
      other.dispose();
    }
    // the context is still usable after a refused comparison
    const again = await cb.logProbs(tokens.subarray(0, 10), tokens.subarray(10, 20), { compareTo: ref });
    expect(again.comparison!.kld).toHaveLength(10);
  });

  it('cuts the text as llama-perplexity does: ctx-token chunks, BOS first, the second half scored', () => {
    const tokens = Int32Array.from({ length: 1000 }, (_, i) => i + 10);
    const { chunks, scoreFrom, textTokens } = chunkTokens(tokens, 128, 1);
    expect(chunks).toHaveLength(7); // floor(1000 / 128), the rest dropped
    expect(textTokens).toBe(1000);
    expect(scoreFrom).toBe(65); // positions 64..126 predict tokens 65..127: 63 scored per chunk
    expect(chunks[2]![0]).toBe(1);
    expect([...chunks[2]!.subarray(1, 4)]).toEqual([2 * 128 + 11, 2 * 128 + 12, 2 * 128 + 13]);
    expect(chunkTokens(tokens, 128, null).chunks[2]![0]).toBe(2 * 128 + 10);
    expect(chunkTokens(tokens, 128, 1, 3).chunks).toHaveLength(3);
    expect(() => chunkTokens(tokens, 2048, 1)).toThrow(/fewer than one chunk/);
    expect(() => chunkTokens(tokens, 127, 1)).toThrow(/even/);
  });

  it('compareQuality: against itself KL 0 and 100% top-1; perplexity equals exp(-mean) of ctx.logProbs over the same chunks', async () => {
    const report = await compareQuality(a, [a], { text, contextSize: 64, threads: 1, resamples: 200, speed: { ppReps: 1, tgTokens: 4 } });
    const self = report.candidates[0]!;
    expect(self.kld.mean.value).toBe(0);
    expect(self.kld.max).toBe(0);
    expect(self.sameTopPercent.value).toBe(100);
    expect(self.rmsDeltaP.value).toBe(0);
    expect(self.perplexityRatio.value).toBe(1);
    expect(self.perplexity.value).toBe(report.reference.perplexity.value);
    // the same chunks scored by hand, with the ordinary logProbs call
    const tokens = a.tokenize(text, { addSpecial: true });
    const bos = a.info.addBos ? a.info.bos : null;
    const { chunks } = chunkTokens(tokens, 64, bos);
    expect(report.chunks).toBe(chunks.length);
    expect(report.scoredPerChunk).toBe(31);
    let sum = 0;
    let n = 0;
    for (const c of chunks) {
      const r = await ca.logProbs(c.subarray(0, 33), c.subarray(33));
      for (const v of r.logProbs) sum += v;
      n += r.logProbs.length;
    }
    expect(n).toBe(report.scoredTokens);
    expect(Math.abs(report.reference.perplexity.value - Math.exp(-sum / n)) / Math.exp(-sum / n)).toBeLessThan(1e-5);
    const [lo, hi] = report.reference.perplexity.ci95;
    expect(lo).toBeLessThan(report.reference.perplexity.value);
    expect(hi).toBeGreaterThan(report.reference.perplexity.value);
    expect(report.reference.file.bitsPerWeight).toBeCloseTo(32, 5); // an F32 file
    expect(report.reference.speed!.ppTokensPerSecond).toBeGreaterThan(0);
    expect(report.reference.speed!.tgTokensPerSecond).toBeGreaterThan(0);
    expect(report.text.source).toBeNull();
  });

  it('compareQuality: a Q8_0 copy is close, another seed far; intervals bracket the values', async () => {
    const report = await compareQuality(a, [q, b], { text, contextSize: 64, threads: 1, resamples: 200, speed: false });
    const [q8, other] = report.candidates;
    expect(q8!.kld.mean.value).toBeGreaterThan(0);
    expect(q8!.kld.mean.value).toBeLessThan(0.01);
    expect(q8!.sameTopPercent.value).toBeGreaterThan(90);
    expect(other!.kld.mean.value).toBeGreaterThan(50 * q8!.kld.mean.value);
    expect(other!.sameTopPercent.value).toBeLessThan(q8!.sameTopPercent.value);
    for (const c of [q8!, other!]) {
      expect(c.kld.mean.ci95[0]).toBeLessThanOrEqual(c.kld.mean.value);
      expect(c.kld.mean.ci95[1]).toBeGreaterThanOrEqual(c.kld.mean.value);
      expect(c.kld.median.value).toBeLessThanOrEqual(c.kld.p99.value);
      expect(c.kld.p99.value).toBeLessThanOrEqual(c.kld.p999.value);
      expect(c.kld.p999.value).toBeLessThanOrEqual(c.kld.max);
      expect(c.speed).toBeUndefined();
    }
    expect(q8!.file.bitsPerWeight).toBeLessThan(report.reference.file.bitsPerWeight);
    expect(q8!.quantization).toBe('Q8_0');
    const table = formatQualityTable(report);
    expect(table).toContain('same top-1 %');
    expect(table.split('\n').filter((l) => l.includes('.gguf')).length).toBe(5); // 3 models + 2 candidates
  });

  it('compareSteering: KL grows with the steering strength; zero strength changes nothing', async () => {
    const v = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const at = async (strength: number) => compareSteering(a, { components: [{ vector: v, strength, layers: [1, 1] }] }, { text, contextSize: 64, threads: 1, chunks: 6, resamples: 100, label: `x${strength}` });
    const zero = await at(0);
    expect(zero.candidates[0]!.kld.mean.value).toBe(0);
    const weak = await at(0.5);
    const strong = await at(4);
    expect(weak.candidates[0]!.kld.mean.value).toBeGreaterThan(0);
    expect(strong.candidates[0]!.kld.mean.value).toBeGreaterThan(weak.candidates[0]!.kld.mean.value);
    expect(strong.candidates[0]!.steering).toBe('x4');
    expect(strong.reference.speed).toBeUndefined();
  });

  it('the default corpus is the pinned public-domain text, several thousand tokens long', async () => {
    const t = await readDefaultCorpus();
    expect(Buffer.byteLength(t)).toBe(DEFAULT_CORPUS.bytes);
    expect(t).toContain("ALICE'S ADVENTURES IN WONDERLAND");
    expect(a.tokenize(t).length).toBeGreaterThan(100_000); // byte-level synthetic vocabulary; ~36k Gemma tokens
  });
});
