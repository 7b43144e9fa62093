/*
 * macOS: POSIX shared memory for memory files, F_FULLFSYNC, resizing without mremap (mincore
 * tells a private map's written pages), Mach's view of wired pages, and Darwin's constants.
 *
 * Written against Apple's headers (<sys/mman.h>, <fcntl.h>, <mach/mach_vm.h>), its man pages
 * and CPython's macOS paths; it has not been built or run on a Mac yet (see the README).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mach/mach.h>
#include <mach/mach_vm.h>

#include "posix.h"

/*
 * Mach-O has no link-time counterpart of ELF's -z nodelete. A worker that loaded the addon
 * dlcloses it when it exits, but the SIGBUS guard's handler and memmap's watcher thread live in
 * this image for the whole process. So the image takes one more reference to itself when it is
 * loaded, never released: dlopen(3) with RTLD_NOLOAD returns a counted handle to an image
 * already loaded, and RTLD_NODELETE tags it so that it is never removed.
 */
__attribute__((constructor)) static void pin_image(void) {
  Dl_info info;
  if (dladdr((const void *)mm_constants, &info) != 0 && info.dli_fname != NULL)
    (void)dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

/*
 * A private file map moved as mremap would move it: the file mapped again, and only the pages
 * the map holds privately copied over. XNU's mincore(2) marks a page MINCORE_ANONYMOUS when the
 * object it was found in is anonymous (vm_map_page_range_info: no VM_PAGE_QUERY_PAGE_EXTERNAL),
 * and the search through a private map's shadow chain ends in the file's own object for a page
 * nobody copied. So for a private file map an anonymous page is a copy: one this process wrote
 * (resident, or compressed: MINCORE_PAGED_OUT), or one XNU set aside for the map when the file
 * changed under it. Every other page is still the file's and stays the file's, so a truncation
 * zeroes or faults it exactly as it would have in place. If mincore fails, every page is copied.
 */
static int map_private_file(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot,
                            int flags, int64_t offset, void **out) {
  void *p = mmap(NULL, (size_t)new_length, prot, flags, fd, (off_t)offset);
  if (p == MAP_FAILED) return errno;
  uint64_t page = (uint64_t)mm_page_size();
  uint64_t old_pages = (old_length + page - 1) / page, new_pages = (new_length + page - 1) / page;
  uint64_t pages = old_pages < new_pages ? old_pages : new_pages;
  char vec[512];
  for (uint64_t i = 0; i < pages;) {
    uint64_t n = pages - i < 512 ? pages - i : 512;
    uint8_t *from = (uint8_t *)addr + i * page, *to = (uint8_t *)p + i * page;
    if (mincore(from, (size_t)(n * page), (void *)vec) != 0) { /* unknown: copy the rest */
      memcpy(to, from, (size_t)((pages - i) * page));
      break;
    }
    for (uint64_t j = 0; j < n; j++)
      if (vec[j] & (MINCORE_ANONYMOUS | MINCORE_PAGED_OUT))
        memcpy(to + j * page, from + j * page, (size_t)page);
    i += n;
  }
  *out = p;
  return 0;
}

static int private_file(int fd, int flags) {
  return fd >= 0 && !(flags & MAP_ANONYMOUS) && !(flags & MAP_SHARED);
}

/* No mremap: map the new length afresh, then unmap the old range. A shared map (or memory file)
 * is mapped from the file again, a private file map as above, and anonymous memory is copied
 * (where Linux moves its pages). */
int mm_remap(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
             int64_t offset, void **out) {
  if (!private_file(fd, flags))
    return mm_remap_by_mapping(addr, old_length, new_length, fd, prot, flags, offset, out);
  int err = map_private_file(addr, old_length, new_length, fd, prot, flags, offset, out);
  if (err) return err;
  munmap(addr, (size_t)old_length);
  return 0;
}

/* The same new mapping as mm_remap, with the old one left mapped for the views that still point
 * into it. Only anonymous memory differs from Linux: copied, not moved (mremap with
 * MREMAP_DONTUNMAP), which costs time but not meaning. */
int mm_relocate(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out) {
  if (private_file(fd, flags))
    return map_private_file(addr, old_length, new_length, fd, prot, flags, offset, out);
  return mm_map_copy(addr, old_length, new_length, fd, prot, flags, offset, out);
}

/* The task's VM map entry at or after *address (a submap counts as one): its start in *address,
 * its size and what mach_vm_region_recurse says of it. 0 past the last entry
 * (KERN_INVALID_ADDRESS) or on failure. */
static int next_region(mach_vm_address_t *address, mach_vm_size_t *size,
                       vm_region_submap_info_data_64_t *info) {
  natural_t depth = 0;
  mach_msg_type_number_t count = VM_REGION_SUBMAP_INFO_COUNT_64;
  *size = 0;
  return mach_vm_region_recurse(mach_task_self(), address, size, &depth,
                                (vm_region_recurse_info_t)info, &count) == KERN_SUCCESS;
}

/*
 * mincore cannot tell locked pages on macOS, but the Mach VM can: mlock wires the pages, which
 * splits the map entry at the locked range's edges, and each entry reports its user wire count
 * (mach_vm_region_recurse, vm_region_submap_info_64.user_wired_count). Lock the same pages of
 * the new mapping, as on Linux from smaps.
 */
int mm_copy_locks(void *old_addr, uint64_t old_length, void *new_addr, uint64_t new_length) {
  mach_vm_address_t from = (mach_vm_address_t)(uintptr_t)old_addr, to = from + old_length;
  int err = 0;
  for (mach_vm_address_t at = from; at < to;) {
    mach_vm_address_t address = at;
    mach_vm_size_t size;
    vm_region_submap_info_data_64_t info;
    if (!next_region(&address, &size, &info) || size == 0) break; /* nothing at or after `at` */
    if (address >= to) break;
    mach_vm_address_t lo = address > from ? address : from;
    mach_vm_address_t hi = address + size < to ? address + size : to;
    if (!info.is_submap && info.user_wired_count > 0 && lo < hi && lo - from < new_length) {
      /* As on Linux (mremap grows a locked mapping locked): what the new one adds past the old
       * end belongs to the region of the old last page. */
      if (hi == to && new_length > old_length) hi = from + new_length;
      uint64_t n = hi - lo < new_length - (lo - from) ? hi - lo : new_length - (lo - from);
      if (mlock((uint8_t *)new_addr + (lo - from), (size_t)n) != 0) err = errno;
    }
    at = address + size;
  }
  return err;
}

/* No kcmp: the same device and inode is the closest macOS can tell (the same file, perhaps
 * through another open file description). */
int mm_same_file(int a, int b, int *same) {
  return mm_same_inode(a, b, same);
}

/* XNU has no documented per-process limit on the number of mappings (Linux's
 * vm.max_map_count): unknown, so binding.c keeps no headroom. */
int mm_map_limit(void) {
  return 0;
}

/* The task's top-level VM map entries (a submap, such as the shared library cache, counts as
 * one). binding.c asks only when there is a limit to keep under, so on macOS it never does. */
int64_t mm_map_count(void) {
  int64_t entries = 0;
  mach_vm_address_t address = 0;
  for (;;) {
    mach_vm_size_t size;
    vm_region_submap_info_data_64_t info;
    if (!next_region(&address, &size, &info)) break; /* past the last entry */
    entries++;
    if (size == 0 || address + size < address) break;
    address += size;
  }
  return entries;
}

/*
 * Shared anonymous memory: a POSIX shared memory object, unlinked as soon as it is made so that
 * only descriptors reach it, as with Linux's memfd. Its name only has to be unique for that
 * moment (O_EXCL; shm names are at most PSHMNAMLEN, 31, characters).
 *
 * XNU sets a shared memory object's size once (pshm_truncate: "one ftruncate() per lifetime"),
 * so resize() of shared anonymous memory fails there with EINVAL (and changes nothing); and it
 * maps one only MAP_SHARED (pshm_mmap), so mm_memory_file_maps_private says no.
 */
int mm_memory_file_maps_private(void) {
  return 0;
}

int mm_memory_file(const char *name, uint64_t size, int *out_fd, const char **syscall) {
  char path[32];
  int fd = -1;
  *syscall = "shm_open";
  for (int attempt = 0; attempt < 16; attempt++) {
    snprintf(path, sizeof path, "/%.8s.%d.%08x", name, (int)getpid(), (unsigned)arc4random());
    fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) return errno;
  shm_unlink(path);
  /* XNU's shm_open marks the descriptor close-on-exec, but neither POSIX nor Apple's man page
   * promises it (and it takes no O_CLOEXEC): say so explicitly. */
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    int err = errno;
    close(fd);
    *syscall = "fcntl";
    return err;
  }
  if (size > (uint64_t)INT64_MAX || ftruncate(fd, (off_t)size) != 0) {
    int err = size > (uint64_t)INT64_MAX ? EFBIG : errno;
    close(fd);
    *syscall = "ftruncate";
    return err;
  }
  *out_fd = fd;
  return 0;
}

