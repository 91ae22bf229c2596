"""The fast build produces the index the plain way would: same chunks, same postings, same bytes.

The chunker counts tokens from one encoding per document (``bot.chunk._SpanCounter``) and the
builder counts terms per sentence unit with numpy; both are checked here against the obvious
computation (encode every span, ``Counter`` over every chunk's terms), and the whole index
against a digest recorded from the build before those optimisations.
"""

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import bot.chunk
from bot.analyze import Analyzer
from bot.chunk import Chunker
from bot.index import BM25Params, IndexStore
from bot.index.build import TermIds, analyse_document, chunk_terms
from bot.ingest import read_document, scan_corpus
from bot.models import Document
from tests.index.conftest import WORDS, sentence, write_doc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# sha256 of the index built from ``write_identity_corpus`` (see ``index_digest``), recorded with
# the build as it was before the span counter and numpy term counting. Change it only together
# with a deliberate change of chunking, analysis or the index format (and say so in the commit).
# Format 3 (manifest.json) changed only meta.json's "format": with it set back to 2, the digest
# is the recorded one, 817de332...ddade24.
DIGEST = "6640ffcfad7f6c8510df41e2c514e41b1cc88f408369459678e4ec9da34dd924"


def write_identity_corpus(root: Path) -> Path:
    """Documents that exercise every path: markdown sections, plain-text headings, non-ASCII
    text, CRLF, sentences over the budget (cut at spaces and inside an unbroken run), and
    sentences split mid-word that land in one chunk."""
    rng = random.Random(7)
    for i in range(12):
        write_doc(root / f"gen/d{i:02d}.md", rng, sections=rng.randint(1, 4))
    (root / "seed.txt").write_bytes((FIXTURES / "seed.txt").read_bytes())
    plain = []
    for s in range(4):
        plain.append(f"Section {s} Overview\n")
        plain.append(" ".join(sentence(rng) for _ in range(rng.randint(3, 9))) + "\n\n")
    (root / "plain.txt").write_text("".join(plain), encoding="utf-8")
    words = [f"{rng.choice(WORDS)}é日本{i}" for i in range(300)]
    (root / "unicode.txt").write_text(
        "Café naïve résumé, 40,000 Ärzte.\n\n" + " ".join(words) + ".\nÜber alles. Straße 5G.\n",
        encoding="utf-8",
    )
    (root / "crlf.txt").write_bytes(b"Line One Title\r\nThe first line of text here.\r\nMore.\r\n")
    (root / "runs.txt").write_text(
        "Opening sentence. " + "x" * 900 + " closing words " + "abc" * 300 + ". The end.\n",
        encoding="utf-8",
    )
    # Chunks of 16 tokens with a word of ~10 tokens: pieces cut inside words share chunks.
    (root / "tiny.txt").write_text(
        " ".join("Zyxwvutsrqponmlkjihgfedcba" + "q" * k for k in range(40)) + ".\n",
        encoding="utf-8",
    )
    return root


def build(root: Path, index_dir: Path, workers: int, chunk_tokens: int = 40) -> IndexStore:
    store = IndexStore(
        index_dir,
        analyzer=Analyzer(),
        chunker=Chunker(chunk_tokens, 8),
        params=BM25Params(),
    )
    store.workers = workers
    store.update(root)
    return store


def index_digest(index_dir: Path) -> str:
    """sha256 over a generation's files, without what depends on the clock or file stats."""
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    h = hashlib.sha256()
    for path in sorted(gen.iterdir()):
        # files.json holds the mtimes of the files just written, and the manifest its hash
        if path.name in ("files.json", "manifest.json", "verified.json"):
            continue
        data = path.read_bytes()
        if path.name == "meta.json":
            meta = json.loads(data)
            del meta["stats"]["built_at"]
            data = json.dumps(meta, sort_keys=True).encode()
        h.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


@pytest.fixture(scope="module")
def identity_corpus(tmp_path_factory) -> Path:
    return write_identity_corpus(tmp_path_factory.mktemp("identity") / "corpus")


@pytest.mark.parametrize("workers", [1, 2])
def test_index_bytes_equal_the_recorded_build(identity_corpus, tmp_path, workers, monkeypatch):
    # Below PARALLEL_MIN_FILES the pool is not used; lower it so workers=2 takes the pool path.
    monkeypatch.setattr("bot.index.build.PARALLEL_MIN_FILES", 2)
    build(identity_corpus, tmp_path / "index", workers)
    assert index_digest(tmp_path / "index") == DIGEST


