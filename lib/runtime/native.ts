/**
 * Loads the compiled addon (build/Release/emosteer.node, via node-gyp-build) and types its
 * surface. Internal: applications use the classes in model.ts and context.ts.
 * @internal
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmosteerError } from '../errors.js';
import { backendDevices, isGpuRequest, selectAddon, SelectionError, type BackendSelection, type GpuBackend, type GpuRequest } from './backend-select.js';
import { prebuildStatus } from './prebuild.js';

/** Metadata the addon reports for a model (the fields of {@link ModelInfo}). */
export interface NativeModelInfo {
  /** Absolute path of the GGUF file. */
  path: string;
  /** `general.architecture`, e.g. 'llama', 'gemma3', 'qwen2'. */
  arch: string;
  /** `general.name` (may be empty). */
  name: string;
  /** llama.cpp's one-line description, e.g. 'gemma3 270M Q4_K - Medium'. */
  description: string;
  /** Number of transformer blocks; emosteer's layers are the blocks 0..nLayer-1. */
  nLayer: number;
  /** Width of the residual stream (hidden size). */
  nEmbd: number;
  /** Attention heads. */
  nHead: number;
  /** Key/value heads. */
  nHeadKv: number;
  /** Vocabulary size. */
  nVocab: number;
  /** Context length the model was trained with. */
  nCtxTrain: number;
  /** Number of parameters. */
  nParams: number;
  /** Bytes of tensor data. */
  tensorBytes: number;
  /** Quantization (file type), e.g. 'Q4_K - Medium', 'F32'. */
  quantization: string;
  /** The chat template stored in the model, or null. */
  chatTemplate: string | null;
  /** Beginning-of-sequence token id (-1 if none). */
  bos: number;
  /** End-of-sequence token id (-1 if none). */
  eos: number;
  /** Whether the tokenizer adds BOS by default. */
  addBos: boolean;
  /** Recurrent or hybrid architecture. */
  isRecurrent: boolean;
  /** Encoder-decoder architecture. */
  hasEncoder: boolean;
  /** All scalar/short metadata key/values as strings (huge arrays such as the vocabulary are omitted). */
  metadata: Record<string, string>;
}

/** @internal */
export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array, removeSpecial: boolean, unparseSpecial: boolean): string;
  tokenToPiece(token: number, special: boolean): Uint8Array;
  applyChatTemplate(messages: { role: string; content: string }[], addAssistant: boolean, template?: string): string;
  isEog(token: number): boolean;
  dispose(): void;
  isDisposed(): boolean;
}

/** One item of a native decode step. @internal */
export interface NativeStepItem {
  seq: number;
  tokens: Int32Array;
  sampler?: NativeSampler;
  acceptTokens?: boolean;
  logits?: boolean;
  scoreFrom?: number;
  pool?: 'none' | 'all' | 'last' | 'mean' | 'index';
  start?: number;
  end?: number;
  /** Per-sequence steering of this item's tokens. */
  steering?: NativeSequenceSteering;
  /** Record the scored rows' next-token distributions here (needs scoreFrom). */
  record?: NativeDistributions;
  /** Compare the scored rows' distributions with these (needs scoreFrom; same tokens). */
  compare?: NativeDistributions;
  /** >= 0: the sampled token's log-probability and the k most probable tokens of its row. */
  sampledTopK?: number;
  /** > 0: the k most probable tokens of every scored row. */
  scoreTopK?: number;
}

/** A reference's next-token distributions held natively (lib/runtime/distributions.ts). @internal */
export interface NativeDistributions {
  release(): void;
}

/** Per scored row of an item compared with recorded distributions. @internal */
export interface NativeComparison {
  kld: Float32Array;
  referenceLogProbs: Float32Array;
  deltaP: Float32Array;
  deltaPTop: Float32Array;
  sameTop: Uint8Array;
}

/** Validated, pre-scaled per-sequence steering (immutable). @internal */
export interface NativeSequenceSteering {
  readonly start: number;
  readonly end: number;
}

/** @internal */
export interface NativeStepResult {
  nPast: number;
  sampled?: number;
  eog?: boolean;
  /** The sampler's grammar admitted no token of the vocabulary (`sampled` is -1; nothing was accepted). */
  grammarStuck?: boolean;
  logits?: Float32Array;
  scores?: Float32Array;
  activations?: Float32Array[];
  comparison?: NativeComparison;
  sampledLogProb?: number;
  topTokens?: Int32Array;
  topLogProbs?: Float32Array;
  scoreTopTokens?: Int32Array;
  scoreTopLogProbs?: Float32Array;
}

