#include "model.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "addon_data.h"
#include "errors.h"
#include "memory_release.h"

namespace emosteer {

namespace {

std::string MetaString(const llama_model* m, const char* key) {
  std::vector<char> buf(256);
  int32_t n = llama_model_meta_val_str(m, key, buf.data(), buf.size());
  if (n < 0) return "";
  if (static_cast<size_t>(n) >= buf.size()) {
    buf.resize(n + 1);
    n = llama_model_meta_val_str(m, key, buf.data(), buf.size());
    if (n < 0) return "";
  }
  return std::string(buf.data(), n);
}

/** Loads a model off the JS thread, reporting progress through a thread-safe function. */
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, llama_model_params params, Napi::Function onProgress,
             std::vector<std::string> rpcServers, bool cpuOnly)
      : Napi::AsyncWorker(env, "emosteer.loadModel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        params_(params),
        rpcServers_(std::move(rpcServers)),
        cpuOnly_(cpuOnly) {
    if (!onProgress.IsEmpty()) {
      progress_ = Napi::ThreadSafeFunction::New(env, onProgress, "emosteer.loadProgress", 0, 1);
    }
  }
  ~LoadWorker() override {
    if (progress_) progress_->Release();
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      ClearLastLlamaError();
      params_.progress_callback = &LoadWorker::OnLoadProgress;
      params_.progress_callback_user_data = this;
      if (!rpcServers_.empty() && !UseRpcDevices()) return;
      if (cpuOnly_) {
        // An empty device list (only the terminator): every weight, the KV cache and every op on
        // the CPU backend, even in an addon built with a GPU backend (loadModel's gpu: 'cpu').
        devices_.assign(1, nullptr);
        params_.devices = devices_.data();
        params_.n_gpu_layers = 0;
      }
      llama_model* raw = llama_model_load_from_file(path_.c_str(), params_);
      if (raw == nullptr) {
        std::string why = LastLlamaError();
        error_ = {"MODEL_LOAD_FAILED", "llama.cpp could not load '" + path_ + "'" +
                                           (why.empty() ? std::string(".") : ": " + why)};
        return;
      }
      model_ = ModelPtr(raw, llama_model_free);
    } catch (const std::exception& e) {
      error_ = {"MODEL_LOAD_FAILED", std::string("loading '") + path_ + "' failed: " + e.what()};
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!error_.empty()) {
      deferred_.Reject(MakeError(env, error_.code, error_.message).Value());
      return;
    }
    Napi::Object obj = GetAddonData(env).modelCtor.New({});
    Model::Unwrap(obj)->Adopt(std::move(model_), path_);
    deferred_.Resolve(obj);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  static bool OnLoadProgress(float p, void* user) {
    auto* self = static_cast<LoadWorker*>(user);
    if (self->progress_ && (p >= 1.0f || p - self->lastProgress_ >= 0.01f)) {
      self->lastProgress_ = p;
      auto* value = new float(p);
      napi_status st = self->progress_->NonBlockingCall(value, [](Napi::Env env, Napi::Function fn, float* v) {
        float copy = *v;
        delete v;
        if (env != nullptr && !fn.IsEmpty()) fn.Call({Napi::Number::New(env, copy)});
      });
      if (st != napi_ok) delete value;
    }
    return true;
  }

  /**
   * Puts the devices of every RPC server first in the model's device list (llama.cpp's own order:
   * fewer transfers), then this machine's GPUs; the CPU takes the layers not offloaded. The
   * servers are connected here, off the JS thread (ggml's RPC client keeps one connection per
   * endpoint for the process). lib/model.ts has checked that each endpoint accepts a connection,
   * since ggml aborts the process when it cannot connect.
   */
  bool UseRpcDevices() {
    ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
    if (rpc == nullptr) {
      error_ = {"RPC_NOT_BUILT", "this addon was built without the RPC backend: rebuild with EMOSTEER_RPC=1 "
                                 "(npm run build:native) or use the prebuilt addon"};
      return false;
    }
    using AddServerFn = ggml_backend_reg_t (*)(const char*);
    auto addServer = reinterpret_cast<AddServerFn>(ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server"));
    if (addServer == nullptr) {
      error_ = {"RPC_NOT_BUILT", "the RPC backend of this addon has no ggml_backend_rpc_add_server"};
      return false;
    }
    for (const std::string& endpoint : rpcServers_) {
      ggml_backend_reg_t reg = addServer(endpoint.c_str());
      if (reg == nullptr || ggml_backend_reg_dev_count(reg) == 0) {
        error_ = {"RPC_UNREACHABLE", "the RPC server at " + endpoint + " reports no devices"};
        return false;
      }
      for (size_t i = 0; i < ggml_backend_reg_dev_count(reg); ++i) devices_.push_back(ggml_backend_reg_dev_get(reg, i));
    }
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
      ggml_backend_dev_t d = ggml_backend_dev_get(i);
      auto type = ggml_backend_dev_type(d);
      if (type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) devices_.push_back(d);
    }
    devices_.push_back(nullptr);
    params_.devices = devices_.data();
    return true;
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  llama_model_params params_;
  std::vector<std::string> rpcServers_;
  bool cpuOnly_ = false;
  std::vector<ggml_backend_dev_t> devices_;
  std::optional<Napi::ThreadSafeFunction> progress_;
  float lastProgress_ = -1.0f;
  ModelPtr model_;
  CodedError error_;
};

}  // namespace

Napi::Function Model::Define(Napi::Env env) {
  return DefineClass(env, "NativeModel",
                     {
                         InstanceMethod<&Model::Info>("info"),
                         InstanceMethod<&Model::Tokenize>("tokenize"),
                         InstanceMethod<&Model::Detokenize>("detokenize"),
                         InstanceMethod<&Model::TokenToPiece>("tokenToPiece"),
                         InstanceMethod<&Model::ApplyChatTemplate>("applyChatTemplate"),
                         InstanceMethod<&Model::IsEog>("isEog"),
                         InstanceMethod<&Model::Dispose>("dispose"),
                         InstanceMethod<&Model::IsDisposed>("isDisposed"),
                     });
}

Model::Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {}

void Model::Adopt(ModelPtr model, std::string path) {
  model_ = std::move(model);
  path_ = std::move(path);
}

const ModelPtr& Model::Checked(Napi::Env env) const {
  if (disposed_ || !model_) Throw(env, "DISPOSED", "the model was disposed; load it again");
  return model_;
}

Napi::Value Model::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  {
    if (info.Length() < 1 || !info[0].IsString()) Throw(env, "INVALID_ARGUMENT", "loadModel(path): path must be a string");
    std::string path = info[0].As<Napi::String>();
    llama_model_params params = llama_model_default_params();
    Napi::Function onProgress;
    std::vector<std::string> rpcServers;
    bool cpuOnly = false;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      if (o.Has("gpuLayers") && o.Get("gpuLayers").IsNumber()) params.n_gpu_layers = o.Get("gpuLayers").As<Napi::Number>().Int32Value();
      if (o.Has("mmap") && o.Get("mmap").IsBoolean()) {
        params.load_mode = o.Get("mmap").As<Napi::Boolean>() ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
      }
      if (o.Has("onProgress") && o.Get("onProgress").IsFunction()) onProgress = o.Get("onProgress").As<Napi::Function>();
      if (o.Has("repack") && o.Get("repack").IsBoolean()) params.use_extra_bufts = o.Get("repack").As<Napi::Boolean>();
      if (o.Has("cpuOnly") && o.Get("cpuOnly").IsBoolean()) cpuOnly = o.Get("cpuOnly").As<Napi::Boolean>();
      if (o.Has("rpcServers") && o.Get("rpcServers").IsArray()) {
        Napi::Array a = o.Get("rpcServers").As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
          Napi::Value v = a.Get(i);
          if (!v.IsString()) Throw(env, "INVALID_ARGUMENT", "rpcServers must be strings 'host:port'");
          rpcServers.push_back(v.As<Napi::String>());
        }
      }
    }
    auto* worker = new LoadWorker(env, path, params, onProgress, std::move(rpcServers), cpuOnly);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }
}

