"""The README's permission table, generated from the commands this build registers
(``make docs``; a test keeps README and :data:`bot.permissions.PERMISSIONS` identical)."""

from __future__ import annotations

from bot.commands import build_registry
from bot.permissions import markdown_table


def update_readme(path: str) -> bool:
    """Rewrite the table between the README's permission markers; True if it changed."""
    keys = sorted({spec.key for spec in build_registry().specs})
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.index("<!-- permissions:start")
    start = text.index("\n", start) + 1
    end = text.index("<!-- permissions:end -->")
    new = text[:start] + markdown_table(keys) + "\n" + text[end:]
    if new != text:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(new)
    return new != text
