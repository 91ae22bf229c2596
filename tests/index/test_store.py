import json
import os
import random
import threading

import numpy as np
import pytest

from bot.analyze import Analyzer
from bot.index import BM25Params, IndexUnusable
from bot.index.store import SECTION
from bot.models import Document
from tests.index.conftest import write_doc


def generations(store):
    return sorted(p.name for p in store.index_dir.iterdir() if p.name.startswith("gen-"))


def check_offsets(index):
    for source in index.sources():
        doc = index.document(source)
        ids = index.chunk_ids(source)
        for cid in ids:
            c = index.chunk(cid)
            assert c.id == cid and c.source == source
            assert doc.text[c.start : c.end] == c.text
            assert doc.line_of(c.start) == c.line


def snapshot(index):
    """Everything a query can observe, keyed by content rather than chunk id."""
    out = {}
    for source in index.sources():
        for cid in index.chunk_ids(source):
            c = index.chunk(cid)
            out[(source, c.start)] = (c.end, c.section, c.line, c.n_tokens)
    return out


def search_by_content(index, terms, k=1000):
    return sorted(
        ((index.chunk(cid).source, index.chunk(cid).start), score)
        for cid, score in index.search(terms, k)
    )


def test_build_load_search(make_store, corpus):
    (corpus / "a.txt").write_text("CECOT has a capacity of 40,000 inmates.\n", encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "b.md").write_text("# Café\n\nNaïve résumé über 40000 things.\n")
    store = make_store()
    report = store.update(corpus)
    assert report.added == ("a.txt", "sub/b.md") and report.rebuilt_because is None
    index = store.load()
    assert index.sources() == ["a.txt", "sub/b.md"]
    assert index.stats.documents == 2 and index.stats.chunks == 2
    assert index.stats == report.stats
    hits = index.search(Analyzer().terms("40,000 capacity"), 5)
    assert [index.chunk(c).source for c, _ in hits] == ["a.txt", "sub/b.md"]
    check_offsets(index)  # non-ASCII text exercises the byte offsets
    assert index.document("sub/b.md").headings[0].text == "Café"
    for source in index.sources():  # stored line starts equal a fresh scan of the text
        doc = index.document(source)
        fresh = Document.create(source, doc.title, doc.text)
        assert list(doc.line_starts) == list(fresh.line_starts)
        for offset in range(0, len(doc.text), 7):
            assert doc.line_of(offset) == fresh.line_of(offset)
    assert index.doc_freq("40000") == 2 and index.doc_freq("cecot") == 1
    assert index.doc_freq("absent") == 0
    assert index.chunk(1).section == "Café"
    with pytest.raises(KeyError):
        index.document("nope.txt")
    with pytest.raises(IndexError):
        index.chunk(2)


def test_text_and_title_alone_are_the_documents(make_store, corpus):
    for i in range(3):
        (corpus / f"d{i}.md").write_text(f'# "Título" {i}\\\n\nÜber {i} things.\n\n## Más\n')
    (corpus / "plain.txt").write_text("no title line here\n")
    store = make_store()
    store.update(corpus)
    index = store.load()
    for _ in range(2):  # decoded, then from the cache
        for source in index.sources():
            doc = index.document(source)
            assert (index.text(source), index.title(source)) == (doc.text, doc.title)
    assert index.title("d1.md").startswith('"Título" 1')  # escapes in the stored JSON
    for method in (index.text, index.title):
        with pytest.raises(KeyError):
            method("nope.md")


def test_empty_corpus_gives_empty_index(make_store, corpus):
    store = make_store()
    report = store.update(corpus)
    assert report.stats.chunks == 0 and not report.added
    index = store.load()
    assert index.search(["anything"], 5) == [] and index.sources() == []


def test_load_without_index_is_unusable(make_store):
    with pytest.raises(IndexUnusable, match="no index"):
        make_store().load()


def test_unchanged_corpus_writes_nothing(make_store, corpus):
    write_doc(corpus / "a.md", random.Random(1))
    store = make_store()
    store.update(corpus)
    gens = generations(store)
    mtimes = {p: p.stat().st_mtime_ns for p in store.index_dir.rglob("*")}
    report = store.update(corpus)
    assert not report.changed_anything and report.unchanged == 1
    assert generations(store) == gens
    assert {p: p.stat().st_mtime_ns for p in store.index_dir.rglob("*")} == mtimes


