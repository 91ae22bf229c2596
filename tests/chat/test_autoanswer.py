"""Forum auto-answer, the "Ask citebot" message menu and "Why this answer?", end to end: the real
bot against the loopback stand-in, asserting on what crossed the wire and on the SQLite state."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from bot.autoanswer_state import AutoAnswerState
from bot.chat.autoanswer import NOT_AUTHOR
from bot.chat.explain import MENU_NAME, NO_TEXT
from bot.engine import Engine
from bot.feedback import FeedbackStore
from tests.chat.conftest import CAPACITY_Q, SEED, running_bot
from tests.chat.standin import Recorded, StandIn, message_body, user
from tests.chat.test_e2e import (
    EPHEMERAL,
    assert_capacity_answer,
    assert_no_mentions,
    displayed,
    only_embed,
    reply_to,
)

# Answered by /ask (0.52 on the test corpus, above the calibrated 0.453) but below the stricter
# threshold for unasked-for answers.
MIDDLING_Q = "what happened in 2022"
OUT_OF_CORPUS_Q = "What is the capital of France?"


def posts_in(standin: StandIn, thread_id: int | str, since: int = 0) -> list[Recorded]:
    return [r for r in standin.replies(since) if r.path == f"/channels/{thread_id}/messages"]


def bot_message_in(standin: StandIn, thread_id: str) -> dict[str, Any]:
    """The bot's message in a thread, as a click on its buttons carries it."""
    return next(
        m
        for m in standin.messages.values()
        if m["channel_id"] == thread_id and m["author"]["id"] == standin.bot_user["id"]
    )


def button_ids(rec: Recorded) -> list[str]:
    body = message_body(rec)
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


async def enable(standin: StandIn, channel_id: int, state: str = "on") -> Recorded:
    it = await standin.slash(
        "autoanswer", {"channel": str(channel_id), "state": state}, by=standin.admin
    )
    return await reply_to(standin, it)


async def answered_post(standin: StandIn, title: str, **kw: Any) -> tuple[dict[str, Any], Recorded]:
    thread, _ = await standin.create_thread(title, "", **kw)
    rec = await standin.wait_for(lambda: posts_in(standin, thread["id"]), 15)
    return thread, rec[0]


