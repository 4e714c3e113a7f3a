/**
 * Plots of an {@link EvaluationResult}: Vega-Lite specs built from the data, rendered to SVG
 * strings in Node (headless Vega view, no canvas, no browser).
 *
 * Every builder returns a plain Vega-Lite spec with its data inlined, so a spec can also be
 * saved as JSON and opened in any Vega-Lite editor.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvaluationResult, MethodEvaluation } from '../evaluate/types.js';
import { depthOf, fmtDepth } from './depth.js';

/** A Vega-Lite spec, as built by the functions of this module. */
export type PlotSpec = TopLevelSpec;

/** One plot of the report: a stable name (used as `data-plot`), a title, a caption and its spec. */
export interface PlotDefinition {
  /** Stable identifier, safe in an HTML attribute: `layer-cosine`, `accuracy`, `heatmap-<method>`, ... */
  name: string;
  /** Short human title. */
  title: string;
  /** One or two sentences on how to read the plot. */
  caption: string;
  /** The Vega-Lite spec. */
  spec: PlotSpec;
}

/** Colours given to methods, in the order they appear in `result.methods`. */
export const METHOD_PALETTE: readonly string[] = ['#d95f02', '#1b9e77', '#7570b3', '#e7298a', '#66a61e', '#a6761d', '#1f78b4', '#666666'];

const ANISOTROPY_LABEL = 'anisotropy baseline';
const FONT = 'Helvetica, Arial, "DejaVu Sans", sans-serif';

/** Shared look of every plot. */
const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, labelLimit: 260 },
  header: { labelFontSize: 13, titleFontSize: 13 },
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#555', offset: 10 },
  concat: { spacing: 40 },
  facet: { spacing: 30 },
};

/** Replaces non-finite numbers by null, so Vega treats them as missing instead of breaking a scale. */
function num(x: number | undefined | null): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

/** A name usable in an HTML attribute and an id: lowercase letters, digits and dashes. */
export function plotSlug(method: string): string {
  const s = method.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return s.length > 0 ? s : 'method';
}

/** Fixed colours of the two built-in methods, so they look the same in every report. */
const KNOWN_METHOD_COLORS: ReadonlyMap<string, string> = new Map([
  ['generation', METHOD_PALETTE[0]!],
  ['comprehension', METHOD_PALETTE[1]!],
]);

/**
 * The methods of a result, in order, with a unique slug and a colour: `generation` and
 * `comprehension` keep fixed colours; other methods take the remaining palette entries in order.
 */
export function methodEntries(result: EvaluationResult): { name: string; slug: string; color: string; evaluation: MethodEvaluation }[] {
  const used = new Set<string>();
  const known = new Set(KNOWN_METHOD_COLORS.values());
  const free = METHOD_PALETTE.filter((c) => !known.has(c));
  let next = 0;
  return Object.entries(result.methods).map(([name, evaluation]) => {
    let slug = plotSlug(name);
    for (let k = 2; used.has(slug); k++) slug = `${plotSlug(name)}-${k}`;
    used.add(slug);
    const color = KNOWN_METHOD_COLORS.get(name) ?? free[next++ % free.length]!;
    return { name, slug, color, evaluation };
  });
}

/** Number of blocks of the evaluated model (from the first method; 0 when there is none). */
function nLayerOf(result: EvaluationResult): number {
  const first = Object.values(result.methods)[0];
  if (first) return first.model.nLayer;
  return result.anisotropy.length;
}

const DEPTH_X = {
  field: 'depth',
  type: 'quantitative' as const,
  title: 'depth (block / (blocks − 1))',
  scale: { domain: [0, 1] },
  axis: { format: '.0%', tickCount: 5 },
};

/**
 * Mean pairwise cosine over depth, one line per method, against the model's anisotropy baseline
 * (dashed); a second panel shows the anisotropy-corrected cosine (solid) and the cosine of
 * centred vectors (dotted) next to the centred-vector expectation −1/(n−1).
 */
