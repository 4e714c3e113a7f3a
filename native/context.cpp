#include "context.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <thread>
#include <vector>

#include "addon_data.h"
#include "decode_thread.h"
#include "distributions.h"
#include "errors.h"
#include "memory_release.h"
#include "sampler.h"
#include "sequence_steering.h"

namespace emosteer {

namespace {

bool AbortCallback(void* data) { return static_cast<std::atomic<bool>*>(data)->load() || DecodeThread::ShuttingDown(); }

uint32_t U32Or(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0) {
    Throw(o.Env(), "INVALID_ARGUMENT", std::string("context option '") + key + "' must be a non-negative number");
  }
  return v.As<Napi::Number>().Uint32Value();
}

/** Creates the llama.cpp context off the JS thread (it allocates the KV cache and compute buffers). */
class CreateWorker : public Napi::AsyncWorker {
 public:
  CreateWorker(Napi::Env env, std::unique_ptr<ContextCore> core, llama_context_params params)
      : Napi::AsyncWorker(env, "emosteer.createContext"),
        deferred_(Napi::Promise::Deferred::New(env)),
        core_(std::move(core)),
        params_(params) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      ClearLastLlamaError();
      llama_context* raw = llama_init_from_model(core_->model.get(), params_);
      if (raw == nullptr) {
        std::string why = LastLlamaError();
        error_ = {"CONTEXT_CREATE_FAILED", "llama.cpp could not create a context" + (why.empty() ? std::string(" (out of memory?)") : ": " + why)};
        return;
      }
      core_->ctx.reset(raw);
      if (core_->wantThreadPools) {
        // A context that cannot get its own pools still decodes (ggml makes one per call).
        core_->threadPools.Attach(raw, params_.n_threads, params_.n_threads_batch);
      }
      llama_set_abort_callback(raw, AbortCallback, &core_->abort);
      core_->nCtx = llama_n_ctx(raw);
      core_->nBatch = llama_n_batch(raw);
      core_->nUbatch = llama_n_ubatch(raw);
      core_->nSeqMax = llama_n_seq_max(raw);
      core_->batch.reset(new llama_batch(llama_batch_init(static_cast<int32_t>(core_->nBatch), 0, 1)));
    } catch (const std::exception& e) {
      error_ = {"CONTEXT_CREATE_FAILED", std::string("creating a context failed: ") + e.what()};
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!error_.empty()) {
      deferred_.Reject(MakeError(env, error_.code, error_.message).Value());
      return;
    }
    Napi::Object obj = GetAddonData(env).contextCtor.New({});
    Context::Unwrap(obj)->Adopt(std::move(core_));
    deferred_.Resolve(obj);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<ContextCore> core_;
  llama_context_params params_;
  CodedError error_;
};

/** One item of a step: tokens appended to one sequence, and what to do with them. */
struct StepItem {
  int32_t seq = 0;
  std::vector<llama_token> tokens;
  Sampler* sampler = nullptr;
  bool acceptTokens = false;
  bool wantLogits = false;
  int32_t scoreFrom = -1;  // >= 1: log-probabilities of tokens[scoreFrom..]
  SequenceSteeringPtr steer;  // per-sequence steering of these tokens, or null
  ItemCapture capture;
  DistributionRecordPtr record;   // fill with the scored rows' distributions (needs scoreFrom)
  DistributionRecordPtr compare;  // compare the scored rows with these (needs scoreFrom)
  int32_t sampledTopK = -1;       // >= 0: log-probability of the sampled token and the top k
  int32_t scoreTopK = 0;          // > 0: the top k of every scored row
  // results
  int32_t pos0 = 0;
  llama_token sampled = -1;
  bool eog = false;
  bool grammarStuck = false;  // the sampler's grammar admitted no token (sampled stays -1)
  std::vector<float> logits;
  std::vector<float> scores;
  RowComparison comparison;
  float sampledLogProb = 0.0f;
  std::vector<llama_token> topTokens;  // sampledTopK of the sampled row, or scoreTopK per scored row
  std::vector<float> topLogProbs;
  std::vector<llama_token> scoreTopTokens;
  std::vector<float> scoreTopLogProbs;
};

/** A scored output row whose reduction runs after its llama_decode call (several at once). */
struct RowTask {
  int32_t item = 0;
  int32_t tok = 0;
  const float* logits = nullptr;
};

