/**
 * The dose-response of a steering run in the report: the primary judge's mean signed effect per
 * strength, one line per arm with scenario-bootstrap error bars, and the slopes over strength
 * with their intervals, computed from the saved runs as `scripts/dose-response.mjs` does
 * ({@link doseResponse} with its defaults: greedy runs of the primary scenarios).
 *
 * @module
 */
import { doseResponse, type DoseResponse, type DoseRun } from '../steer/dose-response.js';
import type { SavedSteeringResult } from '../steer/steering-result.js';
import { PRIMARY_JUDGE_PREFERENCE } from '../study/steering-endpoints.js';
import { escapeHtml } from './html-report.js';
import { METHOD_PALETTE, prefixSvgIds, renderSpecToSvg, type PlotSpec } from './plots.js';
import { DASH, isNum, sig } from './number-format.js';


/** An interval as "lo to hi". */
const range = (ci: readonly [number, number] | undefined): string => (ci && isNum(ci[0]) && isNum(ci[1]) ? `${sig(ci[0])} to ${sig(ci[1])}` : DASH);

/** The judge the dose-response shows, and whether (and why not) it votes. */
export interface DoseJudgeChoice {
  /** Judge name (a key of the result's `judges`). */
  judge: string;
  /** Whether the judge votes: no validation records at all, or every record of the judge says it votes. */
  votes: boolean;
  /** Why it does not vote, when it does not. */
  reason?: string;
}

/**
 * The primary judge of a saved steering result, chosen as the study's endpoints choose it
 * (`PRIMARY_JUDGE_PREFERENCE`: the probe judge, then the NRC lexicon) among the judges that vote
 * (with validation records, a judge votes only when every record of it says so); when no voting
 * judge matches, the first preferred judge whatever its validation, else the first judge.
 * Undefined when the result has no judge.
 *
 * @param data a saved steering result
 */
export function primaryDoseJudge(data: SavedSteeringResult): DoseJudgeChoice | undefined {
  const judges = Object.keys(data.judges ?? {});
  if (judges.length === 0) return undefined;
  const choices = judges.map((j) => judgeVotes(data, j));
  const pick = (pool: readonly DoseJudgeChoice[]) => PRIMARY_JUDGE_PREFERENCE.map((re) => pool.find((c) => re.test(c.judge))).find((c) => c !== undefined);
  return pick(choices.filter((c) => c.votes)) ?? pick(choices) ?? choices[0];
}

/** Whether a judge votes by the result's validation records (as the study decides it). */
function judgeVotes(data: SavedSteeringResult, judge: string): DoseJudgeChoice {
  const records = data.judgeValidation;
  if (!records) return { judge, votes: true };
  const mine = records.filter((r) => r.judge === judge);
  if (mine.length === 0) return { judge, votes: false, reason: 'it has no validation record, and only validated judges vote' };
  const failed = mine.filter((r) => !r.votes);
  if (failed.length === 0) return { judge, votes: true };
  return { judge, votes: false, reason: `its validation ${failed.length === 1 ? 'record says' : 'records say'} it does not vote (${failed.map((r) => r.data).join('; ')})` };
}

/** The runs of a saved result (emotion arm and controls) with only one judge's verdicts, as {@link doseResponse} wants them. */
function runsFor(data: SavedSteeringResult, judge: string): DoseRun[] {
  return [...(data.runs ?? []), ...(data.controlRuns ?? [])].map((r) => {
    const v = r.judges?.[judge];
    return {
      scenario: r.scenario,
      direction: r.direction,
      ...(r.arm !== undefined ? { arm: r.arm } : {}),
      strength: r.strength,
      sampling: r.sampling,
      regime: r.regime,
      judges: v ? { [judge]: { delta: isNum(v.delta) ? v.delta : Number.NaN, success: v.success } } : {},
    };
  });
}

