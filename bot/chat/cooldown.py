"""Per-user rate limit: at most ``rate`` questions in any ``per`` seconds (a sliding window, so a
burst is allowed and the user can ask again as soon as the oldest question leaves the window)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from bot.render.numbers import count


class Cooldown:
    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(1, rate)
        self.per = max(0.0, per)
        self._clock = clock
        self._asked: dict[int, deque[float]] = {}

    def hit(self, user_id: int) -> float | None:
        """Count one question; None if allowed, else the seconds until the user may ask again."""
        if self.per <= 0:
            return None
        now = self._clock()
        window = self._asked.setdefault(user_id, deque())
        while window and now - window[0] >= self.per:
            window.popleft()
        if len(window) >= self.rate:
            return self.per - (now - window[0])
        window.append(now)
        # Users who stopped asking should not be remembered forever.
        if len(self._asked) > 10_000:
            self._asked = {u: w for u, w in self._asked.items() if w and now - w[-1] < self.per}
        return None

    def message(self, retry_after: float) -> str:
        return (
            f"You're asking quickly — please wait {max(1, round(retry_after))} s "
            f"(limit: {count(self.rate, 'question')} per {self.per:g} s)."
        )
