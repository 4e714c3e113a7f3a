/**
 * Stable error codes thrown by emosteer. Tests and applications may switch on them;
 * they never change meaning between versions.
 */
export type EmosteerErrorCode =
  /** The path given does not exist or cannot be read. */
  | 'FILE_NOT_FOUND'
  /** The file does not start with the GGUF magic. */
  | 'NOT_GGUF'
  /** The file ends before its header, metadata or tensor data says it should. */
  | 'GGUF_TRUNCATED'
  /** The GGUF header is inconsistent (unknown value type, absurd counts, bad version). */
  | 'GGUF_CORRUPT'
  /** llama.cpp refused to load the model (unsupported architecture, missing tensors, ...). */
  | 'MODEL_LOAD_FAILED'
  /** llama.cpp could not create a context (out of memory, bad parameters). */
  | 'CONTEXT_CREATE_FAILED'
  /** The model's architecture does not expose `l_out-N` block outputs to the eval callback. */
  | 'ARCH_NO_LAYER_HOOKS'
  /** The model's architecture cannot do what was asked (e.g. bake steering into its weights). */
  | 'ARCH_UNSUPPORTED'
  /** Capture was asked of a context created with `activationHooks: false`. */
  | 'CAPTURE_DISABLED'
  /** A vector's width does not equal the model's embedding width. */
  | 'VECTOR_WIDTH_MISMATCH'
  /** A block index is outside 0..nLayer-1 (or is 0 where steering needs >= 1). */
  | 'LAYER_OUT_OF_RANGE'
  /** A vector holds NaN or +-Infinity. */
  | 'NON_FINITE_VECTOR'
  /** The tokens to decode do not fit into the context window. */
  | 'PROMPT_TOO_LONG'
  /** The model or context was already disposed. */
  | 'DISPOSED'
  /** Another operation is running on the same context and the call did not wait for it. */
  | 'CONTEXT_BUSY'
  /** The operation was cancelled through its AbortSignal. */
  | 'ABORTED'
  /** An argument has the wrong type or value. */
  | 'INVALID_ARGUMENT'
  /** llama_decode reported a failure. */
  | 'DECODE_FAILED'
  /** The native addon could not be loaded (not built, or built for another Node ABI). */
  | 'ADDON_NOT_BUILT'
  /**
   * The compute backend asked for (`loadModel(path, { gpu })` or EMOSTEER_GPU) is in no built or
   * prebuilt addon here, or its addon does not load or sees no device (the message lists every
   * candidate and why), or the process already loaded an addon without it.
   */
  | 'BACKEND_UNAVAILABLE'
  /** Fetching or verifying a model failed. */
  | 'MODEL_FETCH_FAILED'
  /** A downloaded model part or assembled model differs from its pinned size or sha256. */
  | 'CHECKSUM_MISMATCH'
  /** An emotion is not in the vector set it was asked of. */
  | 'UNKNOWN_EMOTION'
  /** Strength 'auto' was asked of a vector set (or an emotion) without a calibrated strength (`emosteer calibrate`). */
  | 'NOT_CALIBRATED'
  /** A model name is not in the model registry. */
  | 'UNKNOWN_MODEL'
  /** The model has no chat template and none was given. */
  | 'NO_CHAT_TEMPLATE'
  /** llama.cpp does not recognise the chat template (it supports a fixed list, no Jinja). */
  | 'CHAT_TEMPLATE_UNSUPPORTED'
  /** A saved vector set or checkpoint does not match its manifest (sha256, size, format). */
  | 'VECTOR_SET_CORRUPT'
  /** llama.cpp's `llama_model_quantize` refused or failed (its reason is in the message). */
  | 'QUANTIZE_FAILED'
  /** A step of `emosteer study` failed for one model (the study records it and goes on). */
  | 'STUDY_STEP_FAILED'
  /**
   * Saved study state (stories, a results folder) was made with another model file, other
   * parameters or other pre-registered rules than the run that tried to resume from it.
   */
  | 'STATE_MISMATCH'
  /** The request scheduler's queue is full: retry later (HTTP 429 from `emosteer serve`). */
  | 'QUEUE_FULL'
  /** `rpcServers` was given to an addon built without llama.cpp's RPC backend (build with EMOSTEER_RPC=1). */
  | 'RPC_NOT_BUILT'
  /** An RPC server of `rpcServers` does not accept a connection or reports no devices. */
  | 'RPC_UNREACHABLE'
  /**
   * Two models whose next-token distributions were to be compared (quality against a
   * reference, `emosteer quality`) have different vocabularies.
   */
  | 'VOCAB_MISMATCH'
  /** A native allocation failed. */
  | 'OUT_OF_MEMORY'
  /** An unexpected native failure (a bug: please report it with the message). */
  | 'INTERNAL_ERROR';

/**
 * The one error class of emosteer. `code` is stable; `message` says what happened and
 * what to do about it.
 *
 * @example
 * try { await loadModel('x.gguf'); } catch (e) {
 *   if (e instanceof EmosteerError && e.code === 'FILE_NOT_FOUND') { ... }
 * }
 */
export class EmosteerError extends Error {
  /** Stable machine-readable code. */
  readonly code: EmosteerErrorCode;

  /**
   * The argument or field the error is about, when a caller can tell which of several it was
   * (e.g. `components[2]` of a steering). Undefined otherwise.
   */
  readonly field?: string;

  /**
   * @param code stable error code
   * @param message human-readable explanation, ideally with the remedy
   * @param options standard `cause`; `field`: the argument or field the error is about
   */
  constructor(code: EmosteerErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'EmosteerError';
    this.code = code;
    if (options?.field !== undefined) this.field = options.field;
  }
}

const KNOWN_CODES = new Set<string>([
  'FILE_NOT_FOUND', 'NOT_GGUF', 'GGUF_TRUNCATED', 'GGUF_CORRUPT', 'MODEL_LOAD_FAILED',
  'CONTEXT_CREATE_FAILED', 'ARCH_NO_LAYER_HOOKS', 'ARCH_UNSUPPORTED', 'VECTOR_WIDTH_MISMATCH', 'LAYER_OUT_OF_RANGE',
  'NON_FINITE_VECTOR', 'PROMPT_TOO_LONG', 'DISPOSED', 'CONTEXT_BUSY', 'ABORTED',
  'INVALID_ARGUMENT', 'DECODE_FAILED', 'ADDON_NOT_BUILT', 'MODEL_FETCH_FAILED', 'NO_CHAT_TEMPLATE',
  'CHAT_TEMPLATE_UNSUPPORTED', 'OUT_OF_MEMORY', 'INTERNAL_ERROR', 'VECTOR_SET_CORRUPT',
  'CAPTURE_DISABLED',
  'QUANTIZE_FAILED',
  'QUEUE_FULL',
  'RPC_NOT_BUILT', 'RPC_UNREACHABLE',
  'VOCAB_MISMATCH',
]);

/**
 * Turns an error thrown by the native addon (a plain Error whose `code` property holds one
 * of the codes above) into an {@link EmosteerError}. Anything else is returned unchanged.
 * @internal
 */
export function fromNativeError(err: unknown): unknown {
  if (err instanceof EmosteerError) return err;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && KNOWN_CODES.has(code)) {
      return new EmosteerError(code as EmosteerErrorCode, err.message, { cause: err });
    }
    if (code === undefined && !(err instanceof TypeError)) {
      // A C++ exception caught at the N-API boundary (no code): still a typed error.
      return new EmosteerError('INTERNAL_ERROR', err.message, { cause: err });
    }
  }
  return err;
}
