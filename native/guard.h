/*
 * The SIGBUS guard: when the file under a live mapping shrinks, touching the vanished pages
 * raises SIGBUS, which would end the process. The guard keeps a lock-free table of the ranges
 * memmap has mapped; a SIGBUS inside one of them maps a private zero page over the faulting
 * page, counts the fault on that range, and lets the access finish (it reads zeros; a write
 * lands in the zero page and never reaches the file). A SIGBUS anywhere else goes to the
 * handler that was there before (or, under the default action, ends the process as it would
 * have), so other crashes stay crashes.
 *
 * Only SIGBUS is handled: SIGSEGV belongs to the runtime (WebAssembly bounds checks).
 */
#ifndef MEMMAP_GUARD_H
#define MEMMAP_GUARD_H

#include <stdint.h>

typedef struct guard_range guard_range;

/* Installs the handler, or installs it again if another handler replaced it since (that one
 * then receives every SIGBUS the guard does not handle). Called on load and when JavaScript
 * adds or removes a SIGBUS listener (libuv then replaces the process's handler). */
void guard_install(void);

/* Starts guarding [addr, addr + length); returns NULL when the table cannot grow (the range is
 * then mapped but unguarded, as everywhere else). */
guard_range *guard_add(void *addr, uint64_t length);

/* Stops guarding (NULL is ignored). The entry is reused later; call before munmap. */
void guard_remove(guard_range *range);

/* Pages of this range replaced by zeros so far. */
uint64_t guard_faults(const guard_range *range);

/* A process-wide count of guarded faults, for a cheap "did anything happen?" check. */
int32_t *guard_fault_counter(void);

#endif
