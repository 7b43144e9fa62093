/* POSIX system calls shared by every Unix: the parts of platform.h that need no extension. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "posix.h"

/* No named mapping objects on POSIX (shared memory is shared by descriptor). */
const int mm_has_tagname = 0;

int64_t mm_page_size(void) {
  return (int64_t)sysconf(_SC_PAGESIZE);
}

int64_t mm_allocation_granularity(void) {
  return mm_page_size();
}

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

int mm_sync(void *addr, uint64_t length, int flags, int fd) {
  if (msync(addr, (size_t)length, flags) != 0) return errno;
  return fd >= 0 ? mm_sync_file(fd, flags) : 0;
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

/* CPython's checks of a regular file's size (other files are left to mmap). POSIX never
 * extends the file (Windows does). */
static int check_file_size(const mm_request *req, uint64_t *length, mm_failure *failure) {
  struct stat st;
  if (req->fd == -1 || fstat(req->fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return mm_check_file_size((uint64_t)st.st_size, (uint64_t)req->offset, length, 0, failure);
}

int mm_open(const mm_request *req, mm_opened *out, mm_failure *failure) {
  memset(out, 0, sizeof *out);
  memset(failure, 0, sizeof *failure);
  uint64_t length = req->length;
  if (req->fd >= 0) mm_prepare_file(req->fd);
  if (check_file_size(req, &length, failure)) return 1;

  int flags = req->flags, prot = req->prot;
  switch (req->access) {
  case MM_ACCESS_READ:
    flags = MAP_SHARED;
    prot = PROT_READ;
    break;
  case MM_ACCESS_WRITE:
    flags = MAP_SHARED;
    prot = PROT_READ | PROT_WRITE;
    break;
  case MM_ACCESS_COPY:
    flags = MAP_PRIVATE;
    prot = PROT_READ | PROT_WRITE;
    break;
  default:
    break;
  }
  if (req->effective == MM_ACCESS_READ) {
    /* Read-only is private and writable, without reserving swap: a write through a raw view
     * (JavaScript cannot make a view read-only) changes this process's copy of one page instead
     * of killing the process with SIGSEGV, and never reaches the file. */
    flags = (flags & ~(MAP_SHARED | MAP_PRIVATE)) | MAP_PRIVATE;
#ifdef MAP_NORESERVE
    flags |= MAP_NORESERVE;
#endif
    prot = PROT_READ | PROT_WRITE | (prot & PROT_EXEC);
  } else if (req->access == MM_ACCESS_DEFAULT && req->effective == MM_ACCESS_WRITE) {
    prot |= PROT_READ; /* memmap reads what it writes; x86 implies it anyway */
  }

  int fd = req->fd, owned = -1;
  if (fd == -1) { /* any other negative number is a bad descriptor, for mmap to refuse */
    /* Shared or private as the caller's flags say (an access of READ or COPY maps the memory
     * privately, but still makes it shareable, as before the access rules applied, where the
     * platform can map a memory file privately). */
    if ((req->flags & MAP_PRIVATE) || !(req->flags & MAP_SHARED) ||
        ((flags & MAP_PRIVATE) && !mm_memory_file_maps_private())) {
      flags |= MAP_ANONYMOUS;
    } else {
      /* Shared anonymous memory lives in a memory file: it can be handed to other processes and
       * threads by descriptor, and it can grow. The map is of that file, so MAP_ANONYMOUS (which
       * Python callers may pass) must go: the kernel would ignore the descriptor. */
      flags &= ~MAP_ANONYMOUS;
      if (length == 0) {
        failure->err = EINVAL;
        failure->syscall = "mmap";
        return 1;
      }
      const char *call = "mmap";
      int err = mm_memory_file("memmap", (uint64_t)req->offset + length, &owned, &call);
      if (err) {
        failure->err = err;
        failure->syscall = call;
        return 1;
      }
      fd = owned;
      out->memory_file = 1;
    }
  } else if (req->trackfd) {
    int err = mm_dup(fd, &owned);
    if (err) {
      failure->err = err;
      failure->syscall = "dup";
      return 1;
    }
    fd = owned;
  }

  if (length == 0) {
    if (owned >= 0) close(owned);
    failure->err = EINVAL;
    failure->syscall = "mmap";
    return 1;
  }
  int err = mm_map(fd, length, prot, flags, req->offset, &out->addr);
  if (err) {
    if (owned >= 0) close(owned); /* what the mapping would have owned dies with the attempt */
    failure->err = err;
    failure->syscall = "mmap";
    return 1;
  }
  out->length = length;
  out->fd = owned;
  out->prot = prot;
  out->flags = flags;
  out->is_private = (flags & MAP_PRIVATE) != 0;
  return 0;
}

int mm_resize(int fd, int64_t offset, uint64_t old_length, uint64_t new_length, int is_private,
              mm_remap_fn remap, void *ctx, const char **syscall) {
  if (fd < 0) return remap(ctx, new_length, syscall);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *syscall = "fstat";
    return errno;
  }
  off_t old_size = st.st_size, new_size = (off_t)((uint64_t)offset + new_length);
  int err;
  if (new_size > old_size) {
    /* Extend the file first, so no page of the new map lies past its end; if the map cannot
     * follow, cut off only what was added (zeros). */
    if (ftruncate(fd, new_size) != 0) {
      *syscall = "ftruncate";
      return errno;
    }
    err = remap(ctx, new_length, syscall);
    if (err) {
      if (ftruncate(fd, old_size) != 0) { /* nothing better to do: the added zeros stay */
      }
    }
    return err;
  }
  if (new_size == old_size || (is_private && new_length < old_length)) {
    /* The file keeps its bytes up to new_size; a private map's changed pages exist only in the
     * map. Truncate first (a failure changes nothing; with an equal size it still fails as
     * CPython's does, EINVAL for a read-only descriptor), then cut the map, which cannot fail
     * when shrinking. */
    if (ftruncate(fd, new_size) != 0) {
      *syscall = "ftruncate";
      return errno;
    }
    return remap(ctx, new_length, syscall);
  }
  /* The file must shrink: change the map first (the file is long enough for it); if cutting
   * the file then fails, the old length mapped again brings back every byte. */
  err = remap(ctx, new_length, syscall);
  if (err) return err;
  if (ftruncate(fd, new_size) != 0) {
    err = errno;
    const char *ignored;
    remap(ctx, old_length, &ignored);
    *syscall = "ftruncate";
    return err;
  }
  return 0;
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
  return mm_read_each_page(addr, length, (uint64_t)mm_page_size());
}

int mm_same_inode(int a, int b, int *same) {
  struct stat sa, sb;
  if (fstat(a, &sa) != 0) return errno;
  if (fstat(b, &sb) != 0) {
    *same = 0;
    return 0;
  }
  *same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  return 0;
}

int mm_posix_advice_allowed(int advice) {
  switch (advice) {
  case MADV_NORMAL:
  case MADV_RANDOM:
  case MADV_SEQUENTIAL:
  case MADV_WILLNEED:
  case MADV_DONTNEED:
    return 1;
  default:
    return 0;
  }
}
