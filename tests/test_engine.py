"""The single entry point, on a real index in a temporary folder."""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine, EngineOptions, QuestionError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    return Engine.open(corpus, tmp_path / "index")


@pytest.mark.parametrize("question", ["", " \n\t ", "why " * 400])
def test_unaskable_questions_raise_a_user_facing_error(engine: Engine, question: str):
    with pytest.raises(QuestionError) as e:
        engine.ask(question)
    assert str(e.value).startswith("The question is")


def test_question_sharing_no_word_with_the_corpus_has_no_sources(engine: Engine):
    a = engine.ask("zyzzyva quokka?")
    assert (a.answered, a.answer, a.sources) == (False, None, ())


def test_a_repeated_question_is_served_from_the_cache_of_its_snapshot(engine: Engine):
    q = "how tall is the Pellworm lighthouse"
    first = engine.ask(q)
    again = engine.ask(f"  {q} ")  # the same question once whitespace is normalised
    assert engine.cache_hits == 1
    assert replace(again, took_ms=0.0) == replace(first, took_ms=0.0)
    assert not first.answered

    (engine.corpus / "new.md").write_text(
        "# Lighthouses\n\nThe Pellworm lighthouse is 41 metres tall.\n", encoding="utf-8"
    )
    engine.refresh()
    after = engine.ask(q)
    assert engine.cache_hits == 1  # a new index snapshot: the old answer is not reused
    assert after.answered and after.answer is not None and "41 metres" in after.answer


