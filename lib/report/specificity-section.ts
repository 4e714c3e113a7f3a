/**
 * The specificity matrix in the report (a run folder's specificity.json): per judge, a heatmap of
 * the mean score change of every judged emotion (column) when steering toward every emotion
 * (row), on a diverging colour scale around 0 with the diagonal outlined, the same matrix
 * z-scored per judged column (what the diagonal-dominance test ranks), the permutation p and the
 * number of rows whose diagonal is the row's maximum.
 *
 * The heatmaps are plain inline SVG drawn here (one rect per cell, a `<title>` tooltip each), so
 * the section needs no plotting library and the page stays self-contained.
 *
 * @module
 */
import type { ReportSection } from './html-report.js';
import type { SpecificityMatrix, SpecificityRunResult } from '../steer/specificity.js';
import { PRIMARY_JUDGE_PREFERENCE } from '../study/steering-endpoints.js';
import { escapeHtml } from './html-report.js';
import { DASH, isNum, sig } from './number-format.js';


/** A p-value: three decimals, exponent notation below 0.001. */
function fmtP(p: unknown): string {
  if (!isNum(p)) return DASH;
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/** Stops of the diverging scale from -1 (blue, score fell) through 0 (near white) to +1 (red, score rose). */
const STOPS: readonly [number, number, number][] = [
  [0x21, 0x66, 0xac], [0x43, 0x93, 0xc3], [0x92, 0xc5, 0xde], [0xd1, 0xe5, 0xf0], [0xf7, 0xf7, 0xf7],
  [0xfd, 0xdb, 0xc7], [0xf4, 0xa5, 0x82], [0xd6, 0x60, 0x4d], [0xb2, 0x18, 0x2b],
];

/** Grey of a cell without a finite value. */
const MISSING = '#d9d9d9';

/**
 * The colour of `value` on a diverging scale symmetric around 0 that reaches its ends at
 * ±`limit`: blue below 0, near white at 0, red above; grey for a missing value.
 *
 * @param value the cell's value
 * @param limit the magnitude drawn in the scale's end colours (values beyond it are clamped)
 */
export function divergingColor(value: number | null | undefined, limit: number): string {
  if (!isNum(value)) return MISSING;
  const t = isNum(limit) && limit > 0 ? Math.max(-1, Math.min(1, value / limit)) : 0;
  const pos = (t + 1) / 2 * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  const hex = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * f).toString(16).padStart(2, '0');
  return `#${hex(0)}${hex(1)}${hex(2)}`;
}

/** Approximate width in pixels of a label at 10 px sans-serif. */
const labelWidth = (s: string) => Math.ceil(s.length * 5.8) + 4;

/** What one heatmap draws. */
interface Heatmap {
  /** Row labels (steered emotions). */
  rows: readonly string[];
  /** Column labels (judged emotions). */
  cols: readonly string[];
  /** Value of a cell (null or NaN: missing). */
  value: (r: number, c: number) => number | null | undefined;
  /** Tooltip text of a cell. */
  tooltip: (r: number, c: number) => string;
  /** Name of the value in the legend. */
  legend: string;
  /** What the figure is, for screen readers. */
  label: string;
  /** Name of the plot (`data-plot`). */
  name: string;
  /** Caption under the figure. */
  caption: string;
}

