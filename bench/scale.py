"""Scale benchmark of the index: build, size, cold start, latency, memory, and the naive baseline.

    python bench/scale.py prepare            # Debian docs -> bench/data/real, scaled corpora
    python bench/scale.py run [--sizes 200k,1m] [--queries 1000]
    python bench/scale.py smoke --workdir DIR  # tiny generated corpus, seconds (CI runs this)
    python bench/scale.py profile [--corpus DIR] [--every 10]  # cProfile of each build stage
    python bench/scale.py compare INDEX_A INDEX_B  # are two builds byte-identical?
    python bench/scale.py ab --base /work/main [--corpus DIR] [--every 10]  # CPU s, old vs new

Every measured phase runs in its own subprocess so that time and peak memory (VmHWM) belong to
that phase alone. Results go to ``bench/out/scale.json`` and ``bench/out/scale.md``.

Corpora. ``real`` is the text of three Debian documentation packages, fetched with
``apt-get download`` and unpacked with ``dpkg-deb -x``: python3.11-doc (the reST sources of the
Python docs), linux-doc-6.1 (``Documentation/**/*.rst`` and ``*.txt``, gunzipped) and perl-doc
(``*.pod``), each saved as ``.txt``. Larger corpora are ``real`` plus scaled copies: copy ``r``
holds every real document again, with a third of its word types (chosen per copy by a hash of the
word) given a copy-specific letter suffix. Document lengths, chunk counts and the Zipf shape of
the vocabulary stay those of the real text, the vocabulary grows with each copy (as it would with
more documents from related domains), and no two copies are identical.

Queries are drawn from the indexed text: for each of ``--queries`` chunks sampled with a fixed
seed, one to five of its words (four letters or more), in random order.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DATA = HERE / "data"
OUT = HERE / "out"
PACKAGES = ("python3.11-doc", "linux-doc-6.1", "perl-doc")
SIZES = {"200k": 200_000, "1m": 1_000_000}
WORD = re.compile(r"[A-Za-z]{4,}")
TOP = 10
# The chunking the numbers assume (200k chunks ~ 30 M tokens): 200-token chunks.
CHUNK_TOKENS = 200
CHUNK_OVERLAP = 40


# -- corpora -------------------------------------------------------------------------------------


def fetch_real(data: Path = DATA) -> Path:
    """The real-text corpus, fetched and unpacked on first use."""
    real = data / "real"
    if (real / ".complete").exists():
        return real
    debs = data / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if len(list(debs.glob("*.deb"))) < len(PACKAGES):
        subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    unpacked = data / "unpacked"
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    if real.exists():
        shutil.rmtree(real)
    share = unpacked / "usr" / "share"
    py = share / "doc" / "python3.11" / "html" / "_sources"
    for src in sorted(py.rglob("*.rst.txt")):
        _save(real / "python" / src.relative_to(py).with_suffix(""), src.read_bytes())
    linux = share / "doc" / "linux-doc-6.1" / "Documentation"
    for src in sorted(linux.rglob("*.gz")):
        if src.name.endswith((".rst.gz", ".txt.gz")):
            data = gzip.decompress(src.read_bytes())
            _save(real / "linux" / src.relative_to(linux).with_suffix(""), data)
    for src in sorted((share / "perl").rglob("*.pod")):
        _save(real / "perl" / src.name, src.read_bytes())
    (real / ".complete").write_text("")
    return real


def _save(path: Path, data: bytes) -> None:
    path = path.with_suffix(".txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _suffix(r: int) -> str:
    out = ""
    while True:
        r, d = divmod(r, 26)
        out = "abcdefghijklmnopqrstuvwxyz"[d] + out
        if r == 0:
            return "q" + out


def scaled_copy(text: str, r: int) -> str:
    """Copy ``r`` of a document: a third of word types get the suffix of copy ``r``."""
    suffix = _suffix(r)
    cache: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        w = m.group()
        out = cache.get(w)
        if out is None:
            h = hashlib.blake2b(f"{r}:{w.lower()}".encode(), digest_size=2).digest()
            out = cache[w] = w + suffix if h[0] % 3 == 0 else w
        return out

    return WORD.sub(rename, text)


def make_scaled(real: Path, target_chunks: int, file_chunks: dict[str, int], dest: Path) -> Path:
    """``real``, then scaled copies of its files in order, until ``target_chunks`` chunks
    (``file_chunks``: chunks per real file, from the real corpus's index)."""
    stamp = dest / ".complete"
    if stamp.exists() and stamp.read_text() == str(target_chunks):
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    total, r = 0, 0
    while total < target_chunks:
        for source, n in sorted(file_chunks.items()):
            if total >= target_chunks:
                break
            text = (real / source).read_text(encoding="utf-8", errors="replace")
            out = dest / f"copy{r:03d}" / source
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text if r == 0 else scaled_copy(text, r), encoding="utf-8")
            total += n
        r += 1
    stamp.write_text(str(target_chunks))
    return dest