async def test_enabled_forum_post_is_answered_once_in_its_thread(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        confirm = await enable(standin, standin.forum_id)
        assert confirm.body["data"]["flags"] & EPHEMERAL
        assert "Auto-answer is **on**" in message_body(confirm)["content"]
        assert AutoAnswerState(running.settings.db_path).channels() == {
            standin.forum_id: standin.guild_id
        }

        thread, _ = await standin.create_thread(CAPACITY_Q, "")
        [rec] = await standin.wait_for(lambda: posts_in(standin, thread["id"]), 15)
        body = message_body(rec)
        assert_no_mentions(body)
        embed = only_embed(rec)
        assert "**40,000 inmates**" in embed["description"]
        ids = button_ids(rec)
        assert ids[0].startswith("citebot:source:") and ids[3].startswith("citebot:why:")
        assert ids[4] == f"citebot:solved:{ids[0].rsplit(':', 1)[1]}:{standin.member['id']}"
        # The thread's one unasked-for reply is taken, in the state file (another instance, or
        # this one after a restart, cannot claim it again).
        state = AutoAnswerState(running.settings.db_path)
        assert state.claim_thread(standin.guild_id, int(thread["id"]), 1) is False
        # Recorded and claimed in the name of the post's author, whom forget-user and
        # retention cover.
        answer_id = int(ids[0].rsplit(":", 1)[1])
        con = sqlite3.connect(running.settings.db_path)
        try:
            row = con.execute("SELECT user_id FROM answers WHERE id = ?", (answer_id,)).fetchone()
        finally:
            con.close()
        assert row == (int(standin.member["id"]),)
        forgotten = AutoAnswerState(running.settings.db_path).forget_user(int(standin.member["id"]))
        assert forgotten == 1
        assert state.claim_thread(standin.guild_id, int(thread["id"]), 1) is True

        # The same starter message again (a replayed event) and the author's next message in
        # the thread: no second unasked-for reply.
        since = len(standin.requests)
        await standin.dispatch("MESSAGE_CREATE", standin.messages[int(thread["id"])])
        await standin.say(CAPACITY_Q, channel_id=int(thread["id"]), mention_bot=False)
        # A new post after them is answered, so everything before it has been handled.
        await answered_post(standin, "How much did CECOT cost to build?")
        assert posts_in(standin, thread["id"], since) == []
        await standin.wait_for(lambda: running.bot.autoanswer.replied == 2)

        # The starter message before its THREAD_CREATE: answered all the same.
        _, rec = await answered_post(standin, CAPACITY_Q, message_first=True)
        assert "**40,000 inmates**" in only_embed(rec)["description"]

        # A thread in an enabled text channel is answered the same way.
        await enable(standin, standin.channel_id)
        _, rec = await answered_post(standin, CAPACITY_Q, parent_id=standin.channel_id)
        assert "**40,000 inmates**" in only_embed(rec)["description"]


async def test_silent_unless_enabled_confident_new_and_human(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        await enable(standin, standin.forum_id)
        await enable(standin, standin.channel_id)
        since = len(standin.requests)
        quiet = [
            # A forum nobody enabled.
            (await standin.create_thread(CAPACITY_Q, "", parent_id=standin.plain_forum_id))[0],
            # Not found in the documents, and found but below the auto-answer threshold.
            (await standin.create_thread(OUT_OF_CORPUS_Q, ""))[0],
            (await standin.create_thread(MIDDLING_Q, ""))[0],
            # A post by another bot.
            (await standin.create_thread(CAPACITY_Q, "", by=user(987654321, "otherbot", bot=True)))[
                0
            ],
        ]
        # A message in a thread the bot did not see created (it existed before it connected).
        await standin.say(CAPACITY_Q, channel_id=standin.thread_id, mention_bot=False)
        await answered_post(standin, "Where is CECOT located?")
        for thread in quiet:
            assert posts_in(standin, thread["id"], since) == []
        assert posts_in(standin, standin.thread_id, since) == []
        # /ask still answers the middling question: only unasked-for answers are held back.
        it = await standin.slash("ask", {"question": MIDDLING_Q})
        embed = only_embed(await reply_to(standin, it))
        assert embed["fields"][0]["name"] == "Source"

        # Turned off again: a new post there goes unanswered; /sources lists what remains on.
        await enable(standin, standin.forum_id, "off")
        off, _ = await standin.create_thread(CAPACITY_Q, "")
        await answered_post(standin, CAPACITY_Q, parent_id=standin.channel_id)
        assert posts_in(standin, off["id"]) == []
        it = await standin.slash("sources")
        listed = only_embed(await reply_to(standin, it))["description"]
        assert listed.endswith(f"**Auto-answers new posts in:** <#{standin.channel_id}>")
        await standin.wait_for(lambda: running.bot.autoanswer.replied == 2)


async def test_a_post_that_mentions_the_bot_gets_one_reply(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        await enable(standin, standin.forum_id)
        thread, msg = await standin.create_thread("capacity?", CAPACITY_Q, mention_bot=True)
        [rec] = await standin.wait_for(lambda: posts_in(standin, thread["id"]), 15)
        assert str(rec.body["message_reference"]["message_id"]) == msg["id"]  # the mention reply
        await answered_post(standin, "Where is CECOT located?")
        assert len(posts_in(standin, thread["id"])) == 1
        await standin.wait_for(lambda: running.bot.autoanswer.replied == 1)


async def test_the_first_message_is_read_with_the_message_content_intent(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path, message_content=True):
        identify = next(f for d, f in standin.frames if d == "in" and f["op"] == 2)
        assert identify["d"]["intents"] & (1 << 15)
        await enable(standin, standin.forum_id)
        thread, _ = await standin.create_thread("CECOT", "what is its maximum capacity?")
        [rec] = await standin.wait_for(lambda: posts_in(standin, thread["id"]), 15)
        embed = only_embed(rec)
        assert displayed(embed["title"]) == "CECOT what is its maximum capacity?"
        assert "**40,000 inmates**" in embed["description"]


async def test_solved_button_tags_the_post_for_its_author_only(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        await enable(standin, standin.forum_id)
        await enable(standin, standin.plain_forum_id)
        thread, _ = await standin.create_thread(CAPACITY_Q, "", tags=(standin.question_tag_id,))
        [rec] = await standin.wait_for(lambda: posts_in(standin, thread["id"]), 15)
        answer_msg = bot_message_in(standin, thread["id"])
        solved = button_ids(rec)[4]
        answer_id = int(solved.split(":")[2])

        since = len(standin.requests)
        it = await standin.click(answer_msg, solved, by=standin.admin)
        refused = await reply_to(standin, it, since)
        assert message_body(refused)["content"] == NOT_AUTHOR
        assert standin.find("PATCH", r"/channels/\d+", since) == []

        it = await standin.click(answer_msg, solved)  # the post's author
        done = await reply_to(standin, it, since)
        assert message_body(done)["flags"] & EPHEMERAL
        [patch] = standin.find("PATCH", rf"/channels/{thread['id']}", since)
        assert patch.body["applied_tags"] == [
            str(standin.question_tag_id),
            str(standin.solved_tag_id),
        ]
        assert standin.threads[int(thread["id"])]["applied_tags"][-1] == str(standin.solved_tag_id)
        assert FeedbackStore(running.settings.db_path).votes(answer_id) == (1, 0)

        # A forum without a "Solved" tag: thanks, and nothing to apply.
        plain, _ = await answered_post(standin, CAPACITY_Q, parent_id=standin.plain_forum_id)
        [rec] = posts_in(standin, plain["id"])
        answer_msg = bot_message_in(standin, plain["id"])
        since = len(standin.requests)
        it = await standin.click(answer_msg, button_ids(rec)[4])
        assert "no “Solved” tag" in message_body(await reply_to(standin, it, since))["content"]
        assert standin.find("PATCH", r"/channels/\d+", since) == []

        # Without Manage Threads Discord refuses the tag (403): the author is told why.
        standin.bot_may_manage_threads = False
        denied, _ = await answered_post(standin, CAPACITY_Q)
        [rec] = posts_in(standin, denied["id"])
        answer_msg = bot_message_in(standin, denied["id"])
        since = len(standin.requests)
        it = await standin.click(answer_msg, button_ids(rec)[4])
        assert "Manage Threads" in message_body(await reply_to(standin, it, since))["content"]
        assert standin.threads[int(denied["id"])]["applied_tags"] == []


async def test_message_menu_answers_privately_then_posts_publicly(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        question = await standin.say(CAPACITY_Q, by=standin.admin, mention_bot=False)
        since = len(standin.requests)
        it = await standin.message_command(MENU_NAME, question)
        rec = await standin.wait_for(
            lambda: next(
                (r for r in standin.replies(since) if it.token in r.path and r.body.get("embeds")),
                None,
            )
        )
        [defer] = [r for r in standin.requests[since:] if r.path.endswith("/callback")]
        assert defer.body["type"] == 5 and defer.body["data"]["flags"] & EPHEMERAL
        assert_no_mentions(rec.body)
        assert "**40,000 inmates**" in only_embed(rec)["description"]
        public, why = button_ids(rec)
        assert public.startswith("citebot:public:") and why.startswith("citebot:why:")

        shown = standin.messages[max(standin.messages)]
        since = len(standin.requests)
        click = await standin.click(shown, public)
        posted = await standin.wait_for(
            lambda: next(
                (
                    r
                    for r in standin.replies(since)
                    if click.token in r.path and r.body.get("embeds")
                ),
                None,
            )
        )
        [ack] = [r for r in standin.requests[since:] if r.path.endswith("/callback")]
        assert not (ack.body.get("data") or {}).get("flags", 0) & EPHEMERAL
        assert_capacity_answer(posted)
        assert FeedbackStore(running.settings.db_path).report().answers == 1

        # A message with no text (an image, an embed) has nothing to ask.
        empty = await standin.say("", by=standin.admin, mention_bot=False)
        it = await standin.message_command(MENU_NAME, empty)
        rec = await reply_to(standin, it)
        assert message_body(rec)["content"] == NO_TEXT and rec.body["data"]["flags"] & EPHEMERAL


async def test_why_button_explains_within_discord_limits(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await reply_to(standin, it)
        why = button_ids(rec)[3]
        shown = standin.messages[max(standin.messages)]
        since = len(standin.requests)
        click = await standin.click(shown, why)
        got = await standin.wait_for(
            lambda: next(
                (
                    r
                    for r in standin.replies(since)
                    if click.token in r.path and r.body.get("embeds")
                ),
                None,
            )
        )
        embed = only_embed(got)
        assert embed["title"] == "Why this answer?"
        assert "CECOT's → cecot ✓" in displayed(embed["description"])
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert displayed(fields["Chunks (retrieval score)"]).startswith(
            f"1. {SEED} › What is the CECOT? · line 8 · "
        )
        scores = fields["Scores"].splitlines()
        assert scores[0].startswith("Answer span: ") and scores[1].startswith("Runner-up span: “")
        assert scores[2] == "No-answer score: none"
        assert scores[3].startswith("Confidence 1.00 ≥ threshold 0.45: answered")
        [ack] = [r for r in standin.requests[since:] if r.path.endswith("/callback")]
        assert ack.body["data"]["flags"] & EPHEMERAL


async def test_why_button_stays_within_limits_for_long_chunks(
    standin: StandIn, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    deep = corpus / ("d" * 90) / ("e" * 90)
    deep.mkdir(parents=True)
    heading = "Capacity " + "of the very large archive " * 12
    sentence = "The archive holds " + "many boxes of old letters and " * 40 + "12,000 crates."
    for i in range(8):
        (deep / f"{'f' * 60}{i}.md").write_text(
            f"# {heading}{i}\n\n" + (sentence + " ") * 20 + "\n", encoding="utf-8"
        )
    engine = Engine.open(corpus, tmp_path / "index")
    async with running_bot(standin, engine, tmp_path, max_question_chars=500):
        q = "how many crates does the archive hold " + "letters boxes " * 30
        it = await standin.slash("ask", {"question": q[:500]})
        rec = await reply_to(standin, it)
        why = next(i for i in button_ids(rec) if i.startswith("citebot:why:"))
        shown = standin.messages[max(standin.messages)]
        since = len(standin.requests)
        click = await standin.click(shown, why)
        got = await standin.wait_for(
            lambda: next(
                (
                    r
                    for r in standin.replies(since)
                    if click.token in r.path and r.body.get("embeds")
                ),
                None,
            )
        )
        # The stand-in refuses (400) any body over Discord's limits; this one was accepted.
        embed = only_embed(got)
        chunks = next(f["value"] for f in embed["fields"] if f["name"].startswith("Chunks"))
        assert len(chunks.splitlines()) == 5 and len(chunks) <= 1024
        total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
        total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
        assert total <= 6000 and len(embed["description"]) <= 4096


async def test_a_burst_of_posts_is_bounded_and_rate_limited(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(
        standin, shared_engine, tmp_path, autoanswer_queue=3, autoanswer_rate=2
    ) as running:
        bot = running.bot
        await enable(standin, standin.forum_id)
        # Hold every answering slot: the worker takes one post and waits, three wait in the
        # queue, and the rest of the burst is dropped at once.
        for _ in range(running.settings.in_flight):
            await bot.answering.acquire()
        threads = [(await standin.create_thread(CAPACITY_Q, ""))[0] for _ in range(50)]
        await standin.wait_for(lambda: bot.autoanswer.dropped == 50 - 1 - 3, 15)
        for _ in range(running.settings.in_flight):
            bot.answering.release()
        await asyncio.wait_for(bot.autoanswer.queue.join(), 15)
        replies = [r for t in threads for r in posts_in(standin, t["id"])]
        # Four answered, two replies: the server's limit of 2 per minute.
        assert len(replies) == 2 and bot.autoanswer.replied == 2
