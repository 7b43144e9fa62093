/*
 * Keeps libuv from switching the SIGBUS guard off (Node only).
 *
 * process.on('SIGBUS') in any thread starts a libuv signal watcher. libuv's watchers are
 * process-wide: libuv installs its own handler with sigaction only when the FIRST watcher for
 * a signal starts, and resets the signal to SIG_DFL only when the LAST one stops
 * (uv__signal_start / uv__signal_stop in libuv's src/unix/signal.c). So memmap holds one
 * SIGBUS watcher of its own, for the life of the process, and installs the guard on top of the
 * handler libuv put there: listeners added or removed later, in any thread (also in one where
 * memmap was never loaded), never touch SIGBUS's handler again.
 *
 * The watcher runs on a private libuv loop in a thread of its own, not on a JavaScript thread's
 * loop, because it must outlive every environment (a worker that loaded memmap can exit while
 * a listener elsewhere is still there) and because being the only memmap watcher lets it
 * answer one question: when a SIGBUS sent by kill() reaches it, was there anyone else to
 * receive it? If not, no JavaScript listener exists and the process dies of the signal, as it
 * would have without memmap.
 *
 * libuv is reached with dlsym(RTLD_DEFAULT, ...): the addon has no link-time dependency on it
 * and loads in runtimes that do not export it (they keep the JavaScript fallback in
 * src/binding.ts).
 */
#ifndef MEMMAP_SIGNALS_H
#define MEMMAP_SIGNALS_H

#include <node_api.h>

/* holdSigbus() -> boolean: starts memmap's SIGBUS watcher once per process and installs the
 * guard over libuv's handler. true when the watcher is running (at once on later calls);
 * false where libuv cannot be found, and the caller keeps re-installing the guard itself.
 * Call it only on Node (JavaScript knows the runtime; other runtimes may export libuv's
 * names as stubs). */
napi_value signals_js_hold_sigbus(napi_env env, napi_callback_info info);

#endif
