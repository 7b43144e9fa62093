/*
 * Windows: platform.h over CreateFileMappingW / MapViewOfFile, with CPython's Windows rules
 * (Modules/mmapmodule.c, the MS_WINDOWS paths).
 *
 * Descriptors. binding.c keeps C-runtime descriptors (int), as on POSIX. A descriptor from
 * fs.openSync belongs to node.exe's C runtime, not to the one this addon links, so its HANDLE
 * comes from libuv's uv_get_osfhandle (exported by node.exe), and a descriptor this file makes
 * (the mapping's own, and mm.fd) is a duplicated HANDLE wrapped into a node.exe descriptor with
 * uv_open_osfhandle and closed with uv_fs_close, so JavaScript's fs functions accept it.
 *
 * Mappings. What a view needs later (its section handle, which keeps a tagname in the object
 * namespace while the map lives, and the file to flush) is kept in a small table keyed by the
 * view's base address. mm_opened.flags holds this file's own bits (MMW_*);
 * prot holds the view's FILE_MAP_* access.
 *
 * Rules (CPython's on Windows):
 *   - a length past the end of the file extends the file; mapping the whole of an empty file
 *     is ERR_MMAP_EMPTY_FILE; an offset past the end with length 0 is ERR_OUT_OF_RANGE;
 *   - ACCESS_DEFAULT is write-through (ACCESS_WRITE); ACCESS_READ maps copy-on-write
 *     (FILE_MAP_COPY over a read-only section), so that a write through a raw view changes
 *     this process's copy of one page instead of raising an access violation (memmap's rule
 *     on every platform);
 *   - fileno -1 is anonymous memory backed by the paging file (CPython also takes 0, a
 *     historical rule memmap leaves out: 0 is a descriptor, stdin); a tagname names the section, so
 * another process mapping the same tag shares it;
 *   - the offset is a multiple of ALLOCATIONGRANULARITY (MapViewOfFile refuses others: EINVAL).
 *
 * What Windows does not have, and what this file does instead:
 *   - retiring a range in place (mm_zero_in_place) would need placeholders (VirtualAlloc2 /
 *     MapViewOfFile3 / UnmapViewOfFile2, Windows 10 1803+), which this file does not use: it
 *     returns ENOTSUP, and binding.c then keeps a closed or moved view mapped (its file's
 *     bytes, never another mapping's) until the last ArrayBuffer over it is freed. The file
 *     stays open, and cannot shrink, until then;
 *   - the fault guard: a file cannot shrink under a view on Windows (ERROR_USER_MAPPED_FILE),
 *     but a page can still fail to be read in (EXCEPTION_IN_PAGE_ERROR: a network or
 *     removable drive). A vectored exception handler over guard.c's table rescues such a
 *     fault inside memmap's ranges by replacing the whole view with zeros (see "the guard"
 *     below). CPython 3.13 catches the exception only inside its own copy loops; JavaScript
 *     reads a view directly, so memmap catches it wherever it happens;
 *   - madvise: WILLNEED prefetches (PrefetchVirtualMemory), DONTNEED drops the pages from the
 *     working set (VirtualUnlock on unlocked pages; the bytes are kept, as Linux keeps a shared
 *     file map's); any other advice is refused by mm_advice_allowed;
 *   - no mapping count limit is known (mm_map_limit 0), and mappings have no names (ENOTSUP).
 */
#define WIN32_LEAN_AND_MEAN
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#include <windows.h>
#include <psapi.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "platform.h"
#include "common.h"
#include "guard.h"
#include "signals.h"

#ifndef ENOTSUP
#define ENOTSUP 129
#endif

/* libuv, exported by node.exe (an import library made from a .def at build time). uv.h is not
 * part of Node-API's headers: uv_fs_t is passed as storage larger than libuv's own (about 440
 * bytes on x64), and only through libuv's functions. */
typedef struct uv_loop_s uv_loop_t;
typedef union {
  char bytes[2048];
  long long align;
  void *ptr;
} uv_fs_storage;
__declspec(dllimport) HANDLE uv_get_osfhandle(int fd);
__declspec(dllimport) int uv_open_osfhandle(HANDLE os_fd);
__declspec(dllimport) uv_loop_t *uv_default_loop(void);
__declspec(dllimport) int uv_fs_close(uv_loop_t *loop, void *req, int file, void *cb);
__declspec(dllimport) void uv_fs_req_cleanup(void *req);

