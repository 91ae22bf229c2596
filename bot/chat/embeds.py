"""Answer → Discord embed, inside every Discord limit by construction.

Everything copied from a document or a question goes through ``escape`` so a document cannot
ping (``@everyone``, ``<@&role>``) or break the layout with its own markdown. Escaping at most
doubles a text's length, but the limits are checked on the escaped text, so nothing relies on it.
"""

from __future__ import annotations

import re

import discord
from discord.utils import escape_mentions

from bot import __version__
from bot.models import Answer, Explanation, Hit
from bot.render.explain import decision, score_text

NOT_FOUND = "I couldn't find that in the documents."
SHORTENED = " *(answer shortened)*"
ELLIPSIS = "…"

# Discord's documented limits.
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000

# Our own, smaller budgets: a chat answer should read at a glance, and with these the sum of
# all parts stays under EMBED_TOTAL_MAX whatever the inputs are.
SENTENCE_BUDGET = 1500
PASSAGE_BUDGET = 3500
SNIPPET_BUDGET = 300
SOURCE_FIELDS_MAX = 8
MIN_BUDGET = 64  # room for a shortened span and its marker

ANSWERED_COLOUR = discord.Colour.green()
NOT_FOUND_COLOUR = discord.Colour.light_grey()


# Every character that can start or end Discord markdown, the backslash first among them.
# discord.utils.escape_markdown leaves a backslash inside a masked link unescaped, so
# "[\](0)" in a document would lose its backslash on screen.
_MARKDOWN = re.compile(r"([\\`*_~|>#\[\]-])")


def escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", escape_mentions(text))


def flatten(text: str) -> str:
    """Chat messages are one paragraph: any run of whitespace becomes a single space."""
    return re.sub(r"\s+", " ", text)


def fit(raw: str, limit: int) -> str:
    """``raw`` escaped, shortened with "…" at a word boundary so the result is ≤ ``limit``."""
    out = escape(raw)
    if len(out) <= limit:
        return out
    n = min(len(raw), limit)
    while n > 0:
        head = raw[:n]
        cut = head.rfind(" ")
        if cut > n // 2:
            head = head[:cut]
        out = escape(head.rstrip()) + ELLIPSIS
        if len(out) <= limit:
            return out
        n = int(n * 0.8)
    return ELLIPSIS[:limit]


def _left_context(before: str, n: int) -> str:
    if n >= len(before):
        return before
    if n <= 0:
        return ELLIPSIS if before.strip() else before
    tail = before[-n:]
    cut = tail.find(" ")
    if 0 <= cut < n // 3:
        tail = tail[cut:]
    return ELLIPSIS + tail


def _right_context(after: str, n: int) -> str:
    if n >= len(after):
        return after
    if n <= 0:
        return ELLIPSIS if after.strip() else after
    head = after[:n]
    cut = head.rfind(" ")
    if cut > n - n // 3:
        head = head[:cut]
    return head + ELLIPSIS


def highlight(text: str, start: int, end: int, budget: int) -> str:
    """``text`` with ``text[start:end]`` in bold, escaped, ≤ ``budget`` characters.

    Context around the span is dropped first (marked "…"); the span is only shortened when it
    alone does not fit, and then it is marked with SHORTENED.
    """
    if budget < MIN_BUDGET:
        raise ValueError(f"budget must be at least {MIN_BUDGET} characters")
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    before, span, after = flatten(text[:start]), flatten(text[start:end]), flatten(text[end:])
    # Markdown bold does not apply to a span that starts or ends with a space.
    stripped = span.strip()
    if stripped != span:
        lead = span[: len(span) - len(span.lstrip())]
        trail = span[len(span.rstrip()) :]
        before, span, after = before + lead, stripped, trail + after
    if not span:
        return fit(before + after, budget)
    bold_span = f"**{escape(span)}**"
    if len(bold_span) > budget:
        inner = budget - len(SHORTENED) - 4
        return f"**{fit(span, inner)}**{SHORTENED}"
    room = budget - len(bold_span)
    left_n = right_n = room // 2
    if len(before) < left_n:
        right_n += left_n - len(before)
    elif len(after) < right_n:
        left_n += right_n - len(after)
    while True:
        out = escape(_left_context(before, left_n)) + bold_span
        out += escape(_right_context(after, right_n))
        if len(out) <= budget:
            return out
        if left_n == right_n == 0:
            # The span fits but not with a "…" on each side: it goes alone (this loop never ended
            # for a span within two characters of the budget).
            return bold_span
        left_n, right_n = int(left_n * 0.8), int(right_n * 0.8)


def location(source: str, section: str | None, line: int | None) -> str:
    """``doc.txt › Section · line 9``: where a reader finds the passage (not escaped)."""
    where = source if not section else f"{source} › {section}"
    return where if line is None else f"{where} · line {line}"


def _footer(answer: Answer | None = None) -> str:
    text = f"citebot {__version__}"
    if answer is not None and answer.took_ms:
        text += f" · {answer.took_ms:.0f} ms"
    return text


def _enforce_total(embed: discord.Embed) -> discord.Embed:
    # Every builder already stays within the total; this keeps it true if budgets change.
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def _snippet(hit: Hit) -> str:
    return fit(flatten(hit.chunk.text).strip(), SNIPPET_BUDGET)


