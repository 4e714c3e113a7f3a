// Per-environment data of the addon: constructors of the wrapped classes.
#pragma once
#include <napi.h>

namespace emosteer {

struct AddonData {
  Napi::FunctionReference modelCtor;
  Napi::FunctionReference contextCtor;
  Napi::FunctionReference samplerCtor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace emosteer
