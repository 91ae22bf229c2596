"""Any bytes as corpus files: indexing never crashes and every citation is exact (issue #18)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine

SUFFIXES = [".txt", ".md", ".rst", ".html", ".htm", ".pdf", ".docx", ".markdown", ".xyz"]
WORDS = re.compile(r"[^\W\d_]{3,}")

# Bytes that look like text some of the time: a text alphabet in some encoding, or raw bytes.
text_bytes = st.text(max_size=300).flatmap(
    lambda t: st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]).map(
        lambda codec: t.encode(codec, "surrogatepass")
    )
)
contents = st.one_of(
    st.binary(max_size=400),
    text_bytes,
    st.lists(st.sampled_from(["# Title\n", "Word ", "=====\n", "\x1b[2J", "<h1>", "¶", "\r\n",
                              "The ferry leaves at nine. ", "\ufeff", "４０，０００ "]),
             max_size=40).map(lambda parts: "".join(parts).encode("utf-8")),
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SUFFIXES), contents), min_size=1, max_size=4))
def test_any_bytes_index_and_cite_exactly(files):
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for i, (suffix, data) in enumerate(files):
            (corpus / f"f{i}{suffix}").write_bytes(data)
        warnings: list[str] = []
        engine = Engine.open(corpus, Path(tmp) / "index", warn=warnings.append)
        index = engine.index
        for source in engine.sources():
            doc = index.document(source)
            for cid in index.chunk_ids(source):
                chunk = index.chunk(cid)
                assert doc.text[chunk.start : chunk.end] == chunk.text
            for h in doc.headings:
                assert 0 <= h.start <= h.end <= len(doc.text)
            words = WORDS.findall(doc.text)[:3]
            if not words:
                continue
            answer = engine.ask(" ".join(words))
            for c in answer.citations:
                assert index.document(c.source).text[c.start : c.end] == c.quote
        # Every file is indexed or skipped, with one warning each for the skipped ones.
        report = engine.refresh()
        assert len(engine.sources()) + len(report.skipped) + sum(
            n for _, n in report.unsupported
        ) == len(files)
