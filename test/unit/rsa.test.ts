// Representational similarity (docs/PREREG.md "Beyond the paper"): the RSA statistic with its
// label-permutation null and emotion bootstrap on planted geometries (shared geometry: r high,
// p small, interval above 0; independent geometries: p roughly uniform), the per-block geometry
// file, and the study's RSA families read from planted run folders, as docs/results.md shows them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { geometryAt, layerAtDepth, setGeometry } from '../../lib/evaluate/block-geometry.js';
import { evaluateSet } from '../../lib/evaluate/evaluate.js';
import { rdm } from '../../lib/evaluate/geometry.js';
import { compareRdms, rdmFromCosineMatrix, type LabelledRdm } from '../../lib/evaluate/representational-similarity.js';
import { seededRandom, spearman } from '../../lib/evaluate/statistics.js';
import type { AnisotropyProfile } from '../../lib/evaluate/anisotropy.js';
import { renderStudyReport } from '../../lib/report/study-report.js';
import { resultsBlocks } from '../../lib/study/results-markdown.js';
import { RSA_DEPTHS, studyRsa } from '../../lib/study/study-rsa.js';
import type { StudyResult, StudyRow } from '../../lib/study/types.js';
import { cosine } from '../../lib/util/vec.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';

const gauss = (rand: () => number) => () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const LABELS = Array.from({ length: 20 }, (_, i) => `e${i}`);

/** Points in `dim` dimensions: a shared low-dimensional geometry `base` (or fresh), mapped by a random matrix, plus noise. */
function points(seed: number, dim: number, base?: number[][], noise = 0.3): Float32Array[] {
  const g = gauss(seededRandom(seed));
  const b = base ?? LABELS.map(() => Array.from({ length: 6 }, g));
  const M = Array.from({ length: dim }, () => Array.from({ length: 6 }, g));
  return b.map((p) => Float32Array.from(M.map((row) => row.reduce((s, m, k) => s + m * p[k]!, 0) + noise * 3 * g())));
}
const labelled = (v: Float32Array[], labels = LABELS): LabelledRdm => ({ labels, condensed: rdm(v) });

