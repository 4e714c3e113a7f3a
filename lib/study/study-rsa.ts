/**
 * The study's representational similarity analysis (docs/PREREG.md, "Beyond the paper"; issue
 * 20 item 6): the emotion geometry of every pair of models, of the two methods within a model,
 * and of each requantized variant against its shipped precision, as RSAs of 20 x 20
 * dissimilarity matrices. Exploratory: it decides no claim.
 *
 * - **Pre-registered block**: each set's matrix at the block of its evaluation's cosine matrix
 *   (evaluation.json `cosineMatrix`, the block of least mean pairwise cosine).
 * - **Sensitivity, added after the first figures** (docs/PREREG.md says why): each set at its
 *   best-accuracy block (evaluation.json `bestBlock`), and every set at matched depths
 *   ({@link RSA_DEPTHS}), read from the run folder's `geometry.json` (lib/evaluate/block-geometry.ts).
 *
 * - **Text geometry** (post hoc): the same construction on the words of the texts each set was
 *   read from (lib/evaluate/block-geometry.ts `textGeometry`), compared with each set and
 *   between models: comprehension reads the same passages in every model, so a shared geometry
 *   may be the passages' words.
 *
 * Everything is read from committed files (evaluation.json, geometry.json), so `emosteer study
 * --report-only` recomputes it on a fresh clone without the vector sets.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GEOMETRY_FILE, geometryAt, layerAtDepth, type GeometryFile } from '../evaluate/block-geometry.js';
import { compareRdms, rdmFromCosineMatrix, type LabelledRdm, type RsaOptions, type RsaResult } from '../evaluate/representational-similarity.js';
import type { EvaluationResult } from '../evaluate/types.js';
import type { StudyRow } from './types.js';
import { holm } from './verdict-rules.js';

/** The set (evaluation method key) the between-model RSA is primary on: generation, mean read-out. */
export const RSA_PRIMARY_SET = 'generation.mean';
/** The secondary set of the between-model RSA: comprehension, mean read-out. */
export const RSA_SECONDARY_SET = 'comprehension.mean';
/** The matched depths of the sensitivity profile. */
export const RSA_DEPTHS: readonly number[] = Object.freeze([0.25, 0.5, 0.75, 1]);

/** Which block each side of a comparison is read at (or, `text`, the geometry of the set's texts). */
export interface RsaBlockRule {
  /**
   * `prereg`: the block of the evaluation's cosine matrix; `best-accuracy`: the set's best
   * held-out accuracy block; `depth`: the block nearest {@link RsaBlockRule.depth}; `text`: not
   * a block but the geometry of the texts the set was read from (geometry.json `text`).
   */
  rule: 'prereg' | 'best-accuracy' | 'depth' | 'text';
  /** The matched depth in [0, 1] (rule `depth` only). */
  depth?: number;
}

/** One side of an RSA: a model's set at a block. */
export interface RsaSide {
  /** Study row id (model or variant). */
  model: string;
  /** Evaluation method key (e.g. `generation.mean`). */
  set: string;
  /** The block (-1 for the set's text geometry). */
  layer: number;
  /** Its depth, layer / (nLayer - 1) (NaN for the text geometry). */
  depth: number;
}

/** One RSA of the study, with its Holm-adjusted p-value within its family. */
export interface StudyRsaComparison {
  /** The first matrix. */
  a: RsaSide;
  /** The second matrix (the one relabelled by the null). */
  b: RsaSide;
  /** Spearman's r, its interval and permutation p. */
  result: RsaResult;
  /** Holm-adjusted p within the family (NaN where nothing is tested). */
  pHolm: number;
}

/** Every pair of shipped models on one set under one block rule; Holm over the pairs. */
export interface RsaModelFamily {
  /** The set compared. */
  set: string;
  /** True for {@link RSA_PRIMARY_SET}. */
  primary: boolean;
  /** One per model pair. */
  comparisons: StudyRsaComparison[];
  /** Pairs whose interval lies above 0. */
  agreeing: number;
}