/** Decodes a set of items in as few llama_decode calls as n_batch allows (a DecodeJob). */
class StepJob : public DecodeJob {
 public:
  StepJob(Napi::Env env, Context* owner, Napi::Object self, std::vector<StepItem> items,
          std::vector<int32_t> layers, std::string tensor, std::vector<Napi::ObjectReference> keepAlive)
      : deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        core_(&owner->Core(env)),
        items_(std::move(items)),
        layers_(std::move(layers)),
        tensor_(std::move(tensor)),
        keepAlive_(std::move(keepAlive)) {
    self_ = Napi::Persistent(self);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Run() override {
    try {
      Decode();
    } catch (const std::exception& e) {
      error_ = {"INTERNAL_ERROR", std::string("step failed: ") + e.what()};
    }
    core_->hook->Stop();
    if (!error_.empty()) Rollback();
    core_->FinishRun();
  }

  void Complete(Napi::Env env) override {
    Napi::HandleScope scope(env);
    owner_->SetBusy(false);
    if (!error_.empty()) {
      deferred_.Reject(MakeError(env, error_.code, error_.message).Value());
      return;
    }
    Napi::Array out = Napi::Array::New(env, items_.size());
    for (size_t i = 0; i < items_.size(); ++i) {
      StepItem& it = items_[i];
      Napi::Object r = Napi::Object::New(env);
      r.Set("nPast", it.pos0 + static_cast<int32_t>(it.tokens.size()));
      if (it.sampler != nullptr) {
        r.Set("sampled", it.sampled);
        r.Set("eog", it.eog);
        if (it.grammarStuck) r.Set("grammarStuck", true);
      }
      if (it.wantLogits) r.Set("logits", ToFloat32(env, it.logits));
      if (it.scoreFrom >= 0) r.Set("scores", ToFloat32(env, it.scores));
      if (it.compare) {
        Napi::Object c = Napi::Object::New(env);
        c.Set("kld", ToFloat32(env, it.comparison.kld));
        c.Set("referenceLogProbs", ToFloat32(env, it.comparison.refLogProb));
        c.Set("deltaP", ToFloat32(env, it.comparison.deltaP));
        c.Set("deltaPTop", ToFloat32(env, it.comparison.deltaPTop));
        Napi::Uint8Array same = Napi::Uint8Array::New(env, it.comparison.sameTop.size());
        if (!it.comparison.sameTop.empty()) std::memcpy(same.Data(), it.comparison.sameTop.data(), it.comparison.sameTop.size());
        c.Set("sameTop", same);
        r.Set("comparison", c);
      }
      if (it.sampler != nullptr && it.sampledTopK >= 0 && !it.grammarStuck) {
        r.Set("sampledLogProb", it.sampledLogProb);
        r.Set("topTokens", ToInt32(env, it.topTokens));
        r.Set("topLogProbs", ToFloat32(env, it.topLogProbs));
      }
      if (it.scoreTopK > 0) {
        r.Set("scoreTopTokens", ToInt32(env, it.scoreTopTokens));
        r.Set("scoreTopLogProbs", ToFloat32(env, it.scoreTopLogProbs));
      }
      if (it.capture.pool != Pool::None) {
        Napi::Array acts = Napi::Array::New(env, layers_.size());
        for (size_t s = 0; s < layers_.size(); ++s) acts.Set(static_cast<uint32_t>(s), ToFloat32(env, it.capture.out[s]));
        r.Set("activations", acts);
      }
      out.Set(static_cast<uint32_t>(i), r);
    }
    deferred_.Resolve(out);
  }

 private:
  static Napi::Float32Array ToFloat32(Napi::Env env, const std::vector<float>& v) {
    Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
    if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(float));
    return a;
  }

