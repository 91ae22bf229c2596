"""Ingestion: find the supported files of a corpus folder and extract their text.

Offsets everywhere downstream are offsets into ``Document.text`` as produced here.
"""

from bot.ingest.corpus import SUPPORTED_SUFFIXES, CorpusFile, scan_corpus
from bot.ingest.errors import CorpusError, UnreadableFile
from bot.ingest.readers import read_document

__all__ = [
    "SUPPORTED_SUFFIXES",
    "CorpusError",
    "CorpusFile",
    "UnreadableFile",
    "read_document",
    "scan_corpus",
]
