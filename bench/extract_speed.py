"""Answer latency (``Engine.ask``) and extraction time, the working tree against a base commit.

    python bench/extract_speed.py [--base 0c36adc] [--index DIR] [--squad] [--questions 1000]
        [--queries FILE]

Both versions of the ``bot`` package are loaded into this one process (the base from
``git archive``), each opens an engine over the same index, and every question is asked of both
in turn, alternating which goes first. The machine is shared, so old and new see the same load
at the same moment; the ratios are the numbers to trust, and CPU time (``thread_time``) is
reported next to wall time. The answer cache is off, so every ask is a full answer.

Corpora: ``--index`` is an index built by ``bench/scale.py`` (200-token chunks; by default
``bench/data/work/index-200k``, else ``index-real``), asked word queries drawn as ``scale.py``
draws them, or the queries of ``--queries`` (the file ``scale.py phase query`` times);
``--squad`` indexes the SQuAD v1.1 dev paragraphs and asks their questions.
Each version is warmed up on questions that are not measured. Results also go to
``bench/out/extract_speed.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
SQUAD = ROOT.parent / "shared" / "eval" / "squad" / "dev-v1.1-public.json"
WORD = re.compile(r"[A-Za-z]{4,}")


def load_bot(root: Path) -> dict[str, ModuleType]:
    """Import the ``bot`` package found in ``root`` and return its modules, leaving
    ``sys.modules`` free for another copy."""
    for name in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        importlib.import_module("bot.engine")
        importlib.import_module("bot.evaluate.runner")
        importlib.import_module("bot.evaluate.loaders")
    finally:
        sys.path.remove(str(root))
    mods = {m: sys.modules.pop(m) for m in list(sys.modules) if m == "bot" or m.startswith("bot.")}
    assert Path(mods["bot"].__file__).parent == root / "bot", mods["bot"].__file__
    return mods


class Timed:
    """One version's engine, with its extract step timed from inside ``ask``."""

    def __init__(self, name: str, mods: dict[str, ModuleType], engine: Any) -> None:
        self.name = name
        self.engine = engine
        self.ask_ms: list[float] = []
        self.ask_cpu: list[float] = []
        self.ext_ms: list[float] = []
        self.ext_cpu: list[float] = []
        self._last = (0.0, 0.0)
        inner = mods["bot.engine"].extract

        def timed_extract(*args: Any) -> Any:
            t0, c0 = time.perf_counter(), time.thread_time()
            out = inner(*args)
            self._last = (time.perf_counter() - t0, time.thread_time() - c0)
            return out

        mods["bot.engine"].extract = timed_extract

    def ask(self, question: str, record: bool) -> Any:
        t0, c0 = time.perf_counter(), time.thread_time()
        a = self.engine.ask(question)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        if record:
            self.ask_ms.append(wall * 1000)
            self.ask_cpu.append(cpu * 1000)
            self.ext_ms.append(self._last[0] * 1000)
            self.ext_cpu.append(self._last[1] * 1000)
        return a


def pick(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, math.ceil(q * len(s)) - 1)] if s else 0.0


def summary(t: Timed) -> dict[str, float]:
    out = {}
    for label, xs in (
        ("ask_wall", t.ask_ms),
        ("ask_cpu", t.ask_cpu),
        ("extract_wall", t.ext_ms),
        ("extract_cpu", t.ext_cpu),
    ):
        out[f"{label}_p50"] = round(pick(xs, 0.5), 3)
        out[f"{label}_p99"] = round(pick(xs, 0.99), 3)
        out[f"{label}_mean"] = round(sum(xs) / max(1, len(xs)), 3)
    return out