def write_tiny_corpus(dest: Path, docs: int = 40, seed: int = 1) -> Path:
    """A generated corpus for the smoke run: skewed vocabulary, headings, a few hundred chunks."""
    rng = random.Random(seed)
    vocab = [
        a + b
        for a in ("mem", "proc", "sched", "net", "file", "lock", "page", "irq", "dev", "bus")
        for b in ("ory", "ess", "uler", "work", "table", "ing", "map", "line", "ice", "ter")
    ]
    for i in range(docs):
        lines = [f"Document {i} about {rng.choice(vocab)}", ""]
        for s in range(3):
            lines += [f"Section {s} {rng.choice(vocab)}", ""]
            for _ in range(6):
                n = rng.randint(5, 15)
                words = [vocab[min(int(rng.paretovariate(0.7)) - 1, 99)] for _ in range(n)]
                lines.append(" ".join(words).capitalize() + ".")
            lines.append("")
        p = dest / f"d{i:03d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines), encoding="utf-8")
    return dest


# -- phases (each in its own process) ------------------------------------------------------------


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system time of this process and its finished children (the worker pool)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def _main_cpu_seconds() -> float:
    """User + system time of this process alone (all its threads): the merge and what it
    spends receiving the workers' results, which competes with the workers for the cores."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _children_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _options():
    """Engine options with the chunking pinned, so every phase (and every run) measures the
    same index whatever the product's default chunk size is at the time. The answer cache is
    off: every answer's latency is that of computing it."""
    from bot.engine import EngineOptions

    return EngineOptions(chunk_tokens=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP, answer_cache=0)


def _store(index_dir: Path):
    from bot.analyze import Analyzer
    from bot.chunk import Chunker
    from bot.index import IndexStore

    opts = _options()
    return IndexStore(
        index_dir,
        analyzer=Analyzer(),
        chunker=Chunker(opts.chunk_tokens, opts.chunk_overlap),
        params=opts.bm25,
    )


def phase_build(corpus: Path, index_dir: Path, workers: int | None) -> dict:
    if index_dir.exists():
        shutil.rmtree(index_dir)
    store = _store(index_dir)
    store.workers = workers
    t0 = time.perf_counter()
    main_cpu0 = _main_cpu_seconds()
    report = store.update(corpus)
    seconds = time.perf_counter() - t0
    main_cpu = _main_cpu_seconds() - main_cpu0
    gen = next(p for p in index_dir.iterdir() if p.name.startswith("gen-"))
    sizes = {p.name: p.stat().st_size for p in gen.iterdir()}
    return {
        "seconds": seconds,
        "documents": report.stats.documents,
        "chunks": report.stats.chunks,
        "tokens": report.stats.tokens,
        "skipped": len(report.skipped),
        "index_bytes": sum(sizes.values()),
        "file_bytes": sizes,
        "stages": store.timings,
        "cpu_seconds": _cpu_seconds(),
        "main_cpu_seconds": main_cpu,
        "peak_rss_mb": _peak_rss_mb(),
        "workers_peak_rss_mb": _children_peak_rss_mb(),
    }


