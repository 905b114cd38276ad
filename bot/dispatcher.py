"""From a request to replies: parse, identify the caller, check permissions, run the command.

User errors become a private answer in the caller's language; a briefly unreachable database
becomes "please try again"; anything else is logged with context and answered with an apology.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy.exc import DBAPIError, OperationalError

from bot import caller, confirm
from bot.actions import Action, CommandAction, ConfirmAction, InvalidAction
from bot.clock import Clock
from bot.commands.registry import CommandRegistry
from bot.context import CommandContext, Reply, Request
from bot.errors import PermissionDenied, TemporarilyUnavailable, UserFacingError
from bot.forms import (
    CANCEL,
    FREE_TEXT,
    NO,
    YES,
    accepts,
    continue_dialog,
    current_field,
    start_dialog,
)
from bot.i18n import N_, translator
from bot.people import ensure_person
from bot.permissions import access, refusal
from bot.router import Token, clean, fold, parse_line, shorten, strip_prefix
from bot.services import cohort_end
from bot.settings import Settings
from bot.views import Message
from storage.db import forget_writes, has_written
from storage.models import Cohort, Dialog, Person
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# A longer line in a free-text field of a dialog is an answer even if it starts with a
# command word ("Treffen in Hamburg fand ich …"); a short one is asked about.
ANSWER_WORDS = 6
NOTHING_TO_CANCEL = N_(
    "Es läuft gerade keine Eingabe, die „abbrechen“ beenden könnte; es wurde nichts geändert. "
    "„hilfe“ zeigt, was möglich ist."
)


NOT_YOURS = N_(
    "Diese Schaltfläche gehört zu einer Nachricht an eine andere Person; es wurde nichts geändert."
)
NO_COHORT_HERE = N_(
    "Hier ist kein Jahrgang verbunden. Schreiben Sie den Befehl im Kanal des "
    "Jahrgangs, oder ein Organisator verbindet diesen Kanal mit "
    '„jahrgang verbinden "NAME"“.'
)


@dataclass
class Dispatcher:
    uow_factory: Callable[[], UnitOfWork]
    registry: CommandRegistry
    settings: Settings
    clock: Clock
    # Console only: with no organiser configured, whoever sets up the first cohort becomes one.
    bootstrap_organiser: bool = False

    def handle(self, request: Request) -> list[Reply]:
        """A typed line (channel command, DM, or an answer in a guided dialog)."""
        return self._guarded(request, lambda uow, p, seen: self._line(request, uow, p, seen))

    def submit_form(
        self, request: Request, form_id: str, values: dict[str, str], context: dict[str, str]
    ) -> list[Reply]:
        """A submitted form (Slack modal, or the end of a guided DM dialog)."""
        return self._guarded(
            request,
            lambda uow, p, seen: [self._form(request, uow, p, form_id, values, context, seen)],
        )

    def handle_action(self, request: Request, action: Action) -> list[Reply]:
        """A clicked button's typed action (decoded and checked by :func:`bot.actions.decode`),
        authorised again here: the permission row of its command for the caller's role, then
        the command's own rules. Never parsed from text."""
        return self._guarded(
            request, lambda uow, p, seen: self._action(request, uow, p, action, seen)
        )

    def _guarded(
        self,
        request: Request,
        work: Callable[[UnitOfWork, Person, caller.Channel | None], list[Reply]],
    ) -> list[Reply]:
        language: str = self.settings.language
        try:
            with self.uow_factory() as uow:
                session = uow.session
                forget_writes(session)
                seen = caller.in_channel(uow, request)
                known = (
                    (seen.identity, seen.person)
                    if seen is not None and seen.identity is not None and seen.person is not None
                    else None
                )
                person = ensure_person(
                    uow,
                    request.identity,
                    self.clock.now(),
                    request.display_name,
                    request.handle,
                    known=known,
                )
                if has_written(session) or session.new or session.dirty:
                    # First contact, a new handle, last_seen_at (hourly): kept even if the
                    # command fails. Otherwise the command runs in the same transaction.
                    uow.commit()
                    seen = None  # read again in the command's transaction
                language = person.language or self.settings.language
                return work(uow, person, seen)
        except UserFacingError as exc:
            return [Reply(Message.text(exc.render(translator(language))))]
        except (OperationalError, DBAPIError):
            log.exception("database unavailable (%s)", request.conversation.platform)
            err = TemporarilyUnavailable(
                N_("Der Dienst ist vorübergehend nicht verfügbar, bitte gleich noch einmal.")
            )
            return [Reply(Message.text(err.render(translator(language))))]
        except Exception:
            # No personal data in logs: the platform and the kind of conversation only.
            log.exception(
                "command failed: platform=%s direct=%s",
                request.conversation.platform,
                request.conversation.is_direct,
            )
            apology = translator(language)(
                N_(
                    "Entschuldigung, dabei ist ein Fehler aufgetreten. Das Programmteam wurde "
                    "informiert; bitte versuchen Sie es später noch einmal."
                )
            )
            return [Reply(Message.text(apology))]

    def _line(
        self, request: Request, uow: UnitOfWork, person: Person, seen: caller.Channel | None = None
    ) -> list[Reply]:
        text, had_prefix = strip_prefix(clean(request.text))
        translate = translator(person.language or self.settings.language)
        if request.conversation.is_direct and not had_prefix:
            dialog = uow.dialogs.of_person(person.id)
            if dialog is not None:
                return self._in_dialog(request, uow, person, dialog, text, translate)
        if not text:
            return [self._hint(translate)] if had_prefix else []
        if confirm.is_yes(text):
            return self._confirmed(request, uow, person, translate)
        return self._command(request, uow, person, text, translate, seen)

    def _confirmed(
        self, request: Request, uow: UnitOfWork, person: Person, translate: Callable[[str], str]
    ) -> list[Reply]:
        """``ja``: run the command whose preview the person saw, now for real."""
        waiting = confirm.pending(uow, person.id, self.clock.now())
        if waiting is None or not confirm.matches(waiting, request.conversation):
            uow.commit()  # an expired preview was dropped
            raise UserFacingError(confirm.NOTHING_PENDING)
        confirm.forget(uow, person.id)
        again = replace(request, text=waiting.text, conversation=waiting.conversation)
        digest = waiting.digest
        return self._command(
            again, uow, person, waiting.text, translate, None, confirmed=True, previewed=digest
        )

    def _command(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        text: str,
        translate: Callable[[str], str],
        seen: caller.Channel | None = None,
        *,
        confirmed: bool = False,
        previewed: str | None = None,
    ) -> list[Reply]:
        parsed = parse_line(text)
        found = self.registry.resolve(parsed.tokens)
        if found is None:
            if fold(text) in CANCEL:  # "abbrechen" with nothing open: never "ablehnen"
                return [Reply(Message.text(translate(NOTHING_TO_CANCEL)))]
            return [self._unknown(text, translate)]
        spec, used = found
        ctx = self._context(request, uow, person, spec.key, seen)
        ctx.args = [t.text for t in parsed.tokens[used:]]
        # unknown options are refused here, before the handler runs
        ctx.options = spec.read_options(parsed.options, ctx.language)
        if spec.key in confirm.PREVIEWED:
            ctx.args, skip = confirm.take_skip_flag(spec.key, parsed.tokens[used:])
            ctx.confirmed = confirmed or skip
            ctx.previewed = None if skip else previewed
        cohort_end.check_writable(spec.key, ctx.args, ctx.cohort, self.settings.timezone)
        if spec.needs_cohort and ctx.cohort is None:
            raise UserFacingError(
                N_(
                    "Hier ist kein Jahrgang verbunden. Schreiben Sie den Befehl im Kanal des "
                    "Jahrgangs, oder ein Organisator verbindet diesen Kanal mit "
                    '„jahrgang verbinden "NAME"“.'
                )
            )
        return [self._open_form_or_reply(request, uow, person, spec.handler(ctx), translate)]

    def _form(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        form_id: str,
        values: dict[str, str],
        context: dict[str, str],
        seen: caller.Channel | None = None,
    ) -> Reply:
        found = self.registry.form(form_id)
        if found is None:
            raise UserFacingError(N_("Dieses Formular ist veraltet. Bitte starten Sie neu."))
        key, handler = found
        ctx = self._context(request, uow, person, key, seen)
        cohort_end.check_writable(key, [], ctx.cohort, self.settings.timezone)
        ctx.options = dict(context)
        return handler(ctx, values)

    def _in_dialog(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        dialog: Dialog,
        text: str,
        translate: Callable[[str], str],
    ) -> list[Reply]:
        """A line typed while a guided dialog is open: an answer, or a command that runs
        (the dialog stays open), or — when it could be either — the question which."""
        pending = dialog.state.get("pending_command")
        if isinstance(pending, str):
            dialog.state = {k: v for k, v in dialog.state.items() if k != "pending_command"}
            answer = fold(text.strip())
            if answer in YES:  # cancel the dialog, run the command
                uow.dialogs.remove(dialog)
                uow.commit()
                done = Reply(Message.text(translate(N_("Eingabe abgebrochen."))))
                if confirm.is_yes(pending):  # it was the "ja" to a preview
                    return [done, *self._confirmed(request, uow, person, translate)]
                return [done, *self._command(request, uow, person, pending, translate)]
            if answer in NO:  # it was the answer after all
                return self._dialog(request, uow, person, dialog, pending)
        field = current_field(dialog)
        free = field is not None and field.kind in FREE_TEXT
        # "ja" may answer the dialog or confirm a pending preview: ask, never guess
        now = self.clock.now()
        waiting = confirm.pending(uow, person.id, now) if confirm.is_yes(text) else None
        both = waiting is not None and confirm.matches(waiting, request.conversation)
        free = free or both
        if not (both or self._is_command(text)) or (free and len(text.split()) > ANSWER_WORDS):
            return self._dialog(request, uow, person, dialog, text)
        if both or (field is not None and accepts(field, text)):
            if not free:  # a choice that fits is the answer
                return self._dialog(request, uow, person, dialog, text)
            # "Treffen" may be a town, "hilfe" a feedback answer: ask, never guess
            dialog.state = {**dialog.state, "pending_command": text}
            dialog.updated_at = self.clock.now()
            uow.commit()
            ask = translate(
                N_(
                    "„{text}“ ist auch ein Befehl. Dialog abbrechen und den Befehl ausführen? "
                    "Antworten Sie „ja“. Mit „nein“ nehme ich „{text}“ als Antwort auf "
                    "„{label}“."
                )
            ).format(text=shorten(text), label=field.label if field else "")
            return [Reply(Message.text(ask))]
        replies = self._command(request, uow, person, text, translate)
        still = uow.dialogs.of_person(person.id)
        if still is not None and still is not dialog:  # the command opened another dialog
            ended = translate(
                N_(
                    "Die vorige Eingabe „{title}“ ist damit beendet; davon wurde nichts "
                    "gespeichert."
                )
            ).format(title=dialog.state["form"].get("title", ""))
            replies.append(Reply(Message.text(ended)))
        if still is dialog and not dialog.state.get("noted"):
            # said once per dialog: the command ran, the dialog waits for its answer
            still.state = {**still.state, "noted": True}
            uow.commit()
            label = field.label if field is not None else ""
            note = translate(
                N_(
                    "Ihre Eingabe läuft weiter: Antworten Sie auf „{label}“, oder „abbrechen“ "
                    "beendet sie."
                )
            ).format(label=label)
            replies.append(Reply(Message.text(note)))
        return replies

    def _action(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        action: Action,
        seen: caller.Channel | None,
    ) -> list[Reply]:
        translate = translator(person.language or self.settings.language)
        if action.person is not None and action.person != person.id:
            raise InvalidAction(NOT_YOURS)
        if isinstance(action, ConfirmAction):
            return self._confirmed(request, uow, person, translate)
        if isinstance(action, CommandAction):
            return self._command_action(request, uow, person, action, translate, seen)
        typed = self.registry.action(action.kind)
        if typed is None:
            raise InvalidAction()
        cohort_id = typed.scope(uow, action)
        cohort: Cohort | None
        if seen is not None and seen.cohort is not None and seen.cohort.id == cohort_id:
            cohort, role = seen.cohort, caller.role(person, seen.cohort, seen.participant)
        else:
            cohort = uow.cohorts.get(cohort_id)
            role = self.role_of(uow, person, cohort)
        if access(typed.key, role) == "refused":
            raise PermissionDenied(refusal(typed.key, role), command=typed.key)
        cohort_end.check_writable(typed.key, [], cohort, self.settings.timezone)
        language = person.language or self.settings.language
        ctx = CommandContext(
            request=request,
            uow=uow,
            person=person,
            cohort=cohort,
            role=role,
            language=language,
            translate=translator(language),
            now=self.clock.now(),
            tz=self.settings.tz,
            settings=self.settings,
            default_language=self.settings.language,
        )
        return [typed.handler(ctx, action)]

    def _command_action(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        action: CommandAction,
        translate: Callable[[str], str],
        seen: caller.Channel | None,
    ) -> list[Reply]:
        """ "Run this command" from a button: the key must name a registered command; the
        arguments are plain words (no options, nothing parsed)."""
        words = action.key.split()
        tokens = [Token(w, False) for w in words] + [Token(a, False) for a in action.args]
        found = self.registry.resolve(tokens)
        if found is None or found[1] < len(words):
            raise InvalidAction()
        spec, used = found
        request = replace(request, text=action.text())
        ctx = self._context(request, uow, person, spec.key, seen)
        ctx.args = [t.text for t in tokens[used:]]
        ctx.options = {}
        if spec.key in confirm.PREVIEWED:
            ctx.args, ctx.confirmed = confirm.take_skip_flag(spec.key, tokens[used:])
        cohort_end.check_writable(spec.key, ctx.args, ctx.cohort, self.settings.timezone)
        if spec.needs_cohort and ctx.cohort is None:
            raise UserFacingError(NO_COHORT_HERE)
        return [self._open_form_or_reply(request, uow, person, spec.handler(ctx), translate)]

    def _is_command(self, text: str) -> bool:
        try:
            tokens = parse_line(text).tokens
        except UserFacingError:
            return False
        # "1. …" (a numbered feedback answer) is an answer here, not the command alias
        if not tokens or not tokens[0].text[:1].isalpha():
            return False
        return self.registry.resolve(tokens) is not None

    def _dialog(
        self, request: Request, uow: UnitOfWork, person: Person, dialog: Dialog, text: str
    ) -> list[Reply]:
        translate = translator(person.language or self.settings.language)
        step = continue_dialog(uow, dialog, text, self.clock.now(), translate)
        if step.finished_values is None or step.form is None:
            uow.commit()
            return [Reply(step.message)]
        # The finished dialog is removed in the submission's transaction: a crash (or a lost
        # database) in between must not lose the answers; the last answer typed again submits.
        try:
            reply = self._form(
                request, uow, person, step.form.form_id, step.finished_values, step.form.context
            )
        except UserFacingError:
            uow.rollback()  # the submission failed: the dialog ends as before, nothing saved
            stale = uow.dialogs.of_person(person.id)
            if stale is not None:
                uow.dialogs.remove(stale)
                uow.commit()
            raise
        uow.commit()  # the dialog's removal, if the handler did not commit
        return [reply]

    def _open_form_or_reply(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        reply: Reply,
        translate: Callable[[str], str],
    ) -> Reply:
        """Slack opens a modal for a form; elsewhere a guided dialog asks by DM."""
        if reply.form is None or request.can_open_forms:
            return reply
        given = {f.name: f.initial for f in reply.form.fields if f.initial}
        step = start_dialog(uow, person.id, reply.form, given, self.clock.now(), translate)
        uow.commit()
        return Reply(step.message, private=True)

    def _context(
        self,
        request: Request,
        uow: UnitOfWork,
        person: Person,
        key: str,
        seen: caller.Channel | None = None,
    ) -> CommandContext:
        if seen is not None:
            cohort = seen.cohort
            role = caller.role(person, cohort, seen.participant)
        else:
            cohort = self.cohort_for(uow, request, person)
            role = self.role_of(uow, person, cohort)
        if access(key, role) == "refused" and not self._may_bootstrap(uow, request, key):
            raise PermissionDenied(refusal(key, role), command=key)
        language = person.language or self.settings.language
        return CommandContext(
            request=request,
            uow=uow,
            person=person,
            cohort=cohort,
            role=role,
            language=language,
            translate=translator(language),
            now=self.clock.now(),
            tz=self.settings.tz,
            settings=self.settings,
            default_language=self.settings.language,
        )

    def _unknown(self, text: str, translate: Callable[[str], str]) -> Reply:
        word = shorten(text.split()[0], 40)
        suggestion = self.registry.suggest(text)
        if suggestion:
            msg = translate(
                N_(
                    "Unbekannter Befehl „{word}“. Meinten Sie „{suggestion}“? — „hilfe“ zeigt, "
                    "was möglich ist."
                )
            ).format(word=word, suggestion=suggestion)
        else:
            msg = translate(
                N_("Unbekannter Befehl „{word}“ — „hilfe“ zeigt, was möglich ist.")
            ).format(word=word)
        return Reply(Message.text(msg))

    def _hint(self, translate: Callable[[str], str]) -> Reply:
        return Reply(Message.text(translate(N_("Schreiben Sie „hilfe“, um die Befehle zu sehen."))))

    def _may_bootstrap(self, uow: UnitOfWork, request: Request, key: str) -> bool:
        return (
            self.bootstrap_organiser
            and key == "jahrgang anlegen"
            and request.conversation.platform == "console"
            and not uow.persons.organisers()
        )

    # kept as methods: tests and adapters ask the dispatcher who someone is
    cohort_for = staticmethod(caller.cohort_for)
    role_of = staticmethod(caller.role_of)
