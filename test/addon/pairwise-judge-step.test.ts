import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairwiseJudgeFolder } from '../../lib/protocol/pairwise-judge-step.js';
import type { SteeringRun } from '../../lib/steer/experiment.js';
import { PAIRWISE_FILE, type PairwiseJudgeRecord } from '../../lib/steer/pairwise-steering.js';
import { SCENARIOS } from '../../lib/steer/scenarios.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

/** A run folder with a planted steering.json and a manifest naming the steered model's architecture. */
function plantedFolder(arch: string): { dir: string; runs: number } {
  const dir = tempPath('pairwise-step');
  mkdirSync(join(dir, 'comprehension'), { recursive: true });
  writeFileSync(join(dir, 'comprehension', 'manifest.json'), JSON.stringify({ model: { sha256: `planted-${arch}`, arch } }));
  const base = { direction: 'toward' as const, sampling: 'greedy', judges: {}, perplexityRatio: 1, repeatedTrigramRate: 0, distinct2: 1, length: 5, regime: 'surgical' as const, scripts: {}, crossLingual: { flagged: false, reason: '' } };
  const scen = SCENARIOS.filter((s) => s.kind === 'neutral').slice(0, 2);
  const runs: SteeringRun[] = scen.flatMap((s) => [0.02, 0.05].map((k) => ({ ...base, scenario: s.id, target: s.target, strength: k, arm: 'emotion' as const, text: `I feel such ${s.target} today.`, baselineText: 'The train leaves at nine.' })));
  const controlRuns: SteeringRun[] = scen.map((s) => ({ ...base, scenario: s.id, target: s.target, strength: 0.02, arm: 'random' as const, controlSeed: 0, text: 'The bus leaves at ten.', baselineText: 'The train leaves at nine.' }));
  writeFileSync(join(dir, 'steering.json'), JSON.stringify({ model: 'planted', strengths: [0.02, 0.05], sampling: ['greedy'], runs, controlRuns, judges: {} }));
  return { dir, runs: scen.length * 2 };
}

describe('the LLM judge step on a run folder (synthetic judge model)', () => {
  it('validates, judges the primary-strength runs of the chosen arms, resumes, and refuses another selection or its own family', async () => {
    const judge = await syntheticModel({ layers: 2, embd: 32, seed: 5 });
    const { dir, runs } = plantedFolder('gemma3');
    const phases = new Set<string>();
    const rec = await pairwiseJudgeFolder(dir, { judgeModel: judge, strength: 0.02, pairsPerEmotion: 1, threads: 1, judgeWhenNotVoting: true, onProgress: (e) => phases.add(e.phase) });
    expect(rec.complete).toBe(true);
    expect(rec.validation.map((v) => v.data)).toEqual(['passages']);
    expect(rec.validation[0]!.n).toBe(20); // one pair per emotion
    expect(rec.votes).toBe(rec.validation[0]!.votes);
    expect(rec.verdicts).toHaveLength(runs); // 0.02 only: emotion + random of 2 scenarios
    for (const x of rec.verdicts) {
      expect(x.strength).toBe(0.02);
      expect(x.probability).toBeGreaterThanOrEqual(0);
      expect(x.probability).toBeLessThanOrEqual(1);
    }
    expect(rec.effects!.contrasts.map((c) => c.control)).toEqual(['random']);
    expect([...phases].sort()).toEqual(['judging', 'validation']);

    // Cut: drop the last verdict and mark incomplete; the rerun judges only that one again.
    const file = join(dir, PAIRWISE_FILE);
    const cut = JSON.parse(readFileSync(file, 'utf8')) as PairwiseJudgeRecord;
    const last = cut.verdicts.pop()!;
    cut.complete = false;
    delete cut.effects;
    writeFileSync(file, JSON.stringify(cut));
    let judged = 0;
    const resumed = await pairwiseJudgeFolder(dir, { judgeModel: judge, strength: 0.02, pairsPerEmotion: 1, threads: 1, judgeWhenNotVoting: true, onProgress: (e) => { if (e.phase === 'judging') judged++; } });
    expect(judged).toBe(1);
    expect(resumed.verdicts.at(-1)!.probability).toBeCloseTo(last.probability, 4);

    await expect(pairwiseJudgeFolder(dir, { judgeModel: judge, strength: 0.05, threads: 1 })).rejects.toMatchObject({ code: 'STATE_MISMATCH' });
    const own = plantedFolder('llama');
    await expect(pairwiseJudgeFolder(own.dir, { judgeModel: judge, strength: 0.02, threads: 1 })).rejects.toThrow(/family/);
  }, 300_000);

  it('does not judge runs when the judge fails validation (the default rule)', async () => {
    const judge = await syntheticModel({ layers: 2, embd: 32, seed: 5 });
    const { dir } = plantedFolder('gemma3');
    const rec = await pairwiseJudgeFolder(dir, { judgeModel: judge, strength: 0.02, pairsPerEmotion: 1, threads: 1 });
    // A random synthetic model cannot tell emotions apart.
    expect(rec.votes).toBe(false);
    expect(rec.verdicts).toHaveLength(0);
    expect(rec.total).toBe(0);
    expect(rec.effects).toBeUndefined();
  }, 300_000);
});
