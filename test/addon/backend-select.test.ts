// loadModel(path, { gpu }): the backend chosen at run time among the built and prebuilt addons,
// each GPU candidate loaded once in a child process and the answer cached, so that a missing
// backend is a clear error and a broken driver a clear fallback to the CPU, never a crash.
// The child-process cases need the Vulkan addon (npm run prebuild -- --gpu vulkan) and a C
// compiler (for the broken driver); without them they are skipped with the reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, versions } from '../../lib/index.js';
import { findCandidates } from '../../lib/runtime/backend-select.js';
import { packageRoot } from '../../lib/runtime/native.js';
import { syntheticModel } from '../helpers/models.js';

const MISSING = process.platform === 'darwin' ? 'cuda' : 'metal'; // a backend no addon here can have
const tmp = mkdtempSync(join(tmpdir(), 'emosteer-backend-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('gpu selection in this process', () => {
  it('rejects an unknown gpu value', async () => {
    const path = await syntheticModel({ layers: 2, embd: 32, seed: 3 });
    await expect(loadModel(path, { gpu: 'opencl' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it(`a missing backend (${MISSING}) is BACKEND_UNAVAILABLE naming what to build; the CPU still loads; a process keeps its addon`, async () => {
    const path = await syntheticModel({ layers: 2, embd: 32, seed: 3 });
    const err = await loadModel(path, { gpu: MISSING }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmosteerError);
    expect((err as EmosteerError).code).toBe('BACKEND_UNAVAILABLE');
    expect((err as EmosteerError).message).toMatch(new RegExp(`no ${MISSING === 'metal' ? 'Metal' : 'CUDA'} addon is built here`));
    expect((err as EmosteerError).message).toContain(`EMOSTEER_GPU=${MISSING} npm run build:native`);
    const m = await loadModel(path, { gpu: 'cpu' });
    const v = versions();
    expect(v.selection).toMatchObject({ requested: 'cpu', backend: 'cpu' });
    expect(v.selection.reason).toContain("gpu: 'cpu'");
    const ctx = await m.createContext({ contextSize: 64, threads: 1 });
    expect((await ctx.generateText('Hi', { maxTokens: 3, temperature: 0, stopOnEog: false })).tokens).toHaveLength(3);
    await ctx.dispose();
    // the addon is loaded now: asking for a backend it lacks says so instead of loading a second one
    const late = await loadModel(path, { gpu: MISSING }).catch((e: unknown) => e);
    expect((late as EmosteerError).code).toBe('BACKEND_UNAVAILABLE');
    expect((late as EmosteerError).message).toContain('already loaded');
    m.dispose();
  });
});

// ---- child processes: the Vulkan addon, a hidden device, a broken driver ----

const vulkanAddon = findCandidates(packageRoot).find((c) => c.backend === 'vulkan')?.file ?? null;
const dist = resolve(packageRoot, process.env.EMOSTEER_DIST ?? 'dist', 'index.js');
const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0) ?? null;
const skipReason = !vulkanAddon ? 'no Vulkan addon is built (npm run prebuild -- --gpu vulkan)'
  : !existsSync(dist) ? `${dist} is not built (npm run build:ts)` : '';
if (skipReason && process.env.EMOSTEER_EXPECT_VULKAN === '1') throw new Error(`EMOSTEER_EXPECT_VULKAN=1 but ${skipReason}`);
if (skipReason) console.warn(`[backend-select] child-process cases skipped: ${skipReason}`);

/** Runs loadModel(model, { gpu }) and a 4-token greedy generation in a fresh process. */
function child(gpu: string, env: Record<string, string | undefined>, model: string) {
  const script = join(tmp, 'child.mjs');
  writeFileSync(script, `
    const { loadModel, versions } = await import(${JSON.stringify(`file://${dist}`)});
    try {
      const m = await loadModel(process.argv[2], { gpu: process.argv[3] });
      const ctx = await m.createContext({ contextSize: 64, threads: 1 });
      const g = await ctx.generateText('Hello', { maxTokens: 4, temperature: 0, stopOnEog: false });
      console.log(JSON.stringify({ selection: versions().selection, tokens: g.tokens }));
      await ctx.dispose(); m.dispose();
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message }));
    }`);
  const r = spawnSync(process.execPath, [script, model, gpu], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, EMOSTEER_CACHE_DIR: join(tmp, 'cache'), ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    selection?: { requested: string; backend: string; reason: string; file: string; candidates: { file: string; backend: string; note: string; probe?: { ok: boolean; cached?: boolean; error?: string } }[] };
    tokens?: number[]; code?: string; message?: string;
  };
}

describe.skipIf(!!skipReason)(skipReason ? `gpu selection across processes — skipped: ${skipReason}` : 'gpu selection across processes (Vulkan addon)', () => {
  it("'auto' takes Vulkan when it sees a device, and falls back to the CPU, saying why, when it sees none", async () => {
    const model = await syntheticModel({ layers: 2, embd: 32, seed: 3 });
    const cpu = child('cpu', {}, model);
    const seen = child('auto', { GGML_VK_VISIBLE_DEVICES: '0' }, model);
    expect(seen.selection?.backend).toBe('vulkan');
    expect(seen.selection?.file).toBe(vulkanAddon);
    expect(seen.selection?.reason).toMatch(/chose Vulkan: Vulkan0/);
    expect(seen.tokens).toEqual(cpu.tokens);
    const hidden = child('auto', { GGML_VK_VISIBLE_DEVICES: undefined }, model);
    expect(hidden.selection?.backend).toBe('cpu');
    expect(hidden.selection?.reason).toContain('GGML_VK_VISIBLE_DEVICES');
    expect(hidden.tokens).toEqual(cpu.tokens);
  });

  it.skipIf(!cc)(`a driver that crashes while loading is a fallback for 'auto' and an error for 'vulkan'; the probe runs once${cc ? '' : ' — skipped: no C compiler to make the broken driver'}`, async () => {
    const model = await syntheticModel({ layers: 2, embd: 32, seed: 3 });
    // a Vulkan ICD whose library aborts as soon as the Vulkan loader opens it
    const lib = join(tmp, 'libbroken_icd.so');
    writeFileSync(join(tmp, 'broken.c'), '#include <stdlib.h>\n__attribute__((constructor)) static void broken(void) { abort(); }\nvoid *vk_icdGetInstanceProcAddr(void *i, const char *n) { (void)i; (void)n; return 0; }\n');
    execFileSync(cc!, ['-shared', '-fPIC', '-o', lib, join(tmp, 'broken.c')]);
    const icd = join(tmp, 'broken_icd.json');
    writeFileSync(icd, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib, api_version: '1.3.0' } }));
    const env = { GGML_VK_VISIBLE_DEVICES: '0', VK_ICD_FILENAMES: icd, VK_DRIVER_FILES: icd };
    const auto = child('auto', env, model);
    expect(auto.selection?.backend).toBe('cpu');
    expect(auto.selection?.reason).toMatch(/fell back to the CPU/);
    expect(auto.selection?.reason).toMatch(/crashed \(SIGABRT\)/);
    expect(auto.tokens).toHaveLength(4);
    const probed = auto.selection!.candidates.find((c) => c.file === vulkanAddon)!;
    expect(probed.probe).toMatchObject({ ok: false });
    expect(probed.probe?.cached).toBeUndefined();
    const named = child('vulkan', env, model);
    expect(named.code).toBe('BACKEND_UNAVAILABLE');
    expect(named.message).toMatch(/crashed \(SIGABRT\)/);
    // the second and third processes used the cached answer
    const again = child('auto', env, model);
    expect(again.selection!.candidates.find((c) => c.file === vulkanAddon)!.probe?.cached).toBe(true);
  });
});
