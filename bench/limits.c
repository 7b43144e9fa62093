/*
 * The machine's limits for the benchmark's workloads: the same work done in plain C over the
 * same files (memchr, memmem, memcpy, mmap+munmap, msync), with no language runtime in between.
 *
 * A worker driven by bench/run.ts over stdin/stdout, like the other peers:
 *   argv: KEY=VALUE pairs (file paths, sizes, operation counts; see bench/config.ts)
 *   stdin:  "run ROW\n"      stdout: "ok ROW NANOSECONDS CHECK\n" or "skip ROW REASON\n"
 *   stdin:  "quit\n"
 * Built at bench time with `cc -O2` into build/bench/limits.
 *
 * One job per process, for the short-script mode and the cost curves (bench/fresh.ts):
 *   limits once ROW KEY=VALUE...   prints "ok ROW NANOSECONDS CHECK", or for a curve one
 *   "point X NANOSECONDS OPS CHECK" line per point (and "stop N REASON" where it had to stop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *cfg(int argc, char **argv, const char *key) {
  size_t n = strlen(key);
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], key, n) == 0 && argv[i][n] == '=') return argv[i] + n + 1;
  }
  fprintf(stderr, "limits: missing %s=\n", key);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "limits: %s: %s\n", what, strerror(errno));
  exit(1);
}

struct map {
  int fd;
  size_t len;
  unsigned char *p;
};

static struct map map_file(const char *path, int writable) {
  struct map m;
  m.fd = open(path, writable ? O_RDWR : O_RDONLY);
  if (m.fd < 0) die(path);
  struct stat st;
  if (fstat(m.fd, &st) != 0) die("fstat");
  m.len = (size_t)st.st_size;
  m.p = mmap(NULL, m.len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, m.fd, 0);
  if (m.p == MAP_FAILED) die("mmap");
  return m;
}

/* Touches every page so the page tables are populated before anything is timed. */
static unsigned prefault(struct map *m, int write) {
  unsigned sum = 0;
  long page = sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < m->len; i += (size_t)page) {
    sum += m->p[i];
    if (write) m->p[i] = m->p[i];
  }
  return sum;
}

static volatile unsigned sink;

/* The next comma-separated number of a list into *out, advancing *list; 0 at its end. */
static int next_number(const char **list, size_t *out) {
  if (**list == '\0') return 0;
  char *end;
  *out = (size_t)strtoull(*list, &end, 10);
  *list = *end == ',' ? end + 1 : end;
  return 1;
}

/* 48 pseudo-random bits from two steps of the LCG every participant uses (bench/fresh.ts). */
static uint64_t next48(uint32_t *x) {
  *x = *x * 1664525u + 1013904223u;
  uint64_t hi = *x >> 8;
  *x = *x * 1664525u + 1013904223u;
  return hi * 16777216u + (*x >> 8);
}

static int open_file(const char *path, int writable) {
  int fd = open(path, writable ? O_RDWR : O_RDONLY);
  if (fd < 0) die(path);
  return fd;
}

static void *map_or_die(size_t len, int prot, int fd) {
  void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  return p;
}

