// emosteer/protocol from code: the main job and the study as library calls over synthetic
// models. Every loadModel of the process is counted (the module is wrapped), so "each model
// file is loaded once" is measured, not read from logs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runStudy as runStudyCommand } from '../../lib/cli/study.js';
import { RUN_FILES, runMainJob, runStudy } from '../../lib/protocol/index.js';
import { loadModel } from '../../lib/runtime/model.js';
import type { StudyResult } from '../../lib/study/types.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const loads = new Map<string, number>();
// vi.mock is hoisted above the imports: every module of the process (the protocol, evaluate,
// the CLI) gets the counting loadModel.
vi.mock('../../lib/runtime/model.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/runtime/model.js')>();
  return {
    ...original,
    loadModel: async (...args: Parameters<typeof original.loadModel>) => {
      const { resolve } = await import('node:path');
      const key = resolve(args[0]);
      loads.set(key, (loads.get(key) ?? 0) + 1);
      return original.loadModel(...args);
    },
  };
});

/** Every file under `dir`, relative, sorted (partial files of atomic writes excluded). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('emosteer/protocol', () => {
  const cache = tempPath('protocol-cache');
  const saved = process.env.EMOSTEER_CACHE_DIR;
  beforeAll(() => { process.env.EMOSTEER_CACHE_DIR = cache; });
  afterAll(() => { if (saved === undefined) delete process.env.EMOSTEER_CACHE_DIR; else process.env.EMOSTEER_CACHE_DIR = saved; });
  beforeEach(() => loads.clear());

  it('runStudy from code loads each model once (the judge too), and writes what `emosteer study` writes', async () => {
    const a = await syntheticModel({ layers: 3, embd: 64, seed: 81 });
    const b = await syntheticModel({ layers: 3, embd: 64, seed: 82 });
    const options = { models: [a, b], quick: true, steering: { scenarios: 2 }, llmJudge: b };

    const fromCode = tempPath('protocol-study');
    const events: string[] = [];
    const result = await runStudy({ ...options, out: fromCode, onProgress: (e) => { if (e.type === 'model' && e.event.type === 'step' && e.event.status === 'done') events.push(`${e.model} ${e.phase} ${e.event.step}`); } });
    // b is the steered model of its own main job and a's LLM judge: one load for both.
    expect(Object.fromEntries(loads)).toEqual({ [a]: 1, [b]: 1 });
    expect(result.failed).toEqual([]);
    expect(result.report).toBe(join(fromCode, 'report.html'));
    const ids = result.study.rows.map((r) => r.variant.id);
    expect(events).toEqual([
      ...['comprehension extraction', 'generation extraction', 'evaluation', 'geometry', 'steering experiment', 'report'].map((s) => `${ids[0]} protocol ${s}`),
      ...['comprehension extraction', 'generation extraction', 'evaluation', 'geometry', 'steering experiment', 'report'].map((s) => `${ids[1]} protocol ${s}`),
      `${ids[0]} judge LLM judge`,
      `${ids[0]} judge report`,
    ]);
    expect(result.study.rows[0]!.steering!.llmJudge).toBe(basename(b));
    expect(Object.keys(result.study.rows[0]!.steering!.judges)).toContain('llm');
    expect(result.study.rows[1]!.steering!.llmJudge).toBeUndefined();

    // The same study through the command line: the same files, the same figures, the same loads.
    loads.clear();
    const fromCli = tempPath('protocol-study-cli');
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await runStudyCommand(['--models', `${a},${b}`, '--out', fromCli, '--quick', '--scenarios', '2', '--llm-judge', b], io)).toBe(0);
    expect(Object.fromEntries(loads)).toEqual({ [a]: 1, [b]: 1 });
    expect(tree(fromCli)).toEqual(tree(fromCode));
    const cliStudy = JSON.parse(readFileSync(join(fromCli, 'study.json'), 'utf8')) as StudyResult;
    const codeStudy = JSON.parse(readFileSync(join(fromCode, 'study.json'), 'utf8')) as StudyResult;
    expect(cliStudy.options).toEqual(codeStudy.options);
    expect(cliStudy.rows.map((r) => [r.variant, r.methods, r.steering])).toEqual(codeStudy.rows.map((r) => [r.variant, r.methods, r.steering]));
    expect(cliStudy.claims).toEqual(codeStudy.claims);
    for (const id of ids) {
      expect(readFileSync(join(fromCli, id, RUN_FILES.steering), 'utf8')).toEqual(readFileSync(join(fromCode, id, RUN_FILES.steering), 'utf8'));
    }

    // A rerun finds every step done: nothing is loaded at all.
    loads.clear();
    const again = await runStudy({ ...options, out: fromCode });
    expect(loads.size).toBe(0);
    expect(again.study.rows.map((r) => r.methods)).toEqual(result.study.rows.map((r) => r.methods));
  }, 600_000);

  it('runMainJob on a loaded model never loads it again and never disposes it; on a finished folder a path loads nothing', async () => {
    const path = await syntheticModel({ layers: 3, embd: 64, seed: 83 });
    const model = await loadModel(path);
    const dir = tempPath('protocol-run');
    const steps: string[] = [];
    const job = await runMainJob(model, dir, {
      quick: true,
      methods: ['comprehension'],
      steering: { scenarios: 1, strengths: [0.05] },
      onProgress: (e) => { if (e.type === 'step') steps.push(`${e.index}/${e.total} ${e.step} ${e.status}`); },
    });
    expect(loads.get(path)).toBe(1); // the test's own load
    expect(model.disposed).toBe(false);
    expect(job.report).toBe(join(dir, 'report.html'));
    expect(job.steps.map((s) => `${s.step} ${s.status}`)).toEqual(['comprehension extraction done', 'evaluation done', 'geometry done', 'steering experiment done', 'report done']);
    expect(steps).toEqual(['1/5 comprehension extraction start', '1/5 comprehension extraction done', '2/5 evaluation start', '2/5 evaluation done', '3/5 geometry start', '3/5 geometry done', '4/5 steering experiment start', '4/5 steering experiment done', '5/5 report start', '5/5 report done']);
    const steering = JSON.parse(readFileSync(join(dir, 'steering.json'), 'utf8')) as { scenarios: number; strengths: number[]; sampling: string[] };
    expect(steering).toMatchObject({ scenarios: 1, strengths: [0.05], sampling: ['greedy'] });
    model.dispose();

    loads.clear();
    const evaluated = statSync(join(dir, 'evaluation.json')).mtimeMs;
    const again = await runMainJob(path, dir, { quick: true, methods: ['comprehension'] });
    expect(loads.size).toBe(0);
    expect(again.steps.map((s) => s.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'done']);
    expect(statSync(join(dir, 'evaluation.json')).mtimeMs).toBe(evaluated);
  }, 300_000);

  it('rejects bad options before running anything', async () => {
    await expect(runStudy({ models: ['no-such-model'], out: tempPath('never') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runStudy({ models: [await syntheticModel()], out: tempPath('never'), quantizations: ['q9_z'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runMainJob(await syntheticModel(), tempPath('never'), { methods: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(loads.size).toBe(0);
  });
});
