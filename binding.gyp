{
  "targets": [
    {
      "target_name": "memmap",
      "sources": ["native/binding.c"],
      "conditions": [
        # One platform per OS behind native/platform.h. guard.c is the fault guard's table,
        # portable; sigbus.c (its SIGBUS handler) and signals.c (its libuv watcher) are POSIX.
        # -z nodelete: a worker that loaded the addon unloads it when it exits, but the SIGBUS
        # guard's handler and memmap's signal-watcher thread live in it for the whole process.
        ["OS=='linux'", {
          "sources": ["native/posix.c", "native/linux.c", "native/guard.c", "native/sigbus.c", "native/signals.c"],
          "ldflags": ["-Wl,-z,nodelete"]
        }],
        # macOS (not built here: no SDK). Mach-O has no -z nodelete; darwin.c pins its own image
        # with dlopen(RTLD_NOLOAD | RTLD_NODELETE) when it is loaded. gyp takes compiler flags on
        # macOS from xcode_settings, not cflags. _DARWIN_C_SOURCE keeps Darwin's own names
        # (MAP_ANON, MADV_FREE, F_FULLFSYNC, ...) visible whatever else is defined.
        ["OS=='mac'", {
          "sources": ["native/posix.c", "native/darwin.c", "native/guard.c", "native/sigbus.c", "native/signals.c"],
          "defines": ["_DARWIN_C_SOURCE"],
          "xcode_settings": {
            "GCC_C_LANGUAGE_STANDARD": "c11",
            "OTHER_CFLAGS": ["-Wall", "-Wextra", "-Wno-unused-parameter"]
          }
        }],
        # windows.c holds the whole platform, including the guard's exception handler and
        # what signals.h declares (there is no SIGBUS on Windows). MSVC needs C11 atomics
        # switched on for binding.c and guard.c.
        ["OS=='win'", {
          "sources": ["native/windows.c", "native/guard.c"],
          "libraries": ["psapi.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": {"AdditionalOptions": ["/std:c11", "/experimental:c11atomics"]}
          }
        }]
      ],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
