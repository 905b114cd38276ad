"""The programme team's participants page: filter and sort, add, edit, remove.

Filters and sorting are the page's GET query (nothing personal: status, function category,
a search text, the sort key). Every change runs a chat service — adding is
``teilnehmende hinzufuegen``'s :func:`~bot.services.participants.add_on_behalf`, removing
``teilnehmende entfernen``'s :func:`~bot.services.participants.remove` (both with their audit
entries and DMs), editing :func:`~bot.services.participants.change` (``teilnehmende.aendern``).
The person travels in the POST body. A refused form is shown again with what was typed.
"""

from __future__ import annotations

from typing import Any

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import invitations, web_login, web_participants
from bot.services import participants as parts
from bot.services.cohort_end import check_writable
from bot.services.registration import Details
from bot.services.web_participants import Cohort
from handlers.web.core import (
    Page,
    Refused,
    Viewer,
    WebDeps,
    WebRequest,
    check_csrf,
    page,
    require,
    viewer_of,
)
from handlers.web.organiser import _int, _no_cohort
from storage.uow import UnitOfWork

STATUS_LABELS = {
    "bestaetigt": N_("bestätigt"),
    "warteliste": N_("Warteliste"),
    "angefragt": N_("angefragt"),
}
SORT_LABELS = {
    "anmeldung": N_("Anmeldung (Reihenfolge der Warteliste)"),
    "name": N_("Name"),
    "kommune": N_("Kommune"),
    "funktion": N_("Funktion"),
}


def _render(
    deps: WebDeps,
    uow: UnitOfWork,
    viewer: Viewer,
    req: WebRequest,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Page:
    cohort = viewer.cohort_or(_no_cohort)
    filter_error = None
    try:
        listing = web_participants.listing_from(req.query)
    except UserFacingError as exc:
        listing = web_participants.Listing()
        filter_error = exc.render(viewer.formats.gettext)
    rows = web_participants.entries(uow, cohort, listing)
    writable = cohort.ended_at is None
    result = page(
        deps,
        viewer,
        "participants.html",
        cohort=cohort,
        listing=listing,
        statuses=STATUS_LABELS,
        sorts=SORT_LABELS,
        categories=web_participants.CATEGORIES,
        functions=web_participants.SUGGESTED_FUNCTIONS,
        confirmed=[e for e in rows if e.participant.status == "confirmed"],
        waiting=[e for e in rows if e.participant.status != "confirmed"],
        may_decide=viewer.may("bestaetigen") and writable,
        may_add=viewer.may("teilnehmende hinzufuegen") and writable,
        may_remove=viewer.may("teilnehmende entfernen") and writable,
        error=error,
        filter_error=filter_error,
        typed=typed or {},
    )
    if error is not None or filter_error is not None:
        result.status = 400
    return result


def participants(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnehmende")
        result = _render(deps, uow, viewer, req)
        uow.commit()  # the flash message was shown
    return result


def add(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnehmende hinzufuegen")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        try:
            check_writable("teilnehmende hinzufuegen", [], cohort, deps.settings.timezone)
            details = web_participants.details_from(req.form, _)
            person, status, position = parts.add_on_behalf(
                uow,
                actor_id=viewer.person.id,
                cohort=cohort,
                details=details,
                now=now,
                language=viewer.formats.language,
                default_language=deps.settings.language,
                tz=deps.settings.tz,
                settings=deps.settings,
            )
        except UserFacingError as exc:
            uow.rollback()
            error = exc.render(_)
            return _render(deps, uow, viewer, req, error=error, typed=_typed(req))
        invitations.send_for_cohort(uow, cohort.id, settings=deps.settings, now=now)
        state = {
            "confirmed": N_("bestätigt (Platz {n})"),
            "waitlisted": N_("Warteliste (Position {n})"),
            "pending": N_("wartet auf Bestätigung"),
        }[status]
        message = _(
            N_("{name} ist angemeldet: {state}."),
            name=person.display_name,
            state=_(state, n=position),
        )
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/teilnehmende")


def _typed(req: WebRequest) -> dict[str, str]:
    return web_participants.typed(req.form)


def edit(deps: WebDeps, req: WebRequest) -> Page:
    """Without ``aktion=speichern``: the form with the current details; with it: the change."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnehmende hinzufuegen")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        participant, person = _registered(uow, cohort, req)
        _ = viewer.formats.gettext
        context: dict[str, Any] = {
            "person": person,
            "functions": web_participants.SUGGESTED_FUNCTIONS,
        }
        if req.form.get("aktion") != "speichern":
            values = web_participants.current(participant, person)
            result = page(
                deps, viewer, "participant_edit.html", typed=values, error=None, **context
            )
            uow.commit()
            return result
        session_id = viewer.session.id
        try:
            check_writable("teilnehmende hinzufuegen", [], cohort, deps.settings.timezone)
            details: Details = web_participants.details_from(req.form, _)
            changed = parts.change(
                uow,
                actor_id=viewer.person.id,
                cohort=cohort,
                person=person,
                details=details,
                now=now,
            )
        except UserFacingError as exc:
            uow.rollback()
            result = page(
                deps,
                viewer,
                "participant_edit.html",
                typed=_typed(req),
                error=exc.render(_),
                **context,
            )
            result.status = 400
            return result
        message = _(
            N_("Die Angaben von {name} sind geändert ({fields})."),
            name=details.name,
            fields=", ".join(_(FIELD_LABELS[k]) for k in changed),
        )
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/teilnehmende")


FIELD_LABELS = {
    "name": N_("Name"),
    "kommune": N_("Kommune"),
    "funktion": N_("Funktion"),
    "email": N_("E-Mail"),
    "bueroleitung": N_("Büroleitung"),
}


def remove(deps: WebDeps, req: WebRequest) -> Page:
    """Without ``bestaetigt=ja``: the question; with it: the chat's removal."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnehmende entfernen")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        _participant, person = _registered(uow, cohort, req)
        if req.form.get("bestaetigt") != "ja":
            result = page(deps, viewer, "participant_remove.html", person=person, cohort=cohort)
            uow.commit()
            return result
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        name = person.display_name or "?"
        try:
            check_writable("teilnehmende entfernen", [], cohort, deps.settings.timezone)
            before, moved_up = parts.remove(
                uow,
                actor_id=viewer.person.id,
                cohort=cohort,
                person=person,
                now=now,
                default_language=deps.settings.language,
            )
        except UserFacingError as exc:
            uow.rollback()
            message = exc.render(_)
        else:
            invitations.send_for_cohort(uow, cohort.id, settings=deps.settings, now=now)
            message = _(N_("{name} wurde entfernt und per Direktnachricht informiert."), name=name)
            if moved_up is not None:
                message += " " + _(
                    N_(
                        "Von der Warteliste nachgerückt: {name} ({municipality}); "
                        "die Person ist informiert."
                    ),
                    name=moved_up.display_name or "?",
                    municipality=moved_up.municipality or "?",
                )
            elif before == "confirmed" and cohort.moderated:
                message += " " + _(
                    N_(
                        "Der frei gewordene Platz wartet auf Ihre Bestätigung "
                        "(siehe Direktnachricht)."
                    )
                )
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/teilnehmende")


def _registered(uow: UnitOfWork, cohort: Cohort, req: WebRequest) -> web_participants.Registration:
    try:
        return web_participants.registered(uow, cohort, _int(req.form.get("person")))
    except UserFacingError as exc:
        raise Refused(404, exc.msgid, **exc.params) from None