/* CPython, issue 11277: fsync is not enough on macOS, and a file written but not yet on its
 * backing store could be mapped with holes where its data should be. F_FULLFSYNC before mapping
 * writes it out and flushes the drive's cache. CPython ignores its failure (a descriptor that is
 * not a file, a file system without it), and so does this. */
void mm_prepare_file(int fd) {
  (void)fcntl(fd, F_FULLFSYNC);
}

/*
 * macOS's msync(MS_SYNC) writes the pages to the drive, which may keep them in its cache
 * (fsync(2): "the disk drive may also re-order the data"). F_FULLFSYNC asks the drive to write
 * its cache out too, as SQLite does for a full sync. EBADF means a descriptor that is no vnode:
 * a memory file, with no disk to reach. A file system that cannot do it (ENOTSUP, ENOTTY,
 * EINVAL; EROFS from HFS+ on a read-only volume, where nothing is left to write) gets an fsync
 * instead, as far as that file system goes.
 */
static int cannot_sync(int err) {
  return err == ENOTSUP || err == ENOTTY || err == EINVAL || err == EROFS;
}

int mm_sync_file(int fd, int flags) {
  if (!(flags & MS_SYNC)) return 0;
  if (fcntl(fd, F_FULLFSYNC) == 0) return 0;
  int err = errno;
  if (err == EBADF) return 0;
  if (!cannot_sync(err)) return err;
  if (fsync(fd) == 0) return 0;
  err = errno;
  return cannot_sync(err) ? 0 : err;
}

