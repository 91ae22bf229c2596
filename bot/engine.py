"""The one entry point that answers a question; both front ends call it.

``Engine`` owns the analyzer, the chunker and the on-disk index. ``ask`` is synchronous and
thread-safe: it reads the current index snapshot once, so a concurrent ``refresh`` (which builds
a new generation on disk and then swaps the reference) never mixes two indexes in one answer.
Before each answer it also looks (one stat) whether another process switched the index to a
newer generation (``citebot index`` from a shell, a cron job, the bot's own re-index) and then
answers from that one.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.analyze import Analyzer
from bot.chunk import Chunker
from bot.cite import cite
from bot.extract import MIN_CONFIDENCE, extract
from bot.index import BM25Params, Index, IndexStore, IndexUnusable, IndexWriteError
from bot.ingest import DEFAULT_MAX_FILE_BYTES
from bot.models import Answer, Explanation, Extraction, Hit, IndexStats, QueryTerm, UpdateReport
from bot.retrieve import Rerank, retrieve
from bot.spelling import corrected

# Questions are matched against chunks of a few hundred tokens; anything far longer is a paste,
# not a question, and would only slow retrieval down.
MAX_QUESTION_CHARS = 1000


def tune_gc() -> None:
    """Turn CPython's cyclic garbage collector off: for processes that only answer.

    Answering leaves no reference cycles (``tests/test_engine.py`` checks it), so the cyclic
    collector finds nothing there; what outlives a question are entries of the bounded
    extraction caches, some fifteen GC-tracked objects per sentence analysed, and collecting
    them for nothing cost real pauses: with the default thresholds (700, 10, 10) a full
    collection over ~200k cached objects every ~140 answers (100-250 ms); with a young
    threshold of 50,000, 6-8 young collections per 1,000 answers at 200k chunks, 22-207 ms each
    (bench/README.md, *Answer latency*). Freezing moves what the process loaded (modules, the
    index's tables) out of any later collection. A process that drops an index generation
    collects once after that (``bot.chat.answering``), should any of it sit in a cycle.
    Process-wide, so the processes that only answer call it (the bot's answer workers), never
    ``Engine`` itself."""
    gc.freeze()
    gc.disable()


class QuestionError(ValueError):
    """The question cannot be asked (empty, too long); the message is for the user."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    chunk_tokens: int = 300
    chunk_overlap: int = 60
    bm25: BM25Params = field(default_factory=BM25Params)
    min_confidence: float = MIN_CONFIDENCE
    # Chunks handed to the extractor: more than the sources shown, since the answer sentence is
    # often in the second or third chunk.
    candidates: int = 8
    rerank: Rerank = field(default_factory=Rerank)
    max_question_chars: int = MAX_QUESTION_CHARS
    # Recent answers kept per index snapshot: chat servers ask the same questions again and
    # again, and a repeat then costs a dict lookup instead of an extraction. 0 turns it off.
    answer_cache: int = 1024
    # Corpus files larger than this are skipped with a warning (CITEBOT_MAX_FILE_MB).
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES


Progress = Callable[[int, int], None]
Warn = Callable[[str], None]


class Engine:
    def __init__(
        self,
        corpus: Path,
        index_dir: Path,
        *,
        options: EngineOptions | None = None,
        warn: Warn | None = None,
    ) -> None:
        self.corpus = Path(corpus)
        self.options = options or EngineOptions()
        self.analyzer = Analyzer()
        self.chunker = Chunker(self.options.chunk_tokens, self.options.chunk_overlap)
        self.store = IndexStore(
            Path(index_dir),
            analyzer=self.analyzer,
            chunker=self.chunker,
            params=self.options.bm25,
            max_file_bytes=self.options.max_file_bytes,
        )
        self._warn = warn or (lambda _msg: None)
        self._refresh_lock = threading.Lock()
        self._index: Index | None = None
        # The generation the last ``refresh`` reported: the next one counts changes against it,
        # even if this engine has followed a generation another process wrote since (any
        # access to ``index`` follows the disk).
        self._reported: Index | None = None
        # What ``store.live_mark`` said when ``_index`` was chosen; a different mark means
        # another generation may be live on disk.
        self._mark: tuple[int, int, int] | None = None
        self._follow_lock = threading.Lock()
        self._answers: OrderedDict[tuple[str, int, bool], Answer] = OrderedDict()
        self._answers_for: Index | None = None  # the snapshot the cached answers came from
        self._answers_lock = threading.Lock()
        self.cache_hits = 0

    @classmethod
    def open(
        cls,
        corpus: Path,
        index_dir: Path,
        *,
        options: EngineOptions | None = None,
        warn: Warn | None = None,
        progress: Progress | None = None,
    ) -> Engine:
        """An engine whose index matches the corpus as it is now (built or updated if needed).

        When the index folder cannot be written (read-only, full), the live generation answers
        as it is, after one warning; IndexWriteError only when there is none to answer from."""
        engine = cls(corpus, index_dir, options=options, warn=warn)
        try:
            engine.refresh(progress)
        except IndexWriteError as exc:
            try:
                engine._load_live()
            except IndexUnusable:
                raise exc from None
            engine._warn(f"{exc}; answering from the index as it was")
        return engine

    @classmethod
    def reader(
        cls,
        corpus: Path | str,
        index_dir: Path | str,
        *,
        options: EngineOptions | None = None,
        warn: Warn | None = None,
    ) -> Engine:
        """An engine that answers from the index on disk as it is and never writes it: for
        processes that answer beside the one that indexes (see ``follow_disk``)."""
        engine = cls(Path(corpus), Path(index_dir), options=options, warn=warn)
        engine._load_live()
        return engine

    @property
    def generation(self) -> str:
        """Name of the index generation answers come from now."""
        return self.index.path.name

    def _load_live(self) -> Index:
        # The mark first: should a switch land between the two, the next check sees a new mark
        # and looks again.
        mark = self.store.live_mark()
        index = self.store.load()
        self._index, self._mark = index, mark
        return index

    def follow_disk(self) -> bool:
        """Switch to the live generation on disk if another process made a newer one live;
        True if it switched. Costs one stat when nothing changed. Never waits: while another
        thread is switching (or ``refresh`` is building), answers keep the snapshot they have.
        A live generation that cannot be used (built with other settings, damaged) is left
        alone with a warning, and the one held goes on answering."""
        if self._index is None or self.store.live_mark() == self._mark:
            return False
        if not self._follow_lock.acquire(blocking=False):
            return False
        try:
            mark = self.store.live_mark()
            if mark == self._mark:
                return False
            held = self._index
            try:
                if self.store.live_generation() == held.path.name:
                    self._mark = mark
                    return False
                return self._load_live() is not held
            except IndexUnusable as exc:
                self._mark = mark  # warned once per switch on disk, not once per question
                self._warn(
                    f"keeping generation {held.path.name}: the live index is unusable: {exc}"
                )
                return False
        finally:
            self._follow_lock.release()

    def refresh(self, progress: Progress | None = None) -> UpdateReport:
        """Bring the index up to date with the corpus; answers keep using the old one until the
        new generation is complete, then switch in one assignment.

        The report counts what changed since the generation the previous refresh reported
        (the bot's last /reindex, or its start), also when another process had switched the
        index since and this engine followed it (then the update itself may have found nothing
        to do)."""
        with self._refresh_lock, self._follow_lock:
            held = self._index
            served = self._reported or held
            report = self.store.update(self.corpus, progress=progress, warn=self._warn)
            index = held
            if held is None or report.changed_anything or report.previous != held.path.name:
                index = self._load_live()
            if served is not None and report.previous != served.path.name:
                report = _since(served, index, report)
            self._reported = index
            return report

    @property
    def index(self) -> Index:
        if self._index is None:
            self.refresh()
        else:
            self.follow_disk()
        assert self._index is not None
        return self._index

    @property
    def stats(self) -> IndexStats:
        return self.index.stats

    def sources(self) -> list[str]:
        return self.index.sources()

    def check_question(self, question: str) -> str:
        """The question stripped, or QuestionError with a message fit for the user."""
        q = " ".join(question.split())
        if not q:
            raise QuestionError("The question is empty.")
        limit = self.options.max_question_chars
        if len(q) > limit:
            raise QuestionError(f"The question is too long ({len(q)} characters; limit {limit}).")
        return q

    def ask(self, question: str, top_k: int = 5, *, explain: bool = False) -> Answer:
        """The answer to ``question``; with ``explain``, also why (``Answer.explanation``)."""
        t0 = time.perf_counter()
        q = self.check_question(question)
        index = self.index  # one snapshot for the whole answer
        key = (q, top_k, explain)
        with self._answers_lock:
            if self._answers_for is not index:
                self._answers.clear()
                self._answers_for = index
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
                self.cache_hits += 1
                return replace(cached, took_ms=(time.perf_counter() - t0) * 1000)
        answer = self._answer(index, q, top_k, t0, explain)
        if self.options.answer_cache > 0:
            with self._answers_lock:
                if self._answers_for is index:
                    self._answers[key] = answer
                    if len(self._answers) > self.options.answer_cache:
                        self._answers.popitem(last=False)
        return answer

    def _answer(self, index: Index, q: str, top_k: int, t0: float, explain: bool) -> Answer:
        hits = retrieve(
            index, self.analyzer, q, max(top_k, self.options.candidates), self.options.rerank
        )
        found = extract(q, hits, index, self.analyzer)
        answered = found is not None and found.confidence >= self.options.min_confidence
        citations = ()
        sentence = sentence_start = answer = None
        if found is not None and answered:
            doc = index.document(found.source)
            citations = (cite(doc, found.start, found.end),)
            answer = citations[0].quote
            sentence = doc.text[found.sentence_start : found.sentence_end]
            sentence_start = found.sentence_start
        return Answer(
            question=q,
            answered=answered,
            answer=answer,
            sentence=sentence,
            sentence_start=sentence_start,
            confidence=round(found.confidence, 4) if found else 0.0,
            citations=citations,
            sources=tuple(hits[:top_k]),
            took_ms=(time.perf_counter() - t0) * 1000,
            explanation=self._explain(index, q, hits, found) if explain else None,
        )

    def _explain(
        self, index: Index, q: str, hits: list[Hit], found: Extraction | None
    ) -> Explanation:
        # The chunks the extractor read: a question term is "found" when one of them has it
        # (the term it was corrected to, for a misspelt word).
        present: set[str] = set()
        for h in hits:
            present.update(self.analyzer.sentence_terms(h.chunk.text))
        tokens = list(self.analyzer.tokens(q))
        fixes = dict(corrected(index, [t.term for t in tokens]))
        terms: list[QueryTerm] = []
        seen: set[str] = set()
        for token in tokens:
            if token.term not in seen:
                seen.add(token.term)
                word = q[token.start : token.end]
                meant = fixes.get(token.term)
                terms.append(
                    QueryTerm(word, token.term, (meant or token.term) in present, corrected=meant)
                )
        return Explanation(
            terms=tuple(terms),
            chunks=tuple(hits),
            score=found.score if found else None,
            runner_up=found.runner_up if found else None,
            runner_up_score=found.runner_up_score if found else None,
            no_answer_score=found.no_answer_score if found else None,
            threshold=self.options.min_confidence,
        )


def _since(before: Index, now: Index, report: UpdateReport) -> UpdateReport:
    """``report`` recounted against ``before``: documents are the same when their files' SHA-1
    are."""
    try:
        old, new = before.fingerprints(), now.fingerprints()
    except IndexUnusable:
        return report  # counted against the generation the update started from, then
    return replace(
        report,
        added=tuple(s for s in sorted(new) if s not in old),
        changed=tuple(s for s in sorted(new) if s in old and old[s] != new[s]),
        removed=tuple(s for s in sorted(old) if s not in new),
        unchanged=sum(1 for s, sha in new.items() if old.get(s) == sha),
        previous=before.path.name,
    )
