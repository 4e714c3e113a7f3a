/**
 * The model a protocol call works on: a loaded {@link Model} (used as it is, never disposed
 * by the call), or the path of a GGUF file, loaded once when a step first needs it and
 * disposed when the call ends — so a run folder whose steps are all done loads nothing.
 *
 * @module
 */
import { loadModel, type LoadModelOptions, type Model } from '../runtime/model.js';

/** A loaded model, or the path of a GGUF file (loaded once, only when a step needs it). */
export type ModelSource = Model | string;

/** A model loaded at most once, on first use. @internal */
export interface ModelHandle {
  /** The GGUF file. */
  readonly path: string;
  /** The model, loading it on the first call. */
  get(): Promise<Model>;
  /** The model if it has been loaded. */
  readonly loaded: Model | undefined;
  /** Disposes the model if this handle loaded it (a Model passed in belongs to the caller); a later `get` loads it again. */
  dispose(): void;
}

/** A handle on a model source. @internal */
export function modelHandle(source: ModelSource, loadOptions: LoadModelOptions = {}): ModelHandle {
  if (typeof source !== 'string') {
    return { path: source.info.path, get: async () => source, loaded: source, dispose: () => {} };
  }
  let loading: Promise<Model> | undefined;
  let loaded: Model | undefined;
  return {
    path: source,
    get() {
      loading ??= loadModel(source, loadOptions).then((m) => (loaded = m));
      return loading;
    },
    get loaded() { return loaded; },
    dispose() {
      if (loaded && !loaded.disposed) loaded.dispose();
      loading = undefined;
      loaded = undefined;
    },
  };
}