/* macOS can tag anonymous memory with a number when it is mapped (VM_MAKE_TAG in mmap's fd
 * argument), but it has no way to name a mapping afterwards. */
int mm_set_name(void *addr, uint64_t length, const char *name) {
  (void)addr;
  (void)length;
  (void)name;
  return ENOTSUP;
}

#define C MM_C
const mm_constant mm_constants[] = {
    MM_POSIX_CONSTANTS,
/* The macOS flags CPython 3.13 exposes, where this SDK defines them. */
#ifdef MAP_NOEXTEND
    C(MAP_NOEXTEND),
#endif
#ifdef MAP_HASSEMAPHORE
    C(MAP_HASSEMAPHORE),
#endif
#ifdef MAP_NOCACHE
    C(MAP_NOCACHE),
#endif
#ifdef MAP_JIT
    C(MAP_JIT),
#endif
#ifdef MAP_RESILIENT_CODESIGN
    C(MAP_RESILIENT_CODESIGN),
#endif
#ifdef MAP_RESILIENT_MEDIA
    C(MAP_RESILIENT_MEDIA),
#endif
#ifdef MAP_TRANSLATED_ALLOW_EXECUTE
    C(MAP_TRANSLATED_ALLOW_EXECUTE),
#endif
#ifdef MAP_UNIX03
    C(MAP_UNIX03),
#endif
#ifdef MAP_TPRO
    C(MAP_TPRO),
#endif
    C(MADV_FREE),
    C(MADV_ZERO_WIRED_PAGES),
    C(MADV_FREE_REUSABLE),
    C(MADV_FREE_REUSE),
    {NULL, 0},
};

int mm_advice_allowed(int advice) {
  if (mm_posix_advice_allowed(advice)) return 1;
  switch (advice) {
  /* madvise(2) on macOS, beyond POSIX's: MADV_FREE (the contents may become zeros, the range
   * stays valid) and MADV_ZERO_WIRED_PAGES (zero wired pages when the range is unmapped). */
  case MADV_FREE:
  case MADV_ZERO_WIRED_PAGES:
  /* Not in the man page, but exported by CPython on macOS and used by its malloc: mark
   * anonymous pages reusable (their contents may go) and take them back; other memory
   * answers an error. Neither can make a page fault. */
  case MADV_FREE_REUSABLE:
  case MADV_FREE_REUSE:
    return 1;
  default:
    /* MADV_CAN_REUSE and MADV_PAGEOUT are internal ("page out now (internal only)"),
     * MADV_ZERO is newer than the man page, and anything unknown may make pages fault. */
    return 0;
  }
}

/* Waiting on a word of a map across processes needs an OS call that keys the word by file:
 * macOS has os_sync_wait_on_address with OS_SYNC_WAIT_ON_ADDRESS_SHARED (14.4+), or
 * __ulock_wait with UL_COMPARE_AND_WAIT_SHARED; not done yet. Prefetching reads a byte of
 * each page (no MADV_POPULATE_READ). */
int mm_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns, int *result) {
  return ENOTSUP;
}
int mm_wake(uint32_t *addr, int count, int *woken) {
  return ENOTSUP;
}
int mm_prefetch(void *addr, uint64_t length) {
  return mm_touch_pages(addr, length);
}
int64_t mm_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
