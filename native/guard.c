/*
 * The guard's table of memmap's address ranges (see guard.h), shared by every OS: which ranges
 * are guarded, how a rescue claims the pages it replaces by zeros, and the fault counts. It
 * makes no system call: the OS's fault handler (sigbus.c on POSIX, windows.c) finds the range,
 * and maps the zeros its own way through guard_rescue.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "guard.h"

/* Entries live in chunks that are linked once and never freed, so a fault handler can walk
 * them without locks while other threads add and remove ranges. */
#define CHUNK_ENTRIES 1024

struct chunk;

struct guard_range {
  _Atomic uintptr_t start; /* 0: free entry */
  _Atomic uint64_t length;
  _Atomic uint64_t faults;      /* pages replaced by zeros */
  _Atomic uint64_t zeroed_from; /* offset of the lowest page replaced by zeros; NONE, LOST */
  struct chunk *owner;
};

#define NONE UINT64_MAX       /* no page replaced yet */
#define LOST (UINT64_MAX - 1) /* a rescue released the range and could not put zeros there */

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

int32_t *guard_fault_counter(void) {
  return (int32_t *)&fault_counter;
}

guard_range *guard_lookup(uintptr_t address) {
  for (chunk *c = &first_chunk; c != NULL; c = atomic_load(&c->next)) {
    for (int i = 0; i < CHUNK_ENTRIES; i++) {
      uintptr_t start = atomic_load(&c->entries[i].start);
      if (start != 0 && address >= start && address - start < atomic_load(&c->entries[i].length))
        return &c->entries[i];
    }
  }
  return NULL;
}

uintptr_t guard_start(guard_range *range) {
  uintptr_t start = atomic_load(&range->start);
  return start == (uintptr_t)-1 ? 0 : start; /* -1: being added */
}

bool guard_rescue(guard_range *range, uintptr_t start, uint64_t at, uint64_t page,
                  guard_zero_fn zero) {
  uint64_t end = (atomic_load(&range->length) + page - 1) & ~(page - 1);
  uint64_t from = atomic_load(&range->zeroed_from);
  for (;;) {
    if (from == LOST) return false;
    uint64_t top = from < end ? from : end;
    /* Already replaced, or claimed by a thread that is mapping it now: run the access again
     * (it faults again until that thread is done). */
    if (at >= top) return true;
    /* Claim [at, top) before mapping it, so two threads never map zeros over each other. */
    if (atomic_compare_exchange_weak(&range->zeroed_from, &from, at)) {
      switch (zero((void *)(start + at), top - at)) {
      case GUARD_ZEROED:
        atomic_fetch_add(&range->faults, (top - at) / page);
        atomic_fetch_add(&fault_counter, 1);
        return true;
      case GUARD_UNCHANGED: {
        uint64_t claimed = at;
        atomic_compare_exchange_strong(&range->zeroed_from, &claimed, from);
        return false;
      }
      default: /* GUARD_LOST: never try again (another thread's memory may be there now) */
        atomic_store(&range->zeroed_from, LOST);
        return false;
      }
    }
  }
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
          atomic_store_explicit(&hint, c, memory_order_relaxed);
          e->owner = c;
          /* The fields, then the start with release: a handler that reads the start (its loads
           * are sequentially consistent) sees them set. Sequentially consistent stores here
           * cost a full fence each (xchg on x86), a tenth of a map + close's own time. */
          atomic_store_explicit(&e->faults, 0, memory_order_relaxed);
          atomic_store_explicit(&e->zeroed_from, NONE, memory_order_relaxed);
          atomic_store_explicit(&e->length, length, memory_order_relaxed);
          atomic_store_explicit(&e->start, (uintptr_t)addr, memory_order_release);
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
  /* The length first: a handler that still reads the old start then finds an empty range. The
   * entry is free once the start is 0 (release, as in guard_add). */
  atomic_store_explicit(&range->length, 0, memory_order_release);
  atomic_store_explicit(&range->start, 0, memory_order_release);
  atomic_fetch_sub(&range->owner->used, 1);
  atomic_store_explicit(&hint, range->owner, memory_order_relaxed);
}

uint64_t guard_faults(const guard_range *range) {
  return range == NULL ? 0 : atomic_load(&((guard_range *)range)->faults);
}
