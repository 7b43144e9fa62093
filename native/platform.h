/*
 * The narrow interface between the Node-API glue (binding.c) and the operating system.
 *
 * Every function returns 0 on success or a positive errno value on failure; nothing here
 * touches Node-API, so a new platform is one new file implementing these functions.
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

/* mmap(2). On success *out is the start of the new mapping. */
int mm_map(int fd, uint64_t length, int prot, int flags, int64_t offset, void **out);

/* munmap(2). */
int mm_unmap(void *addr, uint64_t length);

/*
 * Change the length of a mapping, keeping its contents; the mapping may move (*out is the new
 * start). On failure the old mapping is untouched. fd/prot/flags/offset are what the mapping
 * was created with, for platforms that remap by unmapping and mapping again.
 */
int mm_remap(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
             int64_t offset, void **out);

/* The portable remap: a new mapping of new_length (contents copied for private and anonymous
 * maps), then the old one unmapped. Used where mremap is missing or refuses. */
int mm_remap_by_mapping(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot,
                        int flags, int64_t offset, void **out);

/* How many mappings the kernel allows a process (vm.max_map_count), or 0 when unknown. */
int mm_map_limit(void);

/* How many mappings the process has now (all of them, not only memmap's), or -1 when unknown. */
int64_t mm_map_count(void);

/* msync(2), madvise(2), mlock(2)/munlock(2). */
int mm_sync(void *addr, uint64_t length, int flags);
int mm_advise(void *addr, uint64_t length, int advice);
int mm_lock(void *addr, uint64_t length, int lock);

/* mincore(2): one byte per page in out (bit 0 set when the page is resident). */
int mm_residency(void *addr, uint64_t length, unsigned char *out);

/* A new anonymous memory file of `size` bytes (memfd_create on Linux); close-on-exec. */
int mm_memory_file(const char *name, uint64_t size, int *out_fd);

/* fstat: *size = st_size, *regular = whether it is a regular file. */
int mm_file_size(int fd, int64_t *size, int *regular);

/* ftruncate(2). */
int mm_truncate(int fd, int64_t size);

/* A close-on-exec duplicate of fd. */
int mm_dup(int fd, int *out_fd);

/* Name an anonymous mapping as seen in /proc/self/maps; ENOTSUP where there is no such thing. */
int mm_set_name(void *addr, uint64_t length, const char *name);

#endif
