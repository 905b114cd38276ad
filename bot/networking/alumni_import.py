"""``alumni import DATEI.csv``: contacts of the former "Netzwerk demografiefeste Kommune" as
alumni. The file goes through the participant import's checks (bot.services.import_file); each
row is checked and named by line before anything lands. Rows with consent become findable
alumni; rows without are only counted (no name, no address is stored)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.mail_address import normalise
from bot.networking import alumni
from bot.networking.topics import parse_tags
from bot.router import fold
from bot.services.audit import record
from storage.models_alumni import AlumniImport, Alumnus
from storage.uow import UnitOfWork

HEADER = ("name", "kommune", "email", "themen", "einwilligung")
MAX_ROWS = 2000
MAX_TOPICS = 10


@dataclass(frozen=True)
class Row:
    name: str
    municipality: str
    email: str
    topics: tuple[str, ...]


@dataclass
class Report:
    consenting: list[Row] = field(default_factory=list)
    without_consent: int = 0
    known: int = 0  # consenting rows whose address is already an alumnus (left as they are)
    errors: list[tuple[int, UserFacingError]] = field(default_factory=list)


def read(uow: UnitOfWork, content: str) -> Report:
    """Check every row; nothing is written here."""
    report = Report()
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    try:
        header = tuple(h.strip().lower() for h in next(reader, []))
        if header[:5] != HEADER:
            raise UserFacingError(
                N_(
                    "Die erste Zeile der CSV-Datei muss „name,kommune,email,themen,einwilligung“ "
                    "lauten."
                )
            )
        known = set(uow.session.scalars(select(Alumnus.email).where(Alumnus.email.is_not(None))))
        seen: dict[str, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if line > MAX_ROWS + 1:
                report.errors.append(
                    (line, UserFacingError(N_("Mehr als {limit} Zeilen."), limit=MAX_ROWS))
                )
                break
            try:
                row, consent = _row(cells)
            except UserFacingError as error:
                report.errors.append((line, error))
                continue
            if not consent:
                report.without_consent += 1
                continue
            if row.email in seen:
                report.errors.append(
                    (
                        line,
                        UserFacingError(
                            N_("Die E-Mail-Adresse steht schon in Zeile {line}."),
                            line=seen[row.email],
                        ),
                    )
                )
                continue
            seen[row.email] = line
            if row.email in known:
                report.known += 1
                continue
            report.consenting.append(row)
    except csv.Error:
        raise UserFacingError(
            N_("Die Datei ist keine lesbare CSV-Datei (Zeile {line})."), line=reader.line_num
        ) from None
    return report


def _row(cells: list[str]) -> tuple[Row, bool]:
    if len(cells) < len(HEADER):
        raise UserFacingError(N_("Die Zeile hat weniger als fünf Spalten."))
    name, municipality, email, tags, consent = (c.strip() for c in cells[:5])
    answer = fold(consent)
    if answer not in ("ja", "nein", "yes", "no"):
        raise UserFacingError(
            N_("Einwilligung ist „ja“ oder „nein“, nicht „{value}“."), value=consent[:20]
        )
    if answer in ("nein", "no"):
        return Row("", "", "", ()), False  # nothing of the row is kept, not even checked
    if not name or len(name) > 200:
        raise UserFacingError(N_("Der Name fehlt oder ist länger als 200 Zeichen."))
    if len(municipality) > 200:
        raise UserFacingError(N_("Die Kommune ist länger als 200 Zeichen."))
    topics = parse_tags(tags)
    if len(topics) > MAX_TOPICS:
        raise UserFacingError(
            N_("Bitte höchstens {limit} Themen angeben; Sie haben {count} genannt."),
            limit=MAX_TOPICS,
            count=len(topics),
        )
    return Row(name, municipality, normalise(email).lower(), tuple(topics)), True


def apply(uow: UnitOfWork, report: Report, *, actor_id: int, now: datetime) -> None:
    """Store the consenting rows as findable alumni and the count of the others."""
    for row in report.consenting:
        alumnus = Alumnus(
            person_id=None,
            name=row.name,
            municipality=row.municipality or None,
            email=row.email,
            topics=list(row.topics),
            consent="ja",
            consent_at=now,
            source="import",
        )
        alumni.repo(uow).add(alumnus)
        alumni.repo(uow).replace_keys(alumnus.id, alumni.topic_keys(row.topics, ""))
    alumni.repo(uow).record_import(
        AlumniImport(
            imported_at=now,
            with_consent=len(report.consenting),
            without_consent=report.without_consent,
        )
    )
    record(
        uow,
        actor_id=actor_id,
        action="alumni.import",
        now=now,
        after={
            "mit-einwilligung": len(report.consenting),
            "ohne-einwilligung": report.without_consent,
        },
    )


def remove_contact(uow: UnitOfWork, address: str, *, actor_id: int, now: datetime) -> bool:
    """An imported contact asks to be removed (by mail to the programme team, Art. 17): the
    row, its keys and meeting answers go. The audit entry names no address."""
    email = normalise(address).lower()
    found = uow.session.scalar(
        select(Alumnus).where(Alumnus.source == "import", Alumnus.email == email)
    )
    if found is None:
        return False
    alumni.repo(uow).remove(found)
    record(uow, actor_id=actor_id, action="alumni.entfernen", now=now, after={"quelle": "import"})
    return True
