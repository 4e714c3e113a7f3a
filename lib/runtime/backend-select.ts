/**
 * Which addon binary a process loads, chosen by compute backend: `loadModel(path, { gpu })` or
 * EMOSTEER_GPU = 'auto' | 'cpu' | 'vulkan' | 'cuda' | 'metal', as node-llama-cpp's
 * `getLlama({ gpu })` does.
 *
 * Candidates are the binaries present in the package: node-gyp-build's choice (build/Release, a
 * build made here, else `prebuilds/<platform>-<arch>/`), the folder named by EMOSTEER_BUILD_DIR,
 * the default prebuild, and the GPU variants `prebuilds/<platform>-<arch>-<gpu>/` (e.g. the
 * Vulkan prebuild). A candidate's backend is read without loading it (a build folder's
 * CMakeCache.txt, a prebuild's requirements file). Before a GPU candidate is used it is loaded
 * once in a child process, which lists the devices its backend sees; a driver that crashes or
 * hangs there takes the child down, not this process. The result is cached on disk per binary
 * (path, size, mtime) and per environment that changes what a driver shows
 * (GGML_VK_VISIBLE_DEVICES, CUDA_VISIBLE_DEVICES, VK_ICD_FILENAMES, ...), in
 * `$EMOSTEER_CACHE_DIR` or `$XDG_CACHE_HOME/emosteer` (default `~/.cache/emosteer`).
 *
 * 'auto' takes the first GPU backend that works in the order cuda, metal, vulkan, else the CPU
 * (node-gyp-build's binary) and says why; a named GPU backend that does not work is an error
 * (`BACKEND_UNAVAILABLE`) listing every candidate and what was wrong with it. A process loads
 * one addon: the first native call decides (see {@link selectAddon}).
 * @internal
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { prebuildStatus, prebuildVariants } from './prebuild.js';

/** A compute backend an addon can be built with. */
export type GpuBackend = 'cpu' | 'vulkan' | 'cuda' | 'metal';
/** What `loadModel(path, { gpu })` accepts: a backend, or 'auto' for the best that works here. */
export type GpuRequest = 'auto' | GpuBackend;

/** The GPU backends 'auto' tries, best first. */
export const AUTO_ORDER: readonly GpuBackend[] = ['cuda', 'metal', 'vulkan'];
const REQUESTS: readonly string[] = ['auto', 'cpu', 'vulkan', 'cuda', 'metal'];

/** Whether `x` is a valid `gpu` request. @internal */
export function isGpuRequest(x: unknown): x is GpuRequest {
  return typeof x === 'string' && REQUESTS.includes(x);
}

/** What a child process saw when it loaded a candidate. @internal */
export interface ProbeResult {
  /** The binary loaded and answered versions(). */
  ok: boolean;
  /** ggml backends registered, e.g. ['Vulkan', 'CPU', 'RPC']. */
  backends: string[];
  /** Devices with their type ('cpu', 'gpu', 'igpu', 'other'). */
  devices: { name: string; description: string; type: string }[];
  /** Why it failed (the child's exit, signal or last stderr line). */
  error?: string;
  /** Wall time of the probe in ms. */
  ms: number;
  /** True when this answer came from the cache. */
  cached?: boolean;
}

/** One binary the selection considered. */
export interface BackendCandidate {
  /** Absolute path of the .node file. */
  file: string;
  /** 'build' (made on this machine) or 'prebuild' (shipped in prebuilds/). */
  origin: 'build' | 'prebuild';
  /** The backend it was built with, read from its CMakeCache.txt or requirements file. */
  backend: GpuBackend;
  /** What happened to it: loaded (by this process), probed, skipped, and why. */
  note: string;
  /** The child process's answer, when it was probed. */
  probe?: ProbeResult;
}

