"""``citebot eval``: score the engine on SQuAD JSON, a BEIR folder or a JSONL question file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.evaluate import loaders, runner


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "eval",
        help="score answers on a dev set (SQuAD JSON, BEIR folder, JSONL questions)",
        description=(
            "SQuAD JSON: one document per article, every question asked, gold-paragraph@1, "
            "answer-in-sentence, EM/F1, no-answer accuracy and the threshold curve. BEIR "
            "folder: nDCG@10 and R@100. JSONL questions: asked against --corpus."
        ),
    )
    p.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="SQuAD .json, BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv) or .jsonl "
        "questions (README, Answer quality)",
    )
    p.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="documents for a JSONL question file (default $CITEBOT_CORPUS or ./corpus)",
    )
    p.add_argument(
        "--articles",
        help="SQuAD articles whose questions are asked, e.g. 0-7 "
        "(indices in the file's order; default all)",
    )
    p.add_argument(
        "--out-of-corpus",
        dest="out_of_corpus",
        metavar="ARTICLES",
        help="SQuAD articles left out of the index; their questions must be withheld",
    )
    p.add_argument("--threshold", type=float, help="abstention threshold (default: shipped)")
    p.add_argument(
        "--limit", type=int, metavar="N", help="ask at most N questions (spread over the set)"
    )
    p.add_argument("--split", default="test", help="BEIR qrels split (default test)")
    p.add_argument(
        "--chunk-tokens", type=int, metavar="N", help="chunk size in tokens (default: shipped)"
    )
    p.add_argument(
        "--chunk-overlap",
        type=int,
        metavar="N",
        help="tokens of sentence overlap between chunks (default: shipped)",
    )
    p.add_argument("--k1", type=float, help="BM25 term-frequency saturation (default 1.2)")
    p.add_argument("--b", type=float, help="BM25 length normalisation (default 0.75)")
    p.add_argument(
        "--headings",
        dest="include_headings",
        action="store_true",
        default=None,
        help="index section headings with each chunk",
    )
    p.add_argument(
        "--no-headings",
        dest="include_headings",
        action="store_false",
        help="index chunk text alone, without its title and section",
    )
    p.add_argument(
        "--candidates", type=int, help="chunks handed to the extractor (default: shipped)"
    )
    p.add_argument(
        "--rerank-depth",
        type=int,
        metavar="N",
        help="BM25 hits the rerank reorders (0: plain BM25 order; default: shipped)",
    )
    p.add_argument(
        "--no-curve", dest="curve", action="store_false", help="leave the threshold curve out"
    )
    p.add_argument(
        "--details", type=Path, metavar="FILE", help="write one JSON line per question to FILE"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_eval)
    return p


def _progress(label: str):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        print(f"\r{label} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.extract import MIN_CONFIDENCE
    from bot.retrieve import Rerank

    options = runner.engine_options(
        chunk_tokens=args.chunk_tokens,
        chunk_overlap=args.chunk_overlap,
        k1=args.k1,
        b=args.b,
        include_headings=args.include_headings,
        candidates=args.candidates,
        rerank=None if args.rerank_depth is None else Rerank(depth=max(0, args.rerank_depth)),
    )
    threshold = MIN_CONFIDENCE if args.threshold is None else args.threshold
    kind = loaders.detect(args.file)
    report: dict[str, Any] = {
        "file": str(args.file),
        "kind": kind,
        "options": runner.options_dict(options),
    }
    if kind == loaders.BEIR:
        data = loaders.load_beir(args.file, args.split)
        report.update(
            runner.run_beir(data, options, limit=args.limit, progress=_progress("queries"))
        )
        return report
    if kind == loaders.JSONL:
        questions = loaders.load_questions(args.file)
        corpus = args.corpus if args.corpus is not None else Settings.load().corpus
        results = runner.run_questions(questions, corpus, options, progress=_progress("questions"))
        report["corpus"] = str(corpus)
    else:
        articles = loaders.load_squad(args.file)
        asked = loaders.parse_ranges(args.articles, len(articles))
        ooc = loaders.parse_ranges(args.out_of_corpus, len(articles)) if args.out_of_corpus else []
        asked = [a for a in asked if a not in ooc]
        report["articles"] = {str(a): articles[a].title for a in asked}
        report["out_of_corpus_articles"] = {str(a): articles[a].title for a in ooc}
        results = runner.run_squad(
            articles, asked, ooc, options, limit=args.limit, progress=_progress("questions")
        )
    report["threshold"] = threshold
    report.update(runner.summarize(results, threshold, curve=args.curve))
    if args.details:
        with open(args.details, "w", encoding="utf-8") as f:
            for r in results:
                f.write(json.dumps(runner.dataclasses.asdict(r), ensure_ascii=False) + "\n")
    return report


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def print_report(report: dict[str, Any], out=sys.stdout) -> None:
    curve = report.get("curve")
    for key, value in report.items():
        if key in ("curve", "articles", "out_of_corpus_articles"):
            continue
        if isinstance(value, dict):
            inner = ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
            print(f"{key}: {inner}", file=out)
        else:
            print(f"{key}: {_fmt(value)}", file=out)
    for key in ("articles", "out_of_corpus_articles"):
        if report.get(key):
            print(f"{key}: " + ", ".join(f"{k} {v}" for k, v in report[key].items()), file=out)
    if curve:
        cols = [
            c
            for c in (
                "threshold",
                "answered",
                "em_answered",
                "f1_answered",
                "has_ans_f1",
                "no_ans_accuracy",
                "out_of_corpus_withheld",
            )
            if any(c in row for row in curve)
        ]
        print("threshold curve:", file=out)
        print("  " + "  ".join(f"{c:>22}" for c in cols), file=out)
        for row in curve:
            print("  " + "  ".join(f"{_fmt(row.get(c)):>22}" for c in cols), file=out)


def cmd_eval(args: argparse.Namespace, settings: Settings | None = None) -> int:
    if args.corpus is None and settings is not None:
        args.corpus = settings.corpus
    if not args.file.exists():
        print(f"citebot: error: {args.file} does not exist", file=sys.stderr)
        return 2
    try:
        report = run(args)
    except ValueError as e:  # SettingsError included
        print(f"citebot: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print_report(report)
    return 0