def phase_load(index_dir: Path) -> dict:
    store = _store(index_dir)
    t0 = time.perf_counter()
    index = store.load()
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    index.search(["memori"], 10)
    first_query_s = time.perf_counter() - t1
    return {
        "load_seconds": load_s,
        "first_query_seconds": first_query_s,
        "vocabulary": index.vocabulary_size(),
        "peak_rss_mb": _peak_rss_mb(),
    }


def make_queries(index_dir: Path, n: int, seed: int = 42) -> list[str]:
    index = _store(index_dir).load()
    rng = random.Random(seed)
    out = []
    while len(out) < n and index.stats.chunks:
        words = sorted(set(WORD.findall(index.chunk(rng.randrange(index.stats.chunks)).text)))
        if words:
            out.append(" ".join(rng.sample(words, min(len(words), rng.randint(1, 5)))))
    return out


def _percentiles(ms: list[float]) -> dict:
    s = sorted(ms)
    if not s:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "mean_ms": 0.0}

    def pick(q: float) -> float:
        return s[min(len(s) - 1, math.ceil(q * len(s)) - 1)]

    return {"p50_ms": pick(0.5), "p99_ms": pick(0.99), "mean_ms": statistics.fmean(s)}


def phase_query(corpus: Path, index_dir: Path, queries_file: Path, top_file: Path) -> dict:
    from bot.analyze import Analyzer
    from bot.engine import Engine, tune_gc
    from bot.retrieve import retrieve

    queries = json.loads(queries_file.read_text())
    index = _store(index_dir).load()
    analyzer = Analyzer()
    search_ms, retrieve_ms, top = [], [], []
    for q in queries:
        terms = analyzer.terms(q)
        t0 = time.perf_counter()
        hits = index.search(terms, TOP)
        search_ms.append((time.perf_counter() - t0) * 1000)
        top.append(hits)
        t0 = time.perf_counter()
        retrieve(index, analyzer, q, 8)
        retrieve_ms.append((time.perf_counter() - t0) * 1000)
    top_file.write_text(json.dumps(top))
    result = {
        "search": _percentiles(search_ms),
        "retrieve": _percentiles(retrieve_ms),
        "search_ms_total": sum(search_ms),
    }
    try:
        t0 = time.perf_counter()
        # Checks the corpus for changes (there are none), then loads.
        engine = Engine.open(corpus, index_dir, options=_options())
        result["engine_open_seconds"] = time.perf_counter() - t0
        # Answers are timed as the bot's answer workers run them (``tune_gc``);
        # CITEBOT_DEFAULT_GC=1 keeps CPython's default collector thresholds instead.
        result["gc_tuned"] = not os.environ.get("CITEBOT_DEFAULT_GC")
        if result["gc_tuned"]:
            tune_gc()
    except ImportError as exc:  # the extractor is another worker's and may not be there yet
        result["answer"] = {"error": f"Engine unavailable: {exc}"}
    else:
        answer_ms, answered = [], 0
        for q in queries:
            t0 = time.perf_counter()
            a = engine.ask(q[:1000])
            answer_ms.append((time.perf_counter() - t0) * 1000)
            answered += a.answered
        result["answer"] = {**_percentiles(answer_ms), "answered": answered}
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def chunk_term_lists(index_dir: Path) -> list[list[str]]:
    """Every chunk's terms, analysed the plain way (title, section, text), in chunk id order."""
    from bot.analyze import Analyzer
    from bot.index.build import chunk_terms

    store = _store(index_dir)
    index = store.load()
    analyzer = Analyzer()
    titles: dict[str, str] = {}
    corpus = []
    for cid in range(index.stats.chunks):
        c = index.chunk(cid)
        title = titles.get(c.source)
        if title is None:
            title = titles[c.source] = index.document(c.source).title
        corpus.append(
            chunk_terms(analyzer, title, c.section, c.text, store.params.include_headings)
        )
    return corpus


