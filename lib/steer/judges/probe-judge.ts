/**
 * A cross-model probe judge: a linear probe trained on *another* model's activations of the 252
 * labelled comprehension passages (12 per category, 20 emotions and neutral), applied to a
 * text by running that judge model over the text.
 *
 * It covers all 20 emotions and neutral, and its confusion matrix is known before it votes
 * (cross-validated over the passages: {@link crossValidateProbeJudge}). It reads the judge
 * model's states, not the steered model's, so it must never be a model of the steered model's
 * family: {@link ProbeJudge.create} records the judge model's identity and
 * {@link assertDifferentFamily} refuses a same-family pair.
 *
 * **Read-out.** One block, by default {@link defaultProbeBlock} (about 2/3 of the depth: the
 * paper's emotion representations peak in the middle-to-late blocks), fixed before looking at
 * any accuracy; `block: 'cv'` instead picks, on the training passages only, the block with
 * the best grouped k-fold probe accuracy. Pooling is the mean over the text's own tokens (the
 * BOS token is left out: its state is the same for every text, and in several families its
 * norm is far larger than the others', so it would dominate a mean), the same for training and
 * judging. `'last'` (the last token) is available but not the default: for a judged story the
 * last token is whatever the generation stopped on. Texts longer than `maxTokens` tokens are
 * cut to their first `maxTokens`.
 *
 * **Probe.** {@link fitLinearProbe}: multinomial logistic regression with an L2 penalty on
 * standardized features (scikit-learn's StandardScaler + LogisticRegression).
 *
 * **Domain.** Generated stories are not written like the passages, and their states share a
 * shift that the probe reads as one or two categories (Gemma 3 270M on SmolLM2's stories:
 * 158 of 210 'reflective', macro-F1 at chance; docs/judges.md). {@link ProbeJudge.recentre}
 * removes it: the mean state of the texts to be judged (unlabelled, all conditions pooled)
 * takes the place of the passages' mean.
 *
 * @module
 */
import { basename } from 'node:path';
import { EmosteerError } from '../../errors.js';
import { groupedFolds } from '../../evaluate/evaluate.js';
import { fitLinearProbe, linearProbeAccuracy, linearProbePredict, type LinearProbeModel } from '../../evaluate/linear-probe.js';
import { MODELS } from '../../models/registry.js';
import type { Context } from '../../runtime/context.js';
import type { Model } from '../../runtime/model.js';
import { COMPREHENSION_PASSAGES } from '../../stimuli/passages.en.js';
import type { Judge, JudgeClassification } from './judge.js';
import { passageTexts } from './labelled-texts.js';

/** How a text's token states are reduced to one vector: mean over the text's tokens (BOS left out), or the last token. */
export type ProbePooling = 'mean' | 'last';

/** Who the judge model is: recorded by {@link ProbeJudge.create}, checked by {@link assertDifferentFamily}. */
export interface JudgeModelIdentity {
  /** llama.cpp architecture (`general.architecture`), e.g. 'gemma3'. */
  arch: string;
  /** The family used for the same-family check: the registry family when the file is a registry model, else {@link archFamily}(arch). */
  family: string;
  /** `general.name` of the GGUF (may be empty). */
  name: string;
  /** llama.cpp's one-line description, e.g. 'gemma3 270M Q4_K - Medium'. */
  description: string;
  /** Path of the GGUF file. */
  path: string;
  /** Blocks of the model. */
  nLayer: number;
  /** Residual-stream width. */
  nEmbd: number;
}

/** Options of {@link ProbeJudge.create} and {@link crossValidateProbeJudge}. */
export interface ProbeJudgeOptions {
  /** Labelled training passages, category -> passages (default the built-in comprehension passages; balanced by {@link passageTexts}: 252, 12 per category). */
  passages?: Readonly<Record<string, readonly string[]>>;
  /**
   * Block to read (default 'two-thirds' = {@link defaultProbeBlock}(nLayer)); 'cv' picks the
   * block of best grouped k-fold accuracy on the training passages.
   */
  block?: number | 'two-thirds' | 'cv';
  /** Pooling for training and judging (default 'mean'). */
  pooling?: ProbePooling;
  /** L2 penalty of the probe (default 0.01, as {@link fitLinearProbe}). */
  l2?: number;
  /** Folds of the block choice with `block: 'cv'` and of {@link crossValidateProbeJudge} (default 5). */
  folds?: number;
  /** Seed of the folds (default 0). */
  seed?: number;
  /** Texts are cut to this many tokens (default 512). */
  maxTokens?: number;
  /** Threads of the judge model's context. */
  threads?: number;
  /** Passages decoded together while training (default 8). */
  batch?: number;
  /** Judge name in reports (default `probe-<arch>`). */
  name?: string;
}