/** @internal */
export interface NativeContextInfo {
  contextSize: number;
  batchSize: number;
  ubatchSize: number;
  sequences: number;
  threads: number;
  batchThreads: number;
  activationHooks: boolean;
  /** The context has its own CPU thread pools (option threadPool, and they could be made). */
  threadPool: boolean;
  /** Uniform per-sequence steering goes through llama.cpp's control vector (option steeringControlVector). */
  steeringControlVector: boolean;
  /** Steps that applied uniform steering through the control vector. */
  controlVectorSteps: number;
  nLayer: number;
  nEmbd: number;
  nVocab: number;
}

/** @internal */
export interface NativeContext {
  step(items: NativeStepItem[], layers?: Int32Array, tensor?: string): Promise<NativeStepResult[]>;
  clearSequence(seq?: number, from?: number): void;
  sequenceLength(seq: number): number;
  setSteering(vectors: Float32Array, scale: number, start: number, end: number): void;
  clearSteering(): void;
  getSteering(): { vectors: Float32Array; scale: number; start: number; end: number } | null;
  abort(): void;
  info(): NativeContextInfo;
  dispose(): void;
  isBusy(): boolean;
}

/** @internal */
export interface NativeSampler {
  reset(): void;
  /** Feeds tokens that were not sampled (a prompt) to the penalties and DRY, never to the grammar. */
  accept(tokens: Int32Array): void;
}

/** Versions and capabilities of the native layer. */
export interface NativeVersions {
  /** The pinned llama.cpp commit the addon was built from. */
  llamaCppCommit: string;
  /** llama.cpp's own version string (`llama_version()`). */
  llamaCppVersion: string;
  /** The ggml version string (`ggml_version()`). */
  ggmlVersion: string;
  /** llama.cpp's system info line (SIMD features, backends). */
  systemInfo: string;
  /** Whether a GPU backend is built in, so that `gpuLayers` offloads blocks. */
  gpuOffload: boolean;
  /** Whether models can be memory-mapped on this platform. */
  mmap: boolean;
  /** Whether the RPC backend is built in (`loadModel(path, { rpcServers })`, docs/scale-out.md). */
  rpc: boolean;
  /** How the loaded binary was made. */
  build: {
    /** 'prebuilt' (shipped in prebuilds/ by `npm run prebuild`) or 'source' (built on this machine). */
    kind: 'prebuilt' | 'source' | string;
    /** The CPU baseline: 'native' (this machine's, `-march=native`) or e.g. 'x86-64-v3+AVX2+FMA+F16C+BMI2'. */
    cpu: string;
    /**
     * glibc's mmap threshold as the addon fixed it (1 MiB, so that freed model and context
     * buffers go back to the OS; docs/reliability.md), or null where it left malloc alone
     * (not glibc, MALLOC_MMAP_THRESHOLD_ set, or EMOSTEER_KEEP_MALLOC=1).
     */
    mallocMmapThreshold: number | null;
  };
  /** The ggml backends registered in this process, e.g. ['CPU', 'RPC'] or ['CUDA', 'CPU']. */
  backends: string[];
  /** Absolute path of the loaded .node file. */
  binaryPath: string;
  /**
   * Which compute backend this process uses and why: what was asked (`loadModel`'s `gpu`, or
   * EMOSTEER_GPU, default 'auto'), the binary chosen, and every binary considered with what its
   * child-process probe found (lib/runtime/backend-select.ts).
   */
  selection: BackendSelection;
  /** The compute devices ggml sees in this process (CPU, GPUs; RPC servers are not listed). */
  devices: {
    /** ggml's device name, e.g. 'CPU', 'CUDA0'. */
    name: string;
    /** The device's description, e.g. the CPU or GPU model. */
    description: string;
    /** 'cpu', 'gpu', 'igpu' or 'other'. */
    type: string;
    /** Total memory in bytes as the backend reports it. */
    memoryTotal: number;
  }[];
}

/** @internal */
export interface NativeAddon {
  NativeSampler: new (model: NativeModel, options: object) => NativeSampler;
  NativeSequenceSteering: new (model: NativeModel, vectors: Float32Array, scale: number, start: number, end: number) => NativeSequenceSteering;
  NativeDistributions: new () => NativeDistributions;
  loadModel(path: string, options: { gpuLayers?: number; mmap?: boolean; onProgress?: (p: number) => void; rpcServers?: string[]; repack?: boolean; cpuOnly?: boolean }): Promise<NativeModel>;
  createContext(model: NativeModel, options: object): Promise<NativeContext>;
  versions(): Omit<NativeVersions, 'binaryPath'>;
  setLogLevel(level?: number): number;
}

