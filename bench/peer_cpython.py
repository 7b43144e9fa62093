"""CPython's mmap doing the benchmark's workloads, driven by bench/run.ts over stdin/stdout.

The first line on stdin is the configuration (JSON: file paths, sizes, operation counts; see
bench/config.ts). Then:
    stdin  "run ROW"   ->  stdout "ok ROW NANOSECONDS CHECK" or "skip ROW REASON"
    stdin  "quit"
Each row does the same work as memmap's version in bench/participants.ts, written the way a
Python user would write it.
"""
import json
import mmap
import os
import re
import sys
import time

now = time.perf_counter_ns


def main():
    cfg = json.loads(sys.stdin.readline())
    ops = cfg["ops"]
    page = mmap.PAGESIZE

    def open_map(path, write):
        fd = os.open(path, os.O_RDWR if write else os.O_RDONLY)
        m = mmap.mmap(fd, 0, access=mmap.ACCESS_WRITE if write else mmap.ACCESS_READ)
        os.close(fd)
        # untimed: populate the page tables
        for i in range(0, len(m), page):
            if write:
                m[i] = m[i]
            else:
                m[i]
        return m

    lines = open_map(cfg["lines"], False)
    out = open_map(cfg["write"], True)
    big = open_map(cfg["big"], False)
    flush = open_map(cfg["flush"], True)
    small_fd = os.open(cfg["small"], os.O_RDWR)

    records = len(big) // 64
    offsets = []
    x = cfg["seed"]
    for _ in range(ops["random"]):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        offsets.append(((x >> 8) % records) * 64)
    # page-aligned like every participant's write source (see alignedChunk in participants.ts)
    chunk = mmap.mmap(-1, cfg["writeChunk"])
    chunk.write(b"w" * cfg["writeChunk"])
    stride = cfg["stride"]
    scan_chunk = cfg["scanChunk"]

    def map_close_1mib():
        n = ops["map"]
        fd = small_fd
        t0 = now()
        for _ in range(n):
            mmap.mmap(fd, 0).close()
        return now() - t0, n

    def finder(needle, reverse=False):
        def run():
            t0 = now()
            at = lines.rfind(needle, 0) if reverse else lines.find(needle, 0)
            return now() - t0, at
        return run

    def readline_loop():
        m = lines
        m.seek(0)
        readline = m.readline
        count = 0
        t0 = now()
        while readline():
            count += 1
        return now() - t0, count

    def read_byte():
        m = lines
        m.seek(0)
        rb = m.read_byte
        total = 0
        t0 = now()
        for _ in range(ops["byte"]):
            total += rb()
        return now() - t0, total

    def get_int():
        m = lines
        total = 0
        t0 = now()
        for i in range(ops["byte"]):
            total += m[i]
        return now() - t0, total

    def slice_64():
        m = lines
        span = len(m) - 64
        total = 0
        t0 = now()
        for i in range(ops["slice"]):
            a = (i * stride) % span
            total += m[a:a + 64][0]
        return now() - t0, total

    def read_64():
        m = lines
        m.seek(0)
        read = m.read
        total = 0
        t0 = now()
        for _ in range(ops["slice"]):
            total += read(64)[0]
        return now() - t0, total

    def write_4k_dirty():
        m = out
        m.seek(0)
        write = m.write
        n = len(m) // len(chunk)
        t0 = now()
        for _ in range(n):
            write(chunk)
        return now() - t0, n

    def write_byte():
        m = out
        m.seek(0)
        wb = m.write_byte
        n = ops["byte"]
        t0 = now()
        for _ in range(n):
            wb(98)
        return now() - t0, n

    def random_read_64():
        m = big
        total = 0
        t0 = now()
        for a in offsets:
            total += m[a:a + 64][0]
        return now() - t0, total

    def random_read_64_chain():
        m = big
        total = 0
        prev = 0
        t0 = now()
        for a in offsets:
            prev = m[a + (prev >> 7):a + (prev >> 7) + 64][0]
            total += prev
        return now() - t0, total

    def scan_newlines():
        m = big
        size = len(m)
        count = 0
        t0 = now()
        for a in range(0, size, scan_chunk):
            count += m[a:a + scan_chunk].count(b"\n")
        return now() - t0, count

    needle_re = re.compile(rb"NEEDLE_AT_END_+Z")
    line_re = re.compile(rb"a+\n")

    def regex_search_end():
        t0 = now()
        m = needle_re.search(lines)
        return now() - t0, -1 if m is None else m.start()

    def regex_count_lines():
        count = 0
        t0 = now()
        for _ in line_re.finditer(lines):
            count += 1
        return now() - t0, count

    def flush_64mib():
        m = flush
        for i in range(0, len(m), page):
            m[i] = (m[i] + 1) & 0xFF
        t0 = now()
        m.flush()
        return now() - t0, len(m)

    rows = {
        "map_close_1mib": map_close_1mib,
        "find_end_15": finder(b"NEEDLE_AT_END__"),
        "find_absent_bloom": finder(b"NOT_PRESENT!!"),
        "find_1byte": finder(b"Z"),
        "rfind_start": finder(b"NEEDLE_AT_START", reverse=True),
        "readline_loop": readline_loop,
        "read_byte": read_byte,
        "get_int": get_int,
        "slice_64": slice_64,
        "read_64": read_64,
        "write_4k_dirty": write_4k_dirty,
        "write_byte": write_byte,
        "random_read_64": random_read_64,
        "random_read_64_chain": random_read_64_chain,
        "scan_newlines": scan_newlines,
        "regex_search_end": regex_search_end,
        "regex_count_lines": regex_count_lines,
        "flush_64mib": flush_64mib,
    }

    print("ready", flush=True)
    for line in iter(sys.stdin.readline, ""):
        words = line.split()
        if not words or words[0] == "quit":
            break
        row = words[1]
        fn = rows.get(row)
        if fn is None:
            print(f"skip {row} no such operation in CPython's mmap", flush=True)
            continue
        ns, check = fn()
        print(f"ok {row} {ns} {check}", flush=True)


if __name__ == "__main__":
    main()
