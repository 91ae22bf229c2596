"""Question → the kind of span that would answer it.

The kinds are deliberately coarse: a lexical tagger cannot tell a person from an organisation
reliably, so "who" asks for a ``name`` and the ranker prefers person-looking names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


NUMBER = "number"
MONEY = "money"
PERCENT = "percent"
DATE = "date"
PERSON = "person"
PLACE = "place"
NAME = "name"  # a proper name of any sort ("what is the name of ...")
PHRASE = "phrase"

# Head nouns that turn a "what is the X" question into a request for a quantity.
_QUANTITY_NOUNS = _word_set(
    """
    capacity population size length height width depth area weight mass speed velocity
    number amount total count distance temperature altitude elevation volume diameter radius
    duration age score rate frequency density pressure power output attendance enrollment
    enrolment circumference
    """
)
_MONEY_NOUNS = _word_set(
    """
    cost price budget fee fees salary revenue revenues income value worth fine funding wage
    wages profit profits spending expenditure debt tuition endowment
    """
)
_MONEY_VERBS = _word_set(
    """
    cost costs pay paid spend spent worth price priced earn earned earns raise raised charge
    charged sell sold fund funded invest invested owe owed donate donated buy bought budget
    lose lost save saved fine fined award awarded receive received
    """
)
_DATE_NOUNS = _word_set(
    """
    year years date day month century decade era period time season week
    """
)
_PLACE_NOUNS = _word_set(
    """
    city country state region continent river town village place location province county
    island nation area capital mountain sea ocean lake district neighbourhood neighborhood
    street site borough port territory kingdom empire
    """
)
_PERSON_NOUNS = _word_set(
    """
    person man woman people president leader king queen emperor author writer scientist
    inventor founder player coach director minister chancellor general commander ruler
    physicist composer artist architect engineer philosopher pope bishop officer attorney
    lawyer judge senator governor mayor chairman ceo manager son daughter father mother
    brother sister wife husband
    """
)
_ORG_NOUNS = _word_set(
    """
    company organization organisation group team party university school college agency
    institution body court newspaper network firm band club league union government
    """
)
_WORD = re.compile(r"[A-Za-z0-9$%']+")
# Words that can sit between "what/which" and the head noun: "what kind of", "which two".
_SKIP = _word_set(
    """
    the a an of kind type sort two three four five
    """
)
# Modifiers that may stand between "what/which" and a place, person or organisation noun
# ("what modern city", "which present day county"); capitalised words and adjective endings
# (-ern, -ian, -ish, -ese, -al, -ic) count as modifiers too.
_MODIFIERS = _word_set(
    """
    modern present day current former ancient major largest main biggest new old other same
    first last small large great famous nearby
    """
)
_ADJECTIVE_ENDINGS = ("ern", "ian", "ish", "ese", "al", "ic")
_NOT_FOCUS = _word_set(
    """
    is was are were do does did has have had can could would should will s
    """
)


@dataclass(frozen=True, slots=True)
class QType:
    kind: str
    # The noun the question is about ("prisoners" in "how many prisoners"), lower case; the
    # ranker rewards a number whose unit matches it.
    focus: str | None = None
    wh: str = ""  # the question word: how-many, how-much, when, who, where, what, which, ...


def _focus_after(words: list[str], i: int) -> tuple[str | None, int]:
    """The first content word after position ``i`` (skipping articles and "kind of")."""
    j = i
    while j < len(words) and words[j] in _SKIP:
        j += 1
    return (words[j], j) if j < len(words) else (None, j)


def _kind_of_noun(noun: str | None, words: list[str]) -> str | None:
    if noun is None:
        return None
    n = noun.rstrip("s") if noun.endswith("s") and noun[:-1] in _DATE_NOUNS else noun
    if n in _DATE_NOUNS:
        return DATE
    if noun in ("percentage", "percent", "proportion", "fraction", "share"):
        return PERCENT
    if noun in _MONEY_NOUNS:
        return MONEY
    if noun in _QUANTITY_NOUNS:
        return NUMBER
    if noun in _PLACE_NOUNS:
        return PLACE
    if noun in _PERSON_NOUNS:
        return PERSON
    if noun in _ORG_NOUNS:
        return NAME
    if noun == "name":
        return NAME
    return None


def _is_modifier(word: str, original: str) -> bool:
    return (
        original[:1].isupper()
        or word in _MODIFIERS
        or (len(word) > 4 and word.endswith(_ADJECTIVE_ENDINGS))
    )


def _modified_noun(words: list[str], originals: list[str], j: int) -> tuple[str, str] | None:
    """``words[j]`` and at most one more word are modifiers of a place, person or
    organisation noun ("what Swiss city", "which central European country"): that noun and its
    kind. Dates are left out: "what present day area" is not a question about a day."""
    for k in range(j, min(len(words) - 1, j + 2)):
        if words[k] in _NOT_FOCUS or not _is_modifier(words[k], originals[k]):
            return None
        kind = _kind_of_noun(words[k + 1], words)
        if kind in (PLACE, PERSON, NAME):
            return words[k + 1], kind
    return None


def question_type(question: str) -> QType:
    originals = _WORD.findall(question)
    words = [w.lower() for w in originals]
    if not words:
        return QType(PHRASE)
    joined = " ".join(words)

    for i, w in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w == "how":
            if nxt == "many":
                focus, _ = _focus_after(words, i + 2)
                return QType(NUMBER, focus, "how-many")
            if nxt == "much":
                rest = set(words[i + 2 :])
                money = bool(rest & _MONEY_VERBS or rest & _MONEY_NOUNS or "money" in rest)
                return QType(MONEY if money else NUMBER, None, "how-much")
            if nxt in (
                "long",
                "old",
                "far",
                "tall",
                "high",
                "big",
                "large",
                "deep",
                "wide",
                "heavy",
                "fast",
                "often",
                "late",
                "early",
                "small",
                "hot",
                "cold",
            ):
                focus = {"long": "duration", "old": "age"}.get(nxt, nxt)
                return QType(NUMBER, focus, "how-" + nxt)
        if w == "when" or (w == "what" and nxt == "time" and "what time" in joined):
            return QType(DATE, None, "when")
        if w in ("who", "whom", "whose"):
            return QType(PERSON, None, "who")
        if w == "where":
            return QType(PLACE, None, "where")
        if w in ("what", "which"):
            noun, j = _focus_after(words, i + 1)
            kind = _kind_of_noun(noun, words)
            if kind is not None:
                return QType(kind, noun, w)
            modified = _modified_noun(words, originals, j)
            if modified is not None:
                return QType(modified[1], modified[0], w)
            # "what is CECOT's capacity", "what was the cost of ...": the head noun comes later.
            if noun in ("is", "was", "are", "were", "s"):
                head, _ = _focus_after(words, j + 1)
                kind = _kind_of_noun(head, words)
                if kind in (PLACE, PERSON, NAME):
                    return QType(kind, head, w)
                for k in range(j + 1, min(len(words), j + 6)):
                    kind = _kind_of_noun(words[k], words)
                    if kind in (NUMBER, MONEY, PERCENT):
                        return QType(kind, words[k], w)
                    if kind == DATE and words[k] in ("year", "date"):
                        return QType(kind, words[k], w)
            return QType(PHRASE, noun if noun not in _NOT_FOCUS else None, w)
        if w in ("why",):
            return QType(PHRASE, None, "why")
    if words[0] == "how":
        return QType(PHRASE, None, "how")
    return QType(PHRASE, None, words[0])