/** An inline SVG heatmap: rows steered, columns judged, the diagonal (same label) outlined, a legend on the right. */
function heatmapSvg(h: Heatmap): string {
  const cell = 14;
  const left = 18 + Math.max(0, ...h.rows.map(labelWidth));
  const top = 18 + Math.max(0, ...h.cols.map(labelWidth));
  const gridW = h.cols.length * cell;
  const gridH = h.rows.length * cell;
  let limit = 0;
  h.rows.forEach((_, r) => h.cols.forEach((__, c) => { const v = h.value(r, c); if (isNum(v)) limit = Math.max(limit, Math.abs(v)); }));
  const lx = left + gridW + 14;
  const legendTop = top;
  const swatch = 12;
  const width = lx + swatch + 8 + Math.max(labelWidth(h.legend), labelWidth(`+${sig(limit)}`)) + 4;
  const height = Math.max(top + gridH, legendTop + 18 + STOPS.length * swatch) + 8;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(h.label)}" font-family="Helvetica, Arial, &quot;DejaVu Sans&quot;, sans-serif" font-size="10">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left + gridW / 2}" y="11" text-anchor="middle" font-size="11" fill="#333">judged emotion</text>`);
  out.push(`<text transform="translate(11 ${top + gridH / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">steered emotion</text>`);
  h.cols.forEach((c, j) => out.push(`<text transform="translate(${left + j * cell + cell / 2 + 3.5} ${top - 4}) rotate(-90)" fill="#333">${escapeHtml(c)}</text>`));
  h.rows.forEach((r, i) => out.push(`<text x="${left - 4}" y="${top + i * cell + cell / 2 + 3.5}" text-anchor="end" fill="#333">${escapeHtml(r)}</text>`));
  const diagonal: string[] = [];
  h.rows.forEach((r, i) => {
    h.cols.forEach((c, j) => {
      const x = left + j * cell;
      const y = top + i * cell;
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${divergingColor(h.value(i, j), limit)}" stroke="white" stroke-width="0.5"><title>${escapeHtml(h.tooltip(i, j))}</title></rect>`);
      if (r === c) diagonal.push(`<rect data-diagonal="${escapeHtml(r)}" x="${x + 0.75}" y="${y + 0.75}" width="${cell - 1.5}" height="${cell - 1.5}" fill="none" stroke="#111" stroke-width="1.5"/>`);
    });
  });
  out.push(...diagonal);
  out.push(`<text x="${lx}" y="${legendTop + 8}" fill="#333">${escapeHtml(h.legend)}</text>`);
  for (let k = 0; k < STOPS.length; k++) {
    const t = 1 - (2 * k) / (STOPS.length - 1);
    out.push(`<rect x="${lx}" y="${legendTop + 16 + k * swatch}" width="${swatch}" height="${swatch}" fill="${divergingColor(t * limit, limit)}" stroke="#ccc" stroke-width="0.5"/>`);
  }
  const mid = legendTop + 16 + ((STOPS.length - 1) / 2) * swatch + swatch / 2 + 3.5;
  out.push(`<text x="${lx + swatch + 4}" y="${legendTop + 16 + swatch / 2 + 3.5}" fill="#333">+${escapeHtml(sig(limit))}</text>`);
  out.push(`<text x="${lx + swatch + 4}" y="${mid}" fill="#333">0</text>`);
  out.push(`<text x="${lx + swatch + 4}" y="${legendTop + 16 + (STOPS.length - 1) * swatch + swatch / 2 + 3.5}" fill="#333">−${escapeHtml(sig(limit))}</text>`);
  out.push('</svg>');
  return `<figure data-plot="${escapeHtml(h.name)}">${out.join('')}<figcaption>${escapeHtml(h.caption)}</figcaption></figure>`;
}

/** A plot name from a judge's name: lowercase letters, digits and dashes. */
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'judge';

/** The HTML of one judge's matrix: the test's numbers, what was left out, and the two heatmaps. */
function judgeBlock(judge: string, m: SpecificityMatrix, key: string): string {
  const steered = m.steered ?? [];
  const judged = m.judged ?? [];
  const emotions = m.emotions ?? [];
  const zIndex = new Map(emotions.map((e, i) => [e, i]));
  const zOf = (row: string, col: string) => {
    const i = zIndex.get(row);
    const j = zIndex.get(col);
    return i === undefined || j === undefined ? undefined : m.z?.[i]?.[j];
  };
  const parts: string[] = [`<h3>${escapeHtml(judge)}</h3>`];
  const n = (m.diagonal ?? []).length || emotions.length;
  if (m.testable) {
    const perms = m.permutation?.permutations;
    const p = m.permutation?.p;
    const floor = isNum(perms) && perms > 0 ? 1 / (perms + 1) : Number.NaN;
    const maxRows = (m.diagonal ?? []).filter((d) => d.isRowMax).map((d) => d.emotion);
    parts.push(`<p data-stat="specificity-test">Diagonal dominance (mean over rows of the diagonal's z minus the mean z of the rest of its row): ${sig(m.dominance?.value)}, 95% CI ${sig(m.dominance?.ci95?.[0])} to ${sig(m.dominance?.ci95?.[1])} (scenario bootstrap); under shuffled row labels its mean is ${sig(m.permutation?.nullMean)} and its 95th percentile ${sig(m.permutation?.null95)}. <b>Permutation p = <span data-value="p">${fmtP(p)}</span></b> (${isNum(perms) ? perms : DASH} row-label permutations${isNum(p) && isNum(floor) && Math.abs(p - floor) < 1e-12 ? `: no permutation reached the observed value, the smallest p they can give is 1/${perms! + 1}` : ''}).</p>`);
    parts.push(`<p data-stat="specificity-row-max"><b><span data-value="row-max">${escapeHtml(m.rowMaxCount)}</span> of ${n}</b> rows have their diagonal as the row's maximum z (about 1 expected if the steered emotion made no difference)${maxRows.length ? `: ${escapeHtml(maxRows.join(', '))}` : ''}.</p>`);
  } else {
    parts.push(`<p class="note" data-note="not-testable">Not testable: ${escapeHtml(m.note ?? 'too few emotions with finite cells')}.</p>`);
  }
  if (m.leftOut?.length) parts.push(`<p>Left out of the test: ${m.leftOut.map((x) => `${escapeHtml(x.emotion)} (${escapeHtml(x.reason)})`).join('; ')}.</p>`);
  if (isNum(m.nonFiniteDeltas) && m.nonFiniteDeltas > 0) parts.push(`<p class="muted">${m.nonFiniteDeltas} score changes were not finite and are left out of the cell means (grey: no finite change at all).</p>`);
  const figures: string[] = [];
  figures.push(heatmapSvg({
    rows: steered,
    cols: judged,
    value: (r, c) => m.matrix?.[r]?.[c],
    tooltip: (r, c) => {
      const z = zOf(steered[r]!, judged[c]!);
      return `steered ${steered[r]}, judged ${judged[c]}: mean change ${sig(m.matrix?.[r]?.[c])}${isNum(z) ? `, column z ${z.toFixed(2)}` : ''}`;
    },
    legend: 'mean change',
    label: `Specificity matrix of ${judge}: mean score change, steered emotion by judged emotion`,
    name: `specificity-${key}`,
    caption: 'Mean score change (steered − unsteered) of the judged emotion; the colours run to ± the largest change of this judge; grey: no finite change. Hover a cell for its value.',
  }));
  if (m.testable && emotions.length > 0 && m.z?.length === emotions.length) {
    figures.push(heatmapSvg({
      rows: emotions,
      cols: emotions,
      value: (r, c) => m.z[r]?.[c],
      tooltip: (r, c) => `steered ${emotions[r]}, judged ${emotions[c]}: column z ${sig(m.z[r]?.[c])}`,
      legend: 'column z',
      label: `Specificity matrix of ${judge}, z-scored per judged emotion`,
      name: `specificity-z-${key}`,
    caption: 'The same cells z-scored within each judged column over the steered rows (emotions in the test only): the matrix the diagonal-dominance test and the row-maximum count use.',
    }));
  }
  parts.push(`<div class="pair">${figures.join('')}</div>`);
  return parts.join('\n');
}

