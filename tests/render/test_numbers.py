import pytest

from bot.render.numbers import count, number


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 documents"), (1, "1 document"), (2, "2 documents"), (12_345, "12,345 documents")],
)
def test_count_groups_thousands_and_agrees_in_number(n: int, text: str) -> None:
    assert count(n, "document") == text


def test_irregular_plural_and_bare_number() -> None:
    assert count(3, "index", "indexes") == "3 indexes"
    assert count(1, "index", "indexes") == "1 index"
    assert number(1_234_567) == "1,234,567"
