// The package as a user gets it: `npm pack`, then `npm install <tarball>` into a fresh project
// with no compiler, cmake or git on PATH, so only the prebuilt addon (prebuilds/, made by
// `npm run prebuild`) can make it work; then a strict NodeNext TypeScript project imports it,
// type-checks, and generates with a synthetic model (and Gemma 3 270M when it is here).
// CI runs `npm run prebuild` first; elsewhere the test skips when prebuilds/ is absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs helper without types
import { ROOT, installTarball, packTarball } from '../../scripts/pack-install.mjs';
import { gemmaModel } from '../helpers/models.js';

const prebuildDir = join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const hasPrebuild = existsSync(join(prebuildDir, 'emosteer.requirements.json'));
if (!hasPrebuild && process.env.CI) throw new Error(`CI=1 but ${prebuildDir} is missing: run \`npm run prebuild\` first`);

describe.skipIf(!hasPrebuild)('npm pack + install without a compiler', () => {
  const work = mkdtempSync(join(tmpdir(), 'emosteer-pack-'));
  const project = join(work, 'project');
  let tarball: { file: string; size: number; entries: string[] };
  let install: { seconds: number; status: number | null; signal: string | null; output: string };

  beforeAll(() => {
    tarball = packTarball(join(work, 'pack'), { ignoreScripts: true });
    install = installTarball(tarball.file, project, { bare: true, timeoutMs: 8 * 60_000 });
  }, 10 * 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the tarball ships what a user needs and nothing else', () => {
    const e = new Set(tarball.entries);
    for (const need of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'CMakeLists.txt',
      'native/addon.cpp', 'scripts/build-native.mjs', 'scripts/addon-build.mjs', 'scripts/llama-cpp-source.mjs', 'bench/run.mjs']) {
      expect(e.has(need), need).toBe(true);
    }
    expect(tarball.entries.some((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`) && f.endsWith('.node'))).toBe(true);
    const unwanted = tarball.entries.filter((f) => /^(test|examples|deps|build[^/]*|runs|reports|\.ci|docs\/api|bench\/results)\//.test(f) || /\.(gguf|tgz)$/.test(f));
    expect(unwanted).toEqual([]);
    expect(tarball.size).toBeLessThan(20 * 1024 * 1024);
  });

  it('installs with node, npm and sh only on PATH, using the prebuilt addon', () => {
    expect(install.signal).toBeNull();
    expect(install.status, install.output.slice(-3000)).toBe(0);
    expect(install.output).toMatch(/using the prebuilt addon/);
    expect(install.output).not.toMatch(/building the addon/);
  });

  it('a strict NodeNext TypeScript project imports it, type-checks and generates', () => {
    mkdirSync(join(project, 'src'), { recursive: true });
    mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(project, 'node_modules', '@types', 'node'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', rootDir: 'src', skipLibCheck: false, types: ['node'] },
      include: ['src'],
    }, null, 2));
    writeFileSync(join(project, 'src', 'main.ts'), `
import { loadModel, versions, writeSyntheticModel, EmosteerError, type GenerationResult } from 'emosteer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const gguf: string = process.argv[2] ?? join(tmpdir(), 'emosteer-install-check-' + process.pid + '.gguf');
if (!process.argv[2]) await writeSyntheticModel({ out: gguf, layers: 2, embd: 32, seed: 3 });
const model = await loadModel(gguf);
const ctx = await model.createContext({ contextSize: 256, threads: 2 });
const result: GenerationResult = await ctx.generateText('Once upon a time', { maxTokens: 8, temperature: 0 });
let typed = false;
try { await loadModel(join(tmpdir(), 'no-such-model.gguf')); } catch (e) { typed = e instanceof EmosteerError && e.code === 'FILE_NOT_FOUND'; }
await ctx.dispose();
model.dispose();
const v = versions();
console.log(JSON.stringify({ kind: v.build.kind, cpu: v.build.cpu, binary: v.binaryPath, tokens: result.tokens.length, text: result.text, typed }));
`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const check = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
    expect(check.status, `${check.stdout}\n${check.stderr}`).toBe(0);
    const run = execFileSync(process.execPath, [join(project, 'out', 'main.js')], { cwd: project, encoding: 'utf8' });
    const out = JSON.parse(run.trim().split('\n').pop()!);
    expect(out.kind).toBe('prebuilt');
    expect(out.binary).toContain(join(project, 'node_modules', 'emosteer', 'prebuilds'));
    expect(out.tokens).toBe(8);
    expect(out.typed).toBe(true);
    // a type error in user code is caught by the package's types
    writeFileSync(join(project, 'src', 'wrong.ts'), `import { loadModel } from 'emosteer';\nawait loadModel('m.gguf', { gpuLayers: 'all' });\n`);
    const bad = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/wrong\.ts.*gpuLayers|Type '"all"'/s);
    rmSync(join(project, 'src', 'wrong.ts'));
  });

  const gemma = gemmaModel();
  it.skipIf(!gemma.path)('the installed package loads Gemma 3 270M and generates', () => {
    const run = execFileSync(process.execPath, [join(project, 'out', 'main.js'), gemma.path!], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    const out = JSON.parse(run.trim().split('\n').pop()!);
    expect(out.kind).toBe('prebuilt');
    expect(out.tokens).toBe(8);
    expect(out.text.trim().length).toBeGreaterThan(0);
  });
});
