"""What noticing corpus changes costs: a stat poll (``scan_corpus``, what every update runs
first) against inotify through ``watchfiles``, on a generated corpus of N small files.

    python bench/watch_cost.py --files 10000 --seconds 20

Prints, for each: CPU seconds per second while nothing changes (the idle cost) and the time
from a file being written to the watcher noticing it (median of a few writes). Each method runs
in its own process so its CPU time is its own. ``watchfiles`` must be installed for its row.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path


def make_corpus(root: Path, files: int) -> None:
    for i in range(files):
        d = root / f"d{i // 500:03d}"
        d.mkdir(exist_ok=True)
        (d / f"f{i:06d}.txt").write_text(f"Document {i}\n\nSome text about item {i}.\n")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def poll(root: str, interval: float, seconds: float, out: multiprocessing.Queue) -> None:
    from bot.ingest import scan_corpus

    def signature() -> dict[str, tuple[int, int]]:
        return {f.source: (f.size, f.mtime_ns) for f in scan_corpus(Path(root))}

    seen = signature()
    c0, t0 = _cpu(), time.monotonic()
    idle_done = False
    while True:
        time.sleep(interval)
        now = signature()
        if not idle_done and time.monotonic() - t0 >= seconds:
            out.put(("idle", (_cpu() - c0) / (time.monotonic() - t0)))
            idle_done = True
        if now != seen:
            out.put(("noticed", time.time()))
            seen = now


def inotify(root: str, seconds: float, out: multiprocessing.Queue) -> None:
    import watchfiles

    c0, t0 = _cpu(), time.monotonic()
    idle_done = False
    # rust_timeout: wake every 200 ms to check the stop/idle clock, as a loop would.
    for changes in watchfiles.watch(
        root, debounce=50, step=10, rust_timeout=200, yield_on_timeout=True
    ):
        if not idle_done and time.monotonic() - t0 >= seconds:
            out.put(("idle", (_cpu() - c0) / (time.monotonic() - t0)))
            idle_done = True
        if changes:
            out.put(("noticed", time.time()))


def measure(name: str, target, args, root: Path, seconds: float) -> None:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q), daemon=True)
    p.start()
    try:
        kind, idle = q.get(timeout=seconds + 120)
        assert kind == "idle", kind
        lags = []
        for i in range(5):
            time.sleep(0.5)
            path = root / "d000" / f"new{i}.txt"
            t = time.time()
            path.write_text(f"A new file {i}.\n")
            kind, when = q.get(timeout=30)
            lags.append(when - t)
        print(
            f"{name:<28} idle CPU {idle * 100:6.2f} % of a core   "
            f"notice a new file: median {statistics.median(lags) * 1000:6.0f} ms "
            f"(max {max(lags) * 1000:.0f} ms)",
            flush=True,
        )
    finally:
        p.kill()
        p.join()
        for f in (root / "d000").glob("new*.txt"):
            f.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000, help="files in the generated corpus")
    ap.add_argument("--seconds", type=float, default=20, help="idle time measured per method")
    ap.add_argument("--interval", type=float, default=2.0, help="stat poll interval in seconds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_corpus(root, args.files)
        print(f"{args.files:,} files, {args.seconds:g} s idle each", flush=True)
        measure(
            f"stat poll every {args.interval:g} s",
            poll,
            (str(root), args.interval, args.seconds),
            root,
            args.seconds,
        )
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            print("watchfiles not installed: no inotify row")
            return
        measure("watchfiles (inotify)", inotify, (str(root), args.seconds), root, args.seconds)


if __name__ == "__main__":
    main()
