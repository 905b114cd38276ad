"""Who may run and see what: one table, mirrored in the README, checked in the service layer.

Each cell is ``allowed``, ``refused`` or ``reduced`` (allowed, but with a smaller view: e.g.
participants see the participant list without e-mails and without the waitlist).
"""

from __future__ import annotations

from typing import Literal

from bot.context import ROLES, CommandContext, Role
from bot.errors import PermissionDenied
from bot.i18n import N_

Access = Literal["allowed", "refused", "reduced"]

A: Access = "allowed"
R: Access = "refused"
V: Access = "reduced"


def _row(
    organiser: Access, host: Access, participant: Access, waitlisted: Access, outsider: Access
) -> dict[Role, Access]:
    return dict(zip(ROLES, (organiser, host, participant, waitlisted, outsider), strict=True))


EVERYONE = _row(A, A, A, A, A)
ORGANISERS = _row(A, R, R, R, R)
MEMBERS = _row(A, A, A, R, R)

# command key → role → access.  Keys are the German command words joined by a space.
PERMISSIONS: dict[str, dict[Role, Access]] = {
    "hilfe": _row(A, V, V, V, V),
    "sprache": EVERYONE,
    "jahrgang": EVERYONE,
    "jahrgang anlegen": ORGANISERS,
    "jahrgang verbinden": ORGANISERS,
    "jahrgang abschliessen": ORGANISERS,
    "ankuendigen": ORGANISERS,
    "rolle": ORGANISERS,
    "gastgeber": ORGANISERS,
    "anmelden": EVERYONE,
    "abmelden": EVERYONE,
    "bestaetigen": ORGANISERS,
    "ablehnen": ORGANISERS,
    "teilnehmende": _row(A, V, V, R, R),
    "teilnehmende hinzufuegen": ORGANISERS,
    "teilnehmende entfernen": ORGANISERS,
    "import teilnehmende": ORGANISERS,
    "export teilnehmende": ORGANISERS,
    "protokoll": ORGANISERS,
    "meine-daten": EVERYONE,
    "meine-daten aendern": EVERYONE,
    "vergessen": EVERYONE,
    "verknuepfen": EVERYONE,
    "benachrichtigung": EVERYONE,
    # meetings, agendas, attendance, calendars
    "treffen": _row(A, A, A, A, R),
    "treffen anlegen": ORGANISERS,
    "treffen aendern": ORGANISERS,
    "treffen loeschen": ORGANISERS,
    "programmpunkt": ORGANISERS,
    "agenda": _row(A, A, A, A, R),
    "agenda posten": ORGANISERS,
    "teilnahme": MEMBERS,
    "teilnahme uebersicht": ORGANISERS,
    "teilnahme schliessen": ORGANISERS,
    "export teilnahme": ORGANISERS,
    "kalender": _row(A, A, A, A, R),
    # topics and polls
    "thema vorschlagen": MEMBERS,
    "themen": MEMBERS,
    "themen zusammenfuehren": ORGANISERS,
    "themen zurueckziehen": ORGANISERS,
    "umfrage": MEMBERS,
    "umfrage aus themen": ORGANISERS,
    "umfrage schliessen": MEMBERS,  # the service allows organisers and the poll's creator
    "umfragen": MEMBERS,
    "abstimmen": MEMBERS,
    "export umfrage": ORGANISERS,
    # feedback rounds
    "feedback": MEMBERS,
    "feedback starten": ORGANISERS,
    "feedback schliessen": ORGANISERS,
    "export feedback": ORGANISERS,
    # reminders
    "erinnern": EVERYONE,
    "erinnern kanal": ORGANISERS,
    "erinnerungen": EVERYONE,
    "erinnerung": EVERYONE,
    "spaeter": EVERYONE,
    # personal overview and the organisers' nudge
    "ueberblick": EVERYONE,
    "nachfassen": ORGANISERS,
    # networking: profiles, "wer kennt sich aus", introductions (waitlisted: own profile only)
    "profil": _row(A, A, A, V, R),
    "profil aendern": _row(A, A, A, A, R),
    "wer kennt sich aus": MEMBERS,
    "vorstellen": MEMBERS,
    "vorstellen annehmen": MEMBERS,
    "vorstellen ablehnen": MEMBERS,
    "tandems": ORGANISERS,
    "tandems starten": ORGANISERS,
    "tandems stand": ORGANISERS,
    "tandem": MEMBERS,
    "checkin": MEMBERS,
    "checkin tag": ORGANISERS,
    "checkins": MEMBERS,
    # the alumni circle: anyone may ask their state; joining checks for a closed cohort
    "alumni": EVERYONE,
    "alumni raum": ORGANISERS,
    "alumni mitglieder": ORGANISERS,
    "alumni import": ORGANISERS,
    "alumni entfernen": ORGANISERS,
    # the web pages: a login link by DM (each page checks its own command's row on each request)
    "dashboard": _row(A, A, A, A, R),
}


def access(command_key: str, role: Role) -> Access:
    return PERMISSIONS[command_key][role]


def require(ctx: CommandContext, key: str) -> None:
    """For sub-actions inside one command (``treffen 2 aendern``): refuse like the dispatcher."""
    if access(key, ctx.role) == "refused":
        raise PermissionDenied(refusal(key, ctx.role), command=key)


def refusal(key: str, role: Role) -> str:
    """The message for a refused command: says what to do instead."""
    if access(key, "participant") == "refused":  # organiser-only, whoever asks
        return N_(
            "„{command}“ ist dem Programmteam vorbehalten. Bitte wenden Sie sich an die "
            "Organisation, wenn Sie das brauchen."
        )
    if role == "outsider":
        return N_(
            "„{command}“ ist nur für Teilnehmende des Jahrgangs. Melden Sie sich mit "
            "„anmelden“ an, oder wenden Sie sich an das Programmteam."
        )
    if role == "waitlisted":
        return N_(
            "„{command}“ ist erst mit bestätigtem Platz möglich. Sie stehen auf der "
            "Warteliste; wir melden uns, sobald ein Platz frei wird."
        )
    return N_(
        "„{command}“ ist dem Programmteam vorbehalten. Bitte wenden Sie sich an die "
        "Organisation, wenn Sie das brauchen."
    )


def markdown_table(keys: list[str]) -> str:
    """The rows for ``keys`` as Markdown, for the README (a test keeps the two identical)."""
    labels = {"allowed": "✓", "refused": "–", "reduced": "reduziert"}
    head = "| Befehl | " + " | ".join(ROLE_LABELS[r] for r in ROLES) + " |"
    rule = "|---|" + "---|" * len(ROLES)
    rows = [
        f"| `{key}` | " + " | ".join(labels[row[r]] for r in ROLES) + " |"
        for key, row in PERMISSIONS.items()
        if key in keys
    ]
    return "\n".join([head, rule, *rows])


ROLE_LABELS: dict[Role, str] = {
    "organiser": "Programmteam",
    "host": "Gastgeberstadt",
    "participant": "Teilnehmende",
    "waitlisted": "Warteliste",
    "outsider": "Außenstehende",
}