export function layerCurveSpec(result: EvaluationResult): PlotSpec {
  const methods = methodEntries(result);
  const nLayer = nLayerOf(result);
  const rows = methods.flatMap((m) =>
    m.evaluation.layers.map((l) => ({
      method: m.name,
      layer: l.layer,
      depth: num(l.depth) ?? depthOf(l.layer, nLayer),
      cosine: num(l.meanPairwiseCosine),
      corrected: num(l.correctedCosine),
      centred: num(l.meanPairwiseCosineCentered),
      best: l.layer === m.evaluation.bestLayer,
    })),
  );
  const aniso = result.anisotropy.map((a) => ({ layer: a.layer, depth: depthOf(a.layer, nLayer), value: num(a.value) }));
  const nEmotions = Math.max(0, ...methods.map((m) => m.evaluation.emotions.length));
  const expectedCentred = nEmotions > 1 ? -1 / (nEmotions - 1) : 0;
  const colorScale = {
    domain: [...methods.map((m) => m.name), ANISOTROPY_LABEL],
    range: [...methods.map((m) => m.color), '#888888'],
  };
  const color = { field: 'method', type: 'nominal' as const, title: 'method', scale: colorScale, legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } };
  const tooltip = [
    { field: 'method', type: 'nominal' as const },
    { field: 'layer', type: 'quantitative' as const, title: 'block' },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: 'Separation over depth', subtitle: 'Read the paper’s cosine against the anisotropy baseline; dots mark each method’s best block.' },
    resolve: { scale: { color: 'shared', strokeDash: 'independent' } },
    hconcat: [
      {
        width: 340,
        height: 230,
        title: { text: 'mean pairwise cosine (paper’s metric, lower = better)', fontSize: 12 },
        layer: [
          {
            data: { values: aniso },
            mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 2 },
            encoding: {
              x: DEPTH_X,
              y: { field: 'value', type: 'quantitative', title: 'cosine', scale: { zero: false } },
              color: { datum: ANISOTROPY_LABEL, type: 'nominal', title: 'method', scale: colorScale, legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } },
            },
          },
          {
            data: { values: rows },
            mark: { type: 'line', strokeWidth: 2, point: { size: 18 } },
            encoding: {
              x: DEPTH_X,
              y: { field: 'cosine', type: 'quantitative', title: 'cosine', scale: { zero: false } },
              color,
              tooltip: [...tooltip, { field: 'cosine', type: 'quantitative', format: '.4f' }],
            },
          },
          {
            data: { values: rows },
            transform: [{ filter: 'datum.best' }],
            mark: { type: 'point', filled: true, size: 110, stroke: 'black', strokeWidth: 1 },
            encoding: { x: DEPTH_X, y: { field: 'cosine', type: 'quantitative' }, color },
          },
        ],
      },
      {
        width: 340,
        height: 230,
        title: { text: 'corrected (a-normalised) and centred cosine', fontSize: 12 },
        layer: [
          {
            data: { values: [{ y: expectedCentred, label: `−1/(n−1) = ${expectedCentred.toFixed(3)}` }] },
            mark: { type: 'rule', color: '#999', strokeDash: [2, 2] },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { values: [{ y: expectedCentred, label: `−1/(n−1) = ${expectedCentred.toFixed(3)}` }] },
            mark: { type: 'text', align: 'right', baseline: 'bottom', dy: -3, x: 'width', dx: -4, color: '#666', fontSize: 10 },
            encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
          },
          {
            data: { values: rows },
            transform: [
              { fold: ['corrected', 'centred'], as: ['metricKey', 'v'] },
              { calculate: "datum.metricKey === 'corrected' ? '(cos − a) / (1 − a)' : 'centred vectors'", as: 'metric' },
            ],
            mark: { type: 'line', strokeWidth: 2 },
            encoding: {
              x: DEPTH_X,
              y: { field: 'v', type: 'quantitative', title: 'cosine', scale: { zero: false } },
              color,
              strokeDash: {
                field: 'metric',
                type: 'nominal',
                title: 'metric',
                scale: { domain: ['(cos − a) / (1 − a)', 'centred vectors'], range: [[1, 0], [2, 3]] },
              },
              detail: { field: 'metric', type: 'nominal' },
              tooltip: [...tooltip, { field: 'metric', type: 'nominal' }, { field: 'v', type: 'quantitative', format: '.4f', title: 'cosine' }],
            },
          },
        ],
      },
    ],
  } as PlotSpec;
}

