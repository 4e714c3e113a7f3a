#include "decode_thread.h"

namespace emosteer {

DecodeThread& DecodeThread::Instance() {
  static DecodeThread instance;
  return instance;
}

DecodeThread::DecodeThread() : thread_([this] { Loop(); }) {}

DecodeThread::~DecodeThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DecodeThread::Run(const std::function<void()>& task) {
  std::packaged_task<void()> job(task);
  std::future<void> done = job.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  done.get();  // rethrows what the task threw
}

void DecodeThread::Loop() {
  for (;;) {
    std::packaged_task<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace emosteer