def source_fields(embed: discord.Embed, hits: tuple[Hit, ...]) -> None:
    for i, hit in enumerate(hits[:SOURCE_FIELDS_MAX]):
        ch = hit.chunk
        name = fit(f"{i + 1}. {location(ch.source, ch.section, ch.line)}", FIELD_NAME_MAX)
        embed.add_field(name=name, value=_snippet(hit) or ELLIPSIS, inline=False)


def answer_embed(answer: Answer) -> discord.Embed:
    title = fit(flatten(answer.question).strip(), TITLE_MAX) or ELLIPSIS
    span = answer.span_in_sentence
    if not answer.answered or not answer.citations or answer.sentence is None or span is None:
        embed = discord.Embed(title=title, colour=NOT_FOUND_COLOUR)
        embed.description = NOT_FOUND + ("\nNearest sources:" if answer.sources else "")
        source_fields(embed, answer.sources)
        embed.set_footer(text=_footer(answer))
        return _enforce_total(embed)
    embed = discord.Embed(title=title, colour=ANSWERED_COLOUR)
    embed.description = highlight(answer.sentence, span[0], span[1], SENTENCE_BUDGET)
    cites = answer.citations[:5]
    per_line = FIELD_VALUE_MAX // len(cites) - 1
    lines = [fit(location(c.source, c.section, c.line), per_line) for c in cites]
    embed.add_field(name="Source" if len(cites) == 1 else "Sources", value="\n".join(lines))
    embed.add_field(name="Confidence", value=f"{answer.confidence:.2f}")
    embed.set_footer(text=_footer(answer))
    return _enforce_total(embed)


EXPLAINED_CHUNKS = 5
TERMS_BUDGET = 1000
RUNNER_UP_BUDGET = 200
CHANGED = "The documents changed since that answer; this explains the answer they give now."


def explain_embed(answer: Answer, ex: Explanation, *, changed: bool = False) -> discord.Embed:
    """Why ``answer`` was given or withheld (the ephemeral "Why this answer?" reply): the
    question's terms as matched, the chunks looked in with their retrieval scores, the span's
    score against the runner-up and the no-answer score, and the decision against the
    threshold. Within every limit whatever the documents and the question hold."""
    embed = discord.Embed(title="Why this answer?", colour=ANSWERED_COLOUR)
    terms = []
    for t in ex.terms:
        used = t.corrected or t.term
        shown = (
            escape(t.word) if t.word.casefold() == used else f"{escape(t.word)} → {escape(used)}"
        )
        if t.corrected:
            shown += " (spelling corrected)"
        terms.append(f"{shown} {'✓' if t.found else '✗ (not in the chunks)'}")
    description = fit(flatten(answer.question).strip(), SNIPPET_BUDGET)
    joined = ", ".join(terms) if terms else "none (only stop words)"
    if len(joined) > TERMS_BUDGET:
        cut = joined.rfind(", ", 0, TERMS_BUDGET - 3)
        joined = joined[: cut if cut > 0 else TERMS_BUDGET - 3].rstrip("\\") + ", " + ELLIPSIS
    description += f"\n**Terms:** {joined}"
    if changed:
        description += f"\n*{CHANGED}*"
    embed.description = description
    chunks = ex.chunks[:EXPLAINED_CHUNKS]
    if chunks:
        per_line = FIELD_VALUE_MAX // len(chunks) - 1
        lines = []
        for h in chunks:
            score = f" · {h.score:.2f}"
            where = location(h.chunk.source, h.chunk.section, h.chunk.line)
            lines.append(fit(f"{h.rank + 1}. {where}", per_line - len(score)) + score)
        embed.add_field(name="Chunks (retrieval score)", value="\n".join(lines), inline=False)
    scores = [f"Answer span: {score_text(ex.score)}"]
    if ex.runner_up is not None:
        runner = fit(flatten(ex.runner_up).strip(), RUNNER_UP_BUDGET) or ELLIPSIS
        scores.append(f"Runner-up span: “{runner}” {score_text(ex.runner_up_score)}")
    scores.append(f"No-answer score: {score_text(ex.no_answer_score)}")
    scores.append(decision(answer, ex).capitalize())
    embed.add_field(name="Scores", value="\n".join(scores), inline=False)
    embed.set_footer(text=_footer(answer))
    return _enforce_total(embed)


def passage_embed(
    source: str, section: str | None, line: int | None, passage: str, start: int, end: int
) -> discord.Embed:
    """The cited passage, answer in bold, for the ephemeral "Show source" reply."""
    embed = discord.Embed(
        title=fit(location(source, section, line), TITLE_MAX) or ELLIPSIS,
        description=highlight(passage, start, end, PASSAGE_BUDGET),
        colour=ANSWERED_COLOUR,
    )
    return _enforce_total(embed)


def text_embed(title: str, lines: list[str], footer: bool = True) -> discord.Embed:
    """A plain embed for bot-authored text (sources, reindex report); ``lines`` are escaped by
    the caller where they hold document text."""
    embed = discord.Embed(title=title[:TITLE_MAX])
    body = ""
    for i, line in enumerate(lines):
        if len(body) + len(line) + 1 > DESCRIPTION_MAX - 40:
            body += f"{ELLIPSIS} and {len(lines) - i} more"
            break
        body += line + "\n"
    embed.description = body.rstrip("\n") or None
    if footer:
        embed.set_footer(text=_footer())
    return embed


def clip_content(text: str) -> str:
    """Plain message content (our own words) kept within Discord's 2000 characters."""
    return text if len(text) <= CONTENT_MAX else text[: CONTENT_MAX - 1] + ELLIPSIS
