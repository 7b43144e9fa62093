/*
 * The guard's fault handler on POSIX (Linux, macOS): a SIGBUS handler (sigaction with
 * SA_SIGINFO) that finds the faulting address in guard.c's table and maps private zero pages
 * there with mmap(MAP_FIXED). Everything else goes to the handler that was there before.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

static atomic_flag installed = ATOMIC_FLAG_INIT;
static struct sigaction previous;
/* libuv's handler, when the guard chains to it (see guard_install_over_runtime). */
static void (*_Atomic runtime_handler)(int);
/* guard_install runs on any thread (each environment that loads the addon, memmap's watcher
 * thread): one at a time, so `previous` is never half-written by two of them. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static long page_size;

/* Passes a SIGBUS that is not ours to whoever had the signal before us, keeping the guard. */
static void forward(int sig, siginfo_t *info, void *context) {
  struct sigaction before = previous;
  if (before.sa_flags & SA_SIGINFO) {
    if (before.sa_sigaction != NULL) {
      before.sa_sigaction(sig, info, context);
      return;
    }
  } else if (before.sa_handler == SIG_IGN) {
    if (info->si_code <= 0) return; /* a kill() the owner chose to ignore */
  } else if (before.sa_handler != SIG_DFL && before.sa_handler != NULL) {
    /* libuv's handler only queues the signal for JavaScript listeners: given a fault, it would
     * return, the access would fault again, and the process would spin forever. A fault goes
     * to the default action instead, as it would have without listeners. */
    if (info->si_code <= 0 || before.sa_handler != atomic_load(&runtime_handler)) {
      before.sa_handler(sig);
      return;
    }
  }
  /* The default action (an ignored real fault cannot be ignored either): die of the signal. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGBUS, &dfl, NULL);
  if (info->si_code <= 0) raise(sig); /* sent by kill(): returning would not repeat it */
  /* a real fault: returning re-runs the access, which now ends the process */
}

/* guard_rescue's way of putting zeros over [addr, addr + length): one private anonymous
 * mapping in place of whatever was there (MAP_FIXED replaces it atomically, so nothing else
 * can take the addresses in between). */
static guard_zero_result map_zeros(void *addr, uint64_t length) {
  void *p = mmap(addr, (size_t)length, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  return p == addr ? GUARD_ZEROED : GUARD_UNCHANGED;
}

/* A fault past the end of a file (BUS_ADRERR). A memory error (BUS_MCEERR_*) is no vanished
 * page: zeros would hide it, and on a page already replaced it would repeat forever. */
static bool vanished(const siginfo_t *info) {
#ifdef BUS_MCEERR_AR
  if (info->si_code == BUS_MCEERR_AR || info->si_code == BUS_MCEERR_AO) return false;
#endif
  return info->si_code > 0;
}

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  uintptr_t address = (uintptr_t)info->si_addr;
  guard_range *range = vanished(info) ? guard_lookup(address) : NULL;
  if (range != NULL) {
    uintptr_t start = guard_start(range);
    /* A fault means the page at `address` is past the end of the file, so every later page
     * is too: the zeros go from that page to the end of the range, in one mmap (rescuing page
     * by page would split the mapping at each fault until vm.max_map_count is reached). They
     * stop at an earlier rescued region instead of covering it again, so what was written
     * there stays, and the new region merges with it. The faulting access then runs again,
     * on the zero page. */
    uint64_t page = (uint64_t)page_size;
    if (start != 0 && address >= start &&
        guard_rescue(range, start, (uint64_t)(address - start) & ~(page - 1), page, map_zeros))
      return;
  }
  forward(sig, info, context);
}

static void install_locked(void) {
  if (!atomic_flag_test_and_set(&installed)) page_size = sysconf(_SC_PAGESIZE);
  struct sigaction current;
  if (sigaction(SIGBUS, NULL, &current) != 0) return;
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigbus) return;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  /* A handler installed after us (libuv's, for process.on('SIGBUS')) becomes the one we chain to.
   */
  previous = current;
  sigaction(SIGBUS, &action, NULL);
}

void guard_install(void) {
  pthread_mutex_lock(&install_lock);
  install_locked();
  pthread_mutex_unlock(&install_lock);
}

void guard_install_over_runtime(void) {
  pthread_mutex_lock(&install_lock);
  install_locked();
  struct sigaction below = previous;
  if (!(below.sa_flags & SA_SIGINFO) && below.sa_handler != SIG_DFL &&
      below.sa_handler != SIG_IGN && below.sa_handler != NULL)
    atomic_store(&runtime_handler, below.sa_handler);
  pthread_mutex_unlock(&install_lock);
}
