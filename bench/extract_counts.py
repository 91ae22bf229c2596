"""How much of the lazy span ranking a question makes happen, and what the cyclic GC costs.

    python bench/extract_counts.py [--index DIR] [--queries FILE] [--questions N]

Asks the word queries of ``--queries`` (by default the file ``scale.py phase query`` times) of
an engine over ``--index`` (by default ``bench/data/work/index-200k``). First timed, with the
collector tuned as the bot's answer workers tune it (``tune_gc``): answer p50/p99/mean and the
collections that ran and how long they took (``gc.callbacks``). Then counted, per question:
sentences gathered from the top chunks, those holding a question term, those split into words,
those whose candidates were found and bounded, and span rows computed (``_Pruner`` is wrapped
to count; the answers are the engine's own). Times vary with the machine's load; counts do not.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import scale  # noqa: E402

import bot.extract.rank as rank  # noqa: E402
from bot.engine import Engine, tune_gc  # noqa: E402


def count_ranking(counts: Counter[str]) -> None:
    """Wrap ``_Pruner`` so that each stage of the lazy ranking adds to ``counts``."""
    pruner = rank._Pruner
    init, words, expand, score = pruner.__init__, pruner._words, pruner._expand, pruner._score

    def counted_init(self, setup, w_vec):  # type: ignore[no-untyped-def]
        counts["questions"] += 1
        counts["sentences"] += len(setup.sents)
        counts["covered"] += sum(1 for here in setup.heres if here)
        init(self, setup, w_vec)

    def counted_words(self, i):  # type: ignore[no-untyped-def]
        if i not in self.words:
            counts["split"] += 1
        return words(self, i)

    def counted_expand(self, i):  # type: ignore[no-untyped-def]
        counts["expanded"] += 1
        expand(self, i)
        counts["candidates bounded"] += len(self.cands[i])

    def counted_score(self, i, k):  # type: ignore[no-untyped-def]
        counts["rows"] += 1
        score(self, i, k)

    pruner.__init__ = counted_init  # type: ignore[method-assign]
    pruner._words = counted_words  # type: ignore[method-assign]
    pruner._expand = counted_expand  # type: ignore[method-assign]
    pruner._score = counted_score  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--index", type=Path, default=HERE / "data" / "work" / "index-200k")
    p.add_argument("--corpus", type=Path, default=HERE / "data" / "corpus-200k")
    p.add_argument("--queries", type=Path, default=HERE / "data" / "work" / "queries-200k.json")
    p.add_argument("--questions", type=int, default=1000)
    args = p.parse_args(argv)
    queries = json.loads(args.queries.read_text())[: args.questions]
    engine = Engine.open(args.corpus, args.index, options=scale._options())

    # Timed first, in a process whose caches are as cold as the benchmark's.
    tune_gc()
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(timed)
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        engine.ask(q)
        ms.append((time.perf_counter() - t0) * 1000)
    gc.callbacks.remove(timed)
    ms.sort()
    print(
        f"answers (tune_gc): p50 {statistics.median(ms):.2f} ms, "
        f"p99 {ms[int(len(ms) * 0.99)]:.2f} ms, mean {statistics.fmean(ms):.2f} ms"
    )
    for gen in range(3):
        got = [s for g, s in pauses if g == gen]
        if got:
            print(
                f"  generation {gen} collections: {len(got)}, "
                f"{sum(got) * 1000:.0f} ms in all, longest {max(got) * 1000:.1f} ms"
            )
    if not pauses:
        print("  no collection ran")

    # The ranking is deterministic: the counts do not depend on what the caches hold.
    counts: Counter[str] = Counter()
    count_ranking(counts)
    for q in queries:
        engine.ask(q)
    n = max(1, counts.pop("questions"))
    print(f"per question ({n} ranked of {len(queries)} asked):")
    for name, value in counts.items():
        print(f"  {name:20s} {value / n:7.1f}")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
