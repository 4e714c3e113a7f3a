/**
 * Model: a GGUF model loaded by llama.cpp, with its metadata, tokenizer and chat template.
 * One model serves any number of contexts (they share the weights).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Context, type ContextOptions } from './context.js';
import { isJinjaTemplate, renderJinjaTemplate } from './jinja-template.js';
import { EmosteerError, fromNativeError } from '../errors.js';
import { readGguf } from '../gguf/reader.js';
import { isGpuRequest, type GpuRequest } from './backend-select.js';
import { addon, defaultGpuRequest, loadedBackend, type NativeModel, type NativeModelInfo } from './native.js';
import { checkRpcServers } from './rpc-servers.js';

/** Options of {@link loadModel}. Every field is optional; defaults are documented per field. */
export interface LoadModelOptions {
  /** Blocks to offload to the GPU: a number, or 'max' for all (default 'max'; ignored on CPU builds). */
  gpuLayers?: number | 'max';
  /**
   * Compute backend (default: the environment variable EMOSTEER_GPU, else 'auto'). 'auto' uses
   * the first of CUDA, Metal, Vulkan whose built or prebuilt addon loads in a child process and
   * sees a GPU, else the CPU, and says why in `versions().selection`; a named GPU backend that
   * works nowhere throws BACKEND_UNAVAILABLE listing each candidate's problem. 'cpu' keeps every
   * weight and op on the CPU, even in an addon built with a GPU backend. A process loads one addon,
   * so the first native call chooses; a later `gpu` naming a backend it lacks throws
   * BACKEND_UNAVAILABLE. Probes are cached per binary and environment (docs/native-core.md).
   *
   * @example
   * const model = await loadModel('model.gguf', { gpu: 'auto' });
   * console.log(versions().selection.backend, versions().selection.reason);
   */
  gpu?: GpuRequest;
  /** Memory-map the file instead of reading it (default true). */
  mmap?: boolean;
  /** Called with the load progress in [0, 1]. */
  onProgress?: (progress: number) => void;
  /**
   * llama.cpp `rpc-server` endpoints, 'host:port', whose devices hold the offloaded layers
   * (`gpuLayers` of them, default all; the rest stay on this machine's CPU). Needs an addon with
   * the RPC backend (the prebuilt one, or a source build with EMOSTEER_RPC=1; see
   * `versions().rpc`). Each endpoint must accept a connection when the model loads
   * (RPC_UNREACHABLE otherwise). rpc-server has no authentication: never expose it to an open
   * network. See docs/scale-out.md.
   *
   * @example
   * const model = await loadModel('model.gguf', { rpcServers: ['10.0.0.2:50052'] });
   */
  rpcServers?: string[];
  /**
   * Let llama.cpp repack quantized weights into the interleaved layouts of its fastest CPU
   * kernels (default true). Those kernels round differently from the plain ones, so a quantized
   * model on an `rpcServers` device, which never repacks, gives slightly different logits than
   * the same model in-process; `repack: false` makes the two agree (docs/scale-out.md).
   */
  repack?: boolean;
}

/** A chat message for {@link Model.applyChatTemplate}. */
export interface ChatMessage {
  /** Who speaks: 'system', 'user', 'assistant' or any role the template knows. */
  role: 'system' | 'user' | 'assistant' | (string & {});
  /** The message text. */
  content: string;
}

/** What emosteer knows about a loaded model (the native fields plus file facts). */
export interface ModelInfo extends NativeModelInfo {
  /** Size of the GGUF file in bytes. */
  sizeBytes: number;
  /** Whether the GGUF itself carries a chat template (see {@link Model.chatTemplate} for the one used). */
  hasChatTemplate: boolean;
}

/** Options of {@link Model.tokenize}. */
export interface TokenizeOptions {
  /** Add BOS/EOS as the model's tokenizer is configured to (default true). */
  addSpecial?: boolean;
  /** Recognise special tokens written in the text, e.g. '<start_of_turn>' (default false). */
  parseSpecial?: boolean;
}