def test_answer_cache_is_bounded_and_can_be_turned_off(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    small = Engine.open(corpus, tmp_path / "index", options=EngineOptions(answer_cache=2))
    for q in ("what is CECOT", "where is CECOT", "who built CECOT", "what is CECOT"):
        small.ask(q)
    assert small.cache_hits == 0  # the first question was evicted by the third
    off = Engine.open(corpus, tmp_path / "index", options=EngineOptions(answer_cache=0))
    off.ask("what is CECOT")
    off.ask("what is CECOT")
    assert off.cache_hits == 0


def test_answers_continue_while_a_refresh_swaps_the_index(engine: Engine):
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_forever() -> None:
        while not stop.is_set():
            try:
                a = engine.ask("what is CECOT's capacity")
                assert a.answer is not None and a.answer.startswith("40,000")
            except BaseException as e:  # surfaced by the assertion below
                errors.append(e)
                return

    worker = threading.Thread(target=ask_forever)
    worker.start()
    try:
        (engine.corpus / "new.md").write_text(
            "# Lighthouses\n\nThe Pellworm lighthouse is 41 metres tall.\n", encoding="utf-8"
        )
        report = engine.refresh()
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not errors
    assert report.added == ("new.md",)
    assert engine.stats.documents == 2
    assert engine.ask("How tall is the Pellworm lighthouse?").citations[0].source == "new.md"


WORDS = st.sampled_from(
    "the prison holds 40,000 inmates Tecoluca cost $115 million in 2022 Lee Gelernt said "
    "capacity what is of a built August 2024 Bukele’s Center café naïve 14,500".split()
)
SENTENCE = st.lists(WORDS, min_size=3, max_size=14).map(lambda ws: " ".join(ws) + ".")
DOCUMENT = st.lists(
    st.one_of(SENTENCE, SENTENCE.map(lambda s: s + "\n"), st.just("\n\nA Heading\n")),
    min_size=1,
    max_size=12,
).map("".join)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(docs=st.lists(DOCUMENT, min_size=1, max_size=3), questions=st.lists(SENTENCE, max_size=4))
def test_every_citation_selects_exactly_its_quote(tmp_path_factory, docs, questions):
    root = tmp_path_factory.mktemp("prop")
    corpus = root / "corpus"
    corpus.mkdir()
    for i, text in enumerate(docs):
        if text.strip():
            (corpus / f"d{i}.txt").write_text(text, encoding="utf-8")
    engine = Engine.open(corpus, root / "index")
    for q in [*questions, "what is the capacity?", "who said it?", "how much did it cost?"]:
        a = engine.ask(q)
        for c in a.citations:
            text = (corpus / c.source).read_text(encoding="utf-8")
            assert text[c.start : c.end] == c.quote == a.answer
            assert a.sentence is not None and a.sentence_start is not None
            assert text[a.sentence_start : a.sentence_start + len(a.sentence)] == a.sentence
            s, e = a.span_in_sentence
            assert a.sentence[s:e] == a.answer
        for h in a.sources:
            text = (corpus / h.chunk.source).read_text(encoding="utf-8")
            assert text[h.chunk.start : h.chunk.end] == h.chunk.text


def test_a_reader_never_writes_and_follows_the_writer(engine: Engine):
    index_dir = engine.store.index_dir
    reader = Engine.reader(engine.corpus, index_dir)
    before = (index_dir / "CURRENT").read_text()
    (engine.corpus / "new.md").write_text("# Bells\n\nThe bell weighs 300 kg.\n", encoding="utf-8")
    assert not reader.follow_disk()  # the generation it holds is still live: nothing to do
    assert not reader.ask("how much does the bell weigh").answered
    assert (index_dir / "CURRENT").read_text() == before
    engine.refresh()
    # The next question notices the switch on disk by itself.
    assert "300 kg" in (reader.ask("how much does the bell weigh").answer or "")
    assert reader.generation == engine.generation


def test_a_reindex_by_another_process_is_served_and_reported(engine: Engine):
    """A second engine on the same folders stands for ``citebot index`` run from a shell."""
    question = "how much does the bell weigh"
    served = engine.generation
    assert not engine.ask(question).answered
    (engine.corpus / "new.md").write_text("# Bells\n\nThe bell weighs 300 kg.\n", encoding="utf-8")
    shell = Engine(engine.corpus, engine.store.index_dir)
    assert shell.refresh().added == ("new.md",)
    assert engine._index is not None and engine._index.path.name == served  # not yet looked
    assert "300 kg" in (engine.ask(question).answer or "")
    assert engine.generation == shell.generation != served

    # Another switch by the shell, then a refresh here: counted against what the last refresh
    # reported (at start: no new.md, a seed.txt), not against what was followed since.
    (engine.corpus / "new.md").write_text("# Bells\n\nThe bell weighs 420 kg.\n", encoding="utf-8")
    (engine.corpus / "seed.txt").unlink()
    shell.refresh()
    report = engine.refresh()
    assert report.changed_anything
    assert (report.added, report.changed, report.removed) == (("new.md",), (), ("seed.txt",))
    assert report.previous != shell.generation and report.stats.documents == 1
    assert "420 kg" in (engine.ask(question).answer or "")
    # Nothing new since: nothing changed.
    assert not engine.refresh().changed_anything


def test_an_unusable_live_generation_is_warned_about_and_not_served(engine: Engine):
    warnings: list[str] = []
    reader = Engine.reader(engine.corpus, engine.store.index_dir, warn=warnings.append)
    held = reader.generation
    other = Engine(
        engine.corpus,
        engine.store.index_dir,
        options=EngineOptions(chunk_tokens=120, chunk_overlap=20),
    )
    other.refresh()  # rebuilt with other chunk settings: this reader cannot use it
    assert reader.ask("what is CECOT's capacity").answer == "40,000 inmates"
    assert reader.ask("what is CECOT's capacity").answer == "40,000 inmates"
    assert reader.generation == held
    assert len(warnings) == 1 and "chunker settings changed" in warnings[0]


def test_tune_gc_turns_collection_off_and_freezes_what_is_loaded():
    import gc

    from bot.engine import tune_gc

    try:
        tune_gc()
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_answering_leaves_no_reference_cycles(tmp_path: Path):
    # ``tune_gc`` turns the cyclic collector off in the answer workers: sound only while
    # answering, found or not, refused or failing, leaves nothing that needs it.
    import gc

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    engine = Engine.open(corpus, tmp_path / "index", options=EngineOptions(answer_cache=0))
    questions = ["What is CECOT's capacity?", "when was the bell cast", "zebra quantum", ""]
    for q in questions:  # caches and lazily loaded tables first
        with contextlib.suppress(QuestionError):
            engine.ask(q)
    gc.collect()
    gc.disable()
    try:
        for q in [*questions, "x" * 5000, "how many inmates", "Who is Bukele?"]:
            with contextlib.suppress(QuestionError):
                engine.ask(q)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_explain_reports_terms_chunks_scores_and_threshold(engine: Engine):
    plain = engine.ask("what is CECOT's capacity")
    a = engine.ask("what is CECOT's capacity", explain=True)
    assert plain.explanation is None  # only when asked for, and not served from its cache
    ex = a.explanation
    assert ex is not None and a.answered
    assert [(t.word, t.found) for t in ex.terms] == [("CECOT's", True), ("capacity", True)]
    assert ex.terms[0].term == "cecot"
    assert ex.chunks[: len(a.sources)] == a.sources
    assert ex.score is not None and ex.runner_up_score is not None
    assert ex.score > ex.runner_up_score
    assert ex.runner_up and ex.runner_up not in a.answer and a.answer not in ex.runner_up
    assert ex.no_answer_score is None  # the lexical extractor has none
    assert ex.threshold == engine.options.min_confidence <= a.confidence


def test_explain_shows_what_a_misspelt_word_was_read_as(engine: Engine):
    a = engine.ask("what is the capasity of ceccot", explain=True)
    assert "40,000 inmates" in a.sources[0].chunk.text  # retrieval reads the words as meant
    fixed = {t.word: t.corrected for t in a.explanation.terms}
    assert fixed == {"capasity": "capac", "ceccot": "cecot"}


def test_explain_of_a_withheld_answer_marks_missing_terms(engine: Engine):
    a = engine.ask("What is the capital of France?", explain=True)
    ex = a.explanation
    assert ex is not None and not a.answered
    assert [(t.term, t.found) for t in ex.terms] == [("capit", False), ("franc", False)]
    assert ex.chunks == () and ex.score is None and ex.runner_up is None
