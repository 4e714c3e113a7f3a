/**
 * Evaluation of emotion vector sets: the paper's separation metric per block, and better
 * founded ones beside it (held-out accuracy of single samples with bootstrap intervals,
 * silhouette, Fisher ratio), each against its null (anisotropy, corrected similarity,
 * shuffled labels); the layer curve and its shape; and generation-vs-comprehension statistics.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { EMOSTEER_VERSION } from '../extract/common.js';
import { loadModel } from '../runtime/model.js';
import { fileSha256 } from '../util/file-identity.js';
import { cosine, meanOf, meanPairwiseCosine, normalize, sub } from '../util/vec.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { findEmotionWords } from '../stimuli/index.js';
import type { SampleInfo } from '../vectors/emotion-vector-set.js';
import { addVariedAnisotropy, measureAnisotropy, readCachedAnisotropy, writeCachedAnisotropy, type AnisotropyProfile } from './anisotropy.js';
import { bagOfWordsAccuracy, emotionWordMask } from './bag-of-words.js';
import { bestBlockBootstrap, clusterBootstrapCI, compareDecodability, type DecodabilityInput } from './cluster-bootstrap.js';
import { fisherRatio } from './cluster-quality.js';
import { averageLinkage, pca2, rsaSpearman } from './geometry.js';
import { linearProbeAccuracy } from './linear-probe.js';
import { maxOverBlocksNull } from './max-null.js';
import { nearestCentroidCorrect, shuffledLabelNull } from './nearest-centroid.js';
import { cliffsDelta, cohensD, mannWhitneyU, seededRandom, stratifiedBootstrapCI } from './statistics.js';
import type { BestBlock, DecodabilityPair, Estimate, EvaluationDecodability, EvaluationResult, LayerCurveShape, LayerMetrics, MethodComparison, MethodEvaluation, TextBaseline } from './types.js';

/** Options of {@link evaluateRun} and {@link evaluateSet}. */
export interface EvaluateOptions {
  /** Folds of cross-validation (default 5; fewer when a class has fewer prompt groups). */
  folds?: number;
  /** Bootstrap resamples for accuracy intervals (default 1000). */
  resamples?: number;
  /** Bootstrap resamples for silhouette and Fisher-ratio intervals (default 200). */
  geometryResamples?: number;
  /** Label permutations of the shuffled null of each block (default 20). */
  permutations?: number;
  /**
   * Label permutations of the null of the best block (the maximum over blocks of the
   * nearest-centroid accuracy, {@link maxOverBlocksNull}; default 200, 0 to skip it).
   */
  maxNullPermutations?: number;
  /**
   * Hold the neutral samples' labels fixed in the best-block null (default false: every label is
   * permuted). With true, the null asks whether the emotions are told apart from each other,
   * crediting the classifier with whatever sets neutral apart.
   */
  maxNullKeepNeutral?: boolean;
  /**
   * Centre the nearest-centroid classifier on each training split's mean (default true). It
   * gives `heldOutAccuracy`, the block chosen by accuracy and both nulls; the uncentred
   * accuracy is reported beside it as `heldOutAccuracyUncentred` either way.
   */
  center?: boolean;
  /** The bag-of-words baseline on the texts of the stimuli (default true). */
  textBaseline?: boolean;
  /** Count word bigrams in the bag-of-words baseline too (default false). */
  bagOfWordsBigrams?: boolean;
  /**
   * The cluster of stimuli a sample belongs to, for the cluster bootstrap (default
   * {@link stimulusCluster}: the prompt template of a story, the passage of a reading).
   */
  clusterOf?: (sample: SampleInfo, index: number) => string;
  /** Seed of every random choice (default 0). */
  seed?: number;
  /** GGUF to measure anisotropy with (default: the path recorded in the set, if its sha256 matches). */
  model?: string;
  /** Progress messages. */
  onProgress?: (message: string) => void;
}

