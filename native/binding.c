/*
 * Node-API glue: the life of a mapping and of the ArrayBuffers that expose it.
 *
 * Two objects, because memory can outlive the map that made it:
 *   - A region is an address range memmap holds. Its addresses are released (munmap) only when
 *     nothing can point into them any more: it is pinned once by the live mapping over it and once
 *     by every public ArrayBuffer (a view handed to JavaScript) until V8 frees that buffer's
 *     memory. A flushAsync() in flight keeps the mapping itself live (close() waits for it).
 *   - A mapping is what a handle stands for: the live region, the descriptor and how it was
 *     mapped. It is owned by the handle (until close(), or until the handle's owner, the Mmap,
 *     is garbage-collected) and by syncs in flight.
 *
 * close() and resize() must not free addresses a view can still reach: native code (a libuv
 * read, zlib, a hash) may hold a pointer taken from a view, and an ArrayBuffer moved with
 * transfer() escapes any list JavaScript keeps. Detaching views is no answer either: zlib
 * aborts the process when its input is detached mid-stream. So a region that is still pinned
 * when its mapping goes away is retired: zero pages replace the file in place (the file is
 * released, the addresses stay reserved and read as zeros), and the range is unmapped when its
 * last pin goes. An unpinned region is unmapped at once.
 *
 * Internal ArrayBuffers (the TypeScript layer's cache, never handed out) pin nothing: the
 * TypeScript layer detaches them before close() or resize(), and no native code ever sees them.
 *
 * All arguments arrive already validated by src/; the checks here only keep a bug in the
 * TypeScript layer from becoming memory corruption.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "platform.h"
#include "guard.h"
#include "signals.h"

#define CHECK_NAPI(call)                                                                           \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, "ERR_MMAP_INTERNAL", "memmap: Node-API call failed: " #call);          \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

typedef struct region {
  uint8_t *addr;
  uint64_t length;
  uint32_t pins;      /* the live mapping + public ArrayBuffers */
  guard_range *guard; /* this range's entry in the SIGBUS guard table, while it maps a file */
} region;

typedef struct mapping {
  region *live;        /* NULL once closed */
  int fd, prot, flags; /* fd: the descriptor the mapping owns and uses, never handed out; or -1 */
  int exposed;         /* the duplicate of fd handed out as mm.fd, or -1 */
  int64_t offset;
  uint32_t refs;        /* handle + async syncs in flight */
  uint32_t busy;        /* async syncs in flight: they pin the live region and its length */
  bool unmap_requested; /* close() came while busy: retire the region when the last sync settles */
  bool locked;          /* lock() was called: a relocation must lock the same pages again */
  bool is_private;      /* writes stay in this process: resize() keeps the file's bytes */
  napi_ref owner_ref;   /* the finalizer on the handle's owner (see "handles"), until close() */
} mapping;

/* memmap's regions alive in this process (all threads), retired ones included: each is one
 * mapping of the kernel's count. */
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

/* ---------------------------------------------------------------------------------------- */
/* handles */

/*
 * A handle stands for a key, not a pointer: a slot of this table and the slot's generation.
 * close() empties the slot and bumps its generation, so a handle used after close() (or closed
 * twice) finds nothing and is refused: it never reaches a freed mapping, nor one that reused the
 * slot. JavaScript cannot forge one.
 *
 * map(io, tagname, owner) makes one of two kinds (issue 12: the cost of map + close):
 *   - owner an object (Node, Bun): the handle is an external (napi_create_external) with no
 *     finalizer of its own, holding the key. A map never closed is released by a finalizer on
 *     the owner (the Mmap, which holds the handle to itself; src/ uses no handle once its owner
 *     may be collected), added by napi_add_finalizer; close() deletes that reference, so a
 *     closed map leaves nothing behind for the garbage collector or the event loop.
 *   - owner null (Deno): the handle is a plain object napi_wrap'ed with the key, and close()
 *     napi_remove_wrap's it. Deno needs this: its napi_delete_reference leaves the finalizer
 *     registered until the environment ends (and its externals keep a small allocation
 *     forever), so the first kind grows by ~40 bytes per closed map there; a removed wrap is
 *     deregistered. Elsewhere this kind is slower: it adds a private property per map and
 *     deletes it per close, the delete turning the handle into a dictionary-mode object
 *     (~300 ns of a ~2.6 us map + close on Node).
 * Either way the finalizer's data is the key: run after close() (a runtime that does not cancel
 * it, or that calls it at exit), it finds the slot emptied and does nothing.
 *
 * Tried and rejected: the finalizer on the external itself (Deno runs the finalizers of
 * externals only in a forced collection, so abandoned maps piled up; Node reclaims them later
 * than Mmaps too); napi_create_external's own finalizer (it stays until the external is
 * collected, after close(): a synchronous map + close loop grew by ~190 bytes a map); the
 * mapping's pointer as the external's data (a stale handle reached freed memory).
 *
 * The table is the process's (worker threads share the addon), behind a spin lock held for a
 * few loads and stores; it grows (doubling) and never shrinks.
 */
typedef struct handle_slot {
  mapping *m;    /* NULL: free */
  uintptr_t gen; /* bumped each time the slot is emptied */
  uint32_t next; /* the next free slot, while free */
} handle_slot;

#define NO_SLOT UINT32_MAX
/* A key is slot + 1 + gen * KEY_SLOTS (never 0). At most MAX_SLOTS slots (live handles). */
#if UINTPTR_MAX > 0xffffffffu
#define KEY_SLOTS ((uintptr_t)1 << 32)
#define MAX_SLOTS ((uint32_t)1 << 30)
#else
#define KEY_SLOTS ((uintptr_t)1 << 24)
#define MAX_SLOTS ((uint32_t)1 << 23)
#endif