/* This file's bits in mm_opened.flags. */
enum {
  MMW_ANONYMOUS = 1, /* paging-file memory */
  MMW_TAGGED = 2,    /* the section has a name: another process may share it */
  MMW_COPY = 4,      /* FILE_MAP_COPY: writes stay in this process */
};

/* The constants Windows has: memmap's madvise extensions only (CPython has no madvise on
 * Windows; these are Linux's values, so code written for Linux passes the same numbers). */
const mm_constant mm_constants[] = {
    {"MADV_WILLNEED", 3},
    {"MADV_DONTNEED", 4},
    {NULL, 0},
};
const int mm_has_tagname = 1;

#define ADVICE_WILLNEED 3
#define ADVICE_DONTNEED 4

/* ---------------------------------------------------------------------------------------- */
/* errors */

static int errno_of(DWORD error) {
  switch (error) {
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
    return ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_SHARING_VIOLATION:
  case ERROR_LOCK_VIOLATION:
    return EACCES;
  case ERROR_INVALID_HANDLE:
    return EBADF;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
  case ERROR_COMMITMENT_LIMIT:
  case ERROR_NO_SYSTEM_RESOURCES:
  case ERROR_WORKING_SET_QUOTA:
  case ERROR_PAGEFILE_QUOTA:
    return ENOMEM;
  case ERROR_INVALID_PARAMETER:
  case ERROR_MAPPED_ALIGNMENT:
  case ERROR_INVALID_ADDRESS:
    return EINVAL;
  case ERROR_FILE_INVALID:
    return ENODEV; /* not a file that can be mapped (CPython: ENODEV's role) */
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
    return ENOSPC;
  case ERROR_USER_MAPPED_FILE:
    return EBUSY; /* the file cannot shrink under a mapped view */
  case ERROR_NOT_LOCKED:
    return ENOMEM;
  case ERROR_CALL_NOT_IMPLEMENTED:
  case ERROR_NOT_SUPPORTED:
    return ENOTSUP;
  case ERROR_INVALID_FUNCTION:
    return ENODEV;
  case ERROR_FILE_TOO_LARGE:
    return EFBIG;
  case ERROR_ALREADY_EXISTS:
    return EEXIST;
  default:
    return EIO;
  }
}

static int last_errno(void) {
  return errno_of(GetLastError());
}

/* ---------------------------------------------------------------------------------------- */
/* descriptors */

static HANDLE handle_of(int fd) {
  if (fd < 0) return INVALID_HANDLE_VALUE;
  return uv_get_osfhandle(fd);
}

/* A duplicate of h wrapped in a node.exe descriptor. */
static int wrap_duplicate(HANDLE h, int *out_fd) {
  HANDLE dup;
  if (h == INVALID_HANDLE_VALUE || h == NULL) return EBADF;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, FALSE,
                       DUPLICATE_SAME_ACCESS))
    return last_errno();
  int fd = uv_open_osfhandle(dup);
  if (fd < 0) {
    CloseHandle(dup);
    return EMFILE;
  }
  *out_fd = fd;
  return 0;
}

int mm_dup(int fd, int *out_fd) {
  return wrap_duplicate(handle_of(fd), out_fd);
}

/* Closes a node.exe descriptor the libuv way (synchronously: no callback): _close in node.exe's
 * own C runtime, which owns the descriptor table uv_open_osfhandle filled. */
int mm_close(int fd) {
  if (fd < 0) return EBADF;
  uv_fs_storage req;
  int r = uv_fs_close(uv_default_loop(), &req, fd, NULL);
  uv_fs_req_cleanup(&req);
  return r == 0 ? 0 : EBADF;
}

int mm_file_size(int fd, int64_t *size, int *regular) {
  HANDLE h = handle_of(fd);
  if (h == INVALID_HANDLE_VALUE) return EBADF;
  DWORD type = GetFileType(h);
  *regular = type == FILE_TYPE_DISK;
  *size = 0;
  if (!*regular) return 0;
  LARGE_INTEGER li;
  if (!GetFileSizeEx(h, &li)) return last_errno();
  *size = li.QuadPart;
  return 0;
}

typedef BOOL(WINAPI *compare_handles_fn)(HANDLE, HANDLE);