/** The vector sets of a run folder: `<dir>` itself, or its subfolders holding a manifest.json. */
export async function findSets(runDir: string): Promise<Map<string, string>> {
  if (existsSync(join(runDir, 'manifest.json'))) {
    const set = await EmotionVectorSet.load(runDir, { activations: false });
    return new Map([[set.meta.method, runDir]]);
  }
  let entries: string[];
  try {
    entries = (await readdir(runDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    throw new EmosteerError('FILE_NOT_FOUND', `run folder ${runDir} does not exist`, { cause: err });
  }
  const out = new Map<string, string>();
  for (const name of entries) {
    const dir = join(runDir, name);
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    const set = await EmotionVectorSet.load(dir, { activations: false });
    // A read-out variant of a method lives in `<method>.<read-out>/` (e.g. generation.mean) and is named so.
    const key = name.startsWith(`${set.meta.method}.`) ? name : set.meta.method;
    out.set(out.has(key) ? `${key}-${name}` : key, dir);
  }
  if (out.size === 0) throw new EmosteerError('INVALID_ARGUMENT', `${runDir} holds no emotion vector set (run \`emosteer extract --out ${runDir}/<method>\`)`);
  return out;
}

/**
 * Folds that keep identical stimuli together: samples of one class with the same prompt (e.g.
 * greedy stories from the same template, which are identical) always share a fold, so
 * held-out accuracy is never inflated by a copy in the training split.
 */
export function groupedFolds(labels: readonly number[], groups: readonly string[], k: number, seed: number): number[][] {
  const rand = seededRandom(seed);
  const byClass = new Map<number, string[]>();
  labels.forEach((c, i) => {
    const list = byClass.get(c) ?? [];
    if (!list.includes(groups[i]!)) list.push(groups[i]!);
    byClass.set(c, list);
  });
  const kEff = Math.max(2, Math.min(k, ...[...byClass.values()].map((g) => g.length)));
  const foldOfGroup = new Map<string, number>();
  for (const [c, list] of byClass) {
    const shuffled = [...list];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    shuffled.forEach((g, i) => foldOfGroup.set(`${c}\u0000${g}`, i % kEff));
  }
  const folds: number[][] = Array.from({ length: kEff }, () => []);
  labels.forEach((c, i) => folds[foldOfGroup.get(`${c}\u0000${groups[i]}`)!]!.push(i));
  if (folds.some((f) => f.length === 0)) throw new EmosteerError('INVALID_ARGUMENT', 'too few distinct stimuli per class for cross-validation (need at least 2)');
  return folds;
}

/** Mean silhouette (cosine distance) of the samples `idx`, from a precomputed distance matrix. */
export function silhouetteFromDistances(D: Float64Array, n: number, labels: readonly number[], idx: ArrayLike<number>): number {
  const m = idx.length;
  const classes = [...new Set(Array.from(idx, (i) => labels[i]!))];
  if (classes.length < 2) return 0;
  let total = 0;
  for (let a = 0; a < m; a++) {
    const i = idx[a]!;
    const sums = new Map<number, { s: number; c: number }>();
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const j = idx[b]!;
      const e = sums.get(labels[j]!) ?? { s: 0, c: 0 };
      e.s += D[i * n + j]!;
      e.c++;
      sums.set(labels[j]!, e);
    }
    const own = sums.get(labels[i]!);
    if (!own || own.c === 0) continue; // singleton: silhouette 0
    const ai = own.s / own.c;
    let bi = Infinity;
    for (const [c, e] of sums) if (c !== labels[i] && e.c > 0) bi = Math.min(bi, e.s / e.c);
    const den = Math.max(ai, bi);
    total += den > 0 ? (bi - ai) / den : 0;
  }
  return total / m;
}

/** The layer curve's minimum, and whether it is an interior minimum with both ends higher. */
export function curveShape(layers: readonly { layer: number; depth: number; meanPairwiseCosine: number }[]): LayerCurveShape {
  let best = layers[0]!;
  for (const l of layers) if (l.meanPairwiseCosine < best.meanPairwiseCosine) best = l;
  const first = layers[0]!.meanPairwiseCosine;
  const last = layers.at(-1)!.meanPairwiseCosine;
  const interior = best !== layers[0] && best !== layers.at(-1);
  const rise: [number, number] = [first - best.meanPairwiseCosine, last - best.meanPairwiseCosine];
  return { metric: 'meanPairwiseCosine', minLayer: best.layer, minDepth: best.depth, uShaped: interior && rise[0] > 0 && rise[1] > 0, rise };
}

/**
 * The cluster of stimuli a sample belongs to: its prompt with its own category's name put back
 * as `{emotion}`, so that stories written from one template for different emotions share a
 * cluster (`template:<text>`), a neutral prompt is its own cluster, and a passage (which never
 * names its emotion) is its own cluster. Stories sampled several times from one prompt share it.
 */
export function stimulusCluster(sample: Pick<SampleInfo, 'category' | 'prompt'>): string {
  const name = sample.category.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const template = sample.prompt.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${name}(?![\\p{L}\\p{N}_])`, 'gu'), '{emotion}');
  return `template:${template}`;
}

/** Per-block correctness and clusters kept for {@link compareMethods} (not part of the JSON). */
const decodabilityInputs = new WeakMap<MethodEvaluation, DecodabilityInput & { categories: string[]; uncentredByBlock: Uint8Array[]; centred: boolean; layers: number[] }>();

function estimate(r: { value: number; ci95: [number, number] }): Estimate {
  return { value: r.value, ci95: [r.ci95[0], r.ci95[1]] };
}

/** Evaluates one vector set against an anisotropy profile of its model. */
export function evaluateSet(set: EmotionVectorSet, anisotropy: AnisotropyProfile, options: EvaluateOptions = {}): MethodEvaluation {
  if (!set.hasActivations || set.meta.samples.length === 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `the ${set.meta.method} set has no per-sample activations: evaluation needs a set made by extract`);
  }
  const seed = options.seed ?? 0;
  const resamples = options.resamples ?? 1000;
  const geoResamples = options.geometryResamples ?? 200;
  const center = options.center ?? true;
  const maxNullPermutations = options.maxNullPermutations ?? 200;
  const { categories, emotions, samples } = set.meta;
  const labels = samples.map((s) => categories.indexOf(s.category));
  const groups = samples.map((s) => s.prompt);
  const folds = groupedFolds(labels, groups, options.folds ?? 5, seed);
  // Clusters of the bootstrap: stimuli that share a template (or a passage); resampled within
  // strata of clusters with the same classes, so that class shares stay as they are.
  const clusters = samples.map((s, i) => options.clusterOf?.(s, i) ?? stimulusCluster(s));
  const nClusters = new Set(clusters).size;
  const clusterCI = (stat: (idx: Int32Array) => number) => estimate(clusterBootstrapCI(clusters, stat, { resamples, seed, strata: labels }));
  const nLayer = set.meta.model.nLayer;
  const aniso = new Map(anisotropy.layers.map((l) => [l.layer, l]));
  const n = samples.length;
  const meanIdx = (arr: Uint8Array) => (idx: Int32Array) => { let s = 0; for (const i of idx) s += arr[i]!; return s / idx.length; };
  const correctByBlock: Uint8Array[] = [];
  const uncentredByBlock: Uint8Array[] = [];
  const layers: LayerMetrics[] = set.layers.map((layer) => {
    options.onProgress?.(`${set.meta.method}: block ${layer}`);
    const X = samples.map((_, i) => set.sampleActivation(i, layer));
    const a = aniso.get(layer)?.value ?? Number.NaN;
    const av = aniso.get(layer)?.varied;
    const global = meanOf(X, set.nEmbd);
    const centered = emotions.map((e) => normalize(sub(set.categoryMean(e, layer), global)));
    const rawCos = meanPairwiseCosine(emotions.map((e) => set.categoryMean(e, layer)));
    const correct = nearestCentroidCorrect(X, labels, folds, 'cosine', { center });
    const uncentred = center ? nearestCentroidCorrect(X, labels, folds, 'cosine', { center: false }) : correct;
    correctByBlock.push(correct);
    uncentredByBlock.push(uncentred);
    const probe = linearProbeAccuracy(X, labels, folds);
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) { const d = 1 - cosine(X[i]!, X[j]!); D[i * n + j] = d; D[j * n + i] = d; }
    const metrics: LayerMetrics = {
      layer,
      depth: nLayer > 1 ? layer / (nLayer - 1) : 0,
      meanPairwiseCosine: meanPairwiseCosine(set.vectorsAt(layer)),
      meanPairwiseCosineCentered: meanPairwiseCosine(centered),
      anisotropy: a,
      correctedCosine: (rawCos - a) / (1 - a),
      heldOutAccuracy: clusterCI(meanIdx(correct)),
      heldOutAccuracyUncentred: clusterCI(meanIdx(uncentred)),
      probeAccuracy: clusterCI(meanIdx(probe.correct)),
      chance: 1 / categories.length,
      shuffledAccuracy: shuffledLabelNull(X, labels, folds, options.permutations ?? 20, seed, 'cosine', { center }),
      silhouette: estimate(stratifiedBootstrapCI(labels, (idx) => silhouetteFromDistances(D, n, labels, idx), { resamples: geoResamples, seed })),
      fisherRatio: estimate(stratifiedBootstrapCI(labels, (idx) => fisherRatio(Array.from(idx, (i) => X[i]!), Array.from(idx, (i) => labels[i]!)), { resamples: geoResamples, seed })),
    };
    if (av !== undefined) {
      metrics.anisotropyVaried = av;
      metrics.correctedCosineVaried = (rawCos - av) / (1 - av);
    }
    return metrics;
  });
  const shape = curveShape(layers);
  const byAcc = layers.reduce((b, l) => (l.heldOutAccuracy.value > b.heldOutAccuracy.value ? l : b));
  // The best block by held-out accuracy against the null of the best of as many blocks.
  const depths = layers.map((l) => l.depth);
  const boot = bestBlockBootstrap(correctByBlock, clusters, depths, { resamples, seed, strata: labels });
  const bestLayer = layers[boot.block]!;
  const bestBlock: BestBlock = {
    layer: bestLayer.layer,
    depth: bestLayer.depth,
    accuracy: boot.accuracy.value,
    accuracyCi95: boot.accuracy.ci95,
    depthCi95: boot.depth.ci95,
    riseFromFirst: boot.riseFromFirst,
    riseFromLast: boot.riseFromLast,
    chance: bestLayer.chance,
    nullMean: Number.NaN,
    nullP95: Number.NaN,
    p: Number.NaN,
    permutations: 0,
  };
  if (maxNullPermutations > 0) {
    options.onProgress?.(`${set.meta.method}: null of the best block (${maxNullPermutations} permutations)`);
    const perBlockX = set.layers.map((layer) => samples.map((_, i) => set.sampleActivation(i, layer)));
    const nul = maxOverBlocksNull(perBlockX, labels, folds, {
      permutations: maxNullPermutations,
      seed,
      center,
      groups: samples.map((s, i) => `${labels[i]}\u0000${groups[i]}`),
      strata: options.maxNullKeepNeutral ? samples.map((s) => (s.category === 'neutral' ? 'neutral' : 'emotion')) : undefined,
    });
    Object.assign(bestBlock, { nullMean: nul.null.mean, nullP95: nul.null.p95, p: nul.p, permutations: nul.permutations, nullObservedMax: nul.observedMax });
  }
  const best = shape.minLayer;
  const unit = set.vectorsAt(best);
  const map = pca2(unit);
  const m = set.meta.model;
  const result: MethodEvaluation = {
    method: set.meta.method,
    model: { description: m.description, arch: m.arch, nLayer: m.nLayer, nEmbd: m.nEmbd, quantization: m.quantization, sha256: m.sha256 },
    emotions: [...emotions],
    nSamples: n,
    folds: folds.length,
    bestLayer: best,
    bestDepth: shape.minDepth,
    bestLayerByAccuracy: byAcc.layer,
    bestBlock,
    bootstrapClusters: { unit: options.clusterOf ? 'custom' : 'template', clusters: nClusters },
    layers,
    shape,
    cosineMatrix: { layer: best, emotions: [...emotions], values: unit.map((u) => unit.map((v) => cosine(u, v))) },
    map: { layer: best, explained: map.explained.slice(0, 2), points: emotions.map((e, i) => ({ emotion: e, x: map.coords[i]![0], y: map.coords[i]![1] })) },
    clusters: { layer: best, merges: averageLinkage(unit, [...emotions]) },
    params: set.meta.params,
  };
  if (options.textBaseline ?? true) {
    const tb = textBaseline(set, labels, folds, clusters, { resamples, seed, bigrams: options.bagOfWordsBigrams ?? false });
    if (tb) result.textBaseline = tb;
  }
  decodabilityInputs.set(result, { correctByBlock, uncentredByBlock, centred: center, groups: clusters, strata: labels, categories: [...categories], layers: [...set.layers] });
  return result;
}

/**
 * The bag-of-words baseline of a set: the texts its activations were read from (the generated
 * stories, or the passages of a comprehension set), classified from their words alone, with and
 * without the words that name the emotions. Undefined when a generation set lacks its texts.
 */
function textBaseline(set: EmotionVectorSet, labels: number[], folds: number[][], clusters: string[], o: { resamples: number; seed: number; bigrams: boolean }): TextBaseline | undefined {
  const { samples, categories, emotions } = set.meta;
  let source: TextBaseline['source'];
  let texts: string[];
  if (samples.every((s) => typeof s.text === 'string')) {
    source = 'text';
    texts = samples.map((s) => s.text!);
  } else if (set.meta.method === 'comprehension') {
    source = 'prompt';
    texts = samples.map((s) => s.prompt);
  } else {
    return undefined;
  }
  const mask = emotionWordMask(emotions);
  const plain = bagOfWordsAccuracy(texts, labels, folds, { bigrams: o.bigrams });
  const masked = bagOfWordsAccuracy(texts, labels, folds, { bigrams: o.bigrams, mask });
  const ci = (c: Uint8Array) => estimate(clusterBootstrapCI(clusters, (idx) => { let s = 0; for (const i of idx) s += c[i]!; return s / idx.length; }, { resamples: o.resamples, seed: o.seed, strata: labels }));
  return {
    source,
    classifier: o.bigrams ? 'multinomial naive Bayes, word unigrams and bigrams' : 'multinomial naive Bayes, word unigrams',
    chance: 1 / categories.length,
    bagOfWords: ci(plain.correct),
    bagOfWordsMasked: ci(masked.correct),
    maskedWords: masked.masked,
    textsNamingTheirEmotion: samples.filter((s, i) => s.category !== 'neutral' && findEmotionWords(texts[i]!, s.category).length > 0).length,
  };
}

/** Generation vs comprehension (or any two sets on the same model). */
export function compareMethods(a: EmotionVectorSet, ea: MethodEvaluation, b: EmotionVectorSet, eb: MethodEvaluation): MethodComparison {
  const x = ea.layers.map((l) => l.meanPairwiseCosine);
  const y = eb.layers.map((l) => l.meanPairwiseCosine);
  const mw = mannWhitneyU(x, y);
  const common = a.emotions.filter((e) => b.emotions.includes(e));
  const layers = a.layers.filter((l) => b.layers.includes(l));
  const out: MethodComparison = {
    unit: 'layers',
    descriptiveOnly: true,
    metric: 'meanPairwiseCosine',
    mannWhitneyU: mw.u,
    mannWhitneyP: mw.p,
    exact: mw.exact,
    cohensD: cohensD(x, y),
    cliffsDelta: cliffsDelta(x, y),
    rsa: layers.map((layer) => ({ layer, spearman: rsaSpearman(common.map((e) => a.vector(e, layer)), common.map((e) => b.vector(e, layer))) })),
    perEmotionCosine: common.map((e) => ({ emotion: e, cosine: cosine(a.vector(e, ea.bestLayer), b.vector(e, eb.bestLayer)) })),
  };
  // Best-block accuracies compared with clusters as the unit, when both evaluations were made
  // here and classify the same categories (the same chance).
  const pair = decodabilityPair(ea.method, ea, eb.method, eb, true);
  if (pair) out.decodability = { metric: 'bestBlockHeldOutAccuracy', a: pair.accuracyA, b: pair.accuracyB, difference: pair.difference, p: pair.p, resamples: pair.resamples };
  return out;
}

/**
 * Best-block accuracy of set `a` minus set `b` ({@link compareDecodability}: each best block
 * re-selected per cluster-bootstrap resample), from the per-block correctness kept by
 * {@link evaluateSet}; `centred: false` compares the uncentred classifiers. Undefined when either
 * evaluation was not made in this process or the two classify different categories (other chance).
 */
export function decodabilityPair(nameA: string, ea: MethodEvaluation, nameB: string, eb: MethodEvaluation, centred: boolean, options: { resamples?: number; seed?: number } = {}): DecodabilityPair | undefined {
  const da = decodabilityInputs.get(ea);
  const db = decodabilityInputs.get(eb);
  if (!da || !db) return undefined;
  if (da.categories.length !== db.categories.length || !da.categories.every((c) => db.categories.includes(c))) return undefined;
  const pick = (d: typeof da) => ({ correctByBlock: centred === d.centred ? d.correctByBlock : d.uncentredByBlock, groups: d.groups, strata: d.strata });
  const r = compareDecodability(pick(da), pick(db), { resamples: options.resamples ?? 1000, seed: options.seed ?? 0 });
  return {
    a: nameA,
    b: nameB,
    accuracyA: r.a,
    accuracyB: r.b,
    layerA: da.layers[r.blockA]!,
    layerB: db.layers[r.blockB]!,
    difference: r.difference,
    p: r.p,
    resamples: r.resamples,
    centred,
  };
}

/**
 * The pairs of sets compared for the decodability claims (docs/PREREG.md), by set name:
 * primary = the mean read-outs (`generation.mean` vs `comprehension.mean`), centred and
 * uncentred; paper = the paper's read-outs (`generation`, middle token, vs `comprehension`, last
 * token); punctuation = `generation.punctuation` vs `comprehension`.
 */
export const DECODABILITY_PAIRS: Readonly<Record<keyof EvaluationDecodability, readonly [a: string, b: string, centred: boolean]>> = {
  primary: ['generation.mean', 'comprehension.mean', true],
  primaryUncentred: ['generation.mean', 'comprehension.mean', false],
  paper: ['generation', 'comprehension', true],
  punctuation: ['generation.punctuation', 'comprehension', true],
};

/** Finds the anisotropy profile of a set's model: cached in the run folder, else measured. */
export async function anisotropyFor(runDir: string, set: EmotionVectorSet, options: EvaluateOptions = {}): Promise<AnisotropyProfile> {
  const sha = set.meta.model.sha256;
  const cached = await readCachedAnisotropy(runDir, sha);
  const path = options.model ?? set.meta.model.path;
  if (cached) {
    // A profile cached before the varied baseline existed: add it when the model is at hand.
    if (cached.varied || !path || !existsSync(path) || (await fileSha256(path)) !== sha) return cached;
    options.onProgress?.('measuring the varied anisotropy baseline');
    const model = await loadModel(path);
    try {
      await addVariedAnisotropy(model, cached);
      await writeCachedAnisotropy(runDir, cached);
      return cached;
    } finally {
      model.dispose();
    }
  }
  if (!path || !existsSync(path)) {
    throw new EmosteerError('FILE_NOT_FOUND', `the anisotropy baseline needs the model the set was extracted from (${set.meta.model.description}); pass --model <gguf>`);
  }
  if ((await fileSha256(path)) !== sha) {
    throw new EmosteerError('INVALID_ARGUMENT', `${path} is not the model the set was extracted from (sha256 differs); pass the right --model`);
  }
  options.onProgress?.('measuring the anisotropy baseline');
  const model = await loadModel(path);
  try {
    const profile = await measureAnisotropy(model);
    await writeCachedAnisotropy(runDir, profile);
    return profile;
  } finally {
    model.dispose();
  }
}

/**
 * Evaluates every set of a run folder (and compares generation with comprehension when both
 * exist). Anisotropy is read from `<runDir>/anisotropy.json` when it belongs to the same model
 * file, otherwise measured on the model (`options.model`, else the path recorded in the set)
 * and cached there.
 *
 * @param runDir a set's folder, or a folder whose subfolders are sets (e.g. generation/, comprehension/)
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { evaluateRun } from 'emosteer/evaluate';
 * const result = await evaluateRun('runs/gemma', { onProgress: console.log });
 * console.log(result.methods.generation?.bestLayerByAccuracy);
 * await writeFile('runs/gemma/evaluation.json', JSON.stringify(result));
 * ```
 */
export async function evaluateRun(runDir: string, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const found = await findSets(runDir);
  const sets = new Map<string, EmotionVectorSet>();
  for (const [name, dir] of found) sets.set(name, await EmotionVectorSet.load(dir));
  const first = [...sets.values()][0]!;
  const shas = new Set([...sets.values()].map((s) => s.meta.model.sha256));
  if (shas.size > 1) throw new EmosteerError('INVALID_ARGUMENT', `the sets in ${runDir} come from different models; evaluate them separately`);
  const anisotropy = await anisotropyFor(runDir, first, options);
  const methods: Record<string, MethodEvaluation> = {};
  for (const [name, set] of sets) methods[name] = evaluateSet(set, anisotropy, options);
  const result: EvaluationResult = {
    runDir,
    createdAt: new Date().toISOString(),
    emosteerVersion: EMOSTEER_VERSION,
    methods,
    anisotropy: anisotropy.layers,
  };
  if (sets.has('generation') && sets.has('comprehension')) {
    result.comparison = compareMethods(sets.get('generation')!, methods.generation!, sets.get('comprehension')!, methods.comprehension!);
  }
  const decodability: EvaluationDecodability = {};
  for (const [key, [a, b, centred]] of Object.entries(DECODABILITY_PAIRS) as [keyof EvaluationDecodability, readonly [string, string, boolean]][]) {
    const pair = methods[a] && methods[b] ? decodabilityPair(a, methods[a], b, methods[b], centred, { seed: options.seed ?? 0 }) : undefined;
    if (pair) decodability[key] = pair;
  }
  if (Object.keys(decodability).length > 0) result.decodability = decodability;
  return result;
}
