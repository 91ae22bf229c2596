"""Dump every answer the engine gives on fixed question sets, and compare two dumps.

Speed work on the extractor must not change a single answer, so a dump taken at the commit
before the change is compared field by field with one taken after it:

    python bench/extract_identity.py dump bench/out/identity-old.jsonl   # at the old commit
    python bench/extract_identity.py dump bench/out/identity-new.jsonl   # at the new one
    python bench/extract_identity.py compare bench/out/identity-{old,new}.jsonl

Sets: the SQuAD v1.1 dev questions over all its articles, the seed questions over the seed
corpus (both with the product's default options), and, when an index of the Debian docs is
given (``--index``), word queries drawn from it as ``bench/scale.py`` draws them. Each record
holds the engine's answer fields and, from the extractor itself, the unrounded confidence and
the confidence model's features, so a drift below the engine's 4-digit rounding shows too.
A dump re-runs itself with ``PYTHONHASHSEED=0``: string hashing orders the sets whose weights
are summed, so two processes otherwise differ in the last bit of retrieval scores.
To dump an older checkout, run this file with ``PYTHONPATH=<checkout>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from extract_speed import scale_queries  # the same queries the speed benchmark asks

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SQUAD = SHARED / "eval/squad/dev-v1.1-public.json"
SEED_CORPUS = SHARED / "seed"
SEED_QUESTIONS = SHARED / "eval/seed/questions.jsonl"
HASH_SEED = "0"  # every dump runs with it (see ``main``)


def _record(engine: Any, set_name: str, question: str, captured: list) -> dict[str, Any]:
    captured.clear()
    a = engine.ask(question, top_k=5)
    best = captured[0] if captured else None
    x, feats = best if best is not None else (None, None)
    cit = a.citations[0] if a.citations else None
    return {
        "set": set_name,
        "question": question,
        "answer": a.answer,
        "source": cit.source if cit else None,
        "start": cit.start if cit else None,
        "end": cit.end if cit else None,
        "sentence_start": a.sentence_start,
        "confidence": a.confidence,
        "raw": None
        if x is None
        else {
            "source": x.source,
            "start": x.start,
            "end": x.end,
            "sentence_start": x.sentence_start,
            "sentence_end": x.sentence_end,
            "chunk_id": x.chunk_id,
            "answer_type": x.answer_type,
            "confidence": x.confidence,
            "features": list(feats),
        },
        "sources": [[h.chunk.id, h.score] for h in a.sources],
    }


def dump(out: Path, index_dir: Path | None, n_scale: int) -> int:
    import bot.engine
    from bot.engine import Engine, EngineOptions
    from bot.evaluate.loaders import load_questions, load_squad
    from bot.evaluate.runner import write_squad_corpus
    from bot.extract import best_span

    print(f"bot from {Path(bot.engine.__file__).parent}", file=sys.stderr)
    captured: list = []

    def spy(question, hits, index, analyzer):  # the engine's extract, keeping the features
        best = best_span(question, hits, index, analyzer)
        captured.append(best)
        return best[0] if best is not None else None

    bot.engine.extract = spy
    opts = EngineOptions(min_confidence=0.0, answer_cache=0)
    n = 0
    with out.open("w", encoding="utf-8") as f, tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "squad").mkdir()
        articles = load_squad(SQUAD)
        write_squad_corpus(articles, t / "squad")
        engine = Engine.open(t / "squad", t / "squad-index", options=opts)
        for art in articles:
            for q in art.questions:
                f.write(json.dumps(_record(engine, "squad", q.question, captured)) + "\n")
                n += 1
        engine = Engine.open(SEED_CORPUS, t / "seed-index", options=opts)
        for q in load_questions(SEED_QUESTIONS):
            f.write(json.dumps(_record(engine, "seed", q.question, captured)) + "\n")
            n += 1
        if index_dir is not None:
            scale = EngineOptions(
                chunk_tokens=200, chunk_overlap=40, min_confidence=0.0, answer_cache=0
            )
            engine = Engine.reader(t / "no-corpus", index_dir, options=scale)
            for q in scale_queries(engine.index, n_scale, seed=42):
                f.write(json.dumps(_record(engine, "docs", q, captured)) + "\n")
                n += 1
    print(f"{n} answers written to {out}", file=sys.stderr)
    return 0


def compare(old: Path, new: Path) -> int:
    a = [json.loads(line) for line in old.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(line) for line in new.read_text(encoding="utf-8").splitlines()]
    if len(a) != len(b):
        print(f"different lengths: {len(a)} vs {len(b)}")
        return 1
    bad = 0
    for x, y in zip(a, b, strict=True):
        xr, yr = x.pop("raw"), y.pop("raw")
        same = x == y
        if (xr is None) != (yr is None):
            same = False
        elif xr is not None:
            xc, yc = xr.pop("confidence"), yr.pop("confidence")
            xf, yf = xr.pop("features"), yr.pop("features")
            same = (
                same
                and xr == yr
                and abs(xc - yc) <= 1e-9
                and len(xf) == len(yf)
                and all(abs(p - q) <= 1e-9 for p, q in zip(xf, yf, strict=True))
            )
        if not same:
            bad += 1
            if bad <= 10:
                print("DIFF", x["set"], repr(x["question"]), x["answer"], "→", y["answer"])
    by_set: dict[str, int] = {}
    for x in a:
        by_set[x["set"]] = by_set.get(x["set"], 0) + 1
    print(f"compared {len(a)} answers {by_set}: {len(a) - bad} identical, {bad} different")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--index", type=Path, help="index of the Debian docs (bench/scale.py)")
    d.add_argument("--scale-questions", type=int, default=1000)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "dump":
        if argv is None and os.environ.get("PYTHONHASHSEED") != HASH_SEED:
            # Sums over sets of terms run in hash order, so without a fixed seed two runs of
            # one commit already differ in the last bit of scores (and, rarely, in a tie).
            env = {**os.environ, "PYTHONHASHSEED": HASH_SEED}
            os.execve(sys.executable, [sys.executable, *sys.argv], env)
        return dump(args.out, args.index, args.scale_questions)
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
