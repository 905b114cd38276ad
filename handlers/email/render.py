"""A platform-neutral :class:`bot.views.Message` as the two parts of a mail: plain text and
HTML, from the same blocks, in the recipient's language, with the footer that says why the
mail came and how to stop it.

Buttons have no meaning in a mail: a button becomes a link when the web app gave one (the
one-time links of the web issue, through ``links``), else a line saying which command to type.
Every text is escaped for HTML; nothing in a message can add markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from bot.i18n import N_, translator
from bot.notifications import MailRecipient
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section

LinkFor = Callable[[Button], str | None]


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


SUBJECT_PREFIX = "Stadtlabor"
MAX_SUBJECT = 150


def subject_of(message: Message) -> str:
    """The first header, else the message's one-line summary, else its first line."""
    first = next((b.text for b in message.blocks if isinstance(b, Header)), "")
    text = first or message.fallback or message.plain_text().strip().split("\n", 1)[0]
    text = one_line(text)
    if len(text) > MAX_SUBJECT:
        text = text[: MAX_SUBJECT - 1].rstrip() + "…"
    if not text:
        return SUBJECT_PREFIX
    return text if text.startswith(SUBJECT_PREFIX) else f"{SUBJECT_PREFIX}: {text}"


def one_line(text: str) -> str:
    """CR, LF and every other line break or control character become one space: a header
    value can never start a new header."""
    cleaned = "".join(
        " " if (ch.isspace() or ord(ch) < 32 or ord(ch) == 127) else ch for ch in text
    )
    return " ".join(cleaned.split())


def render(
    message: Message, recipient: MailRecipient, links: LinkFor | None = None
) -> RenderedMail:
    _ = translator(recipient.language)
    text: list[str] = []
    html: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            text += [block.text, "=" * min(len(block.text), 72), ""]
            html.append(f"<h2>{escape(block.text)}</h2>")
        elif isinstance(block, Section):
            _section(block, text, html)
        elif isinstance(block, Bullets):
            text += [f"• {item}" for item in block.items] + [""]
            items = "".join(f"<li>{escape(item)}</li>" for item in block.items)
            html.append(f"<ul>{items}</ul>")
        elif isinstance(block, Note):
            text += [block.text, ""]
            html.append(f'<p style="color:#555555;font-size:90%">{escape(block.text)}</p>')
        elif isinstance(block, Actions):
            _actions(block, _, links, text, html)
    footer = footer_lines(recipient)
    text += ["-- ", *footer]
    html.append(
        '<hr><p style="color:#555555;font-size:85%">'
        + "<br>".join(escape(line) for line in footer)
        + "</p>"
    )
    body = "\n".join(text).strip("\n") + "\n"
    page = (
        f'<!DOCTYPE html>\n<html lang="{escape(recipient.language)}"><head>'
        '<meta charset="utf-8"></head>\n<body style="font-family:sans-serif">\n'
        + "\n".join(html)
        + "\n</body></html>\n"
    )
    return RenderedMail(subject_of(message), body, page)


def _section(block: Section, text: list[str], html: list[str]) -> None:
    lines = list(block.lines)
    if block.label and block.label_alone:
        text += [block.label, *lines, ""]
        body = "<br>".join(escape(line) for line in lines)
        html.append(f"<p><strong>{escape(block.label)}</strong><br>{body}</p>")
        return
    if block.label:
        first = f"{block.label}: {lines[0]}" if lines else block.label
        text += [first, *lines[1:], ""]
        rest = "".join(f"<br>{escape(line)}" for line in lines[1:])
        head = f"<strong>{escape(block.label)}</strong>" + (
            f": {escape(lines[0])}" if lines else ""
        )
        html.append(f"<p>{head}{rest}</p>")
        return
    text += [*lines, ""]
    html.append("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")


def _actions(
    block: Actions,
    _: Callable[[str], str],
    links: LinkFor | None,
    text: list[str],
    html: list[str],
) -> None:
    items: list[str] = []
    for button in block.buttons:
        url = links(button) if links is not None else None
        if url:
            text.append(f"{button.label}: {url}")
            items.append(f'<li><a href="{escape(url, quote=True)}">{escape(button.label)}</a></li>')
        elif button.command:
            line = _(N_("{label}: schreiben Sie „{command}“ an den Stadtlabor-Bot")).format(
                label=button.label, command=button.command
            )
            text.append(line)
            items.append(f"<li>{escape(line)}</li>")
    if items:
        text.append("")
        html.append("<ul>" + "".join(items) + "</ul>")


def footer_lines(recipient: MailRecipient) -> list[str]:
    _ = translator(recipient.language)
    if recipient.reason == "office" and recipient.on_behalf_of:
        return [
            _(
                N_(
                    "Sie erhalten diese Kopie als Büroleitung von {name} im Stadtlabor "
                    "der Körber-Stiftung."
                )
            ).format(name=recipient.on_behalf_of),
            _(
                N_(
                    "Keine Kopien mehr: {name} lässt die Büroleitung bei der Anmeldung weg, "
                    "oder Sie antworten auf diese E-Mail."
                )
            ).format(name=recipient.on_behalf_of),
        ]
    if recipient.reason == "person":
        why = _(
            N_(
                "Sie erhalten diese E-Mail, weil Sie am Stadtlabor der Körber-Stiftung teilnehmen "
                "und Nachrichten des Stadtlabor-Bots per E-Mail erhalten."
            )
        )
    else:
        why = _(
            N_(
                "Sie erhalten diese E-Mail vom Stadtlabor-Bot der Körber-Stiftung, weil Ihre "
                "Adresse dort eingetragen ist."
            )
        )
    return [
        why,
        _(
            N_(
                "Lieber im Chat? Schreiben Sie dem Stadtlabor-Bot „benachrichtigung chat“ "
                "(oder „benachrichtigung beides“), oder antworten Sie auf diese E-Mail."
            )
        ),
    ]
