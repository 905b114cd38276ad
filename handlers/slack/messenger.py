"""The Messenger port on Slack: chat.postMessage/postEphemeral/update/delete, DMs, files.

Rate limits: one limiter, the outbox's (:mod:`bot.outbox.pacing`): this Messenger declares its
pace (``pace_seconds``, Slack allows about one message per second per channel) and lets a 429
surface as ``SlackApiError`` — the outbox reads its ``Retry-After``, puts the row back with
``not_before`` and holds the channel. Nothing here sleeps. The WebClient retries 5xx answers
and connection errors; a 429 only when built with ``rate_limit_retries`` (the direct answers'
client: one bounded retry, see :class:`handlers.slack.runner.SlackRuntime`).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Message
from handlers.slack.render import escape, render_one, render_pages

log = logging.getLogger(__name__)

PLATFORM = "slack"
DEFAULT_PACE = 1.1  # a little over 1 s: network jitter must not make two posts look closer


def make_client(
    token: str, base_url: str | None = None, *, rate_limit_retries: int = 0
) -> WebClient:
    """A WebClient that retries 5xx answers and connection errors, and a 429 after its
    Retry-After only ``rate_limit_retries`` times (none by default: the outbox's client)."""
    handlers: list[RetryHandler] = [
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]
    if rate_limit_retries > 0:
        handlers.insert(0, RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    if base_url:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        return WebClient(token=token, base_url=base_url, retry_handlers=handlers)
    return WebClient(token=token, retry_handlers=handlers)


class SlackMessenger:
    platform = PLATFORM
    #: The outbox may call this Messenger from this many threads at once (one channel each):
    #: WebClient calls are independent, the DM cache is locked.
    concurrent_sends = 4

    def __init__(self, client: WebClient, *, pace: float = DEFAULT_PACE) -> None:
        self.client = client
        self.pace_seconds = pace  # the outbox's pacing per channel (bot.outbox.pacing)
        self._dm_channels: dict[str, str] = {}
        self._groups: dict[str, str] = {}  # outbox key -> group DM opened for it
        self._lock = threading.Lock()

    def sibling(self, client: WebClient, *, pace: float = DEFAULT_PACE) -> SlackMessenger:
        """The same workspace through another WebClient (other retry rules), sharing the
        cache of DM channels."""
        other = SlackMessenger(client, pace=pace)
        other._dm_channels, other._lock = self._dm_channels, self._lock
        other._groups = self._groups
        return other

    # -- Messenger port -------------------------------------------------------------------
    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        thread_ts = (thread.thread_id or thread.message_id) if thread else None
        first: MessageRef | None = None
        for page in render_pages(message):  # (a long message's pages go out as a burst)
            args: dict[str, Any] = {"channel": channel_id, "text": page.text}
            if page.blocks:
                args["blocks"] = page.blocks
            if thread_ts:
                args["thread_ts"] = thread_ts
            resp = self.client.chat_postMessage(**args)
            if first is None:
                first = MessageRef(PLATFORM, str(resp["channel"]), str(resp["ts"]), thread_ts)
        assert first is not None
        return first

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        """Post to the user's DM with the bot. The first DM to a user goes to the user id
        (Slack posts it into the bot's DM) and remembers the DM channel from the answer, so a
        fan-out costs no conversations.open (a Tier 3 method, ~50 calls per minute)."""
        user_id = user.external_id
        with self._lock:
            known = self._dm_channels.get(user_id)
        ref = self.post(known or user_id, message)
        if known is None and ref.channel_id.startswith("D"):
            with self._lock:
                self._remember_dm(user_id, ref.channel_id)
        return ref

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        """Ephemeral in ``channel_id``; a DM when there is no channel or Slack refuses it
        (the bot is not in the channel, or it is a DM between other people)."""
        if channel_id is None:
            self.send_dm(user, message)
            return
        try:
            self.ephemeral(user.external_id, channel_id, message)
        except SlackApiError as exc:
            log.info(
                "ephemeral in %s refused (%s); sending a DM", channel_id, exc.response["error"]
            )
            self.send_dm(user, message)

    def ephemeral(self, user_id: str, channel_id: str, message: Message) -> None:
        """chat.postEphemeral; raises SlackApiError when Slack refuses."""
        for page in render_pages(message):
            args: dict[str, Any] = {"channel": channel_id, "user": user_id, "text": page.text}
            if page.blocks:
                args["blocks"] = page.blocks
            self.client.chat_postEphemeral(**args)

    def update(self, ref: MessageRef, message: Message) -> None:
        page = render_one(message)
        self.client.chat_update(
            channel=ref.channel_id, ts=ref.message_id, text=page.text, blocks=page.blocks
        )

    def delete(self, ref: MessageRef) -> None:
        if ref.message_id.startswith("F"):  # a file (send_file's ref): its share goes with it
            self.client.files_delete(file=ref.message_id)
            return
        self.client.chat_delete(channel=ref.channel_id, ts=ref.message_id)

    def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        channel = self.dm_channel(user.external_id)
        comment_text = escape(comment.plain_text()[:3000]) if comment else None
        resp = self.client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=filename,
            initial_comment=comment_text,
        )
        file_id = str((resp.get("file") or {}).get("id", ""))
        return MessageRef(PLATFORM, channel, file_id)

    def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        """A group DM of the bot with ``users`` (conversations.open, scope ``mpim:write``),
        opened once per outbox ``key``: a retry after a failed post reuses it (Slack would
        return the same group DM anyway, but conversations.open is a Tier 3 method)."""
        with self._lock:
            channel = self._groups.get(key)
        if channel is None:
            ids = ",".join(u.external_id for u in users)
            channel = str(self.client.conversations_open(users=ids)["channel"]["id"])
            with self._lock:
                if len(self._groups) >= 10_000:
                    self._groups.clear()
                self._groups[key] = channel
        ref = self.post(channel, message)
        with self._lock:
            self._groups.pop(key, None)  # delivered: the outbox row is done
        return ref

    # -- helpers --------------------------------------------------------------------------
    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel with ``user_id`` (conversations.open once, then cached)."""
        with self._lock:
            known = self._dm_channels.get(user_id)
        if known:
            return known
        channel = str(self.client.conversations_open(users=user_id)["channel"]["id"])
        with self._lock:
            self._remember_dm(user_id, channel)
        return channel

    def _remember_dm(self, user_id: str, channel: str) -> None:
        if len(self._dm_channels) >= 50_000:  # a bounded cache: forget the oldest half
            for old in list(self._dm_channels)[:25_000]:
                del self._dm_channels[old]
        self._dm_channels[user_id] = channel
