"""Load time of an index with the integrity checks, against another tree's, in fresh processes.

    python bench/load_checks.py --base /tmp/base --base-index IDX_BASE --index IDX [--rounds 10]

Each round loads, each in its own process: ``IDX_BASE`` with the tree at ``--base`` (e.g. a
``git archive`` of the commit before), ``IDX`` with this tree as every later load finds it (its
verification recorded), and ``IDX`` with the record removed first, so that every file is hashed
(a copied index's first load; every load of a read-only one). ``IndexStore.load()`` is timed with
``perf_counter`` and ``process_time``; the bounds checks alone are timed once more after it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import scale
store = scale._store(Path(sys.argv[2]))
t0, c0 = time.perf_counter(), time.process_time()
index = store.load()
out = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
if hasattr(index, "_check_bounds"):
    t1 = time.perf_counter()
    index._check_bounds(index._post_chunk.shape[0], index._lines.shape[0])
    out["bounds"] = time.perf_counter() - t1
print(json.dumps(out))
"""


def load_once(tree: Path, index: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tree), str(index)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="root of the tree to compare with")
    ap.add_argument("--base-index", type=Path, required=True, help="an index built by --base")
    ap.add_argument("--index", type=Path, required=True, help="the same corpus built by this tree")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"before": [], "recorded": [], "hashing": []}
    for _ in range(args.rounds):
        runs["before"].append(load_once(args.base, args.base_index))
        runs["recorded"].append(load_once(HERE, args.index))
        for record in args.index.glob("gen-*/verified.json"):
            record.unlink()
        runs["hashing"].append(load_once(HERE, args.index))
    for label, rs in runs.items():
        wall = [r["wall"] for r in rs]
        cpu = statistics.median(r["cpu"] for r in rs)
        line = (
            f"{label:9} wall p50 {statistics.median(wall):.3f} s "
            f"({min(wall):.3f}-{max(wall):.3f}), cpu p50 {cpu:.3f} s"
        )
        if "bounds" in rs[0]:
            line += f", bounds checks p50 {statistics.median(r['bounds'] for r in rs):.3f} s"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
