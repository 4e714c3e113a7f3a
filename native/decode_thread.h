// DecodeThread: every llama_decode of the process runs on this one native thread, and every
// decode job completes on the JS thread through one thread-safe function: one hop each way.
//
// Why one thread: AsyncWorkers run on whichever libuv pool thread is free. ggml's CPU backend
// (OpenMP) keeps a spinning thread team per calling thread, so decodes hopping between pool
// threads left idle teams spinning against the active one: on 2 cores emosteer reached only
// 63-70% of llama-bench's generation speed, and 100% with UV_THREADPOOL_SIZE=1 (measured by
// `npm run bench`). Running the compute on one fixed thread keeps a single team.
//
// Why no AsyncWorker around it: a step used to go JS -> libuv pool thread -> decode thread ->
// pool thread -> JS, two thread hand-offs per generated token on top of the decode. A
// DecodeQueue posts the job straight to the decode thread, which hands the finished job to the
// JS thread with a non-blocking thread-safe-function call (docs/benchmarks.md has the
// per-token overhead before and after).
#pragma once
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace emosteer {

/** Work for the decode thread. Run() never touches JS; Complete() runs on the JS thread after it. */
class DecodeJob {
 public:
  virtual ~DecodeJob() = default;
  /** On the decode thread: must catch its own exceptions. */
  virtual void Run() = 0;
  /** On the JS thread, after Run(): resolve or reject the job's promise. */
  virtual void Complete(Napi::Env env) = 0;
};

class DecodeQueue;

class DecodeThread {
 public:
  /** The process-wide instance (started on first use, joined at exit). */
  static DecodeThread& Instance();
  /** True once the process is exiting: llama.cpp abort callbacks return true, queued jobs are dropped. */
  static bool ShuttingDown();

  /** Queues `job`; when it has run, `queue` completes it on its JS thread. */
  void Post(std::unique_ptr<DecodeJob> job, std::shared_ptr<DecodeQueue> queue);

  ~DecodeThread();

 private:
  DecodeThread();
  void Loop();

  struct Entry {
    std::unique_ptr<DecodeJob> job;
    std::shared_ptr<DecodeQueue> queue;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool stop_ = false;
  std::thread thread_;
};

/**
 * One per JS environment (addon_data.h): submits jobs and completes them on that environment's
 * thread. The thread-safe function is referenced only while jobs are in flight, so an idle
 * addon never keeps the event loop alive.
 */
class DecodeQueue : public std::enable_shared_from_this<DecodeQueue> {
 public:
  static std::shared_ptr<DecodeQueue> Create(Napi::Env env);
  /** JS thread: runs `job` on the decode thread, then job->Complete() here. */
  void Submit(Napi::Env env, std::unique_ptr<DecodeJob> job);
  /** Decode thread: hands a finished job back (dropped, not run, if the environment is gone). */
  void Done(std::unique_ptr<DecodeJob> job);

 private:
  static void CallJs(Napi::Env env, Napi::Function callback, DecodeQueue* queue, DecodeJob* job);
  using Tsfn = Napi::TypedThreadSafeFunction<DecodeQueue, DecodeJob, &DecodeQueue::CallJs>;
  Tsfn tsfn_;
  int inFlight_ = 0;  // JS thread only
};

}  // namespace emosteer
