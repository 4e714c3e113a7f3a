// The CPU thread pools of a context (option threadPool, default off): ggml's worker threads,
// created once per context and kept for its life (llama_attach_threadpool), as llama.cpp's own
// tools do. Without them ggml creates and joins a disposable pool in every graph computation
// (every llama_decode, and every piece of a graph the eval callback splits). On the 2-core
// machine this was measured on, the pools gained nothing on plain decoding and cost 4-8% on the
// eval-callback steering path (bench/context-speed.mjs), so they are opt-in: for many-core
// machines, where starting more threads per decode costs more.
#pragma once
#include <memory>
#include <string>

#include "ggml.h"
#include "llama.h"

namespace emosteer {

class CpuThreadPools {
 public:
  /**
   * Creates the pools of `ctx` (nThreads for single-token decodes, nThreadsBatch for prompt
   * batches; one pool when equal) and attaches them. Returns "" or why they could not be made
   * (no CPU backend, thread creation failed): the context then keeps ggml's per-call pools.
   */
  std::string Attach(llama_context* ctx, int32_t nThreads, int32_t nThreadsBatch);
  CpuThreadPools() = default;
  CpuThreadPools(const CpuThreadPools&) = delete;
  CpuThreadPools& operator=(const CpuThreadPools&) = delete;
  /** Frees the pools; the owner frees its llama_context first (ContextCore's member order). */
  ~CpuThreadPools();

  bool attached() const { return pool_ != nullptr; }

 private:
  using FreeFn = void (*)(ggml_threadpool_t);
  FreeFn free_ = nullptr;
  ggml_threadpool_t pool_ = nullptr;
  ggml_threadpool_t batchPool_ = nullptr;
};

}  // namespace emosteer
