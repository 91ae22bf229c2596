"""One reader per file format: bytes on disk → Document (text, title, headings)."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from bot.ingest.corpus import CorpusFile, read_corpus_file
from bot.ingest.errors import UnreadableFile
from bot.ingest.headings import (
    markdown_headings,
    plain_text_headings,
    rst_headings,
    strip_permalink,
)
from bot.ingest.html_text import extract_html
from bot.models import Document, Heading

_MAX_TITLE_CHARS = 80
_MAX_TITLE_WORDS = 12
# Share of control characters (other than tab/newline/CR/form feed) above which text is binary.
_MAX_CONTROL_RATIO = 0.01
# Control characters other than tab, newline, vertical tab, form feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _read_bytes(file: CorpusFile, data: bytes | None = None) -> bytes:
    return data if data is not None else read_corpus_file(file)


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


# Byte order marks, UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _bomless_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte order mark, told by its zero bytes: for Latin-script text nearly
    every other byte is 0, on one side only."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_zero, odd_zero = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_zero > 0.4 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.4 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _decode_utf(data: bytes, skip: int, codec: str, source: str) -> str:
    try:
        # A memoryview slice: the mark is dropped without copying the file's bytes.
        return str(memoryview(data)[skip:], codec)
    except UnicodeDecodeError as exc:
        name = codec.upper().removesuffix("-LE").removesuffix("-BE")
        raise UnreadableFile(
            source, f"invalid {name} text (bad bytes at offset {exc.start + skip})"
        ) from None


def decode_text(data: bytes, source: str, declared: str | None = None) -> str:
    """Decode a text file: UTF-8 (BOM dropped), UTF-16/32 with a BOM (or UTF-16 recognised by
    its zero bytes), else the declared charset, else cp1252.

    The cp1252 fallback exists because legacy Windows/Latin-1 text is the common non-UTF-8
    case in document folders, and it is accepted only when the result has almost no control
    characters - arbitrary binary decodes under cp1252 too, but is full of them. A byte order
    mark is never part of the text, so offsets count from the first character after it.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _finish(_decode_utf(data, len(bom), codec, source), source)
    if b"\x00" in data[:65536]:
        codec = _bomless_utf16(data)
        if codec is None:
            raise UnreadableFile(source, "binary file (it holds NUL bytes)")
        return _finish(_decode_utf(data, 0, codec, source), source)
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    text: str | None = None
    try:
        text = str(memoryview(data)[skip:], "utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start + skip : exc.start + skip + 1].hex()
        for charset in (declared, "cp1252"):
            if not charset:
                continue
            try:
                text = data[skip:].decode(charset)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        if text is None:
            raise UnreadableFile(
                source,
                f"not UTF-8 (byte 0x{bad} at offset {exc.start + skip}), nor "
                f"{declared or 'cp1252'} text",
            ) from None
    return _finish(text, source)


def _finish(text: str, source: str) -> str:
    if _control_ratio(text) > _MAX_CONTROL_RATIO:
        raise UnreadableFile(source, "binary file (it holds control characters)")
    text = _universal_newlines(text)
    if not text or text.isspace():  # not strip(): a copy of a long text
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


def read_rst(file: CorpusFile, data: bytes | None = None) -> Document:
    text = decode_text(_read_bytes(file, data), file.source)
    headings = rst_headings(text)
    # docutils makes a lone top-level section title the document's title.
    title = next((h.text for h in headings if h.level == 1), "") or title_from_text(
        text, file.path.stem
    )
    return Document.create(file.source, title, text, headings)


_MAX_DOCX_EXPANDED = 512 * 1048576  # bytes a .docx's parts may expand to
_HEADING_STYLE = re.compile(r"heading\s*([1-9])", re.I)


def _docx_heading_level(style: object) -> int | None:
    """1-9 for a paragraph in a Heading style (or one based on it), 1 for Title, else None."""
    seen = 0
    while style is not None and seen < 10:
        name = (getattr(style, "name", None) or "").strip()
        m = _HEADING_STYLE.fullmatch(name)
        if m:
            return int(m.group(1))
        if name.lower() == "title":
            return 1
        style = getattr(style, "base_style", None)
        seen += 1
    return None


def read_docx(file: CorpusFile, data: bytes | None = None) -> Document:
    """A Word document's paragraphs and tables, one line each (a table row's cells joined by
    tabs); paragraphs in Heading styles are its sections."""
    # Imported here, like pypdf: most corpora have no Word files.
    import docx
    from docx.opc.exceptions import OpcError
    from docx.table import Table

    data = _read_bytes(file, data)
    if not data.strip():
        raise UnreadableFile(file.source, "empty file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
        if expanded > _MAX_DOCX_EXPANDED:
            # A zip bomb, or a document python-docx would need gigabytes to parse.
            raise UnreadableFile(
                file.source,
                f"Word file expands to {expanded // 1048576:,} MB "
                f"(limit {_MAX_DOCX_EXPANDED // 1048576:,} MB)",
            )
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OpcError) as exc:
        raise UnreadableFile(file.source, f"not a Word .docx file: {_one_line(exc)}") from exc
    lines: list[str] = []
    headings: list[Heading] = []
    pos = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                        continue
                    seen.add(id(cell._tc))
                    cells.append(" ".join(cell.text.split()))
                line = "\t".join(cells)
                lines.append(line)
                pos += len(line) + 1
            continue
        line = _universal_newlines(block.text)
        level = _docx_heading_level(block.style) if line.strip() else None
        if level is not None:
            lead = len(line) - len(line.lstrip())
            content = line.strip()
            name = strip_permalink(" ".join(content.split()))
            if name:
                headings.append(Heading(pos + lead, pos + lead + len(content), level, name))
        lines.append(line)
        pos += len(line) + 1
    text = "\n".join(lines)
    if not text.strip():
        raise UnreadableFile(file.source, "no readable text in the Word document")
    title = (document.core_properties.title or "").strip()
    if not title or len(title) > _MAX_TITLE_CHARS:
        title = next((h.text for h in headings if h.level == 1), "") or title_from_text(
            text, file.path.stem
        )
    return Document.create(file.source, title, text, tuple(headings))


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
            raise UnreadableFile(file.source, "binary file (it holds control characters)")
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
        # From the bytes already read and checked, never from the path again.
        reader = PdfReader(io.BytesIO(data))
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
    ".rst": read_rst,
    ".docx": read_docx,
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
