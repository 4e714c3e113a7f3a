// Centred nearest centroid (study v2, issue 19): the cosine is taken after subtracting the
// training split's mean. Planted geometries show what centring gains (class information along
// the shared direction, which an uncentred cosine cannot see) and what it costs (a per-sample
// scale of the shared direction, which an uncentred cosine ignores), and evaluateSet reports
// both classifiers.
import { describe, expect, it } from 'vitest';
import { evaluateSet } from '../../lib/evaluate/evaluate.js';
import { kFoldIndices } from '../../lib/evaluate/folds.js';
import { nearestCentroidAccuracy, nearestCentroidCorrect, shuffledLabelNull } from '../../lib/evaluate/nearest-centroid.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { GENERATION_TEMPLATES, generationPrompt, neutralPrompt } from '../../lib/stimuli/index.js';
import { meanPairwiseCosine } from '../../lib/util/vec.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';

function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A shared offset o (norm `offset`) and a unit direction v orthogonal to it, in `d` dimensions. */
function frame(d: number, offset: number, seed: number): { o: Float64Array; v: Float64Array } {
  const g = gaussian(seed);
  const o = Float64Array.from({ length: d }, () => g());
  const on = Math.hypot(...o);
  for (let j = 0; j < d; j++) o[j] = (o[j]! / on) * offset;
  const v = Float64Array.from({ length: d }, () => g());
  let proj = 0;
  for (let j = 0; j < d; j++) proj += v[j]! * o[j]!;
  for (let j = 0; j < d; j++) v[j] = v[j]! - (proj / (offset * offset)) * o[j]!;
  const vn = Math.hypot(...v);
  for (let j = 0; j < d; j++) v[j] = v[j]! / vn;
  return { o, v };
}

/**
 * Classes placed in the plane of the shared offset o and a direction v: class k sits at
 * (1 + radial_k) o + perp_k v, plus isotropic noise. The class signal is tiny next to the offset
 * (anisotropy above 0.99).
 */
function planted(places: [radial: number, perp: number][], perClass: number, seed: number, d = 64, offset = 100, noise = 0.5) {
  const { o, v } = frame(d, offset, seed);
  const g = gaussian(seed + 1);
  const X: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < places.length * perClass; i++) {
    const c = i % places.length;
    const [r, p] = places[c]!;
    X.push(Float32Array.from(o, (x, j) => (1 + r) * x + p * v[j]! + noise * g()));
    labels.push(c);
  }
  return { X, labels };
}

