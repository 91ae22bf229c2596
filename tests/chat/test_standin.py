"""The stand-in must reject what Discord rejects, or the end-to-end tests prove nothing."""

from __future__ import annotations

import aiohttp

from tests.chat.standin import StandIn, message_errors


def test_message_limits() -> None:
    ok = {"content": "x" * 2000, "embeds": [{"title": "t" * 256, "description": "d" * 4096}]}
    assert message_errors(ok) == {}
    assert "content" in message_errors({"content": "x" * 2001})
    assert "description" in message_errors({"embeds": [{"description": "d" * 4097}]})["embeds"]["0"]
    assert "title" in message_errors({"embeds": [{"title": "t" * 257}]})["embeds"]["0"]
    fields = [{"name": "n", "value": "v"}] * 26
    assert "fields" in message_errors({"embeds": [{"fields": fields}]})["embeds"]["0"]
    long_value = [{"name": "n", "value": "v" * 1025}]
    assert message_errors({"embeds": [{"fields": long_value}]})
    empty_value = [{"name": "n", "value": ""}]
    assert message_errors({"embeds": [{"fields": empty_value}]})
    assert message_errors({"embeds": [{"footer": {"text": "f" * 2049}}]})
    total = {"description": "d" * 4096, "fields": [{"name": "n", "value": "v" * 1000}] * 2}
    assert "_errors" in message_errors({"embeds": [total]})["embeds"]["0"]


async def test_rest_rejects_bad_token_and_oversized_messages(standin: StandIn) -> None:
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{standin.api_base}/users/@me", headers={"Authorization": "Bot nope"})
        assert r.status == 401
        auth = {"Authorization": f"Bot {standin.token}"}
        url = f"{standin.api_base}/channels/{standin.channel_id}/messages"
        r = await http.post(url, json={"content": "x" * 2001}, headers=auth)
        assert r.status == 400 and (await r.json())["code"] == 50035
        assert r.headers["Content-Type"] == "application/json"
        r = await http.post(url, json={"content": "ok"}, headers=auth)
        assert r.status == 200
