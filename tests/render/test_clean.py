"""One sanitiser between documents and the terminal (issue #18, item 3)."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from bot.models import Answer, Chunk, Citation, Hit
from bot.render.clean import json_line, terminal_safe
from bot.render.terminal import render_answer

HOSTILE = "\x1b[2J\x1b]0;TITLE\x07"
SENTENCE = f"The ferry leaves at {HOSTILE}nine o'clock\x9b31m from the pier.\r"


def _is_control(ch: str) -> bool:
    return (ord(ch) < 0x20 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F


@given(st.text())
def test_terminal_safe_removes_every_control_but_newline_and_tab(text):
    out = terminal_safe(text)
    assert not any(_is_control(ch) for ch in out)
    assert out == "".join(ch for ch in text if not _is_control(ch))


@given(
    st.recursive(
        st.text() | st.integers() | st.none(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_json_line_is_one_safe_line_that_reads_back(obj):
    line = json_line(obj)
    raw = line.encode("utf-8")  # lone surrogates are escaped, so this never fails
    assert b"\n" not in raw and b"\r" not in raw
    assert not any(_is_control(ch) or ch in "\u2028\u2029" for ch in line)
    assert json.loads(raw.decode("utf-8")) == obj


def _hostile_answer() -> Answer:
    start = SENTENCE.index("nine")  # after the control characters: offsets pass them
    cite = Citation(
        f"evil{HOSTILE}.txt", "t", f"Sec{HOSTILE}", 3, start, start + 12, "nine o'clock"
    )
    chunk = Chunk(0, f"evil{HOSTILE}.txt", f"Sec{HOSTILE}", 0, 80, 3, SENTENCE)
    return Answer(
        question="when does the ferry leave",
        answered=True,
        answer=f"nine{HOSTILE} o'clock",
        sentence=SENTENCE,
        sentence_start=0,
        confidence=0.9,
        citations=(cite,),
        sources=(Hit(chunk, 1.0, 0),),
        took_ms=1.0,
    )


def _printed(answer: Answer, *, terminal: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out, force_terminal=terminal, color_system="truecolor" if terminal else None
    )
    console.print(render_answer(answer, color=terminal), end="")
    return out.getvalue()


def _assert_no_document_controls(printed: str) -> None:
    for bad in ("\x1b[2J", "\x1b]", "\x07", "\x9b", "\r"):
        assert bad not in printed, (bad, printed)


def test_answers_reach_the_terminal_without_the_documents_controls():
    answer = _hostile_answer()
    plain = _printed(answer, terminal=False)
    _assert_no_document_controls(plain)
    assert "[nine o'clock]" in plain and "[2J" in plain  # only the control bytes go
    colour = _printed(answer, terminal=True)
    _assert_no_document_controls(colour)
    assert "\x1b[" in colour  # rich's own colours are still there
    none = Answer("q", False, None, None, None, 0.1, (), answer.sources)
    _assert_no_document_controls(_printed(none, terminal=False))
    _assert_no_document_controls(_printed(none, terminal=True))


def test_log_lines_are_clean():
    import logging

    from bot.render.clean import SafeFormatter

    record = logging.LogRecord("citebot", logging.WARNING, "f", 1, "skipped %s", (HOSTILE,), None)
    line = SafeFormatter("citebot: %(levelname)s: %(message)s").format(record)
    assert line == "citebot: WARNING: skipped [2J]0;TITLE"
