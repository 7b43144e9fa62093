/*
 * Syntax check of the macOS files with gcc on Linux: glibc's headers first, then Darwin's values
 * (from Apple's <sys/mman.h> and <fcntl.h>) over Linux's, and the names glibc lacks. Force-included
 * with -include; the Mach declarations come from ./mach. It proves the files parse and agree with
 * platform.h and posix.h, and that Darwin's values do not collide (duplicate case labels), nothing
 * more: Apple's own headers may still disagree.
 */
#include <sys/mman.h>
#include <fcntl.h>
#include <dlfcn.h>
#undef MAP_SHARED
#undef MAP_PRIVATE
#undef MAP_FIXED
#undef MAP_NORESERVE
#undef MAP_ANON
#undef MAP_ANONYMOUS
#undef MAP_32BIT
#define MAP_SHARED 0x0001
#define MAP_PRIVATE 0x0002
#define MAP_FIXED 0x0010
#define MAP_NORESERVE 0x0040
#define MAP_NOEXTEND 0x0100
#define MAP_HASSEMAPHORE 0x0200
#define MAP_NOCACHE 0x0400
#define MAP_JIT 0x0800
#define MAP_ANON 0x1000
#define MAP_ANONYMOUS MAP_ANON
#define MAP_RESILIENT_CODESIGN 0x2000
#define MAP_RESILIENT_MEDIA 0x4000
#define MAP_32BIT 0x8000
#define MAP_TRANSLATED_ALLOW_EXECUTE 0x20000
#define MAP_UNIX03 0x40000
#define MAP_TPRO 0x80000
#undef MS_ASYNC
#undef MS_INVALIDATE
#undef MS_SYNC
#define MS_ASYNC 0x0001
#define MS_INVALIDATE 0x0002
#define MS_SYNC 0x0010
#undef MADV_NORMAL
#undef MADV_RANDOM
#undef MADV_SEQUENTIAL
#undef MADV_WILLNEED
#undef MADV_DONTNEED
#undef MADV_FREE
#undef MADV_PAGEOUT
#define MADV_NORMAL 0
#define MADV_RANDOM 1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED 3
#define MADV_DONTNEED 4
#define MADV_FREE 5
#define MADV_ZERO_WIRED_PAGES 6
#define MADV_FREE_REUSABLE 7
#define MADV_FREE_REUSE 8
#define MADV_CAN_REUSE 9
#define MADV_PAGEOUT 10
#define MADV_ZERO 11
#define MINCORE_INCORE 0x1
#define MINCORE_PAGED_OUT 0x20
#define MINCORE_ANONYMOUS 0x80
#define F_FULLFSYNC 51