def scale_queries(index: Any, n: int, seed: int) -> list[str]:
    """Word queries drawn from random chunks, as ``bench/scale.py`` draws them."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n and index.stats.chunks:
        words = sorted(set(WORD.findall(index.chunk(rng.randrange(index.stats.chunks)).text)))
        if words:
            out.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 5)))))
    return out


def run_pair(
    label: str, pair: list[Timed], warm: list[str], questions: list[str]
) -> dict[str, Any]:
    for q in warm:
        for t in pair:
            t.ask(q, record=False)
    differ = 0
    for i, q in enumerate(questions):
        order = pair if i % 2 == 0 else pair[::-1]
        answers = {t.name: t.ask(q, record=True) for t in order}
        a, b = answers["base"], answers["new"]
        differ += (a.answer, a.confidence, a.sentence_start) != (
            b.answer,
            b.confidence,
            b.sentence_start,
        )
    base, new = summary(pair[0]), summary(pair[1])
    ratios = {k: round(base[k] / new[k], 2) if new[k] else None for k in base}
    result = {
        "corpus": label,
        "questions": len(questions),
        "answers_differing": differ,
        "base": base,
        "new": new,
        "speedup": ratios,
    }
    print(f"\n{label}: {len(questions)} questions, {differ} answers differ")
    print(
        f"{'':14} {'base p50':>9} {'new p50':>9} {'x':>6}   {'base p99':>9} {'new p99':>9} {'x':>6}"
    )
    for k in ("ask_wall", "ask_cpu", "extract_wall", "extract_cpu"):
        print(
            f"{k:14} {base[k + '_p50']:9.2f} {new[k + '_p50']:9.2f} {ratios[k + '_p50']:6.2f}"
            f"   {base[k + '_p99']:9.2f} {new[k + '_p99']:9.2f} {ratios[k + '_p99']:6.2f}"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="0c36adc", help="commit to compare against")
    p.add_argument("--index", type=Path, help="index built by bench/scale.py")
    p.add_argument("--squad", action="store_true", help="also the SQuAD dev questions")
    p.add_argument("--no-index", action="store_true", help="skip the docs index")
    p.add_argument("--questions", type=int, default=1000)
    p.add_argument(
        "--queries",
        type=Path,
        help="ask these queries (a JSON list, e.g. bench/scale.py's queries-200k.json) of the "
        "index instead of drawing word queries",
    )
    p.add_argument("--warmup", type=int, default=50)
    args = p.parse_args(argv)

    results = []
    with tempfile.TemporaryDirectory(prefix="extract-speed-") as tmp:
        base_root = Path(tmp) / "base"
        base_root.mkdir()
        tar = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.base], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(base_root)], input=tar, check=True)
        versions = [("base", load_bot(base_root)), ("new", load_bot(ROOT))]

        index_dir = args.index
        if index_dir is None:
            work = HERE / "data" / "work"
            index_dir = next(
                (work / n for n in ("index-200k", "index-real") if (work / n / "CURRENT").exists()),
                None,
            )
        if index_dir is not None and not args.no_index:
            pair = []
            for name, mods in versions:
                opts = mods["bot.engine"].EngineOptions(
                    chunk_tokens=200, chunk_overlap=40, answer_cache=0
                )
                engine = mods["bot.engine"].Engine.reader(
                    Path(tmp) / "none", index_dir, options=opts
                )
                pair.append(Timed(name, mods, engine))
            index = pair[1].engine.index
            print(f"index {index_dir}: {index.stats.chunks} chunks", flush=True)
            warm = scale_queries(index, args.warmup, seed=7)
            if args.queries is not None:
                questions = json.loads(args.queries.read_text())[: args.questions]
            else:
                questions = scale_queries(index, args.questions, seed=42)
            results.append(
                run_pair(f"{index_dir.name} ({index.stats.chunks} chunks)", pair, warm, questions)
            )

        if args.squad:
            corpus = Path(tmp) / "squad"
            corpus.mkdir()
            mods = versions[1][1]
            articles = mods["bot.evaluate.loaders"].load_squad(SQUAD)
            mods["bot.evaluate.runner"].write_squad_corpus(articles, corpus)
            pair = []
            for name, m in versions:
                opts = m["bot.engine"].EngineOptions(answer_cache=0)
                engine = m["bot.engine"].Engine.open(
                    corpus, Path(tmp) / f"idx-{name}", options=opts
                )
                pair.append(Timed(name, m, engine))
            qs = [q.question for a in articles for q in a.questions]
            step = max(1, len(qs) // args.questions)
            questions = qs[::step][: args.questions]
            warm = qs[1::step][: args.warmup]
            label = f"squad-dev ({pair[1].engine.index.stats.chunks} chunks)"
            results.append(run_pair(label, pair, warm, questions))

    OUT.mkdir(exist_ok=True)
    (OUT / "extract_speed.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
