// How the addon makes memory that llama.cpp frees go back to the operating system (glibc).
//
// Measured with scripts/memory-curve.mjs: with glibc's defaults, the resident set of a process
// that creates and disposes contexts or loads and disposes models in a loop crept up (7 KiB per
// context cycle, 23-255 KiB per model cycle, +6-17% over 50 models after warm-up), while
// heaptrack found no leak: the memory was free but held by malloc. Two causes, two remedies:
//  - glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), so
//    after the first dispose the model, KV-cache and compute buffers of later loads come from
//    the heap arenas, where they fragment and stay. ConfigureAllocator fixes the threshold at
//    1 MiB when the addon loads: blocks of 1 MiB or more are mmapped and unmapped on free, as
//    glibc does before its first adjustment. Skipped when the process chose a threshold itself
//    (MALLOC_MMAP_THRESHOLD_) or sets EMOSTEER_KEEP_MALLOC=1.
//  - freed small blocks stay in per-thread arenas; ReturnFreedMemory (malloc_trim) on dispose
//    releases their free pages. Never on a hot path.
// Both are no-ops outside glibc (macOS, musl, Windows).
#pragma once

#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace emosteer {

/** Whether ConfigureAllocator changed glibc's mmap threshold. */
inline bool& AllocatorConfigured() {
  static bool configured = false;
  return configured;
}

inline void ConfigureAllocator() {
#if defined(__GLIBC__)
  const char* keep = std::getenv("EMOSTEER_KEEP_MALLOC");
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || (keep != nullptr && std::strcmp(keep, "1") == 0)) return;
  AllocatorConfigured() = mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1;
#endif
}

inline void ReturnFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace emosteer
