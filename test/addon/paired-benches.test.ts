// The paired-rounds benchmarks (bench/parts/paired-rounds.mjs): bench/context-speed.mjs and
// bench/steering-tg-cost.mjs run end to end on a tiny synthetic model and write the JSON their
// docs describe (every arm's tokens/s, each ratio with its baseline, interval and per-round
// values). Speed itself is measured by the benchmarks, never asserted here.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { syntheticModel, tempPath } from '../helpers/models.js';

const run = promisify(execFile);

interface PairedResult {
  rounds: number;
  tokensPerSecond: Record<string, number>;
  ratios: Record<string, { baseline: string; median: number; ci95: [number, number]; perRound: number[] }>;
}

const checkRatios = (r: PairedResult, baselines: Record<string, string>) => {
  for (const v of Object.values(r.tokensPerSecond)) expect(v).toBeGreaterThan(0);
  expect(Object.fromEntries(Object.entries(r.ratios).map(([k, v]) => [k, v.baseline]))).toEqual(baselines);
  for (const v of Object.values(r.ratios)) {
    expect(v.perRound).toHaveLength(r.rounds);
    expect(v.ci95[0]).toBeLessThanOrEqual(v.median);
    expect(v.ci95[1]).toBeGreaterThanOrEqual(v.median);
  }
};

describe('paired-rounds benchmarks', () => {
  it('context-speed: five arms, ratios to plain and hookThreadPool to hook', async () => {
    const model = await syntheticModel({ layers: 3, embd: 64, seed: 8 });
    const json = tempPath('context-speed.json');
    const { stdout } = await run(process.execPath, ['bench/context-speed.mjs', '--model', model, '--rounds', '2', '--tg', '4', '--sequences', '2', '--json', json], { encoding: 'utf8' });
    expect(stdout).toContain('| flashAttention |');
    const r = JSON.parse(readFileSync(json, 'utf8')) as PairedResult & { bench: string; sequences: number };
    expect(r.bench).toBe('context-speed');
    expect(r.sequences).toBe(2);
    expect(Object.keys(r.tokensPerSecond)).toEqual(['plain', 'flashAttention', 'threadPool', 'hook', 'hookThreadPool']);
    checkRatios(r, { flashAttention: 'plain', threadPool: 'plain', hook: 'plain', hookThreadPool: 'hook' });
  }, 300_000);

  it('steering-tg-cost: four arms, ratios to plain', async () => {
    const model = await syntheticModel({ layers: 3, embd: 64, seed: 9 });
    const json = tempPath('steering-tg-cost.json');
    await run(process.execPath, ['bench/steering-tg-cost.mjs', '--model', model, '--rounds', '2', '--tg', '4', '--json', json], { encoding: 'utf8' });
    const r = JSON.parse(readFileSync(json, 'utf8')) as PairedResult & { bench: string };
    expect(r.bench).toBe('steering-tg-cost');
    expect(Object.keys(r.tokensPerSecond)).toEqual(['plain', 'controlVec', 'perCall', 'perCallHook']);
    checkRatios(r, { controlVec: 'plain', perCall: 'plain', perCallHook: 'plain' });
  }, 300_000);
});