int mm_same_file(int a, int b, int *same) {
  HANDLE ha = handle_of(a), hb = handle_of(b);
  if (ha == INVALID_HANDLE_VALUE) return EBADF;
  if (hb == INVALID_HANDLE_VALUE) {
    *same = 0;
    return 0;
  }
  /* The same kernel object (a duplicate of the same open file): Windows 10 1607+. */
  static compare_handles_fn compare;
  static int looked;
  if (!looked) {
    HMODULE kb = GetModuleHandleW(L"kernelbase.dll");
    if (kb != NULL)
      compare = (compare_handles_fn)(void (*)(void))GetProcAddress(kb, "CompareObjectHandles");
    looked = 1;
  }
  if (compare != NULL) {
    *same = compare(ha, hb) != 0;
    return 0;
  }
  /* Otherwise: the same file (volume and index). */
  BY_HANDLE_FILE_INFORMATION ia, ib;
  if (!GetFileInformationByHandle(ha, &ia)) return last_errno();
  if (!GetFileInformationByHandle(hb, &ib)) {
    *same = 0;
    return 0;
  }
  *same = ia.dwVolumeSerialNumber == ib.dwVolumeSerialNumber &&
          ia.nFileIndexHigh == ib.nFileIndexHigh && ia.nFileIndexLow == ib.nFileIndexLow;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* views: base address -> what the view needs later */

typedef struct view {
  void *base;
  HANDLE section; /* the mapping object, closed with the view (a name lives while a handle does) */
  HANDLE file;    /* a duplicate of the mapped file's handle (flush), or NULL */
  struct view *next;
} view;

static SRWLOCK views_lock = SRWLOCK_INIT;
static view *views;

static int view_add(void *base, HANDLE section, HANDLE file) {
  view *v = calloc(1, sizeof *v);
  if (v == NULL) return ENOMEM;
  v->base = base;
  v->section = section;
  if (file != INVALID_HANDLE_VALUE && file != NULL &&
      !DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &v->file, 0, FALSE,
                       DUPLICATE_SAME_ACCESS)) {
    int err = last_errno();
    free(v);
    return err;
  }
  AcquireSRWLockExclusive(&views_lock);
  v->next = views;
  views = v;
  ReleaseSRWLockExclusive(&views_lock);
  return 0;
}

static void view_remove(void *base) {
  view *found = NULL;
  AcquireSRWLockExclusive(&views_lock);
  for (view **p = &views; *p != NULL; p = &(*p)->next) {
    if ((*p)->base == base) {
      found = *p;
      *p = found->next;
      break;
    }
  }
  ReleaseSRWLockExclusive(&views_lock);
  if (found == NULL) return;
  if (found->file != NULL) CloseHandle(found->file);
  if (found->section != NULL) CloseHandle(found->section);
  free(found);
}

/* The file behind the view containing addr: a duplicate the caller closes, or NULL. */
static HANDLE view_file(void *addr) {
  MEMORY_BASIC_INFORMATION info;
  if (VirtualQuery(addr, &info, sizeof info) == 0) return NULL;
  HANDLE out = NULL;
  AcquireSRWLockShared(&views_lock);
  for (view *v = views; v != NULL; v = v->next) {
    if (v->base == info.AllocationBase) {
      if (v->file != NULL)
        DuplicateHandle(GetCurrentProcess(), v->file, GetCurrentProcess(), &out, 0, FALSE,
                        DUPLICATE_SAME_ACCESS);
      break;
    }
  }
  ReleaseSRWLockShared(&views_lock);
  return out;
}

/* ---------------------------------------------------------------------------------------- */
/* system facts */

static SYSTEM_INFO system_info(void) {
  static SYSTEM_INFO info;
  static int done;
  if (!done) {
    GetSystemInfo(&info);
    done = 1;
  }
  return info;
}

int64_t mm_page_size(void) {
  return (int64_t)system_info().dwPageSize;
}

int64_t mm_allocation_granularity(void) {
  return (int64_t)system_info().dwAllocationGranularity;
}

int mm_map_limit(void) {
  return 0;
}

int64_t mm_map_count(void) {
  return -1;
}

int mm_set_name(void *addr, uint64_t length, const char *name) {
  return ENOTSUP;
}

/* ---------------------------------------------------------------------------------------- */
/* mapping */