/**
 * Held-out nearest-centroid accuracy over depth, one panel per method: the 95% CI as a band,
 * the linear-probe accuracy as a dashed line, the shuffled-label null (mean..p95) as a grey
 * band, chance as a rule and the paper's block (lowest mean cosine) as a vertical rule.
 */
export function accuracySpec(result: EvaluationResult): PlotSpec {
  const methods = methodEntries(result);
  const nLayer = nLayerOf(result);
  const S = {
    shuffled: 'shuffled-label null (mean..p95)',
    centroid: 'nearest centroid, held-out (95% CI)',
    probe: 'linear probe, held-out (95% CI)',
    chance: 'chance (1 / classes)',
    paper: 'paper’s block (lowest mean cosine)',
  };
  const colorScale = {
    domain: [S.centroid, S.probe, S.shuffled, S.chance, S.paper],
    range: ['#1f77b4', '#9467bd', '#b5b5b5', '#222222', '#d62728'],
  };
  const rows = methods.flatMap((m) =>
    m.evaluation.layers.map((l) => ({
      method: m.name,
      layer: l.layer,
      depth: num(l.depth) ?? depthOf(l.layer, nLayer),
      acc: num(l.heldOutAccuracy.value),
      accLo: num(l.heldOutAccuracy.ci95[0]),
      accHi: num(l.heldOutAccuracy.ci95[1]),
      probe: num(l.probeAccuracy.value),
      probeLo: num(l.probeAccuracy.ci95[0]),
      probeHi: num(l.probeAccuracy.ci95[1]),
      chance: num(l.chance),
      shufMean: num(l.shuffledAccuracy.mean),
      shufP95: num(l.shuffledAccuracy.p95),
      paperBest: l.layer === m.evaluation.bestLayer,
    })),
  );
  const y = { type: 'quantitative' as const, title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '.0%' } };
  const series = (label: string) => ({ datum: label, type: 'nominal' as const, title: null, scale: colorScale, legend: { orient: 'bottom' as const, columns: 3, symbolOpacity: 0.9 } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: 'Held-out classification accuracy over depth', subtitle: 'Single samples, k-fold; above the grey null band means the emotion is decodable at that block.' },
    data: { values: rows },
    facet: { field: 'method', type: 'nominal', title: null, sort: methods.map((m) => m.name) },
    columns: 2,
    spec: {
      width: 330,
      height: 220,
      layer: [
        { mark: { type: 'area', opacity: 0.45 }, encoding: { x: DEPTH_X, y: { field: 'shufMean', ...y }, y2: { field: 'shufP95' }, color: series(S.shuffled) } },
        { mark: { type: 'area', opacity: 0.18 }, encoding: { x: DEPTH_X, y: { field: 'probeLo', ...y }, y2: { field: 'probeHi' }, color: series(S.probe) } },
        { mark: { type: 'area', opacity: 0.25 }, encoding: { x: DEPTH_X, y: { field: 'accLo', ...y }, y2: { field: 'accHi' }, color: series(S.centroid) } },
        { mark: { type: 'line', strokeWidth: 2, strokeDash: [5, 3] }, encoding: { x: DEPTH_X, y: { field: 'probe', ...y }, color: series(S.probe) } },
        {
          mark: { type: 'line', strokeWidth: 2, point: { size: 16 } },
          encoding: {
            x: DEPTH_X,
            y: { field: 'acc', ...y },
            color: series(S.centroid),
            tooltip: [
              { field: 'layer', type: 'quantitative', title: 'block' },
              { field: 'acc', type: 'quantitative', format: '.3f', title: 'accuracy' },
              { field: 'accLo', type: 'quantitative', format: '.3f', title: 'CI low' },
              { field: 'accHi', type: 'quantitative', format: '.3f', title: 'CI high' },
              { field: 'probe', type: 'quantitative', format: '.3f', title: 'probe' },
            ],
          },
        },
        { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { y: { field: 'chance', aggregate: 'mean', ...y }, color: series(S.chance) } },
        { transform: [{ filter: 'datum.paperBest' }], mark: { type: 'rule', strokeDash: [3, 3], strokeWidth: 1.5 }, encoding: { x: DEPTH_X, color: series(S.paper) } },
      ],
    },
  } as PlotSpec;
}

