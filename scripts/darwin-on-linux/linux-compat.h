/*
 * Running native/darwin.c's logic on Linux (scripts/test-darwin-logic.sh): Linux's own values
 * (the kernel answering is Linux's), plus what darwin.c names that Linux lacks. Not macOS: what
 * it shows is that darwin.c's choices (remap by mapping again, copying a private map's written
 * pages, shm_open memory files, the fsync fallback, the image pinning itself) work against a
 * real kernel and the test suite; XNU's own behaviour is not reproduced.
 */
#include <sys/mman.h>
#include <fcntl.h>
#include <stddef.h>
#define F_FULLFSYNC 51 /* Linux answers EINVAL: darwin.c's fsync fallback runs */
#define MADV_ZERO_WIRED_PAGES 1006
#define MADV_FREE_REUSABLE 1007
#define MADV_FREE_REUSE 1008
/* XNU's mincore bits, emulated from /proc/self/pagemap by linux-emul.c: a page present and no
 * longer the file's, or swapped out, is in an anonymous object, as XNU would report it. */
#define MINCORE_INCORE 0x1
#define MINCORE_PAGED_OUT 0x20
#define MINCORE_ANONYMOUS 0x80
int darwin_emul_mincore(void *addr, size_t length, unsigned char *vec);
#define mincore darwin_emul_mincore
