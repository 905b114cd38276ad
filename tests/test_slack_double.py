"""Self-tests of the Slack Web API double, driven by real slack_sdk clients."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack_double import BOT_USER_ID, TEAM_ID, SlackDouble, SlackUser

ANNA = SlackUser(id="U0ANNA", real_name="Anna Schmidt", display_name="anna", tz="Europe/Berlin")


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    with SlackDouble(users=[ANNA]) as double:
        yield double


@pytest.fixture
def client(slack: SlackDouble) -> WebClient:
    return WebClient(base_url=slack.base_url, token="xoxb-test")


def api_error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(exc.value.response["error"])


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(title: str = "Check-in", n_blocks: int = 1) -> dict[str, Any]:
    blocks = [section(f"block {i}") for i in range(n_blocks)]
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks}


def raw_post(url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode()
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


# -- auth -------------------------------------------------------------------------------
def test_auth_test_answers_fixed_identity(slack: SlackDouble, client: WebClient) -> None:
    resp = client.auth_test()
    assert (resp["user_id"], resp["team_id"], resp["bot_id"]) == (BOT_USER_ID, TEAM_ID, "B0BOT")
    assert slack.base_url.startswith("http://127.0.0.1:") and slack.base_url.endswith("/api/")
    assert slack.calls("auth.test")[0].headers["Authorization"] == "Bearer xoxb-test"


def test_missing_and_invalid_tokens_are_rejected(slack: SlackDouble) -> None:
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=slack.base_url).auth_test()
    assert api_error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as invalid:
        WebClient(base_url=slack.base_url, token="nope").auth_test()
    assert api_error(invalid) == "invalid_auth"
    assert [c.error for c in slack.calls()] == ["not_authed", "invalid_auth"]


def test_token_in_form_field_and_configured_tokens() -> None:
    with SlackDouble(valid_tokens={"xoxb-good"}) as slack:
        ok = raw_post(slack.base_url + "auth.test", {"token": "xoxb-good"})
        bad = raw_post(slack.base_url + "auth.test", {"token": "xoxb-other"})
    assert ok["ok"] is True and ok["user_id"] == BOT_USER_ID
    assert bad == {"ok": False, "error": "invalid_auth"}


def test_unknown_method_is_answered_and_recorded(slack: SlackDouble, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.frobnicate", json={"channel": "C1"})
    assert exc.value.response.status_code == 200
    assert api_error(exc) == "unknown_method"
    (call,) = slack.calls("chat.frobnicate")
    assert call.error == "unknown_method" and call.args == {"channel": "C1"} and not call.ok


# -- conversations / users --------------------------------------------------------------
def test_conversations_open_is_stable_per_user(slack: SlackDouble, client: WebClient) -> None:
    first = client.conversations_open(users="U0ANNA")
    again = client.conversations_open(users="U0ANNA")
    other = client.conversations_open(users="U0BERT")
    assert first["channel"]["id"] == again["channel"]["id"] == slack.dm_channel_for("U0ANNA")
    assert (
        first["channel"]["id"].startswith("D") and other["channel"]["id"] != first["channel"]["id"]
    )
    assert again["already_open"] is True
    info = client.conversations_info(channel=first["channel"]["id"])
    assert info["channel"]["is_im"] is True and info["channel"]["user"] == "U0ANNA"


def test_conversations_info_channels(slack: SlackDouble, client: WebClient) -> None:
    slack.add_channel("C0GENERAL", "general")
    assert client.conversations_info(channel="C0GENERAL")["channel"]["name"] == "general"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_info(channel="C0NOPE")
    assert api_error(exc) == "channel_not_found"


def test_users_info_directory(client: WebClient) -> None:
    user = client.users_info(user="U0ANNA", include_locale=True)["user"]
    assert user["real_name"] == "Anna Schmidt" and user["profile"]["display_name"] == "anna"
    assert user["tz"] == "Europe/Berlin" and user["tz_offset"] in (3600, 7200)
    assert user["locale"] == "de-DE"
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U0GHOST")
    assert api_error(exc) == "user_not_found"


async def test_async_client_get_requests(slack: SlackDouble) -> None:
    client = AsyncWebClient(base_url=slack.base_url, token="xoxb-test")
    resp = await client.users_info(user="U0ANNA")  # aiohttp sends GET with a query string
    assert resp["user"]["id"] == "U0ANNA"
    posted = await client.chat_postMessage(channel="C1", text="async")
    assert slack.messages("C1")[0].ts == posted["ts"]


# -- chat.* -------------------------------------------------------------------------------
def test_post_message_shape_and_increasing_ts(slack: SlackDouble, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="hallo", thread_ts="1.000001")
    second = client.chat_postMessage(channel="C1", text="fett", blocks=[section("*fett*")])
    assert first["channel"] == "C1" and float(second["ts"]) > float(first["ts"])
    assert first["message"]["text"] == "hallo" and first["message"]["user"] == BOT_USER_ID
    assert first["message"]["thread_ts"] == "1.000001"
    assert [m.ts for m in slack.messages("C1")] == [first["ts"], second["ts"]]
    assert slack.messages("C1")[1].blocks == [section("*fett*")]


def test_post_message_to_user_id_lands_in_dm(slack: SlackDouble, client: WebClient) -> None:
    resp = client.chat_postMessage(channel="U0ANNA", text="hi")
    assert resp["channel"] == slack.dm_channel_for("U0ANNA")
    assert [m.text for m in slack.messages(resp["channel"])] == ["hi"]


def test_concurrent_posts_get_unique_ts(slack: SlackDouble, client: WebClient) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: client.chat_postMessage(channel="C1", text=str(i)), range(40))
        )
    stamps = [r["ts"] for r in results]
    assert len(set(stamps)) == 40 and len(slack.messages("C1")) == 40


def test_form_encoded_blocks_are_decoded(slack: SlackDouble) -> None:
    blocks = json.dumps([section("x")])
    resp = raw_post(
        slack.base_url + "chat.postMessage", {"token": "xoxb-t", "channel": "C1", "blocks": blocks}
    )
    assert resp["ok"] is True and resp["message"]["blocks"] == [section("x")]
    broken = raw_post(
        slack.base_url + "chat.postMessage", {"token": "xoxb-t", "channel": "C1", "blocks": "[{"}
    )
    assert broken["error"] == "invalid_blocks_format"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "no channel"}, "invalid_arguments"),
        ({"channel": "C1"}, "invalid_arguments"),
        ({"channel": "C1", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "C1", "blocks": [section("b")] * 51}, "invalid_blocks"),
        ({"channel": "C1", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
        (
            {
                "channel": "C1",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "channel": "C1",
                "blocks": [
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "b"},
                                "action_id": f"a{i}",
                            }
                            for i in range(26)
                        ],
                    }
                ],
            },
            "invalid_blocks",
        ),
        ({"channel": "#general", "text": "names are not ids"}, "channel_not_found"),
    ],
)
def test_post_message_validation(
    slack: SlackDouble, client: WebClient, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json=kwargs)
    assert api_error(exc) == error
    assert slack.messages() == [] and slack.calls("chat.postMessage")[0].error == error


def test_limits_at_the_boundary_are_accepted(client: WebClient) -> None:
    resp = client.chat_postMessage(
        channel="C1", text="x" * 40_000, blocks=[section("y" * 3000)] * 50
    )
    assert resp["ok"] is True


def test_update_and_delete_change_state(slack: SlackDouble, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2")
    assert updated["text"] == "v2" and updated["ts"] == ts
    (msg,) = slack.messages("C1")
    assert (msg.text, msg.edits) == ("v2", 1)
    assert client.chat_delete(channel="C1", ts=ts)["ts"] == ts
    assert slack.messages("C1") == [] and slack.messages("C1", include_deleted=True)[0].deleted
    for method, args in (
        ("chat.update", {"channel": "C1", "ts": ts, "text": "v3"}),
        ("chat.delete", {"channel": "C1", "ts": ts}),
        ("chat.update", {"channel": "C1", "ts": "9.000000", "text": "x"}),
    ):
        with pytest.raises(SlackApiError) as exc:
            client.api_call(method, json=args)
        assert api_error(exc) == "message_not_found"
    with pytest.raises(SlackApiError) as missing:
        client.api_call("chat.update", json={"channel": "C1", "text": "no ts"})
    assert api_error(missing) == "invalid_arguments"


def test_post_ephemeral(slack: SlackDouble, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U0ANNA", text="nur für dich")
    assert resp["message_ts"] and slack.ephemerals("U0ANNA")[0]["text"] == "nur für dich"
    assert slack.messages() == []
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postEphemeral", json={"channel": "C1", "text": "no user"})
    assert api_error(exc) == "invalid_arguments"


# -- views.* ------------------------------------------------------------------------------
def test_views_open_push_update(slack: SlackDouble, client: WebClient) -> None:
    opened = client.views_open(trigger_id="t1", view=modal())["view"]
    assert opened["id"].startswith("V") and opened["root_view_id"] == opened["id"]
    pushed = client.views_push(trigger_id="t2", view=modal("Step 2"))["view"]
    assert pushed["id"] != opened["id"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Neu"))
    assert updated["view"]["title"]["text"] == "Neu" and updated["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as stale_hash:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    assert api_error(stale_hash) == "hash_conflict"
    with pytest.raises(SlackApiError) as unknown:
        client.views_update(view_id="V0NOPE", view=modal())
    assert api_error(unknown) == "not_found"
    assert len(slack.views()) == 2


def test_views_validation(client: WebClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"view": modal()}, "invalid_arguments"),  # no trigger_id
        ({"trigger_id": "t1"}, "invalid_arguments"),  # no view
        ({"trigger_id": "t2", "view": modal(n_blocks=101)}, "invalid_blocks"),
        ({"trigger_id": "t3", "view": modal("x" * 25)}, "invalid_arguments"),
    ]
    for args, error in cases:
        with pytest.raises(SlackApiError) as exc:
            client.api_call("views.open", json=args)
        assert api_error(exc) == error, args
    assert client.views_open(trigger_id="t4", view=modal(n_blocks=100))["ok"]
    with pytest.raises(SlackApiError) as reused:
        client.views_open(trigger_id="t4", view=modal())
    assert api_error(reused) == "exchanged_trigger_id"


def test_views_publish_home(slack: SlackDouble, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("Willkommen")]}
    first = client.views_publish(user_id="U0ANNA", view=home)["view"]
    second = client.views_publish(user_id="U0ANNA", view=home)["view"]
    assert first["id"] == second["id"] and slack.home_view("U0ANNA") == second
    with pytest.raises(SlackApiError) as exc:
        client.api_call("views.publish", json={"view": home})
    assert api_error(exc) == "invalid_arguments"


# -- files --------------------------------------------------------------------------------
def test_files_upload_v2_end_to_end(slack: SlackDouble, client: WebClient) -> None:
    resp = client.files_upload_v2(
        channel="C1",
        content=b"a,b\n1,2\n",
        filename="report.csv",
        title="Report",
        initial_comment="Hier der Bericht",
    )
    assert resp["file"]["title"] == "Report" and resp["file"]["size"] == 8
    assert [c.method for c in slack.calls()] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    (uploaded,) = slack.files()
    assert uploaded.content == b"a,b\n1,2\n" and uploaded.channel == "C1" and uploaded.completed
    (msg,) = slack.messages("C1")
    assert msg.text == "Hier der Bericht" and msg.files[0]["id"] == uploaded.id


def test_complete_upload_without_upload_fails(client: WebClient) -> None:
    url = client.files_getUploadURLExternal(filename="x.txt", length=3)
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "x"}])
    assert api_error(exc) == "file_not_found"


# -- faults and rate limits ---------------------------------------------------------------
def test_ratelimited_then_retried(slack: SlackDouble) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    plain = WebClient(base_url=slack.base_url, token="xoxb-test")
    with pytest.raises(SlackApiError) as exc:
        plain.chat_postMessage(channel="C1", text="x")
    assert (
        exc.value.response.status_code == 429 and exc.value.response.headers["Retry-After"] == "0"
    )
    assert api_error(exc) == "ratelimited"
    slack.fail_next("chat.postMessage", status=429, retry_after=0, count=2)
    retrying = WebClient(
        base_url=slack.base_url,
        token="xoxb-test",
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    assert retrying.chat_postMessage(channel="C1", text="finally")["ok"]
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 429, 429, 200]
    assert [m.text for m in slack.messages("C1")] == ["finally"]


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_then_retried(slack: SlackDouble, status: int) -> None:
    slack.fail_next("chat.update", status=status)
    slack.fail_next("auth.test", status=status)
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=slack.base_url, token="xoxb-test").auth_test()
    assert exc.value.response.status_code == status
    retrying = WebClient(
        base_url=slack.base_url,
        token="xoxb-test",
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)],
    )
    ts = retrying.chat_postMessage(channel="C1", text="a")["ts"]
    assert retrying.chat_update(channel="C1", ts=ts, text="b")["ok"]
    assert [c.status for c in slack.calls("chat.update")] == [status, 200]


def test_enforced_rate_limits_token_buckets() -> None:
    now = [1000.0]
    with SlackDouble(clock=lambda: now[0]) as slack:
        slack.enforce_rate_limits(
            per_channel_per_sec=1.0, burst=3, per_workspace_per_min=6, workspace_burst=5
        )
        client = WebClient(base_url=slack.base_url, token="xoxb-test")
        for _ in range(3):
            client.chat_postMessage(channel="C1", text="ok")
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel="C1", text="too fast")
        assert exc.value.response.status_code == 429
        assert exc.value.response.headers["Retry-After"] == "1"
        now[0] += 1.0
        client.chat_postMessage(channel="C1", text="refilled")
        client.chat_postMessage(channel="C2", text="own bucket")  # 5th: workspace now empty
        with pytest.raises(SlackApiError) as ws:
            client.chat_postMessage(channel="C3", text="workspace exhausted")
        assert ws.value.response.headers["Retry-After"] == "9"  # 0.1 token/s, 0.1 refilled
        assert len(slack.messages()) == 5


# -- socket mode & housekeeping ----------------------------------------------------------
def test_socket_mode_roundtrip(slack: SlackDouble) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=slack.base_url, token="xoxb-test").apps_connections_open(
            app_token="xoxb-test"
        )
    assert api_error(exc) == "not_allowed_token_type"
    received: list[SocketModeRequest] = []
    got = threading.Event()

    def listener(client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        received.append(req)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        got.set()

    sm = SocketModeClient(
        app_token="xapp-test",
        auto_reconnect_enabled=False,
        web_client=WebClient(base_url=slack.base_url, token="xoxb-test"),
    )
    sm.socket_mode_request_listeners.append(listener)
    try:
        sm.connect()
        slack.socket_mode.wait_for_connection()
        event = {"type": "event_callback", "event": {"type": "app_mention", "text": "hi"}}
        envelope_id = slack.socket_mode.send("events_api", event)
        assert slack.socket_mode.wait_for_ack(envelope_id)["envelope_id"] == envelope_id
        assert got.wait(5) and received[0].payload == event and received[0].type == "events_api"
    finally:
        sm.close()


def test_reset_forgets_everything_but_users(slack: SlackDouble, client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="x")
    slack.fail_next("auth.test")
    slack.reset()
    assert slack.calls() == [] and slack.messages() == []
    assert client.auth_test()["ok"] and client.users_info(user="U0ANNA")["ok"]
