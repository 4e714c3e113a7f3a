// Context: one llama.cpp inference context on a shared model, with its own KV cache, capture
// hook and steering vectors. All decoding runs off the JS thread through step(); a context
// runs one operation at a time (a second one fails with CONTEXT_BUSY; lib/context.ts queues).
// A step item may carry its own per-sequence steering (sequence_steering.h), applied by the
// eval callback to that item's rows only; the context-wide steering (steering.h) applies to all.
#pragma once
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "block_hook.h"
#include "llama.h"
#include "model.h"
#include "sequence_steering.h"
#include "steering.h"
#include "thread_pool.h"

namespace emosteer {

struct LlamaContextDeleter {
  void operator()(llama_context* c) const { llama_free(c); }
};

/** Everything native a context owns. Member order matters: ctx is freed before hook and model. */
/** Frees a llama_batch allocated with llama_batch_init. */
struct BatchDeleter {
  void operator()(llama_batch* b) const {
    llama_batch_free(*b);
    delete b;
  }
};

struct ContextCore {
  ModelPtr model;
  std::unique_ptr<BlockHook> hook;
  std::atomic<bool> abort{false};
  /** ggml's worker threads for this context (declared before ctx: freed after it). */
  CpuThreadPools threadPools;
  /** Whether to make them (option threadPool, default off: ggml's per-call pools). */
  bool wantThreadPools = false;
  std::unique_ptr<llama_context, LlamaContextDeleter> ctx;
  std::unique_ptr<SteeringState> steering;
  int32_t nLayer = 0;
  int32_t nEmbd = 0;
  int32_t nVocab = 0;
  uint32_t nCtx = 0;
  uint32_t nBatch = 0;
  uint32_t nUbatch = 0;
  uint32_t nSeqMax = 1;
  /** Whether the capture hook is installed as llama.cpp's eval callback (activationHooks). */
  bool hooks = true;
  /**
   * Uniform steering through the control vector (option steeringControlVector, default on):
   * a step whose every row carries the same per-sequence steering, with no context-wide
   * steering set, applies it with llama_set_adapter_cvec instead of the eval callback (no graph
   * split per steered block). `uniformCvec` is the steering the control vector holds now (null:
   * none set by a step); it stays set across steps, since each change costs a graph
   * re-reservation, and is cleared by the first step that is not uniformly steered.
   */
  bool uniformSteeringCvec = true;
  SequenceSteeringPtr uniformCvec;
  /** The uniform steering of the previous step (the control vector is set only when two steps in a row agree). */
  SequenceSteeringPtr lastUniform;
  /** The model names every block output l_out-N (seen by a per-sequence steered step): the control vector reaches the same blocks. */
  bool blockOutputsSeen = false;
  /** Steps that applied uniform steering through the control vector (for tests and benchmarks). */
  std::atomic<uint64_t> cvecSteps{0};

  /** Removes a control vector that a step set for uniform steering (JS thread, between steps). */
  void DropUniformCvec() {
    if (uniformCvec) llama_set_adapter_cvec(ctx.get(), nullptr, 0, nEmbd, 0, 0);
    uniformCvec.reset();
    lastUniform.reset();
  }
  /** The batch every step fills (nBatch tokens, one sequence id each), allocated once: one
   *  step runs at a time per context, and llama_batch_init costs nBatch + 4 allocations. */
  std::unique_ptr<llama_batch, BatchDeleter> batch;

  /** JS thread, when a step is submitted. */
  void BeginRun();
  /** Decode thread, when the step has finished with the context. */
  void FinishRun();
  /** Blocks until no step runs (used when the context is finalized mid-step). */
  void WaitIdle();

 private:
  std::mutex runMutex;
  std::condition_variable runCv;
  bool running = false;
};

class Context : public Napi::ObjectWrap<Context> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** createContext(model, options) -> Promise<NativeContext> */
  static Napi::Value Create(const Napi::CallbackInfo& info);

  explicit Context(const Napi::CallbackInfo& info);
  ~Context() override;
  void Adopt(std::unique_ptr<ContextCore> core) { core_ = std::move(core); }

  ContextCore& Core(Napi::Env env, bool allowBusy = false);
  void SetBusy(bool busy);

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value ClearSequence(const Napi::CallbackInfo& info);
  Napi::Value SequenceLength(const Napi::CallbackInfo& info);
  Napi::Value SetSteering(const Napi::CallbackInfo& info);
  Napi::Value ClearSteering(const Napi::CallbackInfo& info);
  Napi::Value GetSteering(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsBusy(const Napi::CallbackInfo& info);

  std::unique_ptr<ContextCore> core_;
  bool busy_ = false;
  bool disposed_ = false;
};

}  // namespace emosteer
