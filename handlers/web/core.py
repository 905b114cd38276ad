"""What every page shares: the request as plain values, the viewer, the result, the checks.

Page functions are synchronous (SQLAlchemy), run in the server's bounded worker pool, get a
:class:`WebRequest` and return a :class:`Page`; :mod:`handlers.web.app` turns that into an
aiohttp response. On every request the viewer is read again from the database — session,
person, cohort and role (the chat's permission table) — so a role taken away in the chat
applies to the next click.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment

from bot.clock import Clock
from bot.i18n import N_
from bot.permissions import access
from bot.services.web_login import SignedIn, csrf_matches, signed_in
from bot.settings import Settings
from handlers.web.render import Formats, render
from storage.uow import UnitOfWork

COOKIE = "stadtlabor_sitzung"


@dataclass(frozen=True)
class WebDeps:
    uow_factory: Callable[[], UnitOfWork]
    settings: Settings
    clock: Clock
    templates: Environment
    #: units of work for pages that only show (see storage.uow.SqlUnitOfWork(read_only=True))
    read_uow_factory: Callable[[], UnitOfWork]

    @property
    def secure_cookies(self) -> bool:
        return self.settings.web_url.startswith("https://")

    def reading(self) -> UnitOfWork:
        """A unit of work for a page that only shows: it reads next to the chat's writers
        instead of queueing behind them, and cannot commit."""
        return self.read_uow_factory()


@dataclass(frozen=True)
class WebRequest:
    path: str
    cookie: str | None
    form: Mapping[str, str] = field(default_factory=dict)
    match: Mapping[str, str] = field(default_factory=dict)
    accept_language: str = ""
    #: the GET query (filters and sorting only: pages put no personal data in URLs)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Page:
    status: int = 200
    html: str | None = None
    location: str | None = None  # a 303 redirect
    body: bytes | None = None  # a download
    content_type: str = "text/html"
    filename: str | None = None
    new_session: str | None = None  # set this cookie (login)
    end_session: bool = False  # clear the cookie (logout, unknown session)
    shown_flash: tuple[int, str] | None = None  # (session id, message) a read-only page showed


@dataclass
class Viewer(SignedIn):
    """The signed-in person (:class:`bot.services.web_login.SignedIn`) with the page's formats."""

    formats: Formats
    reading: bool = False  # read in a read-only unit of work: the page cannot write

    def may(self, key: str) -> bool:
        """Full access to what the command ``key`` shows (a reduced view is not enough)."""
        return access(key, self.role) == "allowed"


class Refused(Exception):
    """Answer with an error page: 401 (log in), 403 (not for your role, CSRF), 404."""

    def __init__(self, status: int, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.status = status
        self.msgid = msgid
        self.params = params


def formats_for(deps: WebDeps, language: str | None, accept_language: str = "") -> Formats:
    """A known person reads their chat language (``language``, None for nobody in particular:
    the installation's, like the chat); only pages for nobody in particular follow the
    browser's Accept-Language."""
    if language is not None:
        language = language or deps.settings.language
    else:
        language = _from_header(accept_language) or deps.settings.language
    return Formats(language, deps.settings.tz)


def _from_header(header: str) -> str | None:
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else ("de" if first.startswith("de") else None)


def viewer_of(deps: WebDeps, uow: UnitOfWork, req: WebRequest, now: datetime) -> Viewer:
    """The logged-in viewer, or :class:`Refused` 401."""
    who = signed_in(uow, req.cookie, now)
    if who is None:
        raise Refused(
            401,
            N_(
                "Bitte melden Sie sich an: Schreiben Sie dem Bot im Chat „dashboard“, "
                "dann erhalten Sie einen Link per Direktnachricht."
            ),
        )
    formats = formats_for(deps, who.person.language or "", req.accept_language)
    reading = bool(getattr(uow, "read_only", False))
    return Viewer(who.person, who.session, who.cohort, who.role, formats, reading)


def require(viewer: Viewer, key: str) -> None:
    if not viewer.may(key):
        raise Refused(403, N_("Diese Seite ist dem Programmteam vorbehalten."))


def check_csrf(viewer: Viewer, req: WebRequest) -> None:
    if not csrf_matches(viewer.session, req.form.get("csrf")):
        raise Refused(
            403,
            N_(
                "Das Formular war veraltet oder unvollständig. Bitte laden Sie die Seite neu "
                "und versuchen Sie es noch einmal."
            ),
        )


def page(deps: WebDeps, viewer: Viewer, template: str, **context: Any) -> Page:
    flash = viewer.session.flash
    if flash and not viewer.reading:
        viewer.session.flash = None  # shown once; the caller's unit of work commits
    html = render(
        deps.templates,
        template,
        viewer.formats,
        viewer=viewer,
        csrf=viewer.session.csrf_token,
        flash=flash,
        **context,
    )
    # A read-only page cannot clear the message it showed: the server does it afterwards.
    shown = (viewer.session.id, flash) if flash and viewer.reading else None
    return Page(html=html, shown_flash=shown)


def error_page(deps: WebDeps, formats: Formats, status: int, message: str) -> Page:
    html = render(
        deps.templates, "error.html", formats, viewer=None, message=message, status=status
    )
    return Page(status=status, html=html, end_session=status == 401)