  static Napi::Int32Array ToInt32(Napi::Env env, const std::vector<llama_token>& v) {
    Napi::Int32Array a = Napi::Int32Array::New(env, v.size());
    if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(llama_token));
    return a;
  }

  void Rollback() {
    llama_memory_t mem = llama_get_memory(core_->ctx.get());
    for (const StepItem& it : items_) llama_memory_seq_rm(mem, it.seq, it.pos0, -1);
  }

  void Fail(const std::string& code, const std::string& message) {
    if (error_.empty()) error_ = {code, message};
  }

  static bool SameSteering(const SequenceSteering& a, const SequenceSteering& b) {
    return &a == &b || (a.nEmbd == b.nEmbd && a.start == b.start && a.end == b.end && a.rows == b.rows);
  }

  /**
   * Uniform steering through the control vector (ContextCore::uniformCvec): true when every
   * item of this step carries the same steering and the control vector now holds it, so the
   * rows go to the eval callback unsteered. Otherwise a control vector set by an earlier step
   * is removed. The two paths add the same vector to the same block outputs (llama.cpp adds
   * the control vector at the end of each block, before l_out-N is named); the control vector
   * is used only once a per-sequence steered step has seen this model's l_out-N tensors, so an
   * architecture without them keeps failing loudly on the per-sequence path.
   */
  bool PrepareUniformSteering() {
    llama_context* ctx = core_->ctx.get();
    const SequenceSteering* first = items_.empty() ? nullptr : items_[0].steer.get();
    bool same = first != nullptr;
    for (size_t i = 1; same && i < items_.size(); ++i) same = items_[i].steer != nullptr && SameSteering(*first, *items_[i].steer);
    // A steering that changes every step (a schedule ramping its strength) would rebuild the
    // graph reservation each time: the control vector is set only when two steps in a row agree.
    const bool repeated = same && core_->lastUniform && SameSteering(*core_->lastUniform, *first);
    const bool held = same && core_->uniformCvec && SameSteering(*core_->uniformCvec, *first);
    core_->lastUniform = same ? items_[0].steer : nullptr;
    const bool use = same && (repeated || held) && core_->uniformSteeringCvec && core_->blockOutputsSeen && !core_->steering->Active();
    if (!use) {
      if (core_->uniformCvec) {
        llama_set_adapter_cvec(ctx, nullptr, 0, core_->nEmbd, 0, 0);
        core_->uniformCvec.reset();
      }
      return false;
    }
    if (!held) {
      // llama.cpp's layout: blocks 1..nLayer-1, zeros outside [start, end]; rows are pre-scaled.
      std::vector<float> data(static_cast<size_t>(core_->nLayer - 1) * core_->nEmbd, 0.0f);
      for (int32_t il = first->start; il <= first->end; ++il) {
        std::memcpy(data.data() + static_cast<size_t>(il - 1) * core_->nEmbd, first->Row(il), sizeof(float) * core_->nEmbd);
      }
      if (llama_set_adapter_cvec(ctx, data.data(), data.size(), core_->nEmbd, first->start, first->end) != 0) {
        llama_set_adapter_cvec(ctx, nullptr, 0, core_->nEmbd, 0, 0);
        core_->uniformCvec.reset();
        return false;  // the per-sequence path still works
      }
      core_->uniformCvec = items_[0].steer;
    }
    core_->cvecSteps++;
    return true;
  }

  void Decode() {
    llama_context* ctx = core_->ctx.get();
    llama_memory_t mem = llama_get_memory(ctx);
    ClearLastLlamaError();

    // Positions and capacity (the KV cache is unified: all sequences share n_ctx cells).
    size_t used = 0;
    for (uint32_t s = 0; s < core_->nSeqMax; ++s) {
      llama_pos mx = llama_memory_seq_pos_max(mem, static_cast<llama_seq_id>(s));
      if (mx >= 0) used += static_cast<size_t>(mx - llama_memory_seq_pos_min(mem, static_cast<llama_seq_id>(s)) + 1);
    }
    size_t need = 0;
    for (StepItem& it : items_) {
      it.pos0 = llama_memory_seq_pos_max(mem, it.seq) + 1;
      need += it.tokens.size();
      if (static_cast<size_t>(it.pos0) + it.tokens.size() > core_->nCtx) {
        for (StepItem& j : items_) j.pos0 = std::numeric_limits<int32_t>::max();  // nothing to roll back
        Fail("PROMPT_TOO_LONG", "sequence " + std::to_string(it.seq) + " would hold " + std::to_string(it.pos0 + it.tokens.size()) +
                                    " tokens but the context has " + std::to_string(core_->nCtx) + "; create the context with a larger contextSize or shorten the prompt");
        return;
      }
    }
    if (used + need > core_->nCtx) {
      for (StepItem& j : items_) j.pos0 = std::numeric_limits<int32_t>::max();
      Fail("PROMPT_TOO_LONG", "the context holds " + std::to_string(used) + " tokens and " + std::to_string(need) + " more do not fit in " +
                                  std::to_string(core_->nCtx) + " (all sequences share the context); clear sequences or use a larger contextSize");
      return;
    }

    const bool viaCvec = PrepareUniformSteering();
    const bool capturing = !layers_.empty();
    const bool lastLayerCaptured = capturing && std::find(layers_.begin(), layers_.end(), core_->nLayer - 1) != layers_.end();
    std::vector<ItemCapture> captures;
    if (capturing) {
      captures.reserve(items_.size());
      for (StepItem& it : items_) captures.push_back(it.capture);
      core_->hook->Begin(layers_, &captures, tensor_);
    }

    // Next-token distributions: records are (re)started, comparisons checked against theirs.
    for (StepItem& it : items_) {
      const int32_t n = static_cast<int32_t>(it.tokens.size());
      if (it.record) it.record->Reset(core_->nVocab, it.tokens.data() + it.scoreFrom, n - it.scoreFrom);
      if (it.compare) {
        const DistributionRecord& rec = *it.compare;
        if (!rec.complete) {
          Fail("INVALID_ARGUMENT", "the reference distributions were never recorded (or their step failed): record them with a step of the reference first");
          return;
        }
        if (rec.nVocab != core_->nVocab) {
          Fail("VOCAB_MISMATCH", "the reference distributions cover " + std::to_string(rec.nVocab) + " tokens but this model's vocabulary has " + std::to_string(core_->nVocab) +
                                     ": next-token distributions can only be compared between models with the same vocabulary");
          return;
        }
        if (rec.rows != n - it.scoreFrom || !std::equal(rec.targets.begin(), rec.targets.end(), it.tokens.begin() + it.scoreFrom)) {
          Fail("INVALID_ARGUMENT", "the scored tokens differ from those of the reference distributions: compare the same tokens with the same scoreFrom");
          return;
        }
        it.comparison.Resize(static_cast<size_t>(n - it.scoreFrom));
      }
      if (it.scoreTopK > 0 && it.scoreFrom >= 1) {
        it.scoreTopTokens.assign(static_cast<size_t>(n - it.scoreFrom) * it.scoreTopK, -1);
        it.scoreTopLogProbs.assign(static_cast<size_t>(n - it.scoreFrom) * it.scoreTopK, 0.0f);
      }
    }
    const int32_t reduceThreads = llama_n_threads_batch(ctx);

    // Flatten items into rows; decide which rows produce outputs (logits).
    std::vector<RowTarget> flat;
    for (size_t i = 0; i < items_.size(); ++i) {
      StepItem& it = items_[i];
      const int32_t n = static_cast<int32_t>(it.tokens.size());
      if (it.scoreFrom >= 0) it.scores.assign(n - it.scoreFrom, 0.0f);
      for (int32_t t = 0; t < n; ++t) {
        RowTarget r;
        r.item = static_cast<int32_t>(i);
        r.tok = t;
        r.steer = viaCvec ? nullptr : it.steer.get();
        r.output = (t == n - 1 && (it.sampler != nullptr || it.wantLogits)) ||
                   (it.scoreFrom >= 1 && t >= it.scoreFrom - 1 && t <= n - 2) ||
                   (lastLayerCaptured && it.capture.Wants(t));
        flat.push_back(r);
      }
    }

    llama_batch* batch = core_->batch.get();
    const size_t nBatch = core_->nBatch;
    for (size_t start = 0; start < flat.size(); start += nBatch) {
      if (core_->abort.load()) {
        Fail("ABORTED", "the operation was aborted");
        return;
      }
      const size_t end = std::min(flat.size(), start + nBatch);
      batch->n_tokens = 0;
      std::vector<RowTarget> rows(flat.begin() + start, flat.begin() + end);
      for (size_t k = 0; k < rows.size(); ++k) {
        const RowTarget& r = rows[k];
        const StepItem& it = items_[r.item];
        const int32_t j = batch->n_tokens++;
        batch->token[j] = it.tokens[r.tok];
        batch->pos[j] = it.pos0 + r.tok;
        batch->n_seq_id[j] = 1;
        batch->seq_id[j][0] = it.seq;
        batch->logits[j] = r.output ? 1 : 0;
      }
      if (core_->hooks) core_->hook->BeginChunk(rows, static_cast<int32_t>(core_->nUbatch));
      const int32_t rc = llama_decode(ctx, *batch);
      const std::string hookError = core_->hooks ? core_->hook->EndChunk() : std::string();
      if (rc == 0 && !hookError.empty()) {
        const size_t colon = hookError.find(':');
        Fail(hookError.substr(0, colon), hookError.substr(colon + 1));
        return;
      }
      if (rc == 0 && !viaCvec) {
        for (const RowTarget& r : rows) {
          if (r.steer != nullptr) {
            core_->blockOutputsSeen = true;  // EndChunk found every steered block's l_out-N
            break;
          }
        }
      }
      if (rc != 0) {
        if (rc == 2) Fail("ABORTED", "the operation was aborted");
        else if (rc == 1) Fail("PROMPT_TOO_LONG", "llama.cpp found no room in the KV cache for the batch; use a larger contextSize");
        else Fail("DECODE_FAILED", "llama_decode failed (" + std::to_string(rc) + ")" + (LastLlamaError().empty() ? "" : ": " + LastLlamaError()));
        return;
      }
      // Outputs of this call are valid until the next llama_decode: consume them now.
      std::vector<RowTask> tasks;
      for (size_t k = 0; k < rows.size(); ++k) {
        const RowTarget& r = rows[k];
        if (!r.output) continue;
        StepItem& it = items_[r.item];
        const int32_t n = static_cast<int32_t>(it.tokens.size());
        const float* logits = llama_get_logits_ith(ctx, static_cast<int32_t>(k));
        if (logits == nullptr) {
          Fail("DECODE_FAILED", "llama.cpp returned no logits for an output row");
          return;
        }
        if (it.scoreFrom >= 1 && r.tok >= it.scoreFrom - 1 && r.tok <= n - 2) tasks.push_back({r.item, r.tok, logits});
        if (r.tok == n - 1) {
          if (it.wantLogits) it.logits.assign(logits, logits + core_->nVocab);
          if (it.sampler != nullptr) {
            if (it.acceptTokens) it.sampler->AcceptPrompt(it.tokens.data(), it.tokens.size());
            it.sampled = it.sampler->Sample(logits, core_->nVocab);
            if (it.sampled < 0) {
              it.grammarStuck = true;  // the grammar admits no token of the vocabulary: nothing was accepted
              continue;
            }
            it.eog = llama_vocab_is_eog(llama_model_get_vocab(core_->model.get()), it.sampled);
            if (it.sampledTopK >= 0) {
              // The model's own distribution (before the grammar and the sampler's penalties,
              // temperature, top-k, ...).
              const RowSoftmax sm = Softmax(logits, core_->nVocab);
              it.sampledLogProb = LogProb(logits, sm, it.sampled);
              const int32_t kk = std::min(it.sampledTopK, core_->nVocab);
              it.topTokens.assign(kk, -1);
              it.topLogProbs.assign(kk, 0.0f);
              TopK(logits, core_->nVocab, sm, kk, it.topTokens.data(), it.topLogProbs.data());
            }
          }
        }
      }
      // The scored rows' reductions (log-probabilities, records, comparisons, top k), several
      // rows at a time: for a large vocabulary they cost about as much as the decode itself.
      // Only when there is enough of it: for small vocabularies the threads' start-up and their
      // contention with ggml's still-spinning workers cost more than the rows themselves.
      const bool large = static_cast<double>(tasks.size()) * core_->nVocab >= static_cast<double>(1 << 22);
      ParallelFor(tasks.size(), large ? reduceThreads : 1, [this, &tasks](size_t q) { ScoreRow(tasks[q]); });
    }
    for (StepItem& it : items_) {
      if (it.record) it.record->complete = true;
    }
    if (capturing) {
      std::string err = core_->hook->Finish();
      if (!err.empty()) {
        size_t colon = err.find(':');
        Fail(err.substr(0, colon), err.substr(colon + 1));
        return;
      }
      for (size_t i = 0; i < items_.size(); ++i) items_[i].capture = std::move(captures[i]);
    }
  }

  /** One scored row (a worker thread may run it: it touches only its own row's slots). */
  void ScoreRow(const RowTask& t) {
    StepItem& it = items_[t.item];
    const int32_t j = t.tok + 1 - it.scoreFrom;
    const llama_token target = it.tokens[t.tok + 1];
    if (it.record) {
      it.scores[j] = RecordRow(t.logits, *it.record, j);
    } else if (it.compare) {
      it.scores[j] = CompareRow(t.logits, *it.compare, j, it.comparison, static_cast<size_t>(j));
    }
    if (it.scoreTopK > 0 || (!it.record && !it.compare)) {
      const RowSoftmax sm = Softmax(t.logits, core_->nVocab);
      if (!it.record && !it.compare) it.scores[j] = LogProb(t.logits, sm, target);
      if (it.scoreTopK > 0) {
        const size_t at = static_cast<size_t>(j) * it.scoreTopK;
        TopK(t.logits, core_->nVocab, sm, it.scoreTopK, it.scoreTopTokens.data() + at, it.scoreTopLogProbs.data() + at);
      }
    }
  }

  Napi::Promise::Deferred deferred_;
  Context* owner_;
  ContextCore* core_;
  Napi::ObjectReference self_;
  std::vector<StepItem> items_;
  std::vector<int32_t> layers_;
  std::string tensor_;
  std::vector<Napi::ObjectReference> keepAlive_;
  CodedError error_;
};

