"""The real bot against the loopback Discord stand-in: every assertion is on what crossed the
wire (REST bodies, gateway frames) or on the bot's SQLite state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bot.autoanswer_state import AutoAnswerState
from bot.chat.commands import REFUSAL
from bot.chat.embeds import NOT_FOUND
from bot.engine import Engine
from bot.feedback import FeedbackStore
from tests.chat.conftest import CAPACITY_Q, SEED, make_corpus, running_bot
from tests.chat.standin import Fault, Interaction, Recorded, StandIn, message_body

EPHEMERAL = 64
MESSAGE_CONTENT_INTENT = 1 << 15


async def reply_to(standin: StandIn, it: Interaction, since: int = 0) -> Recorded:
    """The send that answered the interaction (first response, follow-up or @original edit)."""

    def found() -> Recorded | None:
        return next((r for r in standin.replies(since) if it.token in r.path), None)

    return await standin.wait_for(found, 10)


async def reply_to_message(standin: StandIn, msg: dict[str, Any], since: int = 0) -> Recorded:
    def found() -> Recorded | None:
        for r in standin.replies(since):
            ref = r.body.get("message_reference") or {}
            if str(ref.get("message_id")) == msg["id"]:
                return r
        return None

    return await standin.wait_for(found, 10)


def assert_no_mentions(body: dict[str, Any]) -> None:
    """Nothing in this message may ping: no parsed mention types, no listed users or roles, and
    a reply does not ping its author."""
    allowed = body["allowed_mentions"]
    assert allowed["parse"] == []
    assert not allowed.get("users") and not allowed.get("roles")
    assert allowed.get("replied_user", False) is False


def displayed(markdown: str) -> str:
    """What Discord shows for escaped text: a backslash shows the next character as is."""
    return re.sub(r"\\(.)", r"\1", markdown)


def only_embed(rec: Recorded) -> dict[str, Any]:
    embeds = message_body(rec).get("embeds") or []
    assert len(embeds) == 1, message_body(rec)
    return embeds[0]


def assert_capacity_answer(rec: Recorded) -> None:
    body = message_body(rec)
    assert_no_mentions(body)
    embed = only_embed(rec)
    assert "**40,000 inmates**" in embed["description"]
    assert "maximum capacity" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert displayed(fields["Source"]) == f"{SEED} › What is the CECOT? · line 9"
    assert float(fields["Confidence"]) > 0.5
    ids = [c["custom_id"] for row in body["components"] for c in row["components"]]
    assert len(ids) == 4 and ids[0].startswith("citebot:source:")
    assert ids[3].startswith("citebot:why:")


async def test_login_identify_heartbeat_and_guild_sync(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        me = standin.find("GET", "/users/@me")
        assert me and standin.find("GET", "/oauth2/applications/@me")
        put = await standin.wait_request(
            "PUT", rf"/applications/{standin.app_id}/guilds/{standin.guild_id}/commands"
        )
        assert sorted(c["name"] for c in put.body) == [
            "Ask citebot",
            "ask",
            "autoanswer",
            "reindex",
            "sources",
        ]
        menu = next(c for c in put.body if c["name"] == "Ask citebot")
        assert menu["type"] == 3  # a message context-menu command
        auto = next(c for c in put.body if c["name"] == "autoanswer")
        assert int(auto["default_member_permissions"]) == 1 << 5  # Manage Server
        # text, announcement, forum and media channels (discord.py adds each class's kin)
        assert sorted(auto["options"][0]["channel_types"]) == [0, 5, 15, 16]
        ask = next(c for c in put.body if c["name"] == "ask")
        assert ask["options"][0]["max_length"] == running.settings.max_question_chars
        assert not standin.find("PUT", rf"/applications/{standin.app_id}/commands")
        identify = next(f for d, f in standin.frames if d == "in" and f["op"] == 2)
        assert identify["d"]["token"] == standin.token
        assert not identify["d"]["intents"] & MESSAGE_CONTENT_INTENT
        # A heartbeat from the bot, acknowledged by the server.
        await standin.wait_for(lambda: any(d == "in" and f["op"] == 1 for d, f in standin.frames))
        assert any(d == "out" and f["op"] == 11 for d, f in standin.frames)
        assert running.bot.synced is True


async def test_sync_only_when_commands_change(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    sync = rf"/applications/{standin.app_id}/commands"
    async with running_bot(standin, shared_engine, tmp_path, guild_id=None) as running:
        assert running.bot.synced is True
        assert len(standin.find("PUT", sync)) == 1  # global when no DISCORD_GUILD_ID
    async with running_bot(standin, shared_engine, tmp_path, guild_id=None) as running:
        assert running.bot.synced is False
        assert len(standin.find("PUT", sync)) == 1
    # A changed command (its length limit) is a different payload: synced again.
    async with running_bot(
        standin, shared_engine, tmp_path, guild_id=None, max_question_chars=300
    ) as running:
        assert running.bot.synced is True
        assert len(standin.find("PUT", sync)) == 2
    async with running_bot(
        standin, shared_engine, tmp_path, guild_id=None, max_question_chars=300, force_sync=True
    ):
        assert len(standin.find("PUT", sync)) == 3


async def test_ask_defers_then_answers_with_citation(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        first = await standin.wait_request("POST", rf"/interactions/{it.id}/.+/callback", since)
        assert first.body["type"] == 5  # deferred, "citebot is thinking…"
        assert first.at - it.created < 1.0
        answer = await reply_to(standin, it, since)
        assert answer.method == "POST" and answer.path.startswith("/webhooks/")
        assert answer.at - it.created < 1.5
        assert_capacity_answer(answer)


async def test_mentions_in_channel_thread_and_dm(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        ignored = await standin.say("what is CECOT's capacity", mention_bot=False)
        for channel in (standin.channel_id, standin.thread_id, standin.dm_channel_id):
            msg = await standin.say(CAPACITY_Q, channel_id=channel)
            rec = await reply_to_message(standin, msg, since)
            assert rec.path == f"/channels/{channel}/messages"
            assert_capacity_answer(rec)
        # A DM needs no mention at all.
        dm = await standin.say(CAPACITY_Q, channel_id=standin.dm_channel_id, mention_bot=False)
        assert_capacity_answer(await reply_to_message(standin, dm, since))
        refs = [
            str((r.body.get("message_reference") or {}).get("message_id"))
            for r in standin.replies(since)
        ]
        assert ignored["id"] not in refs


async def test_document_cannot_ping_or_break_markdown(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash(
            "ask", {"question": "when does the weekly maintenance window start?"}
        )
        rec = await reply_to(standin, it, since)
        assert message_body(rec)["allowed_mentions"] == {"parse": []}  # exactly, on the wire
        shown = json.dumps(only_embed(rec), ensure_ascii=False)
        assert "@\u200beveryone" in shown  # the document's text is there, defused
        assert re.search(r"@(everyone|here|&\d)", shown) is None
        # Its markdown is shown, not applied: the only live ** are the ones around the answer.
        description = only_embed(rec)["description"]
        assert r"\*\*maintenance window\*\*" in description and r"\_server" in description
        assert len(re.findall(r"(?<!\\)\*\*", description)) == 2
    # The stand-in's record covers every send: none may allow a mention.
    for r in standin.replies():
        assert_no_mentions(message_body(r))


async def test_not_found_shows_nearest_sources_and_records_gap(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    near_miss = "what is the velocity of the prison guards"
    nothing = "what is the airspeed of an unladen swallow"
    async with running_bot(standin, shared_engine, tmp_path) as running:
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": near_miss})
        rec = await reply_to(standin, it, since)
        embed = only_embed(rec)
        assert embed["description"].startswith(NOT_FOUND)
        assert "**" not in embed["description"]
        assert embed["fields"], "nearest sources listed"
        assert all(SEED in displayed(f["name"]) for f in embed["fields"])
        assert not message_body(rec).get("components")
        for question in (nothing, nothing.upper() + "?"):
            it = await standin.slash("ask", {"question": question})
            embed = only_embed(await reply_to(standin, it, since))
            assert embed["description"] == NOT_FOUND and not embed.get("fields")
        report = running.store.report()
        assert [(g.question, g.times) for g in report.gaps] == [
            (nothing.upper() + "?", 2),
            (near_miss, 1),
        ]


async def test_cooldown_per_user(standin: StandIn, shared_engine: Engine, tmp_path: Path) -> None:
    async with running_bot(standin, shared_engine, tmp_path, cooldown_rate=1, cooldown_seconds=60):
        since = len(standin.requests)
        first = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, first, since))
        second = await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await reply_to(standin, second, since)
        assert rec.body["type"] == 4 and rec.body["data"]["flags"] & EPHEMERAL
        assert "please wait" in rec.body["data"]["content"]
        # The limit is per user.
        other = await standin.slash("ask", {"question": CAPACITY_Q}, by=standin.admin)
        assert_capacity_answer(await reply_to(standin, other, since))


async def test_question_length_limit(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path, max_question_chars=40):
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": "what is " + "really " * 10 + "its capacity"})
        rec = await reply_to(standin, it, since)
        assert rec.body["data"]["flags"] & EPHEMERAL
        assert "too long" in rec.body["data"]["content"]


async def test_reindex_refused_for_member_done_for_admin(standin: StandIn, tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    question = "what colour is the lighthouse keeper's boat"
    async with running_bot(standin, engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash("reindex", by=standin.member)
        rec = await reply_to(standin, it, since)
        assert rec.body["data"]["content"] == REFUSAL
        assert rec.body["data"]["flags"] & EPHEMERAL
        before = await standin.slash("ask", {"question": question})
        assert only_embed(await reply_to(standin, before, since))["description"].startswith(
            NOT_FOUND
        )

        (corpus / "harbour.txt").write_text(
            "The Harbour\n\nThe lighthouse keeper's boat is painted bright orange so that the "
            "rescue crews can see it in fog.\n",
            encoding="utf-8",
        )
        it = await standin.slash("reindex", by=standin.admin)
        first = await standin.wait_request("POST", rf"/interactions/{it.id}/.+/callback", since)
        assert first.body["type"] == 5
        embed = only_embed(await reply_to(standin, it, since))
        assert embed["title"] == "Re-indexed"
        assert "**Added:** 1 (harbour.txt)" in displayed(embed["description"])
        after = await standin.slash("ask", {"question": question})
        answered = only_embed(await reply_to(standin, after, since))["description"]
        assert re.search(r"\*\*[^*]*bright orange[^*]*\*\*", answered), answered


async def test_owner_id_may_reindex_without_manage_server(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    owner = int(standin.member["id"])
    async with running_bot(standin, shared_engine, tmp_path, owner_ids=frozenset({owner})):
        since = len(standin.requests)
        it = await standin.slash("reindex", by=standin.member)
        embed = only_embed(await reply_to(standin, it, since))
        assert embed["title"] == "Re-indexed: nothing changed"


async def test_gateway_drop_resume_replays_missed_events(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        await standin.drop()
        since = len(standin.requests)
        # Sent while the bot is away: Discord replays it after RESUME.
        missed = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, missed, since))
        assert standin.resumes == 1 and standin.identifies == 1
        later = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, later, since))


async def test_gateway_drop_reidentifies_when_session_is_gone(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        standin.resumable = False
        await standin.drop()
        await standin.wait_for(lambda: standin.identifies == 2)
        await standin.wait_connected()
        since = len(standin.requests)
        msg = await standin.say(CAPACITY_Q)
        assert_capacity_answer(await reply_to_message(standin, msg, since))


async def test_buttons_show_source_and_store_feedback(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path) as running:
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await reply_to(standin, it, since)
        message = standin.messages[max(standin.messages)]
        ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
        source_id, up_id, down_id, _why = ids
        answer_id = int(source_id.rsplit(":", 1)[1])
        assert rec.body["components"] == message["components"]

        click = await standin.click(message, source_id)
        shown = await reply_to(standin, click, since)
        assert shown.body["type"] == 4 and shown.body["data"]["flags"] & EPHEMERAL
        passage = shown.body["data"]["embeds"][0]
        assert "**40,000 inmates**" in passage["description"]
        assert displayed(passage["title"]) == f"{SEED} › What is the CECOT? · line 9"

        for custom_id, by in (
            (up_id, standin.member),
            (down_id, standin.admin),
            (up_id, standin.admin),
        ):
            click = await standin.click(message, custom_id, by=by)
            ack = await reply_to(standin, click, since)
            assert ack.body["data"]["flags"] & EPHEMERAL
    # The admin changed their mind: one vote per user, the last one counts.
    assert FeedbackStore(running.settings.db_path).votes(answer_id) == (2, 0)


async def test_expired_interaction_answers_in_the_channel(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    standin.first_response_deadline = 0.0  # every first response is "too late": 10062
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", since)
        assert_capacity_answer(rec)
        rejected = [r for r in standin.requests[since:] if r.path.endswith("/callback")]
        assert rejected and rejected[0].status == 404


async def test_rate_limited_follow_up_is_retried(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    standin.faults.append(
        Fault(
            "POST",
            r"/webhooks/\d+/[^/]+",
            429,
            {"message": "You are being rate limited.", "retry_after": 0.05, "global": False},
            {"Via": "1.1 google", "X-RateLimit-Scope": "shared"},
        )
    )
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, it, since))
        limited = [r for r in standin.requests[since:] if r.status == 429]
        assert len(limited) == 1


async def test_handler_error_apologises_and_bot_stays_up(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    async with running_bot(standin, shared_engine, tmp_path, db_path=state / "bot.sqlite3"):
        # The state file turns into a folder under the running bot: storing the answer fails
        # inside the handler. The bot's start-up pruning may be creating or writing the file
        # right now, so the swap is retried until it holds.
        db = state / "bot.sqlite3"
        for _ in range(100):
            with contextlib.suppress(FileNotFoundError):
                db.unlink()
            try:
                db.mkdir(parents=True)
                break
            except FileExistsError:
                await asyncio.sleep(0.05)
        assert db.is_dir()
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await reply_to(standin, it, since)
        assert "Sorry" in rec.body["content"] and rec.body["flags"] & EPHEMERAL
        still = await standin.slash("sources")
        embed = only_embed(await reply_to(standin, still, since))
        assert "**Documents:** 2" in embed["description"]
        assert SEED in displayed(embed["description"])


async def test_sources_reports_index_and_version(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    from bot import __version__

    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        t0 = time.time()
        it = await standin.slash("sources")
        embed = only_embed(await reply_to(standin, it, since))
        stats = shared_engine.stats
        assert f"**Chunks:** {stats.chunks}" in embed["description"]
        assert f"citebot {__version__}" in embed["description"]
        assert f"<t:{int(stats.built_at)}:" in embed["description"]
        assert stats.built_at <= t0


async def test_expired_follow_up_token_answers_in_the_channel(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    # What Discord answers a follow-up once the 15-minute interaction token has expired.
    standin.faults.append(
        Fault(
            "POST", r"/webhooks/\d+/[^/]+", 401, {"code": 50027, "message": "Invalid Webhook Token"}
        )
    )
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q})
        rec = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", since)
        assert_capacity_answer(rec)
        assert [r.status for r in standin.requests[since:] if it.token in r.path] == [200, 401]


async def test_already_acknowledged_interaction_answers_as_follow_up(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path):
        since = len(standin.requests)
        it = await standin.slash("ask", {"question": CAPACITY_Q}, acknowledged=True)
        answer = await reply_to(standin, it, since)
        assert answer.method == "POST" and answer.path.startswith("/webhooks/")
        assert_capacity_answer(answer)
        callbacks = [r for r in standin.requests[since:] if r.path.endswith("/callback")]
        # The defer and the first-response attempt both meet 40060; neither is an error.
        assert callbacks and all(r.status == 400 for r in callbacks)
        assert not standin.find("POST", rf"/channels/{standin.channel_id}/messages", since)


def write_long_document(path: Path, paragraphs: int) -> None:
    """Enough distinct text that re-indexing it takes seconds, not milliseconds."""
    lines = ["Ledger of the northern depots", ""]
    for i in range(paragraphs):
        lines.append(
            f"Depot {i} on route {i % 97} stores {i * 7 % 1000} crates of item{i} and item{i + 1}; "
            f"inspector{i % 313} checks it every {i % 11 + 2} days and logs token{i * 31}.\n"
        )
    lines.append("The depot ledger is kept in a vault lined with copper sheets.\n")
    path.write_text("\n".join(lines), encoding="utf-8")


async def test_answers_keep_flowing_during_a_slow_reindex(standin: StandIn, tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    write_long_document(corpus / "ledger.txt", 12_000)
    async with running_bot(standin, engine, tmp_path):
        since = len(standin.requests)
        reindex = await standin.slash("reindex", by=standin.admin)
        await standin.wait_request("POST", rf"/interactions/{reindex.id}/.+/callback", since)
        asks = [await standin.slash("ask", {"question": CAPACITY_Q}) for _ in range(3)]
        answers = [await reply_to(standin, it, since) for it in asks]
        report = await standin.wait_for(
            lambda: next((r for r in standin.replies(since) if reindex.token in r.path), None), 60
        )
        # Answered from the old index while the new one was still being built.
        assert all(a.at < report.at for a in answers)
        for a in answers:
            assert_capacity_answer(a)
        assert "**Added:** 1 (ledger.txt)" in displayed(only_embed(report)["description"])
        after = await standin.slash(
            "ask", {"question": "what is the depot ledger vault lined with"}
        )
        found = only_embed(await reply_to(standin, after, since))["description"]
        assert re.search(r"\*\*[^*]*copper[^*]*\*\*", found), found


async def test_a_burst_is_answered_a_few_at_a_time_and_acknowledged_at_once(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(standin, shared_engine, tmp_path, in_flight=2) as rb:
        answer = rb.bot.answer
        busy, most = [0], [0]

        async def slow_answer(question: str, user_id: int) -> Any:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
            try:
                await asyncio.sleep(0.3)  # a slow engine: answers pile up behind the slots
                return await answer(question, user_id)
            finally:
                busy[0] -= 1

        rb.bot.answer = slow_answer
        since = len(standin.requests)
        its = [await standin.slash("ask", {"question": CAPACITY_Q}) for _ in range(8)]
        replies = [await reply_to(standin, it, since) for it in its]
        for rec in replies:
            assert_capacity_answer(rec)
        assert most[0] == 2
        defers = [
            await standin.wait_request("POST", rf"/interactions/{it.id}/.+/callback", since)
            for it in its
        ]
        # Four rounds of two 0.3 s answers take 1.2 s; every defer went out long before.
        assert max(d.at - it.created for d, it in zip(defers, its, strict=True)) < 0.6
        assert max(r.at - it.created for r, it in zip(replies, its, strict=True)) >= 1.2


async def test_questions_older_than_keep_days_are_deleted_at_start(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "state.sqlite3"
    store = FeedbackStore(path)
    old = store.record_answer(shared_engine.ask("who painted the zebra mural"), user_id=5)
    recent = store.record_answer(shared_engine.ask(CAPACITY_Q), user_id=5)
    # Auto-answered forum posts of a member: one long ago, one recent.
    auto = AutoAnswerState(path)
    auto.claim_thread(1, 801, 5)
    auto.claim_thread(1, 802, 5)
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE answers SET asked_at = asked_at - 31 * 86400 WHERE id = ?", (old,))
        con.execute(
            "UPDATE autoanswered_threads SET answered_at = answered_at - 31 * 86400"
            " WHERE thread_id = 801"
        )
    con.close()
    async with running_bot(standin, shared_engine, tmp_path, db_path=path, keep_days=30):
        deadline = time.monotonic() + 10
        while store.answer(old) is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert store.answer(old) is None
        assert store.answer(recent) is not None
        assert auto.claim_thread(1, 801, 6) is True  # the old claim went with the old question
        assert auto.claim_thread(1, 802, 6) is False


async def test_a_shell_reindex_is_served_and_then_reported(
    standin: StandIn, tmp_path: Path
) -> None:
    """``citebot index`` run from a shell (a real subprocess) while the bot runs: the answer
    worker serves the new generation at the next question, and /reindex then counts the change
    against what the bot had loaded instead of saying "nothing changed"."""
    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    question = "what colour is the lighthouse keeper's boat"
    async with running_bot(standin, engine, tmp_path) as running:
        assert running.settings.answer_processes == 1
        since = len(standin.requests)
        before = await standin.slash("ask", {"question": question})
        assert only_embed(await reply_to(standin, before, since))["description"].startswith(
            NOT_FOUND
        )
        (corpus / "harbour.txt").write_text(
            "The Harbour\n\nThe lighthouse keeper's boat is painted bright orange so that the "
            "rescue crews can see it in fog.\n",
            encoding="utf-8",
        )
        shell = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "index",
            "--corpus",
            str(corpus),
            "--index",
            str(tmp_path / "index"),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(shell.communicate(), 60)
        assert shell.returncode == 0 and b"1 added" in out
        after = await standin.slash("ask", {"question": question})
        answered = only_embed(await reply_to(standin, after, since))["description"]
        assert re.search(r"\*\*[^*]*bright orange[^*]*\*\*", answered), answered

        it = await standin.slash("reindex", by=standin.admin)
        embed = only_embed(await reply_to(standin, it, since))
        assert embed["title"] == "Re-indexed"
        assert "**Added:** 1 (harbour.txt)" in displayed(embed["description"])
        assert "Now 3 documents, " in embed["description"]
        it = await standin.slash("reindex", by=standin.admin)
        assert only_embed(await reply_to(standin, it, since))["title"] == (
            "Re-indexed: nothing changed"
        )


async def test_cooldown_counts_empty_and_over_long_messages(
    standin: StandIn, shared_engine: Engine, tmp_path: Path
) -> None:
    async with running_bot(
        standin, shared_engine, tmp_path, cooldown_rate=2, max_question_chars=40
    ):
        since = len(standin.requests)
        blank = await standin.say("   ")
        rec = await reply_to_message(standin, blank, since)
        assert rec.body["content"].startswith("Please ask a question")
        long = await standin.say("what is " + "really " * 10 + "its capacity")
        assert "too long" in (await reply_to_message(standin, long, since)).body["content"]
        # Two messages in the window already: the third waits, however good a question.
        third = await standin.say(CAPACITY_Q)
        assert "please wait" in (await reply_to_message(standin, third, since)).body["content"]
        # The same for /ask: a blank question counts.
        for _ in range(2):
            it = await standin.slash("ask", {"question": "  "}, by=standin.admin)
            rec = await reply_to(standin, it, since)
            assert rec.body["data"]["content"].startswith("Please ask a question")
        it = await standin.slash("ask", {"question": CAPACITY_Q}, by=standin.admin)
        assert "please wait" in (await reply_to(standin, it, since)).body["data"]["content"]


async def test_a_failed_reindex_is_ephemeral_and_shows_no_path(
    standin: StandIn, tmp_path: Path, caplog: Any, monkeypatch: Any
) -> None:
    import builtins
    import errno
    import os

    import bot.index.store

    corpus = make_corpus(tmp_path / "corpus")
    engine = Engine.open(corpus, tmp_path / "index")
    async with running_bot(standin, engine, tmp_path):
        since = len(standin.requests)
        # A full disk: writing the new generation fails (injected at the index code's open()).
        (corpus / "more.txt").write_text("The ferry leaves at noon.\n", encoding="utf-8")
        real = builtins.open

        def full(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if "w" in mode:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(file))
            return real(file, mode, *args, **kwargs)

        monkeypatch.setattr(bot.index.store, "open", full, raising=False)
        it = await standin.slash("reindex", by=standin.admin)
        first = await standin.wait_request("POST", rf"/interactions/{it.id}/.+/callback", since)
        assert first.body["type"] == 5 and first.body["data"]["flags"] & EPHEMERAL
        rec = await reply_to(standin, it, since)
        assert rec.body["flags"] & EPHEMERAL
        assert rec.body["content"].startswith("Re-index failed: the index folder cannot be written")
        assert str(tmp_path) not in json.dumps(rec.body)
        monkeypatch.undo()
        # The corpus folder is gone: the reason, without the path.
        shutil.rmtree(corpus)
        it = await standin.slash("reindex", by=standin.admin)
        rec = await reply_to(standin, it, since)
        assert rec.body["flags"] & EPHEMERAL
        assert rec.body["content"].startswith(
            "Re-index failed: the documents folder cannot be read"
        )
        assert str(tmp_path) not in json.dumps(rec.body)
        # Still answering from the old index.
        ask = await standin.slash("ask", {"question": CAPACITY_Q})
        assert_capacity_answer(await reply_to(standin, ask, since))
    logged = [r.getMessage() for r in caplog.records if r.name == "citebot.chat"]
    assert any("No space left on device" in m and str(tmp_path) in m for m in logged), logged
    assert any(f"corpus folder not found: {corpus}" in m for m in logged), logged
