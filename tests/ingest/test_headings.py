import pytest

from bot.ingest.headings import looks_like_heading, markdown_headings, plain_text_headings

PARAGRAPH = "This paragraph explains the topic in enough words to be a real paragraph line."


@pytest.mark.parametrize(
    "line",
    [
        "Installation",
        "Frequently Asked Questions",
        "Chapter 3: The Return",
        "How to Install the App on Windows",
        "What does the warranty cover?",
        "2.1 Scope and Purpose",
        "Terrorism Confinement Center (CECOT)",
        "RESULTS AND DISCUSSION",
        "Bukele’s Proposal",
    ],
)
def test_heading_shapes(line):
    assert looks_like_heading(line)
    text = f"Intro line that is a sentence.\n{line}\n{PARAGRAPH}\n"
    (h,) = plain_text_headings(text)
    assert (h.text, h.level) == (line, 2)
    assert text[h.start : h.end] == line


@pytest.mark.parametrize(
    "line",
    [
        "We sold the house and moved to the coast last year.",
        "The meeting ended early",
        "- First Item In The List",
        "* Another Bullet",
        "• Bullet Point",
        "— Jane Doe (@janedoe) March 3, 2024",
        "See More at https://Example.com/Page",
        "Read This… pic.twitter.com/AbC123",
        "Contact Us: Info@Example.Org",
        "“Quoted Words Here”",
        "Apples, Pears, Plums, Figs",
        "Notes:",
        "Wow!",
        "12345 67890",
        "a lowercase start",
        "An Extremely Long Line That Keeps Going With Capitalised Words Well Past Any Reasonable "
        "Heading Length",
    ],
)
def test_not_heading_shapes(line):
    assert not looks_like_heading(line)
    assert plain_text_headings(f"Intro line that is a sentence.\n{line}\n{PARAGRAPH}\n") == ()


def test_heading_needs_a_longer_paragraph_after_it():
    assert plain_text_headings("Installation\nRun it.\n") == ()
    assert plain_text_headings("Installation\n") == ()


def test_runs_of_short_lines_are_not_headings():
    text = "John Smith\n42 Harbour Road\nPort Town\n" + PARAGRAPH
    assert plain_text_headings(text) == ()


def test_wrapped_sentence_continuation_is_not_a_heading():
    text = "The list of places we visited includes the old mill,\nThe Harbour Bridge\n" + PARAGRAPH
    assert plain_text_headings(text) == ()


def test_blank_lines_between_heading_and_paragraph():
    text = "\n\n  Getting Started  \n\n" + PARAGRAPH
    (h,) = plain_text_headings(text)
    assert text[h.start : h.end] == "Getting Started"


def test_markdown_setext_needs_a_one_line_paragraph():
    text = "first line of a paragraph\nsecond line\n---\n\nAlone\n===\n"
    assert [h.text for h in markdown_headings(text)] == ["Alone"]


def test_markdown_hash_without_space_is_not_a_heading():
    assert markdown_headings("#hashtag\n#5 on the list\n") == ()
    assert [h.level for h in markdown_headings("###### Six\n####### Seven\n")] == [6]
