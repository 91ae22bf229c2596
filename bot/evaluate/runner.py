"""Run the real engine over a dev set and score it.

Every question goes through ``Engine.ask`` on an index built in a temporary folder, with the
engine's own threshold set to 0 so each answer's best span and confidence are recorded; the
shipped threshold (or ``threshold``) is then applied here, which is exactly what the engine
would have done, and lets one run draw the whole coverage/accuracy curve.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.evaluate.loaders import Article, BeirSet, Question
from bot.evaluate.metrics import (
    best_over,
    exact_match,
    f1,
    ndcg_at_k,
    percentile,
    recall_at_k,
)

CURVE_STEPS = tuple(round(0.05 * i, 2) for i in range(21))
# Sources shown per answer (``citebot ask``'s default): the engine retrieves
# max(TOP_K, candidates) chunks, so training must ask the same way (``bot.evaluate.train``).
TOP_K = 5
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Result:
    id: str
    question: str
    answers: tuple[str, ...]
    in_corpus: bool  # False: its article was left out of the index
    prediction: str | None  # the best span, whatever its confidence
    sentence: str | None
    confidence: float
    source: str | None
    top1_gold: bool | None  # the top source's chunk overlaps the gold paragraph
    answer_gold: bool | None  # the answer's sentence starts inside the gold paragraph
    in_sentence: bool  # a gold answer occurs in the returned sentence of the gold document
    em: float
    f1: float
    ms: float
    article: int = -1

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "doc"


def engine_options(**overrides: Any):
    """EngineOptions with the engine's own abstention turned off (see module docstring);
    ``k1``, ``b`` and ``include_headings`` go to BM25Params."""
    from bot.engine import EngineOptions
    from bot.index import BM25Params

    bm25_keys = {f.name for f in dataclasses.fields(BM25Params)}
    bm25 = {k: v for k, v in overrides.items() if k in bm25_keys and v is not None}
    rest = {k: v for k, v in overrides.items() if k not in bm25_keys and v is not None}
    base = EngineOptions()
    return dataclasses.replace(
        base, bm25=dataclasses.replace(base.bm25, **bm25), min_confidence=0.0, **rest
    )


def options_dict(options: Any) -> dict[str, Any]:
    out = dataclasses.asdict(options)
    out.pop("min_confidence", None)
    return out


def eval_articles(articles: Sequence[Article], out_of_corpus: Sequence[int]) -> list[Article]:
    """The articles ``run_squad`` indexes: every one except those left out of the corpus."""
    excluded = set(out_of_corpus)
    return [a for a in articles if a.index not in excluded]


def write_squad_corpus(articles: Sequence[Article], folder: Path) -> dict[int, tuple[str, list]]:
    """One text file per article, paragraphs separated by a blank line. Returns, per article
    index, its source name and each paragraph's (start, end) in the file's text."""
    layout: dict[int, tuple[str, list]] = {}
    for art in articles:
        source = f"{art.index:03d}_{_slug(art.title)}.txt"
        ranges = []
        parts = []
        pos = 0
        for p in art.paragraphs:
            p = p.replace("\r\n", "\n").replace("\r", "\n")
            parts.append(p)
            ranges.append((pos, pos + len(p)))
            pos += len(p) + 2
        (folder / source).write_text("\n\n".join(parts), encoding="utf-8", newline="\n")
        layout[art.index] = (source, ranges)
    return layout


def _score_answer(q: Question, answer: Any) -> tuple[str | None, str | None, float, float]:
    pred = answer.answer
    if pred is None or not q.answers:
        return pred, answer.sentence, 0.0, 0.0
    return (
        pred,
        answer.sentence,
        best_over(exact_match, pred, q.answers),
        best_over(f1, pred, q.answers),
    )


def ask_all(
    engine: Any,
    questions: Sequence[tuple[Question, bool]],
    gold: Callable[[Question], tuple[str, int, int] | None],
    progress: Progress | None = None,
) -> list[Result]:
    """Ask each (question, in_corpus) pair; ``gold`` gives the gold paragraph's (source,
    start, end) when known."""
    out = []
    for n, (q, in_corpus) in enumerate(questions):
        t0 = time.perf_counter()
        a = engine.ask(q.question, top_k=TOP_K)
        ms = (time.perf_counter() - t0) * 1000
        pred, sentence, em, f = _score_answer(q, a)
        g = gold(q)
        top1 = answer_gold = None
        source = a.citations[0].source if a.citations else None
        if g is not None and in_corpus:
            top = a.sources[0].chunk if a.sources else None
            top1 = bool(top and top.source == g[0] and top.start < g[2] and top.end > g[1])
            answer_gold = bool(
                source == g[0] and a.sentence_start is not None and g[1] <= a.sentence_start < g[2]
            )
        in_sent = bool(
            sentence
            and q.answers
            and (g is None or source == g[0])
            and any(ans in sentence for ans in q.answers)
        )
        out.append(
            Result(
                q.id,
                q.question,
                q.answers,
                in_corpus,
                pred,
                sentence,
                a.confidence,
                source,
                top1,
                answer_gold,
                in_sent,
                em,
                f,
                ms,
                q.article,
            )
        )
        if progress:
            progress(n + 1, len(questions))
    return out


def _mean(xs: Sequence[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def at_threshold(results: Sequence[Result], t: float) -> dict[str, Any]:
    """What a user sees with threshold ``t``: withheld answers score 0 on answerable questions
    and count as right on unanswerable and out-of-corpus ones."""
    has = [r for r in results if r.in_corpus and r.answerable]
    noans = [r for r in results if r.in_corpus and not r.answerable]
    ooc = [r for r in results if not r.in_corpus]
    ok = [r for r in has if r.confidence >= t and r.prediction is not None]
    row: dict[str, Any] = {"threshold": t}
    if has:
        row["answered"] = round(len(ok) / len(has), 4)
        row["em_answered"] = _mean([r.em for r in ok])
        row["f1_answered"] = _mean([r.f1 for r in ok])
        row["has_ans_em"] = round(sum(r.em for r in ok) / len(has), 4)
        row["has_ans_f1"] = round(sum(r.f1 for r in ok) / len(has), 4)
    if noans:
        row["no_ans_accuracy"] = _mean([float(r.confidence < t) for r in noans])
    if ooc:
        row["out_of_corpus_withheld"] = _mean([float(r.confidence < t) for r in ooc])
    return row


def summarize(results: Sequence[Result], threshold: float, curve: bool = True) -> dict[str, Any]:
    has = [r for r in results if r.in_corpus and r.answerable]
    with_gold = [r for r in has if r.top1_gold is not None]
    report: dict[str, Any] = {
        "questions": len(results),
        "answerable_in_corpus": len(has),
        "unanswerable_in_corpus": sum(1 for r in results if r.in_corpus and not r.answerable),
        "out_of_corpus": sum(1 for r in results if not r.in_corpus),
    }
    if with_gold:
        report["gold_paragraph_at_1"] = _mean([float(bool(r.top1_gold)) for r in with_gold])
        # The paragraph the answer was taken from (the extractor reads several chunks).
        report["answer_from_gold_paragraph"] = _mean(
            [float(bool(r.answer_gold)) for r in with_gold]
        )
    if has:
        # The extractor's best span, before abstention: what the span picker alone achieves.
        report["answer_in_sentence"] = _mean([float(r.in_sentence) for r in has])
        report["span_em"] = _mean([r.em for r in has])
        report["span_f1"] = _mean([r.f1 for r in has])
    report["at_threshold"] = at_threshold(results, threshold)
    ms = [r.ms for r in results]
    report["latency_ms"] = {
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
    }
    if curve:
        report["curve"] = [at_threshold(results, t) for t in CURVE_STEPS]
    return report


def run_squad(
    articles: Sequence[Article],
    asked: Sequence[int],
    out_of_corpus: Sequence[int],
    options: Any,
    *,
    limit: int | None = None,
    progress: Progress | None = None,
    work_dir: Path | None = None,
) -> list[Result]:
    """Index every article except ``out_of_corpus`` and ask the questions of ``asked`` (those
    of excluded articles are the out-of-corpus probes)."""
    from bot.engine import Engine

    excluded = set(out_of_corpus)
    with tempfile.TemporaryDirectory(prefix="citebot-eval-", dir=work_dir) as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        layout = write_squad_corpus(eval_articles(articles, out_of_corpus), corpus)
        engine = Engine.open(corpus, index_dir, options=options)
        chosen = set(asked) | excluded
        questions = [
            (q, a.index not in excluded) for a in articles if a.index in chosen for q in a.questions
        ]
        if limit is not None:
            questions = _spread(questions, limit)

        def gold(q: Question) -> tuple[str, int, int] | None:
            if q.article not in layout:
                return None
            source, ranges = layout[q.article]
            s, e = ranges[q.paragraph]
            return source, s, e

        return ask_all(engine, questions, gold, progress)


def _spread(items: list, limit: int) -> list:
    """``limit`` items evenly spread over the list (a quick run still sees every article)."""
    if limit >= len(items):
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def run_questions(
    questions: Sequence[Question],
    corpus: Path,
    options: Any,
    *,
    progress: Progress | None = None,
    work_dir: Path | None = None,
) -> list[Result]:
    from bot.engine import Engine

    with tempfile.TemporaryDirectory(prefix="citebot-eval-", dir=work_dir) as tmp:
        engine = Engine.open(Path(corpus), Path(tmp) / "index", options=options)
        return ask_all(engine, [(q, True) for q in questions], lambda _q: None, progress)


def run_beir(
    data: BeirSet,
    options: Any,
    *,
    limit: int | None = None,
    depth: int = 100,
    progress: Progress | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """Document ranking: a document's score is its best chunk's; nDCG@10 and R@100 against
    the qrels, over the queries that have qrels."""
    from bot.engine import Engine
    from bot.retrieve import retrieve

    with tempfile.TemporaryDirectory(prefix="citebot-eval-", dir=work_dir) as tmp:
        corpus, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        doc_of: dict[str, str] = {}
        for n, (doc_id, (title, text)) in enumerate(data.corpus.items()):
            source = f"{n:06d}_{_slug(doc_id)}.txt"
            body = f"{title}\n\n{text}" if title else text
            (corpus / source).write_text(body, encoding="utf-8", newline="\n")
            doc_of[source] = doc_id
        t0 = time.perf_counter()
        engine = Engine.open(corpus, index_dir, options=options)
        index_seconds = time.perf_counter() - t0
        qids = [q for q in data.qrels if q in data.queries]
        if limit is not None:
            qids = qids[:limit]
        ndcg, recall, ms = [], [], []
        for n, qid in enumerate(qids):
            t1 = time.perf_counter()
            # Several chunks per document: over-fetch so ``depth`` distinct documents remain.
            hits = retrieve(
                engine.index,
                engine.analyzer,
                data.queries[qid],
                depth * 3,
                engine.options.rerank,
            )
            ranked: list[str] = []
            seen = set()
            for h in hits:  # hits come best first, so a document's first chunk is its best
                d = doc_of[h.chunk.source]
                if d not in seen:
                    seen.add(d)
                    ranked.append(d)
            ms.append((time.perf_counter() - t1) * 1000)
            ndcg.append(ndcg_at_k(ranked, data.qrels[qid], 10))
            recall.append(recall_at_k(ranked, data.qrels[qid], depth))
            if progress:
                progress(n + 1, len(qids))
        return {
            "queries": len(qids),
            "documents": len(data.corpus),
            "ndcg_at_10": _mean(ndcg),
            f"recall_at_{depth}": _mean(recall),
            "index_seconds": round(index_seconds, 1),
            "latency_ms": {
                "p50": round(percentile(ms, 50), 1),
                "p95": round(percentile(ms, 95), 1),
            },
        }
