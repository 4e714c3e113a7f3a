/**
 * The quality section of a report: mean KL divergence to the reference against the bits per
 * weight each file holds (one point per quantization, its 95% interval as an error bar, log
 * scale), and the table of `emosteer quality` (lib/quality) with every figure and its interval.
 *
 * @module
 */
import type { CandidateQuality, ModelQuality, QualityReport } from '../quality/compare.js';
import { kldDigits } from '../quality/format.js';
import type { Estimate } from '../quality/summary.js';
import { escapeHtml, type ReportSection } from './html-report.js';
import { prefixSvgIds, renderSpecToSvg, type PlotSpec } from './plots.js';

/** One point of {@link qualityPlotSpec}: a file, its bits per weight and its mean KL divergence. */
export interface QualityPlotPoint {
  /** The label beside the point (a file name or a quantization type). */
  label: string;
  /** Bits per weight the file holds. */
  bitsPerWeight: number;
  /** Mean KL(reference || this) in nats per token, with its 95% interval. */
  kld: Estimate;
}

const finite = (x: number) => typeof x === 'number' && Number.isFinite(x);

/**
 * Mean KL divergence (log scale) against bits per weight, one labelled point per file with its
 * interval as an error bar. Points whose KL is not positive (a file identical to the reference)
 * cannot sit on a log scale and are left out; an interval whose lower end is not positive is
 * drawn from the point up.
 * @returns undefined when no point is left
 */
export function qualityPlotSpec(points: readonly QualityPlotPoint[], title: string, subtitle: string): PlotSpec | undefined {
  const values = points
    .filter((p) => finite(p.bitsPerWeight) && finite(p.kld.value) && p.kld.value > 0)
    .map((p) => ({
      label: p.label,
      bpw: p.bitsPerWeight,
      kld: p.kld.value,
      lo: finite(p.kld.ci95[0]) && p.kld.ci95[0] > 0 ? Math.min(p.kld.ci95[0], p.kld.value) : p.kld.value,
      hi: finite(p.kld.ci95[1]) ? Math.max(p.kld.ci95[1], p.kld.value) : p.kld.value,
    }));
  if (values.length === 0) return undefined;
  const bpw = values.map((v) => v.bpw);
  const xDomain = [Math.max(0, Math.floor(Math.min(...bpw) - 0.5)), Math.ceil(Math.max(...bpw) + 1)];
  const lo = Math.floor(Math.log10(Math.min(...values.map((v) => v.lo))));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values.map((v) => v.hi)))));
  const x = { field: 'bpw', type: 'quantitative', title: 'bits per weight (as stored in the file)', scale: { domain: xDomain, nice: false } };
  const yTitle = 'mean KL divergence (nats/token)';
  const yScale = { type: 'log', domain: [10 ** lo, 10 ** hi], nice: false };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    data: { values },
    width: 420,
    height: 240,
    layer: [
      { mark: { type: 'rule', color: '#888', strokeWidth: 1.5 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle, scale: yScale }, y2: { field: 'hi' } } },
      {
        mark: { type: 'point', filled: true, size: 70, color: '#d95f02', opacity: 1 },
        encoding: {
          x,
          y: { field: 'kld', type: 'quantitative', title: yTitle, scale: yScale },
          tooltip: [
            { field: 'label', type: 'nominal', title: 'file' },
            { field: 'bpw', type: 'quantitative', title: 'bits per weight', format: '.2f' },
            { field: 'kld', type: 'quantitative', title: 'mean KL', format: '.3g' },
            { field: 'lo', type: 'quantitative', title: '95% CI low', format: '.3g' },
            { field: 'hi', type: 'quantitative', title: '95% CI high', format: '.3g' },
          ],
        },
      },
      { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 8, fontSize: 11, color: '#222' }, encoding: { x, y: { field: 'kld', type: 'quantitative', title: yTitle, scale: yScale }, text: { field: 'label', type: 'nominal' } } },
    ],
  } as PlotSpec;
}

const num = (x: number | undefined, d: number) => (x !== undefined && finite(x) ? x.toFixed(d) : '–');
/** A figure and its interval as escaped HTML; `scale` multiplies all three (fractions to %). */
const ci = (e: Estimate, d: number, scale = 1) => `${escapeHtml(num(e.value * scale, d))} <small>[${escapeHtml(num(e.ci95[0] * scale, d))}, ${escapeHtml(num(e.ci95[1] * scale, d))}]</small>`;
const label = (m: ModelQuality) => `${m.label}${m.steering ? ` (${m.steering})` : ''}`;

