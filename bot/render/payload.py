"""Answer → the JSON object of the CLI contract (``citebot ask --json`` / ``--jsonl``)."""

from __future__ import annotations

from typing import Any

from bot.models import Answer


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
    return payload
