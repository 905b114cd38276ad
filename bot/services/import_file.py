"""Where an import's CSV comes from, and the checks before its rows are read.

From chat the bot reads only a file the organiser uploaded in the conversation (the adapter
fetches it as an :class:`~bot.context.Attachment`); a path typed in chat is never opened. The
console, which runs on the organiser's own machine, may name a file relative to its working
directory (no absolute paths, no ``..`` out of it); the command line
(``stadtlabor import teilnehmende DATEI.csv --jahrgang NAME``, :mod:`handlers.cli`) reads any
file its user can.
Error messages name the file's problem, never its content.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.context import Attachment
from bot.errors import UserFacingError
from bot.i18n import N_

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
