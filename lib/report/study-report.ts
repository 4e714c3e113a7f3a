/**
 * The cross-model report of a study: one self-contained HTML file with the claims table, one
 * row per model, the layer curves of every model on relative depth (one plot per method), the
 * method comparison with models as the unit, and the quantizations: vector cosines to the
 * shipped precision per block, and each variant's quality against its parent file (KL
 * divergence, same top-1, perplexity ratio) in a table and against bits per weight; and the
 * representational similarity between models, methods and texts at matched depths (`rsa`).
 *
 * @module
 */
import { kldDigits } from '../quality/format.js';
import type { QuantizationCurve, StudyResult, StudyRow } from '../study/types.js';
import { escapeHtml, htmlPage } from './html-report.js';
import { METHOD_PALETTE, prefixSvgIds, renderSpecToSvg, type PlotSpec } from './plots.js';
import { qualityPlotSpec } from './quality-section.js';

const f = (x: number | undefined, d = 3) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–');
const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '–');

function curveSpec(rows: readonly StudyRow[], method: string, field: 'cosine' | 'accuracy'): PlotSpec | undefined {
  const values = rows.filter((r) => r.methods[method]).flatMap((r) => r.methods[method]!.curve.map((p) => ({ model: r.variant.id, depth: p.depth, value: p[field] })));
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${method}: ${field === 'cosine' ? "mean pairwise cosine (the paper's metric, lower = better separated)" : 'held-out accuracy (nearest centroid)'}`, subtitle: 'every model on relative depth = block / (blocks - 1)' },
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'depth', type: 'quantitative', title: 'relative depth', scale: { domain: [0, 1] } },
      y: { field: 'value', type: 'quantitative', title: field === 'cosine' ? 'mean pairwise cosine' : 'held-out accuracy', scale: { zero: false } },
      color: { field: 'model', type: 'nominal', scale: { range: [...METHOD_PALETTE] }, title: null },
    },
    width: 420,
    height: 220,
  } as PlotSpec;
}

function comparisonSpec(result: StudyResult): PlotSpec | undefined {
  const c = result.comparisons.find((x) => x.metric === 'bestCosine');
  if (!c) return undefined;
  const values = c.models.flatMap((m, i) => [{ model: m, method: 'generation', value: c.generation[i] }, { model: m, method: 'comprehension', value: c.comprehension[i] }]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Best-block separation per model and method', subtitle: "the paper's metric at each method's best block (lower = better separated); models are the unit of the test" },
    data: { values },
    layer: [
      { mark: { type: 'line', color: '#999' }, encoding: { detail: { field: 'model' } } },
      { mark: { type: 'point', filled: true, size: 80 }, encoding: { color: { field: 'method', type: 'nominal', scale: { range: [...METHOD_PALETTE] }, title: null } } },
    ],
    encoding: {
      x: { field: 'model', type: 'nominal', title: null, axis: { labelAngle: -20 } },
      y: { field: 'value', type: 'quantitative', title: 'mean pairwise cosine', scale: { zero: false } },
    },
    width: 360,
    height: 220,
  } as PlotSpec;
}

/** The RSA at matched depths (study.json `rsa`, post hoc): r per model pair, method pair and set-against-its-texts, on relative depth. */
function rsaDepthSpec(result: StudyResult): PlotSpec | undefined {
  const depths = (result.rsa?.sensitivity ?? []).filter((u) => u.block.rule === 'depth');
  const values = depths.flatMap((u) => [
    ...u.betweenModels.flatMap((fam) => fam.comparisons.map((c) => ({ series: `${c.a.model} / ${c.b.model}`, kind: `between models, ${fam.set}`, depth: u.block.depth, r: c.result.r }))),
    ...u.betweenMethods.map((c) => ({ series: c.a.model, kind: 'between methods', depth: u.block.depth, r: c.result.r })),
    ...u.againstText.map((c) => ({ series: c.a.model, kind: `against its texts, ${c.a.set}`, depth: u.block.depth, r: c.result.r })),
  ]).filter((v) => Number.isFinite(v.r));
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Representational similarity at matched depths (exploratory, post hoc)', subtitle: "Spearman's r between 20 x 20 emotion dissimilarity matrices; one panel per comparison kind" },
    data: { values },
    facet: { field: 'kind', type: 'nominal', title: null, columns: 2 },
    spec: {
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'depth', type: 'quantitative', title: 'relative depth', scale: { domain: [0, 1] } },
        y: { field: 'r', type: 'quantitative', title: "Spearman's r", scale: { domain: [-0.2, 1] } },
        color: { field: 'series', type: 'nominal', scale: { range: [...METHOD_PALETTE] }, title: null },
      },
      width: 260,
      height: 160,
    },
  } as PlotSpec;
}

function quantizationSpec(result: StudyResult): PlotSpec | undefined {
  if (result.quantization.length === 0) return undefined;
  const values = result.quantization.flatMap((q) => q.cosine.map((p) => ({ variant: `${q.variant} (${q.method})`, depth: p.depth, value: p.value })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Quantization: emotion vectors against the shipped precision', subtitle: 'mean over emotions of the cosine between unit vectors, per block' },
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'depth', type: 'quantitative', title: 'relative depth', scale: { domain: [0, 1] } },
      y: { field: 'value', type: 'quantitative', title: 'cosine to shipped precision', scale: { zero: false } },
      color: { field: 'variant', type: 'nominal', scale: { range: [...METHOD_PALETTE] }, title: null },
    },
    width: 420,
    height: 220,
  } as PlotSpec;
}

/** The quantization curves grouped by variant (one entry per variant, its methods in order). */
function byVariant(curves: readonly QuantizationCurve[]): QuantizationCurve[][] {
  const groups = new Map<string, QuantizationCurve[]>();
  for (const q of curves) groups.set(q.variant, [...(groups.get(q.variant) ?? []), q]);
  return [...groups.values()];
}

/** Mean KL divergence to the parent file against bits per weight, one point per variant. */
function quantizationQualitySpec(result: StudyResult): PlotSpec | undefined {
  const measured = byVariant(result.quantization).flatMap((g) => (g[0]!.quality ? [{ variant: g[0]!.variant, quality: g[0]!.quality }] : []));
  const first = measured[0]?.quality;
  if (!first) return undefined;
  const points = measured.map((m) => ({ label: m.variant, bitsPerWeight: m.quality.bitsPerWeight, kld: m.quality.kldMean }));
  return qualityPlotSpec(points, 'Quantization: mean KL divergence to the parent file against bits per weight', `${first.chunks} chunks of ${first.contextSize} tokens of ${first.text} (${first.scoredTokens} scored); bars: 95% bootstrap intervals over chunks`);
}

const ci = (e: { value: number; ci95: [number, number] }, d: number) => `${f(e.value, d)} <small>[${f(e.ci95[0], d)}, ${f(e.ci95[1], d)}]</small>`;

/** One row per requantized variant: what its file holds, its vectors' cosine to the parent, its quality against the parent. */
function quantizationTable(result: StudyResult): string {
  if (result.quantization.length === 0) return '';
  const rows = byVariant(result.quantization).map((g) => {
    const q = g[0]!;
    const cos = g.map((x) => `${escapeHtml(x.method)} ${f(x.cosine.reduce((a, p) => a + p.value, 0) / Math.max(1, x.cosine.length))}`).join('<br>');
    const acc = g.map((x) => `${escapeHtml(x.method)} ${pct(x.heldOutAccuracy)}`).join('<br>');
    const h = q.quality;
    const quality = h ? `<td>${ci(h.kldMean, kldDigits(h.kldMean.value))}</td><td>${ci(h.sameTopPercent, 2)}</td><td>${ci(h.perplexityRatio, 4)}</td>` : '<td colspan="3" class="muted">not measured</td>';
    return `<tr data-variant="${escapeHtml(q.variant)}"><td>${escapeHtml(q.variant)}</td><td>${escapeHtml(q.parent)}</td><td>${f(h?.bitsPerWeight ?? q.bitsPerWeight, 2)}${q.fallbackTensors !== undefined ? ` <small>(${q.fallbackTensors} fallback)</small>` : ''}</td><td>${cos}</td><td>${acc}</td>${quality}</tr>`;
  });
  const h = result.quantization.find((q) => q.quality)?.quality;
  const how = h ? ` Quality against the parent file: ${h.chunks} chunks of ${h.contextSize} tokens of ${escapeHtml(h.text)} (${h.scoredTokens} scored tokens, the second half of each chunk, as llama-perplexity), 95% bootstrap intervals over chunks; KL(parent ‖ variant) in nats per token over the full vocabulary.` : '';
  return `<section id="quantization"><h2>Quantization ladder</h2><p>Each requantized variant against its parent file (the model as given to the study; for a registry model its shipped file). Bits per weight are what the file holds (k-quants fall back to other types on widths that are not multiples of 256); the cosine is the mean over blocks of the mean over emotions of the cosine between the variant's unit vectors and the parent's.${how}</p>
<table data-table="quantization"><thead><tr><th>variant</th><th>parent</th><th>bits/weight</th><th>cosine to parent</th><th>held-out accuracy</th><th>mean KL divergence</th><th>same top-1 %</th><th>PPL ratio</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function rowHtml(r: StudyRow): string {
  if (!r.model) return `<tr><td>${escapeHtml(r.variant.id)}</td><td colspan="11" class="error">${r.error ? `failed at ${escapeHtml(r.error.step)}: ${escapeHtml(r.error.message)}` : 'not run yet'}</td></tr>`;
  const m = r.model;
  const method = (name: string) => {
    const x = r.methods[name];
    if (!x) return '<td>–</td><td>–</td>';
    return `<td>${x.bestLayer} (${f(x.bestDepth, 2)})${x.uShaped ? ' U' : ''} / ${x.bestLayerByAccuracy} (${f(x.bestDepthByAccuracy, 2)})</td><td>${pct(x.heldOutAccuracy.value)} <small>[${pct(x.heldOutAccuracy.ci95[0])}, ${pct(x.heldOutAccuracy.ci95[1])}], chance ${pct(x.chance)}</small></td>`;
  };
  const s = r.steering;
  const judges = s ? Object.entries(s.judges).map(([k, j]) => `${escapeHtml(k)} ${j.successes}/${j.trials}`).join('<br>') : '–';
  const ctl = s ? s.contrasts.filter((x) => x.control === 'random' && x.strength === 'any').map((x) => `${escapeHtml(x.judge)} ${(100 * x.difference).toFixed(0)} <small>[${(100 * x.ci95[0]).toFixed(0)}, ${(100 * x.ci95[1]).toFixed(0)}]</small>`).join('<br>') : '–';
  const err = r.error ? `<br><span class="error">${escapeHtml(r.error.step)} failed: ${escapeHtml(r.error.message)}</span>` : '';
  return `<tr><td>${escapeHtml(r.variant.id)}${err}</td><td>${escapeHtml(m.family)}, ${escapeHtml(m.kind)}, ${m.params ? `${(m.params / 1e6).toFixed(0)}M` : '?'}, ${escapeHtml(m.quantization)}, ${m.blocks} blocks</td>${method('generation')}${method('comprehension')}<td>${f(r.anisotropyMean)}</td><td>${judges}</td><td>${ctl}</td><td>${s ? `${s.regimes.surgical}/${s.regimes.repetitive}/${s.regimes.explosive}` : '–'}</td><td>${s ? pct(s.crossLingualRate) : '–'}</td></tr>`;
}

/** Renders study.json as one HTML document (inline SVG, no scripts, opens offline). */
export async function renderStudyReport(result: StudyResult): Promise<string> {
  const figures: string[] = [];
  const methods = [...new Set(result.rows.flatMap((r) => Object.keys(r.methods)))];
  const add = async (name: string, spec: PlotSpec | undefined) => {
    if (spec) figures.push(`<figure data-plot="${escapeHtml(name)}">${prefixSvgIds(await renderSpecToSvg(spec), `plot-${name}`)}</figure>`);
  };
  for (const m of methods) {
    await add(`curve-${m}`, curveSpec(result.rows, m, 'cosine'));
    await add(`accuracy-${m}`, curveSpec(result.rows, m, 'accuracy'));
  }
  await add('method-comparison', comparisonSpec(result));
  await add('rsa-depth', rsaDepthSpec(result));
  await add('quantization', quantizationSpec(result));
  await add('quantization-kld', quantizationQualitySpec(result));
  const claims = result.claims.map((c) => `<tr><td>${escapeHtml(c.claim)}</td><td>${escapeHtml(c.paper)}</td><td><b>${escapeHtml(c.verdict)}</b></td><td>${escapeHtml(c.why)}<details><summary>per model</summary><ul>${Object.entries(c.ours).map(([k, v]) => `<li><b>${escapeHtml(k)}</b>: ${escapeHtml(v)}</li>`).join('')}</ul></details></td></tr>`).join('');
  const comparisons = result.comparisons.map((c) => `<li>${escapeHtml(c.metric)} over ${c.models.length} models: Mann-Whitney U = ${f(c.mannWhitneyU, 1)}, p = ${f(c.mannWhitneyP)}; Cohen's d = ${f(c.cohensD, 2)}; paired difference generation − comprehension ${f(c.pairedDifference.value)} [${f(c.pairedDifference.ci95[0])}, ${f(c.pairedDifference.ci95[1])}] (bootstrap over models)</li>`).join('');
  return htmlPage({
    title: `emosteer study: ${result.rows.length} models`,
    subtitle: `${result.createdAt} · ${JSON.stringify(result.options)}`,
    version: result.emosteerVersion,
    css: ' .error{color:#b00} td small{color:#666}',
    body: `<section id="claims"><h2>The paper's claims</h2><table data-table="claims"><thead><tr><th>claim</th><th>paper</th><th>verdict</th><th>why</th></tr></thead><tbody>${claims}</tbody></table></section>
<section id="models"><h2>Models</h2><p>Best block (depth; U = U-shaped curve) by the paper's metric / by held-out accuracy; held-out accuracy at the latter with its 95% bootstrap interval; steering: scenarios succeeded at any strength (greedy) per judge; steered − random direction of the same norm in points with its 95% scenario-bootstrap interval; regimes surgical/repetitive/explosive; share of steered runs flagged cross-lingual.</p>
<table data-table="models"><thead><tr><th>model</th><th>what</th><th>generation best</th><th>generation accuracy</th><th>comprehension best</th><th>comprehension accuracy</th><th>anisotropy</th><th>steering</th><th>steered − random</th><th>regimes</th><th>cross-lingual</th></tr></thead><tbody>${result.rows.map(rowHtml).join('')}</tbody></table></section>
<section id="comparison"><h2>Generation vs comprehension, models as the unit</h2>${comparisons ? `<ul>${comparisons}</ul>` : '<p>Needs at least two models with both methods.</p>'}</section>
${quantizationTable(result)}
<section id="plots"><h2>Figures</h2>${figures.join('\n')}</section>`,
    footer: `Generated by emosteer ${escapeHtml(result.emosteerVersion)} from <code>${escapeHtml(result.outDir)}</code>; each model's own report is in its folder. Self-contained: no scripts, no network.`,
  });
}
