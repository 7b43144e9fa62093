/*
 * Node-API glue: the life of a mapping and of the ArrayBuffers that expose it.
 *
 * A mapping is owned by reference counts, never by a single object:
 *   - the handle object TypeScript holds (a wrapped object) counts once, until close() or GC;
 *   - every ArrayBuffer created over the mapping counts once until V8 frees it;
 *   - every flushAsync() in flight counts once until it settles.
 * The memory is unmapped when close() asks for it or when the last reference goes away.
 * Before close() or resize(), the TypeScript layer detaches (detach()) every ArrayBuffer it
 * had made over the mapping (it holds each one through a WeakRef), so no view can reach
 * unmapped memory. Tracking them there, with the engine's own weak references, keeps this file
 * clear of Node-API weak references, whose handling differs between runtimes.
 *
 * All arguments arrive already validated by src/; the checks here only keep a bug in the
 * TypeScript layer from becoming memory corruption.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <node_api.h>

#include "platform.h"
#include "guard.h"

#define CHECK_NAPI(call)                                                             \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, "ERR_MMAP_INTERNAL", "memmap: Node-API call failed: " #call); \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

typedef struct mapping {
  uint8_t *addr; /* NULL once unmapped */
  uint64_t length;
  int fd, prot, flags;
  int64_t offset;
  uint32_t refs;          /* handle + live ArrayBuffers + async syncs in flight */
  uint32_t busy;          /* async syncs in flight: they pin addr/length */
  bool unmap_requested;   /* close() came while busy: unmap when the last sync settles */
  guard_range *guard;     /* this mapping's entry in the SIGBUS guard table */
} mapping;

/* memmap's mappings alive in this process (all threads). */
static _Atomic int64_t live_mappings;

/* memmap stops short of vm.max_map_count, so that reaching the limit gives the caller ENOMEM
 * instead of leaving the runtime itself without room to map memory (V8 or the C++ allocator
 * then abort the process). The room it leaves scales with what the runtime uses: the process's
 * other mappings (heap pages, thread stacks, malloc arenas: more of them on a machine with more
 * cores, or with a larger heap) may double, and never less than MAP_HEADROOM_MIN are left. */
#define MAP_HEADROOM_MIN 4096

/* The process's mappings that are not memmap's, as last counted, and the live_mappings figure
 * at that count (-1: never counted). Counting reads /proc/self/maps, so it is repeated only as
 * memmap approaches the limit: each time live_mappings has moved by a quarter of the distance
 * that was left, and at least every MAP_RECOUNT maps near it. Races between threads only make
 * a count a little older. */
static _Atomic int64_t other_mappings;
static _Atomic int64_t counted_at = -1;
#define MAP_RECOUNT 64

static int64_t map_reserve(int64_t other) {
  return other + (other > MAP_HEADROOM_MIN ? other : MAP_HEADROOM_MIN);
}

/* Whether memmap may add one mapping and leave the runtime its room. */
static bool room_for_a_mapping(void) {
  int64_t limit = mm_map_limit();
  if (limit <= 0) return true;
  int64_t live = atomic_load(&live_mappings);
  int64_t other = atomic_load(&other_mappings);
  int64_t at = atomic_load(&counted_at);
  int64_t distance = limit - live - map_reserve(other);
  int64_t moved = at < 0 ? INT64_MAX : (live > at ? live - at : at - live);
  int64_t step = distance / 4 > MAP_RECOUNT ? distance / 4 : MAP_RECOUNT;
  if (at < 0 || moved >= step) {
    int64_t total = mm_map_count();
    if (total >= 0) {
      other = total > live ? total - live : 0;
      atomic_store(&other_mappings, other);
      atomic_store(&counted_at, live);
      distance = limit - live - map_reserve(other);
    }
  }
  return distance > 0;
}


/* ---------------------------------------------------------------------------------------- */
/* errors */

/* Throws an Error carrying errno and syscall; src/errors.ts turns it into a Node-style error. */
static napi_value throw_sys(napi_env env, int err, const char *syscall) {
  napi_value msg, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_error(env, NULL, msg, &error) != napi_ok ||
      napi_create_int32(env, err, &errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    napi_throw_error(env, NULL, strerror(err));
    return NULL;
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_internal(napi_env env, const char *what) {
  napi_throw_error(env, "ERR_MMAP_INTERNAL", what);
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* argument helpers (values are already checked in TypeScript) */

static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    throw_internal(env, "memmap: wrong number of arguments to the native binding");
    return false;
  }
  return true;
}

static bool get_i64(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    throw_internal(env, "memmap: expected a number in the native binding");
    return false;
  }
  return true;
}

