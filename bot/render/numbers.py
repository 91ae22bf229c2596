"""Counts for people: thousands separators and the right plural."""

from __future__ import annotations


def number(n: int) -> str:
    """``12345`` → ``12,345``."""
    return f"{n:,}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 document``, ``2 documents``, ``12,345 chunks``; ``plural`` for irregular nouns."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
