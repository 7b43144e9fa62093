"""CPython's mmap doing one job of the short-script mode or of a cost curve, in a fresh process.

Started by bench/fresh.ts once per measurement:
    python3 peer_cpython_once.py ROW KEY=VALUE...
prints "ok ROW NANOSECONDS CHECK" (a short-script row), or one "point X NANOSECONDS OPS CHECK"
line per point of a curve (and "stop N REASON" where it had to stop), or "skip ROW REASON".
Nothing runs before the timed loop but the imports, opening the file and mapping it: the loop
is the first time each operation is called in this process, as in a user's short script.
The check value shows the same work was done as in memmap's run (bench/fresh-child.ts).
"""
import mmap
import os
import sys
import time

now = time.perf_counter_ns


def next48(state):
    """48 pseudo-random bits from two steps of the LCG every participant uses."""
    x = (state[0] * 1664525 + 1013904223) & 0xFFFFFFFF
    hi = x >> 8
    x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
    state[0] = x
    return hi * 16777216 + (x >> 8)


def offsets(seed, count, size):
    records = size // 64
    state = [seed]
    return [next48(state) % records * 64 for _ in range(count)]


def numbers(text):
    return [int(x) for x in text.split(",") if x != ""]


def open_map(path, write=False, length=0):
    fd = os.open(path, os.O_RDWR if write else os.O_RDONLY)
    m = mmap.mmap(fd, length, access=mmap.ACCESS_WRITE if write else mmap.ACCESS_READ)
    os.close(fd)
    return m


SHORT_ROWS = ("get_int", "read_byte", "write_byte", "slice_64", "read_64", "readline", "lines", "map_close")


def short_row(row, cfg):
    calls = int(cfg.get("calls", 0))
    if row == "get_int":
        m = open_map(cfg["file"])
        total = 0
        t0 = now()
        for i in range(calls):
            total += m[i]
        return now() - t0, total
    if row == "read_byte":
        m = open_map(cfg["file"])
        rb = m.read_byte
        total = 0
        t0 = now()
        for _ in range(calls):
            total += rb()
        return now() - t0, total
    if row == "write_byte":
        m = open_map(cfg["write"], write=True)
        wb = m.write_byte
        t0 = now()
        for _ in range(calls):
            wb(98)
        return now() - t0, calls
    if row == "slice_64":
        m = open_map(cfg["file"])
        span = len(m) - 64
        stride = int(cfg["stride"])
        total = 0
        t0 = now()
        for i in range(calls):
            a = (i * stride) % span
            total += m[a:a + 64][0]
        return now() - t0, total
    if row == "read_64":
        m = open_map(cfg["file"])
        read = m.read
        total = 0
        t0 = now()
        for _ in range(calls):
            total += read(64)[0]
        return now() - t0, total
    if row in ("readline", "lines"):
        # CPython has no zero-copy line iterator: its readline loop is the peer of both rows.
        m = open_map(cfg["file"])
        readline = m.readline
        total = 0
        nl = 1 if row == "lines" else 0
        t0 = now()
        for _ in range(calls):
            line = readline()
            if not line:
                break
            total += len(line) - (nl if line.endswith(b"\n") else 0)
        return now() - t0, total
    if row == "map_close":
        # read-write, from an fd opened read-write, like every participant's row
        fd = os.open(cfg["file"], os.O_RDWR)
        n = int(cfg["ops"])
        t0 = now()
        for _ in range(n):
            mmap.mmap(fd, 0).close()
        return now() - t0, n
    raise ValueError(row)


def curve(row, cfg):
    path = cfg["file"]
    if row == "map_close_size":
        fd = os.open(path, os.O_RDONLY)
        ops = int(cfg["ops"])
        for size in numbers(cfg["sizes"]):
            for _ in range(ops):  # warm-up
                mmap.mmap(fd, size, access=mmap.ACCESS_READ).close()
            t0 = now()
            for _ in range(ops):
                mmap.mmap(fd, size, access=mmap.ACCESS_READ).close()
            print(f"point {size} {now() - t0} {ops} {ops}", flush=True)
    elif row == "live_maps":
        try:
            import resource
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ImportError, ValueError, OSError):
            pass
        fd = os.open(path, os.O_RDONLY)
        page = mmap.PAGESIZE
        # trackfd=0: no dup() of the descriptor per map (CPython 3.13 and newer)
        kw = {"access": mmap.ACCESS_READ}
        if cfg.get("trackfd") == "0":
            kw["trackfd"] = False
            try:
                mmap.mmap(fd, page, **kw).close()
            except TypeError:
                print(f"skip {row} this CPython ({sys.version.split()[0]}) has no trackfd", flush=True)
                return
        for _ in range(500):  # warm-up, none kept
            mmap.mmap(fd, page, **kw).close()
        live = []
        try:
            for at in numbers(cfg["points"]):
                start = len(live)
                t0 = now()
                while len(live) < at:
                    live.append(mmap.mmap(fd, page, **kw))
                print(f"point {at} {now() - t0} {at - start} {len(live)}", flush=True)
        except OSError as e:
            print(f"stop {len(live)} {type(e).__name__}: {e.strerror or e}", flush=True)
    elif row == "random_read":
        size = int(cfg["size"])
        ops = int(cfg["ops"])
        offs = offsets(int(cfg["seed"]), ops, size)
        m = open_map(path, length=size)
        if cfg["warm"] == "1":
            for i in range(0, size, mmap.PAGESIZE):
                m[i]
        total = 0
        t0 = now()
        for a in offs:
            total += m[a:a + 64][0]
        print(f"point {size} {now() - t0} {ops} {total}", flush=True)
    elif row == "find":
        needle = cfg["needle"].encode()
        budget = int(cfg["budget"])
        max_reps = int(cfg["maxReps"])
        for size in numbers(cfg["sizes"]):
            m = open_map(path, length=size)
            for i in range(0, size, mmap.PAGESIZE):
                m[i]
            reps = min(max_reps, max(3, budget // size))
            found = -1
            find = m.find
            t0 = now()
            for _ in range(reps):
                found = find(needle)
            print(f"point {size} {now() - t0} {reps} {found}", flush=True)
            m.close()
    elif row == "drop":
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        print("ok drop 0 -1", flush=True)  # -1: CPython cannot tell how many pages stayed
    else:
        print(f"skip {row} no such row", flush=True)


def main():
    row = sys.argv[1]
    cfg = dict(arg.split("=", 1) for arg in sys.argv[2:])
    if row in SHORT_ROWS:
        ns, check = short_row(row, cfg)
        print(f"ok {row} {ns} {check}", flush=True)
    else:
        curve(row, cfg)


if __name__ == "__main__":
    main()
