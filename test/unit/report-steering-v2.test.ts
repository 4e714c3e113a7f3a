// The report's study-v2 steering parts on planted data: the manipulation check (intervals and
// each control's ratio to the emotion arm), the primary judge's dose-response (plot and slopes,
// the judge chosen as the study chooses it, a note when it does not vote) and the specificity
// matrix (heatmap with the diagonal outlined, the permutation p, the row-maximum count). Each is
// absent without its data, and every planted string is escaped.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { doseResponseSpec, primaryDoseJudge, renderDoseResponse } from '../../lib/report/dose-response-section.js';
import { renderManipulationCheck } from '../../lib/report/manipulation-section.js';
import { renderSpecToSvg } from '../../lib/report/plots.js';
import { divergingColor, renderSpecificitySection } from '../../lib/report/specificity-section.js';
import { renderSteeringSection } from '../../lib/report/steering-section.js';
import { doseResponse } from '../../lib/steer/dose-response.js';
import type { SteeringRun } from '../../lib/steer/experiment.js';
import { summarizeManipulation, type ManipulationCheckResult, type ManipulationMeasure } from '../../lib/steer/manipulation-check.js';
import { SCENARIOS } from '../../lib/steer/scenarios.js';
import { specificityFromScores, type SpecificityMatrix, type SpecificityRunResult } from '../../lib/steer/specificity.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';

const STRENGTHS = [0.01, 0.02, 0.05];
const XSS = '<script>alert(1)</script>';
const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

/** The table of the HTML with this data-table name. */
function table(html: string, name: string): string {
  const start = html.indexOf(`<table data-table="${name}"`);
  if (start < 0) return '';
  return html.slice(start, html.indexOf('</table>', start) + 8);
}

/** The cells (inner HTML) of the table row whose attributes contain every given one. */
function rowCells(tableHtml: string, ...attrs: string[]): string[] {
  const row = [...tableHtml.matchAll(/<tr([^>]*)>(.*?)<\/tr>/g)].find((m) => attrs.every((a) => m[1]!.includes(a)));
  return row ? [...row[2]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!) : [];
}

// ------------------------------------------------------------------------------------------------
// Planted steering results
// ------------------------------------------------------------------------------------------------

const PRIMARY_SCENARIOS = SCENARIOS.filter((s) => s.kind === 'neutral' || s.kind === 'toward').slice(0, 12);

function run(sc: (typeof SCENARIOS)[number], arm: SteeringRun['arm'], strength: number, judges: SteeringRun['judges']): SteeringRun {
  return {
    scenario: sc.id, target: sc.target, direction: sc.direction, arm, strength, sampling: 'greedy',
    text: 'steered text', baselineText: 'baseline text', judges, perplexityRatio: 1, repeatedTrigramRate: 0, distinct2: 1, length: 20,
    regime: 'surgical', scripts: {}, crossLingual: { flagged: false, reason: '' },
  };
}

/** A saved result with no runs and none of the v2 parts. */
function bare(): SavedSteeringResult {
  return {
    model: 'planted', method: 'comprehension', strengths: STRENGTHS, sampling: ['greedy'], scenarios: 0, runs: [],
    judges: {}, regimes: { surgical: 0, repetitive: 0, explosive: 0 }, regimeMap: [], crossLingualFlags: [],
  };
}

/**
 * Runs of the emotion arm whose effect is `slope` x strength, and a random arm with none, judged by
 * the given judges (every judge sees the same planted change).
 */
function withRuns(judges: readonly string[], slope = 100, seed = 1): SavedSteeringResult {
  const rand = seededRandom(seed);
  const judged = (delta: number) => Object.fromEntries(judges.map((j) => [j, { success: delta > 1, steered: delta, baseline: 0, delta }]));
  const runs: SteeringRun[] = [];
  const controlRuns: SteeringRun[] = [];
  for (const sc of PRIMARY_SCENARIOS) {
    for (const k of STRENGTHS) {
      runs.push(run(sc, 'emotion', k, judged(slope * k + 0.2 * gauss(rand))));
      controlRuns.push(run(sc, 'random', k, judged(0.2 * gauss(rand))));
    }
  }
  const proportion = { successes: 0, trials: 0, successRate: 0, ci95: [0, 0] as [number, number] };
  return { ...bare(), scenarios: PRIMARY_SCENARIOS.length, runs, controlRuns, judges: Object.fromEntries(judges.map((j) => [j, { perRun: proportion, perScenario: proportion }])) };
}

