"""A loopback Discord stand-in: the gateway (websocket, JSON text frames) and the REST routes
citebot uses, on 127.0.0.1 with a random port.

It behaves like Discord where the bot could get it wrong: it checks the bot token, rejects
message bodies over Discord's limits (400, code 50035), refuses a first interaction response
that comes too late (404, code 10062) or twice (400, code 40060), can answer 429 (with ``Via``,
as Discord's edge does), and supports RESUME (replaying missed events) or forces a
re-IDENTIFY. Every REST request and every gateway frame is recorded so tests assert on the wire.

Forums too: a forum channel (type 15) with tags, new posts as Discord sends them (THREAD_CREATE
with ``newly_created``, then MESSAGE_CREATE of the starter message, whose id is the thread's;
its content blank unless the bot asked for the Message Content intent or is mentioned), tags
applied with PATCH /channels/{id} (checked against the forum's tags, answered by THREAD_UPDATE),
and message context-menu commands (an application command of type 3 with the target message in
``resolved.messages``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from bot.config import Settings

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"

# Permission bits (https://discord.com/developers/docs/topics/permissions).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_GUILD = 1 << 5
MANAGE_THREADS = 1 << 34
SEND_MESSAGES_IN_THREADS = 1 << 38
MESSAGE_CONTENT_INTENT = 1 << 15
FORUM = 15
PUBLIC_THREAD = 11
MEMBER_PERMS = VIEW_CHANNEL | SEND_MESSAGES
ADMIN_PERMS = MEMBER_PERMS | MANAGE_GUILD

_ids = itertools.count(1)


def snowflake() -> int:
    """A Discord id whose timestamp is now, so discord.py's ``created_at`` is right."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return (ms << 22) | (next(_ids) & 0x3FFFFF)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return _json(body, status)


def _too_long(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def _required() -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]}


