// Module entry: backend init, class registration, versions and logging controls.
#include <napi.h>

#include "addon_data.h"
#include "context.h"
#include "distributions.h"
#include "errors.h"
#include "memory_release.h"
#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"
#include "model.h"
#include "quantize.h"
#include "sampler.h"
#include "sequence_steering.h"

#ifndef EMOSTEER_LLAMA_COMMIT
#define EMOSTEER_LLAMA_COMMIT "unknown"
#endif
#ifndef EMOSTEER_BUILD_KIND
#define EMOSTEER_BUILD_KIND "source"
#endif
#ifndef EMOSTEER_BUILD_CPU
#define EMOSTEER_BUILD_CPU "unknown"
#endif

namespace emosteer {
namespace {

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("llamaCppCommit", EMOSTEER_LLAMA_COMMIT);
  o.Set("llamaCppVersion", llama_version());
  o.Set("ggmlVersion", ggml_version());
  o.Set("systemInfo", llama_print_system_info());
  o.Set("gpuOffload", llama_supports_gpu_offload());
  o.Set("mmap", llama_supports_mmap());
  o.Set("rpc", llama_supports_rpc());
  Napi::Object build = Napi::Object::New(env);
  build.Set("kind", EMOSTEER_BUILD_KIND);
  build.Set("cpu", EMOSTEER_BUILD_CPU);
  build.Set("mallocMmapThreshold", AllocatorConfigured() ? Napi::Value(Napi::Number::New(env, 1 << 20)) : env.Null());
  o.Set("build", build);
  Napi::Array backends = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_reg_count(); ++i) {
    backends.Set(static_cast<uint32_t>(i), ggml_backend_reg_name(ggml_backend_reg_get(i)));
  }
  o.Set("backends", backends);
  Napi::Array devs = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t d = ggml_backend_dev_get(i);
    Napi::Object dev = Napi::Object::New(env);
    dev.Set("name", ggml_backend_dev_name(d));
    dev.Set("description", ggml_backend_dev_description(d));
    size_t freeMem = 0, totalMem = 0;
    ggml_backend_dev_memory(d, &freeMem, &totalMem);
    dev.Set("memoryTotal", static_cast<double>(totalMem));
    const char* type = "other";
    switch (ggml_backend_dev_type(d)) {
      case GGML_BACKEND_DEVICE_TYPE_CPU: type = "cpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_GPU: type = "gpu"; break;
      case GGML_BACKEND_DEVICE_TYPE_IGPU: type = "igpu"; break;
      default: break;
    }
    dev.Set("type", type);
    devs.Set(static_cast<uint32_t>(i), dev);
  }
  o.Set("devices", devs);
  return o;
}

Napi::Value SetLogLevelJs(const Napi::CallbackInfo& info) {
  if (info.Length() > 0 && info[0].IsNumber()) SetLogLevel(info[0].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), GetLogLevel());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLogCallback();
  ConfigureAllocator();
  llama_backend_init();
  auto* data = new AddonData();
  Napi::Function model = Model::Define(env);
  Napi::Function context = Context::Define(env);
  Napi::Function sampler = Sampler::Define(env);
  Napi::Function sequenceSteering = NativeSequenceSteering::Define(env);
  data->modelCtor = Napi::Persistent(model);
  data->contextCtor = Napi::Persistent(context);
  data->samplerCtor = Napi::Persistent(sampler);
  data->sequenceSteeringCtor = Napi::Persistent(sequenceSteering);
  Napi::Function distributions = NativeDistributions::Define(env);
  data->distributionsCtor = Napi::Persistent(distributions);
  data->decodeQueue = DecodeQueue::Create(env);
  env.SetInstanceData<AddonData>(data);
  exports.Set("NativeModel", model);
  exports.Set("NativeContext", context);
  exports.Set("NativeSampler", sampler);
  exports.Set("NativeSequenceSteering", sequenceSteering);
  exports.Set("NativeDistributions", distributions);
  exports.Set("loadModel", Napi::Function::New<Model::Load>(env, "loadModel"));
  exports.Set("createContext", Napi::Function::New<Context::Create>(env, "createContext"));
  exports.Set("versions", Napi::Function::New<Versions>(env, "versions"));
  exports.Set("setLogLevel", Napi::Function::New<SetLogLevelJs>(env, "setLogLevel"));
  RegisterQuantize(env, exports);
  return exports;
}

}  // namespace
}  // namespace emosteer

static Napi::Object InitEmosteer(Napi::Env env, Napi::Object exports) { return emosteer::Init(env, exports); }
NODE_API_MODULE(emosteer, InitEmosteer)