class _EncodeEachSpan:
    """The span counter's interface, encoding every span on its own: the reference."""

    def __init__(self, chunker: Chunker, text: str) -> None:
        self.text = text
        self._enc = chunker._enc

    def count(self, s: int, e: int) -> int:
        return len(self._enc.encode_ordinary(self.text[s:e]))

    def counts(self, starts: np.ndarray, ends: np.ndarray) -> list[int]:
        return [self.count(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 40), (40, 8), (16, 4)])
def test_chunks_equal_encoding_every_span(identity_corpus, monkeypatch, max_tokens, overlap):
    docs = [read_document(f) for f in scan_corpus(identity_corpus)]
    fast = [Chunker(max_tokens, overlap).plan(d) for d in docs]
    monkeypatch.setattr(bot.chunk, "_SpanCounter", _EncodeEachSpan)
    slow = [Chunker(max_tokens, overlap).plan(d) for d in docs]
    assert fast == slow
    assert sum(len(p.starts) for p in fast) > 50


@pytest.mark.parametrize("chunk_tokens", [40, 16])
def test_postings_equal_counting_each_chunk(identity_corpus, tmp_path, chunk_tokens):
    store = build(identity_corpus, tmp_path / "index", 1, chunk_tokens)
    index = store.load()
    analyzer = Analyzer()
    vocab = json.loads((index.path / "vocab.json").read_text(encoding="utf-8"))
    indptr = np.load(index.path / "indptr.npy")
    post_chunk = np.load(index.path / "post_chunk.npy")
    post_tf = np.load(index.path / "post_tf.npy")
    chunks = np.load(index.path / "chunks.npy")
    stored: dict[int, Counter[str]] = {}
    for t, term in enumerate(vocab):
        for p in range(indptr[t], indptr[t + 1]):
            stored.setdefault(int(post_chunk[p]), Counter())[term] = int(post_tf[p])
    for cid in range(index.stats.chunks):
        c = index.chunk(cid)
        title = index.document(c.source).title
        want = Counter(chunk_terms(analyzer, title, c.section, c.text, True))
        assert stored.get(cid, Counter()) == want, (c.source, c.start)
        assert chunks[cid, -1] == sum(want.values())


# Over-long sentences cut inside a word, where two touching pieces share a chunk: the builder
# must not count words per piece there (the cut word would count as two).
CUT_INSIDE_WORDS = [
    (
        "ewcj9zom56eé5tyftbnhc2umr a',s7tdk8gl5p'n5qxbp本c0tua2v6ci34 r6z4-plw,4f5-43éi, hq3mxxd..",
        6,
    ),
    (
        "u-8zwhjkm.1vmkk8yv.-vms本q94p3138u5fi s1lu9dw6jenp8fgckwqv1vjt1 md5n2vyl0uuo本-2fd5d "
        ",k4at.",
        4,
    ),
    ("wjsdfm'w0é gni6 3th日xhewn2w etiihvxbk0hpb0v日c7.iktwzé,kp4itk-1zfhyv8.", 2),
]


@pytest.mark.parametrize(("text", "max_tokens"), CUT_INSIDE_WORDS)
def test_terms_of_chunks_with_pieces_cut_inside_words(text, max_tokens):
    doc = Document.create("cut.txt", "Cut Title", text)
    plan = Chunker(max_tokens, 1).plan(doc)
    touching = [
        any(plan.units[k][0] <= plan.units[k - 1][1] for k in range(a + 1, b + 1))
        for a, b in zip(plan.first, plan.last, strict=True)
    ]
    assert any(touching)  # the case under test does occur
    analyzer = Analyzer()
    ids = TermIds(analyzer)
    table, sections, p_chunk, p_term, p_tf = analyse_document(doc, plan, ids, True)
    vocab = ids.take_new()
    got: dict[int, Counter[str]] = {}
    for c, t, tf in zip(p_chunk.tolist(), p_term.tolist(), p_tf.tolist(), strict=True):
        got.setdefault(c, Counter())[vocab[t]] = tf
    for k, (s, e) in enumerate(zip(plan.starts, plan.ends, strict=True)):
        want = Counter(chunk_terms(analyzer, doc.title, sections[k], text[s:e], True))
        assert got.get(k, Counter()) == want
        assert table[k, 6] == sum(want.values())