static handle_slot *slots;
static uint32_t slot_count, slot_capacity, free_slot = NO_SLOT;
static atomic_flag slots_lock = ATOMIC_FLAG_INIT;

static void slots_acquire(void) {
  while (atomic_flag_test_and_set_explicit(&slots_lock, memory_order_acquire)) {
  }
}

static void slots_release(void) {
  atomic_flag_clear_explicit(&slots_lock, memory_order_release);
}

/* A slot for m; its key in *key. False when the table cannot grow. */
static bool slot_add(mapping *m, uintptr_t *key) {
  slots_acquire();
  uint32_t i = free_slot;
  if (i != NO_SLOT) {
    free_slot = slots[i].next;
  } else {
    if (slot_count == slot_capacity) {
      uint32_t capacity = slot_capacity ? slot_capacity * 2 : 64;
      handle_slot *grown =
          capacity > MAX_SLOTS ? NULL : realloc(slots, (size_t)capacity * sizeof *slots);
      if (grown == NULL) {
        slots_release();
        return false;
      }
      slots = grown;
      slot_capacity = capacity;
    }
    i = slot_count++;
    slots[i].gen = 0;
  }
  slots[i].m = m;
  *key = (uintptr_t)i + 1 + slots[i].gen * KEY_SLOTS;
  slots_release();
  return true;
}

/* The mapping of a live key, or NULL. take: empty the slot (its key then finds nothing). */
static mapping *slot_find(uintptr_t key, bool take) {
  mapping *m = NULL;
  if (key == 0) return NULL;
  uintptr_t i = (key - 1) % KEY_SLOTS, gen = (key - 1) / KEY_SLOTS;
  slots_acquire();
  if (i < slot_count && slots[i].m != NULL && slots[i].gen == gen) {
    m = slots[i].m;
    if (take) {
      slots[i].m = NULL;
      slots[i].gen = (slots[i].gen + 1) % (UINTPTR_MAX / KEY_SLOTS + 1);
      slots[i].next = free_slot;
      free_slot = (uint32_t)i;
    }
  }
  slots_release();
  return m;
}

/* The key a handle of either kind holds (see "handles"), or 0. take: a wrapped handle's wrap
 * is removed (close()). */
static uintptr_t handle_key(napi_env env, napi_value v, bool take) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) == napi_ok) return (uintptr_t)data;
  if ((take ? napi_remove_wrap(env, v, &data) : napi_unwrap(env, v, &data)) == napi_ok)
    return (uintptr_t)data;
  return 0;
}

static mapping *get_mapping(napi_env env, napi_value v) {
  mapping *m = slot_find(handle_key(env, v, false), false);
  if (m == NULL) throw_internal(env, "memmap: expected a mapping handle");
  return m;
}

/* The calls whose first argument is a handle: reads argc arguments (argv[0], the handle, is
 * unwrapped into the result); NULL with an exception pending otherwise. */
static mapping *get_handle_args(napi_env env, napi_callback_info info, size_t argc,
                                napi_value *argv) {
  return get_args(env, info, argc, argv) ? get_mapping(env, argv[0]) : NULL;
}

/* The calls that take only a handle. */
static mapping *get_handle(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  return get_handle_args(env, info, 1, argv);
}

/* offset/length inside the live mapping, computed without overflow. */
static bool in_range(napi_env env, mapping *m, int64_t offset, int64_t length) {
  if (m->live == NULL) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return false;
  }
  uint64_t size = m->live->length;
  if (offset < 0 || length < 0 || (uint64_t)offset > size ||
      (uint64_t)length > size - (uint64_t)offset) {
    throw_internal(env, "memmap: range outside the mapping reached the native binding");
    return false;
  }
  return true;
}

/* The arguments of buffer/sync/advise/lock/residency/prefetch calls: (handle, offset, length)
 * and, for all but prefetch, one more. */
typedef struct range_call {
  mapping *m;
  uint8_t *addr; /* the live mapping's address + offset */
  uint64_t length;
  napi_value extra; /* the fourth argument */
} range_call;

/* Reads a range call's arguments (argc: 3 or 4) and checks that the range lies inside the live
 * mapping; false with an exception pending otherwise. */
static bool get_range(napi_env env, napi_callback_info info, size_t argc, range_call *call) {
  napi_value argv[4];
  int64_t offset, length;
  mapping *m = get_handle_args(env, info, argc, argv);
  if (m == NULL || !get_i64(env, argv[1], &offset) || !get_i64(env, argv[2], &length) ||
      !in_range(env, m, offset, length))
    return false;
  call->m = m;
  call->addr = m->live->addr + offset;
  call->length = (uint64_t)length;
  call->extra = argc > 3 ? argv[3] : NULL;
  return true;
}

/* get_range whose fourth argument is an int32 (msync flags, madvise advice). */
static bool get_range_i32(napi_env env, napi_callback_info info, range_call *call, int32_t *extra) {
  return get_range(env, info, 4, call) && get_i32(env, call->extra, extra);
}

/* Creates a promise and queues `execute` then `complete` on the thread pool with data; false
 * (with an exception pending, nothing queued) on failure. */
