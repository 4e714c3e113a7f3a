// The quality section of a report (lib/report/quality-section.ts) and the quality columns of a
// study's quantization rows (lib/report/study-report.ts, lib/study/claims-markdown.ts) on planted
// data: one plotted point per candidate with a positive KL divergence, the table with every
// model and its figures, every planted label escaped, no plot without a candidate to place, and
// the headline figures a study reads from a variant's quality.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CandidateQuality, ModelQuality, QualityReport } from '../../lib/quality/compare.js';
import { qualityHeadline, readVariantQuality, VARIANT_QUALITY_FILE, VARIANT_QUALITY_OPTIONS } from '../../lib/quality/variant.js';
import { qualityPlotSpec, renderQualitySection } from '../../lib/report/quality-section.js';
import { renderSpecToSvg } from '../../lib/report/plots.js';
import { renderStudyReport } from '../../lib/report/study-report.js';
import { claimsMarkdown } from '../../lib/study/claims-markdown.js';
import type { QuantizationCurve, StudyResult } from '../../lib/study/types.js';

const XSS = '<script>alert(1)</script>';
const est = (value: number, lo: number, hi: number) => ({ value, ci95: [lo, hi] as [number, number] });

function model(label: string, bitsPerWeight: number, ppl: number): ModelQuality {
  return {
    label,
    quantization: label.includes('q8') ? 'Q8_0' : 'Q4_0',
    file: { path: `/m/${label}`, fileBytes: 250 * 1024 * 1024, tensorBytes: 1, parameters: 1, bitsPerWeight, bytesByType: {} },
    perplexity: est(ppl, ppl * 0.9, ppl * 1.1),
  };
}

function candidate(label: string, bitsPerWeight: number, kld: number, extra: Partial<CandidateQuality> = {}): CandidateQuality {
  return {
    ...model(label, bitsPerWeight, 14 * (1 + kld)),
    perplexityRatio: est(1 + kld, 1 + kld * 0.9, 1 + kld * 1.1),
    kld: { mean: est(kld, kld * 0.9, kld * 1.1), median: est(kld / 2, 0, kld), p99: est(kld * 5, 0, kld * 6), p999: est(kld * 9, 0, kld * 10), max: kld * 20 },
    rmsDeltaP: est(Math.sqrt(kld) / 10, 0, 1),
    rmsDeltaPTop: est(Math.sqrt(kld) / 10, 0, 1),
    sameTopPercent: est(100 - 100 * kld, 99 - 100 * kld, 100),
    ...extra,
  };
}

function planted(candidates: CandidateQuality[], textName = 'alice29'): QualityReport {
  return {
    reference: model(`ref-${XSS}.gguf`, 7.36, 14),
    candidates,
    text: { name: textName, source: null, sha256: '0'.repeat(64), tokens: 5000 },
    contextSize: 512,
    chunks: 8,
    scoredPerChunk: 255,
    scoredTokens: 2040,
    convention: 'llama-perplexity',
    intervals: { level: 0.95, resamples: 1000, seed: 0, unit: 'chunk' },
    seconds: 1,
  };
}

/** The table of the HTML with this data-table name. */
function table(html: string, name: string): string {
  const start = html.indexOf(`<table data-table="${name}"`);
  return start < 0 ? '' : html.slice(start, html.indexOf('</table>', start) + 8);
}

const points = (html: string) => html.match(/aria-roledescription="point"/g)?.length ?? 0;

