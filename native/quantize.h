// Quantization: llama_model_quantize off the JS thread, with progress and cancellation taken
// from llama.cpp's per-tensor log lines ("[  n/  N] name - [shape], type = ...").
#pragma once
#include <napi.h>

namespace emosteer {

/**
 * Adds `quantize(input, partial, output, options)` and `quantizationTypes()` to the exports,
 * and chains a log hook in front of the installed llama.cpp log callback (call it after
 * InstallLogCallback).
 */
void RegisterQuantize(Napi::Env env, Napi::Object exports);

}  // namespace emosteer
