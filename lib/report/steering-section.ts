/**
 * The steering section of the report: success per judge with intervals, the control arms, the
 * manipulation check (how hard each arm pushes), the primary judge's dose-response, the regime
 * map (strength x emotion), unsteered vs steered generations side by side, cross-lingual flags,
 * the logit lens and emotion-meter traces.
 */
import type { SteeringRun } from '../steer/experiment.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { renderDoseResponse } from './dose-response-section.js';
import { escapeHtml } from './html-report.js';
import { renderManipulationCheck } from './manipulation-section.js';
import { renderSpecToSvg, type PlotSpec } from './plots.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function regimeMapSpec(data: SavedSteeringResult): PlotSpec {
  const values = data.regimeMap.map((r) => {
    const n = r.surgical + r.repetitive + r.explosive;
    const top = r.explosive >= r.repetitive && r.explosive >= r.surgical && r.explosive > 0 ? 'explosive' : r.repetitive >= r.surgical && r.repetitive > 0 ? 'repetitive' : 'surgical';
    return { emotion: r.emotion, strength: String(r.strength), regime: top, detail: `${r.surgical}/${r.repetitive}/${r.explosive} of ${n}` };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Regime map', subtitle: 'Most frequent regime per target emotion and strength (surgical / repetitive / explosive counts in the tooltip)' },
    data: { values },
    mark: { type: 'rect', stroke: 'white' },
    encoding: {
      x: { field: 'strength', type: 'ordinal', title: 'strength (x mean residual norm)' },
      y: { field: 'emotion', type: 'nominal', title: null },
      color: { field: 'regime', type: 'nominal', scale: { domain: ['surgical', 'repetitive', 'explosive'], range: ['#1b9e77', '#e6ab02', '#d95f02'] } },
      tooltip: [{ field: 'detail', type: 'nominal' }],
    },
    width: 260,
    height: { step: 14 },
  } as PlotSpec;
}

function meterSpec(runs: SteeringRun[]): PlotSpec | undefined {
  const values = runs.flatMap((r) => [
    ...(r.meterTrace?.baseline ?? []).map((v, i) => ({ run: `${r.scenario} (${r.target})`, token: i, value: v, kind: 'unsteered' })),
    ...(r.meterTrace?.steered ?? []).map((v, i) => ({ run: `${r.scenario} (${r.target})`, token: i, value: v, kind: `steered ${r.strength}` })),
  ]);
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Emotion meter', subtitle: `Reading of the target emotion per generated token (centred cosine at block ${runs[0]!.meterTrace!.layer})` },
    data: { values },
    facet: { field: 'run', type: 'nominal', title: null },
    columns: 3,
    spec: {
      width: 220,
      height: 110,
      mark: { type: 'line', interpolate: 'monotone' },
      encoding: {
        x: { field: 'token', type: 'quantitative', title: 'token' },
        y: { field: 'value', type: 'quantitative', title: 'reading' },
        color: { field: 'kind', type: 'nominal', title: null },
      },
    },
  } as PlotSpec;
}

