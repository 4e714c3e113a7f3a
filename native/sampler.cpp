#include "sampler.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

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

bool IsInt(double v) { return std::isfinite(v) && std::floor(v) == v; }

// The longest DRY sequence breaker llama.cpp keeps whole (it truncates longer ones), and how
// many breakers one sampler takes (each costs a pass over the vocabulary when the sampler is made).
constexpr size_t kMaxBreakerBytes = 40;
constexpr uint32_t kMaxBreakers = 64;
// DRY keeps two buffers of this many entries; a sequence never holds more than 2^24 tokens here.
constexpr double kMaxDryLastN = 16777216.0;
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
  const llama_vocab* vocab = llama_model_get_vocab(m);
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

  // DRY ("don't repeat yourself"): off unless dryMultiplier > 0.
  const double dryMultiplier = NumberOr(o, "dryMultiplier", 0.0);
  const double dryBase = NumberOr(o, "dryBase", 1.75);
  const double dryAllowedLength = NumberOr(o, "dryAllowedLength", 2);
  const double dryLastN = NumberOr(o, "dryPenaltyLastN", 0);
  if (!std::isfinite(dryMultiplier) || dryMultiplier < 0) Throw(env, "INVALID_ARGUMENT", "dryMultiplier must be >= 0 (0 = DRY off)");
  if (!std::isfinite(dryBase) || dryBase < 1) Throw(env, "INVALID_ARGUMENT", "dryBase must be >= 1 (the penalty grows as dryBase^(length - dryAllowedLength))");
  if (!IsInt(dryAllowedLength) || dryAllowedLength < 0 || dryAllowedLength > 1e6) Throw(env, "INVALID_ARGUMENT", "dryAllowedLength must be an integer in 0..1000000");
  if (!IsInt(dryLastN) || dryLastN < 0 || dryLastN > kMaxDryLastN) Throw(env, "INVALID_ARGUMENT", "dryPenaltyLastN must be an integer in 0..16777216 once resolved (-1, the context size, is resolved by the caller)");
  std::vector<std::string> breakers;
  if (o.Has("drySequenceBreakers") && !o.Get("drySequenceBreakers").IsUndefined() && !o.Get("drySequenceBreakers").IsNull()) {
    Napi::Value bv = o.Get("drySequenceBreakers");
    if (!bv.IsArray()) Throw(env, "INVALID_ARGUMENT", "drySequenceBreakers must be an array of strings");
    Napi::Array ba = bv.As<Napi::Array>();
    if (ba.Length() > kMaxBreakers) Throw(env, "INVALID_ARGUMENT", "drySequenceBreakers takes at most " + std::to_string(kMaxBreakers) + " strings");
    for (uint32_t i = 0; i < ba.Length(); ++i) {
      Napi::Value s = ba.Get(i);
      if (!s.IsString()) Throw(env, "INVALID_ARGUMENT", "drySequenceBreakers[" + std::to_string(i) + "] must be a string");
      std::string str = s.As<Napi::String>().Utf8Value();
      if (str.empty() || str.size() > kMaxBreakerBytes || str.find('\0') != std::string::npos) {
        Throw(env, "INVALID_ARGUMENT", "drySequenceBreakers[" + std::to_string(i) + "] must be 1.." + std::to_string(kMaxBreakerBytes) + " bytes of UTF-8 without NUL");
      }
      breakers.push_back(std::move(str));
    }
  } else {
    breakers = {"\n", ":", "\"", "*"};
  }

  std::string grammar;
  if (o.Has("grammar")) {
    Napi::Value gv = o.Get("grammar");
    if (!gv.IsUndefined() && !gv.IsNull()) {
      if (!gv.IsString()) Throw(env, "INVALID_ARGUMENT", "grammar must be a string (GBNF)");
      grammar = gv.As<Napi::String>().Utf8Value();
      if (grammar.find('\0') != std::string::npos) Throw(env, "INVALID_ARGUMENT", "grammar must not contain NUL characters");
    }
  }

  // Everything below calls into llama.cpp, which may throw: no C++ exception leaves this constructor
  // except the coded Napi::Error of Throw.
  CodedError failure;
  bool parsing = false;
  try {
    if (!grammar.empty()) {
      parsing = true;
      ClearLastLlamaError();
      grammar_.reset(llama_sampler_init_grammar(vocab, grammar.c_str(), "root"));
      if (!grammar_) {
        std::string why = LastLlamaError();
        failure = {"INVALID_ARGUMENT", "the grammar could not be parsed" + (why.empty() ? std::string() : " (" + why + ")") +
                                           ": write it in llama.cpp's GBNF (grammars/README.md in llama.cpp) with a start rule named 'root'"};
      }
      parsing = false;
    }
    if (failure.empty()) {
      llama_sampler_chain_params cp = llama_sampler_chain_default_params();
      cp.no_perf = true;
      chain_.reset(llama_sampler_chain_init(cp));
      const int32_t nVocab = llama_vocab_n_tokens(vocab);
      // Order as llama.cpp's common sampler: penalties, DRY, then truncation, temperature and the draw.
      if (repeatPenalty != 1.0 || freqPenalty != 0.0 || presencePenalty != 0.0) {
        llama_sampler_chain_add(chain_.get(), llama_sampler_init_penalties(nVocab, static_cast<int32_t>(repeatLastN),
                                                                           static_cast<float>(repeatPenalty),
                                                                           static_cast<float>(freqPenalty),
                                                                           static_cast<float>(presencePenalty)));
      }
      if (dryMultiplier > 0.0 && dryLastN > 0) {
        std::vector<const char*> cb;
        cb.reserve(breakers.size());
        for (const std::string& b : breakers) cb.push_back(b.c_str());
        llama_sampler_chain_add(chain_.get(), llama_sampler_init_dry(vocab, static_cast<float>(dryMultiplier), static_cast<float>(dryBase),
                                                                     static_cast<int32_t>(dryAllowedLength), static_cast<int32_t>(dryLastN),
                                                                     cb.empty() ? nullptr : cb.data(), cb.size()));
      }
      if (temperature == 0.0) {
        llama_sampler_chain_add(chain_.get(), llama_sampler_init_greedy());
      } else {
        if (topK > 0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_top_k(static_cast<int32_t>(topK)));
        if (topP < 1.0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_top_p(static_cast<float>(topP), 1));
        if (minP > 0.0) llama_sampler_chain_add(chain_.get(), llama_sampler_init_min_p(static_cast<float>(minP), 1));
        llama_sampler_chain_add(chain_.get(), llama_sampler_init_temp(static_cast<float>(temperature)));
        llama_sampler_chain_add(chain_.get(), llama_sampler_init_dist(static_cast<uint32_t>(seed)));
      }
    }
  } catch (const std::exception& e) {
    failure = parsing ? CodedError{"INVALID_ARGUMENT", std::string("the grammar could not be parsed: ") + e.what()}
                      : CodedError{"INTERNAL_ERROR", std::string("creating the sampler failed: ") + e.what()};
  }
  if (!failure.empty()) {
    chain_.reset();
    grammar_.reset();
    Throw(env, failure.code, failure.message);
  }
}

