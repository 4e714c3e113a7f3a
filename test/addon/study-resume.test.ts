import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMainJob, type MainJobOptions } from '../../lib/protocol/main-job.js';
import { RUN_MANIFEST_FILE, RunManifestFile, type RunManifest } from '../../lib/protocol/run-manifest.js';
import { LexiconJudge } from '../../lib/steer/judges/lexicon.js';
import type { Judge } from '../../lib/steer/judges/judge.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';
import { fileSha256 } from '../../lib/util/file-identity.js';
import { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const maxAbsDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=test@example.invalid', '-c', 'user.name=test', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

/** A repo holding the study's .gitignore (what is committed and what is recomputed). */
function studyRepo(): string {
  const repo = tempPath('study-repo');
  mkdirSync(join(repo, 'results'), { recursive: true });
  copyFileSync(resolve('results/.gitignore'), join(repo, 'results', '.gitignore'));
  git(repo, 'init', '-q');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'empty study');
  return repo;
}

/** The job of the rules on a synthetic model, small (quick, 12-token stories, 2 scenarios). */
function jobOptions(manifest: RunManifestFile, extra: Partial<MainJobOptions> = {}): MainJobOptions {
  const lexicon = new LexiconJudge();
  const probe: Judge = { name: 'probe-stub', score: (t, e) => lexicon.score(t, e) };
  return {
    quick: true,
    manifest,
    prereg: { params: 1e8, storyTokens: 12, threads: 1, judges: async () => ({ judges: [{ judge: probe, margin: 0.5 }], validation: [{ judge: 'probe-stub', macroF1: { value: 0.5, ci95: [0.4, 0.6] }, chance: 0.05, votes: true, data: 'stand-in' }] }) },
    steering: { scenarios: 2, strengths: [0.02] },
    ...extra,
  };
}

describe('a study run with its state in the repo: run, cut, clone, resume, compare (synthetic model)', () => {
  it('resumes from a fresh clone to the same texts, recomputes the activations from the committed stories, and refuses another model file', async () => {
    const modelPath = await syntheticModel({ layers: 4, embd: 64, seed: 91 });
    const sha256 = await fileSha256(modelPath);
    const repo = studyRepo();
    const dir = join(repo, 'results', 'study', 'm');
    const manifest = await RunManifestFile.open(dir, { name: 'm', sha256 });

    // Run, committing as steps finish, and cut the steering experiment part way.
    const cut = new AbortController();
    let steered = 0;
    const committed: string[] = [];
    await expect(runMainJob(modelPath, dir, jobOptions(manifest, {
      signal: cut.signal,
      onProgress: (e) => { if (e.type === 'steering' && ++steered === 3) cut.abort(); },
      afterStep: (step, status) => { if (status === 'done') { git(repo, 'add', '-A'); git(repo, 'commit', '-q', '-m', step); committed.push(step); } },
    }))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(committed).toEqual(['comprehension extraction', 'generation extraction', 'evaluation', 'geometry']);
    // What the step in flight had finished is committed too (the periodic checkpoint commit).
    expect(existsSync(join(dir, 'steering.partial.jsonl'))).toBe(true);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'steering in progress');
    const tracked = git(repo, 'ls-files').split('\n');
    expect(tracked).toContain('results/study/m/generation/stories.jsonl');
    expect(tracked).toContain('results/study/m/geometry.json');
    expect(tracked.some((f) => f.endsWith('.f32'))).toBe(false); // activations are not committed
    const cutManifest = JSON.parse(readFileSync(join(dir, RUN_MANIFEST_FILE), 'utf8')) as RunManifest;
    expect(cutManifest.steps['steering experiment']!.finishedAt).toBeUndefined();
    expect(cutManifest.steps['evaluation']!.finishedAt).toBeDefined();

    // Clone and resume there.
    const clone = tempPath('study-clone');
    execFileSync('git', ['clone', '-q', repo, clone]);
    const cdir = join(clone, 'results', 'study', 'm');
    expect(existsSync(join(cdir, 'generation', 'manifest.json'))).toBe(false);
    const resumed = await runMainJob(modelPath, cdir, jobOptions(await RunManifestFile.open(cdir, { name: 'm', sha256 })));
    const status = Object.fromEntries(resumed.steps.map((s) => [s.step, s.status]));
    expect(status['comprehension extraction']).toBe('done'); // recomputed: the set is not committed
    expect(status['evaluation']).toBe('skipped'); // committed
    expect(status['geometry']).toBe('skipped'); // committed: a clone needs no vector set for it
    expect(status['steering experiment']).toBe('done');
    const m = JSON.parse(readFileSync(join(cdir, RUN_MANIFEST_FILE), 'utf8')) as RunManifest;
    expect(m.steps['generation extraction']!.notes!.some((n) => n.startsWith('recomputed'))).toBe(true);
    expect(m.steps['steering experiment']!.finishedAt).toBeDefined();

    // The cheap recompute: the generation set's activations from the committed stories equal the originals.
    for (const set of ['generation', 'generation.mean', 'comprehension']) {
      const a = await EmotionVectorSet.load(join(dir, set));
      const b = await EmotionVectorSet.load(join(cdir, set));
      for (const layer of a.layers) for (let i = 0; i < a.meta.samples.length; i += 7) expect(maxAbsDifference(a.sampleActivation(i, layer), b.sampleActivation(i, layer))).toBe(0);
    }

    // Compare with a run that was never cut.
    const whole = tempPath('study-whole');
    await runMainJob(modelPath, whole, jobOptions(await RunManifestFile.open(whole, { name: 'm', sha256 })));
    const s1 = JSON.parse(readFileSync(join(cdir, 'steering.json'), 'utf8')) as SavedSteeringResult;
    const s2 = JSON.parse(readFileSync(join(whole, 'steering.json'), 'utf8')) as SavedSteeringResult;
    const texts = (s: SavedSteeringResult) => [...s.runs, ...(s.controlRuns ?? [])].map((r) => `${r.scenario}|${r.arm}|${r.strength}|${r.controlSeed}|${r.text}`).sort();
    expect(texts(s1)).toEqual(texts(s2));
    expect(s1.runs.length).toBeGreaterThan(0);

    // Another model file in the same folder is refused.
    const other = await syntheticModel({ layers: 4, embd: 64, seed: 92 });
    await expect(RunManifestFile.open(cdir, { name: 'm', sha256: await fileSha256(other) })).rejects.toMatchObject({ code: 'STATE_MISMATCH' });
  }, 900_000);

  it('refuses to finish a step started under other rules, and reruns nothing that finished', async () => {
    const dir = tempPath('manifest-rules');
    const a = await RunManifestFile.open(dir, { name: 'm', sha256: 'abc' }, 'prereg-x');
    let ran = 0;
    await a.step('done step', async () => { ran++; });
    await expect(a.step('cut step', async () => { throw new Error('stopped'); })).rejects.toThrow('stopped');
    const b = await RunManifestFile.open(dir, { name: 'm', sha256: 'abc' }, 'prereg-y');
    await b.step('done step', async () => { ran++; });
    expect(ran).toBe(1);
    await expect(b.step('cut step', async () => 1)).rejects.toMatchObject({ code: 'STATE_MISMATCH' });
    // A new step runs under the new rules and records them.
    await b.step('new step', async () => 1);
    expect(b.data.steps['new step']!.rules).toBe('prereg-y');
    expect(b.data.steps['done step']!.rules).toBe('prereg-x');
  });
});