def phase_libs(index_dir: Path, queries_file: Path, top_file: Path) -> dict:
    """Candidate libraries on the same analysed chunks: build time, query time, agreement.

    Needs bm25s and tantivy importable (e.g. ``pip install --target DIR bm25s tantivy`` and
    ``PYTHONPATH=DIR``); they are not dependencies of citebot.
    """
    import numpy as np

    from bot.analyze import Analyzer

    params = _store(index_dir).params
    corpus = chunk_term_lists(index_dir)
    analyzer = Analyzer()
    queries = [analyzer.terms(q) for q in json.loads(queries_file.read_text())]
    fast = json.loads(top_file.read_text())
    out: dict = {}

    def agreement(tops: list[list[tuple[int, float]]]) -> dict:
        pairs = list(zip(tops, fast, strict=True))
        same_ids = sum([i for i, _ in t] == [i for i, _ in f] for t, f in pairs)
        same_all = sum([list(x) for x in t] == [list(x) for x in f] for t, f in pairs)
        return {"same_top10_ids": same_ids, "same_top10_ids_and_scores": same_all}

    try:
        import bm25s
    except ImportError as exc:
        out["bm25s"] = {"error": str(exc)}
    else:
        t0 = time.perf_counter()
        retriever = bm25s.BM25(method="lucene", k1=params.k1, b=params.b, dtype="float64")
        retriever.index(corpus, show_progress=False)
        build = time.perf_counter() - t0
        ms, tops = [], []
        for terms in queries:
            t0 = time.perf_counter()
            ids = retriever.get_tokens_ids(terms)
            scores = retriever.get_scores_from_ids(ids) if ids else np.zeros(len(corpus))
            order = np.argsort(-scores, kind="stable")[:TOP]
            ms.append((time.perf_counter() - t0) * 1000)
            tops.append([(int(i), float(scores[i])) for i in order if scores[i] > 0])
        out["bm25s"] = {
            "version": bm25s.__version__,
            "build_seconds": build,
            "query": _percentiles(ms),
            **agreement(tops),
        }
    try:
        import tantivy
    except ImportError as exc:
        out["tantivy"] = {"error": str(exc)}
    else:
        t0 = time.perf_counter()
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        sb.add_integer_field("id", stored=True, fast=True)
        schema = sb.build()
        index = tantivy.Index(schema)
        writer = index.writer(heap_size=512 * 2**20, num_threads=2)
        for cid, terms in enumerate(corpus):
            writer.add_document(tantivy.Document(body=" ".join(terms), id=cid))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        searcher = index.searcher()
        build = time.perf_counter() - t0
        ms, tops = [], []
        for terms in queries:
            t0 = time.perf_counter()
            q = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t)) for t in terms]
            )
            hits = searcher.search(q, TOP).hits if terms else []
            top = [(int(searcher.doc(addr)["id"][0]), score) for score, addr in hits]
            ms.append((time.perf_counter() - t0) * 1000)
            tops.append(top)
        out["tantivy"] = {
            "build_seconds": build,
            "query": _percentiles(ms),
            **agreement(tops),
        }
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def phase_naive(index_dir: Path, queries_file: Path, top_file: Path) -> dict:
    """rank-bm25 (with the Lucene IDF) over the same chunks: get_scores over all chunks + sort."""
    import numpy as np

    from bot.analyze import Analyzer
    from bot.index import LuceneBM25

    analyzer = Analyzer()
    params = _store(index_dir).params
    t0 = time.perf_counter()
    corpus = chunk_term_lists(index_dir)
    bm25 = LuceneBM25(corpus, k1=params.k1, b=params.b)
    del corpus
    build_s = time.perf_counter() - t0
    queries = json.loads(queries_file.read_text())
    fast = json.loads(top_file.read_text())
    ms, mismatches = [], []
    for i, q in enumerate(queries):
        terms = analyzer.terms(q)
        t0 = time.perf_counter()
        scores = bm25.get_scores(terms)
        order = np.argsort(-scores, kind="stable")[:TOP]
        ms.append((time.perf_counter() - t0) * 1000)
        ref = [[int(j), float(scores[j])] for j in order if scores[j] > 0]
        if ref != fast[i]:
            mismatches.append(i)
    return {
        "build_seconds": build_s,
        "query": _percentiles(ms),
        "query_ms_total": sum(ms),
        "identical_top10": not mismatches,
        "mismatched_queries": mismatches[:20],
        "queries": len(queries),
        "peak_rss_mb": _peak_rss_mb(),
    }


