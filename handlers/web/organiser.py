"""The programme team's pages: cohort overview, participants (confirm/reject), exports.

Every write goes through the chat's services (:func:`bot.services.registration.decide` with its
audit entry and the participant's DM), so the web and the chat cannot disagree.
"""

from __future__ import annotations

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import calendar, invitations, poll_close, web_login, web_overview, web_polls
from bot.services import polls as polls_service
from bot.services import registration as reg
from bot.services.cohort_end import check_writable
from bot.services.participants import Row, export_csv
from handlers.web.core import (
    Page,
    Refused,
    WebDeps,
    WebRequest,
    check_csrf,
    page,
    require,
    viewer_of,
)

NO_COHORT = N_("Es gibt noch keinen Jahrgang. Legen Sie ihn im Chat mit „jahrgang anlegen“ an.")


def _no_cohort() -> Refused:
    return Refused(404, NO_COHORT)


def overview(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.reading() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnahme uebersicht")
        choices = uow.cohorts.active()
        if viewer.cohort is None:
            return page(deps, viewer, "overview.html", ov=None, choices=choices)
        model = web_overview.read(uow, viewer.cohort, now)
        return page(deps, viewer, "overview.html", ov=model, choices=choices)


def choose_cohort(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "teilnahme uebersicht")
        check_csrf(viewer, req)
        wanted = _int(req.form.get("jahrgang"))
        if not web_login.choose_cohort(uow, viewer.session, wanted):
            raise Refused(404, N_("Diesen Jahrgang gibt es nicht (mehr)."))
        uow.commit()
    return Page(status=303, location="/jahrgang")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


def decide(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        action = req.form.get("aktion")
        if action not in ("bestaetigen", "ablehnen"):
            raise Refused(400, N_("Unbekannte Aktion. Bitte laden Sie die Seite neu."))
        require(viewer, action)
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        person_id = _int(req.form.get("person"))
        person = uow.persons.get(person_id) if person_id else None
        _ = viewer.formats.gettext
        session_id = viewer.session.id
        if person is None:
            message = _(N_("Diese Person gibt es nicht (mehr)."))
        else:
            name = person.display_name or "?"
            try:
                # a closed cohort is read-only, on the page as in the chat
                check_writable(action, [], cohort, deps.settings.timezone)
                outcome = reg.decide(
                    uow,
                    actor_id=viewer.person.id,
                    cohort=cohort,
                    person=person,
                    accept=action == "bestaetigen",
                    now=now,
                    default_language=deps.settings.language,
                )
            except UserFacingError as exc:
                uow.rollback()
                message = exc.render(viewer.formats.gettext)
            else:
                invitations.send_for_cohort(uow, cohort.id, settings=deps.settings, now=now)
                if outcome.status == "confirmed":
                    message = _(
                        N_("{name} ist bestätigt (Platz {n})."), name=name, n=outcome.position
                    )
                else:
                    message = _(N_("{name} ist abgelehnt und wurde benachrichtigt."), name=name)
        web_login.set_flash(uow, session_id, message)
        uow.commit()
    return Page(status=303, location="/teilnehmende")


def participants_csv(deps: WebDeps, req: WebRequest) -> Page:
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "export teilnehmende")
        cohort = viewer.cohort_or(_no_cohort)
        rows = [
            Row(
                person.id,
                person.display_name or "?",
                person.municipality or "",
                person.function or "",
                person.email or "",
                participant.status,
                participant.is_host,
            )
            for participant, person, _place in web_overview.registrations(uow, cohort)
        ]
    return Page(
        body=export_csv(rows),
        content_type="text/csv; charset=utf-8",
        filename="teilnehmende.csv",
    )


def cohort_ics(deps: WebDeps, req: WebRequest) -> Page:
    """The cohort's meetings with their agendas (what ``kalender`` sends, for the caller)."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "kalender")
        cohort = viewer.cohort_or(_no_cohort)
        body = calendar.build(
            uow,
            cohort,
            tz=deps.settings.tz,
            language=viewer.formats.language,
            now=now,
            with_items=True,
            role=viewer.role,
        )
    return Page(body=body, content_type="text/calendar; charset=utf-8", filename="stadtlabor.ics")


def polls(deps: WebDeps, req: WebRequest) -> Page:
    """The cohort's polls; results only where the chat shows them (``umfragen``' row)."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "umfragen")
        cohort = viewer.cohort_or(_no_cohort)
        rows = web_polls.results(uow, cohort.id, deps.settings.anonymity_threshold)
        result = page(
            deps,
            viewer,
            "polls.html",
            cohort=cohort,
            rows=rows,
            threshold=deps.settings.anonymity_threshold,
            may_export=viewer.may("export umfrage"),
            closable={
                r.poll.number
                for r in rows
                if viewer.may("umfrage schliessen") and web_polls.closable(r.poll, viewer.person)
            },
        )
        uow.commit()
    return result


def poll_csv(deps: WebDeps, req: WebRequest) -> Page:
    """A poll's CSV (the chat's ``export umfrage``: counts, names only for named polls, nothing
    before the chat would show it). POST: the poll's number stays out of the URL."""
    now = deps.clock.now()
    with deps.uow_factory() as uow:
        viewer = viewer_of(deps, uow, req, now)
        require(viewer, "export umfrage")
        check_csrf(viewer, req)
        cohort = viewer.cohort_or(_no_cohort)
        number = _int(req.form.get("umfrage"))
        if number is None:
            raise Refused(400, N_("Welche Umfrage? Bitte laden Sie die Seite neu."))
        try:
            poll = polls_service.get_poll(uow, cohort.id, number)
        except UserFacingError as exc:
            raise Refused(404, exc.msgid, **exc.params) from None
        body = poll_close.export_csv(uow, poll, deps.settings)
    return Page(body=body, content_type="text/csv; charset=utf-8", filename=f"umfrage-{number}.csv")