/** The comparisons under one block rule. */
export interface RsaUnderRule {
  /** The block rule. */
  block: RsaBlockRule;
  /** Between models: the primary set, then the secondary. */
  betweenModels: RsaModelFamily[];
  /** Per shipped model: comprehension against generation (mean read-outs); Holm over the models. */
  betweenMethods: StudyRsaComparison[];
  /** Per shipped model and set (primary, secondary): the set at this rule's block against the geometry of its own texts; Holm over these. Empty for the text rule itself and without geometry.json. */
  againstText: StudyRsaComparison[];
}

/** The study's RSA. */
export interface StudyRsa {
  /** Under the pre-registered block rule. */
  prereg: RsaUnderRule;
  /** Sensitivity analyses (post hoc): the best-accuracy block, then each matched depth. Empty without geometry.json files. */
  sensitivity: RsaUnderRule[];
  /** The texts' own geometries compared (post hoc): what the words alone share between models and methods. Absent without geometry.json files. */
  text?: RsaUnderRule;
  /** Each requantized variant against its shipped precision, per set both hold, at the pre-registered block (not tested: `pHolm` NaN). */
  quantized: StudyRsaComparison[];
  /** Models without geometry.json (left out of the sensitivity analyses). */
  missingGeometry: string[];
  /** The settings of the pre-registered comparisons (the depth profile draws no bootstrap). */
  options: Required<RsaOptions>;
}

async function readJsonFile<T>(path: string): Promise<T | undefined> {
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as T) : undefined;
}

/** A model's committed geometry: its evaluation and (when there) its per-block matrices. */
interface ModelGeometry {
  evaluation: EvaluationResult;
  geometry?: GeometryFile;
}

/** The side and matrix of a model's set under a block rule, or undefined when the files lack it. */
function sideOf(id: string, g: ModelGeometry, set: string, block: RsaBlockRule): { side: RsaSide; rdm: LabelledRdm } | undefined {
  const m = g.evaluation.methods[set];
  if (!m) return undefined;
  const n = m.model.nLayer;
  const at = (layer: number, rdm: LabelledRdm) => ({ side: { model: id, set, layer, depth: n > 1 ? layer / (n - 1) : 0 }, rdm });
  if (block.rule === 'prereg') return at(m.cosineMatrix.layer, rdmFromCosineMatrix(m.cosineMatrix.emotions, m.cosineMatrix.values));
  const geo = g.geometry?.sets[set];
  if (!geo) return undefined;
  if (block.rule === 'text') return geo.text ? { side: { model: id, set, layer: -1, depth: Number.NaN }, rdm: { labels: geo.emotions, condensed: geo.text.rdm } } : undefined;
  const layer = block.rule === 'best-accuracy' ? m.bestBlock?.layer : block.depth !== undefined ? layerAtDepth(geo, block.depth) : undefined;
  if (layer === undefined || !geo.layers.includes(layer)) return undefined;
  return at(layer, { labels: geo.emotions, condensed: geometryAt(geo, layer) });
}

function withHolm(list: Omit<StudyRsaComparison, 'pHolm'>[]): StudyRsaComparison[] {
  const adjusted = holm(list.map((c) => (Number.isFinite(c.result.p) ? c.result.p : 1)));
  return list.map((c, i) => ({ ...c, pHolm: adjusted[i]! }));
}

