// Next-token distributions, reduced where they are computed: the log-softmax of one output row
// of logits (the log-probability of a token, the top-k tokens), a reference model's rows kept
// natively (DistributionRecord), and the comparison of another step's rows with them (KL
// divergence over the full vocabulary, top-1 agreement, delta-p). Quality comparisons of
// quantizations and of steering, and token log-probabilities over HTTP, then never ship a
// full-vocabulary array (262,144 floats per token for Gemma 3) into JavaScript.
//
// Every function here is pure over its arguments and runs on the decode thread (step jobs in
// context.cpp), several rows at a time on worker threads (ParallelFor).
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "llama.h"

namespace emosteer {

/** log-softmax offset of one row: log p(i) = logits[i] - offset (offset = max + log sum exp). */
struct RowSoftmax {
  double offset = 0.0;
  int32_t top = 0;  // argmax (the first index on ties)
};

/** Max, argmax and log-sum-exp of one row (double accumulation). */
RowSoftmax Softmax(const float* logits, int32_t nVocab);

/** log p(i) of a row, rounded to float the same way everywhere (so equal logits give equal values). */
inline float LogProb(const float* logits, const RowSoftmax& s, int32_t i) {
  return static_cast<float>(static_cast<double>(logits[i]) - s.offset);
}

/** The k most probable tokens of a row, most probable first (ties: lower id first). */
void TopK(const float* logits, int32_t nVocab, const RowSoftmax& s, int32_t k, llama_token* tokens, float* logProbs);

/**
 * A reference's next-token distributions at the scored rows of one step item (rows predicting
 * tokens[scoreFrom..]): the log-softmax of every row, the tokens they predict and their argmax.
 * Written by a step item with `record`, read by a later step item with `compare`. Both run on
 * the decode thread, one job at a time, so no lock is needed; JavaScript never reads it.
 */
struct DistributionRecord {
  int32_t nVocab = 0;
  int32_t rows = 0;
  /** rows x nVocab: log p_ref(token | prefix). */
  std::vector<float> logp;
  /** The token each row predicts. */
  std::vector<llama_token> targets;
  /** Each row's argmax. */
  std::vector<int32_t> top;
  /** True once a step has filled every row (a failed step leaves it false). */
  bool complete = false;

  void Reset(int32_t vocab, const llama_token* rowTargets, int32_t n);
};
using DistributionRecordPtr = std::shared_ptr<DistributionRecord>;

/** Per scored row of an item compared with a record. */
struct RowComparison {
  /** KL(ref || this) over the full vocabulary, nats. */
  std::vector<float> kld;
  /** log p_ref of the token that follows. */
  std::vector<float> refLogProb;
  /** p(next token) - p_ref(next token): llama-perplexity's delta-p. */
  std::vector<float> deltaP;
  /** p(ref's top token) - p_ref(ref's top token). */
  std::vector<float> deltaPTop;
  /** 1 where this row's argmax equals the reference's. */
  std::vector<uint8_t> sameTop;

  void Resize(size_t n);
};

/** Stores row `row` of `rec` from logits; returns log p(target). */
float RecordRow(const float* logits, DistributionRecord& rec, int32_t row);

/** Compares logits with row `row` of `rec` into out[j]; returns log p(target) under the logits. */
float CompareRow(const float* logits, const DistributionRecord& rec, int32_t row, RowComparison& out, size_t j);

/** Runs fn(0..n-1) on up to `threads` threads (the caller's included); fn must not throw. */
void ParallelFor(size_t n, int32_t threads, const std::function<void(size_t)>& fn);

/**
 * JS handle of a DistributionRecord: `new NativeDistributions()`; `release()` frees its memory
 * (a step still using it keeps its own reference until it ends).
 */
class NativeDistributions : public Napi::ObjectWrap<NativeDistributions> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeDistributions(const Napi::CallbackInfo& info);
  const DistributionRecordPtr& Get() const { return record_; }

 private:
  Napi::Value Release(const Napi::CallbackInfo& info);
  DistributionRecordPtr record_;
};

}  // namespace emosteer