describe('the quality section', () => {
  it('plots one point per candidate, tabulates every model and escapes every label', async () => {
    const warnings: string[] = [];
    const report = planted([candidate(`q8-${XSS}.gguf`, 8.5, 0.006), candidate('q4.gguf', 7.01, 0.364), candidate('q3.gguf', 7.03, 0.202)], `text ${XSS}`);
    const { title, html } = await renderQualitySection(report, { onWarning: (m) => warnings.push(m) });
    expect(title).toMatch(/quality/i);
    expect(warnings).toEqual([]);
    expect(html).toContain('data-plot="quality-kld"');
    expect(points(html)).toBe(3);
    expect(html).not.toContain('<script');
    expect(html).toContain('q8-&lt;script&gt;alert(1)&lt;/script&gt;.gguf');
    expect(html).toContain('text &lt;script&gt;');
    const t = table(html, 'quality');
    expect(t.match(/<tr data-model=/g)).toHaveLength(4);
    // KL means at the digits that show the smallest one (one column, aligned), with their intervals; the reference has none.
    expect(t).toMatch(/<tr data-model="q4\.gguf">.*0\.36400 <small>\[0\.32760, 0\.40040\]<\/small>/);
    expect(t).toMatch(/<tr data-model="q8-.*0\.00600 <small>\[0\.00540, 0\.00660\]<\/small>/);
    expect(t).toMatch(/<tr data-model="ref-[^"]*"><td>ref-&lt;script&gt;alert\(1\)&lt;\/script&gt;\.gguf <small>\(reference\)<\/small><\/td>(<td class="num">[^<]*<\/td>){5}<td class="num">14\.000 <small>/);
  });

  it('leaves out of the plot a candidate identical to the reference, and says so', async () => {
    const { html } = await renderQualitySection(planted([candidate('same.gguf', 7.36, 0), candidate('q4.gguf', 7.01, 0.364)]));
    expect(points(html)).toBe(1);
    expect(html).toMatch(/Not plotted \(KL 0: identical to the reference\): same\.gguf/);
    expect(table(html, 'quality').match(/<tr data-model=/g)).toHaveLength(3);
  });

  it('has no plot without a candidate to place: none, or only steered runs of the same file', async () => {
    const none = await renderQualitySection(planted([]));
    expect(none.html).not.toContain('data-plot');
    expect(none.html).not.toContain('<svg');
    expect(table(none.html, 'quality').match(/<tr data-model=/g)).toHaveLength(1);
    expect(none.html).toContain('No candidate');
    const steered = await renderQualitySection(planted([candidate('ref.gguf steered', 7.36, 0.3, { steering: 'calm x 0.05' })]));
    expect(steered.html).not.toContain('data-plot');
    expect(steered.html).toContain('ref.gguf steered (calm x 0.05)');
    expect(qualityPlotSpec([{ label: 'x', bitsPerWeight: 8, kld: est(0, 0, 0) }], 't', 's')).toBeUndefined();
  });

  it('draws the interval of a point as an error bar on a log scale', async () => {
    const spec = qualityPlotSpec([{ label: 'q', bitsPerWeight: 8.5, kld: est(0.006, 0.005, 0.007) }], 't', 's')!;
    const layers = (spec as unknown as { layer: { mark: { type: string }; encoding: Record<string, { field?: string; scale?: { type?: string } }> }[] }).layer;
    const rule = layers.find((l) => l.mark.type === 'rule')!;
    expect([rule.encoding.y!.field, rule.encoding.y2!.field]).toEqual(['lo', 'hi']);
    expect(layers.find((l) => l.mark.type === 'point')!.encoding.y!.scale!.type).toBe('log');
    const values = (spec as unknown as { data: { values: { lo: number; kld: number; hi: number }[] } }).data.values;
    expect(values).toEqual([{ label: 'q', bpw: 8.5, kld: 0.006, lo: 0.005, hi: 0.007 }]);
    expect(await renderSpecToSvg(spec)).toContain('<svg');
  });
});

describe('quality of a study variant', () => {
  const dir = mkdtempSync(join(tmpdir(), 'emosteer-quality-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads quality.json into the headline figures, and ignores a broken or empty one', async () => {
    expect(VARIANT_QUALITY_OPTIONS).toMatchObject({ contextSize: 512, chunks: 8, speed: false });
    expect(await readVariantQuality(dir)).toBeUndefined();
    writeFileSync(join(dir, VARIANT_QUALITY_FILE), '{ not json');
    expect(await readVariantQuality(dir)).toBeUndefined();
    writeFileSync(join(dir, VARIANT_QUALITY_FILE), JSON.stringify(planted([])));
    expect(await readVariantQuality(dir)).toBeUndefined();
    writeFileSync(join(dir, VARIANT_QUALITY_FILE), JSON.stringify(planted([candidate('q4.gguf', 7.01, 0.364)])));
    const h = qualityHeadline((await readVariantQuality(dir))!)!;
    expect(h).toMatchObject({ candidate: 'q4.gguf', bitsPerWeight: 7.01, referenceBitsPerWeight: 7.36, chunks: 8, contextSize: 512, scoredTokens: 2040 });
    expect(h.kldMean.value).toBe(0.364);
    expect(h.sameTopPercent.value).toBeCloseTo(63.6, 10);
    expect(h.perplexityRatio.ci95).toEqual([1 + 0.364 * 0.9, 1 + 0.364 * 1.1]);
    expect(qualityHeadline(planted([]))).toBeUndefined();
  });

  function study(quality: boolean): StudyResult {
    const curve = (variant: string, method: string, kld: number, bpw: number): QuantizationCurve => ({
      parent: 'm',
      variant,
      quantization: variant.split('@')[1]!,
      method,
      cosine: [{ layer: 0, depth: 0, value: 0.99 }, { layer: 1, depth: 1, value: 0.97 }],
      heldOutAccuracy: 0.5,
      bitsPerWeight: bpw,
      fallbackTensors: 2,
      ...(quality ? { quality: qualityHeadline(planted([candidate(variant, bpw, kld)]))! } : {}),
    });
    return {
      createdAt: '2025-01-01T00:00:00Z',
      emosteerVersion: '0.0.0',
      outDir: '/tmp/s',
      options: {},
      rows: [],
      comparisons: [],
      quantization: [curve('m@q8_0', 'comprehension', 0.006, 8.5), curve('m@q8_0', 'generation', 0.006, 8.5), curve(`m@q4_0${XSS}`, 'comprehension', 0.364, 7.01)],
      claims: [],
    };
  }

  it('gives the study report a quantization table (one row per variant) and a KL plot, and claims.md the columns', async () => {
    const html = await renderStudyReport(study(true));
    const t = table(html, 'quantization');
    expect(t.match(/<tr data-variant=/g)).toHaveLength(2);
    expect(t).toMatch(/<tr data-variant="m@q8_0">.*comprehension 0\.980<br>generation 0\.980.*<td>0\.00600 <small>\[0\.00540, 0\.00660\]<\/small><\/td><td>99\.40 <small>/);
    expect(t).toContain('m@q4_0&lt;script&gt;');
    expect(html).not.toContain('<script');
    expect(html).toContain('data-plot="quantization-kld"');
    expect(points(html.slice(html.indexOf('data-plot="quantization-kld"')))).toBe(2);
    const md = claimsMarkdown(study(true));
    expect(md).toContain('| mean KL to parent | same top-1 % | PPL ratio |');
    expect(md).toMatch(/\| m@q8_0 \| 8\.50 \(2\) \| comprehension \|.*\| 0\.00600 \[0\.00540, 0\.00660\] \| 99\.40 \[98\.40, 100\.00\] \| 1\.0060 \[1\.0054, 1\.0066\] \|/);
    expect(md).toContain('on 8 chunks of 512 tokens of alice29 (2040 scored tokens');
  });

  it('says "not measured" and draws no KL plot when no variant has quality.json', async () => {
    const html = await renderStudyReport(study(false));
    expect(table(html, 'quantization')).toContain('not measured');
    expect(html).not.toContain('data-plot="quantization-kld"');
    expect(claimsMarkdown(study(false))).toMatch(/\| m@q8_0 \|.*\| n\/a \| n\/a \| n\/a \|/);
  });
});