def test_live_mark_changes_with_every_switch_and_only_then(make_store, corpus):
    store = make_store()
    assert store.live_mark() is None and store.live_generation() is None
    write_doc(corpus / "a.md", random.Random(1))
    store.update(corpus)
    first = store.live_mark()
    index = store.load()
    assert first is not None and store.live_generation() == index.path.name
    store.update(corpus)  # nothing changed: no switch
    assert store.live_mark() == first
    marks = {first}
    for seed in (2, 3):
        write_doc(corpus / f"d{seed}.md", random.Random(seed))
        store.update(corpus)
        marks.add(store.live_mark())
    assert len(marks) == 3
    # The first generation is deleted by now; what it indexed can still be told.
    assert not index.path.exists() and list(index.fingerprints()) == ["a.md"]


def test_touched_file_is_not_reindexed_but_its_stat_is_kept(make_store, corpus):
    path = corpus / "a.md"
    write_doc(path, random.Random(1))
    store = make_store()
    store.update(corpus)
    before = store.load()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = store.update(corpus)
    assert not report.changed_anything and report.unchanged == 1
    after = store.load()
    assert snapshot(after) == snapshot(before) and after.path != before.path
    # The new stat was recorded: the next update neither hashes nor writes.
    gens = generations(store)
    assert not store.update(corpus).changed_anything and generations(store) == gens


def test_incremental_update_equals_full_rebuild(make_store, corpus, tmp_path):
    rng = random.Random(5)
    for i in range(8):
        write_doc(corpus / f"d{i}.md", rng)
    store = make_store()
    store.update(corpus)
    old = store.load()
    old_snapshot = snapshot(old)
    # change one, add one, remove one
    write_doc(corpus / "d3.md", rng, sections=2)
    write_doc(corpus / "d9.md", rng)
    (corpus / "d0.md").unlink()
    report = store.update(corpus)
    assert report.changed == ("d3.md",) and report.added == ("d9.md",)
    assert report.removed == ("d0.md",) and report.unchanged == 6
    inc = store.load()
    full_store = make_store(name="full")
    full_store.update(corpus)
    full = full_store.load()
    assert snapshot(inc) == snapshot(full)
    assert inc.stats.chunks == full.stats.chunks and inc.stats.tokens == full.stats.tokens
    for terms in (["lorum"], ["ipex", "amis"], ["titl", "section", "conet"], ["d9"]):
        # Same ids too: chunk ids follow source order in both.
        assert inc.search(terms, 50) == full.search(terms, 50)
    for name in ("indptr", "post_chunk", "post_tf", "post_weight"):
        a = np.load(inc.path / f"{name}.npy")
        b = np.load(full.path / f"{name}.npy")
        assert np.array_equal(a, b), name
    # Section ids may be numbered differently (the snapshot compares their text).
    a, b = np.load(inc.path / "chunks.npy"), np.load(full.path / "chunks.npy")
    assert np.array_equal(np.delete(a, SECTION, axis=1), np.delete(b, SECTION, axis=1))
    check_offsets(inc)
    # The old snapshot still answers from its deleted generation.
    assert not old.path.exists()
    assert snapshot(old) == old_snapshot
    check_offsets(old)


def test_kept_documents_are_not_reread(make_store, corpus, monkeypatch):
    rng = random.Random(2)
    for i in range(3):
        write_doc(corpus / f"d{i}.md", rng)
    store = make_store()
    store.update(corpus)
    import bot.index.build as build

    seen = []
    real = build.read_document

    def spy(file, data=None):
        seen.append(file.source)
        return real(file, data)

    monkeypatch.setattr(build, "read_document", spy)
    write_doc(corpus / "d1.md", rng)
    store.update(corpus)
    assert seen == ["d1.md"]


