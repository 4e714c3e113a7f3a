// The quality columns of a study's quantization rows (lib/protocol/study.ts, lib/quality/variant.ts)
// on a synthetic model: a requantized variant is compared with its parent file once, kept as
// quality.json in its folder (reruns and --report-only read it), and shown in study.json,
// claims.md and the report, with each model file loaded once (every loadModel of the process is
// counted); the same check of the parent against itself gives KL 0. And `emosteer quality
// --html` (lib/cli/quality.ts) writes the standalone page of the section.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QUALITY_USAGE, runQuality } from '../../lib/cli/quality.js';
import { runStudy } from '../../lib/cli/study.js';
import { loadModel } from '../../lib/index.js';
import { compareQuality, readDefaultCorpus, VARIANT_QUALITY_FILE, VARIANT_QUALITY_OPTIONS, type QualityReport } from '../../lib/quality/index.js';
import { kldDigits } from '../../lib/quality/format.js';
import type { StudyResult } from '../../lib/study/types.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const loads = new Map<string, number>();
// Hoisted above the imports: every module of the process gets the counting loadModel.
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

const quiet = () => {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) } };
};

describe('quality of a study quantization against its parent file', () => {
  const cache = tempPath('quality-study-cache');
  const saved = { cache: process.env.EMOSTEER_CACHE_DIR, threads: process.env.EMOSTEER_THREADS };
  beforeAll(() => {
    process.env.EMOSTEER_CACHE_DIR = cache;
    process.env.EMOSTEER_THREADS = '2';
  });
  afterAll(() => {
    for (const [k, v] of [['EMOSTEER_CACHE_DIR', saved.cache], ['EMOSTEER_THREADS', saved.threads]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('writes quality.json for a q8_0 variant (KL > 0), reuses it, and reports it; the parent against itself gives KL 0', async () => {
    const parent = await syntheticModel({ layers: 2, embd: 64, seed: 81 });
    const out = tempPath('quality-study');
    const args = ['--models', parent, '--out', out, '--quick', '--no-steer', '--methods', 'comprehension', '--quantizations', 'q8_0'];
    const first = quiet();
    loads.clear();
    expect(await runStudy(args, first.io), first.lines.join('\n')).toBe(0);
    const study = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as StudyResult;
    const [rp, rq] = study.rows;
    expect(rq!.variant).toMatchObject({ requantized: 'q8_0', parent: rp!.variant.id });
    const file = join(out, rq!.variant.id, VARIANT_QUALITY_FILE);
    expect(existsSync(join(out, rp!.variant.id, VARIANT_QUALITY_FILE))).toBe(false);
    const report = JSON.parse(readFileSync(file, 'utf8')) as QualityReport;
    expect(report.reference.file.path).toBe(parent);
    expect(report.candidates).toHaveLength(1);
    expect(report.candidates[0]!.quantization).toMatch(/Q8_0/);
    // The parent stays loaded for its quantization's check: each file is loaded once.
    expect(Object.fromEntries(loads)).toEqual({ [parent]: 1, [report.candidates[0]!.file.path]: 1 });
    expect(report.contextSize).toBe(VARIANT_QUALITY_OPTIONS.contextSize);
    expect(report.chunks).toBe(VARIANT_QUALITY_OPTIONS.chunks);
    expect(report.text.source).toMatch(/Alice/);
    const kld = report.candidates[0]!.kld.mean;
    expect(kld.value).toBeGreaterThan(0);
    expect(kld.value).toBeLessThan(0.1); // a q8_0 of float weights stays close
    expect(rq!.seconds.quality).toBeGreaterThan(0);
    // study.json, claims.md and the report show it.
    const q = study.quantization.find((c) => c.method === 'comprehension')!;
    expect(q.quality).toMatchObject({ kldMean: kld, sameTopPercent: report.candidates[0]!.sameTopPercent, perplexityRatio: report.candidates[0]!.perplexityRatio, chunks: report.chunks });
    expect(q.quality!.bitsPerWeight).toBeGreaterThan(8);
    expect(q.quality!.referenceBitsPerWeight).toBeCloseTo(32, 0);
    expect(readFileSync(join(out, 'claims.md'), 'utf8')).toMatch(new RegExp(`\\| ${rq!.variant.id.replace(/[.@]/g, '\\$&')} \\|.*\\| \\d\\.\\d+ \\[\\d\\.\\d+, \\d\\.\\d+\\] \\| \\d+\\.\\d\\d \\[`));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-table="quantization"');
    expect(html).toContain('data-plot="quantization-kld"');
    // A rerun and --report-only read quality.json: nothing is recomputed.
    const before = statSync(file).mtimeMs;
    loads.clear();
    expect(await runStudy(args, quiet().io)).toBe(0);
    expect(await runStudy([...args, '--report-only'], quiet().io)).toBe(0);
    expect(statSync(file).mtimeMs).toBe(before);
    expect(loads.size).toBe(0);
    const again = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8')) as StudyResult;
    expect(again.quantization.find((c) => c.method === 'comprehension')!.quality!.kldMean).toEqual(kld);
    // The same check of the parent against itself.
    const m = await loadModel(parent);
    try {
      const self = await compareQuality(m, [m], { ...VARIANT_QUALITY_OPTIONS, threads: 2 });
      expect(self.candidates[0]!.kld.mean.value).toBe(0);
      expect(self.candidates[0]!.kld.max).toBe(0);
      expect(self.candidates[0]!.sameTopPercent.value).toBe(100);
      expect(self.candidates[0]!.perplexityRatio.value).toBe(1);
    } finally {
      m.dispose();
    }
  }, 600_000);

  it('emosteer quality --html writes a standalone page: one point per candidate, the table, no script', async () => {
    const a = await syntheticModel({ layers: 2, embd: 64, seed: 7 });
    const b = await syntheticModel({ layers: 2, embd: 64, seed: 7, type: 'q8_0' });
    const text = tempPath('quality-text.txt');
    writeFileSync(text, (await readDefaultCorpus()).slice(0, 3000));
    const page = join(tempPath('quality-html'), 'q.html');
    const json = `${page}.json`;
    const c = quiet();
    expect(await runQuality(['--ref', a, '--models', `${b},${a}`, '--text', text, '--ctx', '64', '--threads', '1', '--no-speed', '--resamples', '50', '--json', json, '--html', page], c.io), c.lines.join('\n')).toBe(0);
    const html = readFileSync(page, 'utf8');
    const report = JSON.parse(readFileSync(json, 'utf8')) as QualityReport;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain("default-src 'none'");
    expect(html).not.toContain('<script');
    expect(html).toContain('data-plot="quality-kld"');
    // The q8_0 copy is a point; the reference given again as a candidate (KL 0) is named, not plotted.
    expect(html.match(/aria-roledescription="point"/g)).toHaveLength(1);
    expect(html).toMatch(/Not plotted \(KL 0: identical to the reference\): layers-2_embd-64_seed-7_type-f32\.gguf/);
    expect(html.match(/<tr data-model=/g)).toHaveLength(3);
    const d = Math.max(...report.candidates.map((x) => kldDigits(x.kld.mean.value)));
    const kld = report.candidates[0]!.kld.mean;
    expect(kld.value).toBeGreaterThan(0);
    expect(html).toContain(`${kld.value.toFixed(d)} <small>[${kld.ci95[0].toFixed(d)}, ${kld.ci95[1].toFixed(d)}]</small>`);
    expect(QUALITY_USAGE).toMatch(/--html <file>/);
  }, 120_000);
});
