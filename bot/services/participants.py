"""Participant lists, CSV export/import, roles and the host-city flag (organiser work)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.errors import UserFacingError
from bot.forms import validate_field
from bot.i18n import N_
from bot.notify import tell
from bot.services.audit import record
from bot.services.registration import ACTIVE, FUNCTIONS, Details, register, withdraw
from bot.services.welcome import tell_added
from bot.settings import Settings
from bot.views import FormField
from storage.models import Cohort, Person
from storage.ports import UnitOfWorkPort

CSV_HEADER = ("name", "kommune", "funktion", "email")
MAX_IMPORT_ROWS = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Row:
    person_id: int
    name: str
    municipality: str
    function: str
    email: str
    status: str
    is_host: bool


def roster(uow: UnitOfWorkPort, cohort: Cohort, *statuses: str) -> list[Row]:
    rows = []
    for p in uow.participants.in_cohort(cohort.id, *statuses):
        person = uow.persons.get(p.person_id)
        assert person is not None
        rows.append(
            Row(
                person.id,
                person.display_name or "?",
                person.municipality or "",
                person.function or "",
                person.email or "",
                p.status,
                p.is_host,
            )
        )
    return rows


def safe_cell(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; make them plain text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CSV_HEADER, "status", "gastgeber"])
    for r in rows:
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    r.name,
                    r.municipality,
                    r.function,
                    r.email,
                    r.status,
                    "ja" if r.is_host else "nein",
                )
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # BOM: Excel then reads umlauts correctly


@dataclass
class ImportReport:
    new: list[Details] = field(default_factory=list)
    updated: list[Details] = field(default_factory=list)
    unchanged: int = 0
    # By line: what is wrong, naming the column, never the cell's content.
    errors: list[tuple[int, UserFacingError]] = field(default_factory=list)


_FIELDS = {
    "name": FormField("name", "name", max_length=200),
    "kommune": FormField("kommune", "kommune", max_length=200),
    "funktion": FormField("funktion", "funktion", max_length=100, options=FUNCTIONS),
    "email": FormField("email", "email", kind="email", max_length=254),
}


def read_import(uow: UnitOfWorkPort, cohort: Cohort, content: str) -> ImportReport:
    """Check every row; the report says by line what would change. Nothing is written here."""
    report = ImportReport()
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        _read_rows(uow, cohort, reader, report)
    except csv.Error:
        raise UserFacingError(
            N_("Die Datei ist keine lesbare CSV-Datei (Zeile {line})."), line=reader.line_num
        ) from None
    return report


def _read_rows(
    uow: UnitOfWorkPort, cohort: Cohort, reader: Iterator[list[str]], report: ImportReport
) -> None:
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[:4]) != CSV_HEADER:
        raise UserFacingError(
            N_("Die erste Zeile der CSV-Datei muss „name,kommune,funktion,email“ lauten."),
        )
    known = {r.email.lower(): r for r in roster(uow, cohort) if r.email}
    seen: dict[str, int] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if line_no > MAX_IMPORT_ROWS + 1:
            error = UserFacingError(N_("Mehr als {limit} Zeilen."), limit=MAX_IMPORT_ROWS)
            report.errors.append((line_no, error))
            break
        try:
            details = _row_details(cells)
        except UserFacingError as exc:
            report.errors.append((line_no, exc))
            continue
        email = details.email.lower()
        if email in seen:
            error = UserFacingError(
                N_("Die E-Mail-Adresse steht schon in Zeile {line}."), line=seen[email]
            )
            report.errors.append((line_no, error))
            continue
        seen[email] = line_no
        existing = known.get(email)
        if existing is None:
            report.new.append(details)
        elif (existing.name, existing.municipality, existing.function) != (
            details.name,
            details.municipality,
            details.function,
        ):
            report.updated.append(details)
        else:
            report.unchanged += 1


def _row_details(cells: list[str]) -> Details:
    if len(cells) < 4:
        raise UserFacingError(N_("Die Zeile hat weniger als vier Spalten."))
    values = {key: _cell(_FIELDS[key], cells[i]) for i, key in enumerate(CSV_HEADER)}
    return Details(values["name"], values["kommune"], values["funktion"], values["email"])


def _cell(form_field: FormField, raw: str) -> str:
    """The cleaned cell; its error names the column and the rule, never the content (the
    file may not be what the organiser thinks it is)."""
    try:
        return validate_field(form_field, raw) or ""
    except UserFacingError:
        pass
    value, column = raw.strip(), form_field.name
    if not value:
        raise UserFacingError(N_("Spalte „{column}“ ist leer."), column=column)
    if len(value) > form_field.max_length:
        raise UserFacingError(
            N_("Spalte „{column}“ ist zu lang (höchstens {limit} Zeichen)."),
            column=column,
            limit=form_field.max_length,
        )
    if form_field.kind == "email":
        raise UserFacingError(
            N_("Spalte „{column}“ enthält keine gültige E-Mail-Adresse."), column=column
        )
    if form_field.kind == "select":
        raise UserFacingError(
            N_("Spalte „{column}“: möglich sind {options}."),
            column=column,
            options=", ".join(form_field.options),
        )
    raise UserFacingError(N_("Spalte „{column}“ ist ungültig."), column=column)


def apply_import(
    uow: UnitOfWorkPort,
    *,
    actor_id: int | None,
    cohort: Cohort,
    report: ImportReport,
    now: datetime,
    language: str,
    default_language: str,
    tz: ZoneInfo,
    settings: Settings | None = None,
) -> None:
    """Write a checked import, all rows or none (the caller commits once)."""
    if report.errors:
        raise UserFacingError(
            N_(
                "Die Datei enthält fehlerhafte Zeilen; es wurde nichts "
                "importiert. Bitte korrigieren Sie sie zuerst."
            )
        )
    by_email = {r.email.lower(): r.person_id for r in roster(uow, cohort) if r.email}
    for details in report.updated:
        person = uow.persons.get(by_email[details.email.lower()])
        assert person is not None
        before = {
            "name": person.display_name,
            "kommune": person.municipality,
            "funktion": person.function,
        }
        person.display_name, person.municipality = details.name, details.municipality
        person.function = details.function
        record(
            uow,
            actor_id=actor_id,
            action="import.aendern",
            now=now,
            cohort_id=cohort.id,
            subject_id=person.id,
            before=before,
            after={
                "name": details.name,
                "kommune": details.municipality,
                "funktion": details.function,
            },
        )
    for details in report.new:
        add_on_behalf(
            uow,
            actor_id=actor_id,
            cohort=cohort,
            details=details,
            now=now,
            language=language,
            default_language=default_language,
            tz=tz,
            settings=settings,
        )


def add_on_behalf(
    uow: UnitOfWorkPort,
    *,
    actor_id: int | None,
    cohort: Cohort,
    details: Details,
    now: datetime,
    language: str,
    default_language: str,
    tz: ZoneInfo,
    settings: Settings | None = None,
) -> tuple[Person, str, int]:
    """Register a new person on their behalf (the organiser has their consent); with
    ``settings`` they are told where they stand, with the privacy notice (by e-mail when they
    have no chat account)."""
    person = Person(display_name=details.name, created_at=now, is_organiser=False)
    uow.persons.add(person)
    outcome = register(
        uow,
        cohort=cohort,
        person=person,
        details=details,
        consent=True,
        now=now,
        language=language,
        default_language=default_language,
        tz=tz,
        on_behalf_of=actor_id,
    )
    if settings is not None:
        tell_added(
            uow,
            person,
            cohort=cohort,
            status=outcome.status,
            position=outcome.position,
            settings=settings,
            now=now,
        )
    return person, outcome.status, outcome.position


def remove(
    uow: UnitOfWorkPort,
    *,
    actor_id: int,
    cohort: Cohort,
    person: Person,
    now: datetime,
    default_language: str,
) -> tuple[str, Person | None]:
    """An organiser ends ``person``'s registration: the seat goes to the waitlist (see
    :func:`withdraw`), the person is told, the audit log records it. Returns the status it had
    and whoever moved up."""
    participant = uow.participants.get(cohort.id, person.id)
    before = participant.status if participant is not None else None
    moved_up = withdraw(
        uow, cohort=cohort, person=person, now=now, default_language=default_language
    )
    assert participant is not None and before is not None  # withdraw refused otherwise
    tell(
        uow,
        person,
        N_(
            "Das Programmteam hat Ihre Anmeldung für „{cohort}“ beendet. Bei Fragen wenden Sie "
            "sich bitte an die Organisation. Ihre Daten können Sie mit „meine-daten“ abrufen."
        ),
        now=now,
        default_language=default_language,
        key=f"removed:{cohort.id}:{person.id}:{participant.updated_at.isoformat()}",
        cohort=cohort.name,
    )
    record(
        uow,
        actor_id=actor_id,
        action="teilnehmende.entfernen",
        now=now,
        cohort_id=cohort.id,
        subject_id=person.id,
        before={"status": before},
        after={"status": "withdrawn"},
    )
    return before, moved_up


def set_organiser(
    uow: UnitOfWorkPort, *, actor_id: int, person: Person, organiser: bool, now: datetime
) -> None:
    if not organiser and person.id == actor_id and len(uow.persons.organisers()) == 1:
        raise UserFacingError(
            N_(
                "Sie sind die einzige Person im Programmteam. Ernennen Sie "
                "zuerst jemand anderen, bevor Sie Ihre Rolle abgeben."
            )
        )
    before = person.is_organiser
    person.is_organiser = organiser
    record(
        uow,
        actor_id=actor_id,
        action="rolle",
        now=now,
        subject_id=person.id,
        before={"organisation": before},
        after={"organisation": organiser},
    )


def set_host(
    uow: UnitOfWorkPort, *, actor_id: int, cohort: Cohort, person: Person, host: bool, now: datetime
) -> None:
    participant = uow.participants.get(cohort.id, person.id)
    if participant is None or participant.status != "confirmed":
        raise UserFacingError(
            N_(
                "{name} hat keinen bestätigten Platz in diesem Jahrgang; nur "
                "Teilnehmende können zur Gastgeberstadt gehören."
            ),
            name=person.display_name or "?",
        )
    before = participant.is_host
    participant.is_host = host
    record(
        uow,
        actor_id=actor_id,
        action="gastgeber",
        now=now,
        cohort_id=cohort.id,
        subject_id=person.id,
        before={"gastgeber": before},
        after={"gastgeber": host},
    )


def change(
    uow: UnitOfWorkPort,
    *,
    actor_id: int,
    cohort: Cohort,
    person: Person,
    details: Details,
    now: datetime,
) -> dict[str, tuple[str | None, str | None]]:
    """An organiser corrects a registered person's details (name, municipality, function,
    e-mail, office contact); the audit log records ``teilnehmende.aendern`` with only what
    changed. Returns ``{field: (before, after)}``; nothing changed is refused."""
    participant = uow.participants.get(cohort.id, person.id)
    if participant is None or participant.status not in ACTIVE:
        raise UserFacingError(
            N_("{name} ist in diesem Jahrgang nicht angemeldet."), name=person.display_name or "?"
        )
    before = {
        "name": person.display_name,
        "kommune": person.municipality,
        "funktion": person.function,
        "email": person.email,
        "bueroleitung": participant.office_contact,
    }
    after = {
        "name": details.name,
        "kommune": details.municipality,
        "funktion": details.function,
        "email": details.email,
        "bueroleitung": details.office_contact or None,
    }
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    if not changed:
        raise UserFacingError(N_("Nichts geändert: Die Angaben sind dieselben wie bisher."))
    person.display_name, person.municipality = details.name, details.municipality
    person.function, person.email = details.function, details.email
    participant.office_contact = details.office_contact or None
    record(
        uow,
        actor_id=actor_id,
        action="teilnehmende.aendern",
        now=now,
        cohort_id=cohort.id,
        subject_id=person.id,
        before={k: old for k, (old, _new) in changed.items()},
        after={k: new for k, (_old, new) in changed.items()},
    )
    return changed
