// Per-sequence steering: vectors added to the block outputs of one sequence's rows only,
// inside a batched llama_decode, by the eval callback (block_hook.cpp) rather than by llama.cpp's
// context-wide control vector (steering.h).
//
// A SequenceSteering is immutable once built (validated, pre-scaled, only the steered blocks
// kept), shared between the JS object that made it (NativeSequenceSteering) and every step that
// uses it, so switching a sequence's steering between two tokens costs a pointer copy: no graph
// re-reservation, no copy of the vectors.
#pragma once
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "errors.h"

namespace emosteer {

/**
 * Checks steering data (nLayer*nEmbd floats, row i = block i), its scale and its inclusive block
 * range [start, end] (block 0 excluded: llama.cpp's control vector cannot reach it, and the
 * per-sequence path keeps the same numbering and rules). Returns an error or {}.
 */
CodedError ValidateSteering(int32_t nLayer, int32_t nEmbd, const float* vectors, size_t count, float scale, int32_t start, int32_t end);

struct SequenceSteering {
  int32_t nEmbd = 0;
  int32_t start = 0;
  int32_t end = -1;
  /** (end - start + 1) * nEmbd floats: block start's row first, already multiplied by the scale. */
  std::vector<float> rows;

  bool Covers(int32_t block) const { return block >= start && block <= end; }
  const float* Row(int32_t block) const { return rows.data() + static_cast<size_t>(block - start) * nEmbd; }
  /** Adds this block's vector to one row of nEmbd floats. */
  void AddTo(int32_t block, float* row) const;
};

using SequenceSteeringPtr = std::shared_ptr<const SequenceSteering>;

/** JS handle: `new NativeSequenceSteering(model, vectors: Float32Array, scale, start, end)`. */
class NativeSequenceSteering : public Napi::ObjectWrap<NativeSequenceSteering> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativeSequenceSteering(const Napi::CallbackInfo& info);
  const SequenceSteeringPtr& Get() const { return steering_; }

 private:
  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value End(const Napi::CallbackInfo& info);
  SequenceSteeringPtr steering_;
};

}  // namespace emosteer
