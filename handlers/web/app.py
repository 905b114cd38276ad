"""The web pages as routes on an aiohttp ``web.Application`` (the bot's one HTTP server).

:func:`add_web_routes` adds them to an application; :func:`start_web` serves a new one for
``stadtlabor run``/``console`` with ``--web-port``. In Slack's HTTP mode the Slack runtime
adds ``/slack/events`` to the same server (:func:`web_server`, started by the runtime), so the
bot answers everything on one port.
Every response gets the security headers (CSP without scripts, no framing, no referrer);
pages are not cached (they show personal data).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.services import web_login
from bot.services.web_login import SESSION_VALIDITY
from handlers.http_server import HttpLimits, HttpServer, WorkerPool, make_application
from handlers.web import (
    answers,
    health,
    login,
    meetings,
    organiser,
    participant,
    people,
    poll_actions,
    privacy,
    records,
    reminders,
)
from handlers.web.core import COOKIE, Page, Refused, WebDeps, WebRequest, error_page, formats_for
from handlers.web.render import STATIC, environment

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # No script at all: the pages work without JavaScript. Styles only from /static/.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MAX_FORM_FIELDS = 30  # a multiple-choice poll's answer page: up to 20 options and its fields

PageFn = Callable[[WebDeps, WebRequest], Page]


def _to_response(deps: WebDeps, page: Page) -> web.StreamResponse:
    if page.location is not None:
        response: web.StreamResponse = web.Response(
            status=page.status, headers={"Location": page.location}
        )
    elif page.body is not None:
        headers = {"Content-Type": page.content_type}
        if page.filename:
            headers["Content-Disposition"] = f'attachment; filename="{page.filename}"'
        response = web.Response(status=page.status, body=page.body, headers=headers)
    else:
        response = web.Response(
            status=page.status, text=page.html or "", content_type="text/html", charset="utf-8"
        )
    if page.new_session is not None:
        response.set_cookie(
            COOKIE,
            page.new_session,
            max_age=int(SESSION_VALIDITY.total_seconds()),
            path="/",
            httponly=True,
            secure=deps.secure_cookies,
            samesite="Lax",
        )
    elif page.end_session:
        response.del_cookie(
            COOKIE, path="/", secure=deps.secure_cookies, httponly=True, samesite="Lax"
        )
    return response


def _run_page(deps: WebDeps, fn: PageFn, req: WebRequest) -> Page:
    try:
        page = fn(deps, req)
        if page.shown_flash is not None:
            with deps.uow_factory() as uow:  # shown once: a read-only page could not clear it
                web_login.clear_flash(uow, *page.shown_flash)
                uow.commit()
        return page
    except Refused as refused:
        formats = formats_for(deps, None, req.accept_language)
        return error_page(
            deps, formats, refused.status, formats.gettext(refused.msgid, **refused.params)
        )


def _handler(
    deps: WebDeps, pool: WorkerPool, fn: PageFn
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        form: dict[str, str] = {}
        if request.method == "POST" and not _same_origin(request):
            raise web.HTTPForbidden(text="cross-site form refused")
        if request.method == "POST":
            posted = await request.post()
            if len(posted) > MAX_FORM_FIELDS:
                raise web.HTTPRequestEntityTooLarge(
                    max_size=MAX_FORM_FIELDS, actual_size=len(posted)
                )
            form = {k: v for k, v in posted.items() if isinstance(v, str)}
        req = WebRequest(
            path=request.path,
            cookie=request.cookies.get(COOKIE),
            form=form,
            match=dict(request.match_info),
            accept_language=request.headers.get("Accept-Language", ""),
            query=_query(request),
        )
        page = await pool.run(lambda: _run_page(deps, fn, req))
        return _to_response(deps, page)

    return handle


def _query(request: web.Request) -> dict[str, str]:
    if len(request.query) > MAX_FORM_FIELDS:
        raise web.HTTPBadRequest(text="too many query parameters")
    return {key: value[:200] for key, value in request.query.items()}


def _same_origin(request: web.Request) -> bool:
    """A form posted from another site is refused before anything runs — on top of the CSRF
    token, and it also covers the login form (which has no session to hold a token yet).
    Browsers say where a request comes from in ``Sec-Fetch-Site`` (not affected by our
    ``Referrer-Policy: no-referrer``, under which a same-origin ``Origin`` is ``null``); older
    ones only name a foreign ``Origin``. Neither header: not a browser form."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    return origin.split("://", 1)[-1] == request.host


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException) and response.status >= 400:
        raise response
    return response


