"""Load benchmark of the Discord front end: many concurrent ``/ask`` through the loopback stand-in.

    python bench/discord_load.py                      # seed + 10k-chunk corpus, 200 concurrent
    python bench/discord_load.py --corpora seed --n 50

The real bot (``run_bot``, what ``citebot discord`` runs) talks to the stand-in from
``tests/chat/standin.py`` over loopback HTTP and websocket. The stand-in, and the load driver
with it, run in a process of their own, as Discord is another machine (``--same-loop`` puts them
on the bot's event loop instead, as earlier runs did).

For each corpus, two loads:
- ``burst``: ``--n`` INTERACTION_CREATE dispatched at once (every one in flight together);
- ``paced``: the same number arriving at ``--rate`` per second (Poisson), a busy server's load.

Per interaction, from the moment the stand-in dispatched it: the first response (the defer; must
be < 3 s or Discord drops the interaction) and the end-to-end time to the answer's follow-up.
``core`` is the engine's own time for the answer (``Answer.took_ms``, shown in the footer).
The event-loop stall is the largest lateness of a ticker task on the bot's loop that sleeps
5 ms at a time: everything that was ready at once, summed. ``longest_callback_ms`` is the longest
single callback on that loop, which tells a blocking call from a queue of short ones.

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
import dataclasses
import json
import multiprocessing
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bot.chat.command import run_bot  # noqa: E402
from bot.config import Settings  # noqa: E402
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


class CallbackTimer:
    """The longest single callback on one event loop. The stall above is lateness, which adds up
    every callback that was ready at once; this tells a blocking call (the core run on the loop)
    from a queue of many short ones (a burst of interactions each handled in well under a ms)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.longest = 0.0
        original = asyncio.events.Handle._run

        def timed(handle: asyncio.Handle) -> None:
            if handle._loop is not loop:  # type: ignore[attr-defined]
                return original(handle)
            t = time.perf_counter()
            try:
                return original(handle)
            finally:
                self.longest = max(self.longest, time.perf_counter() - t)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign]


def _ready(standin: StandIn) -> bool:
    return any(f.get("t") == "GUILD_CREATE" for _, f in standin.frames)


class LocalStandIn:
    """The stand-in on the bot's own event loop (``--same-loop``): its work counts in the
    bot's stall, the upper bound earlier runs reported."""

    def __init__(self, questions: list[str]) -> None:
        self.standin, self.questions = StandIn(), questions

    async def start(self, engine: Engine, db_path: Path) -> Settings:
        await self.standin.start()
        return self.standin.bot_settings(engine, db_path, cooldown_seconds=0.0)

    async def ready(self) -> None:
        await self.standin.wait_for(lambda: _ready(self.standin), timeout=60)

    async def load(self, n: int, rate: float | None) -> dict[str, Any]:
        return await drive(self.standin, self.questions, n, rate)

    async def stop(self) -> None:
        await self.standin.stop()


def _serve(conn: Connection, questions: list[str]) -> None:
    """Child process: a stand-in that runs the loads it is sent over ``conn``."""

    async def serve() -> None:
        standin = StandIn()
        await standin.start()
        conn.send(
            {
                "token": standin.token,
                "guild_id": standin.guild_id,
                "api_base": standin.api_base,
                "gateway_url": standin.gateway_url,
            }
        )
        await standin.wait_for(lambda: _ready(standin), timeout=60)
        conn.send("ready")
        # The loop keeps serving the bot while this waits for the next order.
        while (order := await asyncio.to_thread(conn.recv)) is not None:
            conn.send(await drive(standin, questions, *order))
        await standin.stop()

    asyncio.run(serve())