Napi::Value Model::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", path_);
  o.Set("arch", MetaString(m, "general.architecture"));
  o.Set("name", MetaString(m, "general.name"));
  char desc[256] = {0};
  llama_model_desc(m, desc, sizeof(desc));
  o.Set("description", std::string(desc));
  o.Set("nLayer", llama_model_n_layer(m));
  o.Set("nEmbd", llama_model_n_embd(m));
  o.Set("nHead", llama_model_n_head(m));
  o.Set("nHeadKv", llama_model_n_head_kv(m));
  o.Set("nVocab", llama_vocab_n_tokens(vocab));
  o.Set("nCtxTrain", llama_model_n_ctx_train(m));
  o.Set("nParams", static_cast<double>(llama_model_n_params(m)));
  o.Set("tensorBytes", static_cast<double>(llama_model_size(m)));
  o.Set("quantization", std::string(llama_ftype_name(llama_model_ftype(m))));
  const char* tmpl = llama_model_chat_template(m, nullptr);
  o.Set("chatTemplate", tmpl ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());
  o.Set("bos", llama_vocab_bos(vocab));
  o.Set("eos", llama_vocab_eos(vocab));
  o.Set("addBos", llama_vocab_get_add_bos(vocab));
  o.Set("isRecurrent", llama_model_is_recurrent(m) || llama_model_is_hybrid(m));
  o.Set("hasEncoder", llama_model_has_encoder(m));
  Napi::Object meta = Napi::Object::New(env);
  int32_t count = llama_model_meta_count(m);
  std::vector<char> key(512), val(2048);
  for (int32_t i = 0; i < count; ++i) {
    if (llama_model_meta_key_by_index(m, i, key.data(), key.size()) < 0) continue;
    int32_t n = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
    if (n < 0 || static_cast<size_t>(n) >= val.size()) continue;  // skip huge values (vocab arrays)
    meta.Set(std::string(key.data()), std::string(val.data(), n));
  }
  o.Set("metadata", meta);
  return o;
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  if (info.Length() < 1 || !info[0].IsString()) Throw(env, "INVALID_ARGUMENT", "tokenize(text): text must be a string");
  std::string text = info[0].As<Napi::String>();
  bool addSpecial = info.Length() > 1 && info[1].ToBoolean();
  bool parseSpecial = info.Length() > 2 && info[2].ToBoolean();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  std::vector<llama_token> tokens(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                             static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
  if (n < 0 && n != INT32_MIN) {
    tokens.resize(-n);
    n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), addSpecial, parseSpecial);
  }
  if (n < 0) Throw(env, "INVALID_ARGUMENT", "tokenization failed (text too long?)");
  Napi::Int32Array out = Napi::Int32Array::New(env, n);
  std::copy(tokens.begin(), tokens.begin() + n, out.Data());
  return out;
}