def message_errors(body: dict[str, Any]) -> dict[str, Any]:
    """Discord's checks on a message body, as its ``errors`` object (empty when valid)."""
    errors: dict[str, Any] = {}
    content = body.get("content") or ""
    if len(content) > 2000:
        errors["content"] = _too_long(2000)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = _too_long(10)
    for i, e in enumerate(embeds):
        err: dict[str, Any] = {}
        total = 0
        for key, limit in (("title", 256), ("description", 4096)):
            n = len(e.get(key) or "")
            total += n
            if n > limit:
                err[key] = _too_long(limit)
        fields = e.get("fields") or []
        if len(fields) > 25:
            err["fields"] = _too_long(25)
        for j, f in enumerate(fields):
            ferr: dict[str, Any] = {}
            name, value = f.get("name") or "", f.get("value") or ""
            total += len(name) + len(value)
            if not name:
                ferr["name"] = _required()
            elif len(name) > 256:
                ferr["name"] = _too_long(256)
            if not value:
                ferr["value"] = _required()
            elif len(value) > 1024:
                ferr["value"] = _too_long(1024)
            if ferr:
                err.setdefault("fields", {})[str(j)] = ferr
        footer = (e.get("footer") or {}).get("text") or ""
        total += len(footer)
        if len(footer) > 2048:
            err["footer"] = {"text": _too_long(2048)}
        author = (e.get("author") or {}).get("name") or ""
        total += len(author)
        if len(author) > 256:
            err["author"] = {"name": _too_long(256)}
        if total > 6000:
            err["_errors"] = [
                {
                    "code": "MAX_EMBED_SIZE_EXCEEDED",
                    "message": "Embed size exceeds maximum size of 6000",
                }
            ]
        if err:
            errors.setdefault("embeds", {})[str(i)] = err
    for r, row in enumerate(body.get("components") or []):
        for c, comp in enumerate(row.get("components") or []):
            if len(comp.get("custom_id") or "") > 100:
                errors.setdefault("components", {})[f"{r}.{c}.custom_id"] = _too_long(100)
            if len(comp.get("label") or "") > 80:
                errors.setdefault("components", {})[f"{r}.{c}.label"] = _too_long(80)
    return errors


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Answer the next request matching ``method`` and ``path`` (a regex) with this instead."""

    method: str
    path: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class Interaction:
    id: int
    token: str
    created: float
    payload: dict[str, Any]
    responded: bool = False
    original: dict[str, Any] | None = None


def user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


class StandIn:
    def __init__(
        self,
        token: str = "stand-in-token",
        *,
        heartbeat_ms: int = 41250,
        first_response_deadline: float = 3.0,
    ) -> None:
        self.token = token
        self.heartbeat_ms = heartbeat_ms
        self.first_response_deadline = first_response_deadline
        self.app_id = snowflake()
        self.bot_user = user(snowflake(), "citebot", bot=True)
        self.admin = user(snowflake(), "admin")
        self.member = user(snowflake(), "member")
        self.guild_id = snowflake()
        self.channel_id = snowflake()
        self.thread_id = snowflake()
        self.dm_channel_id = snowflake()
        # A help forum with a "Solved" tag, and one without.
        self.forum_id = snowflake()
        self.solved_tag_id = snowflake()
        self.question_tag_id = snowflake()
        self.plain_forum_id = snowflake()
        self.forum_tags = {
            self.forum_id: [
                self._tag(self.question_tag_id, "Question"),
                self._tag(self.solved_tag_id, "Solved"),
            ],
            self.plain_forum_id: [self._tag(snowflake(), "Question")],
        }
        self.threads: dict[int, dict[str, Any]] = {}  # created while running
        self.intents = 0  # what the bot identified with
        self.bot_may_manage_threads = True
        self.requests: list[Recorded] = []
        self.frames: list[tuple[str, dict[str, Any]]] = []  # ("in"|"out", frame)
        self.messages: dict[int, dict[str, Any]] = {}
        self.interactions: dict[int, Interaction] = {}
        self.commands: dict[str, dict[str, dict[str, Any]]] = {}  # scope → name → command
        self.faults: list[Fault] = []
        self.resumable = True
        self.identifies = 0
        self.resumes = 0
        self._sessions: dict[str, list[dict[str, Any]]] = {}  # session → dispatched frames
        self._session: str | None = None
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._connected = asyncio.Event()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        # A short shutdown: a test's server must never wait a minute for idle keep-alives.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await asyncio.wait_for(self._ws.close(code=1001), 5)
        if self._runner is not None:
            await self._runner.cleanup()

    # --- waiting on what happened -------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``check()`` returns something truthy (re-checked on every request and
        frame); its value, or TimeoutError."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(check), timeout)

    def find(self, method: str, pattern: str, since: int = 0) -> list[Recorded]:
        rx = re.compile(pattern)
        return [
            r
            for r in self.requests[since:]
            if r.method == method and rx.fullmatch(r.path) and r.status < 300
        ]

    async def wait_request(
        self, method: str, pattern: str, since: int = 0, timeout: float = 10.0
    ) -> Recorded:
        found = await self.wait_for(lambda: self.find(method, pattern, since), timeout)
        return found[0]

    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    # --- gateway ------------------------------------------------------------------------

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        self.frames.append(("out", frame))
        await ws.send_str(json.dumps(frame))
        await self._notify()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH; while the bot is disconnected it is queued for RESUME to replay."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        if self._session is not None:
            self._sessions[self._session].append(frame)
        ws = self._ws
        if ws is not None and not ws.closed and self._connected.is_set():
            await self._send(ws, frame)

    async def drop(self, code: int = 4000) -> None:
        """Close the gateway connection the way Discord does on a server-side error; the bot
        should reconnect and RESUME (or re-IDENTIFY when ``resumable`` is False)."""
        ws = self._ws
        self._connected.clear()
        if ws is not None:
            await ws.close(code=code, message=b"stand-in dropped the connection")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws = ws
        await self._send(
            ws, {"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": self.heartbeat_ms}}
        )
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.frames.append(("in", frame))
            op = frame.get("op")
            if op == 1:
                await self._send(ws, {"op": 11, "s": None, "t": None, "d": None})
            elif op == 2:
                await self._identify(ws, frame["d"])
            elif op == 6:
                await self._resume(ws, frame["d"])
            else:
                await self._notify()
        if self._ws is ws:
            self._connected.clear()
        await self._notify()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identifies += 1
        self.intents = int(d.get("intents") or 0)
        session = f"session-{snowflake()}"
        self._session = session
        self._sessions[session] = []
        self._seq = 0
        self._seq += 1
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        await self._send(ws, {"op": 0, "t": "READY", "s": self._seq, "d": ready})
        self._connected.set()
        await self.dispatch("GUILD_CREATE", self.guild_payload())

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        session = d.get("session_id")
        if (
            not self.resumable
            or d.get("token") != self.token
            or session not in self._sessions
            or session != self._session
        ):
            await self._send(ws, {"op": 9, "s": None, "t": None, "d": False})
            return
        self.resumes += 1
        seen = d.get("seq") or 0
        for frame in self._sessions[session]:
            if frame["s"] > seen:
                await self._send(ws, frame)
        self._seq += 1
        await self._send(ws, {"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        self._connected.set()

    # --- payloads -----------------------------------------------------------------------

    def member_payload(self, u: dict[str, Any], perms: int | None = None) -> dict[str, Any]:
        m: dict[str, Any] = {
            "user": u,
            "roles": [],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
        }
        if perms is not None:
            m["permissions"] = str(perms)
        return m

    def guild_payload(self) -> dict[str, Any]:
        gid = str(self.guild_id)
        return {
            "id": gid,
            "name": "Stand-in server",
            "icon": None,
            "owner_id": self.admin["id"],
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [
                {
                    "id": gid,
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "emojis": [],
            "stickers": [],
            "channels": [
                {
                    "id": str(self.channel_id),
                    "type": 0,
                    "guild_id": gid,
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "rate_limit_per_user": 0,
                    "last_message_id": None,
                },
                *(self._forum(fid) for fid in self.forum_tags),
            ],
            "threads": [
                {
                    "id": str(self.thread_id),
                    "type": 11,
                    "guild_id": gid,
                    "parent_id": str(self.channel_id),
                    "owner_id": self.admin["id"],
                    "name": "questions",
                    "rate_limit_per_user": 0,
                    "message_count": 0,
                    "member_count": 1,
                    "flags": 0,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": "2025-01-01T00:00:00+00:00",
                        "locked": False,
                    },
                }
            ],
            "members": [self.member_payload(self.bot_user)],
            "member_count": 3,
            "large": False,
            "unavailable": False,
            "joined_at": "2025-01-01T00:00:00+00:00",
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def bot_settings(self, engine: Any, db_path: Path, **overrides: Any) -> Settings:
        """Settings that point the real bot (and ``engine``'s corpus and index) at this server."""
        base = Settings(
            corpus=engine.corpus,
            index_dir=engine.store.index_dir,
            discord_token=self.token,
            guild_id=self.guild_id,
            api_base=self.api_base,
            gateway_url=self.gateway_url,
            db_path=db_path,
        )
        return dataclasses.replace(base, **overrides)

    def message_payload(
        self,
        channel_id: int,
        author: dict[str, Any],
        content: str = "",
        *,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        mentions: list[dict[str, Any]] | None = None,
        reference: dict[str, Any] | None = None,
        flags: int = 0,
    ) -> dict[str, Any]:
        in_guild = channel_id != self.dm_channel_id
        msg: dict[str, Any] = {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": "2025-01-01T00:00:00+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": mentions or [],
            "mention_roles": [],
            "attachments": [],
            "embeds": embeds or [],
            "components": components or [],
            "pinned": False,
            "type": 19 if reference else 0,
            "flags": flags,
        }
        if reference:
            msg["message_reference"] = reference
        if in_guild:
            msg["guild_id"] = str(self.guild_id)
            msg["member"] = {k: v for k, v in self.member_payload(author).items() if k != "user"}
        return msg

    def _channel(self, channel_id: int) -> dict[str, Any]:
        if channel_id == self.dm_channel_id:
            return {"id": str(channel_id), "type": 1, "recipients": [self.member]}
        if channel_id in self.threads:
            return {**self.threads[channel_id], "permissions": str(ADMIN_PERMS)}
        if channel_id in self.forum_tags:
            return {**self._forum(channel_id), "permissions": str(ADMIN_PERMS)}
        kind = 11 if channel_id == self.thread_id else 0
        ch: dict[str, Any] = {"id": str(channel_id), "type": kind, "guild_id": str(self.guild_id)}
        ch.update(name="questions" if kind == 11 else "general", position=0, nsfw=False)
        ch["permissions"] = str(ADMIN_PERMS)
        if kind == 11:
            ch["parent_id"] = str(self.channel_id)
            ch["thread_metadata"] = {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": "2025-01-01T00:00:00+00:00",
                "locked": False,
            }
        else:
            ch["permission_overwrites"] = []
        return ch

    def _interaction_base(
        self, kind: int, u: dict[str, Any], channel_id: int, perms: int
    ) -> dict[str, Any]:
        iid = snowflake()
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": kind,
            "token": f"itoken-{iid}",
            "version": 1,
            "channel_id": str(channel_id),
            "channel": self._channel(channel_id),
            "app_permissions": str(ADMIN_PERMS),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 26214400,
        }
        if channel_id == self.dm_channel_id:
            payload["user"] = u
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"1": u["id"]}
        else:
            payload["guild_id"] = str(self.guild_id)
            payload["guild_locale"] = "en-US"
            payload["member"] = self.member_payload(u, perms)
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(self.guild_id)}
        return payload

    def registered(self, name: str) -> dict[str, Any] | None:
        for scope in (f"guild:{self.guild_id}", "global"):
            if name in self.commands.get(scope, {}):
                return self.commands[scope][name]
        return None

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        by: dict[str, Any] | None = None,
        channel_id: int | None = None,
        perms: int | None = None,
        acknowledged: bool = False,
    ) -> Interaction:
        """A user runs a slash command: INTERACTION_CREATE for a command the bot synced.
        ``acknowledged``: someone else (another instance with the same token) has already
        deferred it, so the bot's own first response gets 40060."""
        command = self.registered(name)
        if command is None:
            raise AssertionError(f"/{name} was never synced to the stand-in")
        by = by or self.member
        if perms is None:
            perms = ADMIN_PERMS if by is self.admin else MEMBER_PERMS
        payload = self._interaction_base(2, by, channel_id or self.channel_id, perms)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
        if options:
            # Each option's type as synced; a channel option (7) sends the id and the channel
            # under ``resolved``, as Discord does.
            kinds = {o["name"]: o["type"] for o in command.get("options", [])}
            data["options"] = []
            for k, v in options.items():
                kind = kinds.get(k, 3 if isinstance(v, str) else 4)
                data["options"].append({"name": k, "type": kind, "value": v})
                if kind == 7:
                    channels = data.setdefault("resolved", {}).setdefault("channels", {})
                    channels[str(v)] = self._channel(int(v))
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload["data"] = data
        return await self._create_interaction(payload, acknowledged=acknowledged)

    async def message_command(
        self, name: str, message: dict[str, Any], *, by: dict[str, Any] | None = None
    ) -> Interaction:
        """A user picks Apps → ``name`` on ``message``: a message context-menu command."""
        command = self.registered(name)
        if command is None or command.get("type") != 3:
            raise AssertionError(f"message command {name!r} was never synced to the stand-in")
        by = by or self.member
        perms = ADMIN_PERMS if by is self.admin else MEMBER_PERMS
        payload = self._interaction_base(2, by, int(message["channel_id"]), perms)
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload["data"] = data
        return await self._create_interaction(payload)

    async def click(
        self, message: dict[str, Any], custom_id: str, *, by: dict[str, Any] | None = None
    ) -> Interaction:
        by = by or self.member
        channel_id = int(message["channel_id"])
        payload = self._interaction_base(3, by, channel_id, MEMBER_PERMS)
        payload["message"] = message
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return await self._create_interaction(payload)

    async def _create_interaction(
        self, payload: dict[str, Any], *, acknowledged: bool = False
    ) -> Interaction:
        it = Interaction(int(payload["id"]), payload["token"], time.monotonic(), payload)
        if acknowledged:
            it.responded = True
            it.original = self._bot_message(int(payload["channel_id"]), {}, flags=128)
        self.interactions[it.id] = it
        await self.dispatch("INTERACTION_CREATE", payload)
        return it

    async def say(
        self,
        content: str,
        *,
        by: dict[str, Any] | None = None,
        channel_id: int | None = None,
        mention_bot: bool = True,
    ) -> dict[str, Any]:
        """A user posts a message (mentioning the bot unless told not to)."""
        by = by or self.member
        mentions = [self.bot_user] if mention_bot else []
        if mention_bot:
            content = f"<@{self.bot_user['id']}> {content}"
        msg = self.message_payload(channel_id or self.channel_id, by, content, mentions=mentions)
        self.messages[int(msg["id"])] = msg
        await self.dispatch("MESSAGE_CREATE", msg)
        return msg

    async def create_thread(
        self,
        title: str,
        content: str,
        *,
        parent_id: int | None = None,
        by: dict[str, Any] | None = None,
        tags: tuple[int, ...] = (),
        mention_bot: bool = False,
        message_first: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A member opens a post in a forum (or a thread in a text channel, ``parent_id``) and
        writes its first message: THREAD_CREATE (newly created), then MESSAGE_CREATE with the
        thread's id. The content is blank unless the bot has the Message Content intent or is
        mentioned, as on Discord. ``message_first`` sends the two events the other way round
        (nothing promises their order)."""
        by = by or self.member
        parent_id = parent_id or self.forum_id
        tid = snowflake()
        thread: dict[str, Any] = {
            "id": str(tid),
            "type": PUBLIC_THREAD,
            "guild_id": str(self.guild_id),
            "parent_id": str(parent_id),
            "owner_id": by["id"],
            "name": title,
            "last_message_id": str(tid),
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "applied_tags": [str(t) for t in tags],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 4320,
                "archive_timestamp": "2025-01-01T00:00:00+00:00",
                "locked": False,
                "create_timestamp": "2025-01-01T00:00:00+00:00",
            },
        }
        self.threads[tid] = thread
        if not message_first:
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        mentions = [self.bot_user] if mention_bot else []
        if mention_bot:
            content = f"<@{self.bot_user['id']}> {content}"
        readable = mention_bot or bool(self.intents & MESSAGE_CONTENT_INTENT)
        msg = self.message_payload(tid, by, content if readable else "", mentions=mentions)
        msg["id"] = str(tid)  # a forum post's starter message has the thread's id
        self.messages[tid] = {**msg, "content": content}
        await self.dispatch("MESSAGE_CREATE", msg)
        if message_first:
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return thread, self.messages[tid]

    @staticmethod
    def _tag(tid: int, name: str) -> dict[str, Any]:
        return {
            "id": str(tid),
            "name": name,
            "moderated": False,
            "emoji_id": None,
            "emoji_name": None,
        }

    def _forum(self, fid: int) -> dict[str, Any]:
        return {
            "id": str(fid),
            "type": FORUM,
            "guild_id": str(self.guild_id),
            "name": "help" if fid == self.forum_id else "ideas",
            "position": 1,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "available_tags": self.forum_tags[fid],
            "default_reaction_emoji": None,
            "default_thread_rate_limit_per_user": 0,
            "default_sort_order": None,
            "default_forum_layout": 0,
        }

    def _edit_thread(self, tid: int, body: dict[str, Any]) -> web.Response:
        thread = self.threads.get(tid)
        if thread is None:
            return _error(404, 10003, "Unknown Channel")
        if "applied_tags" in body:
            tags = [str(t) for t in body["applied_tags"]]
            allowed = {t["id"] for t in self.forum_tags.get(int(thread["parent_id"]), [])}
            if len(tags) > 5 or not set(tags) <= allowed:
                return _error(400, 50035, "Invalid Form Body", {"applied_tags": _required()})
            # Not the thread's owner: editing it takes Manage Threads.
            if not self.bot_may_manage_threads:
                return _error(403, 50013, "Missing Permissions")
            thread["applied_tags"] = tags
        asyncio.get_running_loop().create_task(self.dispatch("THREAD_UPDATE", dict(thread)))
        return _json(thread)

    # --- REST ---------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                body = json.loads(raw) if request.content_type == "application/json" else raw
        rec = Recorded(request.method, path, dict(request.query), body)
        self.requests.append(rec)
        response = self._route(request, path, body)
        rec.status = response.status
        await self._notify()
        return response

    def _route(self, request: web.Request, path: str, body: Any) -> web.Response:
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method == request.method
                and re.fullmatch(fault.path, path)
            ):
                fault.times -= 1
                return _json(fault.body, fault.status, fault.headers)
        method = request.method
        webhook = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/(@original|\d+))?", path)
        callback = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if (
            not (webhook or callback)
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            return _error(401, 0, "401: Unauthorized")
        if method == "GET" and path == "/users/@me":
            return _json(self.bot_user)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self.application())
        m = re.fullmatch(r"/applications/(\d+)(/guilds/(\d+))?/commands", path)
        if m and method == "PUT":
            return self._sync(m.group(3), body)
        if m and method == "GET":
            scope = f"guild:{m.group(3)}" if m.group(3) else "global"
            return _json(list(self.commands.get(scope, {}).values()))
        m = re.fullmatch(r"/channels/(\d+)", path)
        if m and method == "PATCH":
            return self._edit_thread(int(m.group(1)), body)
        m = re.fullmatch(r"/channels/(\d+)/messages", path)
        if m and method == "POST":
            return self._post_message(int(m.group(1)), body)
        if re.fullmatch(r"/channels/(\d+)/typing", path) and method == "POST":
            return web.Response(status=204)
        if callback and method == "POST":
            return self._callback(int(callback.group(1)), callback.group(2), body)
        if webhook:
            return self._webhook(method, webhook.group(2), webhook.group(4), body)
        return _error(404, 0, "404: Not Found")

    def application(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "citebot",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.admin,
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
        }

    def _sync(self, guild_id: str | None, body: list[dict[str, Any]]) -> web.Response:
        scope = f"guild:{guild_id}" if guild_id else "global"
        out = {}
        for cmd in body:
            stored = {
                **cmd,
                "id": str(snowflake()),
                "application_id": str(self.app_id),
                "version": str(snowflake()),
                "default_member_permissions": cmd.get("default_member_permissions"),
                "type": cmd.get("type", 1),
            }
            stored.setdefault("options", [])
            stored.setdefault("description", "")  # context-menu commands have an empty one
            if guild_id:
                stored["guild_id"] = guild_id
            out[cmd["name"]] = stored
        self.commands[scope] = out
        return _json(list(out.values()))

    def _check(self, body: dict[str, Any]) -> web.Response | None:
        if not (body.get("content") or body.get("embeds") or body.get("components")):
            return _error(400, 50006, "Cannot send an empty message")
        errors = message_errors(body)
        if errors:
            return _error(400, 50035, "Invalid Form Body", errors)
        return None

    def _bot_message(self, channel_id: int, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """The message the bot's request body creates, as Discord would return it."""
        return self.message_payload(
            channel_id,
            self.bot_user,
            body.get("content") or "",
            embeds=body.get("embeds"),
            components=body.get("components"),
            **extra,
        )

    def _post_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        known = (self.channel_id, self.thread_id, self.dm_channel_id)
        if channel_id not in known and channel_id not in self.threads:
            return _error(404, 10003, "Unknown Channel")
        bad = self._check(body)
        if bad:
            return bad
        msg = self._bot_message(channel_id, body, reference=body.get("message_reference"))
        self.messages[int(msg["id"])] = msg
        return _json(msg)

    def _callback(self, iid: int, token: str, body: dict[str, Any]) -> web.Response:
        it = self.interactions.get(iid)
        if it is None or it.token != token:
            return _error(404, 10062, "Unknown interaction")
        if time.monotonic() - it.created > self.first_response_deadline:
            return _error(404, 10062, "Unknown interaction")
        if it.responded:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        kind = body.get("type")
        data = body.get("data") or {}
        if kind == 4:
            bad = self._check(data)
            if bad:
                return bad
        it.responded = True
        channel_id = int(it.payload["channel_id"])
        flags = int(data.get("flags") or 0)
        message = None
        if kind in (4, 5):
            message = self._bot_message(channel_id, data, flags=flags | (128 if kind == 5 else 0))
            invoker = it.payload.get("user") or it.payload["member"]["user"]
            message["interaction_metadata"] = {
                "id": str(iid),
                "type": it.payload["type"],
                "user": invoker,
                "authorizing_integration_owners": it.payload["authorizing_integration_owners"],
            }
            it.original = message
        response: dict[str, Any] = {
            "interaction": {
                "id": str(iid),
                "type": it.payload["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
        }
        if message is not None:
            response["interaction"]["response_message_id"] = message["id"]
            response["resource"] = {"type": kind, "message": message}
        else:
            response["resource"] = {"type": kind}
        return _json(response)

    def _by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _webhook(
        self, method: str, token: str, which: str | None, body: dict[str, Any] | None
    ) -> web.Response:
        it = self._by_token(token)
        if it is None:
            return _error(404, 10015, "Unknown Webhook")
        if not it.responded:
            return _error(404, 10015, "Unknown Webhook")
        channel_id = int(it.payload["channel_id"])
        if which is None and method == "POST":
            assert body is not None
            bad = self._check(body)
            if bad:
                return bad
            msg = self._bot_message(channel_id, body, flags=int(body.get("flags") or 0))
            self.messages[int(msg["id"])] = msg
            return _json(msg)
        if which == "@original" and it.original is not None:
            if method == "GET":
                return _json(it.original)
            if method == "PATCH":
                assert body is not None
                merged = {**it.original, **{k: v for k, v in body.items() if v is not None}}
                bad = self._check(merged)
                if bad:
                    return bad
                it.original = merged
                return _json(merged)
        return _error(404, 10008, "Unknown Message")

    # --- what the bot sent --------------------------------------------------------------

    def replies(self, since: int = 0) -> list[Recorded]:
        """Every accepted request that put a message in front of a user."""
        return [r for r in self.requests[since:] if _is_send(r)]


_SENDS = (
    ("POST", re.compile(r"/channels/\d+/messages")),
    ("POST", re.compile(r"/webhooks/\d+/[^/]+")),
    ("PATCH", re.compile(r"/webhooks/\d+/[^/]+/messages/@original")),
)


def _is_send(r: Recorded) -> bool:
    if r.status >= 300 or not isinstance(r.body, dict):
        return False
    if r.path.endswith("/callback"):
        return r.body.get("type") == 4
    return any(r.method == method and rx.fullmatch(r.path) for method, rx in _SENDS)


def message_body(rec: Recorded) -> dict[str, Any]:
    """The message part of a recorded send (callbacks nest it under ``data``)."""
    if rec.path.endswith("/callback"):
        return rec.body.get("data") or {}
    return rec.body
