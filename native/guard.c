/* The SIGBUS guard (see guard.h). POSIX: sigaction with SA_SIGINFO, and mmap with MAP_FIXED. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard.h"

/* Entries live in chunks that are linked once and never freed, so the signal handler can walk
 * them without locks while other threads add and remove ranges. */
#define CHUNK_ENTRIES 1024

struct chunk;

struct guard_range {
  _Atomic uintptr_t start; /* 0: free entry */
  _Atomic uint64_t length;
  _Atomic uint64_t faults;      /* pages replaced by zeros */
  _Atomic uint64_t zeroed_from; /* offset of the lowest page replaced by zeros; NONE: none yet */
  struct chunk *owner;
};

#define NONE UINT64_MAX

typedef struct chunk {
  struct guard_range entries[CHUNK_ENTRIES];
  _Atomic uint32_t used;
  struct chunk *_Atomic next;
} chunk;

static chunk first_chunk;
/* Where guard_add starts looking: the chunk of the last entry freed or claimed, so adding a
 * range does not walk every full chunk when tens of thousands of maps are alive. */
static chunk *_Atomic hint = &first_chunk;
static _Atomic int32_t fault_counter;
static atomic_flag installed = ATOMIC_FLAG_INIT;
static struct sigaction previous;
/* libuv's handler, when the guard chains to it (see guard_install_over_runtime). */
static void (*_Atomic runtime_handler)(int);
/* guard_install runs on any thread (each environment that loads the addon, memmap's watcher
 * thread): one at a time, so `previous` is never half-written by two of them. */
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static long page_size;

int32_t *guard_fault_counter(void) { return (int32_t *)&fault_counter; }

static struct guard_range *lookup(uintptr_t address) {
  for (chunk *c = &first_chunk; c != NULL; c = atomic_load(&c->next)) {
    for (int i = 0; i < CHUNK_ENTRIES; i++) {
      uintptr_t start = atomic_load(&c->entries[i].start);
      if (start != 0 && address >= start && address - start < atomic_load(&c->entries[i].length))
        return &c->entries[i];
    }
  }
  return NULL;
}

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

/* Replaces the page at `address` and every page after it in the range by zeros, in one mmap.
 * A fault means that page is past the end of the file, so every later page is too; rescuing
 * them one by one would split the mapping at each fault until vm.max_map_count is reached.
 * The zeros stop at an earlier rescued region instead of covering it again, so what was
 * written there stays, and the new region merges with it (one mapping, however many faults,
 * in whatever order). Returns false when the zeros could not be mapped. */
static bool rescue(struct guard_range *range, uintptr_t start, uintptr_t address) {
  uint64_t page = (uint64_t)page_size;
  uint64_t at = (uint64_t)(address - start) & ~(page - 1); /* start is page-aligned */
  uint64_t end = (atomic_load(&range->length) + page - 1) & ~(page - 1);
  uint64_t from = atomic_load(&range->zeroed_from);
  for (;;) {
    uint64_t top = from < end ? from : end;
    /* Already replaced, or claimed by a thread that is mapping it now: run the access again
     * (it faults again until that thread is done). */
    if (at >= top) return true;
    /* Claim [at, top) before mapping it, so two threads never map zeros over each other. */
    if (atomic_compare_exchange_weak(&range->zeroed_from, &from, at)) {
      void *want = (void *)(start + at);
      void *p = mmap(want, (size_t)(top - at), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (p != want) {
        uint64_t claimed = at;
        atomic_compare_exchange_strong(&range->zeroed_from, &claimed, from);
        return false;
      }
      atomic_fetch_add(&range->faults, (top - at) / page);
      atomic_fetch_add(&fault_counter, 1);
      return true;
    }
  }
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
  struct guard_range *range = vanished(info) ? lookup(address) : NULL;
  if (range != NULL) {
    uintptr_t start = atomic_load(&range->start);
    /* the faulting access runs again, on the zero page */
    if (start != 0 && address >= start && rescue(range, start, address)) return;
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
  /* A handler installed after us (libuv's, for process.on('SIGBUS')) becomes the one we chain to. */
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

guard_range *guard_add(void *addr, uint64_t length) {
  chunk *c = atomic_load(&hint);
  int restarted = 0;
  for (;;) {
    if (atomic_load(&c->used) < CHUNK_ENTRIES) {
      for (int i = 0; i < CHUNK_ENTRIES; i++) {
        uintptr_t expected = 0;
        struct guard_range *e = &c->entries[i];
        /* Claim the entry with a placeholder start so the handler never sees a half-set range. */
        if (atomic_load(&e->start) == 0 &&
            atomic_compare_exchange_strong(&e->start, &expected, (uintptr_t)-1)) {
          atomic_fetch_add(&c->used, 1);
          atomic_store(&hint, c);
          e->owner = c;
          atomic_store(&e->length, 0);
          atomic_store(&e->faults, 0);
          atomic_store(&e->zeroed_from, NONE);
          atomic_store(&e->length, length);
          atomic_store(&e->start, (uintptr_t)addr);
          return e;
        }
      }
    }
    chunk *next = atomic_load(&c->next);
    if (next == NULL) {
      if (!restarted && c != &first_chunk && atomic_load(&first_chunk.used) < CHUNK_ENTRIES) {
        restarted = 1; /* the hint was past some free entries: look from the start once more */
        c = &first_chunk;
        atomic_store(&hint, c);
        continue;
      }
      chunk *fresh = calloc(1, sizeof *fresh);
      if (fresh == NULL) return NULL;
      chunk *none = NULL;
      if (!atomic_compare_exchange_strong(&c->next, &none, fresh)) {
        free(fresh); /* another thread linked one first */
      }
      next = atomic_load(&c->next);
    }
    c = next;
  }
}

void guard_remove(guard_range *range) {
  if (range == NULL) return;
  atomic_store(&range->length, 0);
  atomic_store(&range->start, 0);
  atomic_fetch_sub(&range->owner->used, 1);
  atomic_store(&hint, range->owner);
}

uint64_t guard_faults(const guard_range *range) {
  return range == NULL ? 0 : atomic_load(&((guard_range *)range)->faults);
}