static bool queue_work(napi_env env, const char *name, napi_async_execute_callback execute,
                       napi_async_complete_callback complete, void *data, napi_async_work *work,
                       napi_deferred *deferred, napi_value *promise) {
  napi_value resource_name;
  if (napi_create_promise(env, deferred, promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, data, work) != napi_ok) {
    throw_internal(env, "memmap: could not start work on the thread pool");
    return false;
  }
  if (napi_queue_async_work(env, *work) != napi_ok) {
    napi_delete_async_work(env, *work);
    throw_internal(env, "memmap: could not queue work on the thread pool");
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------------------------------- */
/* regions: address ranges, released only when nothing can point into them */

static region *region_new(void *addr, uint64_t length) {
  region *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->addr = addr;
  r->length = length;
  r->pins = 1;
  r->guard = guard_add(addr, length);
  atomic_fetch_add(&live_mappings, 1);
  return r;
}

static void region_unpin(region *r) {
  if (--r->pins > 0) return;
  guard_remove(r->guard);
  mm_unmap(r->addr, r->length);
  atomic_fetch_sub(&live_mappings, 1);
  free(r);
}

/* close() or resize() is done with this region: unmap it now if nothing else pins it;
 * otherwise put zero pages over it (releasing the file) and leave it to the last pin. */
static void region_retire(region *r) {
  if (r->pins > 1 && mm_zero_in_place(r->addr, r->length) == 0) {
    /* Zero pages cannot raise SIGBUS: the guard has nothing left to watch. */
    guard_remove(r->guard);
    r->guard = NULL;
  }
  /* If zero pages could not be mapped, the file stays mapped (and guarded) until the last pin
   * goes: late readers see the file's bytes, never another mapping's. */
  region_unpin(r);
}

/* ---------------------------------------------------------------------------------------- */
/* life of a mapping */

/* close(): retire the live region and close the descriptors. */
static void unmap_now(mapping *m) {
  if (m->live != NULL) {
    region_retire(m->live);
    m->live = NULL;
  }
  if (m->exposed >= 0) {
    /* Close the descriptor handed out only if it is still ours: its user may have closed it
     * (the docs allow a caller to close the descriptor it mapped from) and the process may
     * have given the number to another file since. */
    int same = 0;
    if (mm_same_file(m->fd, m->exposed, &same) == 0 && same) mm_close(m->exposed);
    m->exposed = -1;
  }
  if (m->fd >= 0) {
    mm_close(m->fd);
    m->fd = -1;
  }
}

static void release(mapping *m) {
  if (--m->refs > 0) return;
  /* No handle and no sync is left. If close() never came (the Mmap was garbage-collected),
   * views that outlive it keep reading and writing the mapping as it was: the region just loses
   * the mapping's pin and is unmapped with the last view. */
  if (m->live != NULL) {
    region_unpin(m->live);
    m->live = NULL;
  }
  unmap_now(m); /* closes the descriptors */
  free(m);
}

/* The handle's owner (or the wrapped handle) was garbage-collected without close(): data is the
 * key (see "handles"). */
static void finalize_owner(napi_env env, void *data, void *hint) {
  mapping *m = slot_find((uintptr_t)data, true);
  if (m == NULL) return; /* closed already */
  if (m->owner_ref != NULL) napi_delete_reference(env, m->owner_ref);
  m->owner_ref = NULL;
  release(m);
}

/* A public ArrayBuffer's memory was freed by V8 (the buffer, and every buffer it was
 * transferred to, is gone). */
static void finalize_view(napi_env env, void *data, void *hint) {
  region_unpin((region *)hint);
}

/* Throws one of memmap's own errors (code and message); src/errors.ts gives it its class. */
static napi_value throw_code(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

/*
 * map()'s arguments travel in one Float64Array (io), so that a map reads them with one
 * napi_get_typedarray_info instead of a Node-API call per number. src/mmap.ts names the same
 * slots (MAP_IO_*); both lists change together.
 *   in:  MAP_IN_FD         the caller's descriptor, or -1 (anonymous memory)
 *        MAP_IN_LENGTH     bytes to map (0: from offset to the end of the file)
 *        MAP_IN_OFFSET     where in the file the map starts
 *        MAP_IN_ACCESS     the access as given (MM_ACCESS_*)
 *        MAP_IN_EFFECTIVE  the access after CPython's inference from prot
 *        MAP_IN_FLAGS      mmap flags, as given
 *        MAP_IN_PROT       mmap prot, as given
 *        MAP_IN_TRACKFD    1: keep a descriptor of the file; 0: not
 *   out: MAP_OUT_FD        0 if the mapping owns a descriptor (the number stays here), -1 if not
 *        MAP_OUT_LENGTH    the length mapped
 *        MAP_OUT_PRIVATE   1 if writes stay in this process
 *        MAP_OUT_MEMFILE   1 if it is anonymous memory living in a memory file
 * Every input is an integer checked in src/ (int32, or a safe integer for length and offset);
 * the checks here only keep a bug there from reaching mmap with a value it did not mean.
 */
enum {
  MAP_IN_FD,
  MAP_IN_LENGTH,
  MAP_IN_OFFSET,
  MAP_IN_ACCESS,
  MAP_IN_EFFECTIVE,
  MAP_IN_FLAGS,
  MAP_IN_PROT,
  MAP_IN_TRACKFD,
  MAP_OUT_FD,
  MAP_OUT_LENGTH,
  MAP_OUT_PRIVATE,
  MAP_OUT_MEMFILE,
  MAP_IO_SLOTS
};

#define MAX_SAFE_INTEGER 9007199254740991.0

/* An integer slot in [lo, hi] (whole numbers only; NaN fails every compare). */
static bool slot_integer(double v, double lo, double hi, int64_t *out) {
  if (!(v >= lo && v <= hi) || v != (double)(int64_t)v) return false;
  *out = (int64_t)v;
  return true;
}

static bool slot_i32(const double *io, int slot, int32_t *out) {
  int64_t v;
  if (!slot_integer(io[slot], INT32_MIN, INT32_MAX, &v)) return false;
  *out = (int32_t)v;
  return true;
}

/* map(io, tagname, owner) -> handle: the request in io (see MAP_IN_*; the ArrayBuffer of a
 * Float64Array of MAP_IO_SLOTS, starting at its first byte), in CPython's terms (see
 * mm_request); the platform decides how to map it. tagname is a string or null (src/ passes a
 * string only where the platform takes one). What was made goes to io's MAP_OUT_* slots. owner
 * is the object whose collection releases a map never closed, or null (see "handles"). */
static napi_value js_map(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  /* The Float64Array's ArrayBuffer, not the array: napi_get_arraybuffer_info reads the data
   * pointer, where napi_get_typedarray_info goes through JSTypedArray::GetBuffer (~40 ns of a
   * map + close on Node 24). */
  double *io = NULL;
  size_t io_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], (void **)&io, &io_bytes) != napi_ok ||
      io_bytes < MAP_IO_SLOTS * sizeof(double) || (uintptr_t)io % _Alignof(double) != 0)
    return throw_internal(env, "memmap: expected the ArrayBuffer of a Float64Array");
  int32_t fd, access, effective, flags, prot, trackfd;
  int64_t length, offset;
  if (!slot_i32(io, MAP_IN_FD, &fd) || !slot_i32(io, MAP_IN_ACCESS, &access) ||
      !slot_i32(io, MAP_IN_EFFECTIVE, &effective) || !slot_i32(io, MAP_IN_FLAGS, &flags) ||
      !slot_i32(io, MAP_IN_PROT, &prot) || !slot_i32(io, MAP_IN_TRACKFD, &trackfd) ||
      !slot_integer(io[MAP_IN_LENGTH], -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER, &length) ||
      !slot_integer(io[MAP_IN_OFFSET], -MAX_SAFE_INTEGER, MAX_SAFE_INTEGER, &offset))
    return throw_internal(env, "memmap: expected a number in the native binding");
  if (length < 0 || offset < 0) return throw_sys(env, EINVAL, "mmap");

  if (!room_for_a_mapping()) return throw_sys(env, ENOMEM, "mmap");

  char tagname[512];
  napi_valuetype tag_type;
  if (napi_typeof(env, argv[1], &tag_type) != napi_ok)
    return throw_internal(env, "memmap: bad tagname");
  if (tag_type == napi_string) {
    size_t tag_length = 0;
    if (napi_get_value_string_utf8(env, argv[1], tagname, sizeof tagname, &tag_length) != napi_ok)
      return throw_internal(env, "memmap: expected a string");
    if (tag_length >= sizeof tagname - 1) return throw_sys(env, ENAMETOOLONG, "mmap");
  }
  mm_request req = {fd,     (uint64_t)length, offset,
                    access, effective,        flags,
                    prot,   trackfd != 0,     tag_type == napi_string ? tagname : NULL};
  mm_opened opened;
  mm_failure failure;
  if (mm_open(&req, &opened, &failure) != 0) {
    return failure.err ? throw_sys(env, failure.err, failure.syscall)
                       : throw_code(env, failure.code, failure.message);
  }

  mapping *m = calloc(1, sizeof *m);
  region *r = m == NULL ? NULL : region_new(opened.addr, opened.length);
  if (r == NULL) {
    free(m);
    mm_unmap(opened.addr, opened.length);
    if (opened.fd >= 0) mm_close(opened.fd);
    return throw_sys(env, ENOMEM, "mmap");
  }
  m->live = r;
  m->fd = opened.fd;
  m->exposed = -1;
  m->prot = opened.prot;
  m->flags = opened.flags;
  m->offset = offset;
  m->is_private = opened.is_private;
  m->refs = 1;
  io[MAP_OUT_FD] = opened.fd >= 0 ? 0 : -1; /* the number itself stays here */
  io[MAP_OUT_LENGTH] = (double)opened.length;
  io[MAP_OUT_PRIVATE] = opened.is_private;
  io[MAP_OUT_MEMFILE] = opened.memory_file;

  /* The handle, of the kind the owner asks for (see "handles"). */
  napi_value handle;
  uintptr_t key = 0;
  napi_valuetype owner_type;
  if (!slot_add(m, &key)) {
    unmap_now(m); /* closes an owned descriptor too */
    free(m);
    return throw_sys(env, ENOMEM, "mmap");
  }
  napi_status status = napi_typeof(env, argv[2], &owner_type);
  if (status == napi_ok && owner_type == napi_null) {
    status = napi_create_object(env, &handle);
    if (status == napi_ok) status = napi_wrap(env, handle, (void *)key, finalize_owner, NULL, NULL);
  } else if (status == napi_ok) {
    status = napi_create_external(env, (void *)key, NULL, NULL, &handle);
    if (status == napi_ok)
      status = napi_add_finalizer(env, argv[2], (void *)key, finalize_owner, NULL, &m->owner_ref);
  }
  if (status != napi_ok) {
    slot_find(key, true);
    unmap_now(m);
    free(m);
    return throw_internal(env, "memmap: could not create a mapping handle");
  }
  return handle;
}

