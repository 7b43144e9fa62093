/* Linux: mremap, memfd_create, anonymous mapping names, and Linux's constants. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>
#include <time.h>

#include "posix.h"

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
  if (errno == EFAULT)
    return mm_remap_by_mapping(addr, old_length, new_length, fd, prot, flags, offset, out);
  return errno;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/*
 * A private file map moved as mremap would move it: the file mapped again, and only the pages
 * this process wrote (private copies, present or swapped out) copied over. A page it never
 * wrote stays the file's, so a truncation zeroes it exactly as it would have in place; copying
 * every page would turn them all into private ones. /proc/self/pagemap tells the two apart
 * (bit 63: present, 62: swapped, 61: a file page). Without it, every page is copied.
 */
static int relocate_private_file(void *addr, uint64_t old_length, uint64_t new_length, int fd,
                                 int prot, int flags, int64_t offset, void **out) {
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return mm_map_copy(addr, old_length, new_length, fd, prot, flags, offset, out);
  void *p = mmap(NULL, (size_t)new_length, prot, flags, fd, (off_t)offset);
  if (p == MAP_FAILED) {
    int err = errno;
    close(pagemap);
    return err;
  }
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t old_pages = (old_length + page - 1) / page, new_pages = (new_length + page - 1) / page;
  uint64_t pages = old_pages < new_pages ? old_pages : new_pages;
  uint64_t entries[512];
  for (uint64_t i = 0; i < pages;) {
    uint64_t n = pages - i < 512 ? pages - i : 512;
    off_t at = (off_t)(((uintptr_t)addr / page + i) * sizeof(uint64_t));
    ssize_t got = pread(pagemap, entries, (size_t)(n * sizeof(uint64_t)), at);
    if (got <= 0) { /* unreadable: copy the rest */
      memcpy((uint8_t *)p + i * page, (uint8_t *)addr + i * page, (size_t)((pages - i) * page));
      break;
    }
    n = (uint64_t)got / sizeof(uint64_t);
    for (uint64_t j = 0; j < n; j++) {
      uint64_t e = entries[j];
      int written = ((e >> 63) & 1 && !((e >> 61) & 1)) || ((e >> 62) & 1);
      if (written)
        memcpy((uint8_t *)p + (i + j) * page, (uint8_t *)addr + (i + j) * page, (size_t)page);
    }
    i += n;
  }
  close(pagemap);
  *out = p;
  return 0;
}

int mm_relocate(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out) {
  if (fd >= 0 && !(flags & MAP_ANONYMOUS) && !(flags & MAP_SHARED))
    return relocate_private_file(addr, old_length, new_length, fd, prot, flags, offset, out);
  if (!(flags & MAP_ANONYMOUS) || (flags & MAP_SHARED))
    return mm_map_copy(addr, old_length, new_length, fd, prot, flags, offset,
                       out); /* maps the file again */
  /* Private anonymous memory: move its pages instead of copying them (Linux 5.7+), leaving the
   * old range mapped, empty. */
  void *moved =
      mremap(addr, (size_t)old_length, (size_t)old_length, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
  if (moved == MAP_FAILED) {
    /* EINVAL: an older kernel; EFAULT: the range was split by madvise() or mlock(). */
    return mm_map_copy(addr, old_length, new_length, fd, prot, flags, offset, out);
  }
  if (new_length == old_length) {
    *out = moved;
    return 0;
  }
  void *p = mremap(moved, (size_t)old_length, (size_t)new_length, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) {
    int err = errno;
    /* Put the pages back where they were, over what DONTUNMAP left there. */
    mremap(moved, (size_t)old_length, (size_t)old_length, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
    return err;
  }
  *out = p;
  return 0;
}

int mm_copy_locks(void *old_addr, uint64_t old_length, void *new_addr, uint64_t new_length) {
  /* mlock splits a mapping at the locked range's edges, and smaps marks each locked part "lo". */
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) return errno;
  uintptr_t from = (uintptr_t)old_addr, to = from + old_length;
  uintptr_t start = 0, end = 0;
  char line[512];
  int err = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx ", &s, &e) == 2) { /* a mapping's first line: "start-end perms ..." */
      start = s;
      end = e;
      continue;
    }
    if (strncmp(line, "VmFlags:", 8) != 0 || strstr(line, " lo") == NULL) continue;
    uintptr_t lo = start > from ? start : from, hi = end < to ? end : to;
    if (lo >= hi || lo - from >= new_length) continue;
    /* mremap grows a locked mapping locked: what the new one adds past the old end belongs to
     * the region of the old last page. */
    if (hi == to && new_length > old_length) hi = from + new_length;
    uint64_t n = hi - lo < new_length - (lo - from) ? hi - lo : new_length - (lo - from);
    if (mlock((uint8_t *)new_addr + (lo - from), (size_t)n) != 0) err = errno;
  }
  fclose(f);
  return err;
}

int mm_same_file(int a, int b, int *same) {
#if defined(SYS_kcmp)
  /* KCMP_FILE (0): the same open file description, not just the same file. */
  long r = syscall(SYS_kcmp, (long)getpid(), (long)getpid(), 0L, (long)a, (long)b);
  if (r >= 0) {
    *same = r == 0;
    return 0;
  }
  if (errno == EBADF) {
    *same = 0;
    return 0;
  }
  /* ENOSYS or EPERM (a kernel without kcmp, or a sandbox that forbids it): compare inodes. */
#endif
  return mm_same_inode(a, b, same);
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
    for (const char *p = chunk, *end = chunk + n; (p = memchr(p, '\n', (size_t)(end - p))) != NULL;
         p++)
      lines++;
  }
  close(fd);
  return lines;
}