def profile_build(corpus: Path, every: int, top: int) -> str:
    """cProfile of each stage of the per-file build work (read, chunk, terms), run serially in
    this process on every ``every``-th file, so the numbers are not spread over a worker pool."""
    import cProfile
    import io
    import pstats

    from bot.analyze import Analyzer
    from bot.chunk import Chunker
    from bot.index.build import TermIds, analyse_document
    from bot.ingest import UnreadableFile, read_document, scan_corpus

    opts = _options()
    chunker = Chunker(opts.chunk_tokens, opts.chunk_overlap)
    ids = TermIds(Analyzer())
    stages = {name: cProfile.Profile() for name in ("read", "chunk", "terms")}
    cpu = dict.fromkeys(stages, 0.0)
    files = scan_corpus(corpus)[::every]

    def timed(name, fn, *args):
        t0 = time.process_time()
        stages[name].enable()
        try:
            return fn(*args)
        finally:
            stages[name].disable()
            cpu[name] += time.process_time() - t0

    for f in files:
        try:
            doc = timed("read", read_document, f)
        except UnreadableFile:
            continue
        plan = timed("chunk", chunker.plan, doc)
        timed("terms", analyse_document, doc, plan, ids, opts.bm25.include_headings)
    out = io.StringIO()
    out.write(f"{len(files)} files of {corpus}; CPU s (profiled) per stage: ")
    out.write(", ".join(f"{k} {v:.2f}" for k, v in cpu.items()) + "\n")
    for name, prof in stages.items():
        out.write(f"\n== {name} ==\n")
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _load_bot(root: Path) -> dict:
    """The ``bot`` modules of the tree at ``root``, removed from ``sys.modules`` again so that a
    second tree's copy can be imported next to them."""
    import importlib

    def drop() -> None:
        for name in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
            del sys.modules[name]

    drop()
    sys.path.insert(0, str(root))
    try:
        importlib.import_module("bot.index.store")
    finally:
        sys.path.remove(str(root))
    mods = {m: sys.modules[m] for m in list(sys.modules) if m == "bot" or m.startswith("bot.")}
    drop()
    assert Path(mods["bot"].__file__).parent == root / "bot", mods["bot"].__file__
    return mods


