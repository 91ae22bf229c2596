"""Dev-set readers: SQuAD v1.1/v2.0 JSON, BEIR folders and JSONL question files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SQUAD = "squad"
BEIR = "beir"
JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # empty when the question has no answer
    article: int = -1  # SQuAD article index in the file; -1 elsewhere
    paragraph: int = -1

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True, slots=True)
class Article:
    index: int
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class BeirSet:
    corpus: dict[str, tuple[str, str]]  # doc id → (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)  # query id → doc id → grade


def detect(path: Path) -> str:
    if path.is_dir():
        return BEIR
    if path.suffix == ".jsonl":
        return JSONL
    return SQUAD


def load_squad(path: Path) -> list[Article]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    articles = []
    for ai, art in enumerate(data["data"]):
        paragraphs = []
        questions = []
        for pi, p in enumerate(art["paragraphs"]):
            paragraphs.append(p["context"])
            for qa in p["qas"]:
                impossible = bool(qa.get("is_impossible", False))
                golds = () if impossible else tuple(a["text"] for a in qa["answers"])
                questions.append(Question(str(qa["id"]), qa["question"], golds, ai, pi))
        articles.append(
            Article(ai, art.get("title", f"article {ai}"), tuple(paragraphs), tuple(questions))
        )
    return articles


def load_questions(path: Path) -> list[Question]:
    """``{"id", "question", "answers": [...], "answerable"}`` per line; unanswerable questions
    carry no answers."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        answers = tuple(obj.get("answers") or ())
        if obj.get("answerable") is False:
            answers = ()
        out.append(Question(str(obj.get("id", n)), obj["question"], answers))
    return out


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_beir(folder: Path, split: str = "test") -> BeirSet:
    folder = Path(folder)
    corpus = {
        str(d["_id"]): (d.get("title") or "", d.get("text") or "")
        for d in _jsonl(folder / "corpus.jsonl")
    }
    queries = {str(q["_id"]): q["text"] for q in _jsonl(folder / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    lines = (folder / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 3 or not parts[2].strip().lstrip("-").isdigit():
            continue  # the header row
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return BeirSet(corpus, queries, qrels)


def parse_ranges(spec: str | None, count: int) -> list[int]:
    """``"0-7,9"`` → [0..7, 9] (inclusive ranges); None or "all" → every index below count."""
    if spec is None or spec.strip() in ("", "all"):
        return list(range(count))
    out: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi) if hi else int(lo)
        if a > b or a < 0 or b >= count:
            raise ValueError(f"article range {part!r} is outside 0-{count - 1}")
        out.update(range(a, b + 1))
    return sorted(out)