/* unmap(handle): close the mapping now, or as soon as in-flight syncs settle. The caller has
 * detached its internal ArrayBuffers; public ones keep the region reserved (zero pages).
 * The handle is done with: its slot is emptied (a second unmap() of it, or any later call,
 * finds no mapping) and its finalizer is deleted (the owner's reference, or the handle's wrap),
 * so it leaves nothing behind. */
static napi_value js_unmap(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  mapping *m = slot_find(handle_key(env, argv[0], true), true);
  if (m == NULL) return throw_internal(env, "memmap: expected a mapping handle");
  if (m->busy > 0) {
    m->unmap_requested = true;
  } else {
    unmap_now(m);
  }
  if (m->owner_ref != NULL) napi_delete_reference(env, m->owner_ref);
  m->owner_ref = NULL;
  release(m);
  return NULL;
}

/* The mapping's part of resize() (mm_remap_fn). The caller has detached its internal
 * ArrayBuffers. With no public ArrayBuffer over the region, it is resized in place or moved
 * (mremap). Otherwise views may still point into it, so the mapping moves to a new region (the
 * file mapped again, or private bytes moved or copied) and the old one is retired: its views
 * read zeros from then on. On failure nothing has changed. */
static int remap_mapping(void *ctx, uint64_t new_length, const char **syscall) {
  mapping *m = (mapping *)ctx;
  region *r = m->live;
  void *addr = NULL;
  *syscall = "mremap";
  /* The guard keeps covering the old range while it is copied from (a truncated file could
   * fault there) and covers the new one afterwards. */
  if (r->pins == 1) {
    int err = mm_remap(r->addr, r->length, new_length, m->fd, m->prot, m->flags, m->offset, &addr);
    if (err) return err;
    guard_remove(r->guard);
    r->addr = addr;
    r->length = new_length;
    r->guard = guard_add(r->addr, r->length);
    return 0;
  }
  if (!room_for_a_mapping()) return ENOMEM;
  int err = mm_relocate(r->addr, r->length, new_length, m->fd, m->prot, m->flags, m->offset, &addr);
  if (err) return err;
  region *moved = region_new(addr, new_length);
  if (moved == NULL) {
    mm_unmap(addr, new_length);
    return ENOMEM;
  }
  if (m->locked) mm_copy_locks(r->addr, r->length, addr, new_length);
  m->live = moved;
  region_retire(r);
  return 0;
}

