// The package's entry points (package.json "exports"), as an installed package sees them:
// dist/, imported in fresh `node` processes. The root entry must load none of the plotting,
// NLP and statistics libraries (they cost ~1 s of import time); every subpath must resolve and
// export what its documentation says. Needs `npm run build:ts` (dist/).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  main: string;
  types: string;
  exports: Record<string, { types: string; import: string }>;
};

/** Packages only the research entry points may load. */
const HEAVY = ['vega', 'vega-lite', 'franc', 'vader-sentiment', 'ml-matrix', 'ml-pca', 'ml-hclust', '@stdlib'];

/** Per entry: symbols its module documentation promises (a sample, not the full list). */
const PROMISED: Record<string, string[]> = {
  '.': ['loadModel', 'Model', 'Context', 'EmosteerError', 'EmotionVectorSet', 'readControlVector', 'writeControlVector', 'readGguf', 'GgufWriter',
    'RequestScheduler', 'ChatSession', 'Activations', 'extractGeneration', 'extractComprehension', 'defaultStimuli', 'steeringVectors', 'EmotionMeter',
    'writeSyntheticModel', 'fetchModel', 'MODELS', 'quantizeModel', 'runDoctor', 'versions'],
  './evaluate': ['evaluateRun', 'evaluateSet', 'compareMethods', 'measureAnisotropy', 'evaluationSummary', 'cohensKappa'],
  './steer': ['runSteeringExperiment', 'wilson', 'LexiconJudge', 'ValenceJudge', 'LlmJudge', 'classifyRegime', 'selectScenarios', 'controlContrasts', 'logitLens'],
  './report': ['renderReport', 'renderStudyReport'],
  './study': ['checkClaims', 'crossModelComparisons', 'quantizationCurves', 'readStudyRow'],
  './protocol': ['runMainJob', 'runStudy', 'extractToFolder', 'evaluateFolder', 'steerFolder', 'rescoreFolder', 'reportFolder', 'RUN_FILES', 'STUDY_FILES', 'extractionDone', 'ensureAnisotropy', 'assertSetFromModel'],
  './quality': ['compareQuality', 'compareSteering', 'formatQualityTable', 'DEFAULT_CORPUS', 'chunkTokens', 'modelFileFacts'],
};

/** What heavy packages a fresh process loads when it imports `file` (ESM resolutions and CommonJS modules). */
async function heavyLoadedBy(file: string, hookDir: string): Promise<string[]> {
  const log = join(hookDir, `log-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const script = `
    await import(${JSON.stringify(pathToFileURL(file).href)});
    const { createRequire } = await import('node:module');
    const { appendFileSync } = await import('node:fs');
    appendFileSync(process.env.EMOSTEER_IMPORT_LOG, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n');
  `;
  await run(process.execPath, ['--import', pathToFileURL(join(hookDir, 'register.mjs')).href, '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, EMOSTEER_IMPORT_LOG: log },
    timeout: 60_000,
  });
  const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  expect(loaded.length).toBeGreaterThan(10); // the hook saw the package's own modules
  const found = new Set<string>();
  for (const entry of loaded) {
    const m = /\/node_modules\/((?:@[^/]+)|[^/]+)\//.exec(entry.replaceAll('\\', '/'));
    if (m && HEAVY.includes(m[1]!)) found.add(m[1]!);
  }
  return [...found].sort();
}

describe('package entry points', () => {
  let hookDir = '';
  beforeAll(() => {
    if (!existsSync(join(ROOT, PKG.main))) throw new Error(`${PKG.main} is missing: run \`npm run build:ts\` first`);
    hookDir = mkdtempSync(join(tmpdir(), 'emosteer-entries-'));
    // A resolve hook that records every module URL the ESM loader resolves (off-thread: to a file).
    writeFileSync(join(hookDir, 'hooks.mjs'), `
      import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        appendFileSync(process.env.EMOSTEER_IMPORT_LOG, r.url + '\\n');
        return r;
      }
    `);
    writeFileSync(join(hookDir, 'register.mjs'), `
      import { register } from 'node:module';
      register(${JSON.stringify(pathToFileURL(join(hookDir, 'hooks.mjs')).href)});
    `);
  });
  afterAll(() => {
    if (hookDir) rmSync(hookDir, { recursive: true, force: true });
  });

  it('the root entry loads none of the plotting, NLP and statistics packages', async () => {
    expect(await heavyLoadedBy(join(ROOT, PKG.exports['.']!.import), hookDir)).toEqual([]);
  });

  it('the check sees them where they are loaded (the subpaths that need them)', async () => {
    expect(await heavyLoadedBy(join(ROOT, PKG.exports['./report']!.import), hookDir)).toEqual(expect.arrayContaining(['vega', 'vega-lite']));
    expect(await heavyLoadedBy(join(ROOT, PKG.exports['./steer']!.import), hookDir)).toEqual(expect.arrayContaining(['franc', 'vader-sentiment', '@stdlib']));
    expect(await heavyLoadedBy(join(ROOT, PKG.exports['./evaluate']!.import), hookDir)).toEqual(expect.arrayContaining(['ml-pca', 'ml-hclust', 'ml-matrix', '@stdlib']));
    expect(await heavyLoadedBy(join(ROOT, PKG.exports['./protocol']!.import), hookDir)).toEqual(expect.arrayContaining(['vega', 'franc', 'ml-pca']));
  });

  it('package.json: main/types are the root entry; every export has types and import files in dist/', () => {
    expect(Object.keys(PKG.exports).sort()).toEqual(Object.keys(PROMISED).sort());
    expect(PKG.main).toBe(PKG.exports['.']!.import);
    expect(PKG.types).toBe(PKG.exports['.']!.types);
    for (const [sub, target] of Object.entries(PKG.exports)) {
      expect(Object.keys(target), sub).toEqual(['types', 'import']); // "types" first: TypeScript reads conditions in order
      expect(existsSync(join(ROOT, target.import)), `${sub}: ${target.import}`).toBe(true);
      expect(existsSync(join(ROOT, target.types)), `${sub}: ${target.types}`).toBe(true);
      expect(target.types.replace(/\.d\.ts$/, '')).toBe(target.import.replace(/\.js$/, ''));
    }
  });

  it('each entry resolves by its package name (emosteer, emosteer/evaluate, ...) and exports what its docs say, each value from one entry only', async () => {
    const script = `
      const out = {};
      for (const sub of ${JSON.stringify(Object.keys(PKG.exports))}) {
        const spec = ${JSON.stringify(PKG.name)} + sub.slice(1);
        out[sub] = Object.keys(await import(spec));
      }
      console.log(JSON.stringify(out));
    `;
    // cwd inside the package: Node resolves the package's own name through its "exports" (self-reference)
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000 });
    const names = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string[]>;
    for (const [sub, promised] of Object.entries(PROMISED)) expect(names[sub], sub).toEqual(expect.arrayContaining(promised));
    const seen = new Map<string, string>();
    for (const [sub, list] of Object.entries(names)) {
      for (const name of list) {
        expect(seen.get(name), `${name} is exported by both ${seen.get(name)} and ${sub}`).toBeUndefined();
        seen.set(name, sub);
      }
    }
  });
});
