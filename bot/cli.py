"""``citebot`` command line: parse, call the engine, print. Exit 0 on an answer or a clean
"not found", 2 on bad usage or an unreadable corpus (one line on stderr)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from bot import __version__
from bot.config import Settings, SettingsError
from bot.render.numbers import count, number

EXIT_USAGE = 2


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit 2."""


def _warn(message: str) -> None:
    from bot.render.clean import terminal_safe

    print(f"citebot: warning: {terminal_safe(message)}", file=sys.stderr, flush=True)


def add_corpus_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--corpus", type=Path, help="documents folder (default: $CITEBOT_CORPUS or ./corpus)"
    )
    p.add_argument(
        "--index", type=Path, help="index folder (default: $CITEBOT_INDEX or ./.citebot)"
    )


def corpus_paths(args: argparse.Namespace, settings: Settings) -> tuple[Path, Path]:
    return args.corpus or settings.corpus, args.index or settings.index_dir


def eta_column():  # -> rich.progress.ProgressColumn (import kept lazy)
    """``eta 0:01:23`` from the rate so far, once the total (files to read) is known;
    nothing before."""
    from rich.progress import TimeRemainingColumn
    from rich.text import Text

    class Eta(TimeRemainingColumn):
        def render(self, task: Any) -> Text:
            remaining = super().render(task)
            return Text("eta ") + remaining if remaining.plain else remaining

    return Eta()


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on a terminal; nothing when stderr is a pipe or a file."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        eta_column(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def engine_options(settings: Settings):  # -> EngineOptions (import kept lazy)
    from bot.engine import EngineOptions

    return EngineOptions(max_file_bytes=int(settings.max_file_mb * 1024 * 1024))


def open_engine(args: argparse.Namespace, settings: Settings):  # -> Engine (import kept lazy)
    from bot.engine import Engine
    from bot.index import IndexUnusable, IndexWriteError
    from bot.ingest import CorpusError

    corpus, index_dir = corpus_paths(args, settings)
    try:
        with progress_bar("indexing") as progress:
            return Engine.open(
                corpus, index_dir, options=engine_options(settings), warn=_warn, progress=progress
            )
    except (CorpusError, IndexWriteError, IndexUnusable) as e:
        raise UsageError(str(e)) from None


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from bot.engine import Engine
    from bot.index import IndexUnusable, IndexWriteError
    from bot.ingest import CorpusError
    from bot.render.clean import terminal_safe

    corpus, index_dir = corpus_paths(args, settings)
    engine = Engine(corpus, index_dir, options=engine_options(settings), warn=_warn)
    try:
        with progress_bar("indexing") as progress:
            report = engine.refresh(progress)
    except (CorpusError, IndexWriteError, IndexUnusable) as e:
        raise UsageError(str(e)) from None
    s = report.stats
    changes = (
        f"{number(len(report.added))} added, {number(len(report.changed))} changed, "
        f"{number(len(report.removed))} removed, {number(report.unchanged)} unchanged"
    )
    print(
        terminal_safe(
            f"Indexed {count(s.documents, 'document')}, {count(s.chunks, 'chunk')}, "
            f"{count(s.tokens, 'token')} in {report.seconds:.2f} s "
            f"({changes}; {number(len(report.skipped))} skipped) → {index_dir}"
        )
    )
    for source, reason in report.skipped:
        print(terminal_safe(f"  skipped {source}: {reason}"))
    if report.unsupported:
        print(terminal_safe(unsupported_summary(report.unsupported)))
    return 0


def unsupported_summary(counts: tuple[tuple[str, int], ...]) -> str:
    """``  not supported: 12 .xlsx files, 1 file without an extension``: files of formats that
    are not read, counted once per run rather than warned about one by one."""
    parts = []
    for suffix, n in sorted(counts, key=lambda c: (-c[1], c[0])):
        kind = f"{suffix} file" if suffix else "file without an extension"
        parts.append(f"{n:,} {kind}{'' if n == 1 else 's'}")
    return f"  not supported: {', '.join(parts)}"