Pool ParsePool(Napi::Env env, const std::string& s) {
  if (s == "none") return Pool::None;
  if (s == "all") return Pool::All;
  if (s == "last") return Pool::Last;
  if (s == "mean") return Pool::Mean;
  if (s == "index") return Pool::Index;
  Throw(env, "INVALID_ARGUMENT", "pooling must be one of none, all, last, mean, index (got '" + s + "')");
}

int32_t IntField(const Napi::Object& o, const char* key, int32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) Throw(o.Env(), "INVALID_ARGUMENT", std::string("'") + key + "' must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != std::floor(d)) Throw(o.Env(), "INVALID_ARGUMENT", std::string("'") + key + "' must be an integer");
  return static_cast<int32_t>(d);
}

}  // namespace

Napi::Function Context::Define(Napi::Env env) {
  return DefineClass(env, "NativeContext",
                     {
                         InstanceMethod<&Context::Step>("step"),
                         InstanceMethod<&Context::ClearSequence>("clearSequence"),
                         InstanceMethod<&Context::SequenceLength>("sequenceLength"),
                         InstanceMethod<&Context::SetSteering>("setSteering"),
                         InstanceMethod<&Context::ClearSteering>("clearSteering"),
                         InstanceMethod<&Context::GetSteering>("getSteering"),
                         InstanceMethod<&Context::Abort>("abort"),
                         InstanceMethod<&Context::Info>("info"),
                         InstanceMethod<&Context::Dispose>("dispose"),
                         InstanceMethod<&Context::IsBusy>("isBusy"),
                     });
}