/* resize(handle, newLength): the mapping becomes newLength long and its file ends at
 * offset + newLength; the platform orders the two (mm_resize). On failure nothing changed. */
static napi_value js_resize(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t new_length;
  mapping *m = get_handle_args(env, info, 2, argv);
  if (m == NULL || !get_i64(env, argv[1], &new_length)) return NULL;
  if (m->live == NULL || m->unmap_requested) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return NULL;
  }
  if (m->busy > 0) return throw_sys(env, EBUSY, "mremap");
  if (new_length <= 0) return throw_sys(env, EINVAL, "mremap");
  const char *syscall = "mremap";
  int err = mm_resize(m->fd, m->offset, m->live->length, (uint64_t)new_length, m->is_private,
                      remap_mapping, m, &syscall);
  if (err) return throw_sys(env, err, syscall);
  return NULL;
}

/* buffer(handle, offset, length, public) -> ArrayBuffer over that part of the mapping
 * (zero-copy). A public buffer (a view for JavaScript) pins the region until V8 frees it; an
 * internal one pins nothing and must be detached before the region is unmapped or moved. */
static napi_value js_buffer(napi_env env, napi_callback_info info) {
  range_call call;
  if (!get_range(env, info, 4, &call)) return NULL;
  if (call.length == 0) return throw_internal(env, "memmap: empty buffer requested");
  bool is_public = false;
  if (napi_get_value_bool(env, call.extra, &is_public) != napi_ok)
    return throw_internal(env, "memmap: expected a boolean in the native binding");

  region *r = call.m->live;
  napi_value ab;
  if (napi_create_external_arraybuffer(env, call.addr, (size_t)call.length,
                                       is_public ? finalize_view : NULL, is_public ? r : NULL,
                                       &ab) != napi_ok)
    return throw_internal(env, "memmap: could not create an ArrayBuffer over the mapping");
  if (is_public) r->pins++;
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
  range_call call;
  int32_t flags;
  if (!get_range_i32(env, info, &call, &flags)) return NULL;
  int err = mm_sync(call.addr, call.length, flags, call.m->fd);
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
  int fd; /* the mapping's, open until the work settles (close() waits for it) */
  int err;
} sync_work;

static void sync_execute(napi_env env, void *data) {
  sync_work *w = (sync_work *)data;
  w->err = mm_sync(w->addr, w->length, w->flags, w->fd);
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
  release(m);
}

/* syncAsync(handle, offset, length, flags) -> Promise: msync on the thread pool. The mapping
 * stays mapped until the promise settles, even if close() is called meanwhile. */
static napi_value js_sync_async(napi_env env, napi_callback_info info) {
  range_call call;
  int32_t flags;
  if (!get_range_i32(env, info, &call, &flags)) return NULL;
  mapping *m = call.m;
  if (m->unmap_requested) {
    napi_throw_error(env, "ERR_MMAP_CLOSED", "mmap closed or invalid");
    return NULL;
  }

  sync_work *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_sys(env, ENOMEM, "msync");
  w->m = m;
  w->addr = call.addr;
  w->length = call.length;
  w->flags = flags;
  w->fd = m->fd;

  napi_value promise;
  if (!queue_work(env, "memmap:flushAsync", sync_execute, sync_complete, w, &w->work, &w->deferred,
                  &promise)) {
    free(w);
    return NULL;
  }
  m->refs++;
  m->busy++;
  return promise;
}

static napi_value js_advise(napi_env env, napi_callback_info info) {
  range_call call;
  int32_t advice;
  if (!get_range_i32(env, info, &call, &advice)) return NULL;
  if (!mm_advice_allowed(advice)) {
    char message[128];
    snprintf(message, sizeof message,
             "madvise option %d is not supported: only advice that cannot make the map's pages "
             "fault is passed on",
             (int)advice);
    return throw_code(env, "ERR_INVALID_ARG_VALUE", message);
  }
  int err = mm_advise(call.addr, call.length, advice);
  if (err) return throw_sys(env, err, "madvise");
  return NULL;
}

