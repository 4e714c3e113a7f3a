/**
 * A single self-contained HTML report of an {@link EvaluationResult}: inline CSS, inline SVG
 * plots, no scripts and no network (a Content-Security-Policy forbids both), so the file opens
 * offline anywhere and can be attached or archived as is.
 */
import type { EvaluationResult, LayerMetrics, MethodComparison, MethodEvaluation } from '../evaluate/types.js';
import { depthOf, fmtDepth } from './depth.js';
import { buildPlotDefinitions, methodEntries, prefixSvgIds, renderSpecToSvg, type RenderOptions } from './plots.js';

/** A section of a report: a heading and its HTML body (e.g. what renderSteeringSection returns). */
export interface ReportSection {
  /** Heading of the section (escaped). */
  title: string;
  /** Body of the section, inserted as is. */
  html: string;
}

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Page title; defaults to "emosteer evaluation: <model description>". */
  title?: string;
  /**
   * Sections appended after the built-in ones (e.g. steering results). `title` is escaped;
   * `html` is inserted as is and must be trusted, self-contained markup (no scripts: the page's
   * Content-Security-Policy blocks them).
   */
  extraSections?: ReportSection[];
  /** Receives plot-rendering warnings (Vega / Vega-Lite) instead of the console. */
  onWarning?: RenderOptions['onWarning'];
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const DASH = '–';

/** A number with `digits` decimals, or a dash when it is missing or not finite. */
function fmt(x: number | null | undefined, digits = 3): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

/** A p-value: fixed for ordinary values, exponent notation below 0.001. */
function fmtP(p: number): string {
  if (!Number.isFinite(p)) return DASH;
  if (p === 0) return '0';
  return p < 0.001 ? p.toExponential(2) : p.toFixed(4);
}

function fmtPct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : DASH;
}

/** A compact, escaped rendering of a parameter value (long values are cut, the full one is in a tooltip). */
function paramCell(value: unknown): string {
  if (value === undefined) return `<td class="muted">${DASH}</td>`;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || value === null) text = String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  const max = 90;
  if (text.length <= max) return `<td><code>${escapeHtml(text)}</code></td>`;
  return `<td title="${escapeHtml(text)}"><code>${escapeHtml(text.slice(0, max - 1))}…</code></td>`;
}

function layerAt(m: MethodEvaluation, layer: number): LayerMetrics | undefined {
  return m.layers.find((l) => l.layer === layer);
}

/** The depth the evaluation recorded for a block, else computed from the model's block count. */
function methodDepth(m: MethodEvaluation, layer: number): number {
  return layerAt(m, layer)?.depth ?? depthOf(layer, m.model.nLayer);
}

/** The stylesheet of every emosteer report (run and study). */
const REPORT_CSS = `
:root { --fg:#1d1d1f; --muted:#666; --line:#ddd; --soft:#f6f7f9; --accent:#2b5fab; --good:#1b7f3b; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
header.report { border-bottom: 2px solid var(--fg); margin-bottom: 20px; padding-bottom: 12px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 8px; }
p { margin: 6px 0 10px; max-width: 80ch; }
.sub { color: var(--muted); margin: 0; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td code, p code { font: 12px/1.3 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; background: transparent; word-break: break-all; }
.muted { color: var(--muted); }
.meta-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 4px 28px; }
.meta-grid table { width: 100%; }
.meta-grid th { width: 38%; }
.good { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.note { background: #fff8e6; border: 1px solid #f0d98c; border-radius: 6px; padding: 10px 16px; margin: 14px 0; }
.note p { margin: 6px 0; }
figure { margin: 14px 0 22px; padding: 0; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; max-width: 95ch; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(470px, 1fr)); gap: 8px 28px; align-items: start; }
.bar { display: inline-block; height: 9px; background: #7570b3; vertical-align: middle; }
.bar.neg { background: #c0504d; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 0 24px; align-items: start; }
.cols table { width: 100%; margin-top: 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
`;

