// DecodeThread: every llama_decode of the process runs on this one native thread.
//
// Why: AsyncWorkers run on whichever libuv pool thread is free. ggml's CPU backend (OpenMP)
// keeps a spinning thread team per calling thread, so decodes hopping between pool threads
// left idle teams spinning against the active one: on 2 cores emosteer reached only 63-70% of
// llama-bench's generation speed, and 100% with UV_THREADPOOL_SIZE=1 (measured by
// `npm run bench`). Running the compute on one fixed thread keeps a single team.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace emosteer {

class DecodeThread {
 public:
  /** The process-wide instance (started on first use, joined at exit). */
  static DecodeThread& Instance();

  /** Runs `task` on the decode thread and waits for it; exceptions propagate to the caller. */
  void Run(const std::function<void()>& task);

  ~DecodeThread();

 private:
  DecodeThread();
  void Loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace emosteer
