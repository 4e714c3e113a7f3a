import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EvaluationResult, LayerMetrics, MethodComparison, MethodEvaluation } from '../../lib/evaluate/types.js';
import { renderReport, escapeHtml } from '../../lib/report/html-report.js';
import { buildPlotDefinitions, prefixSvgIds, renderPlots } from '../../lib/report/plots.js';

const EMOTIONS = [
  'happy', 'sad', 'calm', 'desperate', 'afraid', 'angry', 'proud', 'guilty', 'nervous', 'hopeful',
  'brooding', 'gloomy', 'reflective', 'enthusiastic', 'hostile', 'loving', 'exasperated', 'blissful', 'anxious', 'grateful',
];
const N_LAYER = 18;
const XSS = '<script>alert(1)</script>';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const SKIP_BROWSER = !HAS_CHROMIUM && !process.env.CI;
if (SKIP_BROWSER) {
  console.warn(`report.test: skipping the headless-Chromium check: no browser at ${CHROMIUM} (install Debian's chromium package: apt-get install -y chromium)`);
}

/** Deterministic PRNG (mulberry32) in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const anisotropyAt = (d: number) => 0.62 + 0.3 * Math.sin(Math.PI * 0.5 * d) - 0.08 * d * d;

/** A plausible evaluation of one method: U-shaped cosine curve, inverted-U accuracy, clustered geometry. */
function methodEvaluation(method: string, seed: number, description: string): MethodEvaluation {
  const r = rng(seed);
  const noise = (s: number) => (r() - 0.5) * 2 * s;
  const gen = method === 'generation';
  const layers: LayerMetrics[] = [];
  for (let layer = 0; layer < N_LAYER; layer++) {
    const depth = layer / (N_LAYER - 1);
    const a = anisotropyAt(depth);
    const cos = (gen ? 0.32 : 0.55) + (gen ? 1.4 : 1.0) * (depth - 0.5) ** 2 + noise(0.015);
    const acc = Math.max(0.05, (gen ? 0.72 : 0.55) - 2.2 * (depth - 0.55) ** 2 + noise(0.02));
    const probe = Math.min(0.98, acc + 0.08 + noise(0.02));
    const sil = 0.02 + 0.12 * Math.exp(-(((depth - 0.5) / 0.25) ** 2)) + noise(0.005);
    const fisher = 0.3 + 1.6 * Math.exp(-(((depth - 0.55) / 0.3) ** 2)) + noise(0.05);
    layers.push({
      layer,
      depth,
      meanPairwiseCosine: cos,
      meanPairwiseCosineCentered: -1 / 19 + noise(0.004),
      anisotropy: a,
      // Raw category means sit just above the anisotropy baseline; corrected = (raw - a) / (1 - a).
      correctedCosine: (gen ? 0.18 : 0.3) + 0.9 * (depth - 0.5) ** 2 + noise(0.01),
      heldOutAccuracy: { value: acc, ci95: [acc - 0.05 - noise(0.01), acc + 0.05 + noise(0.01)] },
      probeAccuracy: { value: probe, ci95: [probe - 0.04, probe + 0.04] },
      chance: 1 / 20,
      shuffledAccuracy: { mean: 0.05 + noise(0.004), p95: 0.082 + noise(0.006) },
      silhouette: { value: sil, ci95: [sil - 0.01, sil + 0.01] },
      fisherRatio: { value: fisher, ci95: [fisher * 0.9, fisher * 1.1] },
    });
  }
  const bestLayer = layers.reduce((b, l) => (l.meanPairwiseCosine < b.meanPairwiseCosine ? l : b)).layer;
  const bestLayerByAccuracy = layers.reduce((b, l) => (l.heldOutAccuracy.value > b.heldOutAccuracy.value ? l : b)).layer;
  const first = layers[0]!.meanPairwiseCosine;
  const last = layers[N_LAYER - 1]!.meanPairwiseCosine;
  const min = layers[bestLayer]!.meanPairwiseCosine;

  // Unit vectors in 6-D around 4 valence/arousal clusters; cosine matrix and a 2-D map from them.
  const centres = [
    [1, 0.6, 0, 0, 0.2, 0],
    [-1, -0.4, 0.3, 0, 0, 0.1],
    [-0.6, 0.9, 0, 0.4, 0, 0],
    [0.5, -0.8, 0, 0, 0.5, 0.2],
  ];
  const vectors = EMOTIONS.map((_, i) => {
    const c = centres[i % 4]!;
    const v = c.map((x) => x + noise(0.55));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const values = vectors.map((u) => vectors.map((v) => u.reduce((s, x, k) => s + x * v[k]!, 0)));
  const points = EMOTIONS.map((emotion, i) => ({ emotion, x: vectors[i]![0]! * 3.1, y: vectors[i]![1]! * 2.2 }));

  return {
    method,
    model: {
      description,
      arch: 'gemma3',
      nLayer: N_LAYER,
      nEmbd: 640,
      quantization: 'Q4_K_M',
      sha256: 'c6f1d6a2b19e4f0a7d3e8b5c2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a39',
    },
    emotions: [...EMOTIONS],
    nSamples: gen ? 210 : 63,
    folds: 5,
    bestLayer,
    bestDepth: bestLayer / (N_LAYER - 1),
    bestLayerByAccuracy,
    layers,
    shape: {
      metric: 'meanPairwiseCosine',
      minLayer: bestLayer,
      minDepth: bestLayer / (N_LAYER - 1),
      uShaped: bestLayer > 0 && bestLayer < N_LAYER - 1,
      rise: [first - min, last - min],
    },
    cosineMatrix: { layer: bestLayer, emotions: [...EMOTIONS], values },
    map: { layer: bestLayer, explained: [0.34, 0.19, 0.11], points },
    clusters: {
      layer: bestLayer,
      merges: [
        { a: ['anxious'], b: ['nervous'], distance: 0.12 },
        { a: ['sad'], b: ['gloomy'], distance: 0.18 },
      ],
    },
    params: gen
      ? {
          storiesPerEmotion: 10,
          maxNewTokens: 256,
          chatTemplate: true,
          decoding: 'greedy',
          position: 'middle-of-generated-span',
          baseline: 'neutral',
          seed: 42,
          prompts: ['Write a short story (3-5 paragraphs) about a character who is feeling {emotion}. Show the emotion through thoughts, actions and interactions.'],
        }
      : { passagesPerEmotion: 3, chatTemplate: false, position: 'last-token', baseline: 'mean-of-categories', note: 'a < b & "quoted"' },
  };
}

function comparison(): MethodComparison {
  const r = rng(7);
  return {
    unit: 'layers',
    metric: 'meanPairwiseCosine',
    mannWhitneyU: 41,
    mannWhitneyP: 0.00021,
    exact: true,
    cohensD: -2.37,
    cliffsDelta: -0.747,
    rsa: Array.from({ length: N_LAYER }, (_, layer) => ({ layer, spearman: 0.25 + 0.45 * Math.sin((Math.PI * layer) / (N_LAYER - 1)) + (r() - 0.5) * 0.08 })),
    perEmotionCosine: EMOTIONS.map((emotion) => ({ emotion, cosine: -0.2 + r() * 0.95 })),
  };
}

function fixture(opts: { single?: boolean } = {}): EvaluationResult {
  const description = `Gemma 3 270M instruct ${XSS}`;
  const methods: Record<string, MethodEvaluation> = opts.single
    ? { comprehension: methodEvaluation('comprehension', 11, 'Gemma 3 270M instruct') }
    : { generation: methodEvaluation('generation', 3, description), comprehension: methodEvaluation('comprehension', 11, description) };
  return {
    runDir: '/runs/gemma3-270m/2026-05-01',
    createdAt: '2026-05-01T12:34:56.000Z',
    emosteerVersion: '0.1.0',
    methods,
    ...(opts.single ? {} : { comparison: comparison() }),
    anisotropy: Array.from({ length: N_LAYER }, (_, layer) => ({ layer, value: anisotropyAt(layer / (N_LAYER - 1)) })),
  };
}

const FULL_PLOTS = ['layer-cosine', 'accuracy', 'separation', 'heatmap-generation', 'map-generation', 'heatmap-comprehension', 'map-comprehension', 'comparison'];
const SINGLE_PLOTS = ['layer-cosine', 'accuracy', 'separation', 'heatmap-comprehension', 'map-comprehension'];

/** The figure of one plot, from its opening tag to its closing tag. */
function figureOf(html: string, name: string): string | undefined {
  const start = html.indexOf(`<figure data-plot="${name}"`);
  if (start < 0) return undefined;
  const end = html.indexOf('</figure>', start);
  return html.slice(start, end + '</figure>'.length);
}

let dir: string;
let fullHtml: string;
let singleHtml: string;
const warnings: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emosteer-report-'));
  fullHtml = await renderReport(fixture(), {
    extraSections: [{ title: 'Steering <preview>', html: '<p id="steer-extra">Steered at strength 0.01.</p>' }],
    onWarning: (m) => warnings.push(m),
  });
  singleHtml = await renderReport(fixture({ single: true }), { title: 'Single method & no comparison', onWarning: (m) => warnings.push(m) });
  await writeFile(join(dir, 'full.html'), fullHtml);
  await writeFile(join(dir, 'single.html'), singleHtml);
  // Keep copies to look at: EMOSTEER_REPORT_OUT=/tmp/report.html npx vitest run test/report.test.ts
  // (writes the two-method report there and the single-method one beside it, as *.single.html).
  const out = process.env.EMOSTEER_REPORT_OUT;
  if (out) {
    await writeFile(out, fullHtml);
    await writeFile(out.replace(/(\.html?)?$/i, '.single.html'), singleHtml);
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('plots', () => {
  it('renders every plot to SVG without Vega warnings', async () => {
    const local: string[] = [];
    const svgs = await renderPlots(fixture(), { onWarning: (m) => local.push(m) });
    expect(Object.keys(svgs)).toEqual(FULL_PLOTS);
    for (const [name, svg] of Object.entries(svgs)) {
      expect(svg.startsWith('<svg'), name).toBe(true);
      expect(svg).toContain('</svg>');
    }
    expect(local).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('builds plain Vega-Lite specs with inline data', () => {
    const defs = buildPlotDefinitions(fixture({ single: true }));
    expect(defs.map((d) => d.name)).toEqual(SINGLE_PLOTS);
    for (const d of defs) {
      expect(String(d.spec.$schema)).toContain('vega-lite');
      expect(JSON.stringify(d.spec)).not.toContain('"url"');
    }
  });

  it('escapes data text inside the SVGs and survives missing values', async () => {
    const result = fixture({ single: true });
    const m = result.methods.comprehension!;
    const odd = 'x<y & "z"';
    m.map.points[0]!.emotion = odd;
    m.cosineMatrix.emotions[0] = odd;
    m.layers[3]!.meanPairwiseCosine = Number.NaN;
    m.layers[4]!.heldOutAccuracy = { value: Number.NaN, ci95: [Number.NaN, Number.NaN] };
    const svgs = await renderPlots(result);
    expect(svgs['map-comprehension']).toContain('x&lt;y &amp;');
    expect(svgs['heatmap-comprehension']).toContain('x&lt;y &amp;');
    for (const svg of Object.values(svgs)) expect(svg).not.toContain('x<y');
    const html = await renderReport({ ...result, methods: {} });
    expect(html).toContain('The result holds no method.');
    expect(html).not.toContain('data-plot=');
  });

  it('prefixes SVG ids and their references', () => {
    const svg = '<svg><clipPath id="clip1"><rect/></clipPath><g clip-path="url(#clip1)"></g><use href="#clip1"/></svg>';
    expect(prefixSvgIds(svg, 'p')).toBe('<svg><clipPath id="p-clip1"><rect/></clipPath><g clip-path="url(#p-clip1)"></g><use href="#p-clip1"/></svg>');
  });
});

describe('html report', () => {
  it('holds every plot as an inline SVG figure', () => {
    for (const name of FULL_PLOTS) {
      const fig = figureOf(fullHtml, name);
      expect(fig, `figure ${name}`).toBeDefined();
      expect(fig).toContain('<svg');
    }
    // Ids are unique across the inlined SVGs.
    const ids = [...fullHtml.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows run and model metadata, the summary, the comparison and the reading note', () => {
    expect(fullHtml.startsWith('<!DOCTYPE html>')).toBe(true);
    for (const text of [
      'Run and model',
      '/runs/gemma3-270m/2026-05-01',
      '2026-05-01T12:34:56.000Z',
      'emosteer version',
      'gemma3',
      'Q4_K_M',
      '640',
      'c6f1d6a2b19e',
      'Method parameters',
      'storiesPerEmotion',
      'Summary per method',
      'best block by mean cosine',
      'best block by held-out accuracy',
      'anisotropy baseline there',
      'U-shaped layer curve?',
      'Method comparison',
      'Mann-Whitney U',
      '2.10e-4',
      'Cohen’s d',
      '-2.37',
      'Cliff’s delta',
      'RSA (Spearman of RDMs) per block',
      'Per-emotion cosine',
      'How to read this',
      'anisotropy baseline',
      '−1/(n−1) = -0.053',
      'held-out accuracy',
      'id="steer-extra"',
    ]) {
      expect(fullHtml, text).toContain(text);
    }
    // 18 blocks: the model table says so.
    expect(fullHtml).toMatch(/<th>blocks<\/th><td>18<\/td>/);
  });

  it('escapes inserted text and has no scripts or remote resources', () => {
    expect(fullHtml).toContain('Gemma 3 270M instruct &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(fullHtml).not.toContain(XSS);
    expect(fullHtml).not.toMatch(/<script/i);
    expect(fullHtml).toContain('Steering &lt;preview&gt;');
    expect(fullHtml).toContain('a &lt; b &amp; &quot;quoted&quot;');
    expect(fullHtml).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(escapeHtml(`<a href='x'>&"`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;');
  });

  it('works for a single method without a comparison', () => {
    for (const name of SINGLE_PLOTS) expect(figureOf(singleHtml, name), name).toContain('<svg');
    expect(singleHtml).not.toContain('data-plot="comparison"');
    expect(singleHtml).not.toContain('Method comparison');
    expect(singleHtml).not.toContain('data-plot="heatmap-generation"');
    expect(singleHtml).toContain('<title>Single method &amp; no comparison</title>');
  });
});

describe('in a real browser', () => {
  it.skipIf(SKIP_BROWSER)('renders in headless Chromium without errors, every plot visible', async () => {
    if (!HAS_CHROMIUM) {
      throw new Error(`Chromium not found at ${CHROMIUM}: on CI, install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH`);
    }
    process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      for (const [file, names] of [
        ['full.html', FULL_PLOTS],
        ['single.html', SINGLE_PLOTS],
      ] as const) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const consoleErrors: string[] = [];
        const pageErrors: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') consoleErrors.push(m.text());
        });
        page.on('pageerror', (e) => pageErrors.push(e.message));
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(pathToFileURL(join(dir, file)).href, { waitUntil: 'load' });

        const boxes = await page.$$eval('figure[data-plot]', (figs) =>
          figs.map((f) => {
            const svg = f.querySelector('svg');
            const r = svg?.getBoundingClientRect();
            return { name: f.getAttribute('data-plot'), width: r?.width ?? 0, height: r?.height ?? 0 };
          }),
        );
        expect(boxes.map((b) => b.name), file).toEqual([...names]);
        for (const b of boxes) {
          expect(b.width, `${file} ${b.name} width`).toBeGreaterThan(50);
          expect(b.height, `${file} ${b.name} height`).toBeGreaterThan(50);
        }
        // The description's script tag stayed text.
        expect(await page.$$('script')).toHaveLength(0);
        expect(consoleErrors, file).toEqual([]);
        expect(pageErrors, file).toEqual([]);
        expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:')), file).toEqual([]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 30_000);
});
