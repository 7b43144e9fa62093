/* Linux: mremap, memfd_create, anonymous mapping names, and Linux's constants. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "platform.h"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

int mm_remap(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
             int64_t offset, void **out) {
  void *p = mremap(addr, (size_t)old_length, (size_t)new_length, MREMAP_MAYMOVE);
  if (p != MAP_FAILED) {
    *out = p;
    return 0;
  }
  /* EFAULT: madvise() or mlock() on part of the range split it into several VMAs, which mremap
   * refuses. Map the new length afresh instead. */
  if (errno == EFAULT) return mm_remap_by_mapping(addr, old_length, new_length, fd, prot, flags, offset, out);
  return errno;
}

int mm_map_limit(void) {
  static int limit = -1;
  if (limit < 0) {
    int value = 0;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
      if (fscanf(f, "%d", &value) != 1) value = 0;
      fclose(f);
    }
    limit = value;
  }
  return limit;
}

int64_t mm_map_count(void) {
  /* One line of /proc/self/maps per mapping. Reading it costs about 1 ms per 10,000 mappings,
   * so the caller asks only when near the limit. */
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  static _Thread_local char chunk[65536];
  int64_t lines = 0;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      lines = -1;
      break;
    }
    if (n == 0) break;
    for (const char *p = chunk, *end = chunk + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) lines++;
  }
  close(fd);
  return lines;
}

int mm_memory_file(const char *name, uint64_t size, int *out_fd) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return errno;
  if (ftruncate(fd, (off_t)size) != 0) {
    int err = errno;
    close(fd);
    return err;
  }
  *out_fd = fd;
  return 0;
}

int mm_set_name(void *addr, uint64_t length, const char *name) {
  if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, (unsigned long)length,
            (unsigned long)name) != 0)
    return errno;
  return 0;
}

#define C(name) {#name, name}
const mm_constant mm_constants[] = {
  C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC),
  C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_ANONYMOUS), {"MAP_ANON", MAP_ANONYMOUS},
  C(MAP_DENYWRITE), C(MAP_EXECUTABLE), C(MAP_POPULATE), C(MAP_STACK), C(MAP_NORESERVE),
#ifdef MAP_32BIT
  C(MAP_32BIT),
#endif
  C(MADV_NORMAL), C(MADV_RANDOM), C(MADV_SEQUENTIAL), C(MADV_WILLNEED), C(MADV_DONTNEED),
#ifdef MADV_FREE
  C(MADV_FREE),
#endif
  C(MADV_REMOVE), C(MADV_DONTFORK), C(MADV_DOFORK), C(MADV_MERGEABLE), C(MADV_UNMERGEABLE),
  C(MADV_HUGEPAGE), C(MADV_NOHUGEPAGE), C(MADV_DONTDUMP), C(MADV_DODUMP), C(MADV_HWPOISON),
#ifdef MADV_SOFT_OFFLINE
  C(MADV_SOFT_OFFLINE),
#endif
  C(MS_ASYNC), C(MS_INVALIDATE), C(MS_SYNC),
  /* Not offered: memmap chooses the address. Listed so the TypeScript layer can refuse them. */
  C(MAP_FIXED),
#ifdef MAP_FIXED_NOREPLACE
  C(MAP_FIXED_NOREPLACE),
#endif
  {NULL, 0},
};