Context::Context(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Context>(info) {}

Context::~Context() {
  // Finalized (garbage collected, or the environment is being torn down) while a step may
  // still run on the decode thread: abort it and wait, so that it never touches freed memory.
  if (core_) {
    core_->abort.store(true);
    core_->WaitIdle();
  }
}

void ContextCore::BeginRun() {
  std::lock_guard<std::mutex> lock(runMutex);
  running = true;
}

void ContextCore::FinishRun() {
  {
    std::lock_guard<std::mutex> lock(runMutex);
    running = false;
  }
  runCv.notify_all();
}

void ContextCore::WaitIdle() {
  std::unique_lock<std::mutex> lock(runMutex);
  runCv.wait(lock, [this] { return !running; });
}

ContextCore& Context::Core(Napi::Env env, bool allowBusy) {
  if (disposed_ || !core_) Throw(env, "DISPOSED", "the context was disposed; create a new one");
  if (busy_ && !allowBusy) Throw(env, "CONTEXT_BUSY", "another operation is running on this context; await it first (or use one context per concurrent request)");
  return *core_;
}

void Context::SetBusy(bool busy) { busy_ = busy; }

Napi::Value Context::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) Throw(env, "INVALID_ARGUMENT", "createContext(model, options)");
  Model* model = Model::Unwrap(info[0].As<Napi::Object>());
  const ModelPtr& m = model->Checked(env);
  Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);

  auto core = std::make_unique<ContextCore>();
  core->model = m;
  core->nLayer = llama_model_n_layer(m.get());
  core->nEmbd = llama_model_n_embd(m.get());
  core->nVocab = llama_vocab_n_tokens(llama_model_get_vocab(m.get()));
  core->hook = std::make_unique<BlockHook>(core->nLayer, core->nEmbd);
  core->steering = std::make_unique<SteeringState>(core->nLayer, core->nEmbd);

  llama_context_params p = llama_context_default_params();
  const uint32_t hw = std::max(1u, std::thread::hardware_concurrency());
  p.n_ctx = U32Or(o, "contextSize", 2048);
  p.n_batch = U32Or(o, "batchSize", 512);
  p.n_ubatch = std::min(U32Or(o, "ubatchSize", p.n_batch), p.n_batch);
  p.n_seq_max = std::max(1u, U32Or(o, "sequences", 1));
  p.n_threads = static_cast<int32_t>(U32Or(o, "threads", hw));
  p.n_threads_batch = static_cast<int32_t>(U32Or(o, "batchThreads", static_cast<uint32_t>(p.n_threads)));
  if (p.n_batch == 0 || p.n_ubatch == 0 || p.n_threads == 0) Throw(env, "INVALID_ARGUMENT", "batchSize, ubatchSize and threads must be >= 1");
  if (p.n_seq_max > llama_max_parallel_sequences()) {
    Throw(env, "INVALID_ARGUMENT", "sequences must be <= " + std::to_string(llama_max_parallel_sequences()));
  }
  // Flash attention is off unless asked for: on CPU it rounds Q to F16 in a batch-size
  // dependent way, and captured vectors would then differ by ~5e-4 between batch sizes.
  // 'auto' is llama.cpp's own default (and llama-server's): on where every device of the
  // context supports it.
  Napi::Value fa = o.Get("flashAttention");
  if (fa.IsString() && fa.As<Napi::String>().Utf8Value() == "auto") {
    p.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
  } else if (fa.IsBoolean() || fa.IsUndefined() || fa.IsNull()) {
    p.flash_attn_type = fa.IsBoolean() && fa.As<Napi::Boolean>() ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  } else {
    Throw(env, "INVALID_ARGUMENT", "context option 'flashAttention' must be true, false or 'auto'");
  }
  // Unified KV cache when several sequences share the context: keeps batch rows in order for
  // the capture hook (see block_hook.h). One sequence has nothing to reorder, and a unified cache
  // makes llama.cpp validate every batch against all 256 possible sequences (a 256 x 256 loop
  // per decode, ~40 us per generated token), so single-sequence contexts do without it.
  p.kv_unified = p.n_seq_max > 1;
  p.swa_full = true;
  // activationHooks: false leaves llama.cpp's eval callback unset, so that decoding runs
  // exactly as in plain llama.cpp (no per-split synchronisation, CUDA graphs keyed as usual);
  // such a context cannot capture.
  Napi::Value cvec = o.Get("steeringControlVector");
  core->uniformSteeringCvec = !(cvec.IsBoolean() && !cvec.As<Napi::Boolean>().Value());
  Napi::Value pools = o.Get("threadPool");
  if (!pools.IsUndefined() && !pools.IsNull() && !pools.IsBoolean()) Throw(env, "INVALID_ARGUMENT", "context option 'threadPool' must be a boolean");
  core->wantThreadPools = pools.IsBoolean() && pools.As<Napi::Boolean>().Value();
  Napi::Value hooks = o.Get("activationHooks");
  core->hooks = !(hooks.IsBoolean() && !hooks.As<Napi::Boolean>().Value());
  if (core->hooks) {
    p.cb_eval = &BlockHook::Callback;
    p.cb_eval_user_data = core->hook.get();
  }

  auto* worker = new CreateWorker(env, std::move(core), p);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Context::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env);
  if (info.Length() < 1 || !info[0].IsArray()) Throw(env, "INVALID_ARGUMENT", "step(items, layers)");
  Napi::Array arr = info[0].As<Napi::Array>();
  if (arr.Length() == 0) Throw(env, "INVALID_ARGUMENT", "step needs at least one item");

  std::vector<int32_t> layers;
  if (info.Length() > 1 && info[1].IsTypedArray()) {
    Napi::Int32Array la = info[1].As<Napi::Int32Array>();
    std::set<int32_t> seen;
    for (size_t i = 0; i < la.ElementLength(); ++i) {
      int32_t l = la[i];
      if (l < 0 || l >= core.nLayer) Throw(env, "LAYER_OUT_OF_RANGE", "block " + std::to_string(l) + " does not exist: the model has blocks 0.." + std::to_string(core.nLayer - 1));
      if (seen.insert(l).second) layers.push_back(l);
    }
    if (!layers.empty() && !core.hooks) Throw(env, "CAPTURE_DISABLED", "this context was created with activationHooks: false and cannot capture");
  }

  std::string tensor = "l_out";
  if (info.Length() > 2 && info[2].IsString()) {
    tensor = info[2].As<Napi::String>().Utf8Value();
    if (tensor.empty() || tensor.size() > 48) Throw(env, "INVALID_ARGUMENT", "capture tensor name must be 1..48 characters");
  }
  std::vector<StepItem> items;
  std::vector<Napi::ObjectReference> keep;
  std::set<int32_t> seqs;
  std::set<const DistributionRecord*> records;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    if (!arr.Get(i).IsObject()) Throw(env, "INVALID_ARGUMENT", "each step item must be an object");
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    StepItem it;
    it.seq = IntField(o, "seq", 0);
    if (it.seq < 0 || static_cast<uint32_t>(it.seq) >= core.nSeqMax) {
      Throw(env, "INVALID_ARGUMENT", "sequence " + std::to_string(it.seq) + " is outside 0.." + std::to_string(core.nSeqMax - 1) + " (create the context with more sequences)");
    }
    if (!seqs.insert(it.seq).second) Throw(env, "INVALID_ARGUMENT", "sequence " + std::to_string(it.seq) + " appears twice in one step");
    Napi::Value tv = o.Get("tokens");
    if (!tv.IsTypedArray() || tv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) Throw(env, "INVALID_ARGUMENT", "item.tokens must be an Int32Array");
    Napi::Int32Array ta = tv.As<Napi::Int32Array>();
    if (ta.ElementLength() == 0) Throw(env, "INVALID_ARGUMENT", "item.tokens is empty");
    it.tokens.assign(ta.Data(), ta.Data() + ta.ElementLength());
    for (llama_token t : it.tokens) {
      if (t < 0 || t >= core.nVocab) Throw(env, "INVALID_ARGUMENT", "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(core.nVocab - 1) + ")");
    }
    const int32_t n = static_cast<int32_t>(it.tokens.size());
    Napi::Value sv = o.Get("sampler");
    if (sv.IsObject()) {
      it.sampler = Sampler::Unwrap(sv.As<Napi::Object>());
      keep.push_back(Napi::Persistent(sv.As<Napi::Object>()));
    }
    it.acceptTokens = o.Get("acceptTokens").ToBoolean();
    it.wantLogits = o.Get("logits").ToBoolean();
    it.scoreFrom = IntField(o, "scoreFrom", -1);
    if (it.scoreFrom != -1 && (it.scoreFrom < 1 || it.scoreFrom >= n)) Throw(env, "INVALID_ARGUMENT", "scoreFrom must be in 1..tokens.length-1");
    Napi::Value stv = o.Get("steering");
    if (stv.IsObject()) {
      if (!core.hooks) {
        Throw(env, "CAPTURE_DISABLED", "this context was created with activationHooks: false: per-call (per-sequence) steering needs the eval callback; use setSteering (context-wide) instead");
      }
      Napi::Object so = stv.As<Napi::Object>();
      if (!so.InstanceOf(GetAddonData(env).sequenceSteeringCtor.Value())) Throw(env, "INVALID_ARGUMENT", "item.steering must be a NativeSequenceSteering");
      it.steer = NativeSequenceSteering::Unwrap(so)->Get();
      if (it.steer->nEmbd != core.nEmbd || it.steer->end >= core.nLayer) {
        Throw(env, "VECTOR_WIDTH_MISMATCH", "the steering was built for a model with n_embd " + std::to_string(it.steer->nEmbd) + " and blocks up to " +
                                               std::to_string(it.steer->end) + "; this context's model has n_embd " + std::to_string(core.nEmbd) + " and " + std::to_string(core.nLayer) + " blocks");
      }
    }
    Napi::Value recv = o.Get("record");
    Napi::Value cmpv = o.Get("compare");
    for (Napi::Value dv : {recv, cmpv}) {
      if (dv.IsUndefined() || dv.IsNull()) continue;
      if (!dv.IsObject() || !dv.As<Napi::Object>().InstanceOf(GetAddonData(env).distributionsCtor.Value())) {
        Throw(env, "INVALID_ARGUMENT", "item.record and item.compare must be NativeDistributions");
      }
      if (it.scoreFrom < 1) Throw(env, "INVALID_ARGUMENT", "item.record and item.compare need scoreFrom (they cover the scored rows)");
    }
    if (recv.IsObject()) it.record = NativeDistributions::Unwrap(recv.As<Napi::Object>())->Get();
    if (cmpv.IsObject()) it.compare = NativeDistributions::Unwrap(cmpv.As<Napi::Object>())->Get();
    if (it.record && it.compare) Throw(env, "INVALID_ARGUMENT", "an item cannot both record and compare distributions");
    for (const DistributionRecordPtr& d : {it.record, it.compare}) {
      if (!d) continue;
      if (!records.insert(d.get()).second) Throw(env, "INVALID_ARGUMENT", "one distributions object appears in two items of one step (or is recorded and compared at once)");
    }
    it.sampledTopK = IntField(o, "sampledTopK", -1);
    if (it.sampledTopK < -1 || it.sampledTopK > 100) Throw(env, "INVALID_ARGUMENT", "sampledTopK must be in 0..100");
    it.scoreTopK = IntField(o, "scoreTopK", 0);
    if (it.scoreTopK < 0 || it.scoreTopK > 100) Throw(env, "INVALID_ARGUMENT", "scoreTopK must be in 0..100");
    if (it.scoreTopK > 0 && it.scoreFrom < 1) Throw(env, "INVALID_ARGUMENT", "scoreTopK needs scoreFrom");
    Napi::Value pv = o.Get("pool");
    it.capture.pool = pv.IsString() ? ParsePool(env, pv.As<Napi::String>()) : Pool::None;
    if (layers.empty()) it.capture.pool = Pool::None;
    it.capture.nTokens = n;
    it.capture.start = IntField(o, "start", 0);
    it.capture.end = IntField(o, "end", n);
    if (it.capture.pool == Pool::Mean && (it.capture.start < 0 || it.capture.end > n || it.capture.start >= it.capture.end)) {
      Throw(env, "INVALID_ARGUMENT", "mean pooling range [" + std::to_string(it.capture.start) + ", " + std::to_string(it.capture.end) + ") is not inside 0.." + std::to_string(n));
    }
    if (it.capture.pool == Pool::Index && (it.capture.start < 0 || it.capture.start >= n)) {
      Throw(env, "INVALID_ARGUMENT", "token index " + std::to_string(it.capture.start) + " is outside 0.." + std::to_string(n - 1));
    }
    items.push_back(std::move(it));
  }
  // Row attribution (capture, per-sequence steering) relies on llama.cpp splitting a batch into
  // micro-batches in batch order. Recurrent and hybrid memories never do that for several
  // sequences (they split by sequence), so rows could be given to the wrong sequence: refuse.
  if (items.size() > 1) {
    bool rowsMatter = !layers.empty();
    for (const StepItem& it : items) rowsMatter = rowsMatter || it.steer != nullptr;
    const llama_model* m = core.model.get();
    if (rowsMatter && (llama_model_is_recurrent(m) || llama_model_is_hybrid(m))) {
      Throw(env, "INVALID_ARGUMENT", "this model's memory is recurrent or hybrid: llama.cpp reorders several sequences of one batch by sequence, so capture and per-sequence steering need one sequence per call (use evaluate/generate per prompt, or setSteering)");
    }
  }
  core.abort.store(false);
  auto job = std::make_unique<StepJob>(env, this, info.This().As<Napi::Object>(), std::move(items), std::move(layers), std::move(tensor), std::move(keep));
  Napi::Promise promise = job->Promise();
  busy_ = true;
  core.BeginRun();
  GetAddonData(env).decodeQueue->Submit(env, std::move(job));
  return promise;
}

