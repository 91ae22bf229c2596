"""Where the Discord front end runs ``Engine.ask``: in worker processes, or in a thread.

Extraction is pure Python. In a thread of the bot's process it holds the GIL for milliseconds
at a time, and the event loop (gateway heartbeats, the 3-second interaction deadline, every
other user's defer) queues behind it for each socket call; under a burst of questions that
showed as second-long waits for a defer. A worker process has a GIL of its own, so the loop
keeps its core. Workers open the same on-disk index read-only and, before each question, look
(one stat, ``Engine.follow_disk``) whether a newer generation is live, whoever wrote it: the
bot's /reindex or watcher, ``citebot index`` from a shell, a cron job.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from bot.engine import Engine, EngineOptions, tune_gc
from bot.models import Answer

log = logging.getLogger("citebot.chat")

_worker_engine: Engine | None = None


def _start_worker(corpus: str, index_dir: str, options: EngineOptions) -> None:
    global _worker_engine
    # Ctrl-C reaches the whole process group; the bot stops its workers itself (AnswerPool.close),
    # and a worker interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_engine = Engine.reader(corpus, index_dir, options=options, warn=log.warning)
    tune_gc()  # the worker only answers


def _ask_in_worker(question: str, top_k: int, explain: bool = False) -> Answer:
    engine = _worker_engine
    if engine is None:
        raise RuntimeError("answer worker started without an engine")
    if engine.follow_disk():
        # The collector is off in workers (``tune_gc``): the generation just dropped is freed
        # by reference counting, and by this if any of it sits in a cycle.
        gc.collect()
    return engine.ask(question, top_k, explain=explain)


def _ready() -> bool:
    return _worker_engine is not None


class AnswerPool:
    """``await pool.ask(question, top_k)`` → the engine's Answer, computed off the event loop.

    ``processes=0`` answers in one thread of this process instead (small hosts, debugging).
    """

    def __init__(self, engine: Engine, processes: int) -> None:
        self.engine = engine
        self.processes = max(0, processes)
        self._executor: Executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if self.processes == 0:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-answer")
        # spawn, not fork: the bot's process has an event loop and threads running.
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(
                str(self.engine.corpus),
                str(self.engine.store.index_dir),
                self.engine.options,
            ),
        )

    async def start(self) -> None:
        """Start the workers and wait until they answer (each imports the engine and opens the
        index, about a second), so the first questions do not wait for that."""
        if self.processes:
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(loop.run_in_executor(self._executor, _ready) for _ in range(self.processes))
            )

    async def ask(self, question: str, top_k: int, *, explain: bool = False) -> Answer:
        loop = asyncio.get_running_loop()
        if self.processes == 0:
            ask = partial(self.engine.ask, explain=explain)
            return await loop.run_in_executor(self._executor, ask, question, top_k)
        executor = self._executor
        args = (question, top_k, explain)
        try:
            return await loop.run_in_executor(executor, _ask_in_worker, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start fresh ones and ask once more.
            if self._executor is executor:
                log.error("an answer worker died; restarting the answer processes")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            return await loop.run_in_executor(self._executor, _ask_in_worker, *args)

    async def close(self, timeout: float = 5.0) -> None:
        """Stop the workers and wait until they have exited; any still running after
        ``timeout`` seconds (stuck in an answer) are killed. Nothing outlives the bot."""
        executor = self._executor
        try:
            await asyncio.wait_for(
                asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True), timeout
            )
        except TimeoutError:
            log.warning("answer workers did not stop within %.0f s; killing them", timeout)
            for child in multiprocessing.active_children():
                child.kill()
