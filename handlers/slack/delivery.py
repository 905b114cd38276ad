"""Deliver the dispatcher's replies on Slack: ephemeral, in the channel, in the DM, or a modal."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.context import Conversation, Reply, Request
from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Form, Message
from handlers.slack.forms import FORM_KEY, form_modal
from handlers.slack.messenger import PLATFORM, SlackMessenger
from handlers.slack.render import render_pages

log = logging.getLogger(__name__)

Respond = Callable[..., Any]
Language = Callable[[str], str]
RememberForm = Callable[[str, Form, str], None]  # key, form, Slack user id

FORM_EXPIRED = {
    "de": "Dieses Formular ist nicht mehr gültig. Bitte öffnen Sie es noch einmal.",
    "en": "This form is no longer valid. Please open it again.",
}
FORM_FAILED = {
    "de": "Das Formular konnte nicht geöffnet werden. Bitte versuchen Sie es noch einmal.",
    "en": "The form could not be opened. Please try again.",
}


@dataclass(frozen=True)
class Origin:
    """Where a Slack request came from, and what it allows for the answer."""

    user_id: str
    channel_id: str | None
    is_direct: bool = False
    trigger_id: str | None = None
    respond: Respond | None = None
    thread_ts: str | None = None
    # A message in the bot's DM: every answer is a normal message in that DM.
    in_bot_dm: bool = False

    @property
    def identity(self) -> Identity:
        return Identity(PLATFORM, self.user_id)

    def conversation(self) -> Conversation:
        return Conversation(PLATFORM, self.channel_id, self.is_direct, self.thread_ts)

    def request(
        self, text: str, *, display_name: str | None = None, handle: str | None = None
    ) -> Request:
        return Request(
            identity=self.identity,
            conversation=self.conversation(),
            text=text,
            display_name=display_name,
            handle=handle,
            can_open_forms=self.trigger_id is not None,
        )


class Deliverer:
    def __init__(
        self, messenger: SlackMessenger, language_of: Language, remember_form: RememberForm
    ) -> None:
        self.messenger = messenger
        self.language_of = language_of
        self.remember_form = remember_form

    def deliver(self, replies: list[Reply], origin: Origin) -> None:
        for reply in replies:
            try:
                self._one(reply, origin)
            except SlackApiError as exc:
                log.warning("reply to %s not delivered: %s", origin.user_id, exc.response["error"])

    def _one(self, reply: Reply, origin: Origin) -> None:
        if reply.form is not None:
            self.open_form(reply.form, origin)
        message = reply.message
        if message is None or not message.blocks:
            return
        if origin.in_bot_dm and origin.channel_id:
            thread = self._thread(origin)
            self.messenger.post(origin.channel_id, message, thread)
        elif reply.private or origin.channel_id is None:
            self.private(origin, message)
        else:
            self.messenger.post(origin.channel_id, message, self._thread(origin))

    @staticmethod
    def _thread(origin: Origin) -> MessageRef | None:
        if origin.thread_ts and origin.channel_id:
            return MessageRef(PLATFORM, origin.channel_id, origin.thread_ts, origin.thread_ts)
        return None

    def private(self, origin: Origin, message: Message) -> None:
        """Ephemeral where the user is; else through response_url; else a DM."""
        if origin.channel_id is not None:
            try:
                self.messenger.ephemeral(origin.user_id, origin.channel_id, message)
                return
            except SlackApiError as exc:
                log.info("ephemeral refused (%s), trying response_url", exc.response["error"])
            if origin.respond is not None and self._respond(origin.respond, message):
                return
        self.messenger.send_dm(origin.identity, message)

    @staticmethod
    def _respond(respond: Respond, message: Message) -> bool:
        try:
            for page in render_pages(message):
                respond(
                    text=page.text,
                    blocks=page.blocks,
                    response_type="ephemeral",
                    replace_original=False,
                )
        except Exception as exc:  # response_url expired or unreachable: fall back to a DM
            log.info("response_url failed: %s", exc)
            return False
        return True

    def open_form(self, form: Form, origin: Origin) -> None:
        language = self.language_of(origin.user_id)
        if origin.trigger_id is None:
            log.warning("form %s without trigger_id for %s", form.form_id, origin.user_id)
            return
        # Stored before the modal opens, under a key the modal carries: the submission may
        # reach another instance at once, and it must find the form to check the answers.
        key = FORM_KEY.format(view_id=f"open-{uuid.uuid4().hex}")
        self.remember_form(key, form, origin.user_id)
        metadata = {
            "form_id": form.form_id,
            "channel": origin.channel_id or "",
            "thread": origin.thread_ts or "",
            "form_key": key,
        }
        view = form_modal(form, metadata, language)
        try:
            self.messenger.client.views_open(trigger_id=origin.trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed for %s: %s", form.form_id, exc.response["error"])
            self.private(origin, Message.text(FORM_FAILED.get(language, FORM_FAILED["de"])))