describe('centred nearest centroid', () => {
  it('two classes that differ along the shared direction: centred ~1, uncentred ~chance (the old classifier fails)', () => {
    const { X, labels } = planted([[-0.05, 0], [0.05, 0]], 50, 1);
    expect(meanPairwiseCosine(X)).toBeGreaterThan(0.99); // anisotropy of the samples
    const folds = kFoldIndices(labels, 5, 0);
    const centred = nearestCentroidAccuracy(X, labels, folds);
    const uncentred = nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: false });
    expect(centred).toBeGreaterThan(0.95);
    expect(uncentred).toBeLessThan(0.65); // 100 predictions at chance 0.5: sd 0.05
    // the default is centred, and the per-sample correctness agrees with the accuracy
    expect(Array.from(nearestCentroidCorrect(X, labels, folds)).reduce((s, c) => s + c, 0) / X.length).toBeCloseTo(centred, 12);
    expect(nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: true })).toBe(centred);
  });

  it('four classes in the plane of the offset: centred ~1, uncentred sees only the half off the offset', () => {
    const s = Math.SQRT1_2;
    const { X, labels } = planted([[0.05 * s, 5 * s], [-0.05 * s, 5 * s], [-0.05 * s, -5 * s], [0.05 * s, -5 * s]], 20, 2);
    const folds = kFoldIndices(labels, 5, 0);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBeGreaterThan(0.95);
    expect(nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: false })).toBeLessThan(0.7);
  });

  it('a constant offset alone changes nothing: both classifiers separate classes off the offset', () => {
    const { X, labels } = planted([[0, 3], [0, -3]], 20, 3);
    const folds = kFoldIndices(labels, 5, 0);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBeGreaterThan(0.95);
    expect(nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: false })).toBeGreaterThan(0.95);
  });

  it('centring is not free: a class whose centroid sits at the training mean has no direction left', () => {
    // three classes on a line off the offset; the middle one is the mean of the three
    const { X, labels } = planted([[0, 3], [0, -3], [0, 0]], 20, 3);
    const folds = kFoldIndices(labels, 5, 0);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBeLessThan(0.9);
    expect(nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: false })).toBeGreaterThan(0.95);
  });

  it('centring is not free: a per-sample scale of the shared direction defeats it, not the uncentred cosine', () => {
    // x = s_i o + c_y + noise with s_i varying by sample: the centred sample keeps (s_i - mean s) o,
    // which swamps the class signal; the cosine of the raw sample ignores it.
    const d = 64;
    const { o } = frame(d, 100, 4);
    const g = gaussian(5);
    const classes = Array.from({ length: 6 }, () => Float64Array.from({ length: d }, () => g() / Math.sqrt(d)));
    const X: Float32Array[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 120; i++) {
      const c = i % 6;
      const s = 1 + 0.3 * g();
      X.push(Float32Array.from(o, (x, j) => s * x + classes[c]![j]! + (0.3 * g()) / Math.sqrt(d)));
      labels.push(c);
    }
    const folds = kFoldIndices(labels, 5, 0);
    expect(nearestCentroidAccuracy(X, labels, folds, 'cosine', { center: false })).toBeGreaterThan(0.95);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBeLessThan(0.5);
  });

  it('centring has no effect on the Euclidean metric', () => {
    const { X, labels } = planted([[-0.05, 1], [0.05, 0], [0, -1]], 10, 6);
    const folds = kFoldIndices(labels, 5, 0);
    expect(Array.from(nearestCentroidCorrect(X, labels, folds, 'euclidean'))).toEqual(Array.from(nearestCentroidCorrect(X, labels, folds, 'euclidean', { center: false })));
  });

  it('the shuffled-label null is centred too, and stays near chance', () => {
    const { X, labels } = planted([[-0.05, 0], [0.05, 0]], 30, 1);
    const folds = kFoldIndices(labels, 5, 0);
    const nul = shuffledLabelNull(X, labels, folds, 30, 1);
    expect(nul.mean).toBeGreaterThan(0.3);
    expect(nul.mean).toBeLessThan(0.7);
  });
});

/**
 * A generation-like set: 3 emotions + neutral, 10 stories each from the 10 templates, activations
 * at 3 blocks. Block 1 carries the planted four-direction geometry of the test above; blocks 0
 * and 2 carry noise only. Texts: a class word in every story, and the prompt's emotion name in
 * some.
 */
