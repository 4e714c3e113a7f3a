import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { getModelEntry } from '../../lib/models/registry.js';
import { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { readControlVector } from '../../lib/vectors/control-vector-gguf.js';
import { tempPath } from '../helpers/models.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });

describe('the emosteer command line (built dist/)', () => {
  it('ends quietly when the reader of its output goes away (EPIPE)', async () => {
    // `true` exits without reading: the command's first write finds the pipe closed.
    const r = await run('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" dist/cli/main.js models list | true`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('synth -> info -> extract -> export-gguf -> import-gguf', async () => {
    const model = tempPath('cli.gguf');
    const synth = await cli('synth', '--out', model, '--layers', '3', '--embd', '64', '--seed', '5', '--json');
    expect(JSON.parse(synth.stdout)).toMatchObject({ layers: 3, embd: 64 });
    const info = JSON.parse((await cli('info', '--model', model, '--json')).stdout);
    expect(info).toMatchObject({ arch: 'llama', nLayer: 3, nEmbd: 64, hasChatTemplate: true });
    for (const k of ['nVocab', 'nCtxTrain', 'sizeBytes']) expect(typeof info[k]).toBe('number');

    const dir = tempPath('cli-set');
    const ex = await cli('extract', '--model', model, '--method', 'comprehension', '--out', dir, '--emotions', 'happy,sad', '--samples', '2', '--threads', '2', '--json');
    const summary = JSON.parse(ex.stdout);
    expect(summary).toMatchObject({ method: 'comprehension', nEmotions: 2, nLayer: 3 });
    expect(summary.layers).toHaveLength(3);
    expect(summary.layers[0]).toEqual({ layer: 0, meanPairwiseCosine: expect.any(Number) });
    expect(summary.tokensPerSecond).toBeGreaterThan(0);
    expect(existsSync(`${dir}/checkpoint.jsonl`)).toBe(false);
    const set = await EmotionVectorSet.load(dir);
    expect(set.emotions).toEqual(['happy', 'sad']);

    const gguf = tempPath('happy.gguf');
    await cli('export-gguf', dir, '--emotion', 'happy', '--out', gguf, '--scale', '2');
    const cv = await readControlVector(gguf);
    expect([...cv.appliedAt.keys()]).toEqual([1, 2]);
    expect(cv.appliedAt.get(2)).toEqual(set.vector('happy', 2).map((x) => x * 2));

    // evaluate -> steer -> report on the same run folder
    const ev = JSON.parse((await cli('evaluate', dir, '--json', '--resamples', '50')).stdout);
    expect(ev.methods.comprehension.layers[0]).toMatchObject({ layer: 0, chance: 1 / 3 });
    expect(typeof ev.methods.comprehension.bestLayer).toBe('number');
    const st = JSON.parse((await cli('steer', dir, '--scenarios', '1', '--strengths', '2', '--sampling', 'greedy', '--max-tokens', '6', '--json')).stdout);
    expect(st).toMatchObject({ scenarios: 1, regimes: expect.any(Object), crossLingualFlags: expect.any(Array) });
    expect(st.judges['valence-vader']).toMatchObject({ successRate: expect.any(Number), ci95: expect.any(Array) });
    const again = JSON.parse((await cli('steer', dir, '--rescore', '--json')).stdout);
    expect(again.judges).toEqual(st.judges);
    expect(again.regimes).toEqual(st.regimes);
    const html = tempPath('report.html');
    await cli('report', dir, '--out', html);
    const text = await (await import('node:fs/promises')).readFile(html, 'utf8');
    expect(text).toContain('data-plot="regime-map"');
    expect(text).toContain('data-plot="accuracy"');

    const imported = tempPath('imported');
    await cli('import-gguf', gguf, '--out', imported, '--emotion', 'happy');
    const back = await EmotionVectorSet.load(imported);
    expect(back.layers).toEqual([1, 2]);
    expect(back.vector('happy', 2, { unit: false })).toEqual(cv.appliedAt.get(2));
    await Promise.all([dir, imported].map((d) => rm(d, { recursive: true, force: true })));
  });

  it('run --quick does the whole job in one command and resumes by skipping finished steps', async () => {
    const model = tempPath('run.gguf');
    await cli('synth', '--out', model, '--layers', '3', '--embd', '64', '--seed', '8');
    const out = tempPath('run-dir');
    const first = await cli('run', '--model', model, '--out', out, '--quick');
    expect(first.stderr).toContain('[run] 6/6 report');
    for (const f of ['comprehension/manifest.json', 'generation/manifest.json', 'evaluation.json', 'geometry.json', 'steering.json', 'report.html']) expect(existsSync(`${out}/${f}`)).toBe(true);
    const again = await cli('run', '--model', model, '--out', out, '--quick');
    expect(again.stderr).toContain('comprehension extraction: already done, skipped');
    await rm(out, { recursive: true, force: true });
  }, 600_000); // the whole pipeline twice: 120 s was not enough on a loaded 2-core machine, nor 300 s with a study beside it

  it('every --model takes a registry name: info and extract find smollm2-135m-instruct in the cache (a stand-in file, nothing downloaded)', async () => {
    // A synthetic model padded to the registry entry's size, with the sidecar a verified fetch
    // writes: the fetcher takes it as the pinned file after a stat and a sidecar read. pip is
    // kept out of reach (no python on PATH, PIP_NO_INDEX), so nothing could be downloaded.
    const entry = getModelEntry('smollm2-135m-instruct');
    const cache = tempPath('registry-cache');
    const file = join(cache, 'models', entry.file);
    mkdirSync(dirname(file), { recursive: true });
    const model = tempPath('stand-in.gguf');
    await cli('synth', '--out', model, '--layers', '3', '--embd', '64', '--seed', '9');
    copyFileSync(model, file);
    truncateSync(file, entry.size);
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    writeFileSync(`${file}.sha256`, `${entry.sha256}  ${entry.file}\n`);
    const noPython = tempPath('no-python');
    mkdirSync(noPython);
    const env = { ...process.env, EMOSTEER_CACHE_DIR: cache, PATH: noPython, PIP_NO_INDEX: '1' };
    const named = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', env, maxBuffer: 16 << 20 });
    // Before: `info --model <name>` took the name for a file (FILE_NOT_FOUND).
    const info = await named('info', '--model', entry.name, '--json');
    expect(JSON.parse(info.stdout)).toMatchObject({ path: file, nLayer: 3, nEmbd: 64 });
    expect(info.stderr).toContain(`[emosteer] ${entry.name}: cached at ${file}`);
    const dir = tempPath('named-set');
    const ex = await named('extract', '--model', entry.name, '--method', 'comprehension', '--out', dir, '--emotions', 'happy,sad', '--samples', '2', '--json');
    expect(JSON.parse(ex.stdout)).toMatchObject({ method: 'comprehension', nLayer: 3 });
    expect((await EmotionVectorSet.load(dir)).meta.model.path).toBe(file);
    // A missing path is a missing file, whichever command names it; an unknown bare name is UNKNOWN_MODEL.
    await expect(named('doctor', '--model', '/no/such.gguf')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('FILE_NOT_FOUND') });
    await expect(named('evaluate', dir, '--model', 'no-such-model')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('UNKNOWN_MODEL') });
    await Promise.all([cache, dir].map((d) => rm(d, { recursive: true, force: true })));
  });

  it('parses numbers one way: a bad value names its flag and exits with 2', async () => {
    await expect(cli('extract', '--model', 'x.gguf', '--method', 'comprehension', '--out', tempPath('n'), '--batch', '0')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--batch must be an integer >= 1 (got '0')") });
    await expect(cli('steer', tempPath('n'), '--strengths', '0.01,abc')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--strengths must be a comma-separated list of numbers > 0') });
    await expect(cli('serve', '--model', 'x.gguf', '--port', '1.5')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--port must be an integer >= 0 and <= 65535 (got '1.5')") });
    await expect(cli('serve', '--model', 'x.gguf', '--flash-attn', 'yes')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--flash-attn takes auto, on or off (got 'yes')") });
    await expect(cli('steer', tempPath('n'), '--rescore', '--strengths', '0.01')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--rescore re-judges the saved runs: --strengths does not apply') });
  });

  it('exits with 2 and a usage message for bad arguments', async () => {
    await expect(cli('extract', '--method', 'telepathy')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('Usage: emosteer extract') });
    await expect(cli('nonsense')).rejects.toMatchObject({ code: 2 });
    await expect(cli('info', '--model', '/no/such.gguf')).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('FILE_NOT_FOUND') });
  });
});