def add_web_routes(app: web.Application, deps: WebDeps, pool: WorkerPool) -> None:
    app.middlewares.append(security_headers)
    routes: list[tuple[str, str, PageFn]] = [
        ("GET", "/", login.home),
        ("GET", "/healthz", health.healthz),
        ("GET", "/anmelden/{token}", login.show_login),
        ("POST", "/anmelden", login.log_in),
        ("POST", "/abmelden", login.log_out),
        ("GET", "/jahrgang", organiser.overview),
        ("POST", "/jahrgang/wahl", organiser.choose_cohort),
        ("GET", "/teilnehmende", people.participants),
        ("POST", "/teilnehmende/neu", people.add),
        ("POST", "/teilnehmende/bearbeiten", people.edit),
        ("POST", "/teilnehmende/entfernen", people.remove),
        ("POST", "/teilnehmende/entscheidung", organiser.decide),
        ("GET", "/teilnehmende.csv", organiser.participants_csv),
        ("GET", "/kalender.ics", organiser.cohort_ics),
        ("GET", "/umfragen", organiser.polls),
        ("POST", "/umfragen/export", organiser.poll_csv),
        ("POST", "/umfragen/schliessen", poll_actions.close),
        ("GET", "/treffen/{nr}", meetings.show),
        ("POST", "/treffen/{nr}/programm", meetings.change),
        ("GET", "/treffen/{nr}/teilnahme.csv", meetings.attendance_csv),
        ("GET", "/protokoll", records.audit_log),
        ("GET", "/erinnerungen", reminders.show),
        ("POST", "/erinnerungen/loeschen", reminders.cancel),
        ("POST", "/erinnerungen/jetzt", reminders.remind_now),
        ("GET", "/feedback", records.rounds),
        ("GET", r"/feedback/{nr:\d+}.{format:md|csv}", records.round_export),
        ("GET", "/mein", participant.mine),
        ("GET", "/mein/daten.json", privacy.my_data_download),
        ("GET", "/mein/vergessen", privacy.forget_form),
        ("POST", "/mein/vergessen", privacy.forget),
        ("GET", "/antwort/{token}", answers.show),
        ("POST", "/antwort", answers.answer),
    ]
    for method, path, fn in routes:
        app.router.add_route(method, path, _handler(deps, pool, fn))
    app.router.add_static("/static/", STATIC, append_version=False)


def make_deps(bot: Any) -> WebDeps:
    """What the pages need of the bot (:class:`app.Bot`)."""
    return WebDeps(bot.uow_factory, bot.settings, bot.clock, environment(), bot.read_uow_factory)


class WebServer:
    """The bot's one HTTP server when the web pages are on (``--web-port``): the pages,
    ``/healthz`` and, in Slack's HTTP mode, ``/slack/events`` (the Slack runtime adds its route
    to ``app`` before :meth:`start`). ``url`` is where it answers."""

    def __init__(self, bot: Any, limits: HttpLimits | None = None) -> None:
        self.limits = limits or HttpLimits()
        self.deps = make_deps(bot)
        self.pool = WorkerPool(self.limits)
        self.app = make_application(self.limits)
        add_web_routes(self.app, self.deps, self.pool)
        self._server = HttpServer(self.app, self.limits)
        self.url = ""

    def start(self) -> str:
        settings = self.deps.settings
        port = self._server.start(
            settings.web_host, 8080 if settings.web_port is None else settings.web_port
        )
        if settings.web_port == 0 and not settings.web_url:
            settings.web_port = port  # the login links name the bound port
        self.url = settings.web_base(port)
        log.info("web pages: %s", self.url)
        print(
            f"stadtlabor: Webseite: {self.url}/ (Anmeldelink im Chat mit „dashboard“)",
            file=sys.stderr,
        )
        return self.url

    def stop(self) -> None:
        self._server.stop()
        self.pool.shutdown()


def web_server(bot: Any) -> WebServer | None:
    """The web server when STADTLABOR_WEB_URL/WEB_PORT (or --web-port) ask for it, not
    started yet (other routes may still be added)."""
    return WebServer(bot) if bot.settings.web_enabled else None


def start_web(bot: Any) -> WebServer | None:
    """Start the web pages when STADTLABOR_WEB_URL/WEB_PORT (or --web-port) ask for them."""
    server = web_server(bot)
    if server is not None:
        server.start()
    return server