function underRule(models: ReadonlyMap<string, ModelGeometry>, block: RsaBlockRule, options: Required<RsaOptions>): RsaUnderRule {
  const compare = (x: ReturnType<typeof sideOf>, y: ReturnType<typeof sideOf>) => ({ a: x!.side, b: y!.side, result: compareRdms(x!.rdm, y!.rdm, options) });
  const ids = [...models.keys()];
  const betweenModels = [RSA_PRIMARY_SET, RSA_SECONDARY_SET].map((set) => {
    const have = ids.map((id) => sideOf(id, models.get(id)!, set, block)).filter((x) => x !== undefined);
    const list: Omit<StudyRsaComparison, 'pHolm'>[] = [];
    for (let i = 0; i < have.length; i++) for (let j = i + 1; j < have.length; j++) list.push(compare(have[i], have[j]));
    const comparisons = withHolm(list);
    return { set, primary: set === RSA_PRIMARY_SET, comparisons, agreeing: comparisons.filter((c) => c.result.ci95[0] > 0).length };
  });
  const betweenMethods = withHolm(ids.flatMap((id) => {
    const c = sideOf(id, models.get(id)!, RSA_SECONDARY_SET, block);
    const g = sideOf(id, models.get(id)!, RSA_PRIMARY_SET, block);
    return c && g ? [compare(c, g)] : [];
  }));
  const againstText = block.rule === 'text' ? [] : withHolm(ids.flatMap((id) => [RSA_PRIMARY_SET, RSA_SECONDARY_SET].flatMap((set) => {
    const x = sideOf(id, models.get(id)!, set, block);
    const t = sideOf(id, models.get(id)!, set, { rule: 'text' });
    return x && t ? [compare(x, t)] : [];
  })));
  return { block, betweenModels, betweenMethods, againstText };
}

/**
 * The study's RSA from the evaluation.json and geometry.json of every row (rows that failed or
 * have no evaluation are left out; a family with fewer than two sides is empty).
 * @param dirOf the run folder of a row id
 */
export async function studyRsa(rows: readonly StudyRow[], dirOf: (id: string) => string, options: RsaOptions = {}): Promise<StudyRsa> {
  const settings: Required<RsaOptions> = { permutations: options.permutations ?? 10_000, resamples: options.resamples ?? 2_000, seed: options.seed ?? 0 };
  const all = new Map<string, ModelGeometry>();
  for (const r of rows) {
    if (r.error) continue;
    const evaluation = await readJsonFile<EvaluationResult>(join(dirOf(r.variant.id), 'evaluation.json'));
    if (!evaluation) continue;
    const geometry = await readJsonFile<GeometryFile>(join(dirOf(r.variant.id), GEOMETRY_FILE));
    all.set(r.variant.id, { evaluation, ...(geometry ? { geometry } : {}) });
  }
  const shippedRows = rows.filter((r) => !r.variant.requantized && all.has(r.variant.id));
  const shipped = new Map(shippedRows.map((r) => [r.variant.id, all.get(r.variant.id)!]));
  const missingGeometry = [...shipped].filter(([, g]) => !g.geometry).map(([id]) => id);
  const withGeometry = new Map([...shipped].filter(([, g]) => g.geometry));

  const sensitivity = withGeometry.size === 0 ? [] : [
    underRule(withGeometry, { rule: 'best-accuracy' }, settings),
    ...RSA_DEPTHS.map((depth) => underRule(withGeometry, { rule: 'depth', depth }, { ...settings, resamples: 0 })),
  ];

  const text = withGeometry.size === 0 ? undefined : underRule(withGeometry, { rule: 'text' }, settings);

  const quantized: StudyRsaComparison[] = [];
  for (const r of rows) {
    const parent = r.variant.parent;
    const v = all.get(r.variant.id);
    const p = parent ? all.get(parent) : undefined;
    if (!r.variant.requantized || !v || !p) continue;
    for (const set of Object.keys(v.evaluation.methods)) {
      const x = sideOf(parent!, p, set, { rule: 'prereg' });
      const y = sideOf(r.variant.id, v, set, { rule: 'prereg' });
      if (x && y) quantized.push({ a: x.side, b: y.side, result: compareRdms(x.rdm, y.rdm, settings), pHolm: Number.NaN });
    }
  }
  // The pre-registered rule reads evaluation.json; its comparison with the texts needs geometry.json.
  const prereg = underRule(shipped, { rule: 'prereg' }, settings);
  return { prereg, sensitivity, ...(text ? { text } : {}), quantized, missingGeometry, options: settings };
}