/**
 * The block at about 2/3 of the depth: the block i whose depth (i + 1) / nLayer is nearest
 * 2/3, i.e. round(2 nLayer / 3) - 1 (Gemma 3 270M, 18 blocks: 11; SmolLM2-135M, 30 blocks: 19).
 * @throws EmosteerError INVALID_ARGUMENT for nLayer < 1
 */
export function defaultProbeBlock(nLayer: number): number {
  if (!Number.isInteger(nLayer) || nLayer < 1) throw new EmosteerError('INVALID_ARGUMENT', `nLayer must be a positive integer, got ${String(nLayer)}`);
  return Math.max(0, Math.round((2 * nLayer) / 3) - 1);
}

/**
 * The family of a llama.cpp architecture name: lower-cased, with a trailing 'moe' or 'vl'
 * and then trailing version digits removed ('gemma3' -> 'gemma', 'qwen2moe' -> 'qwen',
 * 'llama' -> 'llama'). Conservative by design: two models of one architecture count as one
 * family even when they are different model lines (Llama 3 and SmolLM2 are both 'llama').
 */
export function archFamily(arch: string): string {
  return arch.toLowerCase().replace(/(moe|vl)$/, '').replace(/[\d.]+$/, '');
}

/** The {@link JudgeModelIdentity} of a loaded model. */
export function judgeModelIdentity(model: Model): JudgeModelIdentity {
  const info = model.info;
  const entry = MODELS.find((m) => m.file === basename(info.path));
  return {
    arch: info.arch,
    family: entry?.family ?? archFamily(info.arch),
    name: info.name,
    description: info.description,
    path: info.path,
    nLayer: info.nLayer,
    nEmbd: info.nEmbd,
  };
}

/** Something that names a model's architecture: an arch string, a model, an identity or a vector set's `meta.model`. */
export type ModelLike = string | Model | {
  /** `general.architecture` of the model. */
  arch: string;
  /** Its family, when known (e.g. from the registry). */
  family?: string;
  /** Its file. */
  path?: string;
};

function describeModel(m: ModelLike): { arch: string; families: Set<string>; label: string } {
  let arch: string;
  let path: string | undefined;
  let family: string | undefined;
  if (typeof m === 'string') arch = m;
  else if ('info' in m && typeof m.info === 'object') ({ arch, path } = m.info);
  else ({ arch, path, family } = m as { arch: string; family?: string; path?: string });
  if (typeof arch !== 'string' || arch.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'a model architecture (a non-empty string) is needed for the family check');
  const families = new Set([archFamily(arch)]);
  if (family) families.add(family);
  const entry = path ? MODELS.find((e) => e.file === basename(path!)) : undefined;
  if (entry) families.add(entry.family);
  return { arch, families, label: `${arch}${path ? ` (${basename(path)})` : ''}` };
}

/**
 * Refuses a judge model of the steered model's family: the families are compared by
 * {@link archFamily} of the architectures and, where a model is a registry file, by its
 * registry family; any overlap is the same family.
 *
 * @param steered the steered model (its arch, the model, or a vector set's `meta.model`)
 * @param judge the judge model (a {@link ProbeJudge}, its identity, or the model)
 * @throws EmosteerError INVALID_ARGUMENT when both are of one family
 */
export function assertDifferentFamily(steered: ModelLike, judge: ProbeJudge | ModelLike): void {
  const j = describeModel(judge instanceof ProbeJudge ? judge.identity : judge);
  const s = describeModel(steered);
  const shared = [...s.families].filter((f) => j.families.has(f));
  if (shared.length > 0) {
    throw new EmosteerError('INVALID_ARGUMENT', `the judge model ${j.label} is of the steered model's family (${shared.join(', ')}: ${s.label}); a judge must read another family's states, never its own`);
  }
}

