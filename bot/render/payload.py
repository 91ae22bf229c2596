"""Answer → the JSON object of the CLI contract (``citebot ask --json`` / ``--jsonl``)."""

from __future__ import annotations

from typing import Any

from bot.models import Answer, Explanation


def answer_payload(answer: Answer, id: Any = None) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if id is not None:
        payload["id"] = id
    payload.update(
        question=answer.question,
        answered=answer.answered,
        answer=answer.answer,
        sentence=answer.sentence,
        confidence=answer.confidence,
        citations=[
            {
                "source": c.source,
                "title": c.title,
                "section": c.section,
                "line": c.line,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
            }
            for c in answer.citations
        ],
        sources=[
            {
                "source": h.chunk.source,
                "section": h.chunk.section,
                "line": h.chunk.line,
                "score": round(h.score, 4),
                "text": h.chunk.text,
            }
            for h in answer.sources
        ],
        took_ms=round(answer.took_ms, 2),
    )
    if answer.explanation is not None:
        payload["explanation"] = explanation_payload(answer.explanation)
    return payload


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def explanation_payload(ex: Explanation) -> dict[str, Any]:
    return {
        "terms": [
            {"word": t.word, "term": t.term, "corrected": t.corrected, "found": t.found}
            for t in ex.terms
        ],
        "chunks": [
            {
                "source": h.chunk.source,
                "section": h.chunk.section,
                "line": h.chunk.line,
                "score": round(h.score, 4),
            }
            for h in ex.chunks
        ],
        "score": _round(ex.score),
        "runner_up": ex.runner_up,
        "runner_up_score": _round(ex.runner_up_score),
        "no_answer_score": _round(ex.no_answer_score),
        "threshold": round(ex.threshold, 4),
    }
