// Per-environment data of the addon: constructors of the wrapped classes and the queue that
// completes decode jobs on this environment's JS thread.
#pragma once
#include <napi.h>

#include <memory>

#include "decode_thread.h"

namespace emosteer {

struct AddonData {
  Napi::FunctionReference modelCtor;
  Napi::FunctionReference contextCtor;
  Napi::FunctionReference samplerCtor;
  Napi::FunctionReference sequenceSteeringCtor;
  Napi::FunctionReference distributionsCtor;
  std::shared_ptr<DecodeQueue> decodeQueue;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace emosteer
