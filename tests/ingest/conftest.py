from pathlib import Path

import pytest

from bot.ingest import CorpusFile, read_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def read(tmp_path):
    """Write ``data`` to a file named ``name`` and read it back as a Document."""

    def _read(name: str, data: bytes | str):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        st = path.stat()
        return read_document(CorpusFile(name, path, st.st_size, st.st_mtime_ns))

    return _read
