"""The Messenger port on Slack: chat.postMessage/postEphemeral/update/delete, DMs, files.

Rate limits: every chat.postMessage to a channel waits until the previous one to that channel
is ``pace`` seconds old (Slack allows about one message per second per channel), and the
WebClient retries 429 answers after ``Retry-After`` (RateLimitErrorRetryHandler), 5xx answers
and connection errors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Message
from handlers.slack.render import escape, render_one, render_pages

log = logging.getLogger(__name__)

PLATFORM = "slack"
DEFAULT_PACE = 1.1  # a little over 1 s: network jitter must not make two posts look closer


def make_client(
    token: str, base_url: str | None = None, *, rate_limit_retries: int = 3
) -> WebClient:
    """A WebClient that honours Retry-After on 429 and retries 5xx / connection errors."""
    handlers = [
        RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ServerErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
    ]
    if base_url:
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        return WebClient(token=token, base_url=base_url, retry_handlers=handlers)
    return WebClient(token=token, retry_handlers=handlers)


class ChannelPacer:
    """At most one message per ``interval`` seconds per channel, across threads."""

    def __init__(
        self,
        interval: float = DEFAULT_PACE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> float:
        """Reserve the next slot of ``channel`` and sleep until it; returns the wait."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
            if len(self._next) > 10_000:  # forget channels that are quiet anyway
                self._next = {c: t for c, t in self._next.items() if t > now}
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


class SlackMessenger:
    platform = PLATFORM
    #: The outbox may call this Messenger from this many threads at once (one channel each):
    #: WebClient calls are independent, the pacer and the DM cache are locked.
    concurrent_sends = 4

    def __init__(self, client: WebClient, pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.pacer = pacer or ChannelPacer()
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- Messenger port -------------------------------------------------------------------
    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        thread_ts = (thread.thread_id or thread.message_id) if thread else None
        first: MessageRef | None = None
        for page in render_pages(message):
            self.pacer.wait(channel_id)
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