/** The selection's outcome, reported by `versions().selection` and `emosteer doctor`. */
export interface BackendSelection {
  /** What was asked ('auto' unless `gpu` or EMOSTEER_GPU said otherwise). */
  requested: GpuRequest;
  /** The backend the loaded binary brings ('cpu' when none of its GPU backends is used). */
  backend: GpuBackend;
  /** Absolute path of the binary loaded. */
  file: string;
  /** Why this binary, in words. */
  reason: string;
  /** Every binary considered, in order. */
  candidates: BackendCandidate[];
}

/** The cache folder for probe results. @internal */
export function cacheDir(): string {
  const env = process.env;
  if (env.EMOSTEER_CACHE_DIR) return env.EMOSTEER_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emosteer');
}

/** Environment variables that change what a backend's driver shows. */
const PROBE_ENV = ['GGML_VK_VISIBLE_DEVICES', 'GGML_VK_DISABLE_F16', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT',
  'CUDA_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES', 'LD_LIBRARY_PATH'];

function probeKey(file: string): string | null {
  try {
    const st = statSync(file);
    const env = PROBE_ENV.map((k) => `${k}=${process.env[k] ?? ''}`).join(';');
    return `${file}|${st.size}|${Math.round(st.mtimeMs)}|${process.version}|${env}`;
  } catch {
    return null;
  }
}

function readCache(): Record<string, ProbeResult> {
  try {
    return JSON.parse(readFileSync(join(cacheDir(), 'backend-probes.json'), 'utf8')) as Record<string, ProbeResult>;
  } catch {
    return {};
  }
}

