"""Run the Slack app: Socket Mode (SLACK_APP_TOKEN) or HTTP (/slack/events).

The adapter gives the process's outbox its Messenger (``runtime.flusher.attach``) and kicks
the flusher after each request; sending, pacing and retrying belong to :mod:`bot.outbox`.

HTTP mode serves ``/slack/events`` from the bot's HTTP server (aiohttp.web, see
handlers/http_server.py): body limit, timeouts and a bounded worker pool in which bolt's sync
dispatch runs (``App.start()`` is single-threaded and always binds 0.0.0.0). The sync bolt App
fits the sync services (SQLAlchemy, dispatcher): listeners run in bolt's thread pool after
``ack()``, so a worker is free again within milliseconds.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.runtime import ChatRuntime
from handlers.http_server import (
    HttpLimits,
    HttpServer,
    SharedServer,
    WorkerPool,
    make_application,
)
from handlers.slack.endpoint import EVENTS_PATH, add_slack_route
from handlers.slack.listeners import SlackListeners
from handlers.slack.messenger import DEFAULT_PACE, PLATFORM, SlackMessenger, make_client

log = logging.getLogger(__name__)

__all__ = ["EVENTS_PATH", "HttpLimits", "SlackConfig", "SlackRuntime", "run_slack"]


class SlackConfigError(Exception):
    """A Slack setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str
    signing_secret: str | None = None
    app_token: str | None = None
    api_url: str | None = (
        None  # SLACK_API_URL: a local Slack double, e.g. http://127.0.0.1:8080/api/
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SlackConfig:
        env = os.environ if env is None else env
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token.startswith("xoxb-"):
            raise SlackConfigError("SLACK_BOT_TOKEN must be a bot token (xoxb-…).")
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-…).")
        return cls(
            bot_token=token,
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip() or None,
            app_token=app_token,
            api_url=env.get("SLACK_API_URL", "").strip() or None,
        )

    def mode(self, http: bool) -> str:
        """``socket`` when an app token is set and HTTP was not asked for, else ``http``."""
        if self.app_token and not http:
            return "socket"
        if not self.signing_secret:
            raise SlackConfigError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN).")
        return "http"


# slack_sdk logs every Web API request and response body at DEBUG, bolt every incoming
# payload: names, e-mails, an anonymous voter's "gezählt: 2. Blau". They never log below
# INFO, whatever STADTLABOR_LOG_LEVEL says; our own debug lines carry ids and sizes only.
PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt")


def keep_payloads_out_of_logs() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))


class SlackRuntime:
    """The bolt app and its listeners; start HTTP or Socket Mode. While it runs, its
    Messenger is attached to the process's outbox (``bot.flusher``).

    Two WebClients: the direct answers' (``client``: one bounded retry after a 429, the
    person is waiting) and the outbox's (``messenger.client``: no 429 retry — the outbox
    reschedules the row at the ``Retry-After`` and holds the channel, see
    :mod:`bot.outbox.pacing`). ``pace``: seconds between two outbox messages to one channel
    (the outbox's database pacing); ``flush_interval``: how often the flusher looks."""

    def __init__(
        self,
        bot: ChatRuntime,
        config: SlackConfig,
        *,
        pace: float = DEFAULT_PACE,
        flush_interval: float | None = None,
        http_limits: HttpLimits | None = None,
    ) -> None:
        self.bot = bot
        self.config = config
        self.flush_interval = flush_interval
        keep_payloads_out_of_logs()
        self.client = make_client(config.bot_token, config.api_url, rate_limit_retries=1)
        self.replies = SlackMessenger(self.client)  # direct answers (not through the outbox)
        outbox_client = make_client(config.bot_token, config.api_url, rate_limit_retries=0)
        self.messenger = self.replies.sibling(outbox_client, pace=pace)
        self.app = App(
            client=self.client,
            signing_secret=config.signing_secret or "",
            process_before_response=True,
        )
        self.listeners = SlackListeners(bot, self.replies, after_request=bot.flusher.kick)
        self.listeners.register(self.app)
        self.http_limits = http_limits or HttpLimits()
        self._server: HttpServer | None = None
        self._shared: SharedServer | None = None
        self._pool: WorkerPool | None = None
        self._socket: SocketModeHandler | None = None

    def start_http(
        self, host: str = "127.0.0.1", port: int = 3000, shared: SharedServer | None = None
    ) -> str:
        """Serve /slack/events in a background thread; returns its URL. With ``shared`` (the
        web pages' server, not started yet) the route joins it and that server starts: one
        port for the pages, /healthz and Slack. Slack keeps its own worker pool, so a slow
        page never delays an ack."""
        limits = self.http_limits
        self._pool = WorkerPool(limits)
        if shared is not None:
            add_slack_route(shared.app, self.app, self._pool, limits)
            base = shared.start()
            self._shared = shared
            url = f"{base.rstrip('/')}{EVENTS_PATH}"
        else:
            web_app = make_application(limits)
            add_slack_route(web_app, self.app, self._pool, limits)
            self._server = HttpServer(web_app, limits)
            bound = self._server.start(host, port)
            url = f"http://{host}:{bound}{EVENTS_PATH}"
        self.bot.flusher.attach(self.messenger, interval=self.flush_interval)
        return url

    def start_socket_mode(self) -> None:
        if not self.config.app_token:
            raise SlackConfigError("Socket Mode needs SLACK_APP_TOKEN (xapp-…).")
        self._socket = SocketModeHandler(self.app, self.config.app_token, web_client=self.client)
        self._socket.connect()  # type: ignore[no-untyped-call]
        self.bot.flusher.attach(self.messenger, interval=self.flush_interval)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._shared is not None:
            self._shared.stop()
            self._shared = None
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._socket is not None:
            self._socket.close()  # type: ignore[no-untyped-call]
            self._socket = None
        self.listeners.close()
        self.bot.flusher.detach(PLATFORM)


def run_slack(
    bot: ChatRuntime,
    *,
    http: bool,
    host: str = "127.0.0.1",
    port: int = 3000,
    config: SlackConfig | None = None,
    stop: threading.Event | None = None,
    shared: SharedServer | None = None,
) -> int:
    """Run until Ctrl-C (or ``stop`` is set). Returns the process exit code. ``shared``: the
    web pages' server, not started yet; in HTTP mode Slack's events are served on it."""
    try:
        config = config or SlackConfig.from_env()
        mode = config.mode(http)
        runtime = SlackRuntime(bot, config)  # bolt checks the token with auth.test here
    except (SlackConfigError, BoltError, SlackApiError, OSError) as exc:
        log.error("%s", exc)
        print(f"stadtlabor: {exc}", flush=True)
        return 2
    stop = stop or threading.Event()
    try:
        if mode == "socket":
            runtime.start_socket_mode()
            log.warning("Slack: Socket Mode connected")
            if shared is not None:  # no Slack route: the pages are served on their own
                shared.start()
        else:
            url = runtime.start_http(host, port, shared=shared)
            log.warning("Slack: listening on %s", url)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        runtime.stop()
        if shared is not None and mode == "socket":
            shared.stop()
    return 0
