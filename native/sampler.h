// Sampler: a llama.cpp sampler chain (repetition penalties, DRY, top-k, top-p, min-p,
// temperature, seeded draw, or greedy) and an optional GBNF grammar, owned by a JS object;
// one per generated sequence.
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "llama.h"

namespace emosteer {

struct SamplerDeleter {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerDeleter>;

class Sampler : public Napi::ObjectWrap<Sampler> {
 public:
  static Napi::Function Define(Napi::Env env);
  /**
   * new NativeSampler(model, {temperature, topK, topP, minP, repeatPenalty, repeatLastN,
   * frequencyPenalty, presencePenalty, seed, dryMultiplier, dryBase, dryAllowedLength,
   * dryPenaltyLastN, drySequenceBreakers, grammar})
   */
  explicit Sampler(const Napi::CallbackInfo& info);

  /**
   * Feeds tokens that were not sampled (a prompt) to the chain: the repetition penalties and
   * DRY see them; the grammar does not (it constrains generated text only).
   */
  void AcceptPrompt(const llama_token* tokens, size_t n);

  /**
   * Picks the next token from one row of logits (nVocab floats) and accepts it (chain and
   * grammar). With a grammar, the pick always satisfies it; returns -1 (and accepts nothing)
   * when the grammar admits no token of the vocabulary. Runs on the decode thread; may throw
   * (std::exception) on a llama.cpp failure.
   */
  llama_token Sample(const float* logits, int32_t nVocab);

  bool HasGrammar() const { return grammar_ != nullptr; }

 private:
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Accept(const Napi::CallbackInfo& info);
  /** cur_ <- the row's logits, in vocabulary order. */
  llama_token_data_array Fill(const float* logits, int32_t nVocab);

  SamplerPtr chain_;
  SamplerPtr grammar_;  // null without a grammar
  std::vector<llama_token_data> cur_;
};

}  // namespace emosteer
