from bot.analyze import Analyzer, normalize_word


def test_curly_apostrophe_possessive_and_case_meet():
    a = Analyzer()
    assert a.terms("CECOT’s") == a.terms("cecot's") == a.terms("CECOT") == ["cecot"]


def test_grouped_numbers_match_plain_numbers():
    a = Analyzer()
    assert a.terms("40,000") == a.terms("40000") == ["40000"]
    assert a.terms("3.5") == ["3.5"]
    # A comma that is not digit grouping keeps the parts apart rather than inventing a number.
    assert normalize_word("1,5") == "1,5"


def test_stems_and_stopwords():
    a = Analyzer()
    assert a.terms("What is the capacity of the prisons?") == a.terms("capacities prison")
    assert a.terms("the of and") == []


def test_mixed_alphanumerics_stay_whole():
    assert Analyzer().terms("5G mp3 H1N1") == ["5g", "mp3", "h1n1"]


def test_token_offsets_point_at_surface_words():
    text = "  Bukele’s  proposal: 40,000 inmates"
    for tok in Analyzer().tokens(text):
        assert text[tok.start : tok.end].strip() == text[tok.start : tok.end]
        assert Analyzer().term(text[tok.start : tok.end]) == tok.term


def test_unstemmed_analyzer_and_config_differ():
    a, b = Analyzer(), Analyzer(stem=False)
    assert b.terms("prisoners") == ["prisoners"]
    assert a.config() != b.config()
