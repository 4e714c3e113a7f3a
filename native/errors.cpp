#include "errors.h"

#include <atomic>
#include <cstdio>

#include "ggml.h"
#include "llama.h"

namespace emosteer {

namespace {
std::atomic<int> g_log_level{GGML_LOG_LEVEL_ERROR};
thread_local std::string t_last_error;
thread_local int t_prev_level = GGML_LOG_LEVEL_INFO;
constexpr size_t kMaxRemembered = 4096;

void LogCallback(ggml_log_level level, const char* text, void* /*user*/) {
  int effective = level == GGML_LOG_LEVEL_CONT ? t_prev_level : static_cast<int>(level);
  if (level != GGML_LOG_LEVEL_CONT) t_prev_level = level;
  if (effective == GGML_LOG_LEVEL_ERROR && text != nullptr) {
    if (t_last_error.size() < kMaxRemembered) t_last_error += text;
  }
  int threshold = g_log_level.load();
  if (threshold != GGML_LOG_LEVEL_NONE && effective >= threshold && text != nullptr) {
    std::fputs(text, stderr);
  }
}
}  // namespace

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Value().Set("code", Napi::String::New(env, code));
  return err;
}

void Throw(Napi::Env env, const std::string& code, const std::string& message) {
  throw MakeError(env, code, message);
}

std::string LastLlamaError() {
  std::string s = t_last_error;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void ClearLastLlamaError() { t_last_error.clear(); }

void InstallLogCallback() { llama_log_set(LogCallback, nullptr); }
void SetLogLevel(int level) { g_log_level.store(level); }
int GetLogLevel() { return g_log_level.load(); }

}  // namespace emosteer
