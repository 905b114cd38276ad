"""The command line's one-shot tasks: ``stadtlabor export ics`` and ``stadtlabor import
teilnehmende``.

Like the chat adapters it only translates: arguments in, a service call, text and an exit status
out. The services return values (the calendar as bytes, the import report); reading and writing
files, stdout and stderr happen here. ``app.main`` parses the arguments and wires the runtime.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.runtime import Runtime
from bot.services import calendar, cohorts, invitations
from bot.services import participants as parts
from bot.services.import_file import csv_text, read_file


def export_ics_cli(bot: Runtime, cohort_name: str, path: str | None) -> int:
    """``stadtlabor export ics --jahrgang NAME [--ausgabe datei.ics]``: the exit status (0
    written, 1 the file cannot be written, 2 unknown cohort). No path or ``-``: stdout."""
    with bot.uow_factory() as uow:
        try:
            cohort = cohorts.named_for_cli(uow, cohort_name)
        except LookupError as exc:
            print(exc, file=sys.stderr)
            return 2
        data = calendar.build(
            uow,
            cohort,
            tz=bot.settings.tz,
            language=bot.settings.language,
            now=bot.clock.now(),
            with_items=True,
        )
    if path is None or path == "-":
        sys.stdout.write(data.decode("utf-8"))
        return 0
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        print(f"Kann {path} nicht schreiben: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def import_cli(
    bot: Runtime,
    path: str,
    cohort_name: str,
    *,
    dry_run: bool = False,
) -> int:
    """``stadtlabor import teilnehmende DATEI.csv --jahrgang NAME [--probelauf]``: the exit
    status (0 done, 1 the file has errors, 2 unknown cohort or unreadable file). The audit
    log records the import with no acting person (the server's operator ran it)."""
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
                ),
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
                settings=bot.settings,
            )
            invitations.send_for_cohort(uow, cohort.id, settings=bot.settings, now=bot.clock.now())
            uow.commit()
    except UserFacingError as exc:
        print(f"stadtlabor: {exc.render(_)}", file=sys.stderr)
        return 2
    print(_(N_("Import ausgeführt.")))
    return 0
