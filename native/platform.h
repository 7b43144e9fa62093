/*
 * The narrow interface between the Node-API glue (binding.c) and the operating system.
 *
 * Every function returns 0 on success or a positive errno value on failure; nothing here
 * touches Node-API, so a new platform is one new file implementing these functions. This
 * header holds only what binding.c calls; helpers shared by the POSIX files are in posix.h,
 * portable ones shared by every platform file in common.h.
 * Sizes and offsets are 64-bit everywhere.
 */
#ifndef MEMMAP_PLATFORM_H
#define MEMMAP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* A named integer constant the platform defines (PROT_READ, MADV_DONTNEED, ...). */
typedef struct mm_constant {
  const char *name;
  int64_t value;
} mm_constant;

/* The constants this platform has, terminated by an entry whose name is NULL. */
extern const mm_constant mm_constants[];

/* The page size, and the granularity a file offset must be a multiple of. */
int64_t mm_page_size(void);
int64_t mm_allocation_granularity(void);

/* CPython's access modes (mmap.ACCESS_*). */
enum { MM_ACCESS_DEFAULT = 0, MM_ACCESS_READ = 1, MM_ACCESS_WRITE = 2, MM_ACCESS_COPY = 3 };

/*
 * A map asked for in CPython's terms, already validated by src/ (CPython's checks, in its order,
 * and its inference of the access from prot).
 */
typedef struct mm_request {
  int fd; /* the caller's descriptor, or -1 for anonymous memory (other negatives: EBADF) */
  uint64_t length; /* 0: from offset to the end of the file */
  int64_t offset;
  int access;          /* MM_ACCESS_* as given */
  int effective;       /* MM_ACCESS_* after CPython's inference from prot */
  int flags, prot;     /* as given (POSIX meaning; platforms without them ignore them) */
  int trackfd;         /* keep a descriptor of the file (needed by size() and resize()) */
  const char *tagname; /* UTF-8 name of the mapping object, or NULL (only where mm_has_tagname) */
} mm_request;

/* Whether mm_open takes a tagname (Windows: the name of the mapping object, so that another
 * process mapping the same tag shares the memory). Where 0, src/ refuses the option. */
extern const int mm_has_tagname;

/* What the platform made of it. */
typedef struct mm_opened {
  void *addr;
  uint64_t length; /* the length mapped (length 0 resolved) */
  int fd;          /* the descriptor the mapping owns and closes, or -1 */
  int prot, flags; /* how it was mapped: what mm_remap and mm_relocate take */
  int is_private;  /* writes stay in this process (resize() keeps the file's bytes) */
  int memory_file; /* anonymous memory living in a file the mapping owns, shareable by descriptor */
} mm_opened;

/* A failure: a system error (err, syscall), or one of memmap's own (code, message; err 0). */
typedef struct mm_failure {
  int err;
  const char *syscall;
  const char *code;
  const char *message;
} mm_failure;

/*
 * Maps what req asks for, with this platform's rules: how an access becomes protections and
 * flags (a read-only map is private and writable, so a write through a raw view cannot fault),
 * how shared anonymous memory is made shareable, which file sizes can be mapped, and which
 * descriptor the mapping keeps. Returns 0, or non-zero with *failure filled in; on failure
 * nothing is left open.
 */
int mm_open(const mm_request *req, mm_opened *out, mm_failure *failure);

/* munmap(2). */
int mm_unmap(void *addr, uint64_t length);

/*
 * Change the length of a mapping, keeping its contents; the mapping may move (*out is the new
 * start). On failure the old mapping is untouched. fd/prot/flags/offset are what the mapping
 * was created with, for platforms that remap by unmapping and mapping again.
 */
int mm_remap(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
             int64_t offset, void **out);

/* Changes a mapping's length (binding.c's part: in place, moved, or relocated when views pin
 * it). Returns 0 or an errno value, and sets *syscall; on failure the mapping is unchanged. */
typedef int (*mm_remap_fn)(void *ctx, uint64_t new_length, const char **syscall);

/*
 * resize(): afterwards the mapping is new_length long and its file (fd; -1 for anonymous memory)
 * ends at offset + new_length, CPython's rule. The platform decides the order of changing the
 * file and the mapping, so that on failure neither the file's bytes, nor its size, nor the
 * mapping has changed. Returns 0 or an errno value with *syscall set.
 */
