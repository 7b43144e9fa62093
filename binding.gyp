{
  "targets": [
    {
      "target_name": "memmap",
      "sources": ["native/binding.c"],
      "conditions": [
        # One platform per OS behind native/platform.h. guard.c and signals.c are POSIX (the
        # SIGBUS guard and its libuv watcher).
        # -z nodelete: a worker that loaded the addon unloads it when it exits, but the SIGBUS
        # guard's handler and memmap's signal-watcher thread live in it for the whole process.
        ["OS=='linux'", {
          "sources": ["native/posix.c", "native/linux.c", "native/guard.c", "native/signals.c"],
          "ldflags": ["-Wl,-z,nodelete"]
        }]
      ],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
