"""Ingestion: find the supported files of a corpus folder and extract their text.

Offsets everywhere downstream are offsets into ``Document.text`` as produced here.
"""

from bot.ingest.corpus import (
    DEFAULT_MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    TOO_LARGE,
    CorpusFile,
    CorpusScan,
    Refused,
    read_corpus_file,
    scan_corpus,
    too_large_reason,
    walk_corpus,
)
from bot.ingest.errors import CorpusError, UnreadableFile
from bot.ingest.readers import read_document

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "SUPPORTED_SUFFIXES",
    "TOO_LARGE",
    "CorpusError",
    "CorpusFile",
    "CorpusScan",
    "Refused",
    "UnreadableFile",
    "read_corpus_file",
    "read_document",
    "scan_corpus",
    "too_large_reason",
    "walk_corpus",
]