def _print_answer(answer, out: TextIO, as_json: bool) -> None:
    if as_json:
        from bot.render.clean import json_line
        from bot.render.payload import answer_payload

        print(json_line(answer_payload(answer)), file=out, flush=True)
        return
    from rich.console import Console

    from bot.render.terminal import render_answer

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(render_answer(answer, color=console.is_terminal), end="")
    if answer.explanation is not None:
        from bot.render.terminal import render_explanation

        text = render_explanation(answer, answer.explanation, color=console.is_terminal)
        console.print(text, end="")


_ECHO_CHARS = 60  # of a bad --jsonl line, quoted in its error


def _echo(line: str) -> str:
    return repr(line if len(line) <= _ECHO_CHARS else line[:_ECHO_CHARS] + "…")


def _jsonl_question(raw: bytes) -> tuple[Any, Any, str | None]:
    """(id, question, error) of one input line: a plain question or a JSON object."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        # The bad bytes shown as \xff, the rest as text.
        shown = _echo(raw.decode("utf-8", "backslashreplace")).replace("\\\\", "\\")
        return None, None, f"the line is not UTF-8 (byte {e.start}): {shown}"
    stripped = line.strip()
    if not stripped.startswith("{"):
        return None, line, None
    try:
        obj = json.loads(stripped)
    except json.JSONDecodeError as e:
        return None, None, f"invalid JSON ({e}): {_echo(stripped)}"
    except RecursionError:
        return None, None, f"invalid JSON (nested too deeply): {_echo(stripped)}"
    if not isinstance(obj, dict):
        return None, line, None
    qid, question = obj.get("id"), obj.get("question")
    if not isinstance(question, str):
        return qid, question, "the object has no 'question' string"
    if re.search("[\ud800-\udfff]", question):
        return qid, question, "the question holds a lone surrogate (\\ud800-\\udfff), not text"
    return qid, question, None


def _jsonl(engine, top_k: int, stdin: BinaryIO, out: BinaryIO, explain: bool = False) -> None:
    """One JSON object out per line in, in order; a bad line yields an ``error`` object.

    Lines are read and written as bytes: an undecodable line is that line's error, not the end
    of the batch, and the output is UTF-8 whatever the locale."""
    from bot.engine import QuestionError
    from bot.render.clean import json_line
    from bot.render.payload import answer_payload

    for raw in stdin:
        qid, question, error = _jsonl_question(raw.removesuffix(b"\n").removesuffix(b"\r"))
        if error is None:
            try:
                payload = answer_payload(engine.ask(question, top_k, explain=explain), qid)
            except QuestionError as e:
                error = str(e)
        if error is not None:
            payload = {"question": question, "error": error}
            if qid is not None:
                payload = {"id": qid, **payload}
        out.write(json_line(payload).encode("utf-8") + b"\n")
        out.flush()


def _interactive(engine, top_k: int, history: Path, explain: bool = False) -> int:
    """The local query mode: a prompt with history; Ctrl-D quits."""
    from bot.engine import QuestionError

    try:
        import readline
    except ImportError:  # Windows without pyreadline: the prompt still works, without history
        readline = None
    if readline is not None:
        with suppress(OSError):
            readline.read_history_file(history)
    s = engine.stats
    print(
        f"citebot {__version__} · {count(s.documents, 'document')}, {count(s.chunks, 'chunk')}. "
        "Ctrl-D quits."
    )
    try:
        while True:
            try:
                question = input("? ")
            except EOFError:
                print()
                return 0
            if not question.strip():
                continue
            try:
                answer = engine.ask(question, top_k, explain=explain)
                _print_answer(answer, sys.stdout, as_json=False)
            except QuestionError as e:
                print(str(e))
    except KeyboardInterrupt:
        print()
        return 0
    finally:
        if readline is not None:
            try:
                history.parent.mkdir(parents=True, exist_ok=True)
                readline.set_history_length(1000)
                readline.write_history_file(history)
            except OSError:
                pass


def answering_engine(args: argparse.Namespace, settings: Settings):  # -> Engine
    """``open_engine``, refusing an empty corpus with what to do about it: every question
    would otherwise be "not found" with no hint why."""
    from bot.ingest.corpus import SUPPORTED_SUFFIXES

    engine = open_engine(args, settings)
    if engine.stats.documents == 0:
        corpus = engine.corpus.resolve()
        formats = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UsageError(
            f"no documents to answer from in {corpus}: put files there ({formats}; "
            "any depth) or point --corpus / CITEBOT_CORPUS at a folder that has some"
        )
    return engine


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.engine import QuestionError

    top_k = args.top_k if args.top_k is not None else settings.top_k
    if top_k < 1 or top_k > 100:
        raise UsageError("--top-k must be between 1 and 100")
    question = " ".join(args.question)
    if args.jsonl:
        if question:
            raise UsageError("--jsonl reads questions from stdin; give no QUESTION argument")
        engine = answering_engine(args, settings)
        sys.stdout.flush()
        _jsonl(engine, top_k, sys.stdin.buffer, sys.stdout.buffer, args.explain)
        return 0
    if not args.question:
        if sys.stdin.isatty() and sys.stdout.isatty() and not args.json:
            _, index_dir = corpus_paths(args, settings)
            engine = answering_engine(args, settings)
            return _interactive(engine, top_k, index_dir / "history", args.explain)
        raise UsageError('no question given (try: citebot ask "what is ...?")')
    engine = answering_engine(args, settings)
    try:
        answer = engine.ask(question, top_k, explain=args.explain)
    except QuestionError as e:
        raise UsageError(str(e)) from None
    _print_answer(answer, sys.stdout, args.json)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot", description="Cited extractive answers over a folder of documents."
    )
    parser.add_argument(
        "--version", action="version", version=f"citebot {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of these; COMMAND --help"
    )

    p = sub.add_parser(
        "index",
        help="build or update the index",
        description="Build the index of the documents folder, or bring it up to date: only "
        "changed, added and removed files are read.",
    )
    add_corpus_options(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser(
        "ask",
        help="answer a question (no question on a terminal: interactive)",
        description="Answer a question with a span quoted from the documents and its citation "
        "(the index is brought up to date first).",
    )
    add_corpus_options(p)
    p.add_argument(
        "--top-k", type=int, help="passages to list under the answer (default $CITEBOT_TOP_K or 5)"
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    mode.add_argument(
        "--jsonl",
        action="store_true",
        help='questions from stdin (plain lines or {"id", "question"} objects), one JSON answer '
        "per line out",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="also show why: terms matched, chunks and their scores, span scores, threshold",
    )
    p.add_argument(
        "question",
        nargs="*",
        metavar="QUESTION",
        help="the question (quotes optional); none on a terminal starts the interactive prompt",
    )
    p.set_defaults(func=cmd_ask)

    from bot.chat.command import register as register_chat
    from bot.evaluate.command import register as register_eval

    register_eval(sub)
    register_chat(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from bot.render.clean import SafeFormatter

    log_handler = logging.StreamHandler()
    log_handler.setFormatter(SafeFormatter("citebot: %(levelname)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[log_handler])
    # pypdf logs its own repair notes for damaged files; the reader already turns a file it
    # cannot read into one clear warning, so its chatter would only repeat it.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        settings = Settings.load()
        return args.func(args, settings)
    except (UsageError, SettingsError) as e:
        print(f"citebot: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # `citebot ask ... | head`: the reader left; not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        # Damage that the index's stats did not show, found while answering: the next load
        # hashes the generation again and the next update rebuilds it.
        from bot.index import IndexUnusable

        if not isinstance(e, IndexUnusable):
            raise
        print(
            f"citebot: error: the index is damaged ({e}); the next run rebuilds it", file=sys.stderr
        )
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
