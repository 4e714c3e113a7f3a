#include "steering.h"

#include <cmath>

namespace emosteer {

CodedError SteeringState::Set(llama_context* ctx, const float* vectors, size_t count, float scale, int32_t start, int32_t end) {
  if (count % static_cast<size_t>(nEmbd_) != 0) {
    return {"VECTOR_WIDTH_MISMATCH", "steering data has " + std::to_string(count) + " floats, not a multiple of the model's n_embd " + std::to_string(nEmbd_)};
  }
  if (count != static_cast<size_t>(nLayer_) * nEmbd_) {
    return {"VECTOR_WIDTH_MISMATCH", "steering data must hold nLayer*nEmbd = " + std::to_string(nLayer_) + "*" + std::to_string(nEmbd_) +
                                         " floats (one row per block), got " + std::to_string(count)};
  }
  if (!std::isfinite(scale)) return {"NON_FINITE_VECTOR", "steering scale is not finite"};
  if (start < 0 || end >= nLayer_ || start > end) {
    return {"LAYER_OUT_OF_RANGE", "steering block range [" + std::to_string(start) + ", " + std::to_string(end) + "] is outside 1.." + std::to_string(nLayer_ - 1)};
  }
  if (start == 0) {
    return {"LAYER_OUT_OF_RANGE", "block 0 cannot be steered: llama.cpp's control vectors start at block 1 (use a range starting at 1)"};
  }
  for (int32_t il = start; il <= end; ++il) {
    const float* row = vectors + static_cast<size_t>(il) * nEmbd_;
    for (int32_t j = 0; j < nEmbd_; ++j) {
      if (!std::isfinite(row[j])) {
        return {"NON_FINITE_VECTOR", "steering vector for block " + std::to_string(il) + " holds NaN or Infinity at index " + std::to_string(j)};
      }
    }
  }
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