function plantedSet(): EmotionVectorSet {
  const emotions = ['happy', 'sad', 'calm'];
  const categories = [...emotions, 'neutral'];
  const d = 32;
  const { o, v } = frame(d, 100, 7);
  const g = gaussian(8);
  const s = Math.SQRT1_2;
  const places: [number, number][] = [[0.05 * s, 5 * s], [-0.05 * s, 5 * s], [-0.05 * s, -5 * s], [0.05 * s, -5 * s]];
  const cue: Record<string, string> = { happy: 'sunlight', sad: 'rain', calm: 'lake', neutral: 'invoice' };
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  categories.forEach((cat, c) => {
    for (let i = 0; i < 10; i++) {
      const prompt = cat === 'neutral' ? neutralPrompt(i) : generationPrompt(cat, i, GENERATION_TEMPLATES);
      const filler = Array.from({ length: 12 }, (_, k) => ['the', 'a', 'walked', 'door', 'table', 'window', 'said', 'then'][(k * 7 + i + c) % 8]).join(' ');
      const text = `${filler} ${cue[cat]} ${filler}${i % 3 === 0 && cat !== 'neutral' ? ` ${cat}` : ''}.`;
      samples.push({ category: cat, index: i, prompt, text, nTokens: 30, position: 29 });
      const a = new Float32Array(3 * d);
      for (let l = 0; l < 3; l++) {
        const [r, p] = l === 1 ? places[c]! : [0, 0];
        for (let j = 0; j < d; j++) a[l * d + j] = (1 + r) * o[j]! + p * v[j]! + 0.5 * g();
      }
      acts.push(a);
    }
  });
  return EmotionVectorSet.fromSamples({
    method: 'generation', emotions, categories, layers: [0, 1, 2], nEmbd: d, baseline: 'neutral',
    model: { path: '', sha256: 'x', arch: 'test', description: 'planted', nLayer: 3, nEmbd: d, quantization: 'F32', nParams: 0 },
    params: {}, stimuliVersion: 'test', versions: { emosteer: 't', llamaCppCommit: 't' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
    samples, createdAt: '',
  }, acts);
}

const aniso = { modelSha256: 'x', sentences: 0, layers: [0, 1, 2].map((layer) => ({ layer, value: 0.99, varied: 0.9 })) };

describe('evaluateSet with the study-v2 statistics', () => {
  const result = evaluateSet(plantedSet(), aniso, { resamples: 200, geometryResamples: 20, maxNullPermutations: 200 });

  it('reports the centred accuracy as heldOutAccuracy and the old one beside it', () => {
    const l1 = result.layers[1]!;
    expect(l1.heldOutAccuracy.value).toBeGreaterThan(0.95);
    expect(l1.heldOutAccuracyUncentred!.value).toBeLessThan(0.7);
    expect(result.bestLayerByAccuracy).toBe(1);
    for (const l of [result.layers[0]!, result.layers[2]!]) expect(l.heldOutAccuracy.value).toBeLessThan(0.6);
    const old = evaluateSet(plantedSet(), aniso, { resamples: 50, geometryResamples: 5, maxNullPermutations: 0, textBaseline: false, center: false });
    expect(old.layers[1]!.heldOutAccuracy.value).toBe(l1.heldOutAccuracyUncentred!.value);
  });

  it('reads both anisotropy baselines', () => {
    expect(result.layers[1]!.anisotropy).toBe(0.99);
    expect(result.layers[1]!.anisotropyVaried).toBe(0.9);
    expect(result.layers[1]!.correctedCosineVaried).toBeCloseTo((result.layers[1]!.correctedCosine * 0.01 + 0.99 - 0.9) / 0.1, 9);
  });

  it('the best block beats the null of the best of all blocks, with a cluster interval of its depth', () => {
    const b = result.bestBlock!;
    expect(b.layer).toBe(1);
    expect(b.accuracy).toBe(result.layers[1]!.heldOutAccuracy.value);
    expect(b.nullObservedMax).toBeCloseTo(b.accuracy, 12);
    expect(b.permutations).toBe(200);
    expect(b.p).toBeCloseTo(1 / 201, 12);
    expect(b.nullP95).toBeGreaterThan(b.chance);
    expect(b.nullP95).toBeLessThan(0.6);
    expect(b.depthCi95).toEqual([0.5, 0.5]);
    expect(b.riseFromFirst.ci95[0]).toBeGreaterThan(0.3);
    expect(b.riseFromLast.ci95[0]).toBeGreaterThan(0.3);
    // 10 templates shared by the emotions + 10 neutral prompts
    expect(result.bootstrapClusters).toEqual({ unit: 'template', clusters: 20 });
  });

  it('the bag-of-words baseline reads the stories, with and without the emotion names', () => {
    const t = result.textBaseline!;
    expect(t.source).toBe('text');
    expect(t.bagOfWords.value).toBe(1);
    expect(t.bagOfWordsMasked.value).toBe(1);
    expect(t.maskedWords).toBe(12); // indices 0, 3, 6, 9 of each of the 3 emotions
    expect(t.textsNamingTheirEmotion).toBe(12);
    expect(t.chance).toBe(0.25);
  });
});