static int run_once(int argc, char **argv) {
  const char *row = argv[2];
  const char *path = cfg(argc, argv, "file");
  long page = sysconf(_SC_PAGESIZE);
  if (strcmp(row, "map_close") == 0) {
    /* The short-script row: map + close of the whole file, read-write like the other peers. */
    int fd = open_file(path, 1);
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    long ops = atol(cfg(argc, argv, "ops"));
    uint64_t t0 = now_ns();
    for (long i = 0; i < ops; i++) munmap(map_or_die((size_t)st.st_size, PROT_READ | PROT_WRITE, fd), (size_t)st.st_size);
    printf("ok %s %llu %ld\n", row, (unsigned long long)(now_ns() - t0), ops);
  } else if (strcmp(row, "map_close_size") == 0) {
    int fd = open_file(path, 0);
    const char *sizes = cfg(argc, argv, "sizes");
    long ops = atol(cfg(argc, argv, "ops"));
    for (size_t size; next_number(&sizes, &size);) {
      for (long i = 0; i < ops; i++) munmap(map_or_die(size, PROT_READ, fd), size); /* warm-up */
      uint64_t t0 = now_ns();
      for (long i = 0; i < ops; i++) munmap(map_or_die(size, PROT_READ, fd), size);
      printf("point %zu %llu %ld %ld\n", size, (unsigned long long)(now_ns() - t0), ops, ops);
      fflush(stdout);
    }
  } else if (strcmp(row, "live_maps") == 0) {
    int fd = open_file(path, 0);
    const char *points = cfg(argc, argv, "points");
    size_t live = 0;
    for (size_t at; next_number(&points, &at);) {
      size_t from = live;
      uint64_t t0 = now_ns();
      for (; live < at; live++) {
        if (mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) {
          printf("stop %zu mmap: %s\n", live, strerror(errno));
          return 0;
        }
      }
      printf("point %zu %llu %zu %zu\n", at, (unsigned long long)(now_ns() - t0), at - from, live);
      fflush(stdout);
    }
  } else if (strcmp(row, "random_read") == 0) {
    int fd = open_file(path, 0);
    size_t size = (size_t)strtoull(cfg(argc, argv, "size"), NULL, 10);
    long ops = atol(cfg(argc, argv, "ops"));
    uint32_t x = (uint32_t)strtoul(cfg(argc, argv, "seed"), NULL, 10);
    int warm = atoi(cfg(argc, argv, "warm"));
    unsigned char *p = map_or_die(size, PROT_READ, fd);
    uint64_t *offsets = malloc(sizeof(uint64_t) * (size_t)ops);
    for (long i = 0; i < ops; i++) offsets[i] = next48(&x) % (size / 64) * 64;
    if (warm) for (size_t i = 0; i < size; i += (size_t)page) sink += p[i];
    unsigned char buf[64];
    unsigned sum = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < ops; i++) {
      memcpy(buf, p + offsets[i], 64);
      sum += ((volatile unsigned char *)buf)[0];
    }
    printf("point %zu %llu %ld %u\n", size, (unsigned long long)(now_ns() - t0), ops, sum);
  } else if (strcmp(row, "find") == 0) {
    int fd = open_file(path, 0);
    const char *sizes = cfg(argc, argv, "sizes");
    const char *needle = cfg(argc, argv, "needle");
    size_t budget = (size_t)strtoull(cfg(argc, argv, "budget"), NULL, 10);
    long max_reps = atol(cfg(argc, argv, "maxReps"));
    for (size_t size; next_number(&sizes, &size);) {
      unsigned char *p = map_or_die(size, PROT_READ, fd);
      for (size_t i = 0; i < size; i += (size_t)page) sink += p[i];
      long reps = (long)(budget / size);
      if (reps < 3) reps = 3;
      if (reps > max_reps) reps = max_reps;
      long found = 0;
      uint64_t t0 = now_ns();
      for (long i = 0; i < reps; i++) {
        unsigned char *at = memmem(p, size, needle, strlen(needle));
        found = at ? (long)(at - p) : -1;
      }
      printf("point %zu %llu %ld %ld\n", size, (unsigned long long)(now_ns() - t0), reps, found);
      fflush(stdout);
      munmap(p, size);
    }
  } else if (strcmp(row, "drop") == 0) {
    /* Drops the file's clean pages from the page cache; prints the pages still resident. */
    int fd = open_file(path, 0);
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat");
    int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (err != 0) {
      printf("skip drop posix_fadvise: %s\n", strerror(err));
      return 0;
    }
    size_t len = (size_t)st.st_size, pages = (len + (size_t)page - 1) / (size_t)page, resident = 0;
    unsigned char *p = map_or_die(len, PROT_READ, fd), *vec = malloc(pages);
    if (mincore(p, len, vec) != 0) die("mincore");
    for (size_t i = 0; i < pages; i++) resident += vec[i] & 1;
    printf("ok drop 0 %zu\n", resident);
  } else {
    printf("skip %s no such row\n", row);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "once") == 0) return run_once(argc, argv);
  struct map lines = map_file(cfg(argc, argv, "lines"), 0);
  struct map out = map_file(cfg(argc, argv, "write"), 1);
  struct map big = map_file(cfg(argc, argv, "big"), 0);
  struct map flush = map_file(cfg(argc, argv, "flush"), 1);
  const char *small_path = cfg(argc, argv, "small");
  int small_fd = open(small_path, O_RDWR);
  if (small_fd < 0) die(small_path);
  struct stat st;
  if (fstat(small_fd, &st) != 0) die("fstat");
  size_t small_len = (size_t)st.st_size;
  long map_ops = atol(cfg(argc, argv, "mapOps"));
  long byte_ops = atol(cfg(argc, argv, "byteOps"));
  long slice_ops = atol(cfg(argc, argv, "sliceOps"));
  long random_ops = atol(cfg(argc, argv, "randomOps"));
  long stride = atol(cfg(argc, argv, "stride"));
  long chunk = atol(cfg(argc, argv, "writeChunk"));
  uint32_t seed = (uint32_t)strtoul(cfg(argc, argv, "seed"), NULL, 10);
  long page = sysconf(_SC_PAGESIZE);

  sink = prefault(&lines, 0) + prefault(&out, 1) + prefault(&big, 0) + prefault(&flush, 1);

  /* The same pseudo-random record offsets as every other participant (see bench/config.ts). */
  size_t records = big.len / 64;
  size_t *offsets = malloc(sizeof(size_t) * (size_t)random_ops);
  uint32_t x = seed;
  for (long i = 0; i < random_ops; i++) {
    x = x * 1664525u + 1013904223u;
    offsets[i] = ((size_t)(x >> 8) % records) * 64;
  }
  unsigned char *chunk_data = aligned_alloc((size_t)page, (size_t)chunk); /* page-aligned like every participant's */
  memset(chunk_data, 'w', (size_t)chunk);

  printf("ready\n");
  fflush(stdout);

  char cmd[256], row[200];
  while (fgets(cmd, sizeof cmd, stdin) != NULL) {
    if (strncmp(cmd, "quit", 4) == 0) break;
    if (sscanf(cmd, "run %199s", row) != 1) continue;
    uint64_t t0 = 0, t1 = 0;
    double check = 0;
    int done = 1;
    if (strcmp(row, "map_close_1mib") == 0) {
      t0 = now_ns();
      for (long i = 0; i < map_ops; i++) {
        void *p = mmap(NULL, small_len, PROT_READ | PROT_WRITE, MAP_SHARED, small_fd, 0);
        if (p == MAP_FAILED) die("mmap");
        munmap(p, small_len);
      }
      t1 = now_ns();
      check = (double)map_ops;
    } else if (strcmp(row, "find_end_15") == 0 || strcmp(row, "find_absent_bloom") == 0) {
      const char *needle = row[5] == 'e' ? "NEEDLE_AT_END__" : "NOT_PRESENT!!";
      t0 = now_ns();
      unsigned char *at = memmem(lines.p, lines.len, needle, strlen(needle));
      t1 = now_ns();
      check = at ? (double)(at - lines.p) : -1;
    } else if (strcmp(row, "find_1byte") == 0) {
      t0 = now_ns();
      unsigned char *at = memchr(lines.p, 'Z', lines.len);
      t1 = now_ns();
      check = at ? (double)(at - lines.p) : -1;
    } else if (strcmp(row, "rfind_start") == 0) {
      static const char needle[] = "NEEDLE_AT_START";
      size_t n = sizeof needle - 1;
      t0 = now_ns();
      unsigned char *at = NULL;
      size_t limit = lines.len - n + 1; /* candidates start before this index */
      while (limit > 0) {
        unsigned char *p = memrchr(lines.p, needle[0], limit);
        if (p == NULL) break;
        if (memcmp(p, needle, n) == 0) { at = p; break; }
        limit = (size_t)(p - lines.p);
      }
      t1 = now_ns();
      check = at ? (double)(at - lines.p) : -1;
    } else if (strcmp(row, "readline_loop") == 0) {
      unsigned char line[4096];
      size_t pos = 0, count = 0;
      t0 = now_ns();
      while (pos < lines.len) {
        unsigned char *nl = memchr(lines.p + pos, '\n', lines.len - pos);
        size_t end = nl ? (size_t)(nl - lines.p) + 1 : lines.len;
        size_t n = end - pos;
        memcpy(line, lines.p + pos, n < sizeof line ? n : sizeof line);
        sink += line[0];
        pos = end;
        count++;
      }
      t1 = now_ns();
      check = (double)count;
    } else if (strcmp(row, "read_byte") == 0 || strcmp(row, "get_int") == 0) {
      unsigned sum = 0;
      t0 = now_ns();
      for (long i = 0; i < byte_ops; i++) sum += ((volatile unsigned char *)lines.p)[i];
      t1 = now_ns();
      check = sum;
    } else if (strcmp(row, "slice_64") == 0 || strcmp(row, "read_64") == 0) {
      unsigned char buf[64];
      unsigned sum = 0;
      int strided = row[0] == 's';
      t0 = now_ns();
      for (long i = 0; i < slice_ops; i++) {
        size_t a = strided ? (size_t)((i * stride) % (long)(lines.len - 64)) : (size_t)i * 64;
        memcpy(buf, lines.p + a, 64);
        sum += ((volatile unsigned char *)buf)[0];
      }
      t1 = now_ns();
      check = sum;
    } else if (strcmp(row, "write_4k_dirty") == 0) {
      t0 = now_ns();
      for (size_t pos = 0; pos + (size_t)chunk <= out.len; pos += (size_t)chunk) {
        memcpy(out.p + pos, chunk_data, (size_t)chunk);
      }
      t1 = now_ns();
      sink += out.p[out.len - 1];
      check = (double)(out.len / (size_t)chunk);
    } else if (strcmp(row, "write_byte") == 0) {
      volatile unsigned char *p = out.p;
      t0 = now_ns();
      for (long i = 0; i < byte_ops; i++) p[i] = 'b';
      t1 = now_ns();
      check = (double)byte_ops;
    } else if (strcmp(row, "random_read_64") == 0) {
      unsigned char buf[64];
      unsigned sum = 0;
      t0 = now_ns();
      for (long i = 0; i < random_ops; i++) {
        memcpy(buf, big.p + offsets[i], 64);
        sum += ((volatile unsigned char *)buf)[0];
      }
      t1 = now_ns();
      check = sum;
    } else if (strcmp(row, "random_read_64_chain") == 0) {
      /* dep >> 7 is 0 for this file's bytes, but the CPU cannot know: one miss at a time. */
      unsigned char buf[64];
      unsigned sum = 0, dep = 0;
      t0 = now_ns();
      for (long i = 0; i < random_ops; i++) {
        memcpy(buf, big.p + offsets[i] + (dep >> 7), 64);
        dep = ((volatile unsigned char *)buf)[0];
        sum += dep;
      }
      t1 = now_ns();
      check = sum;
    } else if (strcmp(row, "scan_newlines") == 0) {
      size_t count = 0;
      unsigned char *p = big.p, *end = big.p + big.len;
      t0 = now_ns();
      while (p < end) {
        unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) break;
        count++;
        p = nl + 1;
      }
      t1 = now_ns();
      check = (double)count;
    } else if (strcmp(row, "flush_64mib") == 0) {
      for (size_t i = 0; i < flush.len; i += (size_t)page) flush.p[i]++;
      t0 = now_ns();
      if (msync(flush.p, flush.len, MS_SYNC) != 0) die("msync");
      t1 = now_ns();
      check = (double)flush.len;
    } else {
      done = 0;
    }
    if (done) printf("ok %s %llu %.17g\n", row, (unsigned long long)(t1 - t0), check);
    else printf("skip %s not a limit of this row\n", row);
    fflush(stdout);
  }
  return 0;
}