static napi_value js_lock(napi_env env, napi_callback_info info) {
  range_call call;
  bool lock = false;
  if (!get_range(env, info, 4, &call)) return NULL;
  napi_get_value_bool(env, call.extra, &lock);
  int err = mm_lock(call.addr, call.length, lock);
  if (err == 0 && lock) call.m->locked = true;
  if (err) return throw_sys(env, err, lock ? "mlock" : "munlock");
  return NULL;
}

/* residency(handle, offset, length, out) fills out (one byte per page, 1 = resident).
 * offset is page-aligned by the caller. */
static napi_value js_residency(napi_env env, napi_callback_info info) {
  range_call call;
  if (!get_range(env, info, 4, &call)) return NULL;
  void *out = NULL;
  size_t out_length = 0;
  if (napi_get_typedarray_info(env, call.extra, NULL, &out_length, &out, NULL, NULL) != napi_ok)
    return throw_internal(env, "memmap: expected a Uint8Array");
  uint64_t page = (uint64_t)mm_page_size();
  if ((uint64_t)out_length < (call.length + page - 1) / page)
    return throw_internal(env, "memmap: residency buffer too small");
  int err = mm_residency(call.addr, call.length, out);
  if (err) return throw_sys(env, err, "mincore");
  unsigned char *bytes = out;
  for (size_t i = 0; i < out_length; i++) bytes[i] &= 1;
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* waiting on a word of the map (futex), and prefetch */

/* The word at offset of the live mapping, 4-byte aligned and inside it (checked in src/ too). */
static uint32_t *word_at(napi_env env, mapping *m, int64_t offset) {
  if (!in_range(env, m, offset, 4)) return NULL;
  if (offset % 4 != 0) {
    throw_internal(env, "memmap: unaligned word reached the native binding");
    return NULL;
  }
  return (uint32_t *)(m->live->addr + offset);
}

/* timeout in milliseconds (a double; negative: no limit) -> nanoseconds (-1: no limit). */
static int64_t timeout_ns(double ms) {
  if (ms < 0) return -1;
  double ns = ms * 1e6;
  return ns >= 4e18 ? -1 : (int64_t)ns;
}

/* The arguments of wait/waitAsync: (handle, offset, expected, timeoutMs[, cancel]). */
typedef struct wait_call {
  mapping *m;
  uint32_t *word;
  uint32_t expected;
  int64_t ns; /* the timeout (-1: none) */
} wait_call;

/* Reads them (argc: 4 or 5, into argv); false with an exception pending otherwise. */
static bool get_wait_args(napi_env env, napi_callback_info info, size_t argc, napi_value *argv,
                          wait_call *call) {
  int64_t offset;
  double ms;
  mapping *m = get_handle_args(env, info, argc, argv);
  if (m == NULL || !get_i64(env, argv[1], &offset)) return false;
  if (napi_get_value_uint32(env, argv[2], &call->expected) != napi_ok ||
      napi_get_value_double(env, argv[3], &ms) != napi_ok) {
    throw_internal(env, "memmap: expected a number in the native binding");
    return false;
  }
  call->m = m;
  call->ns = timeout_ns(ms);
  call->word = word_at(env, m, offset);
  return call->word != NULL;
}

/* A wait that a signal interrupted resumes with what is left of its timeout. */
static int wait_word(uint32_t *word, uint32_t expected, int64_t ns, int *result) {
  int64_t deadline = ns < 0 ? -1 : mm_now_ns() + ns;
  for (;;) {
    int err = mm_wait(word, expected, ns, result);
    if (err != EINTR) return err;
    if (deadline >= 0) {
      ns = deadline - mm_now_ns();
      if (ns <= 0) {
        *result = 2;
        return 0;
      }
    }
  }
}

/* wait(handle, offset, expected, timeoutMs) -> 0 woken, 1 not equal, 2 timed out. Blocks the
 * calling thread, as Atomics.wait does. */
static napi_value js_wait(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  wait_call call;
  if (!get_wait_args(env, info, 4, argv, &call)) return NULL;
  int result = 0;
  int err = wait_word(call.word, call.expected, call.ns, &result);
  if (err) return throw_sys(env, err, "futex");
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

/* notify(handle, offset, count) -> how many waiters were woken (in every process). */
static napi_value js_notify(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t offset;
  int32_t count;
  mapping *m = get_handle_args(env, info, 3, argv);
  if (m == NULL || !get_i64(env, argv[1], &offset) || !get_i32(env, argv[2], &count)) return NULL;
  uint32_t *word = word_at(env, m, offset);
  if (word == NULL) return NULL;
  int woken = 0;
  int err = mm_wake(word, count, &woken);
  if (err) return throw_sys(env, err, "futex");
  napi_value out;
  napi_create_int32(env, woken, &out);
  return out;
}

/* An async wait sleeps in slices this long, so that a cancel (close()) whose wake-up came
 * before it went to sleep is seen within a slice. */
#define WAIT_SLICE_NS 50000000LL

/*
 * waitAsync() runs on a thread of its own, not on libuv's pool: a wait may last forever, and a
 * pool thread held that long starves fs and zlib; worse, a worker's teardown waits for pool work
 * to finish before it runs cleanup hooks, so worker.terminate() would hang on a pending wait.
 * The thread hands its result back through a thread-safe function; an environment cleanup hook
 * stops it (and joins it) when the environment is torn down.
 */
typedef struct wait_work {
  napi_threadsafe_function tsfn;
  napi_deferred deferred;
  napi_ref cancel_ref; /* the Int32Array the cancel flag lives in, kept alive while waiting */
  int32_t *cancel;     /* cancel[0] != 0: the map was closed; stop waiting */
  int stopping;        /* the environment is being torn down; stop waiting */
  pthread_t thread;
  bool joined;
  region *r; /* pinned while waiting: its addresses stay reserved */
  uint32_t *word;
  uint32_t expected;
  int64_t ns;
  int result; /* 0 woken, 1 not equal, 2 timed out, 3 cancelled */
  int err;
} wait_work;

static bool wait_cancelled(wait_work *w) {
  return __atomic_load_n(w->cancel, __ATOMIC_SEQ_CST) != 0 ||
         __atomic_load_n(&w->stopping, __ATOMIC_SEQ_CST) != 0;
}

static void wait_execute(wait_work *w) {
  int64_t deadline = w->ns < 0 ? -1 : mm_now_ns() + w->ns;
  bool slept = false;
  for (;;) {
    if (wait_cancelled(w)) {
      w->result = 3;
      return;
    }
    int64_t left = deadline < 0 ? WAIT_SLICE_NS : deadline - mm_now_ns();
    if (left <= 0) {
      w->result = 2;
      return;
    }
    bool last = deadline >= 0 && left <= WAIT_SLICE_NS;
    int result = 0;
    int err = mm_wait(w->word, w->expected, last ? left : WAIT_SLICE_NS, &result);
    if (err == EINTR) continue;
    if (err) {
      w->err = err;
      return;
    }
    if (result == 2 && !last) {
      slept = true;
      continue;
    }
    /* The word changed between two slices: it was written while we waited, which is what a
     * notify() would have told us. */
    w->result = result == 1 && slept ? 0 : result;
    if (wait_cancelled(w)) w->result = 3;
    return;
  }
}

static void *wait_thread(void *data) {
  wait_work *w = (wait_work *)data;
  wait_execute(w);
  napi_threadsafe_function tsfn = w->tsfn; /* w belongs to the JavaScript thread from here */
  napi_call_threadsafe_function(tsfn, w, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
  return NULL;
}

static void wait_join(wait_work *w) {
  if (!w->joined) {
    pthread_join(w->thread, NULL);
    w->joined = true;
  }
}

/* The environment is being torn down (worker.terminate(), process exit) with the wait pending:
 * stop the thread and wait for it, so it has handed its result over before the thread-safe
 * function is finalized. */
static void wait_env_cleanup(void *data) {
  wait_work *w = (wait_work *)data;
  __atomic_store_n(&w->stopping, 1, __ATOMIC_SEQ_CST);
  int woken = 0;
  mm_wake(w->word, 0x7fffffff, &woken);
  wait_join(w);
}

/* On the JavaScript thread: settle the promise and free the wait. env is NULL when the
 * environment is being torn down (then only memory is released). */
static void wait_settle(napi_env env, napi_value js_cb, void *context, void *data) {
  wait_work *w = (wait_work *)data;
  wait_join(w);
  region_unpin(w->r);
  if (env != NULL) {
    napi_remove_env_cleanup_hook(env, wait_env_cleanup, w);
    napi_delete_reference(env, w->cancel_ref);
    if (w->err == 0) {
      napi_value out;
      napi_create_int32(env, w->result, &out);
      napi_resolve_deferred(env, w->deferred, out);
    } else {
      throw_sys(env, w->err, "futex");
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_reject_deferred(env, w->deferred, error);
    }
  }
  free(w);
}

/* waitAsync(handle, offset, expected, timeoutMs, cancel) -> Promise of 0/1/2/3, the wait run on
 * a thread of its own. It pins the region (close() turns it into zero pages, never frees it
 * under the waiter); close() sets cancel[0] and wakes the word. */
static napi_value js_wait_async(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  wait_call call;
  if (!get_wait_args(env, info, 5, argv, &call)) return NULL;
  napi_typedarray_type type;
  size_t length = 0;
  void *cancel = NULL;
  if (napi_get_typedarray_info(env, argv[4], &type, &length, &cancel, NULL, NULL) != napi_ok ||
      type != napi_int32_array || length < 1)
    return throw_internal(env, "memmap: expected an Int32Array");

  wait_work *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_sys(env, ENOMEM, "futex");
  w->cancel = (int32_t *)cancel;
  w->word = call.word;
  w->expected = call.expected;
  w->ns = call.ns;
  w->r = call.m->live;
  napi_value promise, name;
  if (napi_create_reference(env, argv[4], 1, &w->cancel_ref) != napi_ok) {
    free(w);
    return throw_internal(env, "memmap: could not start an asynchronous wait");
  }
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "memmap:waitAsync", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, w, wait_settle,
                                      &w->tsfn) != napi_ok) {
    napi_delete_reference(env, w->cancel_ref);
    free(w);
    return throw_internal(env, "memmap: could not start an asynchronous wait");
  }
  w->r->pins++;
  int err = pthread_create(&w->thread, NULL, wait_thread, w);
  if (err) {
    w->r->pins--;
    napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
    napi_delete_reference(env, w->cancel_ref);
    free(w);
    return throw_sys(env, err, "pthread_create");
  }
  napi_add_env_cleanup_hook(env, wait_env_cleanup, w);
  return promise;
}

typedef struct prefetch_work {
  napi_async_work work;
  napi_deferred deferred;
  region *r;
  uint8_t *addr;
  uint64_t length;
  int err;
} prefetch_work;

static void prefetch_execute(napi_env env, void *data) {
  prefetch_work *w = (prefetch_work *)data;
  w->err = mm_prefetch(w->addr, w->length);
}

static void prefetch_complete(napi_env env, napi_status status, void *data) {
  prefetch_work *w = (prefetch_work *)data;
  region_unpin(w->r);
  if (w->err == 0 && status == napi_ok) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, w->deferred, undefined);
  } else {
    throw_sys(env, w->err ? w->err : ECANCELED, "madvise");
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, w->deferred, error);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