/* Maps [offset, offset + length) of a new section over file (INVALID_HANDLE_VALUE: the paging
 * file), named name (NULL: none); the section is offset + length long, which extends a
 * shorter file when the section is writable. */
static int map_section(HANDLE file, const wchar_t *name, uint64_t length, int64_t offset, int mmw,
                       DWORD view_access, void *at, void **out, const char **syscall) {
  if (length > (uint64_t)SIZE_MAX) return ENOMEM;
  DWORD protect = (mmw & MMW_COPY) ? PAGE_WRITECOPY : PAGE_READWRITE;
  uint64_t size = (uint64_t)offset + length;
  *syscall = "CreateFileMapping";
  HANDLE section = CreateFileMappingW(file, NULL, protect, (DWORD)(size >> 32), (DWORD)size, name);
  if (section == NULL) return last_errno();
  *syscall = "MapViewOfFile";
  void *p = MapViewOfFileEx(section, view_access, (DWORD)((uint64_t)offset >> 32), (DWORD)offset,
                            (SIZE_T)length, at);
  int err = p == NULL ? last_errno() : 0;
  if (err == 0) err = view_add(p, section, file);
  if (err) {
    if (p != NULL) UnmapViewOfFile(p);
    CloseHandle(section);
    return err;
  }
  *out = p;
  return 0;
}

int mm_unmap(void *addr, uint64_t length) {
  view_remove(addr);
  if (UnmapViewOfFile(addr)) return 0;
  /* Zero pages left by a failed shrink (shrink_file_view). */
  return VirtualFree(addr, 0, MEM_RELEASE) ? 0 : last_errno();
}

/* UTF-8 tagname -> a wide string the caller frees. */
static wchar_t *wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0) return NULL;
  wchar_t *w = malloc((size_t)n * sizeof *w);
  if (w != NULL && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
    free(w);
    return NULL;
  }
  return w;
}

int mm_open(const mm_request *req, mm_opened *out, mm_failure *failure) {
  memset(out, 0, sizeof *out);
  memset(failure, 0, sizeof *failure);
  uint64_t length = req->length;
  int anonymous = req->fd == -1; /* CPython also takes 0 for anonymous memory; memmap does not */
  int mmw = 0;
  DWORD view_access;
  switch (req->access) {
  case MM_ACCESS_READ:
  case MM_ACCESS_COPY:
    view_access = FILE_MAP_COPY;
    mmw |= MMW_COPY;
    break;
  default: /* DEFAULT and WRITE: write-through */
    view_access = FILE_MAP_WRITE;
    break;
  }
  if (req->effective == MM_ACCESS_READ && !(mmw & MMW_COPY)) {
    view_access = FILE_MAP_COPY;
    mmw |= MMW_COPY;
  }

  HANDLE file = INVALID_HANDLE_VALUE;
  int owned = -1;
  if (anonymous) {
    mmw |= MMW_ANONYMOUS;
    if (length == 0) {
      failure->err = EINVAL;
      failure->syscall = "mmap";
      return 1;
    }
  } else {
    file = handle_of(req->fd);
    if (file == INVALID_HANDLE_VALUE || file == NULL) {
      failure->err = EBADF;
      failure->syscall = "mmap";
      return 1;
    }
    if (GetFileType(file) == FILE_TYPE_DISK) {
      LARGE_INTEGER li;
      if (!GetFileSizeEx(file, &li)) {
        failure->err = last_errno();
        failure->syscall = "GetFileSize";
        return 1;
      }
      /* A longer length extends the file (the section is offset + length long). */
      if (mm_check_file_size((uint64_t)li.QuadPart, (uint64_t)req->offset, &length, 1, failure))
        return 1;
    }
    if (length == 0) {
      failure->err = EINVAL;
      failure->syscall = "mmap";
      return 1;
    }
    if (req->trackfd) {
      int err = wrap_duplicate(file, &owned);
      if (err) {
        failure->err = err;
        failure->syscall = "DuplicateHandle";
        return 1;
      }
    }
  }

  wchar_t *name = NULL;
  if (req->tagname != NULL && req->tagname[0] != '\0') {
    name = wide(req->tagname);
    if (name == NULL) {
      if (owned >= 0) mm_close(owned);
      failure->err = EINVAL;
      failure->syscall = "MultiByteToWideChar";
      return 1;
    }
    mmw |= MMW_TAGGED;
  }
  const char *syscall = "mmap";
  int err =
      map_section(file, name, length, req->offset, mmw, view_access, NULL, &out->addr, &syscall);
  free(name);
  if (err) {
    if (owned >= 0) mm_close(owned);
    failure->err = err;
    failure->syscall = syscall;
    return 1;
  }
  out->length = length;
  out->fd = owned;
  out->prot = (int)view_access;
  out->flags = mmw;
  out->is_private = (mmw & MMW_COPY) != 0;
  out->memory_file = 0;
  return 0;
}

