"""Bolt listeners: slash command, buttons, modal submissions, DM messages, App Home.

The Home tab shows the overview (``ueberblick``) and is refreshed after each request, debounced
(see :mod:`handlers.slack.home`).

The app runs with ``process_before_response=True``: the HTTP answer leaves when the listener
returns, without bolt's 10 ms ack polling. A slash command or a button click (a vote, a
confirmation) is committed to the database *before* the ack — a command Slack saw acknowledged
is never lost, even if the instance dies right after — and only the delivery of the answers
runs in a small thread pool. A slash command that needs longer than ``ACK_BUDGET`` (2 s) is
acked then and answers when it is done. Events (DM messages, mentions) ack at once; their
work runs in the pool (their retries are deduplicated in the database). Modal submissions
answer inside the ack (per-field errors must travel in it); the dispatcher needs
milliseconds, well inside Slack's 3 seconds.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.actions import InvalidAction, decode
from bot.context import AttachmentSource, Reply
from bot.i18n import translator
from bot.identity import Identity
from bot.runtime import ChatRuntime
from bot.views import Form, Message
from handlers.slack.delivery import FORM_EXPIRED, Deliverer, Origin
from handlers.slack.files import SlackFiles
from handlers.slack.forms import (
    FORM_CALLBACK,
    FORM_KEY,
    dump_form,
    form_modal,
    load_form,
    result_modal,
    submitted_values,
    validate,
)
from handlers.slack.home import HomeTab
from handlers.slack.messenger import PLATFORM, SlackMessenger
from handlers.slack.render import ACTION_PREFIX, LEGACY_PREFIX

log = logging.getLogger(__name__)

COMMAND = "/stadtlabor"
ACK_BUDGET = 2.0  # seconds a slash command may run before the ack (Slack allows 3)
EVENT_KEY = "slack:event:{event_id}"
_BUTTON = re.compile(rf"^(?:{re.escape(ACTION_PREFIX)}[a-z]+:|{re.escape(LEGACY_PREFIX)})\d+$")
_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*")


def unescape(text: str) -> str:
    """Slack sends &, <, > escaped in message and command text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class SlackListeners:
    def __init__(
        self,
        bot: ChatRuntime,
        messenger: SlackMessenger,
        after_request: Callable[[], None] = lambda: None,
    ) -> None:
        self.bot = bot
        self.messenger = messenger
        self.after_request = after_request
        self.deliverer = Deliverer(messenger, self.language_of, self._remember_form)
        self._names: dict[str, tuple[str | None, str | None]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-work")
        self.home = HomeTab(bot, messenger.client, self.background)
        self.files = SlackFiles(messenger.client)

    def close(self) -> None:
        self.home.close()
        self._pool.shutdown(wait=True)

    def background(self, work: Callable[[], None]) -> None:
        """Run ``work`` after the ack; failures are logged, never lost silently."""

        def guarded() -> None:
            try:
                work()
            except Exception:
                log.exception("Slack background work failed")

        self._pool.submit(guarded)

    def register(self, app: App) -> None:
        app.command(COMMAND)(self.on_command)
        app.action(_BUTTON)(self.on_button)
        app.view(FORM_CALLBACK)(self.on_form_submit)
        app.view_closed(FORM_CALLBACK)(self.on_form_closed)
        app.event("message")(self.on_message)
        app.event("app_mention")(self.on_mention)
        app.event("app_home_opened")(self.on_home_opened)

    # -- listeners ------------------------------------------------------------------------
    def on_command(self, ack: Ack, command: dict[str, Any], respond: Any) -> None:
        channel = str(command.get("channel_id") or "") or None
        origin = Origin(
            user_id=str(command["user_id"]),
            channel_id=channel,
            is_direct=bool(channel and channel.startswith("D")),
            trigger_id=command.get("trigger_id"),
            respond=respond if command.get("response_url") else None,
        )
        # The prefix marks the line as a command: it never answers an open DM dialog.
        text = f"{COMMAND} {unescape(str(command.get('text') or ''))}"
        # Durable before the ack, like a click: an instance that dies after Slack heard "ok"
        # has already committed the command; only the delivery of its answer runs later.
        # Slack wants the ack within 3 s: a command that takes longer (a feedback round with
        # DM prompts to hundreds of people) is acked at the budget and answers when done.
        upload = self.files.last_upload(origin.user_id, channel)  # fetched only by an import
        done = self._pool.submit(self._handle, origin, text, command.get("user_name"), upload)
        try:
            replies = done.result(timeout=ACK_BUDGET)
        except FutureTimeout:
            ack()
            done.add_done_callback(
                lambda f: self.background(lambda: self._deliver(f.result(), origin))
            )
            return
        ack()
        self.background(lambda: self._deliver(replies, origin))

    def on_button(
        self, ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Any
    ) -> None:
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        origin = Origin(
            user_id=str(body["user"]["id"]),
            channel_id=channel,
            is_direct=channel is None or str(channel).startswith("D"),
            trigger_id=body.get("trigger_id"),
            respond=respond if body.get("response_url") else None,
        )
        try:
            typed = decode(str(action.get("value") or ""))
        except InvalidAction as exc:  # garbled, forged or outdated: nothing is done
            refused = exc
            ack()
            self.background(lambda: self._refuse(refused, origin))
            return
        # Durable before the ack: the click's effect is committed, then Slack hears "ok".
        request = origin.request("", handle=body["user"].get("username"))
        replies = self.bot.dispatcher.handle_action(request, typed)
        ack()
        self.background(lambda: self._deliver(replies, origin))

    def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        subtype = event.get("subtype")
        if event.get("channel_type") != "im" or subtype not in (None, "file_share"):
            return
        if event.get("bot_id"):
            return
        if not event.get("user") or not self.first_delivery(body.get("event_id")):
            return
        origin = Origin(
            user_id=str(event["user"]),
            channel_id=str(event["channel"]),
            is_direct=True,
            in_bot_dm=True,
        )
        text = unescape(str(event.get("text") or ""))
        if subtype == "file_share" and not text.strip():
            return  # an upload without words: kept for a command typed within the window
        upload = self._upload(event, origin)
        self.background(lambda: self._run(origin, text, upload=upload))

    def on_mention(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("bot_id") or not event.get("user"):
            return
        if not self.first_delivery(body.get("event_id")):
            return
        channel = str(event["channel"])
        origin = Origin(
            user_id=str(event["user"]),
            channel_id=channel,
            is_direct=channel.startswith("D"),
            thread_ts=event.get("thread_ts"),
        )
        text = _MENTION.sub("", unescape(str(event.get("text") or "")), count=1)
        upload = self._upload(event, origin)
        self.background(lambda: self._run(origin, f"{COMMAND} {text}", upload=upload))

    def on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        self.home.opened(str(event["user"]))

    def on_form_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str(body["user"]["id"])
        meta = _metadata(view.get("private_metadata"))
        channel = meta.get("channel") or None
        origin = Origin(
            user_id=user_id,
            channel_id=channel,
            is_direct=channel is None or channel.startswith("D"),
            thread_ts=meta.get("thread") or None,
            trigger_id=body.get("trigger_id"),
        )
        language = self.language_of(user_id)
        raw = submitted_values(view.get("state", {}).get("values", {}))
        keys = [k for k in (meta.get("form_key"), FORM_KEY.format(view_id=view.get("id", ""))) if k]
        stored = next(filter(None, map(self._get_state, keys)), None)
        if not stored:  # never unchecked answers: the form defines what is valid
            expired = Message.text(FORM_EXPIRED.get(language, FORM_EXPIRED["de"]))
            ack(response_action="update", view=result_modal(expired, language))
            return
        form = load_form(stored)
        values, errors = validate(form, raw, translator(language))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        request = origin.request("", handle=body["user"].get("username"))
        self._forget_forms(keys)  # submitted: what it was filled with is not kept
        replies = self.bot.dispatcher.submit_form(request, form.form_id, values, form.context)
        self._answer_submission(ack, view, replies, origin, language)
        self.after_request()
        self.home.after_request(user_id)

    def on_form_closed(self, ack: Ack, view: dict[str, Any]) -> None:
        """Cancelled: the stored form (with the name and e-mail it was filled with) goes."""
        ack()
        meta = _metadata(view.get("private_metadata"))
        keys = [meta.get("form_key"), FORM_KEY.format(view_id=view.get("id", ""))]
        self._forget_forms([k for k in keys if k])

    # -- helpers --------------------------------------------------------------------------
    def _answer_submission(
        self, ack: Ack, view: dict[str, Any], replies: list[Reply], origin: Origin, language: str
    ) -> None:
        """The first form or private message replaces the modal; the rest goes to Slack."""
        for i, reply in enumerate(replies):
            if reply.form is not None:
                metadata = {"form_id": reply.form.form_id, "channel": origin.channel_id or ""}
                self._remember_form(FORM_KEY.format(view_id=view["id"]), reply.form, origin.user_id)
                ack(response_action="update", view=form_modal(reply.form, metadata, language))
                self.deliverer.deliver([Reply(reply.message, reply.private)], origin)
                self.deliverer.deliver(replies[i + 1 :], origin)
                return
            if reply.private and reply.message is not None:
                ack(response_action="update", view=result_modal(reply.message, language))
                self.deliverer.deliver(replies[:i] + replies[i + 1 :], origin)
                return
        ack()
        self.deliverer.deliver(replies, origin)

    def _refuse(self, exc: InvalidAction, origin: Origin) -> None:
        text = exc.render(translator(self.language_of(origin.user_id)))
        self.deliverer.deliver([Reply(Message.text(text))], origin)

    def _run(self, origin: Origin, text: str, *, upload: AttachmentSource | None = None) -> None:
        self._deliver(self._handle(origin, text, None, upload), origin)

    def _upload(self, event: dict[str, Any], origin: Origin) -> AttachmentSource:
        """The file sent with the message, else the caller's last upload in the channel."""
        return self.files.sent_with(event) or self.files.last_upload(
            origin.user_id, origin.channel_id
        )

    def _handle(
        self,
        origin: Origin,
        text: str,
        handle: str | None = None,
        upload: AttachmentSource | None = None,
    ) -> list[Reply]:
        display_name, slack_handle = self.profile(origin.user_id)  # users.info once per person
        request = origin.request(text, display_name=display_name, handle=slack_handle or handle)
        if upload is not None:
            request = replace(request, attachment=upload)
        return self.bot.dispatcher.handle(request)

    def _deliver(self, replies: list[Reply], origin: Origin) -> None:
        self.deliverer.deliver(replies, origin)
        self.after_request()
        self.home.after_request(origin.user_id)

    def profile(self, user_id: str) -> tuple[str | None, str | None]:
        """Real name and handle from users.info, asked once per user and process."""
        with self._lock:
            if user_id in self._names:
                return self._names[user_id]
        found: tuple[str | None, str | None] = (None, None)
        try:
            user = self.messenger.client.users_info(user=user_id)["user"]
            profile = user.get("profile") or {}
            name = user.get("real_name") or profile.get("real_name") or None
            found = (name, profile.get("display_name") or user.get("name") or None)
        except SlackApiError as exc:
            log.info("users.info %s failed: %s", user_id, exc.response["error"])
        with self._lock:
            self._names[user_id] = found
        return found

    def language_of(self, user_id: str) -> str:
        with self.bot.uow_factory() as uow:
            person = uow.persons.get_by_identity(PLATFORM, user_id)
            return (person.language if person else None) or self.bot.settings.language

    def first_delivery(self, event_id: str | None) -> bool:
        """True once per event_id: Slack's retries (X-Slack-Retry-Num) are dropped.

        The seen ids live in the database, so a retry reaching another instance (or this one
        after a restart) is dropped as well; a concurrent duplicate loses on the primary key.
        """
        if not event_id:
            return True
        key = EVENT_KEY.format(event_id=event_id)
        try:
            with self.bot.uow_factory() as uow:
                if uow.state.get(key) is not None:
                    return False
                uow.state.put(key, self.bot.clock.now().isoformat())
                uow.commit()
        except IntegrityError:
            return False
        return True

    def _get_state(self, key: str) -> str | None:
        with self.bot.uow_factory() as uow:
            return uow.state.get(key)

    def _remember_form(self, key: str, form: Form, user_id: str) -> None:
        owner = str(Identity(PLATFORM, user_id))
        self._put_state(key, dump_form(form, owner, self.bot.clock.now()))

    def _forget_forms(self, keys: list[str]) -> None:
        with self.bot.uow_factory() as uow:
            for key in keys:
                uow.state.delete(key)
            uow.commit()

    def _put_state(self, key: str, value: str) -> None:
        with self.bot.uow_factory() as uow:
            uow.state.put(key, value)
            uow.commit()


def _metadata(raw: Any) -> dict[str, str]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