/**
 * A Vega-Lite spec of one judge's dose-response curves: the mean signed effect per strength, one
 * line per arm (the reference arm first), 95% scenario-bootstrap intervals as error bars nudged
 * sideways per arm so that they do not hide one another, and a rule at 0. Undefined when the
 * judge has no curve with a finite point.
 *
 * @param dr the dose-response of a steering run
 * @param judge the judge to plot
 */
export function doseResponseSpec(dr: DoseResponse, judge: string): PlotSpec | undefined {
  const curves = dr.curves.filter((c) => c.judge === judge);
  const values = curves.flatMap((c, ai) => {
    const span = dr.strengths.length > 1 ? dr.strengths[dr.strengths.length - 1]! - dr.strengths[0]! : Math.abs(dr.strengths[0] ?? 1) || 1;
    const shift = (ai - (curves.length - 1) / 2) * 0.012 * span;
    return c.points
      .filter((p) => isNum(p.effect.value))
      .map((p) => ({
        arm: c.arm,
        strength: p.strength,
        x: p.strength + shift,
        effect: p.effect.value,
        lo: isNum(p.effect.ci95[0]) ? p.effect.ci95[0] : p.effect.value,
        hi: isNum(p.effect.ci95[1]) ? p.effect.ci95[1] : p.effect.value,
        scenarios: p.effect.scenarios,
      }));
  });
  if (values.length === 0) return undefined;
  const arms = curves.map((c) => c.arm);
  const color = {
    field: 'arm',
    type: 'nominal' as const,
    title: 'arm',
    sort: arms,
    scale: { domain: arms, range: arms.map((_, i) => METHOD_PALETTE[i % METHOD_PALETTE.length]!) },
  };
  const x = { field: 'x', type: 'quantitative' as const, title: 'strength (x mean residual norm)', scale: { zero: false, nice: false, padding: 12 }, axis: { values: dr.strengths, format: '~g' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Dose-response (${judge})`, subtitle: 'Mean signed effect per strength, 95% scenario-bootstrap intervals (bars nudged sideways per arm)' },
    width: 420,
    height: 240,
    layer: [
      {
        data: { values: [{ y: 0 }] },
        mark: { type: 'rule', color: '#999', strokeDash: [4, 3] },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values },
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.8 },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'mean signed effect' }, y2: { field: 'hi' }, color },
      },
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2, point: { size: 30, filled: true } },
        encoding: { x, y: { field: 'effect', type: 'quantitative', title: 'mean signed effect' }, color },
      },
    ],
  } as PlotSpec;
}

/** Options of {@link renderDoseResponse}. */
export interface DoseResponseSectionOptions {
  /** The judge to show (default: {@link primaryDoseJudge}). */
  judge?: string;
  /** Bootstrap resamples of every interval (default 1000, as the script). */
  resamples?: number;
}

/**
 * The dose-response as an HTML fragment (a sub-section headed by an `<h3>`): the primary judge's
 * curves as an inline SVG line plot (one line per arm, error bars), a note when that judge does
 * not vote, and a table of each arm's slope of the effect over strength with its interval, trend
 * and Spearman correlation, and for each control the emotion arm's slope minus the control's.
 * Computed from the saved runs with {@link doseResponse}'s defaults (greedy runs, neutral and
 * toward scenarios), as `scripts/dose-response.mjs` does. Returns an empty string when the
 * result has no judge or the judge no run to plot. All text is escaped.
 *
 * @param data a saved steering result
 */
export async function renderDoseResponse(data: SavedSteeringResult, options: DoseResponseSectionOptions = {}): Promise<string> {
  const choice = options.judge !== undefined ? judgeVotes(data, options.judge) : primaryDoseJudge(data);
  if (!choice) return '';
  const { judge } = choice;
  const runs = runsFor(data, judge);
  if (!runs.some((r) => Object.keys(r.judges).length > 0)) return '';
  let dr: DoseResponse;
  try {
    dr = doseResponse(runs, { ...(options.resamples !== undefined ? { resamples: options.resamples } : {}) });
  } catch (e) {
    return `<h3 id="dose-response">Dose-response</h3><p class="muted">Not computed: ${escapeHtml(e instanceof Error ? e.message : String(e))}</p>`;
  }
  const spec = doseResponseSpec(dr, judge);
  if (!spec) return '';
  const curves = dr.curves.filter((c) => c.judge === judge);
  const rankOf = (j: string) => { const i = PRIMARY_JUDGE_PREFERENCE.findIndex((re) => re.test(j)); return i < 0 ? Infinity : i; };
  const preferred = rankOf(judge) < Infinity;
  // Judges the study would prefer to this one, passed over because they do not vote.
  const passedOver = Object.keys(data.judges ?? {}).filter((j) => j !== judge && rankOf(j) <= rankOf(judge) && !judgeVotes(data, j).votes);
  const basis = options.judge !== undefined
    ? ''
    : choice.votes && preferred
      ? `, the primary judge (as in the study's endpoints: the probe judge, else the NRC lexicon, among the judges that vote${passedOver.length ? `; ${escapeHtml(passedOver.join(', '))} ${passedOver.length === 1 ? 'does' : 'do'} not vote` : ''})`
      : ', in place of a primary judge (no judge that votes is the probe judge or the NRC lexicon)';
  const parts: string[] = [];
  parts.push(`<h3 id="dose-response">Dose-response (${escapeHtml(judge)})</h3>`);
  parts.push(`<p>Judge <b>${escapeHtml(judge)}</b>${basis}: its mean signed effect (score change steered − unsteered, × −1 on scenarios steered away) per arm and strength, each scenario's runs averaged first, over the ${dr.scenarios} ${escapeHtml(Array.isArray(dr.kinds) ? dr.kinds.join(' and ') : 'all')} scenarios, ${escapeHtml(dr.sampling)} runs (${dr.runs} runs${dr.excluded.length ? `; left out: ${escapeHtml(dr.excluded.map((x) => `${x.runs} runs of ${x.reason}`).join(', '))}` : ''}), with 95% intervals from resampling scenarios.</p>`);
  if (!choice.votes) parts.push(`<p class="note" data-note="judge-does-not-vote"><b>${escapeHtml(judge)} does not vote:</b> ${escapeHtml(choice.reason ?? 'its validation says so')}. The curves are shown for description only.</p>`);
  parts.push(`<figure data-plot="dose-response">${prefixSvgIds(await renderSpecToSvg(spec), 'plot-dose-response')}<figcaption>One line per arm; a flat line at the emotion arm's level means the effect does not grow with the push, a line that rises with strength but also rises for the controls means the push, not the emotion, moves the judge.</figcaption></figure>`);
  parts.push('<table data-table="dose-slopes"><thead><tr><th>arm</th><th class="num">scenarios</th><th class="num">slope of the effect (per unit of strength)</th><th>95% CI</th><th>trend</th><th class="num">Spearman</th><th class="num">emotion arm\'s slope minus this arm\'s</th><th>95% CI</th></tr></thead><tbody>');
  for (const c of curves) {
    const t = c.trend.effect;
    const k = dr.contrasts.find((x) => x.judge === judge && x.control === c.arm);
    const diff = k ? `<td class="num">${sig(k.slope.effect.value)}</td><td>${range(k.slope.effect.ci95)}</td>` : '<td class="num muted">reference</td><td class="muted"></td>';
    parts.push(`<tr data-arm="${escapeHtml(c.arm)}"><td>${escapeHtml(c.arm)}</td><td class="num">${t.scenarios}</td><td class="num">${sig(t.slope)}</td><td>${range(t.ci95)}</td><td>${escapeHtml(t.direction)}</td><td class="num">${isNum(t.spearman) ? t.spearman.toFixed(2) : DASH}</td>${diff}</tr>`);
  }
  parts.push('</tbody></table>');
  parts.push('<p>A slope is the least-squares change of the per-scenario effect per unit of strength; "rising" or "falling" only when its interval excludes 0.</p>');
  return parts.join('\n');
}