/* A new view of new_length with the mapping's contents; the old view stays. A file view maps
 * the file again (a grown section extends it); paging-file memory gets a new section, with the
 * bytes copied over; a copy-on-write view of a file copies the bytes this process sees. */
/* A file shrinking in mm_resize: Windows truncates a file only when no section of it exists
 * (SetEndOfFile answers ERROR_USER_MAPPED_FILE), so the view is unmapped, the file cut and the
 * shorter view mapped, inside the remap that mm_resize asks binding.c for. */
typedef struct shrink {
  HANDLE file;
  int64_t old_size, new_size;
  const char *syscall; /* what failed */
} shrink;
static _Thread_local shrink *pending_shrink;

int mm_relocate(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
                int64_t offset, void **out) {
  const char *syscall;
  if (pending_shrink != NULL) {
    /* Views still reach the old view, so it stays mapped, and the file cannot shrink. */
    pending_shrink->syscall = "SetEndOfFile";
    return EBUSY;
  }
  if (flags & MMW_TAGGED) return ENOTSUP; /* a new section would not be the one the tag names */
  int anonymous = (flags & MMW_ANONYMOUS) != 0;
  HANDLE file = anonymous ? INVALID_HANDLE_VALUE : handle_of(fd);
  if (!anonymous && file == INVALID_HANDLE_VALUE) return EBADF;
  int err = map_section(file, NULL, new_length, anonymous ? 0 : offset, flags, (DWORD)prot, NULL,
                        out, &syscall);
  if (err) return err;
  if (anonymous || (flags & MMW_COPY))
    memcpy(*out, addr, (size_t)(old_length < new_length ? old_length : new_length));
  return 0;
}

static int set_size(HANDLE file, int64_t size);

/* The shrink: unmap, cut, map the shorter view. On failure the old length is mapped again at
 * the same address (nothing else can have taken it in between but another thread's
 * allocation; then private zero pages keep the range valid, and the error is reported). */
static int shrink_file_view(shrink *sh, void *addr, uint64_t old_length, uint64_t new_length,
                            int prot, int flags, int64_t offset, void **out) {
  const char *syscall = "MapViewOfFile";
  mm_unmap(addr, old_length);
  int err = set_size(sh->file, sh->new_size);
  if (err) {
    sh->syscall = "SetEndOfFile";
  } else {
    err = map_section(sh->file, NULL, new_length, offset, flags, (DWORD)prot, NULL, out, &syscall);
    if (err == 0) return 0;
    sh->syscall = syscall;
    set_size(sh->file, sh->old_size); /* no view exists now: this cannot be refused */
  }
  void *back = NULL;
  if (map_section(sh->file, NULL, old_length, offset, flags, (DWORD)prot, addr, &back, &syscall) !=
          0 &&
      VirtualAlloc(addr, (SIZE_T)old_length, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE) != NULL)
    view_add(addr, NULL, NULL); /* mm_unmap releases it (UnmapViewOfFile fails, VirtualFree) */
  return err;
}

int mm_remap(void *addr, uint64_t old_length, uint64_t new_length, int fd, int prot, int flags,
             int64_t offset, void **out) {
  if (flags & MMW_TAGGED) return ENOTSUP; /* a new mapping object would not be the named one */
  if (pending_shrink != NULL && !(flags & MMW_ANONYMOUS))
    return shrink_file_view(pending_shrink, addr, old_length, new_length, prot, flags, offset, out);
  int err = mm_relocate(addr, old_length, new_length, fd, prot, flags, offset, out);
  if (err) return err;
  mm_unmap(addr, old_length);
  return 0;
}

static int set_size(HANDLE file, int64_t size) {
  FILE_END_OF_FILE_INFO info;
  info.EndOfFile.QuadPart = size;
  return SetFileInformationByHandle(file, FileEndOfFileInfo, &info, sizeof info) ? 0 : last_errno();
}

