/*
 * The runtime's own cost of a map + close, for the short bench's "runtime alone" row: what
 * memmap must do at least, with nothing of memmap's. map(fd, owner) makes CPython's three system
 * calls for a map of the whole file (fstat, dup, mmap) and returns an external handle, with a
 * finalizer on `owner` that would release a map never closed (as memmap's Mmap has);
 * unmap(handle) deletes that finalizer and makes CPython's two (munmap, close). No argument is
 * checked: the bench passes a valid descriptor of a non-empty file.
 *
 * Built by the bench with `cc -O2 -shared` against node-api-headers (POSIX only).
 */
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  void *addr;
  size_t length;
  int fd;
  napi_ref owner;
} floor_map;

static void release(napi_env env, void *data, void *hint) {
  floor_map *m = data;
  munmap(m->addr, m->length);
  close(m->fd);
  free(m);
}

static napi_value map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], handle;
  int32_t fd = -1;
  struct stat st;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &fd);
  floor_map *m = malloc(sizeof *m);
  if (m == NULL || fstat(fd, &st) != 0) abort();
  m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  m->length = (size_t)st.st_size;
  m->addr = mmap(NULL, m->length, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  if (m->fd < 0 || m->addr == MAP_FAILED) abort();
  napi_create_external(env, m, NULL, NULL, &handle);
  napi_add_finalizer(env, argv[1], m, release, NULL, &m->owner);
  return handle;
}

static napi_value unmap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_external(env, argv[0], &data);
  floor_map *m = data;
  napi_delete_reference(env, m->owner);
  release(env, m, NULL);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor fns[] = {
      {"map", NULL, map, NULL, NULL, NULL, napi_default, NULL},
      {"unmap", NULL, unmap, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, fns);
  return exports;
}
