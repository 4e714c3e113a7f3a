// Steering: per-block vectors added to the residual stream through llama_set_adapter_cvec.
//
// emosteer numbers blocks 0..nLayer-1 (the output of block i is llama.cpp's l_out-i).
// llama_set_adapter_cvec takes data for blocks 1..nLayer-1 (block il reads
// data[nEmbd*(il-1)...]) and adds it at the end of block il, before l_out-il is read.
// Block 0 has no control-vector tensor in llama.cpp and cannot be steered.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"
#include "llama.h"

namespace emosteer {

class SteeringState {
 public:
  SteeringState(int32_t nLayer, int32_t nEmbd) : nLayer_(nLayer), nEmbd_(nEmbd) {}

  /**
   * Validates and applies `vectors` (nLayer*nEmbd floats, row i = block i) times `scale`,
   * on blocks [start, end]. Rows outside the range are ignored. Returns an error or {}.
   */
  CodedError Set(llama_context* ctx, const float* vectors, size_t count, float scale, int32_t start, int32_t end);
  /** Removes all steering from the context. */
  void Clear(llama_context* ctx);

  bool Active() const { return active_; }
  int32_t Start() const { return start_; }
  int32_t End() const { return end_; }
  float Scale() const { return scale_; }
  /** The vectors as given (before scaling), nLayer*nEmbd. */
  const std::vector<float>& Vectors() const { return vectors_; }

 private:
  int32_t nLayer_;
  int32_t nEmbd_;
  bool active_ = false;
  int32_t start_ = 0;
  int32_t end_ = -1;
  float scale_ = 0.0f;
  std::vector<float> vectors_;
};

}  // namespace emosteer
