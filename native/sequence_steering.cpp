#include "sequence_steering.h"

#include <cmath>
#include <string>

#include "llama.h"
#include "model.h"

namespace emosteer {

CodedError ValidateSteering(int32_t nLayer, int32_t nEmbd, const float* vectors, size_t count, float scale, int32_t start, int32_t end) {
  if (count % static_cast<size_t>(nEmbd) != 0) {
    return {"VECTOR_WIDTH_MISMATCH", "steering data has " + std::to_string(count) + " floats, not a multiple of the model's n_embd " + std::to_string(nEmbd)};
  }
  if (count != static_cast<size_t>(nLayer) * nEmbd) {
    return {"VECTOR_WIDTH_MISMATCH", "steering data must hold nLayer*nEmbd = " + std::to_string(nLayer) + "*" + std::to_string(nEmbd) +
                                         " floats (one row per block), got " + std::to_string(count)};
  }
  if (!std::isfinite(scale)) return {"NON_FINITE_VECTOR", "steering scale is not finite"};
  if (start < 0 || end >= nLayer || start > end) {
    return {"LAYER_OUT_OF_RANGE", "steering block range [" + std::to_string(start) + ", " + std::to_string(end) + "] is outside 1.." + std::to_string(nLayer - 1)};
  }
  if (start == 0) {
    return {"LAYER_OUT_OF_RANGE", "block 0 cannot be steered: llama.cpp's control vectors start at block 1 (use a range starting at 1)"};
  }
  for (int32_t il = start; il <= end; ++il) {
    const float* row = vectors + static_cast<size_t>(il) * nEmbd;
    for (int32_t j = 0; j < nEmbd; ++j) {
      if (!std::isfinite(row[j])) {
        return {"NON_FINITE_VECTOR", "steering vector for block " + std::to_string(il) + " holds NaN or Infinity at index " + std::to_string(j)};
      }
    }
  }
  return {};
}

void SequenceSteering::AddTo(int32_t block, float* row) const {
  const float* v = Row(block);
  for (int32_t j = 0; j < nEmbd; ++j) row[j] += v[j];
}

Napi::Function NativeSequenceSteering::Define(Napi::Env env) {
  return DefineClass(env, "NativeSequenceSteering",
                     {
                         InstanceAccessor<&NativeSequenceSteering::Start>("start"),
                         InstanceAccessor<&NativeSequenceSteering::End>("end"),
                     });
}

NativeSequenceSteering::NativeSequenceSteering(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSequenceSteering>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Throw(env, "INVALID_ARGUMENT", "new NativeSequenceSteering(model, vectors: Float32Array, scale, start, end)");
  }
  const ModelPtr& model = Model::Unwrap(info[0].As<Napi::Object>())->Checked(env);
  const int32_t nLayer = llama_model_n_layer(model.get());
  const int32_t nEmbd = llama_model_n_embd(model.get());
  Napi::Float32Array v = info[1].As<Napi::Float32Array>();
  const float scale = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().FloatValue() : 1.0f;
  const int32_t start = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 1;
  const int32_t end = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().Int32Value() : nLayer - 1;
  CodedError err = ValidateSteering(nLayer, nEmbd, v.Data(), v.ElementLength(), scale, start, end);
  if (!err.empty()) Throw(env, err.code, err.message);
  auto s = std::make_shared<SequenceSteering>();
  s->nEmbd = nEmbd;
  s->start = start;
  s->end = end;
  s->rows.resize(static_cast<size_t>(end - start + 1) * nEmbd);
  for (int32_t il = start; il <= end; ++il) {
    const float* src = v.Data() + static_cast<size_t>(il) * nEmbd;
    float* dst = s->rows.data() + static_cast<size_t>(il - start) * nEmbd;
    for (int32_t j = 0; j < nEmbd; ++j) dst[j] = src[j] * scale;
  }
  steering_ = std::move(s);
}

Napi::Value NativeSequenceSteering::Start(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), steering_->start); }
Napi::Value NativeSequenceSteering::End(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), steering_->end); }

}  // namespace emosteer
