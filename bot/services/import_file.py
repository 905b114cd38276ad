"""Where an import's CSV comes from, and the checks before its rows are read.

From chat the bot reads only a file the organiser uploaded in the conversation (the adapter
fetches it as an :class:`~bot.context.Attachment`); a path typed in chat is never opened. The
console, which runs on the organiser's own machine, may name a file relative to its working
directory (no absolute paths, no ``..`` out of it); the command line
(``stadtlabor import teilnehmende DATEI.csv --jahrgang NAME``) reads any file its user can.
Error messages name the file's problem, never its content.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.context import Attachment
from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.services import cohorts

if TYPE_CHECKING:
    from bot.runtime import Runtime

MAX_IMPORT_BYTES = 1_000_000
# A command without a file of its own takes the caller's last upload in the conversation
# from at most this long ago (so "ja" after the dry run finds the same file again).
UPLOAD_WINDOW = timedelta(minutes=30)
CSV_SUFFIXES = (".csv", ".txt")


def too_large() -> UserFacingError:
    return UserFacingError(
        N_("Die Datei ist zu groß (höchstens 1 MB). Bitte teilen Sie die Liste auf."),
    )


def csv_text(attachment: Attachment) -> str:
    """The file's text, or a UserFacingError saying what is wrong with it (not what is in it)."""
    if not attachment.filename.lower().endswith(CSV_SUFFIXES):
        raise UserFacingError(
            N_(
                "„{filename}“ ist keine CSV-Datei. Bitte speichern Sie die Liste als CSV "
                "(UTF-8) mit der Kopfzeile „name,kommune,funktion,email“."
            ),
            filename=Path(attachment.filename).name[:80],
        )
    if len(attachment.content) > MAX_IMPORT_BYTES:
        raise too_large()
    try:
        text = attachment.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserFacingError(
            N_(
                "Die Datei ist nicht in UTF-8 gespeichert. Bitte speichern Sie sie als "
                "„CSV UTF-8“ und laden Sie sie erneut hoch."
            )
        ) from None
    if "\x00" in text:
        raise UserFacingError(N_("Die Datei ist keine Textdatei. Bitte laden Sie eine CSV hoch."))
    return text


def no_upload() -> UserFacingError:
    return UserFacingError(
        N_(
            "Aus dem Chat lese ich keine Dateien vom Server. Bitte laden Sie die CSV-Datei "
            "in dieser Unterhaltung hoch – mit „import teilnehmende“ als Nachricht dazu "
            "oder schreiben Sie den Befehl innerhalb von 30 Minuten danach."
        )
    )


def console_file(name: str, base: Path) -> Attachment:
    """A file named relative to ``base`` (the console's working directory), read by bytes."""
    relative = Path(name)
    root = base.resolve()
    path = (root / relative).resolve()
    if relative.is_absolute() or name.startswith("~") or not path.is_relative_to(root):
        raise UserFacingError(
            N_(
                "Bitte nennen Sie die Datei relativ zum Arbeitsverzeichnis der Konsole, "
                "z. B. „import teilnehmende liste.csv“ (ohne „/“ am Anfang und ohne „..“)."
            )
        )
    return read_file(path)


def read_file(path: Path) -> Attachment:
    """At most MAX_IMPORT_BYTES + 1 bytes of ``path`` (one more tells it is too large)."""
    try:
        with path.open("rb") as handle:
            content = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError:
        raise UserFacingError(
            N_("Die Datei „{filename}“ kann ich nicht lesen. Ist der Name richtig?"),
            filename=path.name[:80],
        ) from None
    return Attachment(path.name, content)


def import_cli(bot: Runtime, path: str, cohort_name: str, *, dry_run: bool = False) -> int:
    """``stadtlabor import teilnehmende DATEI.csv --jahrgang NAME [--probelauf]``: the exit
    status (0 done, 1 the file has errors, 2 unknown cohort or unreadable file). The audit
    log records the import with no acting person (the server's operator ran it)."""
    from bot.services import participants as parts

    _ = translator(bot.settings.language)
    try:
        text = csv_text(read_file(Path(path)))
        with bot.uow_factory() as uow:
            try:
                cohort = cohorts.named_for_cli(uow, cohort_name)
            except LookupError as exc:
                print(exc, file=sys.stderr)
                return 2
            report = parts.read_import(uow, cohort, text)
            print(
                _(
                    N_("Neu: {new}, geändert: {changed}, unverändert: {same}, fehlerhaft: {errors}")
                ).format(
                    new=len(report.new),
                    changed=len(report.updated),
                    same=report.unchanged,
                    errors=len(report.errors),
                )
            )
            for line, error in report.errors:
                print(_(N_("Zeile {line}: {error}")).format(line=line, error=error.render(_)))
            if report.errors:
                print(_(N_("Es wurde nichts importiert. Bitte korrigieren Sie die Zeilen.")))
                return 1
            if dry_run:
                return 0
            parts.apply_import(
                uow,
                actor_id=None,
                cohort=cohort,
                report=report,
                now=bot.clock.now(),
                language=bot.settings.language,
                default_language=bot.settings.language,
                tz=bot.settings.tz,
            )
            uow.commit()
    except UserFacingError as exc:
        print(f"stadtlabor: {exc.render(_)}", file=sys.stderr)
        return 2
    print(_(N_("Import ausgeführt.")))
    return 0
