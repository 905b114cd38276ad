"""The App Home tab: the person's overview (``ueberblick``), published and kept fresh.

* ``app_home_opened`` publishes at once (``views.publish``).
* After every request a user makes (command, button, DM, modal) their Home is refreshed, and
  so is the Home of every organiser who has opened theirs in this process (the dashboard
  counts registrations, votes and answers). Refreshes are debounced per user: the first
  request schedules one publish ``delay`` seconds later (organisers: ``organiser_delay``);
  further requests in that window join it, and the publish reads the state of that moment.
  So a burst of 500 votes costs each organiser one ``views.publish`` per window, not 500.
* Bounded: one timer per user at most; nothing is queued beyond that. Refreshes are a
  convenience — a failed publish is logged and the next request or opening tries again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Conversation, Request
from bot.identity import Identity
from handlers.slack.messenger import PLATFORM
from handlers.slack.render import home_view

if TYPE_CHECKING:
    from app import Bot

log = logging.getLogger(__name__)

HOME_COMMAND = "/stadtlabor ueberblick"


class HomeTab:
    def __init__(
        self,
        bot: Bot,
        client: WebClient,
        submit: Callable[[Callable[[], None]], None],
        *,
        delay: float = 1.0,
        organiser_delay: float = 5.0,
    ) -> None:
        self.bot = bot
        self.client = client
        self.submit = submit
        self.delay = delay
        self.organiser_delay = organiser_delay
        self._lock = threading.Lock()
        self._timers: dict[str, threading.Timer] = {}
        self._organisers: set[str] = set()  # organisers whose Home was opened here
        self._closed = False

    def opened(self, user_id: str) -> None:
        self.submit(lambda: self.publish(user_id))

    def after_request(self, user_id: str) -> None:
        """Refresh the acting user's Home and the organisers' dashboards (debounced)."""
        self.refresh(user_id, self.delay)
        with self._lock:
            organisers = [o for o in self._organisers if o != user_id]
        for organiser in organisers:
            self.refresh(organiser, self.organiser_delay)

    def refresh(self, user_id: str, delay: float) -> None:
        with self._lock:
            if self._closed or user_id in self._timers:
                return
            timer = threading.Timer(delay, self._fire, args=(user_id,))
            timer.daemon = True
            self._timers[user_id] = timer
        timer.start()

    def _fire(self, user_id: str) -> None:
        with self._lock:
            self._timers.pop(user_id, None)
            if self._closed:
                return
        self.submit(lambda: self.publish(user_id))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers = list(self._timers.values())
            self._timers.clear()
        for timer in timers:
            timer.cancel()

    def publish(self, user_id: str) -> None:
        """Run ``ueberblick`` for ``user_id`` and publish it as their Home tab."""
        request = Request(
            identity=Identity(PLATFORM, user_id),
            conversation=Conversation(PLATFORM, None),
            text=HOME_COMMAND,
        )
        replies = self.bot.dispatcher.handle(request)
        message = next((r.message for r in replies if r.message is not None), None)
        if message is None:
            return
        self._remember_role(user_id)
        try:
            self.client.views_publish(user_id=user_id, view=home_view(message))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response["error"])

    def _remember_role(self, user_id: str) -> None:
        with self.bot.uow_factory() as uow:
            person = uow.persons.get_by_identity(PLATFORM, user_id)
            organiser = person is not None and person.is_organiser
        with self._lock:
            if organiser:
                self._organisers.add(user_id)
            else:
                self._organisers.discard(user_id)