static bool get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    throw_internal(env, "memmap: expected a number in the native binding");
    return false;
  }
  return true;
}

static mapping *get_mapping(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_unwrap(env, v, &data) != napi_ok || data == NULL) {
    throw_internal(env, "memmap: expected a mapping handle");
    return NULL;
  }
  return (mapping *)data;
}

/* offset/length inside the live mapping, computed without overflow. */
static bool in_range(napi_env env, mapping *m, int64_t offset, int64_t length) {
  if (m->addr == NULL) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return false;
  }
  if (offset < 0 || length < 0 || (uint64_t)offset > m->length ||
      (uint64_t)length > m->length - (uint64_t)offset) {
    throw_internal(env, "memmap: range outside the mapping reached the native binding");
    return false;
  }
  return true;
}

/* The shape of buffer/sync/advise/lock/residency calls: (handle, offset, length, extra...).
 * Checks that the range lies inside the live mapping. */
static mapping *get_range(napi_env env, napi_callback_info info, size_t argc, napi_value *argv,
                          int64_t *offset, int64_t *length) {
  if (!get_args(env, info, argc, argv) || !get_i64(env, argv[1], offset) ||
      !get_i64(env, argv[2], length))
    return NULL;
  mapping *m = get_mapping(env, argv[0]);
  if (m == NULL || !in_range(env, m, *offset, *length)) return NULL;
  return m;
}

/* ---------------------------------------------------------------------------------------- */
/* life of a mapping */

static void unmap_now(mapping *m) {
  if (m->addr == NULL) return;
  guard_remove(m->guard);
  m->guard = NULL;
  mm_unmap(m->addr, m->length);
  m->addr = NULL;
  atomic_fetch_sub(&live_mappings, 1);
  if (m->fd >= 0) {
    close(m->fd);
    m->fd = -1;
  }
}

static void release(napi_env env, mapping *m) {
  if (--m->refs > 0) return;
  /* No handle, no ArrayBuffer and no sync is left: nothing can reach the memory. */
  unmap_now(m);
  free(m);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  release(env, (mapping *)data);
}

static void finalize_buffer(napi_env env, void *data, void *hint) {
  release(env, (mapping *)hint);
}

/* How map() treats its descriptor. */
enum { FD_BORROW = 0, FD_OWN = 1, FD_DUP = 2 };

/* map(fd, length, prot, flags, offset, fdMode, out) -> handle.
 * fdMode FD_BORROW: fd stays the caller's; FD_OWN: the mapping closes fd when unmapped, or now
 * if mapping fails (a memory file made for it); FD_DUP: the mapping keeps and later closes a
 * duplicate of fd, whose number is written to out[0]. One call does dup + mmap, so making a map
 * crosses into C once. */
static napi_value js_map(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t fd, prot, flags, fd_mode;
  int64_t length, offset;
  if (!get_args(env, info, 7, argv) || !get_i32(env, argv[0], &fd) ||
      !get_i64(env, argv[1], &length) || !get_i32(env, argv[2], &prot) ||
      !get_i32(env, argv[3], &flags) || !get_i64(env, argv[4], &offset) ||
      !get_i32(env, argv[5], &fd_mode))
    return NULL;
  int32_t *out = NULL;
  size_t out_length = 0;
  napi_typedarray_type out_type;
  if (napi_get_typedarray_info(env, argv[6], &out_type, &out_length, (void **)&out, NULL, NULL) !=
          napi_ok ||
      out_type != napi_int32_array || out_length < 1)
    return throw_internal(env, "memmap: expected an Int32Array");
  if (length <= 0 || offset < 0) return throw_sys(env, EINVAL, "mmap");

  if (!room_for_a_mapping()) return throw_sys(env, ENOMEM, "mmap");

  bool owns_fd = fd_mode != FD_BORROW;
  if (fd_mode == FD_DUP) {
    int copy = -1;
    int err = mm_dup(fd, &copy);
    if (err) return throw_sys(env, err, "dup");
    fd = copy;
  }
  out[0] = owns_fd ? fd : -1;

  void *addr = NULL;
  int err = mm_map(fd, (uint64_t)length, prot, flags, offset, &addr);
  if (err) {
    if (owns_fd) close(fd); /* what the mapping would have owned dies with the attempt */
    return throw_sys(env, err, "mmap");
  }

  mapping *m = calloc(1, sizeof *m);
  if (m == NULL) {
    mm_unmap(addr, (uint64_t)length);
    if (owns_fd) close(fd);
    return throw_sys(env, ENOMEM, "mmap");
  }
  m->addr = addr;
  m->length = (uint64_t)length;
  m->fd = owns_fd ? fd : -1;
  m->prot = prot;
  m->flags = flags;
  m->offset = offset;
  m->refs = 1;
  atomic_fetch_add(&live_mappings, 1);
  m->guard = guard_add(addr, (uint64_t)length);

  /* The handle is a plain object wrapping the mapping: unmap() unwraps it, so a closed map
   * leaves no finalizer behind for the event loop to run. */
  napi_value handle;
  if (napi_create_object(env, &handle) != napi_ok ||
      napi_wrap(env, handle, m, finalize_handle, NULL, NULL) != napi_ok) {
    unmap_now(m); /* closes an owned descriptor too */
    free(m);
    return throw_internal(env, "memmap: could not create a mapping handle");
  }
  return handle;
}

