#include "capture.h"

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

CaptureHook::CaptureHook(int32_t nLayer, int32_t nEmbd) : nLayer_(nLayer), nEmbd_(nEmbd), slotOfLayer_(nLayer, -1) {}

bool CaptureHook::Callback(ggml_tensor* t, bool ask, void* userData) {
  return static_cast<CaptureHook*>(userData)->OnTensor(t, ask);
}

void CaptureHook::Begin(const std::vector<int32_t>& layers, std::vector<ItemCapture>* items, const std::string& tensor) {
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

void CaptureHook::BeginChunk(std::vector<RowTarget> rows, int32_t nUbatch) {
  rows_ = std::move(rows);
  outputRows_.clear();
  chunkNeedsCapture_ = false;
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].output) outputRows_.push_back(static_cast<int32_t>(i));
    const RowTarget& r = rows_[i];
    if (r.item >= 0 && (*items_)[r.item].Wants(r.tok)) chunkNeedsCapture_ = true;
  }
  nUbatch_ = nUbatch > 0 ? nUbatch : 512;
  ubatchSeen_.assign(layers_.size(), 0);
}

void CaptureHook::Stop() {
  active_ = false;
  items_ = nullptr;
  rows_.clear();
}

std::string CaptureHook::Finish() {
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

void CaptureHook::Deliver(int32_t slot, const RowTarget& target, const float* row) {
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

bool CaptureHook::OnTensor(ggml_tensor* t, bool ask) {
  if (!active_ || !chunkNeedsCapture_) return ask ? false : true;
  // Cheap name filter: "<prefix>N", e.g. "l_out-3".
  const char* name = t->name;
  const size_t plen = prefix_.size();
  if (std::strncmp(name, prefix_.c_str(), plen) != 0) return ask ? false : true;
  char* endp = nullptr;
  long layer = std::strtol(name + plen, &endp, 10);
  if (endp == name + plen || *endp != '\0' || layer < 0 || layer >= nLayer_) return ask ? false : true;
  int32_t slot = slotOfLayer_[layer];
  if (slot < 0) return ask ? false : true;
  if (ask) return true;

  if (t->type != GGML_TYPE_F32 || t->ne[0] != nEmbd_) {
    error_ = "INTERNAL_ERROR:" + prefix_ + std::to_string(layer) + " is not an F32 [n_embd, tokens] tensor";
    return true;
  }
  callsPerSlot_[slot]++;
  const int32_t ubatch = ubatchSeen_[slot]++;
  const int32_t nChunk = static_cast<int32_t>(rows_.size());
  const int32_t first = ubatch * nUbatch_;
  const int32_t inUbatch = std::max(0, std::min(nUbatch_, nChunk - first));
  const int64_t nRows = t->ne[1];

  const char* base = nullptr;
  size_t rowStride = t->nb[1];
  if (t->buffer == nullptr || ggml_backend_buffer_is_host(t->buffer)) {
    base = static_cast<const char*>(t->data);
  } else {
    staging_.resize(ggml_nbytes(t) / sizeof(float) + 1);
    ggml_backend_tensor_get(t, staging_.data(), 0, ggml_nbytes(t));
    base = reinterpret_cast<const char*>(staging_.data());
  }
  if (nRows == inUbatch) {
    for (int32_t r = 0; r < inUbatch; ++r) {
      Deliver(slot, rows_[first + r], reinterpret_cast<const float*>(base + r * rowStride));
    }
    return true;
  }
  // Pruned block (the last one): rows are the ubatch's output tokens, in order.
  std::vector<int32_t> outs;
  for (int32_t idx : outputRows_) {
    if (idx >= first && idx < first + inUbatch) outs.push_back(idx);
  }
  if (static_cast<int64_t>(outs.size()) != nRows) {
    error_ = "INTERNAL_ERROR:" + prefix_ + std::to_string(layer) + " has " + std::to_string(nRows) +
             " rows; the ubatch has " + std::to_string(inUbatch) + " tokens and " + std::to_string(outs.size()) + " outputs";
    return true;
  }
  for (int64_t r = 0; r < nRows; ++r) {
    Deliver(slot, rows_[outs[r]], reinterpret_cast<const float*>(base + r * rowStride));
  }
  return true;
}

}  // namespace emosteer
