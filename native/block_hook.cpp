#include "block_hook.h"

#include <algorithm>
#include <cstring>

#include "ggml-backend.h"
#include "ggml.h"

namespace emosteer {

bool ItemCapture::Wants(int32_t tok) const {
  switch (pool) {
    case Pool::None: return false;
    case Pool::All: return true;
    case Pool::Last: return tok == nTokens - 1;
    case Pool::Mean: return tok >= start && tok < end;
    case Pool::Index: return tok == start;
  }
  return false;
}

int32_t ItemCapture::ExpectedRows() const {
  switch (pool) {
    case Pool::None: return 0;
    case Pool::All: return nTokens;
    case Pool::Last: return 1;
    case Pool::Mean: return end - start;
    case Pool::Index: return 1;
  }
  return 0;
}

BlockHook::BlockHook(int32_t nLayer, int32_t nEmbd)
    : nLayer_(nLayer), nEmbd_(nEmbd), slotOfLayer_(nLayer, -1), steerBlock_(nLayer, 0), steerSeen_(nLayer, 0) {}

bool BlockHook::Callback(ggml_tensor* t, bool ask, void* userData) {
  return static_cast<BlockHook*>(userData)->OnTensor(t, ask);
}

void BlockHook::Begin(const std::vector<int32_t>& layers, std::vector<ItemCapture>* items, const std::string& tensor) {
  prefix_ = tensor + "-";
  std::fill(slotOfLayer_.begin(), slotOfLayer_.end(), -1);
  layers_ = layers;
  for (size_t s = 0; s < layers.size(); ++s) slotOfLayer_[layers[s]] = static_cast<int32_t>(s);
  items_ = items;
  for (ItemCapture& it : *items_) {
    size_t per = it.pool == Pool::All ? static_cast<size_t>(it.nTokens) * nEmbd_ : static_cast<size_t>(nEmbd_);
    it.out.assign(layers.size(), std::vector<float>(it.pool == Pool::None ? 0 : per, 0.0f));
    it.meanAcc.assign(it.pool == Pool::Mean ? layers.size() : 0, std::vector<double>(nEmbd_, 0.0));
    it.rowsSeen.assign(layers.size(), 0);
  }
  callsPerSlot_.assign(layers.size(), 0);
  error_.clear();
  active_ = !layers.empty();
}

void BlockHook::BeginChunk(std::vector<RowTarget> rows, int32_t nUbatch) {
  rows_ = std::move(rows);
  outputRows_.clear();
  chunkNeedsCapture_ = false;
  if (!active_) error_.clear();  // a capture request keeps its error until Finish
  chunkSteers_ = false;
  std::fill(steerBlock_.begin(), steerBlock_.end(), 0);
  std::fill(steerSeen_.begin(), steerSeen_.end(), 0);
  for (size_t i = 0; i < rows_.size(); ++i) {
    const RowTarget& r = rows_[i];
    if (r.output) outputRows_.push_back(static_cast<int32_t>(i));
    if (active_ && r.item >= 0 && (*items_)[r.item].Wants(r.tok)) chunkNeedsCapture_ = true;
    if (r.steer != nullptr) {
      chunkSteers_ = true;
      for (int32_t b = r.steer->start; b <= r.steer->end; ++b) steerBlock_[b] = 1;
    }
  }
  nUbatch_ = nUbatch > 0 ? nUbatch : 512;
  ubatchSeen_.assign(layers_.size(), 0);
}

std::string BlockHook::EndChunk() {
  std::string err;
  if (chunkSteers_) {
    for (int32_t b = 0; b < nLayer_ && err.empty(); ++b) {
      if (steerBlock_[b] && steerSeen_[b] == 0) {
        err = "ARCH_NO_LAYER_HOOKS:block " + std::to_string(b) + " produced no 'l_out-" + std::to_string(b) +
              "' tensor: this model's architecture does not expose it to the eval callback, so per-sequence steering cannot reach it (context-wide steering with setSteering may still work)";
      }
    }
  }
  if (err.empty() && !error_.empty()) err = error_;
  chunkSteers_ = false;
  return err;
}

void BlockHook::Stop() {
  active_ = false;
  items_ = nullptr;
  rows_.clear();
  chunkNeedsCapture_ = false;
  chunkSteers_ = false;
}

std::string BlockHook::Finish() {
  if (!active_) return "";
  std::string err = error_;
  for (size_t s = 0; s < layers_.size() && err.empty(); ++s) {
    bool anyWanted = false;
    for (const ItemCapture& it : *items_) anyWanted = anyWanted || it.pool != Pool::None;
    if (anyWanted && callsPerSlot_[s] == 0) {
      err = "ARCH_NO_LAYER_HOOKS:block " + std::to_string(layers_[s]) + " produced no '" + prefix_ + std::to_string(layers_[s]) +
            "' tensor: this model's architecture does not expose it to the eval callback, so it cannot be captured";
    }
  }
  for (ItemCapture& it : *items_) {
    for (size_t s = 0; s < layers_.size() && err.empty(); ++s) {
      if (it.rowsSeen[s] != it.ExpectedRows()) {
        err = "INTERNAL_ERROR:capture of block " + std::to_string(layers_[s]) + " received " +
              std::to_string(it.rowsSeen[s]) + " rows, expected " + std::to_string(it.ExpectedRows());
      }
      if (it.pool == Pool::Mean && it.ExpectedRows() > 0) {
        const double inv = 1.0 / it.ExpectedRows();
        for (int32_t j = 0; j < nEmbd_; ++j) it.out[s][j] = static_cast<float>(it.meanAcc[s][j] * inv);
      }
    }
  }
  Stop();
  return err;
}

void BlockHook::Deliver(int32_t slot, const RowTarget& target, const float* row) {
  if (target.item < 0) return;
  ItemCapture& it = (*items_)[target.item];
  if (!it.Wants(target.tok)) return;
  it.rowsSeen[slot]++;
  switch (it.pool) {
    case Pool::All:
      std::memcpy(it.out[slot].data() + static_cast<size_t>(target.tok) * nEmbd_, row, sizeof(float) * nEmbd_);
      break;
    case Pool::Last:
    case Pool::Index:
      std::memcpy(it.out[slot].data(), row, sizeof(float) * nEmbd_);
      break;
    case Pool::Mean: {
      double* acc = it.meanAcc[slot].data();
      for (int32_t j = 0; j < nEmbd_; ++j) acc[j] += row[j];
      break;
    }
    case Pool::None:
      break;
  }
}

int32_t BlockHook::BlockOf(const char* name, const std::string& prefix) const {
  const size_t plen = prefix.size();
  if (std::strncmp(name, prefix.c_str(), plen) != 0) return -1;
  char* endp = nullptr;
  long layer = std::strtol(name + plen, &endp, 10);
  if (endp == name + plen || *endp != '\0' || layer < 0 || layer >= nLayer_) return -1;
  return static_cast<int32_t>(layer);
}

bool BlockHook::MapRows(int32_t ubatch, int64_t nRows, const std::string& name) {
  rowIdx_.clear();
  const int32_t nChunk = static_cast<int32_t>(rows_.size());
  const int32_t first = ubatch * nUbatch_;
  const int32_t inUbatch = std::max(0, std::min(nUbatch_, nChunk - first));
  if (nRows == inUbatch) {
    for (int32_t r = 0; r < inUbatch; ++r) rowIdx_.push_back(first + r);
    return true;
  }
  // Pruned block (the last one): rows are the ubatch's output tokens, in order.
  for (int32_t idx : outputRows_) {
    if (idx >= first && idx < first + inUbatch) rowIdx_.push_back(idx);
  }
  if (static_cast<int64_t>(rowIdx_.size()) != nRows) {
    error_ = "INTERNAL_ERROR:" + name + " has " + std::to_string(nRows) + " rows; the ubatch has " + std::to_string(inUbatch) +
             " tokens and " + std::to_string(rowIdx_.size()) + " outputs";
    return false;
  }
  return true;
}

int32_t BlockHook::Steer(int32_t block, char* base, size_t rowStride) {
  int32_t changed = 0;
  for (size_t r = 0; r < rowIdx_.size(); ++r) {
    const SequenceSteering* s = rows_[rowIdx_[r]].steer;
    if (s == nullptr || !s->Covers(block)) continue;
    s->AddTo(block, reinterpret_cast<float*>(base + r * rowStride));
    ++changed;
  }
  return changed;
}

bool BlockHook::OnTensor(ggml_tensor* t, bool ask) {
  if (!(active_ && chunkNeedsCapture_) && !chunkSteers_) return ask ? false : true;
  // Cheap name filters: "l_out-N" for steering, "<prefix>N" (e.g. "l_out-3") for capture.
  static const std::string kBlockOut = "l_out-";
  const int32_t steerBlock = chunkSteers_ ? BlockOf(t->name, kBlockOut) : -1;
  const bool steers = steerBlock >= 0 && steerBlock_[steerBlock];
  const int32_t capBlock = active_ && chunkNeedsCapture_ ? BlockOf(t->name, prefix_) : -1;
  const int32_t slot = capBlock >= 0 ? slotOfLayer_[capBlock] : -1;
  if (!steers && slot < 0) return ask ? false : true;
  if (ask) return true;

  const std::string name = t->name;
  if (t->type != GGML_TYPE_F32 || t->ne[0] != nEmbd_ || t->nb[0] != sizeof(float)) {
    error_ = "INTERNAL_ERROR:" + name + " is not an F32 [n_embd, tokens] tensor";
    return true;
  }
  const int32_t ubatch = steers ? steerSeen_[steerBlock]++ : ubatchSeen_[slot];
  if (slot >= 0) {
    callsPerSlot_[slot]++;
    ubatchSeen_[slot]++;
  }
  if (!MapRows(ubatch, t->ne[1], name)) return true;

  const bool host = t->buffer == nullptr || ggml_backend_buffer_is_host(t->buffer);
  char* base = nullptr;
  const size_t rowStride = t->nb[1];
  if (host) {
    base = static_cast<char*>(t->data);
  } else {
    staging_.resize(ggml_nbytes(t) / sizeof(float) + 1);
    ggml_backend_tensor_get(t, staging_.data(), 0, ggml_nbytes(t));
    base = reinterpret_cast<char*>(staging_.data());
  }
  // Steering first: the captured block output includes its own steering, as with llama.cpp's
  // context-wide control vector (added before l_out-N is named).
  if (steers && Steer(steerBlock, base, rowStride) > 0 && !host) {
    ggml_backend_tensor_set(t, staging_.data(), 0, ggml_nbytes(t));
  }
  if (slot >= 0) {
    for (size_t r = 0; r < rowIdx_.size(); ++r) {
      Deliver(slot, rows_[rowIdx_[r]], reinterpret_cast<const float*>(base + r * rowStride));
    }
  }
  return true;
}

}  // namespace emosteer
