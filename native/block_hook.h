// The eval callback (the "block hook"): it copies block outputs (`l_out-N`, the residual
// stream after block N) out of llama.cpp's compute graph and pools them per request
// (activation capture), and it adds per-sequence steering vectors (sequence_steering.h) to the
// rows of `l_out-N` in place, before the next block reads them and before capture sees them.
//
// Row bookkeeping: contexts are created with a unified KV cache, so llama.cpp splits every
// llama_decode batch into consecutive ubatches of n_ubatch tokens in batch order
// (split_simple). Callback k for a layer therefore holds the rows of ubatch k; for the last
// block, which llama.cpp prunes to the rows whose outputs were requested, the rows are the
// output tokens of that ubatch in order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sequence_steering.h"

struct ggml_tensor;

namespace emosteer {

enum class Pool { None, All, Last, Mean, Index };

/** What one request item wants captured, and where the pooled result accumulates. */
struct ItemCapture {
  Pool pool = Pool::None;
  int32_t start = 0;  // Mean: first token (inclusive); Index: the token
  int32_t end = 0;    // Mean: last token (exclusive)
  int32_t nTokens = 0;
  /** One buffer per captured layer: nTokens*nEmbd (All) or nEmbd (others). */
  std::vector<std::vector<float>> out;
  std::vector<std::vector<double>> meanAcc;
  std::vector<int32_t> rowsSeen;  // per layer: rows delivered (sanity check)

  bool Wants(int32_t tok) const;
  /** Rows expected per layer once everything is decoded. */
  int32_t ExpectedRows() const;
};

/** Which item/token a row of the current llama_decode call belongs to. */
struct RowTarget {
  int32_t item = -1;
  int32_t tok = -1;
  bool output = false;
  /** Steering of this row's sequence (not owned; the step keeps it alive), or null. */
  const SequenceSteering* steer = nullptr;
};

class BlockHook {
 public:
  BlockHook(int32_t nLayer, int32_t nEmbd);

  /** The function given to llama_context_params.cb_eval (user data: this). */
  static bool Callback(ggml_tensor* t, bool ask, void* userData);

  /**
   * Starts a request: capture tensor `<tensor>-<block>` (default l_out) of `layers` (block
   * indices) into `items` (not owned).
   */
  void Begin(const std::vector<int32_t>& layers, std::vector<ItemCapture>* items, const std::string& tensor);
  /** Describes the tokens of the next llama_decode call (capture and steering). */
  void BeginChunk(std::vector<RowTarget> rows, int32_t nUbatch);
  /**
   * Ends a llama_decode call: returns "CODE:message" when a block that had to be steered never
   * reached the callback (its architecture does not name `l_out-N`), else "".
   */
  std::string EndChunk();
  /** Ends the request: divides means, checks every layer was seen. Returns an error message or "". */
  std::string Finish();
  /** Stops capturing (the callback answers "no" to everything). */
  void Stop();

  bool Active() const { return active_; }
  /** Layers that produced at least one callback in the current request. */
  const std::vector<int32_t>& CallsPerSlot() const { return callsPerSlot_; }

 private:
  bool OnTensor(ggml_tensor* t, bool ask);
  void Deliver(int32_t slot, const RowTarget& target, const float* row);
  /** The block of a tensor named `<prefix>N`, or -1. */
  int32_t BlockOf(const char* name, const std::string& prefix) const;
  /**
   * Chunk rows held by the tensor of micro-batch `ubatch` with `nRows` rows (all its tokens,
   * or only its output tokens for the pruned last block), into rowIdx_. False on a mismatch.
   */
  bool MapRows(int32_t ubatch, int64_t nRows, const std::string& name);
  /** Adds the rows' steering for `block` to the tensor data at `base`. Returns rows changed. */
  int32_t Steer(int32_t block, char* base, size_t rowStride);

  int32_t nLayer_;
  int32_t nEmbd_;
  bool active_ = false;
  std::vector<int32_t> slotOfLayer_;  // block -> slot or -1
  std::vector<int32_t> layers_;
  std::string prefix_ = "l_out-";
  std::vector<ItemCapture>* items_ = nullptr;

  // current chunk
  std::vector<RowTarget> rows_;
  std::vector<int32_t> outputRows_;  // chunk token indices with output, in order
  bool chunkNeedsCapture_ = false;
  int32_t nUbatch_ = 512;
  std::vector<int32_t> ubatchSeen_;  // per slot
  std::vector<int32_t> callsPerSlot_;
  std::vector<float> staging_;  // device -> host copies
  std::vector<int32_t> rowIdx_;  // MapRows' result

  // steering of the current chunk
  bool chunkSteers_ = false;
  std::vector<char> steerBlock_;     // per block: some row of the chunk is steered there
  std::vector<int32_t> steerSeen_;   // per block: l_out callbacks in this chunk
  std::string error_;
};

}  // namespace emosteer
