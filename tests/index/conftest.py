import random
from pathlib import Path

import pytest

from bot.analyze import Analyzer
from bot.chunk import Chunker
from bot.index import BM25Params, IndexStore

# A skewed vocabulary, so some terms are in most chunks and others in a handful.
WORDS = [
    f"{a}{b}"
    for a in ("lor", "ip", "dol", "sit", "am", "con", "sec", "adi", "pisc", "eli", "sed", "eiu")
    for b in ("um", "ex", "or", "an", "is", "et", "ar", "on", "ut", "ix")
]


def sentence(rng: random.Random) -> str:
    n = rng.randint(4, 14)
    words = [WORDS[min(int(rng.paretovariate(0.8)) - 1, len(WORDS) - 1)] for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def write_doc(path: Path, rng: random.Random, sections: int = 3, sentences: int = 12) -> None:
    parts = [f"# Title {path.stem} {rng.choice(WORDS)}\n"]
    for s in range(sections):
        parts.append(f"\n## Section {s} {rng.choice(WORDS)}\n\n")
        parts.append(" ".join(sentence(rng) for _ in range(sentences)) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts), encoding="utf-8")


@pytest.fixture
def make_store(tmp_path):
    def _make(
        chunk_tokens: int = 40, params: BM25Params | None = None, name: str = "index"
    ) -> IndexStore:
        return IndexStore(
            tmp_path / name,
            analyzer=Analyzer(),
            chunker=Chunker(chunk_tokens, 8),
            params=params or BM25Params(),
        )

    return _make


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus"
    path.mkdir()
    return path