/* prefetchAsync(handle, offset, length) -> Promise: the range made resident on the thread pool.
 * offset is page-aligned by the caller. The region is pinned meanwhile: close() cannot free the
 * addresses under it (they become zero pages, which it then touches harmlessly). */
static napi_value js_prefetch_async(napi_env env, napi_callback_info info) {
  range_call call;
  if (!get_range(env, info, 3, &call)) return NULL;
  prefetch_work *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_sys(env, ENOMEM, "madvise");
  w->r = call.m->live;
  w->addr = call.addr;
  w->length = call.length;
  napi_value promise;
  if (!queue_work(env, "memmap:prefetch", prefetch_execute, prefetch_complete, w, &w->work,
                  &w->deferred, &promise)) {
    free(w);
    return NULL;
  }
  w->r->pins++;
  return promise;
}

/* ---------------------------------------------------------------------------------------- */
/* descriptors and names */

/* fileSize(handle) -> st_size of the descriptor the mapping keeps. That descriptor is never
 * handed to JavaScript (mm.fd is a duplicate), so nothing a caller does can make this stat
 * another file. */
static napi_value js_file_size(napi_env env, napi_callback_info info) {
  mapping *m = get_handle(env, info);
  if (m == NULL) return NULL;
  int64_t size = 0;
  int regular = 0;
  int err = m->fd < 0 ? EBADF : mm_file_size(m->fd, &size, &regular);
  if (err) return throw_sys(env, err, "fstat");
  napi_value out;
  napi_create_double(env, (double)size, &out);
  return out;
}