def test_unreadable_files_are_skipped_and_retried_when_changed(make_store, corpus):
    (corpus / "good.txt").write_text("Good text here.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\x00\x01binary")
    warnings = []
    store = make_store()
    report = store.update(corpus, warn=warnings.append)
    assert report.skipped == (("bad.txt", "binary file (it holds NUL bytes)"),)
    assert warnings == ["skipped bad.txt: binary file (it holds NUL bytes)"]
    warnings.clear()
    report = store.update(corpus, warn=warnings.append)
    assert warnings == [] and not report.changed_anything
    assert report.skipped == (("bad.txt", "binary file (it holds NUL bytes)"),)
    (corpus / "bad.txt").write_text("Now it is readable text.", encoding="utf-8")
    report = store.update(corpus, warn=warnings.append)
    assert report.added == ("bad.txt",) and report.skipped == ()
    # A document that becomes unreadable is dropped from the index.
    (corpus / "good.txt").write_bytes(b"")
    report = store.update(corpus, warn=warnings.append)
    assert report.removed == ("good.txt",) and report.skipped == (("good.txt", "empty file"),)
    assert store.load().sources() == ["bad.txt"]


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda g: (g / "meta.json").write_text("{not json"), "corrupt meta.json"),
        (lambda g: (g / "vocab.json").unlink(), "missing vocab.json"),
        (lambda g: _truncate(g / "post_weight.npy"), "post_weight.npy"),
        (lambda g: np.save(g / "post_tf.npy", np.zeros(3, np.int32)), "corrupt post_tf.npy"),
        (lambda g: _set_meta(g, format=0), "index format 0"),
        (lambda g: (g / "texts.bin").write_bytes(b"x"), "corrupt texts.bin"),
        (lambda g: (g / "files.json").write_text("[]"), "corrupt files.json"),
        (lambda g: (g / "manifest.json").unlink(), "missing manifest.json"),
    ],
)
def test_unusable_index_is_rebuilt_with_a_warning(make_store, corpus, damage, reason):
    write_doc(corpus / "a.md", random.Random(1))
    store = make_store()
    store.update(corpus)
    good = snapshot(store.load())
    gen = store.index_dir / (store.index_dir / "CURRENT").read_text()
    damage(gen)
    with pytest.raises(IndexUnusable, match=reason):
        store.load()
    warnings = []
    report = store.update(corpus, warn=warnings.append)
    assert reason in report.rebuilt_because and report.changed_anything
    assert len(warnings) == 1 and reason in warnings[0]
    assert snapshot(store.load()) == good


def test_settings_change_forces_rebuild(make_store, corpus):
    write_doc(corpus / "a.md", random.Random(1))
    make_store().update(corpus)
    report = make_store(params=BM25Params(k1=2.0)).update(corpus)
    assert report.rebuilt_because == "params settings changed"
    report = make_store(chunk_tokens=50).update(corpus)
    assert report.rebuilt_because == "chunker settings changed"
    with pytest.raises(IndexUnusable, match="chunker"):
        make_store().load()


def test_parallel_build_equals_serial(make_store, corpus):
    rng = random.Random(9)
    for i in range(40):
        write_doc(corpus / f"d{i:02d}.md", rng, sections=1, sentences=4)
    serial = make_store(name="serial")
    serial.workers = 1
    parallel = make_store(name="parallel")
    parallel.workers = 2
    progress = []
    serial.update(corpus)
    parallel.update(corpus, progress=lambda done, total: progress.append((done, total)))
    assert progress[0] == (0, 40) and progress[-1] == (40, 40)
    a, b = serial.load(), parallel.load()
    for name in ("indptr", "post_chunk", "post_weight", "chunks"):
        assert np.array_equal(np.load(a.path / f"{name}.npy"), np.load(b.path / f"{name}.npy"))


def test_updates_are_serialised_by_the_lock(make_store, corpus):
    rng = random.Random(4)
    for i in range(5):
        write_doc(corpus / f"d{i}.md", rng)
    stores = [make_store(), make_store()]
    reports = []
    threads = [
        threading.Thread(target=lambda s=s: reports.append(s.update(corpus))) for s in stores
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Exactly one of them built; the other found the index current.
    assert sorted(len(r.added) for r in reports) == [0, 5]
    assert len(generations(stores[0])) == 1


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set_meta(gen, **changes):
    meta = json.loads((gen / "meta.json").read_text())
    meta.update(changes)
    (gen / "meta.json").write_text(json.dumps(meta))


def test_stable_order_is_a_stable_argsort():
    from bot.index.store import _stable_order

    rng = np.random.default_rng(7)
    for high in (3, 1 << 16, (1 << 31) - 1):
        keys = rng.integers(0, high, size=5000, dtype=np.int32)
        assert np.array_equal(_stable_order(keys), np.argsort(keys, kind="stable"))
