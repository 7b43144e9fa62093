/* The two macOS calls darwin.c makes that Linux has no counterpart for (see linux-compat.h). */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mach/mach_vm.h>

/* No Mach VM: no region found, so mm_copy_locks copies no locks (the lock tests cannot tell). */
mach_port_t mach_task_self_;
kern_return_t mach_vm_region_recurse(mach_port_t task, mach_vm_address_t *address,
                                     mach_vm_size_t *size, natural_t *depth,
                                     vm_region_recurse_info_t info, mach_msg_type_number_t *count) {
  (void)task, (void)address, (void)size, (void)depth, (void)info, (void)count;
  return KERN_INVALID_ADDRESS;
}

#undef mincore
int darwin_emul_mincore(void *addr, size_t length, unsigned char *vec) {
  if (mincore(addr, length, vec) != 0) return -1;
  long page = sysconf(_SC_PAGESIZE);
  size_t pages = (length + (size_t)page - 1) / (size_t)page;
  int f = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (f < 0) return -1;
  for (size_t i = 0; i < pages; i++) {
    uint64_t e = 0;
    if (pread(f, &e, sizeof e, (off_t)(((uintptr_t)addr / (uintptr_t)page + i) * sizeof e)) !=
        (ssize_t)sizeof e) {
      close(f);
      return -1;
    }
    vec[i] &= 1;
    if ((e >> 62) & 1) vec[i] |= 0x20 | 0x80;                        /* swapped: paged out */
    else if (((e >> 63) & 1) && !((e >> 61) & 1)) vec[i] |= 0x80;    /* present, not the file's */
  }
  close(f);
  return 0;
}