const signedPct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** Success per strength and arm, and steered minus control with scenario-bootstrap intervals. */
function controlTables(data: SavedSteeringResult): string {
  if (!data.byStrength?.length) return '';
  const parts: string[] = [];
  const c = data.controls;
  parts.push(`<h3>Against control arms</h3><p>The paper counts a scenario as steered when any strength moves the judge (the first column above). Any push on the residual stream changes the text, so that figure needs a control: ${c ? `${c.randomSeeds} random direction(s) with the same per-block norm${c.otherEmotion ? ' and another emotion\'s vector' : ''}, under ${escapeHtml(c.sampling.join(', '))} decoding` : 'control arms'}, judged for the scenario's own target. Success per strength (runs over scenarios, sampling modes and seeds):</p>`);
  const judges = [...new Set(data.byStrength.map((x) => x.judge))];
  const arms = [...new Set(data.byStrength.map((x) => x.arm))];
  parts.push(`<table data-table="success-by-strength"><thead><tr><th>judge</th><th>arm</th>${data.strengths.map((st) => `<th>${escapeHtml(st)}</th>`).join('')}</tr></thead><tbody>`);
  for (const judge of judges) {
    for (const arm of arms) {
      const cells = data.strengths.map((st) => {
        const p = data.byStrength!.find((x) => x.judge === judge && x.arm === arm && x.strength === st)?.proportion;
        return `<td>${p ? `${p.successes}/${p.trials} (${pct(p.successRate)})` : ''}</td>`;
      });
      parts.push(`<tr><td>${escapeHtml(judge)}</td><td>${escapeHtml(arm)}</td>${cells.join('')}</tr>`);
    }
  }
  parts.push('</tbody></table>');
  if (data.contrasts?.length) {
    parts.push('<p>Steered minus control, in percentage points of scenarios, with a 95% interval from a bootstrap that resamples whole scenarios ("any" is the paper\'s unit: some strength succeeds under the first sampling mode):</p>');
    parts.push('<table data-table="control-contrast"><thead><tr><th>judge</th><th>control</th><th>strength</th><th>scenarios</th><th>steered</th><th>control</th><th>difference</th><th>95% CI</th></tr></thead><tbody>');
    for (const x of data.contrasts) {
      parts.push(`<tr><td>${escapeHtml(x.judge)}</td><td>${escapeHtml(x.control)}</td><td>${escapeHtml(x.strength)}</td><td>${x.scenarios}</td><td>${pct(x.steeredRate)}</td><td>${pct(x.controlRate)}</td><td>${signedPct(x.difference.value)}</td><td>${signedPct(x.difference.ci95[0])} to ${signedPct(x.difference.ci95[1])}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  if (data.judgeAgreement?.length) {
    parts.push(`<p>Agreement of the judges on the same runs (Cohen's kappa of their success verdicts, 95% bootstrap interval over runs)${data.llmJudge ? `; the LLM judge is ${escapeHtml(data.llmJudge.file ?? data.llmJudge.model)} (${escapeHtml(data.llmJudge.model)}), a different model from the steered one, on ${escapeHtml(data.llmJudge.sampling.join(', '))} runs${data.llmJudge.strengths ? ` at strengths ${escapeHtml(data.llmJudge.strengths.join(', '))}` : ''}` : ''}:</p>`);
    parts.push('<table data-table="judge-agreement"><thead><tr><th>judges</th><th>runs</th><th>observed agreement</th><th>kappa</th><th>95% CI</th></tr></thead><tbody>');
    for (const a of data.judgeAgreement) {
      parts.push(`<tr><td>${escapeHtml(a.judges.join(' vs '))}</td><td>${a.runs}</td><td>${pct(a.observed)}</td><td>${Number.isFinite(a.kappa) ? a.kappa.toFixed(2) : 'undefined'}</td><td>${a.ci95 ? a.ci95.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '?')).join(' to ') : ''}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  return parts.join('\n');
}

/**
 * Renders the steering section (HTML fragment with inline SVG). The manipulation check and the
 * dose-response appear after the control arms when the result has them (a manipulation check;
 * runs judged by at least one judge).
 */
export async function renderSteeringSection(data: SavedSteeringResult): Promise<{ title: string; html: string }> {
  const parts: string[] = [];
  parts.push(`<p>${escapeHtml(data.scenarios)} scenarios x strengths ${escapeHtml(data.strengths.join(', '))} x ${escapeHtml(data.sampling.join(' / '))}, steering with the ${escapeHtml(data.method)} vectors of ${escapeHtml(data.model)} (unit vector x strength x mean residual norm, every steerable block). A run succeeds for a judge when the judge's score for the target moves the right way against the unsteered continuation by the judge's margin and the text is not explosive.</p>`);
  parts.push('<table><thead><tr><th>judge</th><th>scenarios succeeded (greedy, any strength)</th><th>95% CI</th><th>runs succeeded</th><th>95% CI</th></tr></thead><tbody>');
  for (const [name, j] of Object.entries(data.judges)) {
    parts.push(`<tr><td>${escapeHtml(name)}</td><td>${j.perScenario.successes}/${j.perScenario.trials} (${pct(j.perScenario.successRate)})</td><td>${pct(j.perScenario.ci95[0])}-${pct(j.perScenario.ci95[1])}</td><td>${j.perRun.successes}/${j.perRun.trials} (${pct(j.perRun.successRate)})</td><td>${pct(j.perRun.ci95[0])}-${pct(j.perRun.ci95[1])}</td></tr>`);
  }
  parts.push('</tbody></table>');
  parts.push(controlTables(data));
  parts.push(renderManipulationCheck(data.manipulationCheck));
  parts.push(await renderDoseResponse(data));
  const r = data.regimes;
  parts.push(`<p>Regimes over all runs: surgical ${r.surgical}, repetitive collapse ${r.repetitive}, explosive ${r.explosive}.</p>`);
  parts.push(`<figure data-plot="regime-map">${await renderSpecToSvg(regimeMapSpec(data))}</figure>`);
  const traced = data.runs.filter((x) => x.meterTrace && x.sampling === data.sampling[0]).filter((x, i, arr) => arr.findIndex((y) => y.scenario === x.scenario) === i).slice(0, 6);
  const ms = meterSpec(traced);
  if (ms) parts.push(`<figure data-plot="emotion-meter">${await renderSpecToSvg(ms)}</figure>`);
  parts.push(`<h3>Cross-lingual flags (${data.crossLingualFlags.length})</h3>`);
  if (data.crossLingualFlags.length === 0) parts.push('<p>No steered output surfaced another script or language.</p>');
  else parts.push(`<ul>${data.crossLingualFlags.slice(0, 30).map((f) => `<li>${escapeHtml(f.scenario)} @ ${escapeHtml(f.strength)} (${escapeHtml(f.sampling)}): ${escapeHtml(f.reason)}</li>`).join('')}</ul>`);
  if (data.logitLens?.length) {
    parts.push('<h3>Logit lens (tokens each emotion vector promotes at the last block)</h3><table><thead><tr><th>emotion</th><th>top tokens</th><th>non-Latin share</th></tr></thead><tbody>');
    for (const l of data.logitLens) {
      const nonLatin = Object.entries(l.scripts).filter(([k]) => k !== 'Latin' && k !== 'none').reduce((a, [, v]) => a + v, 0);
      parts.push(`<tr><td>${escapeHtml(l.emotion)}</td><td>${l.tokens.map((t) => `<code>${escapeHtml(JSON.stringify(t.text))}</code>`).join(' ')}</td><td>${pct(nonLatin)}</td></tr>`);
    }
    parts.push('</tbody></table>');
  }
  parts.push('<h3>Unsteered vs steered (greedy, one strength per scenario)</h3><table><thead><tr><th>scenario</th><th>unsteered</th><th>steered</th><th>regime</th></tr></thead><tbody>');
  const mid = data.strengths[Math.floor(data.strengths.length / 2)];
  for (const run of data.runs.filter((x) => x.sampling === data.sampling[0] && x.strength === mid).slice(0, 20)) {
    parts.push(`<tr><td>${escapeHtml(run.scenario)}<br><small>${escapeHtml(run.direction)} ${escapeHtml(run.target)} @ ${escapeHtml(run.strength)}</small></td><td>${escapeHtml(run.baselineText)}</td><td>${escapeHtml(run.text)}</td><td>${escapeHtml(run.regime)}</td></tr>`);
  }
  parts.push('</tbody></table>');
  return { title: 'Steering', html: parts.join('\n') };
}
