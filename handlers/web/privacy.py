"""DSGVO self-service on "Mein Stadtlabor": the data copy as a download (Art. 15, what
``meine-daten`` sends as a file) and erasure with confirmation (Art. 17, what ``vergessen ja``
does) — the same services as the chat, so the page can neither show nor erase more or less."""

from __future__ import annotations

from bot.services import privacy
from bot.services.web_login import close_session
from handlers.web.core import Page, WebDeps, WebRequest, check_csrf, page, require, viewer_of
from handlers.web.render import render

CONFIRM_FIELD = "bestaetigt"


def my_data_download(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "meine-daten")
        body = privacy.my_data_json(privacy.my_data(uow, viewer.person))
    return Page(
        body=body, content_type="application/json; charset=utf-8", filename="meine-daten.json"
    )


def forget_form(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "vergessen")
        stores = [
            (viewer.formats.gettext(store.label), count)
            for store, count in privacy.my_data_by_store(uow, viewer.person)
        ]
        result = page(deps, viewer, "forget.html", stores=stores, missing=False, active="mine")
        uow.commit()  # the flash, if one was shown
    return result


def forget(deps: WebDeps, req: WebRequest) -> Page:
    """Erase only with the box ticked; without it the form comes back saying so."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "vergessen")
        check_csrf(viewer, req)
        if req.form.get(CONFIRM_FIELD) != "ja":
            stores = [
                (viewer.formats.gettext(store.label), count)
                for store, count in privacy.my_data_by_store(uow, viewer.person)
            ]
            result = page(deps, viewer, "forget.html", stores=stores, missing=True)
            result.status = 400
            return result
        formats = viewer.formats
        close_session(uow, req.cookie)
        privacy.forget(
            uow,
            viewer.person,
            now=now,
            default_language=deps.settings.language,
            settings=deps.settings,
        )
        uow.commit()
    html = render(deps.templates, "forgotten.html", formats, viewer=None)
    return Page(html=html, end_session=True)
