/* POSIX system calls shared by every Unix: the parts of platform.h that need no extension. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

int64_t mm_page_size(void) { return (int64_t)sysconf(_SC_PAGESIZE); }

int64_t mm_allocation_granularity(void) { return mm_page_size(); }

int mm_map(int fd, uint64_t length, int prot, int flags, int64_t offset, void **out) {
  if (length > (uint64_t)SIZE_MAX) return ENOMEM;
  if (flags & MAP_FIXED) return EINVAL; /* with no address to give, it could only mean page 0 */
#ifdef MAP_FIXED_NOREPLACE
  if (flags & MAP_FIXED_NOREPLACE) return EINVAL;
#endif
  void *p = mmap(NULL, (size_t)length, prot, flags, fd, (off_t)offset);
  if (p == MAP_FAILED) return errno;
  *out = p;
  return 0;
}

int mm_unmap(void *addr, uint64_t length) {
  return munmap(addr, (size_t)length) == 0 ? 0 : errno;
}

int mm_sync(void *addr, uint64_t length, int flags) {
  return msync(addr, (size_t)length, flags) == 0 ? 0 : errno;
}

int mm_advise(void *addr, uint64_t length, int advice) {
  return madvise(addr, (size_t)length, advice) == 0 ? 0 : errno;
}

int mm_lock(void *addr, uint64_t length, int lock) {
  int r = lock ? mlock(addr, (size_t)length) : munlock(addr, (size_t)length);
  return r == 0 ? 0 : errno;
}

int mm_residency(void *addr, uint64_t length, unsigned char *out) {
  return mincore(addr, (size_t)length, (void *)out) == 0 ? 0 : errno;
}

int mm_dup(int fd, int *out_fd) {
  int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (r < 0) return errno;
  *out_fd = r;
  return 0;
}

int mm_file_size(int fd, int64_t *size, int *regular) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  *size = (int64_t)st.st_size;
  *regular = S_ISREG(st.st_mode);
  return 0;
}

int mm_truncate(int fd, int64_t size) {
  return ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
}

int mm_close(int fd) {
  return close(fd) == 0 ? 0 : errno;
}

int mm_zero_in_place(void *addr, uint64_t length) {
  void *p = mmap(addr, (size_t)length, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? errno : 0;
}

int mm_map_copy(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out) {
  /* A shared file (or memory file) map holds nothing the file does not: map the file again.
   * Anything private holds its bytes only in memory: copy them over. */
  int anonymous = fd < 0 || (flags & MAP_ANONYMOUS);
  int copy = anonymous || !(flags & MAP_SHARED);
  void *p = mmap(NULL, (size_t)new_length, prot, flags, anonymous ? -1 : fd,
                 anonymous ? 0 : (off_t)offset);
  if (p == MAP_FAILED) return errno;
  if (copy) {
    /* Like mremap, keep the whole last page: bytes past the old length but inside its page
     * (left by an earlier shrink) reappear when the map grows again. */
    uint64_t page = (uint64_t)mm_page_size();
    uint64_t kept = (old_length + page - 1) / page * page;
    uint64_t room = (new_length + page - 1) / page * page; /* mmap maps whole pages */
    memcpy(p, addr, (size_t)(kept < room ? kept : room));
  }
  *out = p;
  return 0;
}

int mm_remap_by_mapping(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot,
                        int flags, int64_t offset, void **out) {
  int err = mm_map_copy(addr, old_length, new_length, fd, prot, flags, offset, out);
  if (err) return err;
  munmap(addr, (size_t)old_length);
  return 0;
}

int mm_touch_pages(void *addr, uint64_t length) {
  const volatile uint8_t *p = (const volatile uint8_t *)addr;
  uint64_t page = (uint64_t)mm_page_size();
  uint8_t sink = 0;
  for (uint64_t at = 0; at < length; at += page) sink ^= p[at];
  (void)sink;
  return 0;
}

#if !defined(__linux__)
/* Waiting on a word of a map across processes needs an OS call that keys the word by file:
 * macOS has os_sync_wait_on_address with OS_SYNC_WAIT_ON_ADDRESS_SHARED (14.4+), or
 * __ulock_wait with UL_COMPARE_AND_WAIT_SHARED; not done yet. */
int mm_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns, int *result) { return ENOTSUP; }
int mm_wake(uint32_t *addr, int count, int *woken) { return ENOTSUP; }
int mm_prefetch(void *addr, uint64_t length) { return mm_touch_pages(addr, length); }
int64_t mm_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif
