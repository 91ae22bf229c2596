import pytest
from pypdf import PdfWriter

from bot.ingest import UnreadableFile
from tests.ingest.conftest import FIXTURES


def test_pdf_text_pages_and_headings(read):
    doc = read("sample.pdf", (FIXTURES / "sample.pdf").read_bytes())
    assert "The lamp must be cleaned every week by the keeper." in doc.text
    # Pages are joined with a blank line.
    assert "lower room.\n\nStorm Procedures\nDuring a storm" in doc.text
    assert doc.title == "Lighthouse Maintenance Guide"
    assert [h.text for h in doc.headings] == ["Lighthouse Maintenance Guide", "Storm Procedures"]
    for h in doc.headings:
        assert doc.text[h.start : h.end] == h.text


def test_encrypted_pdf(read, tmp_path):
    writer = PdfWriter(clone_from=FIXTURES / "sample.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(UnreadableFile, match="encrypted"):
        read("x/locked.pdf", (tmp_path / "locked.pdf").read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj garbage\n",
        b"not a pdf at all, just words",
        (FIXTURES / "sample.pdf").read_bytes()[:300],
        b"",
    ],
)
def test_broken_pdf(read, data):
    with pytest.raises(UnreadableFile) as err:
        read("broken.pdf", data)
    assert "\n" not in str(err.value)


def test_pdf_without_text(read, tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(tmp_path / "blank.pdf")
    with pytest.raises(UnreadableFile, match="no extractable text"):
        read("blank.pdf", (tmp_path / "blank.pdf").read_bytes())