function metadataSection(result: EvaluationResult, methods: ReturnType<typeof methodEntries>): string {
  const run: [string, string][] = [
    ['run folder', `<code>${escapeHtml(result.runDir)}</code>`],
    ['date', escapeHtml(result.createdAt)],
    ['emosteer version', escapeHtml(result.emosteerVersion)],
    ['methods', escapeHtml(methods.map((m) => m.name).join(', ') || DASH)],
  ];
  const first = methods[0]?.evaluation;
  if (first) {
    run.push(['emotions', `${first.emotions.length}: <span class="muted">${escapeHtml(first.emotions.join(', '))}</span>`]);
    run.push(['samples / folds', escapeHtml(methods.map((m) => `${m.name}: ${m.evaluation.nSamples} / ${m.evaluation.folds}`).join('; '))]);
  }
  const models = new Map<string, { model: MethodEvaluation['model']; methods: string[] }>();
  for (const m of methods) {
    const key = `${m.evaluation.model.sha256}\u0000${m.evaluation.model.description}`;
    const entry = models.get(key);
    if (entry) entry.methods.push(m.name);
    else models.set(key, { model: m.evaluation.model, methods: [m.name] });
  }
  const modelTables = [...models.values()].map(({ model, methods: used }) => {
    const rows: [string, string][] = [
      ['model', escapeHtml(model.description)],
      ['architecture', `<code>${escapeHtml(model.arch)}</code>`],
      ['blocks', escapeHtml(model.nLayer)],
      ['width (n_embd)', escapeHtml(model.nEmbd)],
      ['quantization', escapeHtml(model.quantization)],
      ['sha256', `<code title="${escapeHtml(model.sha256)}">${escapeHtml(model.sha256.slice(0, 12))}…</code>`],
    ];
    if (models.size > 1) rows.push(['used by', escapeHtml(used.join(', '))]);
    return kvTable(rows);
  });
  const paramKeys = [...new Set(methods.flatMap((m) => Object.keys(m.evaluation.params)))].sort();
  const params =
    paramKeys.length === 0
      ? '<p class="muted">No method parameters recorded.</p>'
      : `<table class="params"><thead><tr><th>parameter</th>${methods.map((m) => `<th>${escapeHtml(m.name)}</th>`).join('')}</tr></thead><tbody>${paramKeys
          .map((k) => `<tr><th><code>${escapeHtml(k)}</code></th>${methods.map((m) => paramCell(m.evaluation.params[k])).join('')}</tr>`)
          .join('')}</tbody></table>`;
  return `<section id="metadata"><h2>Run and model</h2><div class="meta-grid">${kvTable(run)}${modelTables.join('')}</div>
<h3>Method parameters</h3>${params}</section>`;
}

