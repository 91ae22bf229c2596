"""Spelling correction of question words, measured: SQuAD dev questions with one typo each.

    python bench/typos.py [--squad ../shared/eval/squad/dev-v1.1-public.json] [--seed 0]

Every question gets one edit (a letter deleted, inserted, changed, or two neighbours swapped)
inside one of its words of five or more letters, chosen at random; the 16 articles' paragraphs
are indexed as ``citebot eval`` indexes them. Reported: the gold paragraph ranked first for
the questions as written and with the typo, each with and without correction (the speller
switched off in this process), plus how often a question as written is changed by the
speller (a correct word absent from the corpus matched to another term).
"""

from __future__ import annotations

import argparse
import random
import re
import string
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import retrieve as retrieve_module  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.evaluate import loaders, runner  # noqa: E402

_WORD = re.compile(r"[A-Za-z]{5,}")


def typo(question: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(question))
    if not words:
        return question
    m = rng.choice(words)
    w = m.group()
    i = rng.randrange(1, len(w) - 1)
    kind = rng.choice(["delete", "insert", "change", "swap"])
    letter = rng.choice(string.ascii_lowercase)
    if kind == "delete":
        w = w[:i] + w[i + 1 :]
    elif kind == "insert":
        w = w[:i] + letter + w[i:]
    elif kind == "change":
        w = w[:i] + letter + w[i + 1 :]
    else:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return question[: m.start()] + w + question[m.end() :]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--squad", default=str(ROOT.parent / "shared/eval/squad/dev-v1.1-public.json"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    articles = loaders.load_squad(Path(args.squad))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        layout = runner.write_squad_corpus(articles, corpus)
        engine = Engine.open(corpus, Path(tmp) / "index", options=runner.engine_options())
        questions = [q for a in articles for q in a.questions]
        typed = [typo(q.question, rng) for q in questions]

        def top1(texts: list[str]) -> float:
            ok = 0
            for q, text in zip(questions, texts, strict=True):
                hits = retrieve_module.retrieve(engine.index, engine.analyzer, text, 1)
                source, ranges = layout[q.article]
                s, e = ranges[q.paragraph]
                c = hits[0].chunk if hits else None
                ok += bool(c and c.source == source and c.start < e and c.end > s)
            return ok / len(questions)

        from bot.spelling import corrected

        changed = sum(
            bool(corrected(engine.index, engine.analyzer.terms(q.question))) for q in questions
        )
        written, with_typo = top1([q.question for q in questions]), top1(typed)
        retrieve_module.corrected = lambda _index, _terms: []
        without = top1(typed)
        written_without = top1([q.question for q in questions])
    print(f"questions: {len(questions)}")
    print(f"gold paragraph @1, as written:            {written:.3f}")
    print(f"gold paragraph @1, as written, uncorrected: {written_without:.3f}")
    print(f"gold paragraph @1, one typo, corrected:   {with_typo:.3f}")
    print(f"gold paragraph @1, one typo, uncorrected: {without:.3f}")
    print(f"questions as written changed by the speller: {changed / len(questions):.3f}")


if __name__ == "__main__":
    main()
