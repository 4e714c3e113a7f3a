import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_FILES, runMainJob } from '../../lib/protocol/index.js';
import type { EvaluationResult } from '../../lib/evaluate/types.js';
import type { GeometryFile } from '../../lib/evaluate/block-geometry.js';
import { geometryDone } from '../../lib/protocol/geometry-step.js';
import { LexiconJudge } from '../../lib/steer/judges/lexicon.js';
import type { Judge } from '../../lib/steer/judges/judge.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';
import type { SpecificityRunResult } from '../../lib/steer/specificity.js';
import { readRow } from '../../lib/study/aggregate.js';
import { checkClaims } from '../../lib/study/claims.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

describe('the main job under docs/PREREG.md on a synthetic model', () => {
  it('reads every pre-registered read-out, runs the arms of the rules with validated judges, the specificity matrix, and the claims decide', async () => {
    const model = await syntheticModel({ layers: 4, embd: 64, seed: 81 });
    const dir = tempPath('prereg-run');
    const lexicon = new LexiconJudge();
    // A stand-in for the probe judge: scores every emotion, and its validation record says it votes.
    const probe: Judge = { name: 'probe-stub', score: (t, e) => lexicon.score(t, e) };
    let built = 0;
    const result = await runMainJob(model, dir, {
      quick: true, // 4 emotions (2 stories each); the rules' read-outs, arms, judges and specificity all the same
      prereg: {
        params: 1e8,
        storyTokens: 12,
        threads: 1,
        judges: async () => {
          built++;
          return { judges: [{ judge: probe, margin: 0.5 }], validation: [{ judge: 'probe-stub', macroF1: { value: 0.5, ci95: [0.4, 0.6] }, chance: 0.05, votes: true, data: 'stand-in' }] };
        },
      },
      steering: { scenarios: 3, strengths: [0.01, 0.02] },
    });
    expect(result.steps.map((s) => s.step)).toEqual(['comprehension extraction', 'generation extraction', 'evaluation', 'geometry', 'steering experiment', 'specificity', 'report']);
    expect(built).toBe(1); // built once for steering and specificity
    for (const f of ['comprehension', 'comprehension.mean', 'generation', 'generation.mean', 'generation.last', 'generation.punctuation']) expect(existsSync(join(dir, f, 'manifest.json'))).toBe(true);
    expect(existsSync(join(dir, 'generation', 'stories.jsonl'))).toBe(true);
    const comp = JSON.parse(readFileSync(join(dir, 'comprehension', 'manifest.json'), 'utf8')) as { samples: unknown[] };
    expect(comp.samples).toHaveLength(5 * 10); // 10 passages per category (the rules), 4 emotions and neutral (quick)
    const evaluation = JSON.parse(readFileSync(join(dir, RUN_FILES.evaluation), 'utf8')) as EvaluationResult;
    expect(Object.keys(evaluation.methods).sort()).toEqual(['comprehension', 'comprehension.mean', 'generation', 'generation.last', 'generation.mean', 'generation.punctuation']);
    expect(evaluation.decodability?.primary?.a).toBe('generation.mean');
    expect(evaluation.methods['generation.mean']!.bestBlock!.permutations).toBeGreaterThan(0);
    // The geometry step: every evaluated set at every block (what the study's RSA reads).
    const geometry = JSON.parse(readFileSync(join(dir, RUN_FILES.geometry), 'utf8')) as GeometryFile;
    expect(Object.keys(geometry.sets).sort()).toEqual(Object.keys(evaluation.methods).sort());
    expect(geometry.sets['generation.mean']!.rdm).toHaveLength(geometry.sets['generation.mean']!.layers.length);
    expect(geometry.sets['generation.mean']!.rdm[0]).toHaveLength((4 * 3) / 2);
    expect(geometryDone(dir)).toBe(true);
    const steering = JSON.parse(readFileSync(join(dir, RUN_FILES.steering), 'utf8')) as SavedSteeringResult;
    const arms = new Set((steering.controlRuns ?? []).map((r) => r.arm));
    expect([...arms].sort()).toEqual(['other-emotion', 'random', 'shuffled-label']);
    expect(steering.runs.every((r) => r.sampling === 'greedy')).toBe(true); // the sampled arm is gone
    expect(steering.noiseRuns!.length).toBe(3); // a second sampled baseline per scenario
    expect(steering.manipulationCheck!.rows.length).toBeGreaterThan(0);
    expect(steering.logitLensNull!.random).toHaveLength(100);
    expect(steering.judgeValidation![0]!.votes).toBe(true);
    expect(Object.keys(steering.judges)).toContain('probe-stub');
    const spec = JSON.parse(readFileSync(join(dir, RUN_FILES.specificity), 'utf8')) as SpecificityRunResult;
    expect(spec.strength).toBe(0.02); // the primary strength of a model under 1B
    expect(spec.emotions).toHaveLength(4);
    // The row and the claims: every claim is decided by the rules or says why it cannot be.
    const row = await readRow({ id: 'm', source: model }, dir, undefined, {});
    expect(row.decodability?.primary).toBeDefined();
    expect(row.steering!.endpoints!.primaryJudge).toBe('probe-stub');
    const claims = checkClaims([{ ...row, model: { ...row.model!, kind: 'instruct' } }]);
    for (const c of claims) expect(['holds', 'does not hold', 'inconclusive', 'cannot be tested here']).toContain(c.verdict);
    expect(claims.find((c) => c.id === 'causal-steering')!.perModel.m!.verdict).not.toBe('cannot be tested here');
  }, 600_000);
});