/**
 * The specificity section of a run folder's report, from its specificity.json: per judge (the
 * probe judge and the NRC lexicon first), the matrix of mean score changes as a heatmap (row =
 * steered emotion, column = judged emotion, diverging colours around 0, the diagonal outlined,
 * each cell's value in its tooltip), the same z-scored per judged column as the test uses, the
 * diagonal-dominance statistic with its interval, the permutation p, and how many rows have
 * their diagonal as the row's maximum. Pass the result to `renderReport`'s `extraSections`.
 * All text is escaped.
 *
 * @param result what a specificity run saved (`<run folder>/specificity.json`)
 *
 * @example
 * ```ts
 * const spec = JSON.parse(await readFile('runs/smollm2/specificity.json', 'utf8'));
 * const html = await renderReport(evaluation, { extraSections: [renderSpecificitySection(spec)] });
 * ```
 */
export function renderSpecificitySection(result: SpecificityRunResult): ReportSection {
  const judges = Object.keys(result.judges ?? {});
  const rank = (j: string) => { const i = PRIMARY_JUDGE_PREFERENCE.findIndex((re) => re.test(j)); return i < 0 ? PRIMARY_JUDGE_PREFERENCE.length : i; };
  const ordered = judges.map((j, i) => ({ j, i })).sort((a, b) => rank(a.j) - rank(b.j) || a.i - b.i).map((x) => x.j);
  const parts: string[] = [];
  const emotions = result.emotions?.length ?? 0;
  const scenarios = result.scenarios?.length ?? 0;
  parts.push(`<p>Does steering toward an emotion move that emotion, or does any emotion vector move every judged emotion alike? Each of the ${emotions} emotions of the ${escapeHtml(result.method)} vectors of ${escapeHtml(result.model)} steered each of the ${scenarios} neutral scenarios at strength ${escapeHtml(result.strength)} (greedy, ${escapeHtml(result.maxTokens)} tokens, blocks ${escapeHtml((result.layers ?? []).join('-'))}), and every judge scored every emotion on the steered text and on the scenario's unsteered one. A cell is the mean over scenarios of the judged emotion's score change (column) when steering toward the row's emotion; red = the score rose, blue = it fell. The diagonal (outlined) is the steered emotion judged for itself. Judged columns differ in scale, so the test z-scores each column over the steered rows (right-hand map) and asks whether the diagonal stands out of its row; its p comes from shuffling which emotion each row steered.</p>`);
  if (ordered.length === 0) parts.push('<p class="muted">No judge scored the texts.</p>');
  const used = new Set<string>();
  for (const j of ordered) {
    let key = slug(j);
    for (let k = 2; used.has(key); k++) key = `${slug(j)}-${k}`;
    used.add(key);
    parts.push(judgeBlock(j, result.judges[j]!, key));
  }
  return { title: 'Specificity matrix', html: parts.join('\n') };
}
