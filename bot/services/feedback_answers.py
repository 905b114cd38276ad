"""Numbered answers typed in one DM: ``1. … 2. … 3. …`` (one per line, or on one line)."""

from __future__ import annotations

import re

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.router import clean, strip_prefix

_COMMAND = re.compile(r"\s*feedback\s+#?\d+\s+(?:antworten|answer)\b[ \t]*\n?", re.IGNORECASE)
_LINE_MARKER = re.compile(r"^[ \t]*(\d{1,2})[ \t]*[.)][ \t]*", re.MULTILINE)


def message_body(text: str) -> str:
    """The typed text without ``/stadtlabor``/``!stadtlabor``, normalised like the router."""
    return strip_prefix(clean(text))[0]


def strip_answer_command(text: str) -> str:
    """The answers after ``feedback N antworten`` (or the whole text when it starts with 1.)."""
    body = message_body(text)
    match = _COMMAND.match(body)
    return body[match.end() :] if match else body


def _example(count: int) -> str:
    return " ".join(f"{i}. …" for i in range(1, count + 1))


def parse_numbered(text: str, count: int) -> list[str]:
    """Split into ``count`` answers. Markers must run 1, 2, 3 …; a line that does not start
    with the next number continues the answer before it. On one line, a marker that occurs
    twice (``am 2. Dezember``) is ambiguous and refused."""
    text = text.strip()
    answers = _by_lines(text, count) if "\n" in text else _on_one_line(text, count)
    if len(answers) != count:
        raise UserFacingError(
            N_(
                "Ich habe {given} von {count} Antworten erkannt. Bitte nummerieren Sie jede "
                "Antwort, am besten jede in einer eigenen Zeile: {example}. Es wurde nichts "
                "gespeichert."
            ),
            given=len(answers),
            count=count,
            example=_example(count),
        )
    return answers


def _by_lines(text: str, count: int) -> list[str]:
    answers: list[list[str]] = []
    for line in text.split("\n"):
        marker = _LINE_MARKER.match(line)
        if marker and int(marker.group(1)) == len(answers) + 1 and len(answers) < count:
            answers.append([line[marker.end() :]])
        elif answers:
            answers[-1].append(line)
        elif line.strip():
            _no_start(count)
    return ["\n".join(a).strip() for a in answers]


def _on_one_line(text: str, count: int) -> list[str]:
    starts: list[tuple[int, int]] = []  # (marker start, text start)
    for n in range(1, count + 1):
        pattern = re.compile(rf"(?:^|(?<=\s)){n}[ \t]*[.)](?:\s+|$)")
        found = [m for m in pattern.finditer(text) if not starts or m.start() >= starts[-1][1]]
        if n == 1 and (not found or found[0].start() != 0):
            _no_start(count)
        if not found:
            break
        if len(found) > 1 and n > 1:
            raise UserFacingError(
                N_(
                    "„{n}.“ kommt in Ihrer Nachricht mehrmals vor, daher kann ich die Antworten "
                    "nicht sicher trennen. Bitte schreiben Sie jede Antwort in eine eigene Zeile, "
                    "beginnend mit 1., 2., 3. Es wurde nichts gespeichert."
                ),
                n=n,
            )
        starts.append((found[0].start(), found[0].end()))
    ends = [s for s, _ in starts[1:]] + [len(text)]
    return [text[body:end].strip() for (_, body), end in zip(starts, ends, strict=True)]


def _no_start(count: int) -> None:
    raise UserFacingError(
        N_(
            "Bitte beginnen Sie mit „1.“ und nummerieren Sie die Antworten: {example}. "
            "Es wurde nichts gespeichert."
        ),
        example=_example(count),
    )