/** Categories, texts and label indices of a passage set ({@link passageTexts}: balanced, in category order). */
function flattenPassages(passages: Readonly<Record<string, readonly string[]>>): { categories: string[]; texts: string[]; labels: number[] } {
  const rows = passageTexts(passages);
  const categories = [...new Set(rows.map((r) => r.category))];
  if (categories.length < 2) throw new EmosteerError('INVALID_ARGUMENT', 'the probe judge needs passages of at least 2 categories');
  if (rows.length < 2 * categories.length) throw new EmosteerError('INVALID_ARGUMENT', 'the probe judge needs at least 2 passages per category');
  for (const r of rows) if (typeof r.text !== 'string' || r.text.trim() === '') throw new EmosteerError('INVALID_ARGUMENT', `a passage of '${r.category}' is empty`);
  return { categories, texts: rows.map((r) => r.text), labels: rows.map((r) => categories.indexOf(r.category)) };
}

interface Settings {
  pooling: ProbePooling;
  maxTokens: number;
  batch: number;
  folds: number;
  seed: number;
  l2: number | undefined;
}

function settings(options: ProbeJudgeOptions): Settings {
  const pooling = options.pooling ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'last') throw new EmosteerError('INVALID_ARGUMENT', `pooling must be 'mean' or 'last' (got ${String(pooling)})`);
  const maxTokens = options.maxTokens ?? 512;
  const batch = options.batch ?? 8;
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(maxTokens) || maxTokens < 2) throw new EmosteerError('INVALID_ARGUMENT', `maxTokens must be an integer >= 2 (got ${String(maxTokens)})`);
  if (!Number.isInteger(batch) || batch < 1) throw new EmosteerError('INVALID_ARGUMENT', `batch must be a positive integer (got ${String(batch)})`);
  if (!Number.isInteger(folds) || folds < 2) throw new EmosteerError('INVALID_ARGUMENT', `folds must be an integer >= 2 (got ${String(folds)})`);
  return { pooling, maxTokens, batch, folds, seed, l2: options.l2 };
}

