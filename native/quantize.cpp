// Quantization through llama_model_quantize, off the JS thread.
//
// llama_model_quantize has neither a progress callback nor a way to stop it. It does log one
// line per tensor, on the thread that called it, before it processes that tensor:
//   "[%4d/%4d] %-36s - [%s], type = %6s, "            (src/llama-quant.cpp, main loop)
// A log hook chained in front of the installed callback (errors.cpp's) reads those lines on
// the worker thread only (a thread_local pointer marks the quantizing thread): it forwards
// progress to JS through a ThreadSafeFunction and, when an abort was requested, throws a
// std::exception from that line. llama_model_quantize catches std::exception around its whole
// implementation (RAII only on that path: the output stream, buffers, mmap), logs it and
// returns 1; the partial output is then removed here. JS is never called from this thread.
//
// The output goes to `partial` and is renamed to `output` only after llama.cpp has finished
// (and written the GGUF header, which it writes last): an interrupted run never leaves a file
// at `output`, and a failed one leaves none at `partial` either.
#include "quantize.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

#include "errors.h"
#include "ggml.h"
#include "llama.h"

namespace emosteer {

namespace {

struct TypeEntry {
  const char* name;
  llama_ftype ftype;
};

// Target types by their llama-quantize names (lower case). Types that need an importance
// matrix (IQ1_*, IQ2_*, IQ3_XXS, Q2_K_S) are left out: llama.cpp refuses them without one.
constexpr TypeEntry kTypes[] = {
    {"f32", LLAMA_FTYPE_ALL_F32},         {"f16", LLAMA_FTYPE_MOSTLY_F16},
    {"bf16", LLAMA_FTYPE_MOSTLY_BF16},    {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"q6_k", LLAMA_FTYPE_MOSTLY_Q6_K},    {"q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M},
    {"q5_k_s", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},
    {"q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},    {"q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M},
    {"q4_k_s", LLAMA_FTYPE_MOSTLY_Q4_K_S}, {"q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},
    {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},    {"iq4_nl", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"iq4_xs", LLAMA_FTYPE_MOSTLY_IQ4_XS}, {"q3_k_l", LLAMA_FTYPE_MOSTLY_Q3_K_L},
    {"q3_k_m", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"q3_k_s", LLAMA_FTYPE_MOSTLY_Q3_K_S},
    {"q2_k", LLAMA_FTYPE_MOSTLY_Q2_K},
};

std::optional<llama_ftype> FtypeFromName(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const TypeEntry& t : kTypes) {
    if (name == t.name) return t.ftype;
  }
  return std::nullopt;
}

std::string TypeList() {
  std::string s;
  for (const TypeEntry& t : kTypes) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s;
}

/** Thrown from the log hook to stop llama_model_quantize at the next tensor. */
class QuantizeAborted : public std::runtime_error {
 public:
  QuantizeAborted() : std::runtime_error("cancelled by emosteer (AbortSignal)") {}
};

/** What the log hook reports while a quantization runs. */
struct ProgressEvent {
  int index = 0;  // 1-based index of the tensor llama.cpp starts now
  int total = 0;
  std::string tensor;
};

/** The result of a run, settled on the JS thread. */
struct Outcome {
  Napi::Promise::Deferred deferred;
  CodedError error;
  uint64_t bytesOut = 0;
  int tensors = 0;
  int fallbacks = 0;
  llama_ftype ftype = LLAMA_FTYPE_ALL_F32;

  void Settle(Napi::Env env) const {
    Napi::HandleScope scope(env);
    if (!error.empty()) {
      deferred.Reject(MakeError(env, error.code, error.message).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytesOut", static_cast<double>(bytesOut));
    o.Set("tensors", tensors);
    o.Set("fallbackTensors", fallbacks);
    o.Set("quantization", std::string(llama_ftype_name(ftype)));
    deferred.Resolve(o);
  }
};

class QuantizeWorker;
thread_local QuantizeWorker* t_active = nullptr;

/** Marks the current thread as the one running a quantization (for the log hook). */
class ActiveScope {
 public:
  explicit ActiveScope(QuantizeWorker* w) { t_active = w; }
  ~ActiveScope() { t_active = nullptr; }
  ActiveScope(const ActiveScope&) = delete;
  ActiveScope& operator=(const ActiveScope&) = delete;
};

std::mutex g_hook_mutex;
std::atomic<ggml_log_callback> g_prev_callback{nullptr};
std::atomic<void*> g_prev_user_data{nullptr};

void QuantizeLogHook(ggml_log_level level, const char* text, void* user);

/** Puts the hook in front of whatever callback is installed (idempotent). */
void EnsureLogHook() {
  std::lock_guard<std::mutex> lock(g_hook_mutex);
  ggml_log_callback current = nullptr;
  void* user = nullptr;
  llama_log_get(&current, &user);
  if (current == &QuantizeLogHook) return;
  g_prev_user_data.store(user);
  g_prev_callback.store(current);
  llama_log_set(&QuantizeLogHook, nullptr);
}

class QuantizeWorker : public Napi::AsyncWorker {
 public:
  QuantizeWorker(Napi::Env env, std::string input, std::string partial, std::string output, llama_ftype ftype,
                 int32_t threads, std::shared_ptr<std::atomic<bool>> abort, Napi::Function onProgress)
      : Napi::AsyncWorker(env, "emosteer.quantize"),
        deferred_(Napi::Promise::Deferred::New(env)),
        input_(std::move(input)),
        partial_(std::move(partial)),
        output_(std::move(output)),
        ftype_(ftype),
        threads_(threads),
        abort_(std::move(abort)) {
    if (!onProgress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, onProgress, "emosteer.quantizeProgress", 0, 1);
    }
  }
  ~QuantizeWorker() override {
    if (progress_) progress_->Release();
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      ClearLastLlamaError();
      EnsureLogHook();
      llama_model_quantize_params params = llama_model_quantize_default_params();
      params.nthread = threads_;  // <= 0: llama.cpp uses std::thread::hardware_concurrency()
      params.ftype = ftype_;
      // Our models ship quantized (Q4_K_M, Q4_1): without this llama.cpp refuses every
      // quantized tensor ("requantizing from type q4_K is disabled").
      params.allow_requantize = true;
      uint32_t rc = 0;
      {
        ActiveScope scope(this);
        rc = llama_model_quantize(input_.c_str(), partial_.c_str(), &params);
      }
      if (aborted_) {
        error_ = {"ABORTED", "quantization of '" + input_ + "' was cancelled; nothing was written to '" + output_ + "'"};
      } else if (rc != 0) {
        std::string why = LastLlamaError();
        const char* marker = "failed to quantize: ";
        size_t at = why.rfind(marker);
        if (at != std::string::npos) why = why.substr(at + std::strlen(marker));
        error_ = {"QUANTIZE_FAILED", "llama.cpp could not quantize '" + input_ + "' to " + llama_ftype_name(ftype_) +
                                         (why.empty() ? std::string(".") : ": " + why)};
      } else {
        std::error_code ec;
        std::filesystem::rename(partial_, output_, ec);
        if (ec) {
          error_ = {"QUANTIZE_FAILED", "quantized into '" + partial_ + "' but could not rename it to '" + output_ + "': " + ec.message()};
        } else {
          bytesOut_ = std::filesystem::file_size(output_, ec);
          if (ec) bytesOut_ = 0;
        }
      }
    } catch (const std::bad_alloc&) {
      error_ = {"OUT_OF_MEMORY", "out of memory while quantizing '" + input_ + "'"};
    } catch (const std::exception& e) {
      error_ = {"INTERNAL_ERROR", std::string("quantizing '") + input_ + "' failed: " + e.what()};
    }
    if (!error_.empty()) {
      std::error_code ec;
      std::filesystem::remove(partial_, ec);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    auto outcome = std::make_unique<Outcome>(Outcome{deferred_, error_, bytesOut_, tensorsTotal_, fallbacks_, ftype_});
    // Settle through the progress queue when there is one: it is FIFO, so every progress
    // event reaches JS before the promise settles (the work-completion callback and the
    // queue are separate libuv handles with no order between them).
    if (progress_) {
      napi_status st = progress_->NonBlockingCall(outcome.get(), [](Napi::Env e, Napi::Function, Outcome* raw) {
        std::unique_ptr<Outcome> o(raw);
        if (e != nullptr) o->Settle(e);
      });
      if (st == napi_ok) {
        outcome.release();  // owned by the queued call now
        return;
      }
    }
    outcome->Settle(env);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

  /** Called by the log hook on the quantizing thread; may throw QuantizeAborted. */
  void OnLog(ggml_log_level level, const char* text) {
    if (level == GGML_LOG_LEVEL_INFO && text[0] == '[') {
      int index = 0, total = 0;
      char name[256] = {0};
      if (std::sscanf(text, "[%d/%d] %255s", &index, &total, name) == 3) {
        tensorsTotal_ = total;
        if (abort_->load()) {
#if defined(_MSC_VER)
          // MSVC (/EHsc) assumes extern "C" callbacks never throw: finish, then discard.
          aborted_ = true;
#else
          aborted_ = true;
          throw QuantizeAborted();
#endif
        }
        Report(index, total, name);
      }
    } else if (level == GGML_LOG_LEVEL_WARN) {
      // "llama_model_quantize_impl: WARNING: 3 of 39 tensor(s) required fallback quantization"
      if (std::strstr(text, "tensor(s) required fallback quantization") != nullptr) {
        const char* w = std::strstr(text, "WARNING: ");
        int n = 0, of = 0;
        if (w != nullptr && std::sscanf(w + 9, "%d of %d", &n, &of) == 2) fallbacks_ = n;
      }
    }
  }

 private:
  void Report(int index, int total, const char* name) {
    if (!progress_) return;
    auto event = std::make_unique<ProgressEvent>(ProgressEvent{index, total, name});
    napi_status st = progress_->NonBlockingCall(event.get(), [](Napi::Env env, Napi::Function fn, ProgressEvent* raw) {
      std::unique_ptr<ProgressEvent> e(raw);
      if (env == nullptr || fn.IsEmpty()) return;
      Napi::Object o = Napi::Object::New(env);
      o.Set("index", e->index);
      o.Set("total", e->total);
      o.Set("tensor", e->tensor);
      fn.Call({o});
    });
    if (st == napi_ok) event.release();  // owned by the callback now
  }

  Napi::Promise::Deferred deferred_;
  std::string input_;
  std::string partial_;
  std::string output_;
  llama_ftype ftype_;
  int32_t threads_;
  std::shared_ptr<std::atomic<bool>> abort_;
  std::optional<Napi::ThreadSafeFunction> progress_;
  bool aborted_ = false;
  int tensorsTotal_ = 0;
  int fallbacks_ = 0;
  uint64_t bytesOut_ = 0;
  CodedError error_;
};

void QuantizeLogHook(ggml_log_level level, const char* text, void* /*user*/) {
  ggml_log_callback prev = g_prev_callback.load();
  if (prev != nullptr) prev(level, text, g_prev_user_data.load());
  QuantizeWorker* active = t_active;
  if (active != nullptr && text != nullptr) active->OnLog(level, text);
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString() || info[i].As<Napi::String>().Utf8Value().empty()) {
    Throw(info.Env(), "INVALID_ARGUMENT", std::string("quantize: ") + what + " must be a non-empty string");
  }
  return info[i].As<Napi::String>();
}

/**
 * quantize(input, partial, output, { type, threads?, onProgress? })
 *   -> { promise: Promise<{ bytesOut, tensors, fallbackTensors, quantization }>, abort(): void }
 */
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string input = StringArg(info, 0, "input");
  std::string partial = StringArg(info, 1, "partial");
  std::string output = StringArg(info, 2, "output");
  if (info.Length() < 4 || !info[3].IsObject()) Throw(env, "INVALID_ARGUMENT", "quantize: options must be an object");
  Napi::Object o = info[3].As<Napi::Object>();
  if (!o.Get("type").IsString()) Throw(env, "INVALID_ARGUMENT", "quantize: type must be a string (" + TypeList() + ")");
  std::string type = o.Get("type").As<Napi::String>();
  std::optional<llama_ftype> ftype = FtypeFromName(type);
  if (!ftype) Throw(env, "INVALID_ARGUMENT", "unknown quantization type '" + type + "'; use one of " + TypeList());
  int32_t threads = 0;
  if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
    if (!o.Get("threads").IsNumber()) Throw(env, "INVALID_ARGUMENT", "quantize: threads must be a number");
    threads = o.Get("threads").As<Napi::Number>().Int32Value();
  }
  Napi::Function onProgress;
  if (o.Has("onProgress") && o.Get("onProgress").IsFunction()) onProgress = o.Get("onProgress").As<Napi::Function>();

  auto abort = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new QuantizeWorker(env, input, partial, output, *ftype, threads, abort, onProgress);  // freed by node-addon-api after OnOK/OnError
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->Promise());
  handle.Set("abort", Napi::Function::New(env, [abort](const Napi::CallbackInfo& i) {
    abort->store(true);
    return i.Env().Undefined();
  }, "abort"));
  worker->Queue();
  return handle;
}

Napi::Value QuantizationTypes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  uint32_t i = 0;
  for (const TypeEntry& t : kTypes) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", t.name);
    o.Set("ftype", static_cast<int32_t>(t.ftype));
    o.Set("quantization", llama_ftype_name(t.ftype));
    a.Set(i++, o);
  }
  return a;
}

}  // namespace

void RegisterQuantize(Napi::Env env, Napi::Object exports) {
  EnsureLogHook();
  exports.Set("quantize", Napi::Function::New<Quantize>(env, "quantize"));
  exports.Set("quantizationTypes", Napi::Function::New<QuantizationTypes>(env, "quantizationTypes"));
}

}  // namespace emosteer
