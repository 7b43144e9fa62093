/* memmap's own libuv SIGBUS watcher (see signals.h). POSIX (Linux, macOS), Node only. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include <node_api.h>

#include "guard.h"
#include "signals.h"

/* libuv's ABI as far as it is used here. Loops and handles stay opaque and are sized at run
 * time (uv_loop_size, uv_handle_size), so the headers the addon was built with need not match
 * the libuv it runs with. */
enum { UV_SIGNAL_HANDLE = 16, UV_RUN_DEFAULT_MODE = 0 }; /* UV_SIGNAL, UV_RUN_DEFAULT */
#if defined(__has_include)
#if __has_include(<uv.h>)
#include <uv.h>
_Static_assert((int)UV_SIGNAL == (int)UV_SIGNAL_HANDLE, "uv_handle_type UV_SIGNAL");
_Static_assert((int)UV_RUN_DEFAULT == (int)UV_RUN_DEFAULT_MODE, "uv_run_mode UV_RUN_DEFAULT");
#endif
#endif

typedef void (*signal_cb)(void *handle, int signum);

static struct {
  size_t (*loop_size)(void);
  size_t (*handle_size)(int type);
  int (*loop_init)(void *loop);
  int (*run)(void *loop, int mode);
  int (*signal_init)(void *loop, void *handle);
  int (*signal_start)(void *handle, signal_cb cb, int signum);
  int (*signal_stop)(void *handle);
} uv;

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static int held; /* 0: not tried yet, 1: holding, -1: not possible here */
static void *loop;
static void *watcher;

static bool resolve(void) {
#define FIND(field, name)                                                                          \
  do {                                                                                             \
    *(void **)&uv.field = dlsym(RTLD_DEFAULT, name);                                               \
    if (uv.field == NULL) return false;                                                            \
  } while (0)
  FIND(loop_size, "uv_loop_size");
  FIND(handle_size, "uv_handle_size");
  FIND(loop_init, "uv_loop_init");
  FIND(run, "uv_run");
  FIND(signal_init, "uv_signal_init");
  FIND(signal_start, "uv_signal_start");
  FIND(signal_stop, "uv_signal_stop");
#undef FIND
  return true;
}

/* Runs on the watcher's thread when libuv's handler received a SIGBUS. The guard passes libuv
 * only signals sent by kill() (a fault libuv cannot fix takes the default action instead), and
 * libuv queues each one for every watcher: memmap's, and those of JavaScript listeners. */
static void on_signal(void *handle, int signum) {
  (void)signum;
  /* Stop ours for a moment: libuv resets SIGBUS to SIG_DFL exactly when ours was the last
   * watcher, that is when no JavaScript listener anywhere received this signal. Otherwise
   * libuv leaves the handler (the guard) alone. */
  uv.signal_stop(handle);
  struct sigaction now;
  if (sigaction(SIGBUS, NULL, &now) == 0 && !(now.sa_flags & SA_SIGINFO) &&
      now.sa_handler == SIG_DFL) {
    /* Nobody listens: the default action, as without memmap (this thread blocks every signal;
     * let this one through). */
    sigset_t bus;
    sigemptyset(&bus);
    sigaddset(&bus, SIGBUS);
    pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
    raise(SIGBUS);
    pthread_sigmask(SIG_BLOCK, &bus, NULL); /* reached only if a handler appeared meanwhile */
  }
  /* Start again (libuv installs its handler if the last listener went away meanwhile), and put
   * the guard back on top in case it did. */
  uv.signal_start(handle, on_signal, SIGBUS);
  guard_install_over_runtime();
}

static void *run_loop(void *arg) {
  (void)arg;
#ifdef __APPLE__
  pthread_setname_np("memmap-sigbus"); /* macOS names only the calling thread */
#else
  pthread_setname_np(pthread_self(), "memmap-sigbus");
#endif
  uv.run(loop, UV_RUN_DEFAULT_MODE); /* returns only if the watcher could not be restarted */
  return NULL;
}

static bool hold(void) {
  if (!resolve()) return false;
  loop = calloc(1, uv.loop_size());
  watcher = calloc(1, uv.handle_size(UV_SIGNAL_HANDLE));
  if (loop == NULL || watcher == NULL || uv.loop_init(loop) != 0) {
    free(loop);
    free(watcher);
    loop = watcher = NULL;
    return false; /* nothing of libuv's is held yet */
  }
  /* From here on the loop is never closed or freed: it lives as long as the process. */
  if (uv.signal_init(loop, watcher) != 0) return false;
  /* If no listener exists yet, libuv installs its handler now, over the guard; the guard goes
   * back on top and notes that handler as libuv's. */
  if (uv.signal_start(watcher, on_signal, SIGBUS) != 0) return false;
  guard_install_over_runtime();

  /* The thread blocks every signal, so it never runs a handler meant for a JavaScript thread. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 512 * 1024);
  pthread_t thread;
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&thread, &attr, run_loop, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (err != 0) {
    /* No thread to answer kill()s: let go of the watcher (libuv resets SIGBUS if it was the
     * last one) and fall back to re-installing from JavaScript. */
    uv.signal_stop(watcher);
    guard_install();
    return false;
  }
  return true;
}

napi_value signals_js_hold_sigbus(napi_env env, napi_callback_info info) {
  pthread_mutex_lock(&hold_lock);
  if (held == 0) held = hold() ? 1 : -1;
  bool holding = held == 1;
  pthread_mutex_unlock(&hold_lock);
  napi_value out;
  if (napi_get_boolean(env, holding, &out) != napi_ok) return NULL;
  return out;
}
