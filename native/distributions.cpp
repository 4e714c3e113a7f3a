#include "distributions.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "errors.h"

namespace emosteer {

RowSoftmax Softmax(const float* logits, int32_t nVocab) {
  RowSoftmax s;
  float mx = logits[0];
  for (int32_t i = 1; i < nVocab; ++i) {
    if (logits[i] > mx) {
      mx = logits[i];
      s.top = i;
    }
  }
  double sum = 0.0;
  for (int32_t i = 0; i < nVocab; ++i) sum += std::exp(logits[i] - mx);
  s.offset = static_cast<double>(mx) + std::log(sum);
  return s;
}

void TopK(const float* logits, int32_t nVocab, const RowSoftmax& s, int32_t k, llama_token* tokens, float* logProbs) {
  k = std::min(k, nVocab);
  if (k <= 0) return;
  // best[0..n) ascending by (logit, -id): best[0] is the weakest kept.
  std::vector<std::pair<float, int32_t>> best;
  best.reserve(static_cast<size_t>(k) + 1);
  auto weaker = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  };
  for (int32_t i = 0; i < nVocab; ++i) {
    const float v = logits[i];
    if (static_cast<int32_t>(best.size()) == k && !(v > best.front().first)) continue;  // ties keep the lower id
    std::pair<float, int32_t> e{v, i};
    best.insert(std::upper_bound(best.begin(), best.end(), e, weaker), e);
    if (static_cast<int32_t>(best.size()) > k) best.erase(best.begin());
  }
  for (int32_t j = 0; j < k; ++j) {
    const auto& e = best[best.size() - 1 - j];
    tokens[j] = e.second;
    logProbs[j] = LogProb(logits, s, e.second);
  }
}

void DistributionRecord::Reset(int32_t vocab, const llama_token* rowTargets, int32_t n) {
  complete = false;
  nVocab = vocab;
  rows = n;
  logp.resize(static_cast<size_t>(n) * vocab);
  targets.assign(rowTargets, rowTargets + n);
  top.assign(n, 0);
}

float RecordRow(const float* logits, DistributionRecord& rec, int32_t row) {
  const int32_t n = rec.nVocab;
  const RowSoftmax s = Softmax(logits, n);
  float* dst = rec.logp.data() + static_cast<size_t>(row) * n;
  for (int32_t i = 0; i < n; ++i) dst[i] = LogProb(logits, s, i);
  rec.top[row] = s.top;
  return dst[rec.targets[row]];
}

float CompareRow(const float* logits, const DistributionRecord& rec, int32_t row, RowComparison& out, size_t j) {
  const int32_t n = rec.nVocab;
  const RowSoftmax s = Softmax(logits, n);
  const float* ref = rec.logp.data() + static_cast<size_t>(row) * n;
  // KL(ref || this) = sum_i p_ref(i) (log p_ref(i) - log p(i)), over the whole vocabulary. Both
  // log-probabilities are rounded by LogProb, so a row equal to the reference's gives exactly 0.
  double kld = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    const float lr = ref[i];
    const float lc = LogProb(logits, s, i);
    if (lr != lc) kld += static_cast<double>(std::exp(lr)) * (static_cast<double>(lr) - static_cast<double>(lc));
  }
  const llama_token target = rec.targets[row];
  const int32_t refTop = rec.top[row];
  const float lp = LogProb(logits, s, target);
  out.kld[j] = static_cast<float>(std::max(0.0, kld));
  out.refLogProb[j] = ref[target];
  out.deltaP[j] = static_cast<float>(std::exp(static_cast<double>(lp)) - std::exp(static_cast<double>(ref[target])));
  out.deltaPTop[j] = static_cast<float>(std::exp(static_cast<double>(LogProb(logits, s, refTop))) - std::exp(static_cast<double>(ref[refTop])));
  out.sameTop[j] = s.top == refTop ? 1 : 0;
  return lp;
}

void RowComparison::Resize(size_t n) {
  kld.assign(n, 0.0f);
  refLogProb.assign(n, 0.0f);
  deltaP.assign(n, 0.0f);
  deltaPTop.assign(n, 0.0f);
  sameTop.assign(n, 0);
}

void ParallelFor(size_t n, int32_t threads, const std::function<void(size_t)>& fn) {
  const size_t t = std::min(n, static_cast<size_t>(std::max(1, threads)));
  if (t <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // Strided split: rows cost the same, and a stride keeps the split deterministic.
  std::vector<std::thread> workers;
  workers.reserve(t - 1);
  auto part = [&](size_t w) {
    for (size_t i = w; i < n; i += t) fn(i);
  };
  size_t w = 1;
  try {
    for (; w < t; ++w) workers.emplace_back(part, w);
  } catch (...) {
    // No thread to be had: the parts not started run on this thread (never leave a joinable
    // std::thread to a destructor, which would terminate the process).
  }
  for (size_t rest = w; rest < t; ++rest) part(rest);
  part(0);
  for (std::thread& th : workers) th.join();
}

Napi::Function NativeDistributions::Define(Napi::Env env) {
  return DefineClass(env, "NativeDistributions", {InstanceMethod<&NativeDistributions::Release>("release")});
}

NativeDistributions::NativeDistributions(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NativeDistributions>(info), record_(std::make_shared<DistributionRecord>()) {}

Napi::Value NativeDistributions::Release(const Napi::CallbackInfo& info) {
  record_ = std::make_shared<DistributionRecord>();
  return info.Env().Undefined();
}

}  // namespace emosteer
