"""A damaged generation is found, never served: every file of a small index is corrupted in turn
(truncated, random bytes written into it, one byte changed in place) and the next open either
rebuilds it with one warning, answering exactly as before, or the load says it is unusable."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from bot.index import IndexUnusable
from bot.index.store import MANIFEST, VERIFIED, _file_stats, _read_manifest, _record_verified

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
QUESTIONS = (
    "what is CECOT's capacity",
    "how much did it cost to build",
    "what colour is the lighthouse keeper's boat",
    "who runs the depot ledger",
)
# Every file a generation holds (verified.json is only a record; losing it costs a re-hash).
FILES = (
    "meta.json",
    "files.json",
    "sources.json",
    "vocab.json",
    "sections.json",
    "doc_chunks.npy",
    "doc_lines.npy",
    "lines.npy",
    "doc_bytes.npy",
    "texts.bin",
    "docmeta.bin",
    "docmeta_off.npy",
    "chunks.npy",
    "indptr.npy",
    "post_chunk.npy",
    "post_tf.npy",
    "post_weight.npy",
    MANIFEST,
)


def answers(engine: Engine) -> list:
    return [replace(engine.ask(q), took_ms=0.0) for q in QUESTIONS]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path, list]:
    root = tmp_path_factory.mktemp("damage")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copyfile(FIXTURES / "seed.txt", corpus / "seed.txt")
    (corpus / "harbour.md").write_text(
        "# The Harbour\n\n## Boats\n\nThe lighthouse keeper's boat is painted bright orange so "
        "that rescue crews see it in fog. Über den Hafen: Straße 5.\n",
        encoding="utf-8",
    )
    (corpus / "depot.txt").write_text(
        "The Depot\n\nThe depot ledger is kept by Mrs. Alvarez in a vault lined with copper.\n",
        encoding="utf-8",
    )
    engine = Engine.open(corpus, root / "index")
    return corpus, root / "index", answers(engine)


def live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def test_the_generation_lists_every_file(pristine):
    _, index_dir, _ = pristine
    gen = live(index_dir)
    assert sorted(p.name for p in gen.iterdir()) == sorted((*FILES, VERIFIED))
    assert sorted(_read_manifest(gen)[0]) == sorted(set(FILES) - {MANIFEST})


KINDS = ("truncate", "random bytes", "same-length edit")
# Where, as a share of the file's length, and the bytes written there.
place = st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=64))


def corrupt(path: Path, kind: str, where: float, data: bytes) -> bool:
    """Damage ``path`` in place; False if the bytes happen to be unchanged."""
    old = path.read_bytes()
    at = int(where * len(old))
    if kind == "truncate":
        new = old[:at]
    elif kind == "random bytes":
        new = old[:at] + data + old[at + len(data) :]
    else:
        new = old[:at] + bytes([old[at] ^ (data[0] or 1)]) + old[at + 1 :]
    if new == old:
        return False
    with open(path, "r+b") as f:  # in place: the same inode, as damage on a disk would be
        f.write(new)
        f.truncate(len(new))
    return True


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", FILES)
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(place)
def test_damage_is_detected_and_rebuilt_never_served(
    pristine, tmp_path_factory, name, kind, where_what
):
    corpus, template, expected = pristine
    index_dir = tmp_path_factory.mktemp("copy") / "index"
    shutil.copytree(template, index_dir)
    store = Engine(corpus, index_dir).store
    gen = live(index_dir)
    store.load()  # verified and recorded: damage must be found through the record
    if not corrupt(gen / name, kind, *where_what):
        return
    with pytest.raises(IndexUnusable):
        Engine(corpus, index_dir).store.load()
    warnings: list[str] = []
    engine = Engine.open(corpus, index_dir, warn=warnings.append)
    assert len(warnings) == 1 and warnings[0].startswith("rebuilding the index: "), warnings
    assert "\n" not in warnings[0]
    assert answers(engine) == expected
    assert live(index_dir) != gen and not gen.exists()


@pytest.mark.parametrize("name", [f for f in FILES if f != MANIFEST])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(KINDS), place)
def test_damage_the_stats_hide_fails_cleanly(pristine, tmp_path_factory, name, kind, where_what):
    """Damage recorded as verified (as bit rot under unchanged stats would be): the bounds checks
    and the decoding find what would read out of range or not decode. Either way, nothing but
    IndexUnusable comes out of loading and using the index."""
    corpus, template, _ = pristine
    index_dir = tmp_path_factory.mktemp("copy") / "index"
    shutil.copytree(template, index_dir)
    gen = live(index_dir)
    if not corrupt(gen / name, kind, *where_what):
        return
    files, check = _read_manifest(gen)
    _record_verified(gen, check, _file_stats(gen, files))
    loaded = False
    try:
        engine = Engine.reader(corpus, index_dir)
        index = engine.index
        loaded = True
        for source in index.sources():
            index.document(source)
            index.title(source)
        for cid in range(index.stats.chunks):
            index.chunk(cid)
        for q in QUESTIONS:
            engine.ask(q)
    except IndexUnusable as exc:
        assert "\n" not in str(exc)
        if loaded:
            # Found while answering: the record is dropped, so the next load hashes again.
            assert not (gen / VERIFIED).exists()


def test_a_damaged_record_of_verification_costs_only_a_rehash(pristine, tmp_path):
    corpus, template, expected = pristine
    shutil.copytree(template, tmp_path / "index")
    gen = live(tmp_path / "index")
    (gen / VERIFIED).write_text("{garbage")
    warnings: list[str] = []
    engine = Engine.open(corpus, tmp_path / "index", warn=warnings.append)
    assert warnings == [] and answers(engine) == expected and live(tmp_path / "index") == gen
    assert json.loads((gen / VERIFIED).read_text())["check"] == _read_manifest(gen)[1]


def test_later_loads_skip_the_hash_until_a_stat_changes(pristine, tmp_path, monkeypatch):
    import bot.index.store as store_module

    corpus, template, _ = pristine
    shutil.copytree(template, tmp_path / "index")
    hashed: list[str] = []
    real = store_module._file_hash
    monkeypatch.setattr(store_module, "_file_hash", lambda p: hashed.append(p.name) or real(p))
    Engine(corpus, tmp_path / "index").store.load()  # copied: new inodes, so hashed once
    assert len(hashed) == len(FILES) - 1
    hashed.clear()
    Engine(corpus, tmp_path / "index").store.load()
    assert hashed == []
    gen = live(tmp_path / "index")
    path = gen / "texts.bin"
    path.write_bytes(path.read_bytes())  # same bytes, new ctime
    Engine(corpus, tmp_path / "index").store.load()
    assert len(hashed) == len(FILES) - 1


def test_damage_found_while_answering_is_rebuilt_by_the_next_refresh(pristine, tmp_path):
    corpus, template, expected = pristine
    shutil.copytree(template, tmp_path / "index")
    warnings: list[str] = []
    engine = Engine.open(corpus, tmp_path / "index", warn=warnings.append)
    gen = live(tmp_path / "index")
    assert engine.index.sources()[0] == "depot.txt"  # its text starts texts.bin
    with open(gen / "texts.bin", "r+b") as f:
        f.write(b"\xff")
    files, check = _read_manifest(gen)
    _record_verified(gen, check, _file_stats(gen, files))  # as if the stats had not moved
    with pytest.raises(IndexUnusable, match=r"corrupt texts\.bin"):
        engine.ask("who runs the depot ledger")
    assert not (gen / VERIFIED).exists()
    assert warnings == []
    report = engine.refresh()
    assert report.rebuilt_because == "corrupt texts.bin: checksum mismatch"
    assert warnings == ["rebuilding the index: corrupt texts.bin: checksum mismatch"]
    assert answers(engine) == expected