static std::vector<llama_token> TokensFrom(Napi::Env env, Napi::Value v, int32_t nVocab) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    Throw(env, "INVALID_ARGUMENT", "tokens must be an Int32Array");
  }
  Napi::Int32Array arr = v.As<Napi::Int32Array>();
  std::vector<llama_token> tokens(arr.Data(), arr.Data() + arr.ElementLength());
  for (llama_token t : tokens) {
    if (t < 0 || t >= nVocab) Throw(env, "INVALID_ARGUMENT", "token id " + std::to_string(t) + " is outside the vocabulary (0.." + std::to_string(nVocab - 1) + ")");
  }
  return tokens;
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  std::vector<llama_token> tokens = TokensFrom(env, info[0], llama_vocab_n_tokens(vocab));
  bool removeSpecial = info.Length() > 1 && info[1].ToBoolean();
  bool unparseSpecial = info.Length() > 2 && info[2].ToBoolean();
  std::vector<char> buf(tokens.size() * 8 + 16);
  int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), buf.data(),
                               static_cast<int32_t>(buf.size()), removeSpecial, unparseSpecial);
  if (n < 0) {
    buf.resize(-n);
    n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), buf.data(),
                         static_cast<int32_t>(buf.size()), removeSpecial, unparseSpecial);
  }
  if (n < 0) Throw(env, "INVALID_ARGUMENT", "detokenization failed");
  return Napi::String::New(env, buf.data(), n);
}