/** A two-column table; the values are already-escaped HTML. */
function kvTable(rows: [string, string][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

/** "0.624 [0.551, 0.690]" with a verdict against the shuffled-label null. */
function accuracyCell(l: LayerMetrics | undefined): string {
  if (!l) return DASH;
  const a = l.heldOutAccuracy;
  const above = a.ci95[0] > l.shuffledAccuracy.p95;
  const verdict = above
    ? '<span class="good">above null</span>'
    : '<span class="bad">not above null</span>';
  return `${fmt(a.value)} <span class="muted">[${fmt(a.ci95[0])}, ${fmt(a.ci95[1])}]</span><br><span class="muted">chance ${fmt(l.chance)}, null p95 ${fmt(l.shuffledAccuracy.p95)}</span> · ${verdict}`;
}

function summarySection(methods: ReturnType<typeof methodEntries>): string {
  if (methods.length === 0) return '<section id="summary"><h2>Summary</h2><p class="muted">The result holds no method.</p></section>';
  const rows: { label: string; hint?: string; cell: (m: MethodEvaluation) => string }[] = [
    {
      label: 'best block by mean cosine',
      hint: 'the paper’s choice',
      cell: (m) => `block ${escapeHtml(m.bestLayer)} <span class="muted">(depth ${fmtDepth(m.bestDepth)})</span>`,
    },
    { label: 'mean pairwise cosine there', cell: (m) => fmt(layerAt(m, m.bestLayer)?.meanPairwiseCosine) },
    { label: 'anisotropy baseline there', cell: (m) => fmt(layerAt(m, m.bestLayer)?.anisotropy) },
    { label: 'corrected cosine there', hint: '(cos − a) / (1 − a)', cell: (m) => fmt(layerAt(m, m.bestLayer)?.correctedCosine) },
    { label: 'centred cosine there', cell: (m) => fmt(layerAt(m, m.bestLayer)?.meanPairwiseCosineCentered) },
    { label: 'held-out accuracy there', cell: (m) => accuracyCell(layerAt(m, m.bestLayer)) },
    {
      label: 'best block by held-out accuracy',
      hint: 'the better-founded choice',
      cell: (m) => `block ${escapeHtml(m.bestLayerByAccuracy)} <span class="muted">(depth ${fmtDepth(methodDepth(m, m.bestLayerByAccuracy))})</span>`,
    },
    { label: 'held-out accuracy (95% CI) there', cell: (m) => accuracyCell(layerAt(m, m.bestLayerByAccuracy)) },
    {
      label: 'linear probe accuracy there',
      cell: (m) => {
        const l = layerAt(m, m.bestLayerByAccuracy);
        return l ? `${fmt(l.probeAccuracy.value)} <span class="muted">[${fmt(l.probeAccuracy.ci95[0])}, ${fmt(l.probeAccuracy.ci95[1])}]</span>` : DASH;
      },
    },
    {
      label: 'silhouette / Fisher ratio there',
      cell: (m) => {
        const l = layerAt(m, m.bestLayerByAccuracy);
        return l ? `${fmt(l.silhouette.value)} / ${fmt(l.fisherRatio.value, 2)}` : DASH;
      },
    },
    {
      label: 'U-shaped layer curve?',
      cell: (m) => {
        const s = m.shape;
        const rise = `ends rise by ${fmt(s.rise[0])} / ${fmt(s.rise[1])}`;
        return s.uShaped
          ? `<span class="good">yes</span> <span class="muted">— minimum at block ${escapeHtml(s.minLayer)} (depth ${fmtDepth(s.minDepth)}), ${rise}</span>`
          : `<span class="bad">no</span> <span class="muted">— minimum at block ${escapeHtml(s.minLayer)} (depth ${fmtDepth(s.minDepth)}), ${rise}</span>`;
      },
    },
  ];
  const head = `<tr><th>metric</th>${methods.map((m) => `<th>${escapeHtml(m.name)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr><th>${escapeHtml(r.label)}${r.hint ? `<br><span class="muted">${escapeHtml(r.hint)}</span>` : ''}</th>${methods
          .map((m) => `<td>${r.cell(m.evaluation)}</td>`)
          .join('')}</tr>`,
    )
    .join('');
  return `<section id="summary"><h2>Summary per method</h2><table class="summary"><thead>${head}</thead><tbody>${body}</tbody></table></section>`;
}

function comparisonSection(c: MethodComparison, methodNames: string[]): string {
  const rsa = c.rsa.filter((r) => Number.isFinite(r.spearman));
  let rsaSummary = DASH;
  if (rsa.length > 0) {
    const vals = rsa.map((r) => r.spearman).sort((a, b) => a - b);
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const median = vals.length % 2 ? vals[(vals.length - 1) / 2]! : (vals[vals.length / 2 - 1]! + vals[vals.length / 2]!) / 2;
    const min = rsa.reduce((a, b) => (b.spearman < a.spearman ? b : a));
    const max = rsa.reduce((a, b) => (b.spearman > a.spearman ? b : a));
    rsaSummary = `mean ρ ${fmt(mean)}, median ${fmt(median)}, min ${fmt(min.spearman)} (block ${escapeHtml(min.layer)}), max ${fmt(max.spearman)} (block ${escapeHtml(
      max.layer,
    )}) <span class="muted">over ${rsa.length} blocks</span>`;
  }
  const stats: [string, string][] = [
    ['observations', `${escapeHtml(c.metric)} per block (unit: ${escapeHtml(c.unit)})${methodNames.length === 2 ? `, ${escapeHtml(methodNames[0])} vs ${escapeHtml(methodNames[1])}` : ''}`],
    ['Mann-Whitney U', fmt(c.mannWhitneyU, 1)],
    ['p (two-sided)', `${fmtP(c.mannWhitneyP)} <span class="muted">descriptive only: the blocks of one model are correlated, paired values, not independent samples, so this p-value tests nothing; the test with a meaning takes models as the unit (<code>emosteer study</code>)</span>`],
    ['exact?', c.exact ? 'yes (exact distribution)' : 'no (normal approximation)'],
    ['Cohen’s d', `${fmt(c.cohensD, 2)} <span class="muted">(generation − comprehension) / pooled SD; negative = generation separates better</span>`],
    ['Cliff’s delta', fmt(c.cliffsDelta, 3)],
    ['RSA (Spearman of RDMs) per block', rsaSummary],
  ];
  const per = [...c.perEmotionCosine].sort((a, b) => b.cosine - a.cosine);
  const perMean = per.length ? per.reduce((s, p) => s + p.cosine, 0) / per.length : NaN;
  const perRow = (p: { emotion: string; cosine: number }) => {
    const w = Number.isFinite(p.cosine) ? Math.round(Math.min(1, Math.abs(p.cosine)) * 80) : 0;
    return `<tr><td>${escapeHtml(p.emotion)}</td><td class="num">${fmt(p.cosine)}</td><td><span class="bar${p.cosine < 0 ? ' neg' : ''}" style="width:${w}px"></span></td></tr>`;
  };
  const third = Math.ceil(per.length / 3) || 1;
  const chunks: (typeof per)[] = [];
  for (let i = 0; i < per.length; i += third) chunks.push(per.slice(i, i + third));
  const perTables = chunks
    .map((chunk) => `<table class="per-emotion"><thead><tr><th>emotion</th><th class="num">cosine</th><th></th></tr></thead><tbody>${chunk.map(perRow).join('')}</tbody></table>`)
    .join('');
  return `<section id="comparison"><h2>Method comparison (description of one model)</h2>${kvTable(stats)}
<h3>Per-emotion cosine between the two methods’ vectors <span class="muted">(each at its best block; mean ${fmt(perMean)})</span></h3>
<div class="cols">${perTables || '<p class="muted">none</p>'}</div></section>`;
}

function howToRead(result: EvaluationResult): string {
  const n = Math.max(0, ...Object.values(result.methods).map((m) => m.emotions.length));
  const expected = n > 1 ? (-1 / (n - 1)).toFixed(3) : DASH;
  return `<section id="how-to-read" class="note"><h2 style="margin-top:4px">How to read this</h2>
<p><b>Mean pairwise cosine</b> (the paper’s metric: lower = emotions better separated) is only meaningful against the model’s
<b>anisotropy baseline</b> — the cosine that unrelated neutral sentences already share at that block. A value of 0.9 says
little when unrelated inputs sit at 0.99 or at 0.85; the corrected cosine (cos − a) / (1 − a) puts methods and models on the same footing.</p>
<p>For <b>centred</b> vectors (each emotion mean minus the mean over all categories) the mean pairwise cosine is pinned near
−1/(n−1) = ${escapeHtml(expected)} for n = ${escapeHtml(n)} emotions, whatever the model represents: the metric becomes meaningless there.</p>
<p>That is why this report also shows <b>held-out accuracy</b> (can single unseen samples be assigned to their emotion?),
with confidence intervals, chance and a shuffled-label null, and the corrected and centred metrics. Prefer the block chosen
by held-out accuracy over the block with the lowest mean cosine.</p></section>`;
}

/**
 * Renders the whole report as one self-contained HTML document (inline SVG plots; it opens
 * offline) from an evaluation; further sections, such as the steering results, come through
 * `options.extraSections`.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { evaluateRun } from 'emosteer/evaluate';
 * import { renderReport } from 'emosteer/report';
 * const html = await renderReport(await evaluateRun('runs/gemma'), { title: 'Gemma 3 270M' });
 * await writeFile('report.html', html);
 * ```
 */
export async function renderReport(result: EvaluationResult, options: ReportOptions = {}): Promise<string> {
  const methods = methodEntries(result);
  const firstModel = methods[0]?.evaluation.model;
  const title = options.title ?? `emosteer evaluation: ${firstModel?.description ?? result.runDir}`;
  const renderOptions: RenderOptions = options.onWarning ? { onWarning: options.onWarning } : {};

  const defs = buildPlotDefinitions(result);
  const svgs = new Map<string, string>();
  for (const def of defs) svgs.set(def.name, prefixSvgIds(await renderSpecToSvg(def.spec, renderOptions), `plot-${def.name}`));
  const figure = (name: string) => {
    const def = defs.find((d) => d.name === name);
    const svg = svgs.get(name);
    if (!def || svg === undefined) return '';
    return `<figure data-plot="${escapeHtml(name)}" id="plot-${escapeHtml(name)}">${svg}<figcaption>${escapeHtml(def.caption)}</figcaption></figure>`;
  };

  const plots = [
    '<section id="plots"><h2>Across depth</h2>',
    figure('layer-cosine'),
    figure('accuracy'),
    figure('separation'),
    '<h2>Geometry at the best block</h2>',
    ...methods.map((m) => `<h3>${escapeHtml(m.name)}</h3><div class="pair">${figure(`heatmap-${m.slug}`)}${figure(`map-${m.slug}`)}</div>`),
    result.comparison ? figure('comparison') : '',
    '</section>',
  ].join('\n');

  const extra = (options.extraSections ?? [])
    .map((s, i) => `<section class="extra" id="extra-${i + 1}"><h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`)
    .join('\n');

  const subtitle = firstModel
    ? `${firstModel.arch} · ${firstModel.nLayer} blocks · width ${firstModel.nEmbd} · ${firstModel.quantization} · ${result.createdAt}`
    : result.createdAt;

  return htmlPage({
    title,
    subtitle,
    version: result.emosteerVersion,
    body: `${metadataSection(result, methods)}
${summarySection(methods)}
${howToRead(result)}
${plots}
${result.comparison ? comparisonSection(result.comparison, methods.map((m) => m.name)) : ''}
${extra}`,
    footer: `Generated by emosteer ${escapeHtml(result.emosteerVersion)} from <code>${escapeHtml(result.runDir)}</code>. Layers are block indices; depth = block / (blocks − 1). Self-contained: no scripts, no network.`,
  });
}

/**
 * One self-contained report page (no scripts, no network: a strict Content-Security-Policy),
 * shared by the run report and the study report. `body` and `footer` are HTML; `title` and
 * `subtitle` are text.
 */
export function htmlPage(page: { title: string; subtitle: string; version: string; body: string; footer: string; css?: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<meta name="generator" content="emosteer ${escapeHtml(page.version)}">
<title>${escapeHtml(page.title)}</title>
<style>${REPORT_CSS}${page.css ?? ''}</style>
</head>
<body>
<main>
<header class="report"><h1>${escapeHtml(page.title)}</h1><p class="sub">${escapeHtml(page.subtitle)}</p></header>
${page.body}
<footer>${page.footer}</footer>
</main>
</body>
</html>
`;
}
