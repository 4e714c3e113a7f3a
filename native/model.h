// Model: a loaded GGUF model (weights shared by every context made from it), its metadata,
// tokenizer and chat template.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "llama.h"

namespace emosteer {

using ModelPtr = std::shared_ptr<llama_model>;

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** loadModel(path, {gpuLayers, mmap, onProgress}) -> Promise<Model> */
  static Napi::Value Load(const Napi::CallbackInfo& info);

  explicit Model(const Napi::CallbackInfo& info);

  /** The model, or throws DISPOSED. */
  const ModelPtr& Checked(Napi::Env env) const;
  void Adopt(ModelPtr model, std::string path);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Detokenize(const Napi::CallbackInfo& info);
  Napi::Value TokenToPiece(const Napi::CallbackInfo& info);
  Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info);
  Napi::Value IsEog(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);

  ModelPtr model_;
  std::string path_;
  bool disposed_ = false;
};

}  // namespace emosteer
