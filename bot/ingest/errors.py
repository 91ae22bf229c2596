"""Errors raised while finding and reading corpus files."""

from __future__ import annotations


class CorpusError(Exception):
    """The corpus folder is missing, not a directory, or cannot be listed."""


class UnreadableFile(Exception):
    """One file cannot be turned into text; the rest of the corpus is still usable.

    ``str(exc)`` is the reason alone, on one line, so callers can prefix the source as they like.
    """

    def __init__(self, source: str, reason: str):
        reason = " ".join(reason.split())
        super().__init__(reason)
        self.source = source
        self.reason = reason