class ProcessStandIn:
    """The stand-in in a process of its own, as Discord is another machine: the bot's loop and
    its GIL then carry the bot alone."""

    def __init__(self, questions: list[str]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, questions), daemon=True)

    async def _recv(self) -> Any:
        return await asyncio.to_thread(self.conn.recv)

    async def start(self, engine: Engine, db_path: Path) -> Settings:
        self.proc.start()
        info = await self._recv()
        return Settings(
            corpus=engine.corpus,
            index_dir=engine.store.index_dir,
            discord_token=info["token"],
            guild_id=info["guild_id"],
            api_base=info["api_base"],
            gateway_url=info["gateway_url"],
            db_path=db_path,
            cooldown_seconds=0.0,
        )

    async def ready(self) -> None:
        await self._recv()

    async def load(self, n: int, rate: float | None) -> dict[str, Any]:
        self.conn.send((n, rate))
        return await self._recv()

    async def stop(self) -> None:
        self.conn.send(None)
        await asyncio.to_thread(self.proc.join, 10)


async def drive(
    standin: StandIn, questions: list[str], n: int, rate: float | None
) -> dict[str, Any]:
    """Send the load and time every interaction, on the stand-in's loop."""
    since = len(standin.requests)
    rng = random.Random(11)
    its = []
    t0 = time.monotonic()
    for i in range(n):
        its.append(await standin.slash("ask", {"question": questions[i % len(questions)]}))
        if rate:
            await asyncio.sleep(rng.expovariate(rate))
    tokens = {it.token: it for it in its}
    # Only the requests that arrived since the last look are scanned, so that the check stays
    # cheap (it shares the bot's loop under --same-loop).
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
        "wall_s": round(wall, 2),
        "throughput_per_s": round(n / wall, 1),
    }


async def one_load(
    host: LocalStandIn | ProcessStandIn, timer: CallbackTimer, n: int, rate: float | None
) -> dict[str, Any]:
    stop, worst = asyncio.Event(), [0.0]
    timer.longest = 0.0
    tick = asyncio.create_task(ticker(stop, worst))  # on the bot's loop
    res = await host.load(n, rate)
    stop.set()
    await tick
    res["loop_stall_max_ms"] = round(worst[0] * 1000, 1)
    res["longest_callback_ms"] = round(timer.longest * 1000, 1)
    return res


async def bench_corpus(
    name: str, engine: Engine, questions: list[str], args: argparse.Namespace, work: Path
) -> list[dict[str, Any]]:
    host = LocalStandIn(questions) if args.same_loop else ProcessStandIn(questions)
    timer = CallbackTimer(asyncio.get_running_loop())
    settings = await host.start(engine, work / f"{name}.sqlite3")
    settings = dataclasses.replace(
        settings, answer_processes=args.processes, in_flight=args.in_flight
    )
    bots: list[Any] = []
    task = asyncio.create_task(
        run_bot(settings, engine, FeedbackStore(settings.db_path), on_bot=bots.append)
    )
    try:
        await host.ready()
        await one_load(host, timer, 10, None)  # warm-up: imports, caches, worker processes
        results = []
        for r in (None, args.rate):
            hits = engine.cache_hits
            res = await one_load(host, timer, args.n, r)
            res["answer_cache_hits"] = engine.cache_hits - hits
            res["corpus"] = name
            res["chunks"] = engine.stats.chunks
            res["standin"] = "same loop" if args.same_loop else "own process"
            res["answer_processes"] = args.processes
            res["in_flight"] = args.in_flight
            results.append(res)
        return results
    finally:
        if bots:
            await bots[0].close()
        await task
        await host.stop()


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
    ap.add_argument(
        "--processes",
        type=int,
        default=Settings.answer_processes,
        help="answer worker processes (CITEBOT_ANSWER_PROCESSES; 0 = a thread)",
    )
    ap.add_argument(
        "--in-flight",
        type=int,
        default=Settings.in_flight,
        help="questions worked on at once (CITEBOT_IN_FLIGHT; a large number: no limit)",
    )
    ap.add_argument(
        "--same-loop",
        action="store_true",
        help="run the stand-in on the bot's event loop (its work then counts in the stall)",
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
        results += asyncio.run(bench_corpus(name, engine, questions, args, work))
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
        "longest_callback_ms",
        "standin",
        "answer_processes",
        "in_flight",
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
