/*
 * What the POSIX platform files (posix.c, and linux.c or another Unix's file) share beyond
 * platform.h: the calls posix.c builds mm_open and the portable remap from, the ones each Unix
 * provides its own way (a memory file), and the constants every Unix has.
 */
#ifndef MEMMAP_POSIX_H
#define MEMMAP_POSIX_H

#include <sys/mman.h>

#include "platform.h"

/* mmap(2). On success *out is the start of the new mapping. */
int mm_map(int fd, uint64_t length, int prot, int flags, int64_t offset, void **out);

/*
 * A new mapping of new_length with the same contents, at a new address; the old mapping is left
 * as it is. A shared file (or memory file) map is mapped from the file again; a private or
 * anonymous one has its bytes copied over.
 */
int mm_map_copy(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out);

/* The portable remap: mm_map_copy, then the old mapping unmapped. Used where mremap is missing
 * or refuses. */
int mm_remap_by_mapping(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot,
                        int flags, int64_t offset, void **out);

/* A new anonymous memory file of `size` bytes (memfd_create on Linux, shm_open on macOS);
 * close-on-exec. On failure *syscall names the call that failed. */
int mm_memory_file(const char *name, uint64_t size, int *out_fd, const char **syscall);

/* Whether a memory file can be mapped MAP_PRIVATE (Linux's memfd can; macOS maps a shm_open
 * object only MAP_SHARED). Where it cannot, private anonymous memory is plain MAP_ANONYMOUS. */
int mm_memory_file_maps_private(void);

/* Before a caller's file is mapped: macOS synchronises it with its backing store (F_FULLFSYNC,
 * as CPython does); elsewhere nothing. Failures are ignored, as CPython ignores them. */
void mm_prepare_file(int fd);

/* After msync succeeded on a map of fd: what else a synchronous flush needs to reach the disk
 * (macOS: F_FULLFSYNC, since its msync leaves data in the drive's cache); elsewhere nothing. */
int mm_sync_file(int fd, int flags);

/* Whether advice is one of POSIX's (posix_madvise's NORMAL, RANDOM, SEQUENTIAL, WILLNEED and
 * DONTNEED): hints that never make a page fault. Each Unix's mm_advice_allowed adds its own. */
int mm_posix_advice_allowed(int advice);

/* mm_same_file by device and inode: whether a and b name the same file (perhaps through two
 * open file descriptions). 0 or the errno of fstat(a); b closed counts as not the same. */
int mm_same_inode(int a, int b, int *same);

/*
 * The first entries of each POSIX platform's mm_constants: the names every POSIX system has
 * (and MAP_32BIT where it exists), with that system's values. MAP_FIXED is not
 * offered (memmap chooses the address): it is listed so the TypeScript layer can refuse it.
 */
#define MM_C(name)                                                                                 \
  { #name, name }
#ifdef MAP_32BIT
#define MM_MAP_32BIT MM_C(MAP_32BIT),
#else
#define MM_MAP_32BIT
#endif
#define MM_POSIX_CONSTANTS                                                                         \
  MM_C(PROT_READ), MM_C(PROT_WRITE), MM_C(PROT_EXEC), MM_C(MAP_SHARED), MM_C(MAP_PRIVATE),         \
      MM_C(MAP_ANONYMOUS), {"MAP_ANON", MAP_ANONYMOUS}, MM_C(MAP_NORESERVE), MM_C(MAP_FIXED),      \
      MM_MAP_32BIT MM_C(MADV_NORMAL), MM_C(MADV_RANDOM), MM_C(MADV_SEQUENTIAL),                    \
      MM_C(MADV_WILLNEED), MM_C(MADV_DONTNEED), MM_C(MS_ASYNC), MM_C(MS_INVALIDATE), MM_C(MS_SYNC)

#endif
