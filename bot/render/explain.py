"""Wording of an explanation shared by the terminal and the Discord renderer."""

from __future__ import annotations

from bot.models import Answer, Explanation


def score_text(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


def decision(answer: Answer, ex: Explanation) -> str:
    """ "confidence 0.87 ≥ threshold 0.45: answered" (or "< …: withheld")."""
    sign = "≥" if answer.confidence >= ex.threshold else "<"
    verdict = "answered" if answer.answered else "withheld"
    return f"confidence {answer.confidence:.2f} {sign} threshold {ex.threshold:.2f}: {verdict}"
