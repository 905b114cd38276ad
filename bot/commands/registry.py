"""The command table: German words with English aliases, help texts, handlers."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from bot.actions import Action
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import Token, fold, shorten
from storage.uow import UnitOfWork

Handler = Callable[[CommandContext], Reply]
FormHandler = Callable[[CommandContext, dict[str, str]], Reply]
# A typed action's own handler (bot.actions): which cohort it concerns (the permission row of
# ``key`` is checked for the caller's role there), then what it does.
ActionScope = Callable[[UnitOfWork, Action], int]
ActionHandler = Callable[[CommandContext, Action], Reply]


@dataclass(frozen=True)
class ActionSpec:
    key: str  # the command whose permission row applies
    scope: ActionScope
    handler: ActionHandler


@dataclass(frozen=True)
class Option:
    """One ``name=value`` a command reads. ``name`` is the German key the handler reads;
    ``aliases`` (English first) are mapped to it before the handler runs. ``kind`` checks the
    value up front: "text" (anything) or "positive" (a whole number ≥ 1)."""

    name: str
    help: str  # German message id, marked with N_
    aliases: tuple[str, ...] = ()
    kind: str = "text"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class CommandSpec:
    """``words`` are the German command words; ``key`` names the row in the permission table.

    ``options`` is the one table of ``name=value`` options the command reads: the dispatcher
    refuses any other before the handler runs, and ``hilfe BEFEHL`` lists them. A ``free_text``
    command reads its text from the raw line, where ``a=b`` is text, not an option."""

    words: tuple[str, ...]
    handler: Handler
    summary: str  # German message id, marked with N_
    syntax: str
    example: str
    aliases: tuple[tuple[str, ...], ...] = ()
    group: str = "allgemein"
    needs_cohort: bool = False
    options: tuple[Option, ...] = ()
    free_text: bool = False

    @property
    def key(self) -> str:
        return " ".join(self.words)

    def read_options(self, given: dict[str, str], language: str = "de") -> dict[str, str]:
        """``given`` (keys folded by the router) with every alias mapped to its German name.

        An unknown name is refused with the closest known one (the known ones listed in the
        caller's ``language``); nothing is guessed."""
        if self.free_text:
            return dict(given)
        by_name = {fold(n).replace("_", "-"): o for o in self.options for n in o.names}
        read: dict[str, str] = {}
        for key, value in given.items():
            option = by_name.get(key)
            if option is None:
                raise self._unknown(key, value, by_name, language)
            if option.name in read:
                raise UserFacingError(
                    N_("„{name}=“ ist doppelt angegeben. Bitte nennen Sie es nur einmal."),
                    name=option.name,
                )
            read[option.name] = _checked(option, key, value)
        return read

    def _unknown(
        self, key: str, value: str, by_name: dict[str, Option], language: str
    ) -> UserFacingError:
        shown = shorten(value, 40)
        shown = f'"{shown}"' if not shown or any(c.isspace() for c in shown) else shown
        close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
        english = language == "en"
        known = ", ".join(
            f"{o.aliases[0] if english and o.aliases else o.name}=" for o in self.options
        )
        if close:
            return UserFacingError(
                N_(
                    "„{key}=“ kenne ich nicht (bei „{command}“). Meinten Sie {suggestion}={value}? "
                    "Möglich sind: {known} — es wurde nichts ausgeführt."
                ),
                key=shorten(key, 40),
                command=self.key,
                suggestion=close[0],
                value=shown,
                known=known,
            )
        if known:
            return UserFacingError(
                N_(
                    "„{key}=“ kenne ich nicht (bei „{command}“). Möglich sind: {known} — "
                    "„hilfe {command}“ erklärt sie. Es wurde nichts ausgeführt."
                ),
                key=shorten(key, 40),
                command=self.key,
                known=known,
            )
        return UserFacingError(
            N_(
                "„{command}“ hat keine Angaben mit „=“, „{key}=“ verstehe ich daher nicht. Ist "
                'es Text, setzen Sie ihn in Anführungszeichen: "{key}={value}". Es wurde '
                "nichts ausgeführt."
            ),
            key=shorten(key, 40),
            command=self.key,
            value=shorten(value, 40),
        )


def _checked(option: Option, key: str, value: str) -> str:
    if option.kind == "positive":
        digits = value.strip()
        if not (digits.isdigit() and int(digits) >= 1):
            raise UserFacingError(
                N_("„{key}“ muss eine ganze Zahl ab 1 sein (nicht „{value}“), z. B. {key}=20."),
                key=shorten(key, 40),
                value=shorten(value, 40),
            )
    return value


class CommandRegistry:
    def __init__(self) -> None:
        self._by_words: dict[tuple[str, ...], CommandSpec] = {}
        self._specs: list[CommandSpec] = []
        self._forms: dict[str, tuple[str, FormHandler]] = {}
        self._actions: dict[str, ActionSpec] = {}

    def add(self, spec: CommandSpec) -> None:
        for words in (spec.words, *spec.aliases):
            folded = tuple(fold(w) for w in words)
            if folded in self._by_words:
                raise ValueError(f"command words registered twice: {' '.join(words)}")
            self._by_words[folded] = spec
        self._specs.append(spec)

    def add_form(self, form_id: str, command_key: str, handler: FormHandler) -> None:
        """A form's submission runs ``handler``, with the permission row of ``command_key``."""
        self._forms[form_id] = (command_key, handler)

    def add_action(self, kind: str, spec: ActionSpec) -> None:
        """A typed action kind (``VoteAction.kind``) with its own handler."""
        self._actions[kind] = spec

    def action(self, kind: str) -> ActionSpec | None:
        return self._actions.get(kind)

    def form(self, form_id: str) -> tuple[str, FormHandler] | None:
        return self._forms.get(form_id)

    @property
    def forms(self) -> dict[str, str]:
        """Every registered form: form id → the command key whose permission row applies."""
        return {form_id: key for form_id, (key, _handler) in self._forms.items()}

    @property
    def specs(self) -> list[CommandSpec]:
        return list(self._specs)

    def resolve(self, tokens: list[Token]) -> tuple[CommandSpec, int] | None:
        """The longest registered word sequence at the start of ``tokens`` (unquoted only)."""
        words: list[str] = []
        for token in tokens[:4]:
            if token.quoted:
                break
            words.append(fold(token.text))
        for length in range(len(words), 0, -1):
            spec = self._by_words.get(tuple(words[:length]))
            if spec is not None:
                return spec, length
        return None

    def lookup(self, text: str) -> CommandSpec | None:
        words = tuple(fold(w) for w in text.split())
        return self._by_words.get(words)

    def suggest(self, text: str) -> str | None:
        """The closest command name for a typo ('anmeldn' → 'anmelden'), never its opposite
        ('unregister' is not 'register' = anmelden; see ``opposite``)."""
        candidates = {" ".join(words): spec for words, spec in self._by_words.items()}
        folded = " ".join(fold(w) for w in text.split()[:2])
        for probe in (folded, folded.split(" ")[0] if folded else ""):
            for match in difflib.get_close_matches(probe, list(candidates), n=5, cutoff=0.6):
                if not opposite(probe.split(" ")[0], match.split(" ")[0]):
                    return " ".join(candidates[match].words)
        return None


# Pairs a typo must never be "corrected" across: opposite actions, or a harmless word and a
# consequential command that merely look alike. Folded words; both directions.
OPPOSITES = frozenset(
    frozenset(pair)
    for pair in (
        ("anmelden", "abmelden"),
        ("register", "withdraw"),
        ("bestaetigen", "ablehnen"),
        ("confirm", "decline"),
        ("abbrechen", "ablehnen"),
        ("abbrechen", "bestaetigen"),
        ("cancel", "confirm"),
        ("oeffnen", "schliessen"),
        ("open", "close"),
        ("an", "aus"),
        ("on", "off"),
    )
)
# A word with one of these in front means the opposite of the word without it.
NEGATIONS = ("un", "de", "dis", "ab", "nicht", "not", "no", "non")


def opposite(typed: str, known: str) -> bool:
    """True when ``known`` is (close to) the opposite of what ``typed`` asks for."""
    if frozenset((typed, known)) in OPPOSITES:
        return True
    for longer, shorter in ((typed, known), (known, typed)):
        for prefix in NEGATIONS:
            rest = longer.removeprefix(prefix).lstrip("-")
            if (
                longer.startswith(prefix)
                and rest
                and (
                    rest == shorter or difflib.SequenceMatcher(None, rest, shorter).ratio() >= 0.85
                )
            ):
                return True
    return False
