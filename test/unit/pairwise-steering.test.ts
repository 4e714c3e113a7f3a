import { describe, expect, it } from 'vitest';
import type { SteeringRun } from '../../lib/steer/experiment.js';
import { pairwiseEffect, pairwiseEffects, pairwiseRunKey, pairwiseRuns, type PairwiseRunVerdict } from '../../lib/steer/pairwise-steering.js';
import { SCENARIOS } from '../../lib/steer/scenarios.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';
import { steeringEndpoints } from '../../lib/study/steering-endpoints.js';

const v = (scenario: string, arm: string, probability: number, direction: 'toward' | 'away' = 'toward'): PairwiseRunVerdict => ({ scenario, target: 'joy', direction, arm, strength: 0.02, probability, orders: [probability, probability] });

describe('pairwise effects of the LLM judge', () => {
  it('signs the effect by direction and centres it on 0.5', () => {
    expect(pairwiseEffect({ probability: 0.8, direction: 'toward' })).toBeCloseTo(0.3, 12);
    expect(pairwiseEffect({ probability: 0.8, direction: 'away' })).toBeCloseTo(-0.3, 12);
  });

  it('averages draws within a scenario, then contrasts the emotion arm with each control paired by scenario', () => {
    const verdicts = ['a', 'b', 'c', 'd'].flatMap((sc, i) => [v(sc, 'emotion', 0.8 + i * 0.01), v(sc, 'random', 0.5), v(sc, 'random', 0.6), v(sc, 'other-emotion', 0.8 + i * 0.01)]);
    const e = pairwiseEffects(verdicts, { resamples: 500 });
    expect(e.arms.random!.value).toBeCloseTo(0.05, 12); // (0 + 0.1) / 2 per scenario
    expect(e.arms.random!.scenarios).toBe(4);
    const rnd = e.contrasts.find((c) => c.control === 'random')!;
    expect(rnd.difference.ci95[0]).toBeGreaterThan(0.2);
    const other = e.contrasts.find((c) => c.control === 'other-emotion')!;
    expect(other.difference.value).toBeCloseTo(0, 12);
    expect(other.scenarios).toBe(4);
  });

  it('enters the secondary contrasts only when the judge votes', () => {
    const runs: SteeringRun[] = [];
    const base = { target: 'joy', direction: 'toward' as const, sampling: 'greedy', text: 't', baselineText: 'b', judges: { nrc: { success: true, steered: 1, baseline: 0, delta: 1 } }, perplexityRatio: 1, repeatedTrigramRate: 0, distinct2: 1, length: 5, regime: 'surgical' as const, scripts: {}, crossLingual: { flagged: false, reason: '' } };
    const neutral = SCENARIOS.filter((s) => s.kind === 'neutral').slice(0, 3);
    for (const s of neutral) runs.push({ ...base, scenario: s.id, strength: 0.02, arm: 'emotion' });
    const controls: SteeringRun[] = neutral.map((s) => ({ ...base, scenario: s.id, strength: 0.02, arm: 'random', controlSeed: 0 }));
    const saved = { strengths: [0.02], sampling: ['greedy'], runs, controlRuns: controls, judges: { nrc: {} }, effects: { contrasts: [{ judge: 'nrc', control: 'random', group: 'primary', runs: 'all', strength: 0.02, difference: { value: 0.5, ci95: [0.1, 0.9] } }], noiseFloor: [] } } as unknown as SavedSteeringResult;
    expect(pairwiseRuns(saved, { strength: 0.02 }).map((r) => pairwiseRunKey(r))).toEqual(neutral.flatMap((s) => [`${s.id}|emotion|0.02|`, `${s.id}|random|0.02|0`]));
    expect(() => pairwiseRuns(saved, { strength: 0.05 })).toThrow(/no greedy run at strength 0.05/);
    const effects = pairwiseEffects(neutral.flatMap((s) => [v(s.id, 'emotion', 0.9), v(s.id, 'random', 0.5)]), { resamples: 200 });
    const named = (votes: boolean) => steeringEndpoints(saved, { votingJudges: ['nrc'], pairwise: { name: 'llm-judge', votes, effects } }).secondary.map((x) => x.name);
    expect(named(true)).toContain('emotion - random (llm-judge, pairwise)');
    expect(named(false).some((n) => n.includes('pairwise'))).toBe(false);
  });
});