/* unmap(handle): unmap now, or as soon as in-flight syncs settle. The caller has detached
 * every ArrayBuffer over the mapping. */
static napi_value js_unmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  mapping *m = get_mapping(env, argv[0]);
  if (m == NULL) return NULL;
  if (m->busy > 0) {
    m->unmap_requested = true;
  } else {
    unmap_now(m);
  }
  /* The handle is done with: drop its reference now instead of in a finalizer. */
  void *data = NULL;
  if (napi_remove_wrap(env, argv[0], &data) == napi_ok) release(env, m);
  return NULL;
}

/* remap(handle, newLength): grow or shrink the mapping in place or by moving it. The caller
 * has detached every ArrayBuffer over it. On failure nothing has changed. */
static napi_value js_remap(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t new_length;
  if (!get_args(env, info, 2, argv) || !get_i64(env, argv[1], &new_length)) return NULL;
  mapping *m = get_mapping(env, argv[0]);
  if (m == NULL) return NULL;
  if (m->addr == NULL || m->unmap_requested) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return NULL;
  }
  if (m->busy > 0) return throw_sys(env, EBUSY, "mremap");
  if (new_length <= 0) return throw_sys(env, EINVAL, "mremap");
  void *addr = NULL;
  /* The guard keeps covering the old range while it is copied from (a truncated file could
   * fault there) and covers the new one afterwards. */
  int err = mm_remap(m->addr, m->length, (uint64_t)new_length, m->fd, m->prot, m->flags,
                     m->offset, &addr);
  if (err == 0) {
    guard_remove(m->guard);
    m->addr = addr;
    m->length = (uint64_t)new_length;
    m->guard = guard_add(m->addr, m->length);
  }
  if (err) return throw_sys(env, err, "mremap");
  return NULL;
}

/* buffer(handle, offset, length) -> ArrayBuffer over that part of the mapping (zero-copy). */
static napi_value js_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t offset, length;
  mapping *m = get_range(env, info, 3, argv, &offset, &length);
  if (m == NULL) return NULL;
  if (length == 0) return throw_internal(env, "memmap: empty buffer requested");

  napi_value ab;
  if (napi_create_external_arraybuffer(env, m->addr + offset, (size_t)length, finalize_buffer, m,
                                       &ab) != napi_ok)
    return throw_internal(env, "memmap: could not create an ArrayBuffer over the mapping");
  m->refs++;
  return ab;
}

/* detach(arrayBuffer): views over it then read as length 0. */
static napi_value js_detach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool detached = false;
  if (napi_is_detached_arraybuffer(env, argv[0], &detached) != napi_ok)
    return throw_internal(env, "memmap: expected an ArrayBuffer");
  if (!detached && napi_detach_arraybuffer(env, argv[0]) != napi_ok)
    return throw_internal(env, "memmap: could not detach an ArrayBuffer over the mapping");
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* msync, madvise, mlock, mincore */



static napi_value js_sync(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t offset, length;
  int32_t flags;
  mapping *m = get_range(env, info, 4, argv, &offset, &length);
  if (m == NULL || !get_i32(env, argv[3], &flags)) return NULL;
  int err = mm_sync(m->addr + offset, (uint64_t)length, flags);
  if (err) return throw_sys(env, err, "msync");
  return NULL;
}

typedef struct sync_work {
  napi_async_work work;
  napi_deferred deferred;
  mapping *m;
  uint8_t *addr;
  uint64_t length;
  int flags;
  int err;
} sync_work;

static void sync_execute(napi_env env, void *data) {
  sync_work *w = (sync_work *)data;
  w->err = mm_sync(w->addr, w->length, w->flags);
}

