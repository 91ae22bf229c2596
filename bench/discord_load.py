"""Load benchmark of the Discord front end: many concurrent ``/ask`` through the loopback stand-in.

    python bench/discord_load.py                      # seed + 10k-chunk corpus, 200 concurrent
    python bench/discord_load.py --corpora seed --n 50

The real bot (``run_bot``, what ``citebot discord`` runs) talks to the stand-in from
``tests/chat/standin.py`` over loopback HTTP and websocket, in this one process and event loop.

For each corpus, two loads:
- ``burst``: ``--n`` INTERACTION_CREATE dispatched at once (every one in flight together);
- ``paced``: the same number arriving at ``--rate`` per second (Poisson), a busy server's load.

Per interaction, from the moment the stand-in dispatched it: the first response (the defer; must
be < 3 s or Discord drops the interaction) and the end-to-end time to the answer's follow-up.
``core`` is the engine's own time for the answer (``Answer.took_ms``, shown in the footer).
The event-loop stall is the largest lateness of a ticker task that sleeps 5 ms at a time; it
includes the stand-in's own work, which shares the loop, so it is an upper bound for the bot.

Corpora:
- ``seed``: ``tests/fixtures/seed.txt`` (1 document, 4 chunks); questions from
  ``../shared/eval/seed/questions.jsonl`` when present, else the test questions.
- ``10k``: real text of ~10,000 chunks. If ``bench/data/real`` exists (Debian documentation, see
  bench/README.md and ``bench/scale.py prepare``) its files are taken in sorted order until the
  index holds 10,000 chunks; otherwise the SQuAD v1.1 dev contexts
  (``../shared/eval/squad/dev-v1.1-public.json``) are written one article per document and
  repeated with every copy's paragraphs rotated and its title numbered until 10,000 chunks.
  Questions: SQuAD dev questions for the SQuAD corpus; for Debian text, a sentence of a sampled
  chunk turned into "what … ?" from four to eight of its words (fixed seed).

Results: ``bench/out/discord_load.json`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bot.chat.command import run_bot  # noqa: E402
from bot.engine import Engine, EngineOptions  # noqa: E402
from bot.feedback import FeedbackStore  # noqa: E402
from tests.chat.standin import StandIn  # noqa: E402

SHARED = ROOT.parent / "shared"
DATA = HERE / "data"
OUT = HERE / "out"
TARGET_CHUNKS = 10_000
WORD = re.compile(r"[A-Za-z]{4,}")


# -- corpora and questions -----------------------------------------------------------------------


def seed_corpus(work: Path) -> tuple[Path, list[str]]:
    corpus = work / "seed"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "tests" / "fixtures" / "seed.txt", corpus / "000_d32575e782105b56.txt")
    qfile = SHARED / "eval" / "seed" / "questions.jsonl"
    if qfile.exists():
        questions = [json.loads(line)["question"] for line in qfile.open(encoding="utf-8")]
    else:
        questions = ["what is CECOT's capacity", "where is CECOT located", "who is Nayib Bukele"]
    return corpus, questions


def _grow(corpus: Path, index: Path, write_more: Any) -> Engine:
    """Write documents in batches until the index holds TARGET_CHUNKS chunks."""
    engine = Engine(corpus, index)
    while True:
        report = engine.refresh()
        if report.stats.chunks >= TARGET_CHUNKS:
            return engine
        if not write_more(TARGET_CHUNKS - report.stats.chunks):
            return engine


def debian_corpus(work: Path) -> tuple[Path, Path, list[str], str] | None:
    real = DATA / "real"
    if not real.is_dir():
        return None
    files = sorted(p for p in real.rglob("*.txt") if p.is_file())
    corpus, index = work / "debian10k" / "corpus", work / "debian10k" / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    position = iter(files)

    def write_more(missing: int) -> bool:
        # ~15 chunks per file on average; overshoot a little less than needed each round.
        wrote = 0
        for src in position:
            dst = corpus / src.relative_to(real)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            wrote += 1
            if wrote * 15 >= max(missing * 0.8, 15):
                break
        return wrote > 0

    engine = _grow(corpus, index, write_more)
    rng = random.Random(7)
    chunks = engine.index
    questions = []
    n = engine.stats.chunks
    while len(questions) < 400:
        text = chunks.chunk(rng.randrange(n)).text
        words = WORD.findall(text)
        if len(words) < 8:
            continue
        start = rng.randrange(len(words) - 7)
        questions.append("what " + " ".join(words[start : start + rng.randint(4, 8)]) + "?")
    return corpus, index, questions, "Debian documentation (bench/data/real)"


def squad_corpus(work: Path) -> tuple[Path, Path, list[str], str]:
    data = json.loads((SHARED / "eval" / "squad" / "dev-v1.1-public.json").read_text("utf-8"))
    articles = data["data"]
    corpus, index = work / "squad10k" / "corpus", work / "squad10k" / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    copy = 0

    def write_more(missing: int) -> bool:
        nonlocal copy
        for _ in range(max(1, missing // 700)):
            for a in articles:
                paras = [p["context"] for p in a["paragraphs"]]
                k = copy % len(paras)
                paras = paras[k:] + paras[:k]
                title = a["title"].replace("_", " ")
                text = f"{title} ({copy + 1})\n\n" + "\n\n".join(paras) + "\n"
                (corpus / f"{a['title']}-{copy:03d}.txt").write_text(text, encoding="utf-8")
            copy += 1
        return True

    engine = _grow(corpus, index, write_more)
    del engine
    questions = [q["question"] for a in articles for p in a["paragraphs"] for q in p["qas"]]
    random.Random(7).shuffle(questions)
    return corpus, index, questions, "SQuAD v1.1 dev contexts, rotated copies"


# -- the load ------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def ticker(stop: asyncio.Event, worst: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        t = loop.time()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], loop.time() - t - 0.005)


async def one_load(
    standin: StandIn, questions: list[str], n: int, rate: float | None
) -> dict[str, Any]:
    since = len(standin.requests)
    stop, worst = asyncio.Event(), [0.0]
    tick = asyncio.create_task(ticker(stop, worst))
    rng = random.Random(11)
    its = []
    t0 = time.monotonic()
    for i in range(n):
        its.append(await standin.slash("ask", {"question": questions[i % len(questions)]}))
        if rate:
            await asyncio.sleep(rng.expovariate(rate))
    tokens = {it.token: it for it in its}
    # Only the requests that arrived since the last look are scanned: the check runs on the
    # same loop as the bot, so a quadratic scan here would show up as the bot's loop stall.
    answered: set[str] = set()
    cursor = [since]

    def done() -> bool:
        for r in standin.requests[cursor[0] :]:
            token = r.path.split("/")[3] if r.path.startswith("/webhooks/") else None
            if token in tokens and r.status < 300 and r.body and r.body.get("embeds"):
                answered.add(token)
        cursor[0] = len(standin.requests)
        return len(answered) == n

    await standin.wait_for(done, timeout=600)
    wall = time.monotonic() - t0
    stop.set()
    await tick
    first: dict[str, float] = {}
    answer: dict[str, float] = {}
    core: list[float] = []
    for r in standin.requests[since:]:
        token = next((t for t in tokens if t in r.path), None)
        if token is None or r.status >= 300:
            continue
        if r.path.endswith("/callback"):
            first.setdefault(token, r.at - tokens[token].created)
        elif r.body and r.body.get("embeds"):
            answer.setdefault(token, r.at - tokens[token].created)
            footer = r.body["embeds"][0].get("footer", {}).get("text", "")
            m = re.search(r"([0-9]+) ms", footer)
            if m:
                core.append(float(m.group(1)))
    e2e = [v * 1000 for v in answer.values()]
    defer = [v * 1000 for v in first.values()]
    return {
        "n": n,
        "arrival": f"Poisson {rate:g}/s" if rate else "burst",
        "answered": len(answer),
        "e2e_p50_ms": round(pct(e2e, 50), 1),
        "e2e_p99_ms": round(pct(e2e, 99), 1),
        "e2e_max_ms": round(max(e2e), 1),
        "defer_p99_ms": round(pct(defer, 99), 1),
        "defer_max_ms": round(max(defer), 1),
        "core_p50_ms": round(statistics.median(core), 1) if core else None,
        "loop_stall_max_ms": round(worst[0] * 1000, 1),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(n / wall, 1),
    }


async def bench_corpus(
    name: str, engine: Engine, questions: list[str], n: int, rate: float, work: Path
) -> list[dict[str, Any]]:
    standin = StandIn()
    await standin.start()
    settings = standin.bot_settings(engine, work / f"{name}.sqlite3", cooldown_seconds=0.0)
    bots: list[Any] = []
    task = asyncio.create_task(
        run_bot(settings, engine, FeedbackStore(settings.db_path), on_bot=bots.append)
    )
    try:
        await standin.wait_for(lambda: any(f.get("t") == "GUILD_CREATE" for _, f in standin.frames))
        await one_load(standin, questions, 10, None)  # warm-up: imports, caches, threads
        results = []
        for r in (None, rate):
            hits = engine.cache_hits
            res = await one_load(standin, questions, n, r)
            res["answer_cache_hits"] = engine.cache_hits - hits
            res["corpus"] = name
            res["chunks"] = engine.stats.chunks
            results.append(res)
        return results
    finally:
        if bots:
            await bots[0].close()
        await task
        await standin.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="interactions per load (default 200)")
    ap.add_argument("--rate", type=float, default=20.0, help="paced arrivals per second")
    ap.add_argument("--corpora", default="seed,10k", help="comma list of seed, 10k")
    ap.add_argument("--workdir", type=Path, help="where corpora and indexes go (default: temp)")
    ap.add_argument(
        "--no-answer-cache",
        action="store_true",
        help="answer every question afresh (the seed questions repeat, so the cache serves most)",
    )
    args = ap.parse_args()
    options = EngineOptions(answer_cache=0) if args.no_answer_cache else None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="discord-load-"))
    work.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    notes = {}
    for name in args.corpora.split(","):
        if name == "seed":
            corpus, questions = seed_corpus(work)
            engine = Engine.open(corpus, work / "seed-index", options=options)
            notes["seed"] = "tests/fixtures/seed.txt"
        elif name == "10k":
            t = time.perf_counter()
            built = debian_corpus(work) or squad_corpus(work)
            corpus, index, questions, how = built
            engine = Engine.open(corpus, index, options=options)
            notes["10k"] = f"{how}; prepared in {time.perf_counter() - t:.0f} s"
        else:
            raise SystemExit(f"unknown corpus {name!r}")
        print(
            f"{name}: {engine.stats.documents} documents, {engine.stats.chunks} chunks", flush=True
        )
        results += asyncio.run(bench_corpus(name, engine, questions, args.n, args.rate, work))
    OUT.mkdir(exist_ok=True)
    (OUT / "discord_load.json").write_text(
        json.dumps({"notes": notes, "results": results}, indent=1)
    )
    cols = [
        "corpus",
        "chunks",
        "arrival",
        "answered",
        "e2e_p50_ms",
        "e2e_p99_ms",
        "defer_p99_ms",
        "core_p50_ms",
        "loop_stall_max_ms",
        "throughput_per_s",
        "answer_cache_hits",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in results:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