static napi_value js_exposed_fd(napi_env env, napi_callback_info info) {
  mapping *m = get_handle(env, info);
  if (m == NULL) return NULL;
  napi_value out;
  if (m->live == NULL || m->fd < 0) {
    napi_create_int32(env, -1, &out);
    return out;
  }
  if (m->exposed >= 0) {
    int same = 0;
    if (mm_same_file(m->fd, m->exposed, &same) != 0 || !same) m->exposed = -1;
  }
  if (m->exposed < 0) {
    int err = mm_dup(m->fd, &m->exposed);
    if (err) return throw_sys(env, err, "dup");
  }
  napi_create_int32(env, m->exposed, &out);
  return out;
}

static napi_value js_set_name(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char name[96];
  mapping *m = get_handle_args(env, info, 2, argv);
  if (m == NULL || !in_range(env, m, 0, 0)) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], name, sizeof name, NULL) != napi_ok)
    return throw_internal(env, "memmap: expected a string");
  int err = mm_set_name(m->live->addr, m->live->length, name);
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
  mapping *m = get_handle(env, info);
  if (m == NULL) return NULL;
  napi_value out;
  napi_create_double(env, (double)(m->live == NULL ? 0 : guard_faults(m->live->guard)), &out);
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
      {"resize", NULL, js_resize, NULL, NULL, NULL, napi_default, NULL},
      {"buffer", NULL, js_buffer, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL},
      {"sync", NULL, js_sync, NULL, NULL, NULL, napi_default, NULL},
      {"syncAsync", NULL, js_sync_async, NULL, NULL, NULL, napi_default, NULL},
      {"advise", NULL, js_advise, NULL, NULL, NULL, napi_default, NULL},
      {"lock", NULL, js_lock, NULL, NULL, NULL, napi_default, NULL},
      {"residency", NULL, js_residency, NULL, NULL, NULL, napi_default, NULL},
      {"exposedFd", NULL, js_exposed_fd, NULL, NULL, NULL, napi_default, NULL},
      {"fileSize", NULL, js_file_size, NULL, NULL, NULL, napi_default, NULL},
      {"setName", NULL, js_set_name, NULL, NULL, NULL, napi_default, NULL},
      {"faults", NULL, js_faults, NULL, NULL, NULL, napi_default, NULL},
      {"reinstallGuard", NULL, js_reinstall_guard, NULL, NULL, NULL, napi_default, NULL},
      {"holdSigbus", NULL, signals_js_hold_sigbus, NULL, NULL, NULL, napi_default, NULL},
      {"wait", NULL, js_wait, NULL, NULL, NULL, napi_default, NULL},
      {"notify", NULL, js_notify, NULL, NULL, NULL, napi_default, NULL},
      {"waitAsync", NULL, js_wait_async, NULL, NULL, NULL, napi_default, NULL},
      {"prefetchAsync", NULL, js_prefetch_async, NULL, NULL, NULL, napi_default, NULL},
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

  /* Whether map() takes a tagname (platform.h, mm_has_tagname). */
  napi_value has_tagname;
  CHECK_NAPI(napi_get_boolean(env, mm_has_tagname != 0, &has_tagname));
  CHECK_NAPI(napi_set_named_property(env, exports, "hasTagname", has_tagname));

  /* The guard's fault counter, readable from JavaScript without a native call. */
  napi_value counter;
  CHECK_NAPI(napi_create_external_arraybuffer(env, guard_fault_counter(), sizeof(int32_t), NULL,
                                              NULL, &counter));
  CHECK_NAPI(napi_set_named_property(env, exports, "faultCounter", counter));
  guard_install();
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