int mm_resize(int fd, int64_t offset, uint64_t old_length, uint64_t new_length, int is_private,
              mm_remap_fn remap, void *ctx, const char **syscall) {
  if (fd < 0) return remap(ctx, new_length, syscall);
  HANDLE file = handle_of(fd);
  LARGE_INTEGER li;
  if (file == INVALID_HANDLE_VALUE || !GetFileSizeEx(file, &li)) {
    *syscall = "GetFileSize";
    return file == INVALID_HANDLE_VALUE ? EBADF : last_errno();
  }
  int64_t old_size = li.QuadPart, new_size = (int64_t)((uint64_t)offset + new_length);
  if (new_size >= old_size) {
    /* The longer section extends the file as it is created (CreateFileMapping); a failure
     * leaves the file as it was. */
    return remap(ctx, new_length, syscall);
  }
  shrink sh = {file, old_size, new_size, NULL};
  pending_shrink = &sh;
  int err = remap(ctx, new_length, syscall);
  pending_shrink = NULL;
  if (err && sh.syscall != NULL) *syscall = sh.syscall;
  return err;
}

int mm_zero_in_place(void *addr, uint64_t length) {
  return ENOTSUP;
}

/* ---------------------------------------------------------------------------------------- */
/* flush, advice, locks, residency */

int mm_sync(void *addr, uint64_t length, int flags, int fd) {
  if (!FlushViewOfFile(addr, (SIZE_T)length)) return last_errno();
  /* The mapping's own descriptor, or (trackfd off) the handle the view keeps. */
  HANDLE file = NULL;
  if (fd >= 0) {
    HANDLE h = handle_of(fd);
    if (h != INVALID_HANDLE_VALUE)
      DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &file, 0, FALSE,
                      DUPLICATE_SAME_ACCESS);
  }
  if (file == NULL) file = view_file(addr);
  if (file == NULL) return 0; /* paging-file memory: nothing to write */
  int err = FlushFileBuffers(file) ? 0 : last_errno();
  CloseHandle(file);
  /* A read-only handle cannot be flushed (ERROR_ACCESS_DENIED); the view's pages were written
   * by FlushViewOfFile, as CPython leaves it. */
  return err == EACCES ? 0 : err;
}

/* Waiting on a word across processes: WaitOnAddress wakes only waiters in the same process, so
 * there is no such call on Windows (a named event per word would be a different design). */
int mm_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns, int *result) {
  return ENOTSUP;
}
int mm_wake(uint32_t *addr, int count, int *woken) {
  return ENOTSUP;
}

int64_t mm_now_ns(void) {
  static LARGE_INTEGER frequency;
  LARGE_INTEGER now;
  if (frequency.QuadPart == 0) QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&now);
  return (int64_t)((double)now.QuadPart * 1e9 / (double)frequency.QuadPart);
}

int mm_touch_pages(void *addr, uint64_t length) {
  return mm_read_each_page(addr, length, (uint64_t)mm_page_size());
}

/* Resident, as POSIX's fallback does it: a read of one byte per page (PrefetchVirtualMemory is
 * only a hint, which madvise(MADV_WILLNEED) already offers). */
int mm_prefetch(void *addr, uint64_t length) {
  return mm_touch_pages(addr, length);
}

int mm_advice_allowed(int advice) {
  return advice == ADVICE_WILLNEED || advice == ADVICE_DONTNEED;
}

typedef struct {
  PVOID VirtualAddress;
  SIZE_T NumberOfBytes;
} mm_range_entry;
typedef BOOL(WINAPI *prefetch_fn)(HANDLE, ULONG_PTR, mm_range_entry *, ULONG);

int mm_advise(void *addr, uint64_t length, int advice) {
  if (advice == ADVICE_WILLNEED) {
    prefetch_fn prefetch = (prefetch_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"kernel32.dll"), "PrefetchVirtualMemory");
    if (prefetch == NULL) return 0; /* advice: nothing to do where it does not exist (Windows 7) */
    mm_range_entry range = {addr, (SIZE_T)length};
    return prefetch(GetCurrentProcess(), 1, &range, 0) ? 0 : last_errno();
  }
  if (advice == ADVICE_DONTNEED) {
    /* VirtualUnlock on pages that are not locked removes them from the working set (and
     * answers ERROR_NOT_LOCKED). Locked pages are left as they are. */
    if (!VirtualUnlock(addr, (SIZE_T)length) && GetLastError() != ERROR_NOT_LOCKED)
      return last_errno();
    return 0;
  }
  return EINVAL;
}