function writeCache(key: string, value: ProbeResult): void {
  try {
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    const all = readCache();
    all[key] = value;
    // at most 64 entries (a few binaries x environments); drop the oldest insertions
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 64))) delete all[k];
    const tmp = join(dir, `backend-probes.json.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(all, null, 1));
    renameSync(tmp, join(dir, 'backend-probes.json'));
  } catch {
    // a read-only home only costs a probe per process
  }
}

const PROBE_SCRIPT = `
const v = require(process.argv[1]).versions();
process.stdout.write('\\n@@emosteer-probe ' + JSON.stringify({ backends: v.backends, devices: v.devices.map((d) => ({ name: d.name, description: d.description, type: d.type })) }) + '\\n');
`;

/**
 * Loads `file` in a child process (at most `timeoutMs`) and reports its backends and devices;
 * the answer is cached per binary and environment unless `useCache` is false. @internal
 */
export function probeAddon(file: string, { useCache = true, timeoutMs = 60_000 }: { useCache?: boolean; timeoutMs?: number } = {}): ProbeResult {
  const key = probeKey(file);
  if (useCache && key) {
    const hit = readCache()[key];
    if (hit) return { ...hit, cached: true };
  }
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', PROBE_SCRIPT, file], { encoding: 'utf8', timeout: timeoutMs, env: process.env });
  const ms = Date.now() - t0;
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@@emosteer-probe '));
  let result: ProbeResult;
  if (r.status === 0 && line) {
    const parsed = JSON.parse(line.slice('@@emosteer-probe '.length)) as Pick<ProbeResult, 'backends' | 'devices'>;
    result = { ok: true, backends: parsed.backends, devices: parsed.devices, ms };
  } else {
    const last = (r.stderr ?? '').trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '';
    const how = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
      ? `did not answer within ${timeoutMs / 1000} s`
      : r.signal ? `crashed (${r.signal})` : `exited with ${r.status}`;
    result = { ok: false, backends: [], devices: [], error: `loading it in a child process ${how}${last ? `: ${last.slice(0, 300)}` : ''}`, ms };
  }
  if (key) writeCache(key, result);
  return result;
}

/** The ggml registry and device-name prefixes of a backend. */
const NAMES: Record<Exclude<GpuBackend, 'cpu'>, RegExp> = { vulkan: /^vulkan/i, cuda: /^cuda/i, metal: /^(metal|mtl)/i };

/** The GPU devices of `backend` in a probe (or versions()) answer. @internal */
export function backendDevices(backend: Exclude<GpuBackend, 'cpu'>, seen: Pick<ProbeResult, 'devices'>): ProbeResult['devices'] {
  return seen.devices.filter((d) => NAMES[backend].test(d.name) && (d.type === 'gpu' || d.type === 'igpu'));
}

/** Whether `seen` registers `backend`. @internal */
export function hasBackend(backend: Exclude<GpuBackend, 'cpu'>, seen: Pick<ProbeResult, 'backends'>): boolean {
  return seen.backends.some((b) => NAMES[backend].test(b));
}

/** The backend a cmake-js build folder was configured with (its CMakeCache.txt), or null. */
function buildFolderBackend(buildDir: string): GpuBackend | null {
  let text: string;
  try {
    text = readFileSync(join(buildDir, 'CMakeCache.txt'), 'utf8');
  } catch {
    return null;
  }
  const on = (k: string) => new RegExp(`^${k}:BOOL=(ON|1|TRUE|YES)$`, 'mi').test(text);
  if (on('GGML_CUDA')) return 'cuda';
  if (on('GGML_METAL')) return 'metal';
  if (on('GGML_VULKAN')) return 'vulkan';
  return 'cpu';
}

/** Every binary present for this platform, node-gyp-build's choice first. @internal */
export function findCandidates(root: string): Omit<BackendCandidate, 'note'>[] {
  const out: Omit<BackendCandidate, 'note'>[] = [];
  const seen = new Set<string>();
  const add = (c: Omit<BackendCandidate, 'note'>) => { if (!seen.has(c.file)) { seen.add(c.file); out.push(c); } };
  const defaultPrebuild = () => {
    const st = prebuildStatus(root);
    if (st.usable && st.file) add({ file: st.file, origin: 'prebuild', backend: (st.requirements?.gpu as GpuBackend | undefined) ?? (process.platform === 'darwin' ? 'metal' : 'cpu') });
  };
  for (const dir of ['build', process.env.EMOSTEER_BUILD_DIR].filter((d): d is string => !!d)) {
    const buildDir = resolve(root, dir);
    for (const sub of ['Release', 'Debug']) {
      const file = join(buildDir, sub, 'emosteer.node');
      if (existsSync(file)) { add({ file, origin: 'build', backend: buildFolderBackend(buildDir) ?? 'cpu' }); break; }
    }
  }
  defaultPrebuild();
  for (const variant of prebuildVariants(root)) {
    const st = prebuildStatus(root, process.platform, process.arch, variant);
    if (st.usable && st.file) add({ file: st.file, origin: 'prebuild', backend: (st.requirements?.gpu as GpuBackend | undefined) ?? (variant as GpuBackend) });
  }
  return out;
}

/** node-gyp-build's resolution (build/Release, then the default prebuild); throws when there is none. */
function defaultFile(root: string): string {
  const require = createRequire(import.meta.url);
  const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  return gypBuild.resolve(root);
}

/** Thrown by {@link selectAddon} with a code the loader turns into an EmosteerError. @internal */
export class SelectionError extends Error {
  /** 'BACKEND_UNAVAILABLE' or 'ADDON_NOT_BUILT'. */
  readonly code: 'BACKEND_UNAVAILABLE' | 'ADDON_NOT_BUILT';
  /** @param code error code @param message why */
  constructor(code: 'BACKEND_UNAVAILABLE' | 'ADDON_NOT_BUILT', message: string) {
    super(message);
    this.code = code;
  }
}

const LABEL: Record<GpuBackend, string> = { cpu: 'CPU', vulkan: 'Vulkan', cuda: 'CUDA', metal: 'Metal' };

/** A hint for a GPU backend that shows no device in a working binary. */
function noDeviceHint(backend: GpuBackend, probe: ProbeResult): string {
  if (backend === 'vulkan' && !process.env.GGML_VK_VISIBLE_DEVICES) {
    const cpuVk = probe.devices.some((d) => /^vulkan/i.test(d.name));
    return cpuVk ? '' : ' (ggml skips CPU Vulkan drivers such as lavapipe unless GGML_VK_VISIBLE_DEVICES is set, e.g. to 0; a GPU needs its vendor\'s Vulkan driver, or mesa-vulkan-drivers)';
  }
  if (backend === 'cuda') return ' (no NVIDIA GPU or driver visible; check nvidia-smi and CUDA_VISIBLE_DEVICES)';
  return '';
}

/**
 * Chooses the binary for `requested` among those under `root`, probing GPU candidates in child
 * processes (cached). Returns the file to load and the selection's account; throws
 * {@link SelectionError} when a named GPU backend works nowhere, or no binary exists.
 * @internal
 */
export function selectAddon(root: string, requested: GpuRequest, options: { useCache?: boolean } = {}): BackendSelection {
  let fallback: string;
  try {
    fallback = defaultFile(root);
  } catch (err) {
    throw new SelectionError('ADDON_NOT_BUILT', `no emosteer native addon in ${root}/build/Release nor a prebuilt one for ${process.platform}-${process.arch}: ${(err as Error).message}`);
  }
  const found = findCandidates(root);
  const candidates: BackendCandidate[] = found.map((c) => ({ ...c, note: 'not needed' }));
  const fallbackBackend = found.find((c) => c.file === fallback)?.backend ?? 'cpu';
  if (requested === 'cpu') {
    const c = candidates.find((x) => x.file === fallback);
    if (c) c.note = 'loaded';
    return { requested, backend: 'cpu', file: fallback, reason: `gpu: 'cpu' asked for; ${fallback} (node-gyp-build's choice)${fallbackBackend !== 'cpu' ? `, with its ${LABEL[fallbackBackend]} backend unused (models load with cpuOnly)` : ''}`, candidates };
  }
  const wanted = requested === 'auto' ? AUTO_ORDER : [requested];
  const problems: string[] = [];
  for (const backend of wanted) {
    const of = candidates.filter((c) => c.backend === backend);
    if (!of.length) { problems.push(`no ${LABEL[backend]} addon is built here`); continue; }
    for (const c of of) {
      const probe = probeAddon(c.file, options);
      c.probe = probe;
      const name = backend as Exclude<GpuBackend, 'cpu'>;
      if (!probe.ok) {
        c.note = `does not load: ${probe.error}`;
      } else if (!hasBackend(name, probe)) {
        c.note = `loads, but registers no ${LABEL[backend]} backend (backends: ${probe.backends.join(', ')})`;
      } else {
        const devs = backendDevices(name, probe);
        if (!devs.length) {
          c.note = `loads, but its ${LABEL[backend]} backend sees no GPU device${noDeviceHint(backend, probe)}`;
        } else {
          c.note = 'loaded';
          const what = devs.map((d) => `${d.name} (${d.description})`).join(', ');
          return { requested, backend, file: c.file, reason: `${requested === 'auto' ? 'gpu: \'auto\' chose' : 'gpu:'} ${LABEL[backend]}: ${what}, checked in a child process${probe.cached ? ' (cached)' : ` in ${probe.ms} ms`}`, candidates };
        }
      }
      problems.push(`${c.file}: ${c.note}`);
    }
  }
  if (requested !== 'auto') {
    const hint = requested === 'vulkan' ? 'build one with `EMOSTEER_GPU=vulkan npm run build:native` (or ship prebuilds/<platform>-<arch>-vulkan: `npm run prebuild -- --gpu vulkan`)'
      : `build one with \`EMOSTEER_GPU=${requested} npm run build:native\``;
    throw new SelectionError('BACKEND_UNAVAILABLE', `gpu: '${requested}' is not available: ${problems.join('; ')}. ${problems.some((p) => p.startsWith('no ')) ? `To get it, ${hint}; ` : ''}gpu: 'cpu' or 'auto' runs on the CPU.`);
  }
  const c = candidates.find((x) => x.file === fallback);
  if (c) c.note = 'loaded';
  return { requested, backend: 'cpu', file: fallback, reason: `gpu: 'auto' fell back to the CPU (${fallback}): ${problems.join('; ')}`, candidates };
}