int mm_resize(int fd, int64_t offset, uint64_t old_length, uint64_t new_length, int is_private,
              mm_remap_fn remap, void *ctx, const char **syscall);

/*
 * Moves the mapping to new addresses with new_length, as mm_remap would leave it, while
 * [addr, addr + old_length) stays mapped for whoever still points into it (the caller then puts
 * zero pages there with mm_zero_in_place). On failure nothing has changed.
 */
int mm_relocate(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out);

/* After mm_relocate: lock the pages of the new mapping whose counterparts in the old one are
 * locked (mremap keeps mlock; a new mapping does not have it). */
int mm_copy_locks(void *old_addr, uint64_t old_length, void *new_addr, uint64_t new_length);

/*
 * Replaces [addr, addr + length) with private zero pages in place, atomically: whatever was
 * mapped there (a file) is released, but the addresses stay reserved, readable and writable, so
 * a pointer someone still holds reaches zeros instead of memory the kernel gave to another
 * mapping. Writes there go nowhere. The range is unmapped later with mm_unmap.
 */
int mm_zero_in_place(void *addr, uint64_t length);

/* How many mappings the kernel allows a process (vm.max_map_count), or 0 when unknown. */
int mm_map_limit(void);

/*
 * Whether madvise() passes this advice on: only advice that changes how pages are read ahead,
 * kept, merged, dumped, inherited or prefetched, and can never make a page of the map fault.
 */
int mm_advice_allowed(int advice);

/* How many mappings the process has now (all of them, not only memmap's), or -1 when unknown. */
int64_t mm_map_count(void);

/*
 * msync(2). fd is the mapping's own descriptor, or -1 (anonymous memory, trackfd off): a
 * platform whose msync does not reach the disk (macOS) finishes a synchronous flush through it.
 */
int mm_sync(void *addr, uint64_t length, int flags, int fd);

/* madvise(2), mlock(2)/munlock(2). */
int mm_advise(void *addr, uint64_t length, int advice);
int mm_lock(void *addr, uint64_t length, int lock);

/* mincore(2): one byte per page in out (bit 0 set when the page is resident). */
int mm_residency(void *addr, uint64_t length, unsigned char *out);

/* fstat: *size = st_size, *regular = whether it is a regular file. */
int mm_file_size(int fd, int64_t *size, int *regular);

/* A close-on-exec duplicate of fd. */
int mm_dup(int fd, int *out_fd);

/* close(2). */
int mm_close(int fd);

/* Whether descriptor b still refers to the same open file as a (kcmp on Linux; elsewhere the
 * same device and inode): *same = 1 or 0. Used before closing a descriptor memmap handed out,
 * whose number the caller may have closed and the process reused for another file. */
int mm_same_file(int a, int b, int *same);

/* Name an anonymous mapping as seen in /proc/self/maps; ENOTSUP where there is no such thing. */
int mm_set_name(void *addr, uint64_t length, const char *name);

/*
 * Waiting on a 32-bit word of a map, across processes (a futex without FUTEX_PRIVATE_FLAG on
 * Linux). mm_wait sleeps while *addr == expected, for at most timeout_ns (< 0: no limit), and
 * sets *result: 0 woken (or spuriously), 1 the word did not hold expected, 2 timed out. It
 * returns EINTR when a signal interrupted it (the caller decides whether to wait again).
 * mm_wake wakes at most count waiters and sets *woken. ENOTSUP where there is no such call.
 */
int mm_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns, int *result);
int mm_wake(uint32_t *addr, int count, int *woken);

/* A monotonic clock in nanoseconds, for waits that resume after EINTR. */
int64_t mm_now_ns(void);

/*
 * Makes [addr, addr + length) resident: MADV_POPULATE_READ where the kernel has it (Linux 5.14),
 * else a read of one byte per page. addr is page-aligned.
 */
int mm_prefetch(void *addr, uint64_t length);

/* Reads one byte of every page of [addr, addr + length), so each is faulted in. */
int mm_touch_pages(void *addr, uint64_t length);

#endif