llama_token_data_array Sampler::Fill(const float* logits, int32_t nVocab) {
  cur_.resize(static_cast<size_t>(nVocab));
  for (llama_token t = 0; t < nVocab; ++t) cur_[t] = llama_token_data{t, logits[t], 0.0f};
  return llama_token_data_array{cur_.data(), cur_.size(), -1, false};
}

void Sampler::AcceptPrompt(const llama_token* tokens, size_t n) {
  for (size_t i = 0; i < n; ++i) llama_sampler_accept(chain_.get(), tokens[i]);
}

llama_token Sampler::Sample(const float* logits, int32_t nVocab) {
  llama_token_data_array arr = Fill(logits, nVocab);
  if (grammar_) {
    // As llama.cpp's common sampler does by default: pick without the grammar (checking the
    // grammar against the whole vocabulary costs about as much as a small model's decode), keep
    // the pick when the grammar admits it, else pick again with the grammar applied first. The
    // kept token is therefore always one the grammar admits; a greedy pick equals greedy over
    // the admitted tokens.
    llama_sampler_apply(chain_.get(), &arr);
    if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) throw std::runtime_error("the sampler chain selected no token");
    const llama_token first = arr.data[arr.selected].id;
    llama_token_data one{first, 1.0f, 0.0f};
    llama_token_data_array single{&one, 1, -1, false};
    llama_sampler_apply(grammar_.get(), &single);
    if (std::isfinite(one.logit)) {
      llama_sampler_accept(grammar_.get(), first);
      llama_sampler_accept(chain_.get(), first);
      return first;
    }
    arr = Fill(logits, nVocab);
    llama_sampler_apply(grammar_.get(), &arr);
    bool any = false;
    for (size_t i = 0; i < arr.size && !any; ++i) any = std::isfinite(arr.data[i].logit);
    if (!any) return -1;
  }
  llama_sampler_apply(chain_.get(), &arr);
  if (arr.selected < 0 || static_cast<size_t>(arr.selected) >= arr.size) throw std::runtime_error("the sampler chain selected no token");
  const llama_token_data& picked = arr.data[arr.selected];
  if (grammar_) {
    // Never hand llama.cpp's grammar a token it rejected (accepting one aborts the process).
    if (!std::isfinite(picked.logit)) return -1;
    llama_sampler_accept(grammar_.get(), picked.id);
  }
  llama_sampler_accept(chain_.get(), picked.id);
  return picked.id;
}

Napi::Value Sampler::Reset(const Napi::CallbackInfo& info) {
  llama_sampler_reset(chain_.get());
  if (grammar_) llama_sampler_reset(grammar_.get());
  return info.Env().Undefined();
}

Napi::Value Sampler::Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) Throw(env, "INVALID_ARGUMENT", "accept(tokens: Int32Array)");
  Napi::Int32Array arr = info[0].As<Napi::Int32Array>();
  AcceptPrompt(arr.Data(), arr.ElementLength());
  return env.Undefined();
}

}  // namespace emosteer