int mm_lock(void *addr, uint64_t length, int lock) {
  BOOL ok = lock ? VirtualLock(addr, (SIZE_T)length) : VirtualUnlock(addr, (SIZE_T)length);
  return ok ? 0 : last_errno();
}

/* QueryWorkingSetEx over the pages of [addr, addr + length), in chunks. */
static int query_pages(void *addr, uint64_t length,
                       void (*each)(uint64_t i, PSAPI_WORKING_SET_EX_BLOCK b, void *ctx),
                       void *ctx) {
  uint64_t page = (uint64_t)mm_page_size();
  uint64_t start = (uintptr_t)addr / page * page;
  uint64_t pages = ((uintptr_t)addr + length - start + page - 1) / page;
  PSAPI_WORKING_SET_EX_INFORMATION info[256];
  for (uint64_t i = 0; i < pages;) {
    uint64_t n = pages - i < 256 ? pages - i : 256;
    for (uint64_t j = 0; j < n; j++)
      info[j].VirtualAddress = (PVOID)(uintptr_t)(start + (i + j) * page);
    if (!QueryWorkingSetEx(GetCurrentProcess(), info, (DWORD)(n * sizeof info[0])))
      return last_errno();
    for (uint64_t j = 0; j < n; j++) each(i + j, info[j].VirtualAttributes, ctx);
    i += n;
  }
  return 0;
}

static void residency_of(uint64_t i, PSAPI_WORKING_SET_EX_BLOCK b, void *ctx) {
  ((unsigned char *)ctx)[i] = b.Valid ? 1 : 0;
}

int mm_residency(void *addr, uint64_t length, unsigned char *out) {
  return query_pages(addr, length, residency_of, out);
}

typedef struct {
  uint8_t *new_addr;
  uint64_t new_length, page;
  int err;
} lock_copy;

static void copy_lock(uint64_t i, PSAPI_WORKING_SET_EX_BLOCK b, void *ctx) {
  lock_copy *c = ctx;
  if (!b.Valid || !b.Locked || i * c->page >= c->new_length) return;
  uint64_t n = c->new_length - i * c->page < c->page ? c->new_length - i * c->page : c->page;
  if (!VirtualLock(c->new_addr + i * c->page, (SIZE_T)n)) c->err = last_errno();
}

int mm_copy_locks(void *old_addr, uint64_t old_length, void *new_addr, uint64_t new_length) {
  lock_copy c = {new_addr, new_length, (uint64_t)mm_page_size(), 0};
  int err = query_pages(old_addr, old_length, copy_lock, &c);
  return err ? err : c.err;
}

/* ---------------------------------------------------------------------------------------- */
/* the guard (guard.h): a vectored exception handler over guard.c's table */

/*
 * A page of a view that cannot be read in raises EXCEPTION_IN_PAGE_ERROR: a read error on a
 * network or removable drive, or a file shrunk under the view by something that is not
 * Windows (Wine reports that one, a SIGBUS on its Unix side, as EXCEPTION_ACCESS_VIOLATION on
 * a page it holds as committed and accessible). Inside one of memmap's ranges the handler
 * replaces the view by zeros and lets the access run again, and the next Mmap call throws
 * ERR_MMAP_TRUNCATED, as the SIGBUS guard does on POSIX. Any other exception, and any fault
 * outside memmap's ranges, is left to the handlers after it.
 *
 * Unlike POSIX, the whole view becomes zeros, also the pages before the fault: a view is
 * unmapped only whole, and without placeholders (VirtualAlloc2/MapViewOfFile3, which Wine 8
 * lacks) zeros can take its place only by UnmapViewOfFile then VirtualAlloc at the same
 * address. Between the two another thread's allocation could take the addresses. Then the
 * range is marked lost and the exception goes on to the default handling (the process ends,
 * as it would have without memmap): views would otherwise reach someone else's memory.
 * Other threads that fault in the view meanwhile find the rescue claimed and run their
 * access again until it is done.
 */

static uint64_t guard_page;

/* guard_rescue's way of putting zeros over the view that starts at addr (on_exception claims
 * from offset 0: the whole view). */