let cached: NativeAddon | undefined;
let cachedPath = '';
let selection: BackendSelection | undefined;

/** The package root (two levels above lib/runtime/ and dist/runtime/). @internal */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const LOG_LEVELS: Record<string, number> = { none: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** The backend asked for when a call names none: EMOSTEER_GPU, else 'auto'. @internal */
export function defaultGpuRequest(): GpuRequest {
  const e = (process.env.EMOSTEER_GPU ?? '').trim().toLowerCase();
  if (e === '') return 'auto';
  if (!isGpuRequest(e)) throw new EmosteerError('INVALID_ARGUMENT', `EMOSTEER_GPU=${e} is not one of auto, cpu, vulkan, cuda, metal`);
  return e;
}

/**
 * Loads the addon once, chosen for the compute backend `request` (default: EMOSTEER_GPU, else
 * 'auto'; lib/runtime/backend-select.ts). A process loads one addon: once loaded, a later call
 * that asks for a GPU backend the loaded binary does not run throws BACKEND_UNAVAILABLE.
 * @internal
 */
export function addon(request?: GpuRequest): NativeAddon {
  if (cached) {
    if (request && request !== 'auto' && request !== 'cpu') {
      const seen = cached.versions();
      if (!backendDevices(request, seen).length) {
        throw new EmosteerError('BACKEND_UNAVAILABLE',
          `gpu: '${request}' cannot be used: this process already loaded ${cachedPath} (${selection?.reason ?? 'the default addon'}), which has no working ` +
          `${request} device, and a process loads one addon. Pass gpu: '${request}' to the first loadModel call, or set EMOSTEER_GPU=${request}.`);
      }
    }
    return cached;
  }
  const require = createRequire(import.meta.url);
  const rebuild = 'Build it here with `npm run build:native` in the package folder, or reinstall with ' +
    'EMOSTEER_BUILD_FROM_SOURCE=1 (needs cmake, git and a C++17 compiler).';
  let chosen: BackendSelection;
  try {
    // node-gyp-build's order for the CPU (build/Release, a build made here, then
    // prebuilds/<platform>-<arch>); GPU builds and prebuild variants after a child process has loaded them.
    chosen = selectAddon(packageRoot, request ?? defaultGpuRequest());
  } catch (err) {
    if (err instanceof SelectionError) {
      throw new EmosteerError(err.code, err.code === 'ADDON_NOT_BUILT' ? `${err.message}. ${rebuild}` : err.message, { cause: err });
    }
    throw err;
  }
  const file = chosen.file;
  if (file.startsWith(join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`) + '/')) {
    const status = prebuildStatus(packageRoot);
    if (!status.usable) throw new EmosteerError('ADDON_NOT_BUILT', `the prebuilt addon ${file} cannot run here: ${status.reason}. ${rebuild}`);
  }
  try {
    cached = require(file) as NativeAddon;
    cachedPath = file;
    selection = chosen;
  } catch (err) {
    throw new EmosteerError('ADDON_NOT_BUILT', `the emosteer native addon ${file} could not be loaded: ${(err as Error).message}. ${rebuild}`, { cause: err });
  }
  const level = (process.env.EMOSTEER_LOG ?? 'none').toLowerCase();
  cached.setLogLevel(LOG_LEVELS[level] ?? 0);
  return cached;
}

/** The backend the loaded addon uses ('cpu' before any is loaded). @internal */
export function loadedBackend(): GpuBackend {
  return selection?.backend ?? 'cpu';
}

/**
 * Versions of the native layer: the llama.cpp commit it was built from, ggml version,
 * SIMD/system info and the compute devices it sees.
 */
export function versions(): NativeVersions {
  const v = addon().versions();
  return { ...v, binaryPath: cachedPath, selection: selection! };
}

/**
 * Sets how much of llama.cpp's own log reaches stderr ('none' by default; the environment
 * variable EMOSTEER_LOG sets the initial level).
 */
export function setLogLevel(level: 'none' | 'debug' | 'info' | 'warn' | 'error'): void {
  addon().setLogLevel(LOG_LEVELS[level] ?? 0);
}
