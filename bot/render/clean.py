"""The one sanitiser for text that reaches a terminal or a JSON line.

Documents, file names and questions are not the program's own text: a document holding
``\\x1b[2J\\x1b]0;TITLE\\x07`` must not clear the screen or set the window title of whoever reads
the answer. Both front ends and every printed path (answers in colour and plain, warnings, the
index summary, ``citebot report``) pass such text through ``terminal_safe``; JSON output goes
through ``json_line``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

# C0 controls but tab and newline, DEL, and C1 controls (CSI, OSC, NEL, ... as code points).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]+")
# What JSON leaves raw with ensure_ascii=False but a reader must not receive raw: DEL and the
# C1 controls (a terminal may act on them), the line and paragraph separators (JavaScript and
# some line readers split on them, and so on NEL), and lone surrogates (not encodable in UTF-8).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def terminal_safe(text: str) -> str:
    """``text`` without control characters other than newline and tab."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def json_line(obj: Any) -> str:
    """``obj`` as one line of JSON that is valid UTF-8, holds no raw control character and no
    character a line reader could split on; non-ASCII text otherwise stays readable."""
    text = json.dumps(obj, ensure_ascii=False)
    # Outside strings JSON is ASCII, so every match is inside a string, where \\uXXXX is its
    # escape; a lone surrogate becomes its escape too, which decoders read back as it was.
    return _JSON_UNSAFE.sub(_escape, text)


class SafeFormatter(logging.Formatter):
    """Log lines through ``terminal_safe``: a log message may quote a file name or a question,
    and the log goes to the operator's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))