int mm_memory_file(const char *name, uint64_t size, int *out_fd, const char **syscall) {
  *syscall = "memfd_create"; /* for a failed ftruncate too, as before */
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

int mm_memory_file_maps_private(void) {
  return 1;
}

/* Linux's msync(MS_SYNC) writes the pages out and waits for the device, and a page of a
 * caller's file needs nothing before it is mapped: no extra step either way. */
void mm_prepare_file(int fd) {
  (void)fd;
}

int mm_sync_file(int fd, int flags) {
  (void)fd;
  (void)flags;
  return 0;
}

int mm_set_name(void *addr, uint64_t length, const char *name) {
  if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)addr, (unsigned long)length,
            (unsigned long)name) != 0)
    return errno;
  return 0;
}

int mm_advice_allowed(int advice) {
  if (mm_posix_advice_allowed(advice)) return 1;
  switch (advice) {
  case MADV_REMOVE:
  case MADV_DONTFORK:
  case MADV_DOFORK:
  case MADV_MERGEABLE:
  case MADV_UNMERGEABLE:
  case MADV_HUGEPAGE:
  case MADV_NOHUGEPAGE:
  case MADV_DONTDUMP:
  case MADV_DODUMP:
#ifdef MADV_FREE
  case MADV_FREE:
#endif
  /* Newer advice by its value in <asm-generic/mman-common.h> (older headers lack the names;
   * an older kernel answers EINVAL): MADV_WIPEONFORK 18, MADV_KEEPONFORK 19 (4.14), MADV_COLD
   * 20, MADV_PAGEOUT 21 (5.4), MADV_POPULATE_READ 22, MADV_POPULATE_WRITE 23 (5.14: a page
   * that cannot be populated is an EFAULT error, not a signal), MADV_DONTNEED_LOCKED 24 (5.18),
   * MADV_COLLAPSE 25 (6.1). */
  case 18:
  case 19:
  case 20:
  case 21:
  case 22:
  case 23:
  case 24:
  case 25:
    return 1;
  default:
    /* MADV_HWPOISON and MADV_SOFT_OFFLINE poison or take pages away (SIGBUS); 6.13's
     * MADV_GUARD_INSTALL makes the next access SIGSEGV (and MADV_GUARD_REMOVE has nothing to
     * remove); anything unknown may be either. */
    return 0;
  }
}

#define C MM_C
const mm_constant mm_constants[] = {
    MM_POSIX_CONSTANTS,
    C(MAP_DENYWRITE),
    C(MAP_EXECUTABLE),
    C(MAP_POPULATE),
    C(MAP_STACK),
#ifdef MADV_FREE
    C(MADV_FREE),
#endif
    C(MADV_REMOVE),
    C(MADV_DONTFORK),
    C(MADV_DOFORK),
    C(MADV_MERGEABLE),
    C(MADV_UNMERGEABLE),
    C(MADV_HUGEPAGE),
    C(MADV_NOHUGEPAGE),
    C(MADV_DONTDUMP),
    C(MADV_DODUMP),
    C(MADV_HWPOISON),
#ifdef MADV_SOFT_OFFLINE
    C(MADV_SOFT_OFFLINE),
#endif
/* Not offered, as MAP_FIXED (posix.h): listed so the TypeScript layer can refuse it. */
#ifdef MAP_FIXED_NOREPLACE
    C(MAP_FIXED_NOREPLACE),
#endif
    {NULL, 0},
};

/* ---------------------------------------------------------------------------------------- */
/* waiting: a futex on the map's memory. Without FUTEX_PRIVATE_FLAG the kernel keys a shared
 * mapping's word by its file and offset, so processes that map the same file (or memory file)
 * wait on and wake the same word, whatever address each mapped it at. */

int mm_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns, int *result) {
  struct timespec ts, *tp = NULL;
  if (timeout_ns >= 0) {
    ts.tv_sec = (time_t)(timeout_ns / 1000000000);
    ts.tv_nsec = (long)(timeout_ns % 1000000000);
    tp = &ts;
  }
  long r = syscall(SYS_futex, addr, FUTEX_WAIT, expected, tp, NULL, 0);
  if (r == 0) {
    *result = 0;
    return 0;
  }
  if (errno == EAGAIN) {
    *result = 1;
    return 0;
  }
  if (errno == ETIMEDOUT) {
    *result = 2;
    return 0;
  }
  return errno; /* EINTR, EFAULT (a page past the end of a truncated file), ... */
}

int mm_wake(uint32_t *addr, int count, int *woken) {
  long r = syscall(SYS_futex, addr, FUTEX_WAKE, count, NULL, NULL, 0);
  if (r < 0) return errno;
  *woken = (int)r;
  return 0;
}

int64_t mm_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

int mm_prefetch(void *addr, uint64_t length) {
  if (length == 0) return 0;
  if (madvise(addr, (size_t)length, MADV_POPULATE_READ) == 0) return 0;
  /* EINVAL: a kernel before 5.14 (or a mapping it refuses); touch the pages instead. EFAULT and
   * ENOMEM are real: a page past the end of the file, or no memory. */
  if (errno != EINVAL) return errno;
  return mm_touch_pages(addr, length);
}
