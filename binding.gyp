{
  "targets": [
    {
      "target_name": "memmap",
      "sources": ["native/binding.c", "native/guard.c"],
      "conditions": [
        ["OS=='linux'", { "sources": ["native/posix.c", "native/linux.c"] }]
      ],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