def ab_build(base: Path, corpus: Path, every: int) -> dict:
    """CPU seconds of the per-file build work of two trees (``base`` and this one), file by file
    alternately in this process, so both see the same machine load. Per tree: each worker stage
    (read, chunk, terms), the whole worker call (hashing and reading the file included) and the
    pickle round trip of its result, which the main process pays to receive it from a worker."""
    import inspect
    import pickle
    import tempfile

    versions = {"base": _load_bot(base.resolve()), "new": _load_bot(ROOT)}
    opts = _options()
    workers = {}
    spools = tempfile.TemporaryDirectory()
    for name, mods in versions.items():
        chunker = mods["bot.chunk"].Chunker(opts.chunk_tokens, opts.chunk_overlap)
        analyzer = mods["bot.analyze"].Analyzer()
        worker = mods["bot.index.build"]._Worker
        # Trees since the fourth build round write texts to a spool folder.
        spool = [Path(spools.name)] if "spool_dir" in inspect.signature(worker).parameters else []
        workers[name] = worker(chunker, analyzer, opts.bm25.include_headings, *spool)
    files = versions["new"]["bot.ingest"].scan_corpus(corpus)[::every]
    keys = ("read", "chunk", "terms", "worker", "pickle")
    cpu = {name: dict.fromkeys(keys, 0.0) for name in versions}
    order = list(versions)
    for n, f in enumerate(files):
        for name in order if n % 2 == 0 else order[::-1]:
            mods = versions[name]
            job = (mods["bot.ingest"].CorpusFile(f.source, f.path, f.size, f.mtime_ns), None)
            t0 = time.process_time()
            outcome = workers[name](job)
            t1 = time.process_time()
            sys.modules.update(mods)  # pickle finds classes by module name
            try:
                pickle.loads(pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
            finally:
                for m in mods:
                    sys.modules.pop(m, None)
            t2 = time.process_time()
            c = cpu[name]
            c["worker"] += t1 - t0
            c["pickle"] += t2 - t1
            if hasattr(outcome, "cpu"):
                for key, value in zip(("read", "chunk", "terms"), outcome.cpu, strict=True):
                    c[key] += value
    for worker in workers.values():
        getattr(worker, "close", lambda: None)()
    spools.cleanup()
    ratio = {k: cpu["new"][k] / cpu["base"][k] if cpu["base"][k] else None for k in keys}
    return {"files": len(files), "cpu": cpu, "new/base": ratio}


def compare_indexes(a: Path, b: Path) -> list[str]:
    """Files of the live generations of two index folders that differ; ``meta.json`` is compared
    without its build time, ``files.json`` (file mtimes) as parsed JSON without the mtimes."""

    def live(index_dir: Path) -> Path:
        return index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()

    def content(path: Path) -> object:
        data = path.read_bytes()
        if path.name == "meta.json":
            meta = json.loads(data)
            meta["stats"].pop("built_at", None)
            return meta
        if path.name == "files.json":
            files = json.loads(data)
            return {k: {s: [v[0], v[2]] for s, v in files[k].items()} for k in files}
        return data

    ga, gb = live(a), live(b)
    names = sorted({p.name for p in ga.iterdir()} | {p.name for p in gb.iterdir()})
    return [
        n
        for n in names
        if not (ga / n).exists() or not (gb / n).exists() or content(ga / n) != content(gb / n)
    ]


def run_phase(name: str, *args: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "phase", name, *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"phase {name} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


# -- driver --------------------------------------------------------------------------------------


def bench_corpus(
    label: str, corpus: Path, work: Path, n_queries: int, naive: bool, workers: int | None
) -> dict:
    index_dir = work / f"index-{label}"
    print(f"[{label}] build {corpus}", file=sys.stderr, flush=True)
    build = run_phase("build", str(corpus), str(index_dir), str(workers or 0))
    print(f"[{label}] {build['chunks']} chunks in {build['seconds']:.1f} s", file=sys.stderr)
    load = run_phase("load", str(index_dir))
    queries_file = work / f"queries-{label}.json"
    top_file = work / f"top-{label}.json"
    queries_file.write_text(json.dumps(make_queries(index_dir, n_queries)))
    query = run_phase("query", str(corpus), str(index_dir), str(queries_file), str(top_file))
    out = {"label": label, "build": build, "load": load, "query": query}
    if naive:
        print(f"[{label}] naive rank-bm25 baseline", file=sys.stderr, flush=True)
        out["naive"] = run_phase("naive", str(index_dir), str(queries_file), str(top_file))
        out["speedup"] = out["naive"]["query_ms_total"] / max(query["search_ms_total"], 1e-9)
    return out


def markdown(results: list[dict]) -> str:
    rows = [
        "| corpus | docs | chunks | tokens | build s (CPU s) | index MB | load s | cold process s "
        "| Engine.open s | search p50/p99 ms | retrieve p50/p99 ms | answer p50/p99 ms "
        "| RSS query MB | RSS build MB (main/worker) |",
        "|---" * 14 + "|",
    ]
    for r in results:
        b, lo, q = r["build"], r["load"], r["query"]
        a = q.get("answer", {})
        answer = f"{a['p50_ms']:.2f} / {a['p99_ms']:.2f}" if "p50_ms" in a else a.get("error", "-")
        engine_open = q.get("engine_open_seconds")
        rows.append(
            f"| {r['label']} | {b['documents']:,} | {b['chunks']:,} | {b['tokens']:,} "
            f"| {b['seconds']:.1f} ({b.get('cpu_seconds', 0):.0f}) "
            f"| {b['index_bytes'] / 2**20:.0f} | {lo['load_seconds']:.2f} "
            f"| {lo['process_seconds']:.2f} "
            f"| {'-' if engine_open is None else f'{engine_open:.2f}'} "
            f"| {q['search']['p50_ms']:.2f} / {q['search']['p99_ms']:.2f} "
            f"| {q['retrieve']['p50_ms']:.2f} / {q['retrieve']['p99_ms']:.2f} | {answer} "
            f"| {q['peak_rss_mb']:.0f} "
            f"| {b['peak_rss_mb']:.0f} / {b['workers_peak_rss_mb']:.0f} |"
        )
    rows += [
        "",
        "| corpus | scan s | read+chunk+analyse s (wall) | merge+write s "
        "| CPU s: read (ingest) | chunk (tiktoken) | terms (analyzer) |",
        "|---" * 7 + "|",
    ]
    for r in results:
        st = r["build"].get("stages", {})
        if st:
            rows.append(
                f"| {r['label']} | {st['scan']:.1f} | {st['analyse']:.1f} | {st['write']:.1f} "
                f"| {st['read_cpu']:.0f} | {st['chunk_cpu']:.0f} | {st['terms_cpu']:.0f} |"
            )
    naive = [r for r in results if "naive" in r]
    if naive:
        rows += [
            "",
            "| corpus | queries | naive rank-bm25 p50/p99 ms | fast search p50/p99 ms "
            "| speed-up (total time) | identical top-10 ids+scores | naive build s "
            "| naive RSS MB |",
            "|---" * 8 + "|",
        ]
        for r in naive:
            n, q = r["naive"], r["query"]["search"]
            rows.append(
                f"| {r['label']} | {n['queries']} | {n['query']['p50_ms']:.1f} / "
                f"{n['query']['p99_ms']:.1f} | {q['p50_ms']:.3f} / {q['p99_ms']:.3f} "
                f"| {r['speedup']:.0f}× | {n['identical_top10']} | {n['build_seconds']:.1f} "
                f"| {n['peak_rss_mb']:.0f} |"
            )
    return "\n".join(rows) + "\n"


def write_report() -> str:
    """bench/out/scale.{json,md} from every size measured so far."""
    results = [
        json.loads((OUT / f"scale-{label}.json").read_text())
        for label in ("real", *SIZES)
        if (OUT / f"scale-{label}.json").exists()
    ]
    (OUT / "scale.json").write_text(json.dumps(results, indent=1))
    text = markdown(results)
    (OUT / "scale.md").write_text(text)
    return text


def file_chunks(index_dir: Path) -> dict[str, int]:
    index = _store(index_dir).load()
    return {s: len(index.chunk_ids(s)) for s in index.sources()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    sub.add_parser("report", help="rewrite bench/out/scale.md from the JSON of each size")
    run = sub.add_parser("run")
    run.add_argument("--sizes", default="real,200k,1m")
    run.add_argument("--queries", type=int, default=1000)
    run.add_argument("--naive", default="200k", help="sizes that also run the naive baseline")
    run.add_argument("--workers", type=int, default=0, help="0: one per core")
    smoke = sub.add_parser("smoke")
    smoke.add_argument("--workdir", type=Path, required=True)
    smoke.add_argument("--queries", type=int, default=50)
    prof = sub.add_parser("profile", help="cProfile of each build stage, serially, on a sample")
    prof.add_argument("--corpus", type=Path, default=DATA / "corpus-200k")
    prof.add_argument("--every", type=int, default=10, help="profile every n-th file")
    prof.add_argument("--top", type=int, default=15, help="functions listed per stage")
    ab = sub.add_parser("ab", help="per-file build CPU s of another tree and this one, alternately")
    ab.add_argument("--base", type=Path, required=True, help="root of the other tree")
    ab.add_argument("--corpus", type=Path, default=DATA / "corpus-200k")
    ab.add_argument("--every", type=int, default=10, help="every n-th file")
    cmp = sub.add_parser("compare", help="byte-compare two built indexes (exit 1 if they differ)")
    cmp.add_argument("index_a", type=Path)
    cmp.add_argument("index_b", type=Path)
    phase = sub.add_parser("phase")
    phase.add_argument("name")
    phase.add_argument("args", nargs="*")
    args = ap.parse_args(argv)

    if args.cmd == "phase":
        a = args.args
        if args.name == "build":
            result = phase_build(Path(a[0]), Path(a[1]), int(a[2]) or None)
        elif args.name == "load":
            result = phase_load(Path(a[0]))
        elif args.name == "query":
            result = phase_query(Path(a[0]), Path(a[1]), Path(a[2]), Path(a[3]))
        elif args.name == "libs":
            result = phase_libs(Path(a[0]), Path(a[1]), Path(a[2]))
        elif args.name == "naive":
            result = phase_naive(Path(a[0]), Path(a[1]), Path(a[2]))
        else:
            raise SystemExit(f"unknown phase {args.name}")
        print(json.dumps(result))
        return 0

    if args.cmd == "smoke":
        work = args.workdir
        corpus = write_tiny_corpus(work / "corpus")
        results = [bench_corpus("tiny", corpus, work, args.queries, True, 2)]
        (work / "scale.json").write_text(json.dumps(results, indent=1))
        (work / "scale.md").write_text(markdown(results))
        print(markdown(results))
        return 0

    if args.cmd == "report":
        print(write_report())
        return 0

    if args.cmd == "compare":
        differ = compare_indexes(args.index_a, args.index_b)
        print("identical" if not differ else "different: " + ", ".join(differ))
        return 1 if differ else 0

    if args.cmd == "ab":
        print(json.dumps(ab_build(args.base, args.corpus, args.every), indent=1))
        return 0

    if args.cmd == "profile":
        print(profile_build(args.corpus, args.every, args.top))
        return 0

    real = fetch_real()
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    counts_file = work / "real_file_chunks.json"
    if not counts_file.exists():
        if not (work / "index-real" / "CURRENT").exists():
            run_phase("build", str(real), str(work / "index-real"), "0")
        counts_file.write_text(json.dumps(file_chunks(work / "index-real")))
    counts = json.loads(counts_file.read_text())
    corpora = {"real": real}
    for label in SIZES:
        corpora[label] = DATA / f"corpus-{label}"
    if args.cmd == "prepare":
        for label, target in SIZES.items():
            make_scaled(real, target, counts, corpora[label])
        print(json.dumps({"real_chunks": sum(counts.values())}))
        return 0

    OUT.mkdir(exist_ok=True)
    naive = set(args.naive.split(",")) if args.naive else set()
    for label in args.sizes.split(","):
        if label in SIZES:
            make_scaled(real, SIZES[label], counts, corpora[label])
        result = bench_corpus(
            label, corpora[label], work, args.queries, label in naive, args.workers or None
        )
        (OUT / f"scale-{label}.json").write_text(json.dumps(result, indent=1))
    # One report over every size measured so far (each size can be re-run on its own).
    print(write_report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