Napi::Value Context::ClearSequence(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env);
  llama_memory_t mem = llama_get_memory(core.ctx.get());
  if (info.Length() < 1 || info[0].IsUndefined()) {
    llama_memory_clear(mem, true);
  } else {
    int32_t seq = info[0].As<Napi::Number>().Int32Value();
    int32_t from = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : -1;
    if (seq < 0 || static_cast<uint32_t>(seq) >= core.nSeqMax) Throw(env, "INVALID_ARGUMENT", "sequence " + std::to_string(seq) + " does not exist");
    llama_memory_seq_rm(mem, seq, from < 0 ? -1 : from, -1);
  }
  return env.Undefined();
}

Napi::Value Context::SequenceLength(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env, true);
  int32_t seq = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 0;
  if (seq < 0 || static_cast<uint32_t>(seq) >= core.nSeqMax) Throw(env, "INVALID_ARGUMENT", "sequence " + std::to_string(seq) + " does not exist");
  if (busy_) Throw(env, "CONTEXT_BUSY", "another operation is running on this context");
  return Napi::Number::New(env, llama_memory_seq_pos_max(llama_get_memory(core.ctx.get()), seq) + 1);
}

Napi::Value Context::SetSteering(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env);
  if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Throw(env, "INVALID_ARGUMENT", "setSteering(vectors: Float32Array, scale, start, end)");
  }
  Napi::Float32Array v = info[0].As<Napi::Float32Array>();
  float scale = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().FloatValue() : 1.0f;
  int32_t start = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 1;
  int32_t end = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : core.nLayer - 1;
  ClearLastLlamaError();
  core.DropUniformCvec();  // the context-wide steering replaces what the control vector held
  CodedError err = core.steering->Set(core.ctx.get(), v.Data(), v.ElementLength(), scale, start, end);
  if (!err.empty()) Throw(env, err.code, err.message);
  return env.Undefined();
}