/** Emotion x emotion cosine of unit vectors at the method's best block, diverging colours on −1..1. */
export function cosineHeatmapSpec(method: string, evaluation: MethodEvaluation): PlotSpec {
  const { emotions, values, layer } = evaluation.cosineMatrix;
  const rows: { a: string; b: string; value: number | null }[] = [];
  for (let i = 0; i < emotions.length; i++) {
    for (let j = 0; j < emotions.length; j++) rows.push({ a: emotions[i]!, b: emotions[j]!, value: num(values[i]?.[j]) });
  }
  const depth = depthOf(layer, evaluation.model.nLayer);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: `${method}: cosine between emotion vectors`, subtitle: `block ${layer} (depth ${fmtDepth(depth)}), unit vectors` },
    data: { values: rows },
    width: { step: 17 },
    height: { step: 17 },
    mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'b', type: 'nominal', sort: emotions, title: null, axis: { labelAngle: -50, labelAlign: 'right', labelFontSize: 11, ticks: false, domain: false } },
      y: { field: 'a', type: 'nominal', sort: emotions, title: null, axis: { labelFontSize: 11, ticks: false, domain: false } },
      color: {
        field: 'value',
        type: 'quantitative',
        title: 'cosine',
        scale: { domain: [-1, 1], scheme: 'redblue', reverse: true },
        legend: { gradientLength: 220, values: [-1, -0.5, 0, 0.5, 1] },
      },
      tooltip: [
        { field: 'a', type: 'nominal', title: 'emotion' },
        { field: 'b', type: 'nominal', title: 'vs' },
        { field: 'value', type: 'quantitative', format: '.3f', title: 'cosine' },
      ],
    },
  } as PlotSpec;
}

/** A placed label: its centre in data units. */
interface PlacedLabel {
  emotion: string;
  x: number;
  y: number;
  lx: number;
  ly: number;
}

/**
 * Greedy label placement for the emotion map: for each point, the candidate position (right,
 * left, above, below, diagonals, then further out) that overlaps the fewest labels and points
 * already placed. Works in pixels with the same linear scales the spec uses.
 */
function placeLabels(
  points: { emotion: string; x: number; y: number }[],
  xDomain: [number, number],
  yDomain: [number, number],
  width: number,
  height: number,
  fontSize: number,
): PlacedLabel[] {
  const px = (x: number) => ((x - xDomain[0]) / (xDomain[1] - xDomain[0] || 1)) * width;
  const py = (y: number) => height - ((y - yDomain[0]) / (yDomain[1] - yDomain[0] || 1)) * height;
  const r = 5;
  type Box = [number, number, number, number];
  const boxes: Box[] = points.map((p) => [px(p.x) - r, py(p.y) - r, px(p.x) + r, py(p.y) + r]);
  const overlap = (a: Box, b: Box) =>
    Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const placed: PlacedLabel[] = [];
  for (const p of points) {
    const w = p.emotion.length * fontSize * 0.58 + 2;
    const h = fontSize + 2;
    const cx = px(p.x);
    const cy = py(p.y);
    const cands: [number, number][] = [];
    for (const k of [1, 1.8, 2.6]) {
      const gx = w / 2 + 6;
      const gy = h / 2 + 5;
      cands.push([cx + gx + (k - 1) * 8, cy], [cx - gx - (k - 1) * 8, cy], [cx, cy - gy * k], [cx, cy + gy * k]);
      cands.push([cx + gx * 0.8, cy - gy * k], [cx - gx * 0.8, cy - gy * k], [cx + gx * 0.8, cy + gy * k], [cx - gx * 0.8, cy + gy * k]);
    }
    let best = cands[0]!;
    let bestScore = Infinity;
    for (const [i, [lx, ly]] of cands.entries()) {
      const box: Box = [lx - w / 2, ly - h / 2, lx + w / 2, ly + h / 2];
      let score = i * 0.5; // prefer earlier (closer, to the right) positions when otherwise equal
      for (const b of boxes) score += overlap(box, b) * 4;
      const outside = Math.max(0, -box[0]) + Math.max(0, box[2] - width) + Math.max(0, -box[1]) + Math.max(0, box[3] - height);
      score += outside * h * 10;
      if (score < bestScore) {
        bestScore = score;
        best = [lx, ly];
      }
    }
    boxes.push([best[0] - w / 2, best[1] - h / 2, best[0] + w / 2, best[1] + h / 2]);
    placed.push({
      emotion: p.emotion,
      x: p.x,
      y: p.y,
      lx: xDomain[0] + (best[0] / width) * (xDomain[1] - xDomain[0]),
      ly: yDomain[0] + ((height - best[1]) / height) * (yDomain[1] - yDomain[0]),
    });
  }
  return placed;
}