static void sync_complete(napi_env env, napi_status status, void *data) {
  sync_work *w = (sync_work *)data;
  mapping *m = w->m;
  m->busy--;
  if (m->busy == 0 && m->unmap_requested) unmap_now(m);
  if (w->err == 0 && status == napi_ok) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, w->deferred, undefined);
  } else {
    int err = w->err ? w->err : ECANCELED;
    throw_sys(env, err, "msync");
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, w->deferred, error);
  }
  napi_delete_async_work(env, w->work);
  free(w);
  release(env, m);
}

/* syncAsync(handle, offset, length, flags) -> Promise: msync on the thread pool. The mapping
 * stays mapped until the promise settles, even if close() is called meanwhile. */
static napi_value js_sync_async(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t offset, length;
  int32_t flags;
  mapping *m = get_range(env, info, 4, argv, &offset, &length);
  if (m == NULL || !get_i32(env, argv[3], &flags)) return NULL;
  if (m->unmap_requested) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return NULL;
  }

  sync_work *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_sys(env, ENOMEM, "msync");
  w->m = m;
  w->addr = m->addr + offset;
  w->length = (uint64_t)length;
  w->flags = flags;

  napi_value promise, name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "memmap:flushAsync", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, sync_execute, sync_complete, w, &w->work) !=
          napi_ok) {
    free(w);
    return throw_internal(env, "memmap: could not start an asynchronous flush");
  }
  if (napi_queue_async_work(env, w->work) != napi_ok) {
    napi_delete_async_work(env, w->work);
    free(w);
    return throw_internal(env, "memmap: could not queue an asynchronous flush");
  }
  m->refs++;
  m->busy++;
  return promise;
}

static napi_value js_advise(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t offset, length;
  int32_t advice;
  mapping *m = get_range(env, info, 4, argv, &offset, &length);
  if (m == NULL || !get_i32(env, argv[3], &advice)) return NULL;
  int err = mm_advise(m->addr + offset, (uint64_t)length, advice);
  if (err) return throw_sys(env, err, "madvise");
  return NULL;
}

static napi_value js_lock(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t offset, length;
  bool lock = false;
  mapping *m = get_range(env, info, 4, argv, &offset, &length);
  if (m == NULL) return NULL;
  napi_get_value_bool(env, argv[3], &lock);
  int err = mm_lock(m->addr + offset, (uint64_t)length, lock);
  if (err) return throw_sys(env, err, lock ? "mlock" : "munlock");
  return NULL;
}

/* residency(handle, offset, length, out) fills out (one byte per page, 1 = resident).
 * offset is page-aligned by the caller. */
static napi_value js_residency(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int64_t offset, length;
  mapping *m = get_range(env, info, 4, argv, &offset, &length);
  if (m == NULL) return NULL;
  void *out = NULL;
  size_t out_length = 0;
  if (napi_get_typedarray_info(env, argv[3], NULL, &out_length, &out, NULL, NULL) != napi_ok)
    return throw_internal(env, "memmap: expected a Uint8Array");
  int64_t page = mm_page_size();
  if ((uint64_t)out_length < ((uint64_t)length + (uint64_t)page - 1) / (uint64_t)page)
    return throw_internal(env, "memmap: residency buffer too small");
  int err = mm_residency(m->addr + offset, (uint64_t)length, out);
  if (err) return throw_sys(env, err, "mincore");
  unsigned char *bytes = out;
  for (size_t i = 0; i < out_length; i++) bytes[i] &= 1;
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* descriptors and names */

static napi_value js_memory_file(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t size;
  char name[64];
  if (!get_args(env, info, 2, argv) || !get_i64(env, argv[1], &size)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, NULL) != napi_ok)
    return throw_internal(env, "memmap: expected a string");
  int fd = -1;
  int err = mm_memory_file(name, (uint64_t)size, &fd);
  if (err) return throw_sys(env, err, "memfd_create");
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* fileSize(fd, regularOnly) -> st_size; with regularOnly, -1 for anything but a regular file
 * and -2 when fstat fails (the constructor's check, which CPython skips in both cases);
 * without it, a failure throws. Descriptors are used as the OS numbers them: runtimes whose
 * fs module keeps its own table of descriptors (Deno) would refuse a dup or a memory file. */
static napi_value js_file_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  bool regular_only = false;
  if (!get_args(env, info, 2, argv) || !get_i32(env, argv[0], &fd)) return NULL;
  napi_get_value_bool(env, argv[1], &regular_only);
  int64_t size = 0;
  int regular = 0;
  int err = mm_file_size(fd, &size, &regular);
  if (err && !regular_only) return throw_sys(env, err, "fstat");
  if (regular_only && (err || !regular)) size = err ? -2 : -1;
  napi_value out;
  napi_create_double(env, (double)size, &out);
  return out;
}

/* truncate(fd, size): ftruncate. */
static napi_value js_truncate(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  int64_t size;
  if (!get_args(env, info, 2, argv) || !get_i32(env, argv[0], &fd) || !get_i64(env, argv[1], &size))
    return NULL;
  int err = mm_truncate(fd, size);
  if (err) return throw_sys(env, err, "ftruncate");
  return NULL;
}

static napi_value js_dup(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_i32(env, argv[0], &fd)) return NULL;
  int out_fd = -1;
  int err = mm_dup(fd, &out_fd);
  if (err) return throw_sys(env, err, "dup");
  napi_value out;
  napi_create_int32(env, out_fd, &out);
  return out;
}