function row(m: ModelQuality, c: CandidateQuality | undefined, d: number): string {
  const cells = [
    escapeHtml(m.quantization),
    escapeHtml(num(m.file.fileBytes / 1024 / 1024, 1)),
    escapeHtml(num(m.file.bitsPerWeight, 2)),
    escapeHtml(m.speed ? num(m.speed.ppTokensPerSecond, 1) : '–'),
    escapeHtml(m.speed ? num(m.speed.tgTokensPerSecond, 1) : '–'),
    ci(m.perplexity, 3),
    ...(c
      ? [ci(c.perplexityRatio, 4), ci(c.kld.mean, d), escapeHtml(num(c.kld.median.value, d)), escapeHtml(num(c.kld.p99.value, d)), escapeHtml(num(c.kld.p999.value, d)), escapeHtml(num(c.kld.max, d)), ci(c.rmsDeltaP, 3, 100), ci(c.sameTopPercent, 2)]
      : Array.from({ length: 8 }, () => '')),
  ];
  return `<tr data-model="${escapeHtml(m.label)}"><td>${escapeHtml(label(m))}${c ? '' : ' <small>(reference)</small>'}</td>${cells.map((x) => `<td class="num">${x}</td>`).join('')}</tr>`;
}

/**
 * Renders a {@link QualityReport} as a report section (an HTML fragment with inline SVG): what
 * was measured and how, the plot of mean KL divergence against bits per weight (one point per
 * quantization with its 95% interval; absent when the report has no candidate to place on it:
 * none, steered runs of the same file, or only files identical to the reference), and the
 * table of every model's figures. Every label is escaped. The section goes into a page of
 * your own, or into {@link renderReport}'s `extraSections`.
 *
 * @example
 * ```ts
 * import { compareQuality } from 'emosteer/quality';
 * import { renderQualitySection, renderReport } from 'emosteer/report';
 * const section = await renderQualitySection(await compareQuality(ref, [q8, q4]));
 * const page = await renderReport(evaluation, { extraSections: [section] });
 * ```
 */
export async function renderQualitySection(
  report: QualityReport,
  options: {
    /** Receives plot-rendering warnings (Vega / Vega-Lite) instead of the console. */
    onWarning?: (message: string) => void;
  } = {},
): Promise<ReportSection> {
  const parts: string[] = [];
  const r = report;
  parts.push(`<p>${escapeHtml(r.candidates.length)} candidate(s) against the reference <b>${escapeHtml(label(r.reference))}</b> (${escapeHtml(r.reference.quantization)}) on ${escapeHtml(r.text.name)} (${escapeHtml(r.text.tokens)} tokens${r.text.source ? `; ${escapeHtml(r.text.source)}` : ''}): ${escapeHtml(r.chunks)} chunks of ${escapeHtml(r.contextSize)} tokens, the second half of each scored (${escapeHtml(r.scoredPerChunk)} per chunk, ${escapeHtml(r.scoredTokens)} in all), as llama.cpp's llama-perplexity scores. KL divergence is KL(reference ‖ candidate) of the next-token distributions over the full vocabulary, in nats per token; RMS Δp is that of the next token's probability, in %. Intervals: 95% bootstrap over chunks (${escapeHtml(r.intervals.resamples)} resamples, seed ${escapeHtml(r.intervals.seed)}).</p>`);
  const placed = r.candidates.filter((c) => !c.steering);
  const spec = qualityPlotSpec(
    placed.map((c) => ({ label: c.quantization && c.quantization !== c.label ? `${c.label} (${c.quantization})` : c.label, bitsPerWeight: c.file.bitsPerWeight, kld: c.kld.mean })),
    'Mean KL divergence to the reference against bits per weight',
    `reference ${label(r.reference)} at ${num(r.reference.file.bitsPerWeight, 2)} bits per weight; bars: 95% bootstrap intervals over chunks`,
  );
  if (spec) {
    const left = placed.filter((c) => !(c.kld.mean.value > 0)).map((c) => c.label);
    const caption = `One point per candidate file, log scale.${left.length ? ` Not plotted (KL 0: identical to the reference): ${left.join(', ')}.` : ''}`;
    parts.push(`<figure data-plot="quality-kld">${prefixSvgIds(await renderSpecToSvg(spec, options), 'plot-quality-kld')}<figcaption>${escapeHtml(caption)}</figcaption></figure>`);
  }
  const d = r.candidates.length ? Math.max(...r.candidates.map((c) => kldDigits(c.kld.mean.value))) : 4;
  const head = ['model', 'type', 'MiB', 'bits/weight', 'pp t/s', 'tg t/s', 'perplexity', 'PPL ratio', 'KLD mean', 'KLD median', 'KLD p99', 'KLD p99.9', 'KLD max', 'RMS Δp %', 'same top-1 %'];
  parts.push(`<table data-table="quality"><thead><tr>${head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${row(r.reference, undefined, d)}${r.candidates.map((c) => row(c, c, d)).join('')}</tbody></table>`);
  if (r.candidates.length === 0) parts.push('<p class="muted">No candidate: only the reference was measured.</p>');
  return { title: 'Quality against the reference', html: parts.join('\n') };
}
