"""The command table: German words with English aliases, help texts, handlers."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from bot.context import CommandContext, Reply
from bot.router import Token, fold

Handler = Callable[[CommandContext], Reply]
FormHandler = Callable[[CommandContext, dict[str, str]], Reply]


@dataclass(frozen=True)
class CommandSpec:
    """``words`` are the German command words; ``key`` names the row in the permission table."""

    words: tuple[str, ...]
    handler: Handler
    summary: str  # German message id, marked with N_
    syntax: str
    example: str
    aliases: tuple[tuple[str, ...], ...] = ()
    group: str = "allgemein"
    needs_cohort: bool = False

    @property
    def key(self) -> str:
        return " ".join(self.words)


class CommandRegistry:
    def __init__(self) -> None:
        self._by_words: dict[tuple[str, ...], CommandSpec] = {}
        self._specs: list[CommandSpec] = []
        self._forms: dict[str, tuple[str, FormHandler]] = {}

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
        """The closest command name for a typo ('anmeldn' → 'anmelden')."""
        candidates = {" ".join(words): spec for words, spec in self._by_words.items()}
        folded = " ".join(fold(w) for w in text.split()[:2])
        for probe in (folded, folded.split(" ")[0] if folded else ""):
            match = difflib.get_close_matches(probe, list(candidates), n=1, cutoff=0.6)
            if match:
                return " ".join(candidates[match[0]].words)
        return None
