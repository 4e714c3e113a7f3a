// glibc compatibility for the portable prebuilds (EMOSTEER_STATIC_RUNTIME): GCC 12's static
// libstdc++ calls arc4random() (std::random_device) when it was built against glibc >= 2.36, which
// would make the addon need GLIBC_2.36 and refuse to load on Ubuntu 22.04 (glibc 2.35). This
// hidden definition satisfies that reference inside the .node, from getrandom() (glibc 2.25), so
// the highest glibc symbol the prebuild needs is _dl_find_object (2.35, from the static libgcc
// unwinder). Not compiled into source builds, which link the system's libstdc++ dynamically.
#include <cstdlib>  // first: defines __GLIBC__ (features.h) and declares arc4random on glibc >= 2.36
#if defined(EMOSTEER_GLIBC_COMPAT) && defined(__linux__) && defined(__GLIBC__)
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

namespace {
/** Fills `buf` from /dev/urandom (kernels without getrandom); false when it cannot. */
bool ReadUrandom(void* buf, size_t n) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  close(fd);
  return got == n;
}
}  // namespace

extern "C" __attribute__((visibility("hidden"))) uint32_t arc4random(void) noexcept {
  uint32_t v = 0;
  for (;;) {
    ssize_t r = getrandom(&v, sizeof v, 0);
    if (r == static_cast<ssize_t>(sizeof v)) return v;
    if (r < 0 && errno == EINTR) continue;
    if (ReadUrandom(&v, sizeof v)) return v;
    abort();  // as glibc's own arc4random does when no entropy source works
  }
}
#endif