/** 2-D PCA map of the emotion vectors at the method's best block: points with non-overlapping labels. */
export function emotionMapSpec(method: string, evaluation: MethodEvaluation, color = METHOD_PALETTE[0]!): PlotSpec {
  const width = 380;
  const height = 300;
  const fontSize = 11;
  const pts = evaluation.map.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const span = (vals: number[]): [number, number] => {
    if (vals.length === 0) return [-1, 1];
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const pad = (hi - lo || 1) * 0.14;
    return [lo - pad, hi + pad];
  };
  const xDomain = span(pts.map((p) => p.x));
  const yDomain = span(pts.map((p) => p.y));
  const labels = placeLabels(pts, xDomain, yDomain, width, height, fontSize);
  const ev = evaluation.map.explained;
  const axisTitle = (i: number) => (typeof ev[i] === 'number' && Number.isFinite(ev[i]) ? `PC${i + 1} (${(ev[i]! * 100).toFixed(1)}% of variance)` : `PC${i + 1}`);
  const depth = depthOf(evaluation.map.layer, evaluation.model.nLayer);
  const xs = { type: 'quantitative' as const, scale: { domain: xDomain, nice: false, zero: false } };
  const ys = { type: 'quantitative' as const, scale: { domain: yDomain, nice: false, zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: `${method}: emotions in the first two principal components`, subtitle: `block ${evaluation.map.layer} (depth ${fmtDepth(depth)})` },
    data: { values: labels },
    width,
    height,
    layer: [
      {
        mark: { type: 'rule', color: '#ccc', strokeWidth: 0.8 },
        encoding: { x: { field: 'x', ...xs, title: axisTitle(0) }, y: { field: 'y', ...ys, title: axisTitle(1) }, x2: { field: 'lx' }, y2: { field: 'ly' } },
      },
      {
        mark: { type: 'point', filled: true, size: 55, color, opacity: 0.9 },
        encoding: {
          x: { field: 'x', ...xs, title: axisTitle(0) },
          y: { field: 'y', ...ys, title: axisTitle(1) },
          tooltip: [{ field: 'emotion', type: 'nominal' }],
        },
      },
      {
        mark: { type: 'text', fontSize, align: 'center', baseline: 'middle', color: '#222' },
        encoding: { x: { field: 'lx', ...xs }, y: { field: 'ly', ...ys }, text: { field: 'emotion', type: 'nominal' } },
      },
    ],
  } as PlotSpec;
}

/** Silhouette (cosine) and Fisher ratio of single samples over depth, with 95% CI bands, per method. */
export function separationSpec(result: EvaluationResult): PlotSpec {
  const methods = methodEntries(result);
  const nLayer = nLayerOf(result);
  const rows = methods.flatMap((m) =>
    m.evaluation.layers.map((l) => ({
      method: m.name,
      layer: l.layer,
      depth: num(l.depth) ?? depthOf(l.layer, nLayer),
      sil: num(l.silhouette.value),
      silLo: num(l.silhouette.ci95[0]),
      silHi: num(l.silhouette.ci95[1]),
      fisher: num(l.fisherRatio.value),
      fisherLo: num(l.fisherRatio.ci95[0]),
      fisherHi: num(l.fisherRatio.ci95[1]),
    })),
  );
  const color = {
    field: 'method',
    type: 'nominal' as const,
    title: 'method',
    scale: { domain: methods.map((m) => m.name), range: methods.map((m) => m.color) },
    legend: { symbolOpacity: 1, symbolType: 'stroke', symbolStrokeWidth: 3 },
  };
  const panel = (field: string, title: string, yTitle: string) => ({
    width: 300,
    height: 180,
    title: { text: title, fontSize: 12 },
    data: { values: rows },
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { x: DEPTH_X, y: { field: `${field}Lo`, type: 'quantitative', title: yTitle, scale: { zero: false } }, y2: { field: `${field}Hi` }, color } },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { x: DEPTH_X, y: { field, type: 'quantitative', title: yTitle }, color } },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: 'Cluster quality of single samples over depth', subtitle: 'Higher is better for both; bands are 95% bootstrap CIs.' },
    hconcat: [panel('sil', 'silhouette (cosine distance)', 'silhouette'), panel('fisher', 'Fisher ratio (between / within scatter)', 'Fisher ratio')],
  } as PlotSpec;
}