describe('compareRdms', () => {
  it('finds a shared geometry through different embeddings: r high, p small, interval above 0', () => {
    const g = gauss(seededRandom(7));
    const base = LABELS.map(() => Array.from({ length: 6 }, g));
    const res = compareRdms(labelled(points(1, 40, base)), labelled(points(2, 64, base)), { permutations: 2000, resamples: 500 });
    expect(res.pairs).toBe(190);
    expect(res.r).toBeGreaterThan(0.5);
    expect(res.p).toBeLessThan(0.005);
    expect(res.p).toBeGreaterThanOrEqual(1 / 2001);
    expect(res.ci95[0]).toBeGreaterThan(0);
    expect(res.ci95[0]).toBeLessThanOrEqual(res.r);
    expect(res.ci95[1]).toBeGreaterThanOrEqual(res.r);
  });

  it('independent geometries: p roughly uniform, r near 0 on average', () => {
    const ps: number[] = [];
    const rs: number[] = [];
    for (let t = 0; t < 40; t++) {
      const res = compareRdms(labelled(points(100 + t, 16)), labelled(points(500 + t, 16)), { permutations: 300, resamples: 0 });
      ps.push(res.p);
      rs.push(res.r);
    }
    expect(ps.filter((p) => p < 0.05).length).toBeLessThanOrEqual(8);
    expect(ps.filter((p) => p > 0.5).length).toBeGreaterThanOrEqual(12);
    expect(Math.abs(rs.reduce((a, b) => a + b, 0) / rs.length)).toBeLessThan(0.1);
  });

  it('is invariant to the label order of either matrix and matches the bare Spearman r', () => {
    const a = points(3, 12);
    const b = points(4, 12, undefined, 0.1);
    const plain = compareRdms(labelled(a), labelled(b), { permutations: 0, resamples: 0 });
    expect(plain.r).toBeCloseTo(spearman(rdm(a), rdm(b)), 12);
    expect(plain.p).toBeNaN();
    expect(plain.ci95[0]).toBeNaN();
    const order = [...LABELS.keys()].reverse().sort((x, y) => ((x * 7) % 20) - ((y * 7) % 20));
    const shuffled = compareRdms(labelled(a), labelled(order.map((i) => b[i]!), order.map((i) => LABELS[i]!)), { permutations: 0, resamples: 0 });
    expect(shuffled.r).toBeCloseTo(plain.r, 12);
    expect(shuffled.labels).toEqual(LABELS);
  });

  it('the fast permutation null matches the exact one on 4 items (all 24 relabellings)', () => {
    const a: LabelledRdm = { labels: ['a', 'b', 'c', 'd'], condensed: [1, 2, 3, 4, 5, 6] };
    const b: LabelledRdm = { labels: ['a', 'b', 'c', 'd'], condensed: [1.5, 2, 2.9, 4.5, 4.8, 6.2] };
    const r = compareRdms(a, b, { permutations: 0, resamples: 0 }).r;
    const perms: number[][] = [];
    const rec = (p: number[], rest: number[]) => (rest.length ? rest.forEach((x, i) => rec([...p, x], rest.filter((_, j) => j !== i))) : perms.push(p));
    rec([], [0, 1, 2, 3]);
    const idx = (i: number, j: number) => { const [x, y] = i < j ? [i, j] : [j, i]; return x * 4 - (x * (x + 1)) / 2 + (y - x - 1); };
    const exact = perms.filter((p) => {
      const bb: number[] = [];
      for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) bb.push(b.condensed[idx(p[i]!, p[j]!)] as number);
      return spearman(a.condensed, bb) >= r - 1e-12;
    }).length / 24;
    const res = compareRdms(a, b, { permutations: 20000, resamples: 0, seed: 3 });
    expect(Math.abs(res.p - exact)).toBeLessThan(0.015);
    expect(compareRdms(a, b, { permutations: 500, resamples: 0, seed: 3 }).p).toBe(compareRdms(a, b, { permutations: 500, resamples: 0, seed: 3 }).p);
  });

  it('refuses fewer than 4 shared labels, a wrong condensed length and bad options', () => {
    const a: LabelledRdm = { labels: ['a', 'b', 'c', 'd'], condensed: [1, 2, 3, 4, 5, 6] };
    expect(() => compareRdms(a, { labels: ['a', 'b', 'c', 'x'], condensed: [1, 2, 3, 4, 5, 6] })).toThrow(/at least 4 shared labels/);
    expect(() => compareRdms(a, { labels: ['a', 'b', 'c', 'd'], condensed: [1, 2, 3] })).toThrow(/6 condensed values/);
    expect(() => compareRdms(a, a, { permutations: -1 })).toThrow(/non-negative integer/);
    expect(() => rdmFromCosineMatrix(['a', 'b'], [[1, 0.5]])).toThrow(/2 x 2/);
  });

  it('rdmFromCosineMatrix gives the condensed RDM of the vectors', () => {
    const v = points(9, 10);
    const c = rdmFromCosineMatrix(LABELS, v.map((x) => v.map((y) => cosine(x, y))));
    const direct = rdm(v);
    expect(c.condensed.length).toBe(direct.length);
    expect(Math.max(...Array.from(direct, (d, k) => Math.abs(d - (c.condensed[k] as number))))).toBeLessThan(1e-9);
    expect(c.condensed.length).toBe(190);
  });
});

// Planted run folders: emotion means along planted directions per block; m1 and m2 share one
// geometry (from the middle blocks on), m3 has its own.
const EMO = LABELS.slice(0, 10);
const L = 6;
const E = 32;
const ANISO: AnisotropyProfile = { modelSha256: 'x', sentences: 2, layers: Array.from({ length: L }, (_, layer) => ({ layer, value: 0.5 })) };
const OPTS = { resamples: 50, geometryResamples: 10, permutations: 2, maxNullPermutations: 0, textBaseline: false };