Napi::Value Model::TokenToPiece(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  const llama_vocab* vocab = llama_model_get_vocab(m);
  if (info.Length() < 1 || !info[0].IsNumber()) Throw(env, "INVALID_ARGUMENT", "tokenToPiece(token): token must be a number");
  int32_t tok = info[0].As<Napi::Number>().Int32Value();
  if (tok < 0 || tok >= llama_vocab_n_tokens(vocab)) Throw(env, "INVALID_ARGUMENT", "token id " + std::to_string(tok) + " is outside the vocabulary");
  bool special = info.Length() > 1 && info[1].ToBoolean();
  std::vector<char> buf(64);
  int32_t n = llama_token_to_piece(vocab, tok, buf.data(), static_cast<int32_t>(buf.size()), 0, special);
  if (n < 0) {
    buf.resize(-n);
    n = llama_token_to_piece(vocab, tok, buf.data(), static_cast<int32_t>(buf.size()), 0, special);
  }
  if (n < 0) n = 0;
  return Napi::Buffer<char>::Copy(env, buf.data(), n);
}

Napi::Value Model::ApplyChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  if (info.Length() < 1 || !info[0].IsArray()) Throw(env, "INVALID_ARGUMENT", "applyChatTemplate(messages): messages must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  bool addAssistant = info.Length() < 2 || info[1].ToBoolean();
  std::string tmpl;
  if (info.Length() > 2 && info[2].IsString()) {
    tmpl = info[2].As<Napi::String>();
  } else {
    const char* t = llama_model_chat_template(m, nullptr);
    if (t == nullptr) Throw(env, "NO_CHAT_TEMPLATE", "the model has no chat template (tokenizer.chat_template); pass one explicitly or use plain text");
    tmpl = t;
  }
  std::vector<std::string> roles, contents;
  size_t total = 0;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) Throw(env, "INVALID_ARGUMENT", "each message must be {role, content}");
    Napi::Object msg = v.As<Napi::Object>();
    if (!msg.Get("role").IsString() || !msg.Get("content").IsString()) Throw(env, "INVALID_ARGUMENT", "each message must be {role: string, content: string}");
    roles.push_back(msg.Get("role").As<Napi::String>());
    contents.push_back(msg.Get("content").As<Napi::String>());
    total += roles.back().size() + contents.back().size();
  }
  std::vector<llama_chat_message> msgs;
  for (size_t i = 0; i < roles.size(); ++i) msgs.push_back({roles[i].c_str(), contents[i].c_str()});
  std::vector<char> buf(total * 2 + 256);
  int32_t n = llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), addAssistant, buf.data(), static_cast<int32_t>(buf.size()));
  if (n > static_cast<int32_t>(buf.size())) {
    buf.resize(n);
    n = llama_chat_apply_template(tmpl.c_str(), msgs.data(), msgs.size(), addAssistant, buf.data(), static_cast<int32_t>(buf.size()));
  }
  if (n < 0) Throw(env, "CHAT_TEMPLATE_UNSUPPORTED", "llama.cpp does not recognise this chat template (it supports a fixed list of built-in templates, no Jinja)");
  return Napi::String::New(env, buf.data(), n);
}

Napi::Value Model::IsEog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const llama_model* m = Checked(env).get();
  if (info.Length() < 1 || !info[0].IsNumber()) Throw(env, "INVALID_ARGUMENT", "isEog(token): token must be a number");
  return Napi::Boolean::New(env, llama_vocab_is_eog(llama_model_get_vocab(m), info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value Model::Dispose(const Napi::CallbackInfo& info) {
  // Contexts keep their own reference: the weights are freed when the last one is gone.
  disposed_ = true;
  model_.reset();
  ReturnFreedMemory();
  return info.Env().Undefined();
}

Napi::Value Model::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), disposed_);
}

}  // namespace emosteer