Napi::Value Context::ClearSteering(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env);
  core.DropUniformCvec();
  core.steering->Clear(core.ctx.get());
  return env.Undefined();
}

Napi::Value Context::GetSteering(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env, true);
  if (!core.steering->Active()) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  const std::vector<float>& v = core.steering->Vectors();
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  std::memcpy(a.Data(), v.data(), v.size() * sizeof(float));
  o.Set("vectors", a);
  o.Set("scale", core.steering->Scale());
  o.Set("start", core.steering->Start());
  o.Set("end", core.steering->End());
  return o;
}

Napi::Value Context::Abort(const Napi::CallbackInfo& info) {
  if (core_) core_->abort.store(true);
  return info.Env().Undefined();
}

Napi::Value Context::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextCore& core = Core(env, true);
  Napi::Object o = Napi::Object::New(env);
  o.Set("contextSize", core.nCtx);
  o.Set("batchSize", core.nBatch);
  o.Set("ubatchSize", core.nUbatch);
  o.Set("sequences", core.nSeqMax);
  o.Set("threads", llama_n_threads(core.ctx.get()));
  o.Set("batchThreads", llama_n_threads_batch(core.ctx.get()));
  o.Set("activationHooks", core.hooks);
  o.Set("threadPool", core.threadPools.attached());
  o.Set("steeringControlVector", core.uniformSteeringCvec);
  o.Set("controlVectorSteps", static_cast<double>(core.cvecSteps));
  o.Set("nLayer", core.nLayer);
  o.Set("nEmbd", core.nEmbd);
  o.Set("nVocab", core.nVocab);
  return o;
}

Napi::Value Context::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (busy_) Throw(env, "CONTEXT_BUSY", "cannot dispose while an operation is running; abort it and await it first");
  disposed_ = true;
  core_.reset();
  ReturnFreedMemory();
  return env.Undefined();
}

Napi::Value Context::IsBusy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_); }

}  // namespace emosteer