static guard_zero_result replace_view(void *addr, uint64_t length) {
  MEMORY_BASIC_INFORMATION info;
  /* Only a view of ours, still mapped: never unmap what is not a view starting there. */
  if (VirtualQuery(addr, &info, sizeof info) == 0 || info.AllocationBase != addr ||
      info.Type != MEM_MAPPED)
    return GUARD_UNCHANGED;
  if (!UnmapViewOfFile(addr)) return GUARD_UNCHANGED;
  if (VirtualAlloc(addr, (SIZE_T)length, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE) != addr)
    return GUARD_LOST; /* another thread took the addresses: see above */
  return GUARD_ZEROED;
}

/* Whether protect lets the access (0 read, 1 write) through: then an access violation there
 * is no protection fault, but a page that vanished under Wine or a rescue in progress. */
static int allows(DWORD protect, ULONG_PTR access) {
  if (protect & (PAGE_GUARD | PAGE_NOACCESS)) return 0;
  DWORD base = protect & 0xff;
  if (access == 1)
    return base == PAGE_READWRITE || base == PAGE_WRITECOPY || base == PAGE_EXECUTE_READWRITE ||
           base == PAGE_EXECUTE_WRITECOPY;
  return base != 0;
}

static LONG CALLBACK on_exception(EXCEPTION_POINTERS *pointers) {
  const EXCEPTION_RECORD *rec = pointers->ExceptionRecord;
  DWORD code = rec->ExceptionCode;
  if ((code != EXCEPTION_IN_PAGE_ERROR && code != EXCEPTION_ACCESS_VIOLATION) ||
      rec->NumberParameters < 2)
    return EXCEPTION_CONTINUE_SEARCH;
  ULONG_PTR access = rec->ExceptionInformation[0]; /* 0 read, 1 write, 8 execute (DEP) */
  uintptr_t address = (uintptr_t)rec->ExceptionInformation[1];
  if (access != 0 && access != 1) return EXCEPTION_CONTINUE_SEARCH;
  guard_range *range = guard_lookup(address);
  if (range == NULL) return EXCEPTION_CONTINUE_SEARCH;
  uintptr_t start = guard_start(range);
  if (start == 0 || address < start) return EXCEPTION_CONTINUE_SEARCH;
  if (code == EXCEPTION_ACCESS_VIOLATION) {
    /* Ours only where the page's protection allows the access (a vanished page under Wine,
     * or the zeros a finished rescue left), or where no page is (a rescue between its unmap
     * and its VirtualAlloc: guard_rescue then finds it claimed; unclaimed, replace_view finds
     * no view and refuses). A protection fault (a page someone made PAGE_NOACCESS) is not. */
    MEMORY_BASIC_INFORMATION info;
    if (VirtualQuery((void *)address, &info, sizeof info) == 0) return EXCEPTION_CONTINUE_SEARCH;
    if (info.State == MEM_COMMIT && !allows(info.Protect, access)) return EXCEPTION_CONTINUE_SEARCH;
  }
  return guard_rescue(range, start, 0, guard_page, replace_view) ? EXCEPTION_CONTINUE_EXECUTION
                                                                 : EXCEPTION_CONTINUE_SEARCH;
}

static INIT_ONCE guard_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK install_once(PINIT_ONCE once, PVOID param, PVOID *context) {
  guard_page = (uint64_t)mm_page_size();
  /* The handler lives in this DLL for the rest of the process: a worker that loaded the addon
   * unloads it when it exits (Node closes an environment's addons), so the DLL is pinned
   * first; if it cannot be, no handler is installed (a dangling one would crash). */
  HMODULE self;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                          (LPCWSTR)(void *)on_exception, &self))
    return TRUE;
  /* First in the chain, so a handler that does not know these ranges (the runtime's) never
   * sees a fault the guard repairs; it still sees every other exception. */
  AddVectoredExceptionHandler(1, on_exception);
  return TRUE;
}

/* Installed once per process; later calls (each environment that loads the addon) find it. */
void guard_install(void) {
  InitOnceExecuteOnce(&guard_once, install_once, NULL, NULL);
}
void guard_install_over_runtime(void) {
  guard_install();
}

/* signals.h: there is no SIGBUS to hold. */
napi_value signals_js_hold_sigbus(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_get_boolean(env, false, &result);
  return result;
}
