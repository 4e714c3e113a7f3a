#include "steering.h"

#include <cmath>

#include "sequence_steering.h"

namespace emosteer {

CodedError SteeringState::Set(llama_context* ctx, const float* vectors, size_t count, float scale, int32_t start, int32_t end) {
  CodedError invalid = ValidateSteering(nLayer_, nEmbd_, vectors, count, scale, start, end);
  if (!invalid.empty()) return invalid;
  // llama.cpp layout: blocks 1..nLayer-1, zeros outside [start, end].
  std::vector<float> data(static_cast<size_t>(nLayer_ - 1) * nEmbd_, 0.0f);
  for (int32_t il = start; il <= end; ++il) {
    const float* src = vectors + static_cast<size_t>(il) * nEmbd_;
    float* dst = data.data() + static_cast<size_t>(il - 1) * nEmbd_;
    for (int32_t j = 0; j < nEmbd_; ++j) dst[j] = src[j] * scale;
  }
  if (llama_set_adapter_cvec(ctx, data.data(), data.size(), nEmbd_, start, end) != 0) {
    return {"VECTOR_WIDTH_MISMATCH", "llama.cpp rejected the control vector: " + LastLlamaError()};
  }
  vectors_.assign(vectors, vectors + count);
  scale_ = scale;
  start_ = start;
  end_ = end;
  active_ = true;
  return {};
}

void SteeringState::Clear(llama_context* ctx) {
  llama_set_adapter_cvec(ctx, nullptr, 0, nEmbd_, 0, 0);
  active_ = false;
  vectors_.clear();
  scale_ = 0.0f;
  start_ = 0;
  end_ = -1;
}

}  // namespace emosteer
