"""BM25 over chunks: scoring (``bm25``), analysis of corpus files (``build``) and the persisted,
incrementally updated index (``store``)."""

from bot.index.bm25 import BM25Params, LuceneBM25, idf, memo_idf
from bot.index.store import Index, IndexStore, IndexUnusable, IndexWriteError

__all__ = [
    "BM25Params",
    "Index",
    "IndexStore",
    "IndexUnusable",
    "IndexWriteError",
    "LuceneBM25",
    "idf",
    "memo_idf",
]