function plantedSet(method: 'generation' | 'comprehension', geometrySeed: number, noiseSeed: number): EmotionVectorSet {
  const g0 = gauss(seededRandom(geometrySeed));
  const base = [...EMO, 'neutral'].map(() => Array.from({ length: 5 }, g0));
  const g = gauss(seededRandom(noiseSeed));
  const maps = Array.from({ length: L }, () => Array.from({ length: E }, () => Array.from({ length: 5 }, g)));
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  [...EMO, 'neutral'].forEach((c, ci) => {
    for (let i = 0; i < 6; i++) {
      samples.push({ category: c, index: i, prompt: `p ${c} ${i}`, text: `t ${i} w${ci % 3} v${(ci * geometrySeed) % 4}`, nTokens: 10, position: 5 });
      const a = new Float32Array(L * E);
      for (let l = 0; l < L; l++) for (let x = 0; x < E; x++) a[l * E + x] = (l >= 2 ? 3 : 0.2) * maps[l]![x]!.reduce((s, m, k) => s + m * base[ci]![k]!, 0) + g();
      acts.push(a);
    }
  });
  return EmotionVectorSet.fromSamples({
    method, emotions: EMO, categories: [...EMO, 'neutral'], layers: Array.from({ length: L }, (_, i) => i), nEmbd: E, baseline: 'neutral',
    model: { path: '', sha256: `${noiseSeed}`.padStart(64, '0'), arch: 'llama', description: 'planted', nLayer: L, nEmbd: E, quantization: 'F32', nParams: 1 },
    params: {}, stimuliVersion: 'planted', versions: { emosteer: '0', llamaCppCommit: '0' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 }, samples, createdAt: '2026-01-01T00:00:00Z',
  }, acts);
}

