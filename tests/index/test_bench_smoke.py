"""The scale benchmark's code path on a tiny generated corpus: fast path == rank-bm25."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_fast_path_equals_reference(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "smoke", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (result,) = json.loads((tmp_path / "scale.json").read_text())
    assert result["build"]["chunks"] > 50 and result["build"]["documents"] == 40
    naive = result["naive"]
    assert naive["queries"] == 50
    assert naive["identical_top10"], naive["mismatched_queries"]
    top = json.loads((tmp_path / "top-tiny.json").read_text())
    assert sum(len(hits) for hits in top) > 50  # the queries do find chunks
    assert "| tiny |" in (tmp_path / "scale.md").read_text()
