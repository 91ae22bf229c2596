"""One reader per file format: bytes on disk → Document (text, title, headings)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from pathlib import Path

from bot.ingest.corpus import CorpusFile
from bot.ingest.errors import UnreadableFile
from bot.ingest.headings import markdown_headings, plain_text_headings
from bot.ingest.html_text import extract_html
from bot.models import Document

_MAX_TITLE_CHARS = 80
_MAX_TITLE_WORDS = 12
# Share of control characters (other than tab/newline/CR/form feed) above which text is binary.
_MAX_CONTROL_RATIO = 0.01
# Control characters other than tab, newline, vertical tab, form feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _read_bytes(file: CorpusFile, data: bytes | None = None) -> bytes:
    if data is not None:
        return data
    try:
        return file.path.read_bytes()
    except PermissionError as exc:
        raise UnreadableFile(file.source, "permission denied") from exc
    except IsADirectoryError as exc:
        raise UnreadableFile(file.source, "is a folder") from exc
    except FileNotFoundError as exc:
        raise UnreadableFile(file.source, "file disappeared") from exc
    except OSError as exc:
        raise UnreadableFile(file.source, f"cannot read: {exc.strerror or exc}") from exc


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:65536]
    if _CONTROL.search(sample) is None:  # the usual case: one scan in C, no count
        return 0.0
    return len(_CONTROL.findall(sample)) / len(sample)


def _universal_newlines(text: str) -> str:
    # What ``Path.read_text`` does by default, so offsets match reading the file in Python.
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def decode_text(data: bytes, source: str, declared: str | None = None) -> str:
    """Decode a text file: UTF-8 (BOM dropped), else the declared charset, else cp1252.

    The cp1252 fallback exists because legacy Windows/Latin-1 text is the common non-UTF-8
    case in document folders, and it is accepted only when the result has almost no control
    characters - arbitrary binary decodes under cp1252 too, but is full of them.
    """
    if b"\x00" in data[:65536]:
        raise UnreadableFile(source, "binary file")
    text: str | None = None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        for charset in (declared, "cp1252"):
            if not charset:
                continue
            try:
                text = data.decode(charset)
                break
            except (UnicodeDecodeError, LookupError):
                continue
    if text is None:
        raise UnreadableFile(source, "not UTF-8 text and no fallback encoding fits")
    if _control_ratio(text) > _MAX_CONTROL_RATIO:
        raise UnreadableFile(source, "binary file")
    text = _universal_newlines(text)
    if not text.strip():
        raise UnreadableFile(source, "empty file")
    return text


def title_from_text(text: str, stem: str) -> str:
    """The first non-empty line when it is short enough to be a title, else the file stem."""
    for line in text.split("\n", 50)[:50]:
        line = line.strip()
        if not line:
            continue
        if len(line) <= _MAX_TITLE_CHARS and len(line.split()) <= _MAX_TITLE_WORDS:
            return line
        break
    return stem


def read_plain_text(file: CorpusFile, data: bytes | None = None) -> Document:
    text = decode_text(_read_bytes(file, data), file.source)
    return Document.create(
        file.source, title_from_text(text, file.path.stem), text, plain_text_headings(text)
    )


def read_markdown(file: CorpusFile, data: bytes | None = None) -> Document:
    text = decode_text(_read_bytes(file, data), file.source)
    headings = markdown_headings(text)
    title = next((h.text for h in headings if h.level == 1 and h.text), "")
    if not title:
        title = next((h.text for h in headings if h.text), "") or title_from_text(
            text, file.path.stem
        )
    return Document.create(file.source, title, text, headings)


def _declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def read_html(file: CorpusFile, data: bytes | None = None) -> Document:
    data = _read_bytes(file, data)
    charset = _declared_charset(data)
    if charset and not charset.startswith("utf") and not data.startswith(codecs.BOM_UTF8):
        # A page that declares a legacy charset is decoded with it before trying UTF-8.
        try:
            markup = _universal_newlines(data.decode(charset))
        except UnicodeDecodeError:
            markup = decode_text(data, file.source, charset)
        if _control_ratio(markup) > _MAX_CONTROL_RATIO or "\x00" in markup:
            raise UnreadableFile(file.source, "binary file")
    else:
        markup = decode_text(data, file.source, charset)
    text, title, headings = extract_html(markup)
    if not text.strip():
        raise UnreadableFile(file.source, "no readable text in HTML")
    if not title:
        title = next((h.text for h in headings if h.level == 1), "") or file.path.stem
    return Document.create(file.source, title, text, headings)


def read_pdf(file: CorpusFile, data: bytes | None = None) -> Document:
    # Imported here: pypdf is the slowest import of the readers and many corpora have no PDFs.
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    data = _read_bytes(file, data)
    if not data.strip():
        raise UnreadableFile(file.source, "empty file")
    try:
        reader = PdfReader(file.path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise UnreadableFile(file.source, "encrypted PDF") from exc
            if not opened:
                raise UnreadableFile(file.source, "encrypted PDF (password required)")
        pages = [_clean_pdf_page(page.extract_text() or "") for page in reader.pages]
        meta_title = _pdf_meta_title(reader)
    except UnreadableFile:
        raise
    except FileNotDecryptedError as exc:
        raise UnreadableFile(file.source, "encrypted PDF (password required)") from exc
    except PdfReadError as exc:
        raise UnreadableFile(file.source, f"broken PDF: {_one_line(exc)}") from exc
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise UnreadableFile(file.source, "PDF has no extractable text (scanned images?)")
    title = meta_title or title_from_text(text, file.path.stem)
    return Document.create(file.source, title, text, plain_text_headings(text))


def _clean_pdf_page(text: str) -> str:
    text = _universal_newlines(text).replace("\x00", "")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _pdf_meta_title(reader: object) -> str:
    try:
        meta = reader.metadata  # type: ignore[attr-defined]
        title = str(meta.title).strip() if meta and meta.title else ""
    except Exception:
        return ""
    # Producer-generated titles ("Microsoft Word - report.docx", "untitled") are worse than none.
    if not title or len(title) > _MAX_TITLE_CHARS or title.lower() in {"untitled", "title"}:
        return ""
    if re.search(r"\.(?:docx?|pdf|odt|rtf|txt|tex|pptx?|xlsx?)$", title, re.I):
        return ""
    return title


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg[:160]


READERS: dict[str, Callable[[CorpusFile, bytes | None], Document]] = {
    ".txt": read_plain_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
}


def read_document(file: CorpusFile, data: bytes | None = None) -> Document:
    """Extracted text + title + headings. Raises UnreadableFile, and only that.

    ``data`` is the file's content when the caller has read it already (the index build hashes
    every file first), so it is not read twice."""
    reader = READERS.get(Path(file.source).suffix.lower())
    if reader is None:
        raise UnreadableFile(file.source, f"unsupported file type {Path(file.source).suffix!r}")
    try:
        return reader(file, data)
    except UnreadableFile:
        raise
    except RecursionError as exc:
        raise UnreadableFile(file.source, "too deeply nested to parse") from exc
    except Exception as exc:
        # Third-party parsers fail in many undocumented ways on malformed input; one bad file
        # must become a warning, not stop indexing of the whole corpus.
        raise UnreadableFile(file.source, f"cannot extract text: {_one_line(exc)}") from exc
