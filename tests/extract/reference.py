"""The extractor as it was before its speed work (commit 0c36adc), kept as the reference the
fast path must agree with: the per-span feature function, the typed-candidate scan, sentence
gathering and the span ranking, written the straightforward way (one regex scan per pattern
over the whole sentence, every feature recomputed for every span). Tests compare the production
code with these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bot.analyze import STOPWORDS, Analyzer, words

# Name and phrase candidates were not part of the speed work: the reference uses them as they are.
from bot.extract.candidates import (
    _PATTERNS,
    _UNIT_WORD,
    NAME_GAP,
    Candidate,
    Word,
    _names,
    _phrases,
)
from bot.extract.features import (
    COPULA,
    FEATURES,
    LEFT_WORDS,
    PERSON_CUES,
    PERSON_VERBS,
    PLACE_CUES,
    RIGHT_WORDS,
    VERB_WORDS,
    WINDOW,
    _kind_fit,
    bigrams,
    term_weights,
)
from bot.extract.features import (
    FEATURE_INDEX as _F,
)
from bot.extract.qtype import DATE, MONEY, NAME, NUMBER, PERCENT, PERSON, PHRASE, PLACE, QType
from bot.extract.rank import (
    _CONTEXT_CHARS,
    PHRASE_SENTENCES,
    Ranking,
    Scored,
    Sentence,
    load_weights,
)
from bot.models import Document, Hit
from bot.sentences import split_sentences


def sentence_words(text: str, start: int, end: int, analyzer: Analyzer) -> list[Word]:
    return [
        Word(
            start + m.start(),
            start + m.end(),
            m.group(),
            analyzer.term(m.group()),
            m.group()[:1].isupper(),
        )
        for m in words(text[start:end])
    ]


def _word_range(ws: list[Word], start: int, end: int) -> tuple[int, int] | None:
    first = last = None
    for i, w in enumerate(ws):
        if w.end > start and w.start < end:
            if first is None:
                first = i
            last = i
    if first is None or last is None:
        return None
    return first, last


def _typed(text: str, start: int, end: int, ws: list[Word]) -> list[Candidate]:
    out: list[Candidate] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text, start, end):
            s, e = m.start(), m.end()
            if kind == NUMBER and any(ts <= s and e <= te for ts, te in taken):
                continue  # "115" inside "$115 million" is not a second answer
            r = _word_range(ws, s, e)
            if r is None:
                continue
            if kind != NUMBER:
                taken.append((s, e))
            out.append(Candidate(s, e, kind, r[0], r[1]))
            if kind == NUMBER:
                u = _UNIT_WORD.match(text, e, end)
                if u and u.group(1) not in STOPWORDS:
                    ue = u.end()
                    ur = _word_range(ws, s, ue)
                    if ur is not None:
                        out.append(Candidate(s, ue, NUMBER, ur[0], ur[1], u.group(1)))
    return out


def candidates(
    text: str, start: int, end: int, ws: list[Word], *, phrases: bool = True
) -> list[Candidate]:
    """All candidates in the sentence ``text[start:end]`` (``ws`` are its words); one span may
    appear under several kinds, the ranker decides which reading fits the question."""
    out = _typed(text, start, end, ws) + _names(text, ws)
    if phrases:
        out += _phrases(text, ws)
    seen: set[tuple[int, int, str]] = set()
    unique = []
    for c in out:
        key = (c.start, c.end, c.kind)
        if key not in seen and c.start < c.end:
            seen.add(key)
            unique.append(c)
    return unique


def gather_sentences(
    hits: Sequence[Hit], document: Callable[[str], Document], max_chunks: int
) -> list[Sentence]:
    """Sentences touching the top chunks, each once, in hit order; a sentence cut by a chunk
    edge is completed from the document text."""
    out: list[Sentence] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits[:max_chunks]:
        c = hit.chunk
        text = document(c.source).text
        # Sentence splitting needs the whole paragraph around the chunk to see true boundaries.
        ws = text.rfind("\n", max(0, c.start - _CONTEXT_CHARS), c.start) + 1
        if ws == 0 and c.start > _CONTEXT_CHARS:
            ws = c.start - _CONTEXT_CHARS
        we = text.find("\n", c.end, c.end + _CONTEXT_CHARS)
        we = min(len(text), c.end + _CONTEXT_CHARS) if we == -1 else we
        for s, e in split_sentences(text, ws, we):
            if e <= c.start or s >= c.end or (c.source, s) in seen:
                continue
            seen.add((c.source, s))
            out.append(Sentence(c.source, s, e, c.id, hit.rank, hit.score))
    return out


def _run(ws: list[Word], k: int, step: int, qterms: set[str]) -> float:
    """Question terms met walking from word ``k`` in direction ``step`` before the first
    content word that is not one; stop words are skipped, at most 4 words are read."""
    run = 0
    for _ in range(4):
        if not 0 <= k < len(ws):
            break
        t = ws[k].term
        if t is not None:
            if t not in qterms:
                break
            run += 1
        k += step
    return float(run)


def span_features(
    text: str,
    qtype: QType,
    qterms: set[str],
    weights: dict[str, float],
    ws: list[Word],
    c: Candidate,
    focus_term: str | None,
    matched: list[int] | None = None,
) -> np.ndarray | None:
    """Feature vector of one span, or None when the span only repeats the question.
    ``matched`` are the positions of question terms in ``ws`` (computed once per sentence)."""
    if matched is None:
        matched = [k for k, w in enumerate(ws) if w.term in qterms]
    f = np.zeros(len(FEATURES))
    span_terms = [w.term for w in ws[c.first : c.last + 1] if w.term is not None]
    digits = any(ch.isdigit() for w in ws[c.first : c.last + 1] for ch in w.text)
    if not span_terms and not digits:
        return None
    inq = sum(1 for t in span_terms if t in qterms)
    if span_terms and inq == len(span_terms) and not digits:
        return None
    total = sum(weights.values()) or 1.0
    lo, hi = max(0, c.first - WINDOW), min(len(ws), c.last + 1 + WINDOW)
    near = {w.term for w in ws[lo : c.first] + ws[c.last + 1 : hi] if w.term in qterms}
    dist = dist_at = None
    n_left = n_matched = 0
    for k in matched:
        if not c.first <= k <= c.last:
            n_matched += 1
            n_left += k < c.first
            d = (c.first - k) if k < c.first else (k - c.last)
            if dist is None or d < dist:
                dist, dist_at = d, k
    n_words = c.last - c.first + 1
    prev_w = ws[c.first - 1] if c.first > 0 else None
    next_w = ws[c.last + 1] if c.last + 1 < len(ws) else None
    fit = _kind_fit(qtype, c.kind)
    typed_q = qtype.kind != PHRASE

    f[_F["bias"]] = 1.0
    f[_F["type_match"]] = fit
    f[_F["typed_q_nomatch"]] = 1.0 if typed_q and fit == 0.0 else 0.0
    f[_F["in_question"]] = inq / len(span_terms) if span_terms else 0.0
    f[_F["near_cov"]] = sum(weights.get(t, 0.0) for t in near) / total
    f[_F["near_dist"]] = 0.0 if dist is None else 1.0 / (1.0 + dist)
    f[_F["prev_match"]] = 1.0 if prev_w is not None and prev_w.term in qterms else 0.0
    f[_F["next_match"]] = 1.0 if next_w is not None and next_w.term in qterms else 0.0
    f[_F["length"]] = n_words
    f[_F["length_sq"]] = n_words * n_words / 10.0
    if focus_term is not None:
        around = {c.unit, prev_w.text.lower() if prev_w else None}
        around |= {next_w.text.lower() if next_w else None}
        around |= {w.text.lower() for w in ws[c.first : c.last + 1]}
        if focus_term in around or (c.unit and c.unit.rstrip("s") == focus_term.rstrip("s")):
            f[_F["focus"]] = 1.0
    caps = sum(1 for w in ws[c.first : c.last + 1] if w.cap)
    f[_F["cap_share"]] = caps / n_words
    if prev_w is not None and prev_w.text.lower() in PLACE_CUES:
        f[_F["place_cue"]] = 1.0 if qtype.kind == PLACE else 0.0
    if qtype.kind == PERSON and (
        (prev_w is not None and prev_w.text.lower() in PERSON_CUES)
        or (next_w is not None and next_w.text.lower() in PERSON_VERBS)
    ):
        f[_F["person_cue"]] = 1.0
    if not typed_q:
        f[_F["phrase_q_name"]] = 1.0 if c.kind == NAME else 0.0
        f[_F["phrase_q_typed"]] = 1.0 if c.kind in (NUMBER, MONEY, PERCENT, DATE) else 0.0
        f[_F["phrase_q_len"]] = n_words
    if qtype.kind in (PERSON, NAME) and c.kind == NAME and caps >= 2:
        f[_F["multiword_name"]] = 1.0
    f[_F["has_digit"]] = 1.0 if digits else 0.0
    f[_F["left_run"]] = _run(ws, c.first - 1, -1, qterms)
    f[_F["right_run"]] = _run(ws, c.last + 1, 1, qterms)
    f[_F["left_stop"]] = 1.0 if prev_w is not None and prev_w.term is None else 0.0
    f[_F["right_stop"]] = 1.0 if next_w is not None and next_w.term is None else 0.0
    before = text[prev_w.end : c.start] if prev_w is not None else ""
    after = text[c.end : next_w.start] if next_w is not None else "."
    f[_F["left_punct"]] = 1.0 if before.strip(" -") else 0.0
    f[_F["right_punct"]] = 1.0 if after.strip(" -") else 0.0
    edges = (ws[c.first].text.lower(), ws[c.last].text.lower())
    if any(e.endswith(("ed", "ing", "ly")) and len(e) > 4 for e in edges) and c.kind == PHRASE:
        f[_F["verbish_edge"]] = 1.0
    if dist_at is not None:
        a, b = (dist_at, c.first) if dist_at < c.first else (c.last, dist_at)
        between = text[ws[a].end : ws[b].start]
        f[_F["same_clause"]] = 0.0 if any(p in between for p in ",;:()") else 1.0
    if (
        prev_w is not None
        and prev_w.cap
        and c.first > 1
        and NAME_GAP.match(before)
        and prev_w.text.lower() not in PERSON_CUES  # cutting off a title is not cutting a name
    ) or (next_w is not None and next_w.cap and NAME_GAP.match(after)):
        f[_F["cuts_name"]] = 1.0
    f[_F["left_share"]] = n_left / n_matched if n_matched else 0.0

    if n_words == 1 and not ws[c.first].cap and not digits:
        f[_F["lower_single"]] = 1.0
    if c.first == 0:
        f[_F["name_starts_sentence" if c.kind == NAME else "starts_sentence"]] = 1.0
    # Features added after the speed work (quality2), written the same straightforward way.
    span_words = [w.text.lower() for w in ws[c.first : c.last + 1]]
    if focus_term is not None and focus_term in span_words:
        f[_F["focus_inside"]] = 1.0
    f[_F["verb_share"]] = sum(
        1 for w in span_words if w in VERB_WORDS or (len(w) > 4 and w.endswith("ed"))
    ) / len(span_words)
    if "(" in before or ")" in (text[c.end : next_w.start] if next_w is not None else ""):
        f[_F["paren"]] = 1.0
    left_q = any(c.first - WINDOW <= k < c.first for k in matched)
    right_q = any(c.last < k < c.last + 1 + WINDOW for k in matched)
    f[_F["between_q"]] = 1.0 if left_q and right_q else 0.0
    if matched:
        f[_F["match_density"]] = len(matched) / (max(matched) - min(matched) + 1)
    f[_F["sent_words"]] = min(len(ws), 60) / 60
    if prev_w is not None and prev_w.text.lower() in COPULA:
        f[_F["prev_copula"]] = 1.0
    if c.unit:
        f[_F["has_unit"]] = 1.0
    # The word classes around the span (span_choice branch).
    for name, kinds in LEFT_WORDS.items():
        if prev_w is not None and prev_w.text.lower() in kinds:
            f[_F[name]] = 1.0
    for name, kinds in RIGHT_WORDS.items():
        if next_w is not None and next_w.text.lower() in kinds:
            f[_F[name]] = 1.0
    return f


def score_spans(
    question: str,
    qtype: QType,
    hits: Sequence[Hit],
    document: Callable[[str], Document],
    analyzer: Analyzer,
    *,
    max_chunks: int,
    idf: Callable[[str], float] | None = None,
    weights: np.ndarray | None = None,
) -> Ranking:
    """Every admissible span in the sentences of the top chunks, with its feature vector and
    linear score, best first."""
    w_vec = load_weights() if weights is None else weights
    q_list = analyzer.terms(question)
    qterms = set(q_list)
    if not qterms or not hits:
        return Ranking([], {}, frozenset())
    q_bigrams = bigrams(q_list)
    focus_term = qtype.focus
    sents = gather_sentences(hits, document, max_chunks)
    top_score = max(h.score for h in hits) or 1.0
    texts = {s.source: document(s.source).text for s in sents}
    words_of = [sentence_words(texts[s.source], s.start, s.end, analyzer) for s in sents]
    term_sets = [{w.term for w in ws if w.term is not None} for ws in words_of]
    weights = term_weights(sorted(qterms), term_sets, idf)
    total = sum(weights.values()) or 1.0

    sent_rows = []
    for i, s in enumerate(sents):
        here = qterms & term_sets[i]
        cov = sum(weights[t] for t in here) / total
        terms_in_order = [w.term for w in words_of[i] if w.term is not None]
        bigram = len(q_bigrams & bigrams(terms_in_order)) / max(1, len(q_bigrams))
        ctx = 0.0
        prev = sents[i - 1] if i > 0 else None
        # A pronoun subject ("It cost ...") leaves the topic words in the sentence before.
        if (
            prev is not None
            and prev.source == s.source
            and prev.end <= s.start
            and texts[s.source][prev.end : s.start].count("\n") <= 1
        ):
            ctx = sum(weights[t] for t in (qterms & term_sets[i - 1]) - here) / total
        sent_rows.append((cov, bigram, ctx))
    # Phrases only from the sentences that best cover the question (cost grows with n-grams).
    order = sorted(range(len(sents)), key=lambda i: -(sent_rows[i][0] + 0.05 * sent_rows[i][1]))
    phrase_ok = set(order[:PHRASE_SENTENCES])

    out: list[Scored] = []
    for i, s in enumerate(sents):
        cov, bigram, ctx = sent_rows[i]
        if cov == 0.0:
            continue
        ws = words_of[i]
        matched = [k for k, w in enumerate(ws) if w.term in qterms]
        for c in candidates(texts[s.source], s.start, s.end, ws, phrases=i in phrase_ok):
            f = span_features(texts[s.source], qtype, qterms, weights, ws, c, focus_term, matched)
            if f is None:
                continue
            f[_F["sent_cov"]] = cov
            f[_F["sent_bigram"]] = bigram
            f[_F["context_cov"]] = ctx

            f[_F["hit_ratio"]] = s.hit_score / top_score
            f[_F["hit_first"]] = 1.0 if s.rank == 0 else 0.0
            out.append(Scored(s, c, f, float(f @ w_vec), cov))
    out.sort(key=lambda x: (-x.score, x.candidate.end - x.candidate.start))
    return Ranking(
        out, weights, frozenset().union(*term_sets) & qterms if term_sets else frozenset()
    )