/** Generation vs comprehension: RSA Spearman per block and the cross-method cosine per emotion. */
export function comparisonSpec(result: EvaluationResult): PlotSpec | undefined {
  const c = result.comparison;
  if (!c) return undefined;
  const nLayer = nLayerOf(result);
  const rsa = c.rsa.map((r) => ({ layer: r.layer, depth: depthOf(r.layer, nLayer), spearman: num(r.spearman) }));
  const per = c.perEmotionCosine.map((p) => ({ emotion: p.emotion, cosine: num(p.cosine) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: 'Do the two methods find the same geometry?', subtitle: 'RSA: Spearman correlation of the two methods’ emotion dissimilarity matrices; bars: cosine of the two vectors of each emotion.' },
    hconcat: [
      {
        width: 300,
        height: 200,
        title: { text: 'RSA per block', fontSize: 12 },
        data: { values: rsa },
        layer: [
          { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#999' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
          {
            mark: { type: 'line', strokeWidth: 2, color: '#444', point: { size: 18, color: '#444' } },
            encoding: { x: DEPTH_X, y: { field: 'spearman', type: 'quantitative', title: 'Spearman ρ', scale: { domain: [-1, 1] } } },
          },
        ],
      },
      {
        width: 260,
        height: { step: 13 },
        title: { text: 'cross-method cosine per emotion', fontSize: 12 },
        data: { values: per },
        mark: { type: 'bar' },
        encoding: {
          color: { condition: { test: 'datum.cosine < 0', value: '#c0504d' }, value: '#7570b3' },
          y: { field: 'emotion', type: 'nominal', sort: '-x', title: null, axis: { labelFontSize: 10 } },
          x: { field: 'cosine', type: 'quantitative', title: 'cosine', scale: { domain: [-1, 1] }, axis: { values: [-1, -0.5, 0, 0.5, 1] } },
        },
      },
    ],
  } as PlotSpec;
}

/** Every plot of the report, in reading order (the comparison plot only when the result has one). */
export function buildPlotDefinitions(result: EvaluationResult): PlotDefinition[] {
  const methods = methodEntries(result);
  const defs: PlotDefinition[] = [];
  if (methods.length === 0) return defs;
  defs.push({
    name: 'layer-cosine',
    title: 'Mean pairwise cosine over depth',
    caption:
      'Left: the paper’s separation metric per method, with the anisotropy baseline (dashed grey). Right: the same after anisotropy correction, and for centred vectors, whose mean cosine sits near −1/(n−1) whatever the model does.',
    spec: layerCurveSpec(result),
  });
  defs.push({
    name: 'accuracy',
    title: 'Held-out accuracy over depth',
    caption: 'Nearest-centroid accuracy on held-out samples with its 95% CI, the linear probe, the shuffled-label null band and chance.',
    spec: accuracySpec(result),
  });
  defs.push({ name: 'separation', title: 'Silhouette and Fisher ratio', caption: 'Cluster quality of single samples per block.', spec: separationSpec(result) });
  for (const m of methods) {
    defs.push({
      name: `heatmap-${m.slug}`,
      title: `${m.name}: emotion × emotion cosine`,
      caption: `Cosine between the unit emotion vectors of method “${m.name}” at block ${m.evaluation.cosineMatrix.layer}; red = similar, blue = opposite.`,
      spec: cosineHeatmapSpec(m.name, m.evaluation),
    });
    defs.push({
      name: `map-${m.slug}`,
      title: `${m.name}: PCA map of the emotions`,
      caption: `The emotion vectors of method “${m.name}” at block ${m.evaluation.map.layer}, projected on their first two principal components.`,
      spec: emotionMapSpec(m.name, m.evaluation, m.color),
    });
  }
  const cmp = comparisonSpec(result);
  if (cmp) {
    defs.push({ name: 'comparison', title: 'Method comparison', caption: 'Representational similarity of the two methods per block, and per-emotion agreement.', spec: cmp });
  }
  return defs;
}

/**
 * Gives every `id` of an SVG a prefix (and rewrites its `url(#...)` and `href="#..."`
 * references), so several SVGs inlined in one HTML page never share an id.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]!);
  if (ids.size === 0) return svg;
  const p = (id: string) => (ids.has(id) ? `${prefix}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}${p(id)}${b}`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${p(id)})`)
    .replace(/(href=")#([^"]+)(")/g, (_, a: string, id: string, b: string) => `${a}#${p(id)}${b}`);
}

/** Options of {@link renderSpecToSvg} and {@link renderPlots}. */
export interface RenderOptions {
  /** Receives Vega-Lite and Vega warnings instead of the console (tests use it to require none). */
  onWarning?: (message: string) => void;
}

/** A Vega logger that forwards warnings and errors to a callback. */
function callbackLogger(onWarning: (message: string) => void): vega.LoggerInterface {
  let level = vega.Warn;
  const text = (args: readonly unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ');
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      onWarning(`error: ${text(args)}`);
      return logger;
    },
    warn(...args: readonly unknown[]) {
      if (level >= vega.Warn) onWarning(text(args));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as vega.LoggerInterface;
}

/** Approximate advance widths of Helvetica / Arial glyphs, in em, by character class. */
function glyphWidth(ch: string): number {
  if ("il.,:;|!'`".includes(ch) || ch === 'j' || ch === 'I') return 0.25;
  if (ch === ' ') return 0.28;
  if ('ftr()[]{}/\\-'.includes(ch)) return 0.34;
  if (ch === 'm') return 0.83;
  if (ch === 'w') return 0.72;
  if (ch === 'M' || ch === 'W') return 0.86;
  if (ch === '%') return 0.89;
  if (ch >= 'A' && ch <= 'Z') return 0.67;
  if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) return 0.54;
  return 0.6;
}

/**
 * Text width estimate for headless rendering. Vega's own fallback (no canvas in Node) takes
 * 0.8 em per character, which wastes space and makes it truncate labels that would fit;
 * this one sums per-glyph widths of the sans-serif fonts the SVG asks for, with a small margin.
 */
function estimateTextWidth(item: { text?: unknown; fontSize?: number; fontWeight?: unknown }, text?: unknown): number {
  const value = text ?? item.text;
  const lines = Array.isArray(value) ? value.map(String) : [String(value ?? '')];
  const size = typeof item.fontSize === 'number' ? item.fontSize : 11;
  const bold = item.fontWeight === 'bold' || (typeof item.fontWeight === 'number' && item.fontWeight >= 600);
  let widest = 0;
  for (const line of lines) {
    let w = 0;
    for (const ch of line) w += glyphWidth(ch);
    widest = Math.max(widest, w);
  }
  return Math.ceil(widest * size * (bold ? 1.1 : 1.04));
}

/** Vega's text-metrics hook (public, though untyped: `textMetrics.width` may be replaced). */
const textMetrics = (vega as unknown as { textMetrics: { width: (item: object, text?: unknown) => number } }).textMetrics;

/** Compiles a Vega-Lite spec and renders it to an SVG string with a headless Vega view. */
export async function renderSpecToSvg(spec: PlotSpec, options: RenderOptions = {}): Promise<string> {
  const logger = options.onWarning ? callbackLogger(options.onWarning) : undefined;
  const vgSpec = compile(spec, logger ? { logger } : {}).spec;
  const previousWidth = textMetrics.width;
  textMetrics.width = estimateTextWidth;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', ...(logger ? { logger } : {}) });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    textMetrics.width = previousWidth;
  }
}

/** Renders every plot of {@link buildPlotDefinitions} to SVG: plot name -> SVG markup (ids prefixed by the name). */
export async function renderPlots(result: EvaluationResult, options: RenderOptions = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const def of buildPlotDefinitions(result)) {
    out[def.name] = prefixSvgIds(await renderSpecToSvg(def.spec, options), `plot-${def.name}`);
  }
  return out;
}
