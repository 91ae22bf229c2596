from __future__ import annotations

from bot.chat.cooldown import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_per_window_per_user() -> None:
    clock = Clock()
    cd = Cooldown(rate=2, per=10, clock=clock)
    assert cd.hit(1) is None and cd.hit(1) is None
    wait = cd.hit(1)
    assert wait is not None and 9.9 < wait <= 10
    assert cd.hit(2) is None  # another user is not affected
    clock.now += 4
    assert cd.hit(1) == 6
    clock.now += 6
    assert cd.hit(1) is None  # the oldest question left the window
    assert "wait" in cd.message(5.2)


def test_zero_window_disables() -> None:
    cd = Cooldown(rate=1, per=0)
    assert all(cd.hit(1) is None for _ in range(10))


def test_message_counts_agree_in_number():
    assert "(limit: 1 question per 10 s)" in Cooldown(1, 10).message(3)
    assert "(limit: 3 questions per 10 s)" in Cooldown(3, 10).message(3)
