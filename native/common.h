/*
 * Portable code the platform files share (posix.c, windows.c): CPython's file-size rule, the
 * same on every OS but for what is passed in, and the loop that touches each page. No system
 * calls: each OS's file stays the only place that talks to its OS.
 */
#ifndef MEMMAP_COMMON_H
#define MEMMAP_COMMON_H

#include <stdint.h>

#include "platform.h"

/*
 * CPython's checks of a regular file's size (size) before mapping *length bytes at offset:
 * length 0 maps from offset to the end (*length is set), which an empty file, or an offset at
 * or past the end, cannot. A length past the end is an error where the OS never extends the
 * file (POSIX: extends 0); Windows extends it (extends 1). Returns 0, or 1 with failure's code
 * and message set.
 */
static inline int mm_check_file_size(uint64_t size, uint64_t offset, uint64_t *length, int extends,
                                     mm_failure *failure) {
  if (*length == 0) {
    if (size == 0) {
      failure->code = "ERR_MMAP_EMPTY_FILE";
      failure->message = "cannot mmap an empty file";
      return 1;
    }
    if (offset >= size) {
      failure->code = "ERR_OUT_OF_RANGE";
      failure->message = "mmap offset is greater than file size";
      return 1;
    }
    *length = size - offset;
  } else if (!extends && (offset > size || size - offset < *length)) {
    failure->code = "ERR_OUT_OF_RANGE";
    failure->message = "mmap length is greater than file size";
    return 1;
  }
  return 0;
}

/* Reads one byte of every page of [addr, addr + length), so each is faulted in (mm_touch_pages
 * wherever the OS has nothing better). */
static inline int mm_read_each_page(void *addr, uint64_t length, uint64_t page) {
  const volatile uint8_t *p = (const volatile uint8_t *)addr;
  uint8_t sink = 0;
  for (uint64_t at = 0; at < length; at += page) sink ^= p[at];
  (void)sink;
  return 0;
}

#endif