static napi_value js_set_name(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char name[96];
  if (!get_args(env, info, 2, argv)) return NULL;
  mapping *m = get_mapping(env, argv[0]);
  if (m == NULL || !in_range(env, m, 0, 0)) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, NULL) != napi_ok)
    return throw_internal(env, "memmap: expected a string");
  int err = mm_set_name(m->addr, m->length, name);
  if (err) return throw_sys(env, err, "prctl");
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* the SIGBUS guard (see guard.h) */

/* reinstallGuard(): called when JavaScript adds or removes a SIGBUS listener (libuv then
 * replaces or resets the process's SIGBUS handler). */
static napi_value js_reinstall_guard(napi_env env, napi_callback_info info) {
  guard_install();
  return NULL;
}

/* faults(handle) -> how many pages of this mapping were replaced by zeros after a SIGBUS. */
static napi_value js_faults(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  mapping *m = get_mapping(env, argv[0]);
  if (m == NULL) return NULL;
  napi_value out;
  napi_create_double(env, (double)guard_faults(m->guard), &out);
  return out;
}

/* ---------------------------------------------------------------------------------------- */

static bool set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok &&
         napi_set_named_property(env, obj, name, v) == napi_ok;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor fns[] = {
    {"map", NULL, js_map, NULL, NULL, NULL, napi_default, NULL},
    {"unmap", NULL, js_unmap, NULL, NULL, NULL, napi_default, NULL},
    {"remap", NULL, js_remap, NULL, NULL, NULL, napi_default, NULL},
    {"buffer", NULL, js_buffer, NULL, NULL, NULL, napi_default, NULL},
    {"detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL},
    {"sync", NULL, js_sync, NULL, NULL, NULL, napi_default, NULL},
    {"syncAsync", NULL, js_sync_async, NULL, NULL, NULL, napi_default, NULL},
    {"advise", NULL, js_advise, NULL, NULL, NULL, napi_default, NULL},
    {"lock", NULL, js_lock, NULL, NULL, NULL, napi_default, NULL},
    {"residency", NULL, js_residency, NULL, NULL, NULL, napi_default, NULL},
    {"memoryFile", NULL, js_memory_file, NULL, NULL, NULL, napi_default, NULL},
    {"dup", NULL, js_dup, NULL, NULL, NULL, napi_default, NULL},
    {"fileSize", NULL, js_file_size, NULL, NULL, NULL, napi_default, NULL},
    {"truncate", NULL, js_truncate, NULL, NULL, NULL, napi_default, NULL},
    {"setName", NULL, js_set_name, NULL, NULL, NULL, napi_default, NULL},
    {"faults", NULL, js_faults, NULL, NULL, NULL, napi_default, NULL},
    {"reinstallGuard", NULL, js_reinstall_guard, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK_NAPI(napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns));

  napi_value constants;
  CHECK_NAPI(napi_create_object(env, &constants));
  for (const mm_constant *c = mm_constants; c->name != NULL; c++)
    if (!set_number(env, constants, c->name, (double)c->value)) return NULL;
  if (!set_number(env, constants, "PAGESIZE", (double)mm_page_size()) ||
      !set_number(env, constants, "ALLOCATIONGRANULARITY", (double)mm_allocation_granularity()))
    return NULL;
  CHECK_NAPI(napi_set_named_property(env, exports, "constants", constants));

  /* The guard's fault counter, readable from JavaScript without a native call. */
  napi_value counter;
  CHECK_NAPI(napi_create_external_arraybuffer(env, guard_fault_counter(), sizeof(int32_t), NULL,
                                              NULL, &counter));
  CHECK_NAPI(napi_set_named_property(env, exports, "faultCounter", counter));
  guard_install();
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
