#include "decode_thread.h"

namespace emosteer {

namespace {
std::atomic<bool> gShuttingDown{false};
}

DecodeThread& DecodeThread::Instance() {
  static DecodeThread instance;
  return instance;
}

bool DecodeThread::ShuttingDown() { return gShuttingDown.load(std::memory_order_relaxed); }

DecodeThread::DecodeThread() : thread_([this] { Loop(); }) {}

DecodeThread::~DecodeThread() {
  // Process exit: the running decode aborts at its next graph node (abort callbacks check
  // ShuttingDown), and queued jobs are dropped unrun. Their JS handles cannot be released
  // any more, so they are deliberately leaked rather than destroyed off the JS thread.
  gShuttingDown.store(true);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    for (Entry& e : queue_) static_cast<void>(e.job.release());
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DecodeThread::Post(std::unique_ptr<DecodeJob> job, std::shared_ptr<DecodeQueue> queue) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Entry{std::move(job), std::move(queue)});
  }
  cv_.notify_one();
}

void DecodeThread::Loop() {
  for (;;) {
    Entry e;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      e = std::move(queue_.front());
      queue_.pop_front();
    }
    e.job->Run();
    e.queue->Done(std::move(e.job));
  }
}

std::shared_ptr<DecodeQueue> DecodeQueue::Create(Napi::Env env) {
  auto q = std::shared_ptr<DecodeQueue>(new DecodeQueue());
  // Initial thread count 1, never released: the decode thread may call into the function up to
  // the very end of the process; after the environment is torn down the calls fail with
  // napi_closing instead of touching freed memory.
  q->tsfn_ = Tsfn::New(env, "emosteer.decode", 0, 1, q.get());
  q->tsfn_.Unref(env);
  return q;
}

void DecodeQueue::Submit(Napi::Env env, std::unique_ptr<DecodeJob> job) {
  if (inFlight_++ == 0) tsfn_.Ref(env);
  DecodeThread::Instance().Post(std::move(job), shared_from_this());
}

void DecodeQueue::Done(std::unique_ptr<DecodeJob> job) {
  DecodeJob* raw = job.release();  // ownership passes to CallJs
  if (tsfn_.NonBlockingCall(raw) != napi_ok) {
    // The environment is gone (exit): the job's JS handles cannot be released; leak it.
  }
}

void DecodeQueue::CallJs(Napi::Env env, Napi::Function /*callback*/, DecodeQueue* queue, DecodeJob* raw) {
  std::unique_ptr<DecodeJob> job(raw);
  if (env == nullptr) {
    static_cast<void>(job.release());  // finalizing: see Done()
    return;
  }
  try {
    job->Complete(env);
  } catch (const Napi::Error& e) {
    // Complete() rejects its own promise; an exception here would have nowhere to go.
    static_cast<void>(e);
  } catch (const std::exception&) {
  }
  if (--queue->inFlight_ == 0) queue->tsfn_.Unref(env);
}

}  // namespace emosteer
