/*
 * The fault guard: when the file under a live mapping shrinks, touching the vanished pages
 * raises SIGBUS (Windows: EXCEPTION_IN_PAGE_ERROR, for a read error on a network or removable
 * file), which would end the process. The guard keeps a lock-free table of the ranges memmap
 * has mapped (guard.c, every OS); the OS's fault handler (sigbus.c on POSIX, windows.c) finds
 * a fault's address there and puts zeros in place of the vanished pages.
 *
 * POSIX: a SIGBUS inside one of the ranges maps private zero pages over the faulting
 * page and the rest of the range in one mmap (the file ended before that page, so it ended
 * before the later ones too; a map of many pages never splits into many mappings), counts
 * the pages on that range, and lets the access finish (it reads zeros; a write lands in the
 * zero pages and never reaches the file). A later fault lower in the range replaces only the
 * pages up to the region already replaced, which keeps what was written there. A SIGBUS
 * anywhere else, or a memory error (BUS_MCEERR_*) anywhere, goes to the handler that was
 * there before (or, under the default action, ends the process as it would have), so other
 * crashes stay crashes.
 *
 * Only SIGBUS is handled: SIGSEGV belongs to the runtime (WebAssembly bounds checks).
 *
 * Windows: see "the guard" in windows.c (a vectored exception handler; the whole view is
 * replaced, since a view cannot be unmapped in part).
 */
#ifndef MEMMAP_GUARD_H
#define MEMMAP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

typedef struct guard_range guard_range;

/* --- binding.c's side ------------------------------------------------------------------ */

/* Installs the handler, or installs it again if another handler replaced it since (that one
 * then receives every SIGBUS the guard does not handle). Called on load; where memmap holds
 * no libuv watcher of its own (see signals.h), also when JavaScript adds or removes a SIGBUS
 * listener (libuv then replaces or resets the process's handler). */
void guard_install(void);

/* guard_install, right after memmap's libuv watcher started: the handler the guard now chains
 * to is libuv's. libuv's handler only queues a signal for JavaScript listeners, so from then
 * on the guard passes it signals sent by kill() only; a fault outside memmap's ranges takes
 * the default action (the process dies of SIGBUS, as it would have) instead of repeating
 * forever. */
void guard_install_over_runtime(void);

/* Starts guarding [addr, addr + length); returns NULL when the table cannot grow (the range is
 * then mapped but unguarded, as everywhere else). */
guard_range *guard_add(void *addr, uint64_t length);

/* Stops guarding (NULL is ignored). The entry is reused later; call before munmap. */
void guard_remove(guard_range *range);

/* Pages of this range replaced by zeros so far (a fault replaces the faulting page and every
 * page after it that was not replaced yet, so one fault can count many pages). */
uint64_t guard_faults(const guard_range *range);

/* A process-wide count of rescues (one per fault that mapped zeros, whatever the number of
 * pages), for a cheap "did anything happen?" check. */
int32_t *guard_fault_counter(void);

/* --- the OS fault handler's side (lock-free: callable in a signal or exception handler) -- */

/* The guarded range containing address, or NULL. */
guard_range *guard_lookup(uintptr_t address);

/* Where a range found by guard_lookup starts now, or 0 if it was removed meanwhile. */
uintptr_t guard_start(guard_range *range);

/* How the OS put zeros over [addr, addr + length): done; failed with nothing changed; or
 * failed after the range was released (the addresses may belong to someone else now). */
typedef enum { GUARD_ZEROED, GUARD_UNCHANGED, GUARD_LOST } guard_zero_result;
typedef guard_zero_result (*guard_zero_fn)(void *addr, uint64_t length);

/*
 * Rescues a fault in range (which starts at start): claims the pages from offset `at` (a
 * multiple of page) up to the end of the range or to the lowest page an earlier rescue
 * replaced, calls zero for them, and counts them. Two threads never zero the same pages: a
 * fault in pages claimed by another thread, or already replaced, returns true at once (the
 * access runs again, and faults again until that thread is done). Returns false when zero
 * failed, or failed earlier with GUARD_LOST: the fault then goes to the OS's default handling.
 */
bool guard_rescue(guard_range *range, uintptr_t start, uint64_t at, uint64_t page,
                  guard_zero_fn zero);

#endif
