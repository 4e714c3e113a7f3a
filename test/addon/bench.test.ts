// `emosteer bench` / `npm run bench` (bench/run.mjs): a real measuring run on a tiny synthetic
// model checks the JSON the issue fixes (keys, units, ratios), and --from-json prints the table.
// Speed itself is measured by the benchmarks, never asserted here.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BENCH_USAGE, runBench } from '../../lib/cli/bench.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });

describe('emosteer bench', () => {
  it('prints its usage with --help', async () => {
    const out: string[] = [];
    const code = await runBench(['--help'], { out: (s) => out.push(s), err: (s) => out.push(s) });
    expect(code).toBe(0);
    expect(out.join('\n')).toBe(BENCH_USAGE);
    expect(BENCH_USAGE).toContain('--gpu-layers');
  });

  it('measures a model and reports the JSON keys, ratios and targets; --from-json prints the table', async () => {
    const model = await syntheticModel({ layers: 3, embd: 64, seed: 21 });
    const json = tempPath('bench.json');
    const { stdout } = await cli(
      'bench', '--model', model, '--threads', '2', '--pp', '16', '--tg', '8', '--reps', '1', '--rounds', '1',
      '--sequences', '1,2,8', '--batched-reps', '1', '--no-extraction', '--no-bandwidth', '--no-llama-bench',
      '--json', '--out', json,
    );
    const r = JSON.parse(stdout);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(r);
    expect(r.model).toMatch(/llama/);
    expect(r.threads).toBe(2);
    for (const v of [r.pp.plain, r.pp.capture, r.tg.plain, r.tg.steered, r.tg.meter]) expect(v).toBeGreaterThan(0);
    expect(r.llamaBench).toBeNull();
    expect(r.batched.map((b: { sequences: number }) => b.sequences)).toEqual([1, 2, 8]);
    for (const b of r.batched) expect(b.tokensPerSecond).toBeGreaterThan(0);
    expect(r.ratios.captureOverPlainPp).toBeCloseTo(r.pp.capture / r.pp.plain, 10);
    expect(r.ratios.steeredOverPlainTg).toBeCloseTo(r.tg.steered / r.tg.plain, 10);
    expect(r.ratios.batched8OverSingle).toBeCloseTo(r.batched[2].tokensPerSecond / r.batched[0].tokensPerSecond, 10);
    expect(r.ratios.plainOverLlamaBenchPp).toBeNull();
    expect(r.failures).toEqual([]);
    const byName = Object.fromEntries(r.targets.map((t: { name: string }) => [t.name, t]));
    expect(byName['capture/plain pp'].status).toBe(r.ratios.captureOverPlainPp >= 0.95 ? 'met' : 'missed');
    expect(byName['emosteer plain / llama-bench pp'].status).toBe('not measured');
    expect(r.samples.core.pp_plain).toHaveLength(1);

    // --parts runs only the parts named; the others are empty, not errors
    const only = JSON.parse((await cli('bench', '--model', model, '--threads', '2', '--pp', '16', '--tg', '4', '--reps', '1', '--rounds', '1', '--parts', 'core', '--json')).stdout);
    expect(only.pp.plain).toBeGreaterThan(0);
    expect(only.batched).toEqual([]);
    expect(only.extraction).toEqual({ comprehension: null, generation: null });
    expect(only.failures).toEqual([]);
    expect(only.targets.find((t: { name: string }) => t.name === 'emosteer plain / llama-bench tg').why).toBe('not in --parts core');

    // the same numbers as a table, without measuring again
    r.ratios.captureOverPlainPp = 0.5;
    r.targets[0] = { ...r.targets[0], value: 0.5, status: 'missed' };
    writeFileSync(json, JSON.stringify(r));
    const table = (await cli('bench', '--from-json', json)).stdout;
    expect(table).toContain(`pp plain`);
    expect(table).toContain('0.500 x plain');
    expect(table).toMatch(/MISSED\s+capture\/plain pp\s+0\.500 \(>= 0\.95\)/);
    expect(table).toMatch(/-\s+emosteer plain \/ llama-bench pp/);
  }, 240_000);
});
