import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.analyze import STOPWORDS
from bot.extract import MIN_CONFIDENCE, extract, strip_span
from tests.extract.paragraphs import ANALYZER, ParagraphIndex

HARBOUR = "\n\n".join(
    [
        "Port Varn",
        "Port Varn is a fishing town on the northern coast of Lorimar. Its harbour was "
        "dredged in 1887.",
        "The lighthouse was designed by the engineer Tomas Albrecht and lit on 14 March 1902."
        " It cost £40,000 to build.",
        "The town has a population of 8,200 residents, and about 35% of them work in the fish"
        " trade.",
        "Every summer the town holds a regatta. The winning crew receives the Silver Anchor, "
        "a trophy made in Oslo.",
        "The mayor, Elena Sorvik, opened a marine museum in the old customs house. The museum"
        " displays 300 ship models.",
    ]
)


@pytest.fixture(scope="module")
def index():
    return ParagraphIndex({"varn.txt": HARBOUR})


def answer(index, question):
    x = extract(question, index.hits(question), index, ANALYZER)
    assert x is not None
    text = index.document(x.source).text
    return text[x.start : x.end], text[x.sentence_start : x.sentence_end], x


@pytest.mark.parametrize(
    ("question", "expected", "kind"),
    [
        ("How many residents does Port Varn have?", {"8,200 residents", "8,200"}, "number"),
        ("How much did the lighthouse cost to build?", {"£40,000"}, "money"),
        ("What percentage of people work in the fish trade?", {"35%"}, "percent"),
        ("When was the lighthouse lit?", {"14 March 1902"}, "date"),
        ("In what year was the harbour dredged?", {"1887"}, "date"),
        ("Who designed the lighthouse?", {"Tomas Albrecht"}, "person"),
        ("Who is the mayor of the town?", {"Elena Sorvik"}, "person"),
        ("Where was the trophy made?", {"Oslo"}, "place"),
        ("How many ship models does the museum display?", {"300 ship models", "300"}, "number"),
        ("What does the winning crew of the regatta receive?", {"Silver Anchor"}, "phrase"),
    ],
)
def test_answer_types(index, question, expected, kind):
    span, sentence, x = answer(index, question)
    assert span in expected
    assert span in sentence
    assert x.answer_type == kind
    assert x.confidence >= MIN_CONFIDENCE


def test_span_does_not_repeat_the_question(index):
    span, _, _ = answer(index, "Who opened a marine museum in the old customs house?")
    assert span == "Elena Sorvik"


def test_no_hits_no_extraction(index):
    assert extract("What is the capital of France?", [], index, ANALYZER) is None


def test_unrelated_question_has_low_confidence(index):
    q = "What is the boiling point of liquid nitrogen in a laboratory?"
    hits = index.hits(q)
    x = extract(q, hits, index, ANALYZER)
    assert x is None or x.confidence < MIN_CONFIDENCE


def test_strip_span_keeps_currency_and_percent():
    t = ' ("$5 million", 20%.)'
    s, e = strip_span(t, 0, 15)
    assert t[s:e] == "$5 million"
    s, e = strip_span(t, 15, len(t))
    assert t[s:e] == "20%"


_WORDS = [
    "river",
    "Anna",
    "Berg",
    "built",
    "the",
    "bridge",
    "in",
    "1850",
    "cost",
    "$3",
    "million",
    "of",
    "Lund",
    "42",
    "ships",
    "when",
    "is",
    "a",
    "town",
    "May",
    "4,",
]


@st.composite
def documents(draw):
    paras = draw(
        st.lists(
            st.lists(
                st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12), min_size=1, max_size=4
            ),
            min_size=1,
            max_size=4,
        )
    )
    seps = draw(
        st.lists(st.sampled_from([". ", "! ", "? ", "; ", ".\n", ", "]), min_size=20, max_size=20)
    )
    out = []
    for p in paras:
        sentences = []
        for i, s in enumerate(p):
            sentences.append(" ".join(s).capitalize() + seps[i % len(seps)].rstrip(" "))
        out.append(" ".join(sentences))
    return "\n\n".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents(),
    st.sampled_from(["Who", "When", "How many", "How much", "Where", "What"]),
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=5),
)
def test_offsets_select_the_span_inside_its_sentence(text, wh, rest):
    index = ParagraphIndex({"d.txt": text})
    question = wh + " " + " ".join(rest) + "?"
    x = extract(question, index.hits(question), index, ANALYZER)
    if x is None:
        return
    doc = index.document(x.source)
    span = doc.text[x.start : x.end]
    assert 0 <= x.sentence_start <= x.start < x.end <= x.sentence_end <= len(doc.text)
    assert span == span.strip() and span.strip(".,;:!?\"'()") == span
    assert 0.0 <= x.confidence <= 1.0
    # Never a span made only of the question's own words.
    qterms = set(ANALYZER.terms(question))
    terms = ANALYZER.terms(span)
    assert (
        any(ch.isdigit() for ch in span)
        or (terms and not set(terms) <= qterms)
        or (not terms and span.lower() not in STOPWORDS)
    )
