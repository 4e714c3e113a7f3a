// Coded errors: every error that leaves the addon is a JS Error with a stable `code`
// property (mapped to EmosteerError by lib/errors.ts). Nothing throws across N-API unhandled.
#pragma once
#include <napi.h>
#include <string>

namespace emosteer {

/** An error produced off the JS thread, turned into a JS error on it. */
struct CodedError {
  std::string code;
  std::string message;
  bool empty() const { return code.empty(); }
};

/** Builds a JS Error with `code` set. */
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);

/** Throws a coded JS error (as a C++ Napi::Error, converted to a JS exception by node-addon-api). */
[[noreturn]] void Throw(Napi::Env env, const std::string& code, const std::string& message);

/** The text of error-level log lines llama.cpp printed on this thread since the last Clear. */
std::string LastLlamaError();
void ClearLastLlamaError();

/** Installs the llama.cpp/ggml log callback (filters by level, remembers errors per thread). */
void InstallLogCallback();
/** 0 none, 1 debug, 2 info, 3 warn, 4 error (default): minimum level printed to stderr. */
void SetLogLevel(int level);
int GetLogLevel();

}  // namespace emosteer