/** A manipulation check whose random arm pushes `ratio` times the emotion arm's state change and `klRatio` times its KL. */
function manipulation(ratio: number, klRatio: number): ManipulationCheckResult {
  const measures: ManipulationMeasure[] = [];
  for (const [i, scenario] of ['a', 'b', 'c', 'd'].entries()) {
    for (const strength of [0.01, 0.02]) {
      const delta = 1000 * strength * (1 + 0.01 * i);
      const kl = 20 * strength * (1 + 0.01 * i);
      measures.push({ arm: 'emotion', scenario, draw: 0, strength, block: 29, deltaNorm: delta, relativeDeltaNorm: delta / 1000, kl });
      measures.push({ arm: 'random', scenario, draw: 0, strength, block: 29, deltaNorm: ratio * delta, relativeDeltaNorm: (ratio * delta) / 1000, kl: klRatio * kl });
    }
  }
  return { texts: ['a forecast', 'a recipe'], blocks: [29], rows: summarizeManipulation(measures, { resamples: 200 }), measures };
}

// ------------------------------------------------------------------------------------------------
// Manipulation check
// ------------------------------------------------------------------------------------------------

describe('manipulation check section', () => {
  it('shows every arm and strength with its mean, interval and the control\'s ratio to the emotion arm', () => {
    const check = manipulation(0.8, 0.6);
    const html = renderManipulationCheck(check);
    const t = table(html, 'manipulation-check');
    expect(t).not.toBe('');
    // 2 arms x 2 strengths.
    expect([...t.matchAll(/<tr data-arm=/g)]).toHaveLength(4);
    const random = rowCells(t, 'data-arm="random"', 'data-strength="0.02"');
    expect(random.slice(-2)).toEqual(['0.80', '0.60']);
    const emotion = rowCells(t, 'data-arm="emotion"', 'data-strength="0.02"');
    const e = check.rows.find((r) => r.arm === 'emotion' && r.strength === 0.02)!;
    // The emotion arm's mean change (about 20.3) and its interval, three significant digits.
    expect(emotion[3]).toBe(e.deltaNorm.mean.toPrecision(3));
    expect(emotion[4]).toBe(`${e.deltaNorm.ci95[0].toPrecision(3)} to ${e.deltaNorm.ci95[1].toPrecision(3)}`);
    expect(emotion[6]).toBe(e.kl.mean.toPrecision(3));
    expect(emotion.slice(-2).every((c) => c.includes('reference'))).toBe(true);
    expect(html).toContain('block 29');
    expect(html).toMatch(/A ratio is the control arm's mean over the emotion arm's at the same strength/);
  });

  it('orders rows by strength with the emotion arm first, and computes a missing ratio from the emotion arm', () => {
    const check = manipulation(0.5, 0.25);
    // Controls first in the file, ratios dropped (a file written before they were saved).
    check.rows = [...check.rows.filter((r) => r.arm !== 'emotion').map(({ ratioToEmotion: _, ...r }) => r), ...check.rows.filter((r) => r.arm === 'emotion')];
    const t = table(renderManipulationCheck(check), 'manipulation-check');
    const order = [...t.matchAll(/<tr data-arm="([^"]+)" data-strength="([^"]+)"/g)].map((m) => `${m[1]}@${m[2]}`);
    expect(order).toEqual(['emotion@0.01', 'random@0.01', 'emotion@0.02', 'random@0.02']);
    expect(rowCells(t, 'data-arm="random"', 'data-strength="0.01"').slice(-2)).toEqual(['0.50', '0.25']);
  });

  it('is absent without a check, and escapes what it prints', () => {
    expect(renderManipulationCheck(undefined)).toBe('');
    expect(renderManipulationCheck({ texts: [], blocks: [], rows: [], measures: [] })).toBe('');
    const check = manipulation(0.8, 0.6);
    for (const r of check.rows) if (r.arm === 'random') (r as { arm: string }).arm = XSS;
    const html = renderManipulationCheck(check);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

// ------------------------------------------------------------------------------------------------
// Dose-response
// ------------------------------------------------------------------------------------------------

describe('dose-response section', () => {
  it('chooses the judge as the study does: the preferred judge that votes', () => {
    const data = withRuns(['valence-vader', 'probe-gemma3', 'nrc-lexicon']);
    expect(primaryDoseJudge(data)?.judge).toBe('probe-gemma3');
    const validation = (judge: string, votes: boolean) => ({ judge, macroF1: { value: 0.3, ci95: [0.2, 0.4] as [number, number] }, chance: 0.1, votes, data: `${judge} passages` });
    data.judgeValidation = [validation('probe-gemma3', false), validation('nrc-lexicon', true), validation('nrc-lexicon', true)];
    expect(primaryDoseJudge(data)).toEqual({ judge: 'nrc-lexicon', votes: true });
    // No preferred judge votes: the probe judge by preference, marked as not voting.
    data.judgeValidation = [validation('probe-gemma3', false), validation('nrc-lexicon', false)];
    const choice = primaryDoseJudge(data)!;
    expect(choice.judge).toBe('probe-gemma3');
    expect(choice.votes).toBe(false);
    // No preferred judge at all: the first judge.
    expect(primaryDoseJudge(withRuns(['valence-vader', 'lexicon']))?.judge).toBe('valence-vader');
    expect(primaryDoseJudge(bare())).toBeUndefined();
  });

  it('plots one line per arm and tabulates the slopes with their intervals, as doseResponse computes them', async () => {
    const data = withRuns(['valence-vader', 'nrc-lexicon']);
    const html = await renderDoseResponse(data, { resamples: 200 });
    expect(html).toContain('<h3 id="dose-response">Dose-response (nrc-lexicon)</h3>');
    expect(html).toMatch(/<figure data-plot="dose-response"><svg/);
    expect(html).not.toContain('data-note="judge-does-not-vote"');
    const dr = doseResponse([...data.runs, ...data.controlRuns!], { resamples: 200 });
    const emotion = dr.curves.find((c) => c.judge === 'nrc-lexicon' && c.arm === 'emotion')!;
    const t = table(html, 'dose-slopes');
    const cells = rowCells(t, 'data-arm="emotion"');
    expect(cells[0]).toBe('emotion');
    expect(cells[1]).toBe(String(PRIMARY_SCENARIOS.length));
    expect(cells[2]).toBe(emotion.trend.effect.slope.toPrecision(3));
    expect(cells[3]).toBe(`${emotion.trend.effect.ci95[0].toPrecision(3)} to ${emotion.trend.effect.ci95[1].toPrecision(3)}`);
    // The planted slope is 100 per unit of strength, and the trend test sees it.
    expect(Number(cells[2])).toBeCloseTo(100, -1);
    expect(cells[4]).toBe('rising');
    const random = rowCells(t, 'data-arm="random"');
    expect(random[4]).toBe('inconclusive');
    const contrast = dr.contrasts.find((c) => c.judge === 'nrc-lexicon' && c.control === 'random')!;
    expect(random[6]).toBe(contrast.slope.effect.value.toPrecision(3));
  });

  it('renders its plot without a Vega warning, the emotion arm first', async () => {
    const data = withRuns(['nrc-lexicon']);
    const dr = doseResponse([...data.runs, ...data.controlRuns!], { resamples: 100 });
    const spec = doseResponseSpec(dr, 'nrc-lexicon')!;
    const warnings: string[] = [];
    const svg = await renderSpecToSvg(spec, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(svg).toContain('emotion');
    expect(svg).toContain('random');
    const layer = (spec as unknown as { layer: { encoding?: { color?: { scale: { domain: string[] } } } }[] }).layer;
    expect(layer[2]!.encoding!.color!.scale.domain).toEqual(['emotion', 'random']);
    expect(doseResponseSpec(dr, 'another judge')).toBeUndefined();
  });

  it('says beside the plot when the judge does not vote', async () => {
    const data = withRuns(['probe-gemma3']);
    data.judgeValidation = [{ judge: 'probe-gemma3', macroF1: { value: 0.02, ci95: [0.01, 0.04] }, chance: 0.012, votes: false, data: '210 stories' }];
    const html = await renderDoseResponse(data, { resamples: 100 });
    expect(html).toContain('data-note="judge-does-not-vote"');
    expect(html).toContain('probe-gemma3 does not vote:');
    expect(html).toContain('210 stories');
    const plotAt = html.indexOf('data-plot="dose-response"');
    expect(plotAt).toBeGreaterThan(html.indexOf('judge-does-not-vote'));
  });

  it('names the preferred judge it passed over because that judge does not vote', async () => {
    const data = withRuns(['probe-gemma3', 'nrc-lexicon']);
    const validation = (judge: string, votes: boolean) => ({ judge, macroF1: { value: 0.3, ci95: [0.2, 0.4] as [number, number] }, chance: 0.1, votes, data: 'passages' });
    data.judgeValidation = [validation('probe-gemma3', false), validation('nrc-lexicon', true)];
    const html = await renderDoseResponse(data, { resamples: 50 });
    expect(html).toContain('Dose-response (nrc-lexicon)');
    expect(html).toContain('among the judges that vote; probe-gemma3 does not vote)');
    expect(html).not.toContain('data-note="judge-does-not-vote"');
  });

  it('is absent without judged runs of the primary scenarios, and escapes the judge name', async () => {
    expect(await renderDoseResponse(bare())).toBe('');
    // Runs only on scenarios of other kinds: nothing to plot.
    const other = withRuns(['nrc-lexicon']);
    const loaded = SCENARIOS.find((s) => s.kind === 'loaded')!;
    for (const r of [...other.runs, ...other.controlRuns!]) r.scenario = loaded.id;
    expect(await renderDoseResponse(other, { resamples: 50 })).toBe('');
    const html = await renderDoseResponse(withRuns([XSS]), { resamples: 50 });
    expect(html).toContain('Dose-response (&lt;script&gt;alert(1)&lt;/script&gt;)');
    expect(html).not.toContain(XSS);
  });
});

// ------------------------------------------------------------------------------------------------
// In the steering section
// ------------------------------------------------------------------------------------------------

describe('steering section with the v2 parts', () => {
  it('includes the manipulation check and the dose-response when the result has them', async () => {
    const data = { ...withRuns(['nrc-lexicon']), manipulationCheck: manipulation(0.8, 0.6) };
    const { html } = await renderSteeringSection(data);
    expect(table(html, 'manipulation-check')).not.toBe('');
    expect(rowCells(table(html, 'manipulation-check'), 'data-arm="random"', 'data-strength="0.01"').slice(-2)).toEqual(['0.80', '0.60']);
    expect(html).toContain('data-plot="dose-response"');
    expect(table(html, 'dose-slopes')).not.toBe('');
    // The new parts sit before the regime map.
    expect(html.indexOf('data-table="manipulation-check"')).toBeLessThan(html.indexOf('data-plot="regime-map"'));
  }, 30_000);

  it('leaves them out when the result lacks them', async () => {
    const { html } = await renderSteeringSection(bare());
    expect(html).not.toContain('manipulation-check');
    expect(html).not.toContain('dose-response');
    expect(html).toContain('data-plot="regime-map"');
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
// Specificity matrix
// ------------------------------------------------------------------------------------------------

const EMOTIONS = ['happy', 'sad', 'calm', 'afraid', 'angry', 'proud', 'guilty', 'nervous'];
const SPEC_SCENARIOS = ['s0', 's1', 's2', 's3', 's4', 's5'];

/** A matrix of one judge: planted cell(r, c) plus noise on every scenario. */
function matrix(cell: (r: number, c: number) => number, emotions = EMOTIONS, seed = 3): SpecificityMatrix {
  const rand = seededRandom(seed);
  return specificityFromScores(
    { steered: emotions, judged: emotions, scenarios: SPEC_SCENARIOS, deltas: emotions.map((_, r) => SPEC_SCENARIOS.map(() => emotions.map((_, c) => cell(r, c) + 0.1 * gauss(rand)))) },
    { permutations: 500, resamples: 100 },
  );
}

function specificity(judges: Record<string, SpecificityMatrix>, emotions = EMOTIONS): SpecificityRunResult {
  return {
    model: 'planted', method: 'comprehension', strength: 0.02, maxTokens: 48, layers: [1, 28], emotions, scenarios: SPEC_SCENARIOS, texts: [], judges,
    timing: { wallSeconds: 1, generationSeconds: 1, judgingSeconds: 0, continuations: 0, restored: 0, batch: 8, threads: 1 },
  };
}

describe('specificity section', () => {
  it('outlines the diagonal, prints the permutation p and the row-maximum count', () => {
    const m = matrix((r, c) => (r === c ? 1 : 0));
    const { title, html } = renderSpecificitySection(specificity({ 'nrc-lexicon': m }));
    expect(title).toBe('Specificity matrix');
    // Both heatmaps (raw and z) outline each emotion's diagonal cell once.
    for (const e of EMOTIONS) expect([...html.matchAll(new RegExp(`data-diagonal="${e}"`, 'g'))]).toHaveLength(2);
    expect(html).toContain('data-plot="specificity-nrc-lexicon"');
    expect(html).toContain('data-plot="specificity-z-nrc-lexicon"');
    // No permutation beats a planted diagonal: p = 1/501.
    expect(m.permutation.p).toBeCloseTo(1 / 501, 10);
    expect(html).toContain(`Permutation p = <span data-value="p">0.002</span>`);
    expect(html).toContain('the smallest p they can give is 1/501');
    expect(m.rowMaxCount).toBe(8);
    expect(html).toContain('<span data-value="row-max">8</span> of 8</b> rows');
    // The diagonal cell is coloured red (score rose), an off-diagonal one near white.
    const cellFill = (row: string, col: string) => html.match(new RegExp(`fill="(#[0-9a-f]{6})"[^>]*><title>steered ${row}, judged ${col}: mean change`))?.[1];
    const limit = Math.max(...m.matrix.flat().map(Math.abs));
    expect(cellFill('sad', 'sad')).toBe(divergingColor(m.matrix[1]![1]!, limit));
    const diag = cellFill('sad', 'sad')!;
    expect(parseInt(diag.slice(1, 3), 16) - parseInt(diag.slice(5, 7), 16)).toBeGreaterThan(0x60); // a red: red channel well above blue
    expect(cellFill('sad', 'happy')).toBe(divergingColor(m.matrix[1]![0]!, limit));
  });

  it('prints a larger p and fewer row maxima for a matrix without specificity', () => {
    const m = matrix(() => 0, EMOTIONS, 9);
    const { html } = renderSpecificitySection(specificity({ probe: m }));
    expect(m.permutation.p).toBeGreaterThan(0.01);
    expect(html).toContain(`Permutation p = <span data-value="p">${m.permutation.p.toFixed(3)}</span>`);
    expect(m.rowMaxCount).toBeLessThan(8);
    expect(html).toContain(`<span data-value="row-max">${m.rowMaxCount}</span> of 8</b>`);
    expect(html).not.toContain('smallest p they can give');
  });

  it('colours on a diverging scale around 0, grey where a cell is missing', () => {
    expect(divergingColor(0, 2)).toBe('#f7f7f7');
    expect(divergingColor(2, 2)).toBe('#b2182b');
    expect(divergingColor(-2, 2)).toBe('#2166ac');
    expect(divergingColor(5, 2)).toBe('#b2182b');
    expect(divergingColor(null, 2)).toBe('#d9d9d9');
    expect(divergingColor(Number.NaN, 2)).toBe('#d9d9d9');
    // Halfway to either end: the middle stops of the red and of the blue side.
    expect(divergingColor(1, 2)).toBe('#f4a582');
    expect(divergingColor(-1, 2)).toBe('#92c5de');
  });

  it('survives a JSON round trip with a column the judge cannot score, and lists what it left out', () => {
    const m = matrix((r, c) => (c === 2 ? Number.NaN : r === c ? 1 : 0));
    const saved = JSON.parse(JSON.stringify(specificity({ 'nrc-lexicon': m }))) as SpecificityRunResult;
    expect(saved.judges['nrc-lexicon']!.matrix[0]![2]).toBeNull();
    const { html } = renderSpecificitySection(saved);
    expect(html).toContain('Left out of the test: calm (');
    expect(html).toMatch(/fill="#d9d9d9"[^>]*><title>steered happy, judged calm: mean change –/);
    expect(html).toContain(`of ${m.diagonal.length}</b> rows`);
  });

  it('says when a judge is not testable, puts the preferred judges first, and escapes names', () => {
    const two = matrix((r, c) => (r === c ? 1 : 0), ['happy', 'sad']);
    expect(two.testable).toBe(false);
    const evil = matrix((r, c) => (r === c ? 1 : 0), ['happy', 'sad', XSS]);
    const { html } = renderSpecificitySection(specificity({ [XSS]: evil, 'valence-vader': two, 'probe-gemma3': matrix((r, c) => (r === c ? 1 : 0)) }));
    expect(html).toContain('data-note="not-testable"');
    expect(html.indexOf('<h3>probe-gemma3</h3>')).toBeLessThan(html.indexOf('<h3>&lt;script&gt;'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('data-diagonal="&lt;script&gt;alert(1)&lt;/script&gt;"');
    // The not-testable judge prints no p.
    const vader = html.slice(html.indexOf('<h3>valence-vader</h3>'));
    expect(vader.slice(0, vader.indexOf('<figure'))).not.toContain('Permutation p');
  });
});
