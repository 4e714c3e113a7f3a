#include "thread_pool.h"

#include "ggml-backend.h"

namespace emosteer {

std::string CpuThreadPools::Attach(llama_context* ctx, int32_t nThreads, int32_t nThreadsBatch) {
  // Looked up through the CPU backend's registry, so that this works whether ggml-cpu is linked
  // in or loaded as a backend module.
  ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
  if (cpu == nullptr) return "no CPU backend";
  ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(cpu);
  using NewFn = ggml_threadpool_t (*)(ggml_threadpool_params*);
  auto make = reinterpret_cast<NewFn>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
  free_ = reinterpret_cast<FreeFn>(ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
  if (make == nullptr || free_ == nullptr) return "the CPU backend has no thread pools";

  ggml_threadpool_params single = ggml_threadpool_params_default(nThreads);
  ggml_threadpool_params batch = ggml_threadpool_params_default(nThreadsBatch);
  if (!ggml_threadpool_params_match(&single, &batch)) {
    batchPool_ = make(&batch);
    if (batchPool_ == nullptr) return "could not start " + std::to_string(nThreadsBatch) + " batch threads";
    // Only one pool works at a time; ggml resumes the one a graph needs.
    single.paused = true;
  }
  pool_ = make(&single);
  if (pool_ == nullptr) {
    if (batchPool_ != nullptr) free_(batchPool_);
    batchPool_ = nullptr;
    return "could not start " + std::to_string(nThreads) + " threads";
  }
  llama_attach_threadpool(ctx, pool_, batchPool_);
  return "";
}

CpuThreadPools::~CpuThreadPools() {
  if (free_ == nullptr) return;
  if (pool_ != nullptr) free_(pool_);
  if (batchPool_ != nullptr) free_(batchPool_);
}

}  // namespace emosteer