/**
 * Loads a GGUF model. The file is checked before llama.cpp sees it, so a wrong path, a file
 * that is not GGUF, or a truncated or corrupt file gives a clear {@link EmosteerError}
 * (FILE_NOT_FOUND, NOT_GGUF, GGUF_TRUNCATED, GGUF_CORRUPT) instead of a crash.
 *
 * @example
 * const model = await loadModel('gemma-3-270m-q4_k_m.gguf');
 * const ctx = await model.createContext({ contextSize: 2048 });
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  if (typeof path !== 'string' || path.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'loadModel(path): path must be a non-empty string');
  const abs = resolve(path);
  let size: number;
  try {
    const st = await stat(abs);
    if (!st.isFile()) throw new EmosteerError('FILE_NOT_FOUND', `${abs} is not a file; pass the path of a .gguf model`);
    size = st.size;
  } catch (err) {
    if (err instanceof EmosteerError) throw err;
    throw new EmosteerError('FILE_NOT_FOUND', `model file ${abs} does not exist; pass the path of a .gguf model (or run \`npm run model:gemma\`)`, { cause: err });
  }
  await readGguf(abs); // throws NOT_GGUF / GGUF_TRUNCATED / GGUF_CORRUPT with a precise message
  const gpuLayers = options.gpuLayers === undefined || options.gpuLayers === 'max' ? -1 : options.gpuLayers;
  if (!Number.isInteger(gpuLayers)) throw new EmosteerError('INVALID_ARGUMENT', "gpuLayers must be an integer or 'max'");
  if (options.repack !== undefined && typeof options.repack !== 'boolean') throw new EmosteerError('INVALID_ARGUMENT', 'repack must be a boolean');
  if (options.gpu !== undefined && !isGpuRequest(options.gpu)) {
    throw new EmosteerError('INVALID_ARGUMENT', `gpu must be one of 'auto', 'cpu', 'vulkan', 'cuda', 'metal' (got ${JSON.stringify(options.gpu)})`);
  }
  const gpu = options.gpu ?? defaultGpuRequest();
  const lib = addon(gpu);
  // 'cpu', or a process whose loaded addon fell back to the CPU: no device in the model's list
  // (rpcServers lists its own devices).
  const cpuOnly = options.rpcServers === undefined && (gpu === 'cpu' || loadedBackend() === 'cpu') && lib.versions().gpuOffload;
  if (options.gpu === 'cpu' && options.rpcServers !== undefined) {
    throw new EmosteerError('INVALID_ARGUMENT', "gpu: 'cpu' and rpcServers cannot be combined (rpcServers puts layers on remote devices); leave gpu out or use 'auto'");
  }
  let rpcServers: string[] | undefined;
  if (options.rpcServers !== undefined) {
    if (!lib.versions().rpc) {
      throw new EmosteerError('RPC_NOT_BUILT', 'rpcServers needs an addon with the RPC backend: rebuild with `EMOSTEER_RPC=1 npm run build:native`, or use the prebuilt addon');
    }
    rpcServers = await checkRpcServers(options.rpcServers);
  }
  let native: NativeModel;
  try {
    native = await lib.loadModel(abs, { gpuLayers, mmap: options.mmap ?? true, onProgress: options.onProgress, rpcServers, repack: options.repack, ...(cpuOnly ? { cpuOnly } : {}) });
  } catch (err) {
    throw fromNativeError(err);
  }
  return new Model(native, size);
}

/** A loaded model. Create contexts from it to decode, capture and steer. */
export class Model {
  /** @internal */
  readonly native: NativeModel;
  /** Metadata of the model. */
  readonly info: ModelInfo;
  #disposed = false;

  /** @internal use {@link loadModel} */
  constructor(native: NativeModel, sizeBytes: number) {
    this.native = native;
    const n = native.info();
    this.info = Object.freeze({ ...n, sizeBytes, hasChatTemplate: n.chatTemplate !== null });
  }

