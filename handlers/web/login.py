"""Logging in with the one-time link from the chat, and out.

``GET /anmelden/<token>`` only shows a button; the POST behind it spends the token. Chat
platforms fetch the links in messages for previews (Matrix servers' URL previews, Slack's
unfurling): a GET that logged in would spend the link before its owner clicks it. The token
travels in the form body from there on; the answer redirects to ``/`` (no token in any later
URL, and ``Referrer-Policy: no-referrer`` keeps it out of other sites' logs).
"""

from __future__ import annotations

from bot.i18n import N_
from bot.services.web_login import close_session, link_owner, open_session, redeem
from handlers.web.core import (
    Page,
    Refused,
    WebDeps,
    WebRequest,
    check_csrf,
    formats_for,
    viewer_of,
)
from handlers.web.render import render

EXPIRED = N_(
    "Dieser Link ist abgelaufen oder wurde schon benutzt. Schreiben Sie dem Bot im Chat "
    "„dashboard“, dann erhalten Sie einen neuen."
)


def show_login(deps: WebDeps, req: WebRequest) -> Page:
    token = req.match.get("token", "")
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        owner = link_owner(uow, token, now)
        person = uow.persons.get(owner) if owner is not None else None
        if person is None:
            raise Refused(403, EXPIRED)
        formats = formats_for(deps, person.language or "", req.accept_language)
        html = render(deps.templates, "login.html", formats, viewer=None, token=token)
    return Page(html=html)


def log_in(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        person_id = redeem(uow, req.form.get("token", ""), now)
        if person_id is None:
            uow.commit()
            raise Refused(403, EXPIRED)
        # A session id the browser brought along is dropped, never reused (session fixation).
        close_session(uow, req.cookie)
        new = open_session(uow, person_id, now)
        uow.commit()
    return Page(status=303, location="/", new_session=new.session_id)


def log_out(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        check_csrf(viewer, req)
        close_session(uow, req.cookie)
        uow.commit()
        html = render(deps.templates, "logged_out.html", viewer.formats, viewer=None)
    return Page(html=html, end_session=True)


def home(deps: WebDeps, req: WebRequest) -> Page:
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, deps.clock.now())
    return Page(status=303, location="/jahrgang" if viewer.role == "organiser" else "/mein")
