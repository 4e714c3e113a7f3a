// Sampler: a llama.cpp sampler chain (repetition penalties, top-k, top-p, min-p,
// temperature, seeded draw, or greedy) owned by a JS object; one per generated sequence.
#pragma once
#include <napi.h>

#include <memory>

#include "llama.h"

namespace emosteer {

struct SamplerDeleter {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** new NativeSampler(model, {temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed}) */
  explicit Sampler(const Napi::CallbackInfo& info);
  llama_sampler* get() const { return chain_.get(); }

 private:
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  SamplerPtr chain_;
};

}  // namespace emosteer