  /** Number of blocks (layers 0..nLayer-1). */
  get nLayer(): number { return this.info.nLayer; }
  /** Residual-stream width. */
  get nEmbd(): number { return this.info.nEmbd; }
  /** True once {@link dispose} was called. */
  get disposed(): boolean { return this.#disposed; }

  #check(): NativeModel {
    if (this.#disposed) throw new EmosteerError('DISPOSED', 'the model was disposed; load it again');
    return this.native;
  }

  /** Text to token ids. */
  tokenize(text: string, options: TokenizeOptions = {}): Int32Array {
    return call(() => this.#check().tokenize(text, options.addSpecial ?? true, options.parseSpecial ?? false));
  }

  /** Token ids to text. */
  detokenize(tokens: ArrayLike<number>, options: { removeSpecial?: boolean; renderSpecial?: boolean } = {}): string {
    return call(() => this.#check().detokenize(Int32Array.from(tokens), options.removeSpecial ?? false, options.renderSpecial ?? false));
  }

  /** The bytes of one token (may be a partial UTF-8 sequence). */
  tokenToPiece(token: number, options: { renderSpecial?: boolean } = {}): Uint8Array {
    return call(() => this.#check().tokenToPiece(token, options.renderSpecial ?? false));
  }

  /** True when `token` ends generation (EOS, end-of-turn, ...). */
  isEndOfGeneration(token: number): boolean {
    return call(() => this.#check().isEog(token));
  }

  /**
   * The chat template used when none is passed: the model's own, else llama.cpp's built-in
   * template of the model's family (base models such as Gemma 3 270M ship without one), else null.
   */
  get chatTemplate(): string | null {
    return this.info.chatTemplate ?? FAMILY_TEMPLATES[this.info.arch] ?? null;
  }

  /**
   * Formats messages with a chat template: `options.template` (a template text or a llama.cpp
   * built-in name such as 'gemma', 'chatml', 'llama3'), else {@link chatTemplate}. Tokenize the
   * result with `{ parseSpecial: true }`.
   *
   * `renderer` (default 'auto'): llama.cpp's built-in formats first (what llama.cpp and
   * llama-server do), and the template's own Jinja rendered in JavaScript when llama.cpp does
   * not recognise it; 'llama.cpp' refuses such templates; 'jinja' always renders the Jinja
   * (the template must be a Jinja text, not a built-in name).
   * @throws EmosteerError NO_CHAT_TEMPLATE, CHAT_TEMPLATE_UNSUPPORTED, INVALID_ARGUMENT
   */
  applyChatTemplate(messages: ChatMessage[], options: { addAssistant?: boolean; template?: string; renderer?: 'auto' | 'llama.cpp' | 'jinja' } = {}): string {
    const template = options.template ?? this.chatTemplate ?? undefined;
    const renderer = options.renderer ?? 'auto';
    if (renderer !== 'auto' && renderer !== 'llama.cpp' && renderer !== 'jinja') throw new EmosteerError('INVALID_ARGUMENT', `renderer must be 'auto', 'llama.cpp' or 'jinja' (got '${String(renderer)}')`);
    const jinja = () => {
      if (template === undefined) throw new EmosteerError('NO_CHAT_TEMPLATE', 'the model has no chat template and none was given');
      if (!isJinjaTemplate(template)) throw new EmosteerError('INVALID_ARGUMENT', `renderer 'jinja' needs a Jinja template text, not the built-in name '${template}'`);
      const special = (t: number) => (t >= 0 ? Buffer.from(this.tokenToPiece(t, { renderSpecial: true })).toString('utf8') : '');
      return renderJinjaTemplate(template, messages, { addGenerationPrompt: options.addAssistant ?? true, bosToken: special(this.info.bos), eosToken: special(this.info.eos) });
    };
    if (renderer === 'jinja') return jinja();
    try {
      return call(() => this.#check().applyChatTemplate(messages, options.addAssistant ?? true, template));
    } catch (err) {
      if (renderer === 'auto' && err instanceof EmosteerError && err.code === 'CHAT_TEMPLATE_UNSUPPORTED' && template !== undefined && isJinjaTemplate(template)) return jinja();
      throw err;
    }
  }

  /**
   * Creates an inference context (own KV cache, capture and steering) on this model. Contexts
   * of one model share its weights; dispose each when done.
   *
   * @example
   * const ctx = await model.createContext({ contextSize: 2048, sequences: 4, threads: 2 });
   * const { activations } = await ctx.evaluate('The sea was calm.', { capture: { layers: [6], pooling: 'mean' } });
   * await ctx.dispose();
   */
  async createContext(options: ContextOptions = {}): Promise<Context> {
    return Context.create(this, options);
  }

  /** Releases the model. Contexts already created keep working until disposed. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }

  /** `await using model = await loadModel(...)` support. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** @internal */
  checkNative(): NativeModel { return this.#check(); }
}

/** llama.cpp built-in templates for families whose base models ship without a template. */
const FAMILY_TEMPLATES: Record<string, string> = {
  gemma: 'gemma',
  gemma2: 'gemma',
  gemma3: 'gemma',
  qwen2: 'chatml',
  qwen3: 'chatml',
};

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fromNativeError(err);
  }
}