function resolveBlockOption(model: Model, block: ProbeJudgeOptions['block']): number | 'cv' {
  if (block === undefined || block === 'two-thirds') return defaultProbeBlock(model.info.nLayer);
  if (block === 'cv') return 'cv';
  if (!Number.isInteger(block) || block < 0 || block >= model.info.nLayer) {
    throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${String(block)} is outside 0..${model.info.nLayer - 1} of the judge model`);
  }
  return block;
}

/** Tokens of a text for the judge model: BOS as the tokenizer adds it, cut to maxTokens; `start` = first token of the text itself. */
function tokensOf(model: Model, text: string, maxTokens: number): { tokens: Int32Array; start: number } {
  if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'the probe judge needs a string');
  let tokens = model.tokenize(text, { addSpecial: true });
  if (tokens.length > maxTokens) tokens = tokens.slice(0, maxTokens);
  const start = tokens.length > 1 && tokens[0] === model.info.bos ? 1 : 0;
  if (tokens.length - start < 1) throw new EmosteerError('INVALID_ARGUMENT', 'the text has no tokens to judge');
  return { tokens, start };
}

/** Pools the per-token rows (rows x nEmbd) of one block over [start, rows). */
function pool(rows: Float32Array, nEmbd: number, start: number, pooling: ProbePooling): Float32Array {
  const n = rows.length / nEmbd;
  if (pooling === 'last') return rows.slice((n - 1) * nEmbd, n * nEmbd);
  const out = new Float32Array(nEmbd);
  const acc = new Float64Array(nEmbd);
  for (let t = start; t < n; t++) {
    const off = t * nEmbd;
    for (let j = 0; j < nEmbd; j++) acc[j] = (acc[j] as number) + (rows[off + j] as number);
  }
  for (let j = 0; j < nEmbd; j++) out[j] = (acc[j] as number) / (n - start);
  return out;
}

/**
 * Reads texts with the judge model: for each text, the pooled state of each of `blocks`.
 * @returns per block (in `blocks` order), one vector per text
 */
async function readTexts(model: Model, ctx: Context, texts: readonly string[], blocks: readonly number[], s: Settings): Promise<Float32Array[][]> {
  const out: Float32Array[][] = blocks.map(() => []);
  const E = model.info.nEmbd;
  for (let i = 0; i < texts.length; i += s.batch) {
    const chunk = texts.slice(i, i + s.batch).map((t) => tokensOf(model, t, s.maxTokens));
    const res = await ctx.evaluateBatch(chunk.map((c) => c.tokens), { capture: { layers: blocks, pooling: 'all' } });
    res.forEach((r, j) => {
      blocks.forEach((b, k) => out[k]!.push(pool(r.activations!.get(b), E, chunk[j]!.start, s.pooling)));
    });
  }
  return out;
}

/** Grouped k-fold accuracy of the probe at every block; returns the best block (first of equal ones) and all accuracies. */
function chooseBlock(blocks: readonly number[], X: Float32Array[][], labels: number[], groups: string[], s: Settings): { block: number; accuracies: { block: number; accuracy: number }[] } {
  const folds = groupedFolds(labels, groups, s.folds, s.seed);
  const accuracies = blocks.map((block, k) => ({ block, accuracy: linearProbeAccuracy(X[k]!, labels, folds, { l2: s.l2 }).accuracy }));
  let best = accuracies[0]!;
  for (const a of accuracies) if (a.accuracy > best.accuracy) best = a;
  return { block: best.block, accuracies };
}

const allBlocks = (model: Model) => Array.from({ length: model.info.nLayer }, (_, i) => i);

/**
 * Cross-model probe judge (see the module comment). `score(text, emotion)` is the probe's
 * probability of `emotion` (any of the 20 emotions or 'neutral'); `classify` the most probable
 * category. Create it with {@link ProbeJudge.create}; {@link dispose} it when done.
 *
 * @example
 * const gemma = await loadModel(await fetchModel('gemma-3-270m'));
 * const judge = await ProbeJudge.create(gemma);
 * assertDifferentFamily(steeredModel, judge);   // throws for a Gemma-steered run
 * await judge.score(text, 'afraid');            // probability in [0, 1]
 */
export class ProbeJudge implements Judge {
  /** Judge name in reports. */
  readonly name: string;
  /** The judge model's identity (compare it with the steered model: {@link assertDifferentFamily}). */
  readonly identity: JudgeModelIdentity;
  /** The block the probe reads. */
  readonly block: number;
  /** The pooling of training and judging. */
  readonly pooling: ProbePooling;
  /** The categories the probe tells apart, in its class order. */
  readonly categories: readonly string[];
  /** The fitted probe (class c of the probe is categories[c]). */
  readonly probe: LinearProbeModel;
  /** With `block: 'cv'`: the grouped k-fold accuracy of every block on the training passages. */
  readonly blockAccuracies: readonly {
    /** Block. */
    block: number;
    /** Grouped k-fold accuracy of the probe at that block. */
    accuracy: number;
  }[] | null;
  /** Training passages the probe was fitted on. */
  readonly trainingSize: number;
  /** Texts of the last {@link recentre} (0: not re-centred). */
  domainSize = 0;
  readonly #model: Model;
  readonly #ctx: Context;
  readonly #settings: Settings;
  readonly #cache = new Map<string, Float32Array>();
  #shift: Float64Array | null = null;

  private constructor(init: {
    model: Model; ctx: Context; settings: Settings; name: string; block: number; categories: string[]; probe: LinearProbeModel;
    blockAccuracies: { block: number; accuracy: number }[] | null; trainingSize: number;
  }) {
    this.#model = init.model;
    this.#ctx = init.ctx;
    this.#settings = init.settings;
    this.name = init.name;
    this.identity = Object.freeze(judgeModelIdentity(init.model));
    this.block = init.block;
    this.pooling = init.settings.pooling;
    this.categories = Object.freeze([...init.categories]);
    this.probe = init.probe;
    this.blockAccuracies = init.blockAccuracies ? Object.freeze(init.blockAccuracies) : null;
    this.trainingSize = init.trainingSize;
  }

  /**
   * Reads the training passages with `judgeModel`, fits the probe and returns the judge. The
   * judge keeps a context of `judgeModel` open until {@link dispose}.
   * @throws EmosteerError INVALID_ARGUMENT for bad options or passages, LAYER_OUT_OF_RANGE for a block the model lacks, and the runtime's errors
   */
  static async create(judgeModel: Model, options: ProbeJudgeOptions = {}): Promise<ProbeJudge> {
    const s = settings(options);
    const { categories, texts, labels } = flattenPassages(options.passages ?? COMPREHENSION_PASSAGES);
    const blockOpt = resolveBlockOption(judgeModel, options.block);
    const ctx = await judgeModel.createContext({ sequences: s.batch, contextSize: s.batch * (s.maxTokens + 8), threads: options.threads });
    try {
      const blocks = blockOpt === 'cv' ? allBlocks(judgeModel) : [blockOpt];
      const X = await readTexts(judgeModel, ctx, texts, blocks, s);
      let block = blocks[0]!;
      let blockAccuracies: { block: number; accuracy: number }[] | null = null;
      if (blockOpt === 'cv') ({ block, accuracies: blockAccuracies } = chooseBlock(blocks, X, labels, texts, s));
      const probe = fitLinearProbe(X[blocks.indexOf(block)]!, labels, { l2: s.l2 });
      return new ProbeJudge({ model: judgeModel, ctx, settings: s, name: options.name ?? `probe-${judgeModel.info.arch}`, block, categories, probe, blockAccuracies, trainingSize: texts.length });
    } catch (e) {
      await ctx.dispose();
      throw e;
    }
  }

  /** The pooled state of `text` at {@link block} (cached per text, last 4096 texts). */
  async #features(text: string): Promise<Float32Array> {
    let x = this.#cache.get(text);
    if (!x) {
      const { tokens, start } = tokensOf(this.#model, text, this.#settings.maxTokens);
      const r = await this.#ctx.evaluate(tokens, { capture: { layers: [this.block], pooling: 'all' } });
      x = pool(r.activations!.get(this.block), this.#model.info.nEmbd, start, this.#settings.pooling);
      if (this.#cache.size >= 4096) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(text, x);
    }
    return x;
  }

  /**
   * Re-centres the judge on the domain of the texts it will judge: the mean pooled state of
   * `texts` (unlabelled; e.g. every text of a steering run, baselines and all arms together)
   * replaces the training passages' mean, so a judged state x is read as
   * x - mean(texts) + mean(passages). The probe was trained on short third-person passages;
   * generated stories differ from them in style as a whole, and that common shift otherwise
   * pushes most stories into one or two categories (docs/judges.md). The correction depends on
   * the pool: it removes whatever the pool's texts share, so the pool should mix the
   * conditions that are compared (never one arm alone). `null` undoes it.
   * @throws EmosteerError INVALID_ARGUMENT for an empty list
   */
  async recentre(texts: readonly string[] | null): Promise<void> {
    if (texts === null) {
      this.#shift = null;
      this.domainSize = 0;
      return;
    }
    if (!Array.isArray(texts) || texts.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'recentre needs at least one text (or null)');
    const E = this.#model.info.nEmbd;
    const mean = new Float64Array(E);
    for (const t of texts) {
      const x = await this.#features(t);
      for (let j = 0; j < E; j++) mean[j] = (mean[j] as number) + (x[j] as number) / texts.length;
    }
    this.#shift = Float64Array.from(mean, (m, j) => (this.probe.mean[j] as number) - m);
    this.domainSize = texts.length;
  }

  /** The probe's probability of every category for `text` (after {@link recentre}, on the re-centred state). */
  async distribution(text: string): Promise<Record<string, number>> {
    let x = await this.#features(text);
    if (this.#shift) x = Float32Array.from(x, (v, j) => v + (this.#shift![j] as number));
    const p = linearProbePredict(this.probe, [x]).probabilities[0]!;
    const out: Record<string, number> = {};
    this.probe.classes.forEach((c, k) => { out[this.categories[c]!] = p[k]!; });
    return out;
  }

  /**
   * The probe's probability that `text` shows `emotion` (one of {@link categories}); NaN (the
   * judge cannot say, as the {@link Judge} contract has it) for a text with no token to read,
   * e.g. a continuation that ended at once (whether or not the judge's tokenizer adds BOS).
   * @throws EmosteerError INVALID_ARGUMENT for a category the probe was not trained on, or a text that is not a string
   */
  async score(text: string, emotion: string): Promise<number> {
    if (!this.categories.includes(emotion)) {
      throw new EmosteerError('INVALID_ARGUMENT', `the probe judge has no category '${emotion}'; known: ${this.categories.join(', ')}`);
    }
    if (typeof text !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'the probe judge needs a string');
    if (this.#model.tokenize(text, { addSpecial: false }).length === 0) return Number.NaN;
    return (await this.distribution(text))[emotion]!;
  }

  /** The most probable category (the first of equal ones, in {@link categories} order) and every category's probability. */
  async classify(text: string): Promise<JudgeClassification> {
    const scores = await this.distribution(text);
    let label = this.categories[0]!;
    for (const c of this.categories) if (scores[c]! > scores[label]!) label = c;
    return { label, scores };
  }

  /** Frees the judge model's context (the model itself is the caller's). */
  async dispose(): Promise<void> {
    await this.#ctx.dispose();
  }

  /** `await using judge = await ProbeJudge.create(...)` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** Result of {@link crossValidateProbeJudge}: held-out predictions for every training passage. */
export interface ProbeCrossValidation {
  /** The passages, in category order. */
  texts: string[];
  /** Each passage's category. */
  gold: string[];
  /** Each passage's held-out prediction (from the fold that left it out). */
  predicted: string[];
  /** The folds (indices into `texts`). */
  folds: number[][];
  /** The block used in each fold (constant unless `block: 'cv'`, which chooses it inside each training split). */
  blocks: number[];
  /** Held-out accuracy. */
  accuracy: number;
  /** The judge model's identity. */
  identity: JudgeModelIdentity;
}

/**
 * Held-out predictions of the probe judge on its own training passages: grouped k-fold over
 * passages (identical passages share a fold), the probe refitted on each training split and
 * applied to the held-out one, exactly as {@link ProbeJudge.create} would build it (same
 * block rule, pooling, penalty; `block: 'cv'` chooses the block inside each training split
 * only, so no held-out passage influences its own prediction).
 *
 * @throws what {@link ProbeJudge.create} throws
 */
export async function crossValidateProbeJudge(judgeModel: Model, options: ProbeJudgeOptions = {}): Promise<ProbeCrossValidation> {
  const s = settings(options);
  const { categories, texts, labels } = flattenPassages(options.passages ?? COMPREHENSION_PASSAGES);
  const blockOpt = resolveBlockOption(judgeModel, options.block);
  const blocks = blockOpt === 'cv' ? allBlocks(judgeModel) : [blockOpt];
  const ctx = await judgeModel.createContext({ sequences: s.batch, contextSize: s.batch * (s.maxTokens + 8), threads: options.threads });
  let X: Float32Array[][];
  try {
    X = await readTexts(judgeModel, ctx, texts, blocks, s);
  } finally {
    await ctx.dispose();
  }
  const folds = groupedFolds(labels, texts, s.folds, s.seed);
  const predicted: string[] = new Array(texts.length);
  const used: number[] = [];
  let correct = 0;
  for (const test of folds) {
    const held = new Set(test);
    const train = texts.map((_, i) => i).filter((i) => !held.has(i));
    const sub = (k: number, idx: number[]) => idx.map((i) => X[k]![i]!);
    let k = 0;
    if (blockOpt === 'cv') {
      const chosen = chooseBlock(blocks, blocks.map((_, b) => sub(b, train)), train.map((i) => labels[i]!), train.map((i) => texts[i]!), { ...s, seed: s.seed + 1 });
      k = blocks.indexOf(chosen.block);
    }
    used.push(blocks[k]!);
    const probe = fitLinearProbe(sub(k, train), train.map((i) => labels[i]!), { l2: s.l2 });
    const pred = linearProbePredict(probe, sub(k, test)).labels;
    test.forEach((i, j) => {
      predicted[i] = categories[pred[j]!]!;
      if (pred[j] === labels[i]) correct++;
    });
  }
  return { texts, gold: labels.map((l) => categories[l]!), predicted, folds, blocks: used, accuracy: correct / texts.length, identity: judgeModelIdentity(judgeModel) };
}
