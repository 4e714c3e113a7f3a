#include "sampler.h"

#include "errors.h"
#include "model.h"

namespace emosteer {

namespace {
double NumberOr(const Napi::Object& o, const char* key, double fallback) {
  if (!o.Has(key)) return fallback;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) Throw(o.Env(), "INVALID_ARGUMENT", std::string("sampling option '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
}  // namespace

Napi::Function Sampler::Define(Napi::Env env) {
  return DefineClass(env, "NativeSampler",
                     {InstanceMethod<&Sampler::Reset>("reset"), InstanceMethod<&Sampler::Accept>("accept")});
}

Sampler::Sampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sampler>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) Throw(env, "INVALID_ARGUMENT", "NativeSampler(model, options)");
  Model* model = Model::Unwrap(info[0].As<Napi::Object>());
  const llama_model* m = model->Checked(env).get();
  Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  const double temperature = NumberOr(o, "temperature", 0.0);
  const double topK = NumberOr(o, "topK", 0);
  const double topP = NumberOr(o, "topP", 1.0);
  const double minP = NumberOr(o, "minP", 0.0);
  const double repeatPenalty = NumberOr(o, "repeatPenalty", 1.0);
  const double repeatLastN = NumberOr(o, "repeatLastN", 64);
  const double freqPenalty = NumberOr(o, "frequencyPenalty", 0.0);
  const double presencePenalty = NumberOr(o, "presencePenalty", 0.0);
  const double seed = NumberOr(o, "seed", 0);
  if (temperature < 0 || topP <= 0 || topP > 1 || minP < 0 || minP > 1 || repeatPenalty <= 0 || topK < 0 || seed < 0) {
    Throw(env, "INVALID_ARGUMENT", "sampling options out of range (temperature >= 0, 0 < topP <= 1, 0 <= minP <= 1, repeatPenalty > 0, topK >= 0, seed >= 0)");
  }
  llama_sampler_chain_params cp = llama_sampler_chain_default_params();
  cp.no_perf = true;
  chain_.reset(llama_sampler_chain_init(cp));
  const int32_t nVocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
  if (repeatPenalty != 1.0 || freqPenalty != 0.0 || presencePenalty != 0.0) {
    llama_sampler_chain_add(chain_.get(), llama_sampler_init_penalties(nVocab, static_cast<int32_t>(repeatLastN),
                                                                       static_cast<float>(repeatPenalty),
                                                                       static_cast<float>(freqPenalty),
                                                                       static_cast<float>(presencePenalty)));
  }
  if (temperature == 0.0) {
    llama_sampler_chain_add(chain_.get(), llama_sampler_init_greedy());
    return;
  }
  if (topK > 0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_top_k(static_cast<int32_t>(topK)));
  if (topP < 1.0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_top_p(static_cast<float>(topP), 1));
  if (minP > 0.0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_min_p(static_cast<float>(minP), 1));
  llama_sampler_chain_add(chain_.get(), llama_sampler_init_temp(static_cast<float>(temperature)));
  llama_sampler_chain_add(chain_.get(), llama_sampler_init_dist(static_cast<uint32_t>(seed)));
}

Napi::Value Sampler::Reset(const Napi::CallbackInfo& info) {
  llama_sampler_reset(chain_.get());
  return info.Env().Undefined();
}

Napi::Value Sampler::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) Throw(env, "INVALID_ARGUMENT", "accept(tokens: Int32Array)");
  Napi::Int32Array arr = info[0].As<Napi::Int32Array>();
  for (size_t i = 0; i < arr.ElementLength(); ++i) llama_sampler_accept(chain_.get(), arr[i]);
  return env.Undefined();
}

}  // namespace emosteer
