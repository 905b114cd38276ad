"""The App Home tab: the person's overview (``ueberblick``), published and kept fresh.

* ``app_home_opened`` publishes at once (``views.publish``).
* After every request a user makes (command, button, DM, modal) their Home is marked for a
  refresh, and so is the Home of every organiser who has opened theirs in this process (the
  dashboard counts registrations, votes and answers). A refresh is due ``delay`` seconds after
  the first mark (organisers: ``organiser_delay``); further marks join it, and the publish
  reads the state of that moment. So a burst of 500 votes costs each organiser one
  ``views.publish`` per window, not 500.
* Off the request path and paced: one thread publishes the due refreshes, oldest first, at
  most ``per_minute`` a minute (Slack allows views.publish about 100 times a minute per
  workspace, Tier 4). A burst of clicks from many people is therefore not a burst of full
  overview renders competing with the requests; it drains at that pace behind them.
* Bounded: one pending refresh per user at most. Refreshes are a convenience — a failed
  publish is logged and the next request or opening tries again; pending ones are not kept
  across a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import Conversation, Request
from bot.identity import Identity
from bot.runtime import ChatRuntime
from bot.views import Message
from handlers.slack.messenger import PLATFORM
from handlers.slack.render import home_view

log = logging.getLogger(__name__)

HOME_COMMAND = "/stadtlabor ueberblick"


NEUTRAL = {
    "de": "Stadtlabor-Bot. Schreiben Sie „/stadtlabor hilfe“, um zu sehen, was er kann.",
    "en": "Stadtlabor bot. Type “/stadtlabor help” to see what it can do.",
}

PER_MINUTE = 90  # below Slack's Tier 4 limit for views.publish (100+ per minute)


class HomeTab:
    def __init__(
        self,
        bot: ChatRuntime,
        client: WebClient,
        submit: Callable[[Callable[[], None]], None],
        *,
        delay: float = 1.0,
        organiser_delay: float = 5.0,
        per_minute: float = PER_MINUTE,
    ) -> None:
        self.bot = bot
        self.client = client
        self.submit = submit
        self.delay = delay
        self.organiser_delay = organiser_delay
        self.per_minute = per_minute
        self._wake = threading.Condition()
        self._due: dict[str, float] = {}  # user → monotonic time their refresh is due
        self._organisers: set[str] = set()  # organisers whose Home was opened here
        self._closed = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def opened(self, user_id: str) -> None:
        self.submit(lambda: self.publish(user_id))

    def after_request(self, user_id: str) -> None:
        """Refresh the acting user's Home and the organisers' dashboards (debounced)."""
        self.refresh(user_id, self.delay)
        with self._wake:
            organisers = [o for o in self._organisers if o != user_id]
        for organiser in organisers:
            self.refresh(organiser, self.organiser_delay)

    def refresh(self, user_id: str, delay: float) -> None:
        with self._wake:
            if self._closed or user_id in self._due:
                return
            self._due[user_id] = time.monotonic() + delay
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="slack-home", daemon=True)
                self._thread.start()
            self._wake.notify()

    def idle(self) -> bool:
        """No refresh is waiting or running (for benchmarks and tests)."""
        with self._wake:
            return not self._due and not self._busy

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._due.clear()
            self._wake.notify()

    def _next(self) -> str | None:
        """Wait for the earliest due refresh; None once closed."""
        with self._wake:
            while True:
                if self._closed:
                    return None
                if self._due:
                    user_id = min(self._due, key=self._due.__getitem__)
                    wait = self._due[user_id] - time.monotonic()
                    if wait <= 0:
                        del self._due[user_id]
                        self._busy = True
                        return user_id
                else:
                    wait = None
                self._wake.wait(wait)

    def _run(self) -> None:
        gap = 60.0 / self.per_minute if self.per_minute > 0 else 0.0
        while (user_id := self._next()) is not None:
            started = time.monotonic()
            done = threading.Event()

            def work(user: str = user_id, finished: threading.Event = done) -> None:
                try:
                    self.publish(user)
                finally:
                    finished.set()

            try:
                self.submit(work)
                done.wait(30)  # one publish at a time
            except RuntimeError:  # the pool is shut down: so are we
                return
            finally:
                with self._wake:
                    self._busy = False
            pause = gap - (time.monotonic() - started)
            if pause > 0:
                with self._wake:
                    self._wake.wait_for(lambda: self._closed, pause)

    def publish(self, user_id: str) -> None:
        """Run ``ueberblick`` for ``user_id`` and publish it as their Home tab.

        Only for a person the bot knows: a command would create the person on first contact,
        and the refresh that follows ``vergessen ja`` would bring the erased identity straight
        back. Anyone else sees a neutral page and leaves no record."""
        if not self._known(user_id):
            self._publish_neutral(user_id)
            return
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

    def _known(self, user_id: str) -> bool:
        with self.bot.uow_factory() as uow:
            return uow.persons.identity(PLATFORM, user_id) is not None

    def _publish_neutral(self, user_id: str) -> None:
        with self._wake:
            self._organisers.discard(user_id)
        language = self.bot.settings.language
        message = Message.text(NEUTRAL.get(language, NEUTRAL["de"]))
        try:
            self.client.views_publish(user_id=user_id, view=home_view(message))
        except SlackApiError as exc:
            log.warning("views.publish failed: %s", exc.response["error"])

    def _remember_role(self, user_id: str) -> None:
        with self.bot.uow_factory() as uow:
            person = uow.persons.get_by_identity(PLATFORM, user_id)
            organiser = person is not None and person.is_organiser
        with self._wake:
            if organiser:
                self._organisers.add(user_id)
            else:
                self._organisers.discard(user_id)
