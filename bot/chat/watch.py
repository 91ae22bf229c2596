"""Corpus watching for the bot (``citebot discord --watch``, ``CITEBOT_WATCH``).

Changes are noticed through the operating system's file events (inotify on Linux) by
``watchfiles``, gathered into batches (``STEP_MS`` of quiet ends a batch, ``DEBOUNCE_MS`` bounds
one), and each batch is re-indexed in a thread by ``Engine.refresh``, which re-reads only the
files whose stat changed. Answers never wait for it: they keep the index snapshot they have until
the new generation is complete. Changes made while a batch is being indexed are the next batch.

Why events and not a stat poll: on 10,000 files, polling every 2 s cost 4.5 % of a core at idle
and took 1.7 s to notice a new file; watchfiles cost 0.3 % and 19 ms (``bench/watch_cost.py``).
Where file events do not arrive (network shares, some container mounts), setting
``WATCHFILES_FORCE_POLLING=1`` makes watchfiles poll instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import watchfiles

from bot.index import IndexWriteError
from bot.ingest import CorpusError
from bot.ingest.corpus import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from bot.chat.client import CitebotBot

log = logging.getLogger("citebot.chat")

DEBOUNCE_MS = 1600  # longest time one batch of changes is gathered for
STEP_MS = 100  # a batch ends after this long without another change


def corpus_filter(corpus: Path) -> Callable[[watchfiles.Change, str], bool]:
    """Changes worth a re-index: files of a supported format and folders (a folder moved in
    or out carries its files with it), outside hidden folders, as ``scan_corpus`` sees them."""

    def accept(_change: watchfiles.Change, path: str) -> bool:
        rel = os.path.relpath(path, corpus)
        if rel.startswith(".."):
            return False
        parts = rel.split(os.sep)
        if any(p.startswith(".") for p in parts):
            return False
        suffix = os.path.splitext(parts[-1])[1].lower()
        return suffix in SUPPORTED_SUFFIXES or not suffix

    return accept


async def watch_corpus(bot: CitebotBot, stop: asyncio.Event) -> None:
    """Re-index on every batch of corpus changes until ``stop`` is set."""
    corpus = bot.engine.corpus.resolve()
    log.info("watching %s for changes", corpus)
    try:
        async for changes in watchfiles.awatch(
            corpus,
            watch_filter=corpus_filter(corpus),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=stop,
        ):
            try:
                report = await asyncio.to_thread(bot.refresh_index)
            except (CorpusError, IndexWriteError) as e:
                log.warning("re-index after %d changes failed: %s", len(changes), e)
                continue
            except Exception:
                log.exception("re-index after %d changes failed", len(changes))
                continue
            log.info(
                "re-indexed after %d changes: %d added, %d changed, %d removed in %.2f s",
                len(changes),
                len(report.added),
                len(report.changed),
                len(report.removed),
                report.seconds,
            )
    except OSError as e:
        log.error("cannot watch %s: %s; changes are picked up by /reindex only", corpus, e)