describe('setGeometry', () => {
  it('holds every block\'s RDM, equal to 1 - the evaluation\'s cosine matrix at its block', () => {
    const set = plantedSet('generation', 1, 11);
    const geo = setGeometry(set);
    expect(geo.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(geo.rdm).toHaveLength(L);
    expect(geo.rdm[0]).toHaveLength(45);
    const ev = evaluateSet(set, ANISO, OPTS);
    const fromEval = rdmFromCosineMatrix(ev.cosineMatrix.emotions, ev.cosineMatrix.values).condensed;
    const fromGeo = geometryAt(geo, ev.cosineMatrix.layer);
    expect(Math.max(...fromGeo.map((d, k) => Math.abs(d - (fromEval[k] as number))))).toBeLessThanOrEqual(0.5e-5 + 1e-9);
    expect(() => geometryAt(geo, 9)).toThrow(/no block 9/);
    expect(layerAtDepth(geo, 0.5)).toBe(2);
    expect(layerAtDepth(geo, 1)).toBe(5);
  });
});

describe('textGeometry', () => {
  it('builds the vectors\' construction on masked word frequencies: emotions that share words sit together, their names do not count', () => {
    const cats = ['happy', 'sad', 'calm', 'afraid', 'neutral'];
    const words: Record<string, string> = { happy: 'sun bright warm happy', sad: 'rain grey cold sad', calm: 'sun bright warm calm calmly', afraid: 'rain grey cold afraid', neutral: 'table chair door' };
    const samples: SampleInfo[] = cats.flatMap((c) => [0, 1, 2].map((i) => ({ category: c, index: i, prompt: `p ${i}`, text: `${words[c]} ${['one', 'two', 'three'][i]}`, nTokens: 5, position: 2 })));
    const set = EmotionVectorSet.fromSamples({
      method: 'generation', emotions: cats.slice(0, 4), categories: cats, layers: [0], nEmbd: 4, baseline: 'neutral',
      model: { path: '', sha256: '0'.repeat(64), arch: 'llama', description: 'planted', nLayer: 1, nEmbd: 4, quantization: 'F32', nParams: 1 },
      params: {}, stimuliVersion: 'planted', versions: { emosteer: '0', llamaCppCommit: '0' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 }, samples, createdAt: '2026-01-01T00:00:00Z',
    }, samples.map((_, k) => Float32Array.from([k % 3, 1, (k * 7) % 5, 2])));
    const g = setGeometry(set);
    expect(g.text!.source).toBe('text');
    const [hs, hc, ha, sc, sa, ca] = g.text!.rdm; // pairs of happy, sad, calm, afraid in row order
    expect(hc).toBeLessThan(0.01); // happy and calm share every word once their names are masked ('calmly' is a form of calm)
    expect(sa).toBeLessThan(0.01);
    for (const far of [hs!, ha!, sc!, ca!]) expect(far).toBeGreaterThan(0.4); // 1 - cosine 0.5: both sides share the neutral mean subtracted
  });
});

describe('geometryDone', () => {
  it('wants this version of geometry.json and every evaluated set in it', async () => {
    const { geometryDone } = await import('../../lib/protocol/geometry-step.js');
    const dir = mkdtempSync(join(tmpdir(), 'geometry-done-'));
    try {
      writeFileSync(join(dir, 'evaluation.json'), JSON.stringify({ methods: { comprehension: {}, 'generation.mean': {} } }));
      expect(geometryDone(dir)).toBe(false);
      writeFileSync(join(dir, 'geometry.json'), JSON.stringify({ version: 1, modelSha256: 'x', sets: { comprehension: {}, 'generation.mean': {} } }));
      expect(geometryDone(dir)).toBe(false);
      writeFileSync(join(dir, 'geometry.json'), JSON.stringify({ version: 2, modelSha256: 'x', sets: { comprehension: {} } }));
      expect(geometryDone(dir)).toBe(false);
      writeFileSync(join(dir, 'geometry.json'), JSON.stringify({ version: 2, modelSha256: 'x', sets: { comprehension: {}, 'generation.mean': {} } }));
      expect(geometryDone(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('studyRsa over planted run folders', () => {
  const root = mkdtempSync(join(tmpdir(), 'rsa-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const models: [string, number, boolean][] = [['m1', 1, true], ['m2', 1, true], ['m3', 2, true], ['m4', 3, false]];
  for (const [id, geometrySeed, withGeometry] of models) {
    const dir = join(root, id);
    mkdirSync(dir);
    const sets = { 'generation.mean': plantedSet('generation', geometrySeed, geometrySeed * 100 + id.charCodeAt(1)), 'comprehension.mean': plantedSet('comprehension', geometrySeed, geometrySeed * 1000 + id.charCodeAt(1)) };
    const methods = Object.fromEntries(Object.entries(sets).map(([k, s]) => [k, evaluateSet(s, ANISO, OPTS)]));
    writeFileSync(join(dir, 'evaluation.json'), JSON.stringify({ methods }));
    if (withGeometry) writeFileSync(join(dir, 'geometry.json'), JSON.stringify({ version: 1, modelSha256: 'x', sets: Object.fromEntries(Object.entries(sets).map(([k, s]) => [k, setGeometry(s)])) }));
  }
  const rows: StudyRow[] = models.map(([id]) => ({ variant: { id, source: id }, methods: {}, seconds: {} }));

  it('a shared geometry agrees, an independent one does not; Holm within each family; the sensitivity rules read geometry.json', async () => {
    const rsa = await studyRsa(rows, (id) => join(root, id), { permutations: 999, resamples: 200 });
    const primary = rsa.prereg.betweenModels.find((f) => f.primary)!;
    expect(primary.set).toBe('generation.mean');
    expect(primary.comparisons).toHaveLength(6);
    const pair = (a: string, b: string) => primary.comparisons.find((c) => c.a.model === a && c.b.model === b)!;
    const best = rsa.sensitivity[0]!;
    expect(best.block).toEqual({ rule: 'best-accuracy' });
    const bestPair = best.betweenModels[0]!.comparisons.find((c) => c.a.model === 'm1' && c.b.model === 'm2')!;
    expect(bestPair.result.r).toBeGreaterThan(0.5);
    expect(bestPair.result.p).toBeLessThan(0.01);
    expect(bestPair.a.layer).toBeGreaterThanOrEqual(2);
    const other = best.betweenModels[0]!.comparisons.find((c) => c.a.model === 'm1' && c.b.model === 'm3')!;
    expect(other.result.r).toBeLessThan(bestPair.result.r - 0.3);
    for (const c of primary.comparisons) expect(c.pHolm).toBeGreaterThanOrEqual(c.result.p);
    expect(pair('m1', 'm4')).toBeDefined();
    // m4 has no geometry.json: in the pre-registered families, out of the sensitivity ones.
    expect(rsa.missingGeometry).toEqual(['m4']);
    expect(best.betweenModels[0]!.comparisons).toHaveLength(3);
    expect(rsa.sensitivity.map((u) => u.block)).toEqual([{ rule: 'best-accuracy' }, ...RSA_DEPTHS.map((depth) => ({ rule: 'depth', depth }))]);
    const deep = rsa.sensitivity[rsa.sensitivity.length - 1]!;
    expect(deep.betweenModels[0]!.comparisons.every((c) => c.a.layer === 5 && c.b.layer === 5 && Number.isNaN(c.result.ci95[0]))).toBe(true);
    expect(rsa.prereg.betweenMethods).toHaveLength(4);
    // Between methods of one model: both sets come from the same planted geometry.
    const m1 = best.betweenMethods.find((c) => c.a.model === 'm1')!;
    expect(m1.a.set).toBe('comprehension.mean');
    expect(m1.result.r).toBeGreaterThan(0.5);

    // The texts: every planted sample of one index has the same words, so the text geometry carries nothing.
    expect(rsa.text!.block).toEqual({ rule: 'text' });
    expect(best.againstText.length).toBe(6); // 3 models with geometry x 2 sets
    expect(best.againstText.every((c) => c.b.layer === -1 && Number.isNaN(c.b.depth))).toBe(true);
    expect(rsa.prereg.againstText.length).toBe(6);

    const md = resultsBlocks({ rows, claims: [], comparisons: [], quantization: [], rsa } as unknown as StudyResult).rsa!;
    expect(md).toContain('**Pre-registered: pre-registered block');
    expect(md).toContain('**Texts (post hoc)');
    expect(md).toContain('m1 (texts)');
    expect(md).toContain('**Sensitivity (post hoc): each set\'s best-accuracy block.**');
    expect(md).toContain('| m1 / m2 | `generation.mean` |');
    expect(md).toContain('No geometry.json (left out of the sensitivity analyses): m4.');

    // The study report draws r over matched depth, one panel per comparison kind.
    const base = { createdAt: 'now', emosteerVersion: '0', outDir: root, options: {}, rows, claims: [], comparisons: [], quantization: [] } as unknown as StudyResult;
    const html = await renderStudyReport({ ...base, rsa });
    const fig = html.slice(html.indexOf('data-plot="rsa-depth"'), html.indexOf('</figure>', html.indexOf('data-plot="rsa-depth"')));
    expect(fig).toContain('Representational similarity at matched depths');
    for (const kind of ['between models, generation.mean', 'between methods', 'against its texts, comprehension.mean']) expect(fig).toContain(kind);
    expect(await renderStudyReport(base)).not.toContain('data-plot="rsa-depth"');
  });

  it('a study without evaluations has empty families, and the block says so', async () => {
    const rsa = await studyRsa([{ variant: { id: 'none', source: 'none' }, methods: {}, seconds: {} }], (id) => join(root, id));
    expect(rsa.prereg.betweenModels.every((f) => f.comparisons.length === 0)).toBe(true);
    expect(rsa.sensitivity).toEqual([]);
    const md = resultsBlocks({ rows: [], claims: [], comparisons: [], quantization: [], rsa } as unknown as StudyResult).rsa!;
    expect(md).toContain('fewer than two models have this set');
    expect(resultsBlocks({ rows: [], claims: [], comparisons: [], quantization: [] } as unknown as StudyResult).rsa).toMatch(/^Not computed/);
  });
});
