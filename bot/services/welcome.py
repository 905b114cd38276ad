"""The privacy notice (Art. 13 GDPR) and the message to a person an organiser registered.

A person added by ``teilnehmende hinzufuegen`` or a CSV import never saw the registration form
with its privacy notice; :func:`tell_added` tells them where they stand (seat, waitlist place,
awaiting confirmation) with the same notice, wherever their messages go — by e-mail for a
person without a chat account (bot.notifications.routes).
"""

from __future__ import annotations

from datetime import datetime

from bot.i18n import N_, translator
from bot.outbox import dm_person
from bot.settings import Settings
from bot.views import Header, Message, Note, Section
from storage.models import Cohort, Person
from storage.ports import UnitOfWorkPort

STATES = {
    "confirmed": N_("Ihr Platz ist bestätigt (Platz {n})."),
    "waitlisted": N_(
        "Sie stehen auf der Warteliste (Position {n}); wird ein Platz frei, erhalten Sie Nachricht."
    ),
    "pending": N_("Das Programmteam bestätigt die Anmeldung noch; Sie erhalten Nachricht."),
}


def privacy_notice(settings: Settings, language: str) -> str:
    """The Art. 13 text of the registration form (STADTLABOR_PRIVACY_NOTICE replaces it)."""
    if settings.privacy_notice:
        return settings.privacy_notice
    _ = translator(language)
    notice = _(
        N_(
            "Datenschutzhinweis (Art. 13 DSGVO): Die Körber-Stiftung verarbeitet Ihren Namen, "
            "Ihre Kommune, Ihre Funktion, Ihre E-Mail-Adresse und Ihre Beiträge im Bot, um das "
            "Stadtlabor zu organisieren (Anmeldung, Termine, Umfragen, Feedback, "
            "Erinnerungen) und den Austausch zu vernetzen (Profil mit Vorhaben, monatliche "
            "Check-ins zum Vorhaben, Tandems). Grundlage ist "
            "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO); Sie können sie jederzeit mit "
            "„vergessen“ widerrufen. „meine-daten“ schickt Ihnen alles, was gespeichert ist. Die "
            "Daten werden {days} Tage nach Ende des Jahrgangs gelöscht."
        )
    ).format(days=settings.retention_days)
    alumni = _(
        N_(
            "Zum Ende des Jahrgangs fragen wir Sie, ob Sie im Alumni-Kreis bleiben möchten; nur "
            "mit Ihrem „alumni ja“ bleiben Ihr Profil, Name und Kontaktweg über die Löschfrist "
            "hinaus gespeichert, bis Sie „alumni nein“ oder „vergessen“ sagen."
        )
    )
    return f"{notice} {alumni}"


def tell_added(
    uow: UnitOfWorkPort,
    person: Person,
    *,
    cohort: Cohort,
    status: str,
    position: int,
    settings: Settings,
    now: datetime,
) -> bool:
    """Tell ``person`` that the programme team registered them, with the privacy notice."""
    language = person.language or settings.language
    _ = translator(language)
    title = _(N_("Anmeldung für „{cohort}“")).format(cohort=cohort.name)
    lead = _(N_("Das Programmteam hat Sie für den Jahrgang „{cohort}“ angemeldet.")).format(
        cohort=cohort.name
    )
    state = _(STATES.get(status, STATES["pending"])).format(n=position)
    help_ = _(
        N_(
            "Fragen, Korrekturen oder kein Interesse? Antworten Sie dem Programmteam; es trägt "
            "Sie auch wieder aus."
        )
    )
    message = Message(
        (
            Header(title),
            Section((lead, state)),
            Section((privacy_notice(settings, language),)),
            Note(help_),
        ),
        fallback=lead,
    )
    return dm_person(uow, person.id, message, f"welcome:{cohort.id}:{person.id}", now)
