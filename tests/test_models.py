from bot.models import Document, Heading


def test_line_of_counts_from_one():
    d = Document.create("a.txt", "a", "one\ntwo\n\nfour")
    assert [d.line_of(i) for i in (0, 3, 4, 8, 9)] == [1, 1, 2, 3, 4]


def test_section_at_picks_the_heading_in_force():
    text = "Intro\nHead A\nbody a\nHead B\nbody b"
    ha = Heading(6, 12, 2, "Head A")
    hb = Heading(20, 26, 2, "Head B")
    d = Document.create("a.txt", "a", text, (hb, ha))
    assert d.section_at(0) is None
    assert d.section_at(text.index("body a")) == ha
    assert d.section_at(text.index("body b")) == hb
