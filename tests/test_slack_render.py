"""Views → Block Kit: escaping, Slack's limits, pagination; forms → modals and back."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.actions import VoteAction, decode
from bot.i18n import translator
from bot.views import Actions, Bullets, Button, Form, FormField, Header, Message, Note, Section
from handlers.slack.forms import form_modal, result_modal, submitted_values, validate
from handlers.slack.render import (
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    chunk_lines,
    escape,
    home_view,
    render_one,
    render_pages,
)
from tests.support.slack_double_blocks import blocks_problem, view_problem


def _all_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            out.append(text["text"])
        for element in block.get("elements", []):
            inner = element.get("text")
            out.append(inner["text"] if isinstance(inner, dict) else str(inner))
    return "\n".join(out)


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> & <@U0BERT> <https://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U0BERT&gt; &lt;https://x|y&gt;"
    )


def test_every_mrkdwn_text_is_escaped() -> None:
    evil = "<!channel> ruft <@U0BERT> & <!here>"
    message = Message(
        blocks=(
            Header(evil),
            Section(lines=(evil,), label=evil),
            Bullets(items=(evil,)),
            Note(evil),
        ),
        fallback=evil,
    )
    (page,) = render_pages(message)
    assert page.blocks[0]["text"]["type"] == "plain_text"  # headers are never parsed
    mrkdwn = [b for b in page.blocks[1:]]
    text = _all_text(mrkdwn) + page.text
    assert "<!" not in text and "<@" not in text
    assert text.count("&lt;!channel&gt;") == 5 and "&amp;" in text


def test_120_bullets_split_under_the_block_and_text_limits() -> None:
    items = tuple(f"Punkt {i}: " + "x" * 200 for i in range(120))
    message = Message(blocks=(Header("Liste"), Bullets(items=items)), fallback="Liste")
    pages = render_pages(message)
    blocks = [b for page in pages for b in page.blocks]
    for page in pages:
        assert len(page.blocks) <= MAX_BLOCKS and blocks_problem(page.blocks) is None
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= MAX_SECTION_TEXT for b in sections)
    assert len(sections) > 1, "split into several sections"
    joined = "\n".join(b["text"]["text"] for b in sections)
    assert [f"• Punkt {i}:" in joined for i in range(120)] == [True] * 120


def test_many_blocks_become_several_pages_and_update_keeps_one() -> None:
    message = Message(blocks=tuple(Section(lines=(f"Absatz {i}",)) for i in range(120)))
    pages = render_pages(message)
    assert [len(p.blocks) for p in pages] == [50, 50, 20]
    one = render_one(message)
    assert len(one.blocks) == MAX_BLOCKS and one.blocks[-1]["type"] == "context"


def test_long_header_and_line_are_cut_to_limits() -> None:
    message = Message(blocks=(Header("H" * 400), Section(lines=("x" + "&" * 2000,))))
    pages = render_pages(message)
    blocks = [b for p in pages for b in p.blocks]
    assert len(blocks[0]["text"]["text"]) == 150
    assert all(blocks_problem(p.blocks) is None for p in pages)
    texts = [b["text"]["text"] for b in blocks[1:]]
    assert "".join(texts) == "x" + "&amp;" * 2000
    assert all(t.endswith(";") for t in texts), "never cut inside an entity"


def test_buttons_carry_their_typed_action_and_are_grouped_by_25() -> None:
    buttons = tuple(Button(f"Option {i}", VoteAction(9, (i + 1,), "add")) for i in range(30))
    (page,) = render_pages(Message(blocks=(Actions(buttons=buttons),)))
    actions = [b for b in page.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    elements = [e for a in actions for e in a["elements"]]
    assert len({e["action_id"] for e in elements}) == 30
    assert elements[7]["action_id"] == "act:vote:7"
    assert decode(elements[7]["value"]) == VoteAction(9, (8,), "add")  # typed, not command text
    assert elements[0]["text"]["type"] == "plain_text"


@given(st.lists(st.text(max_size=4000), max_size=30))
def test_chunk_lines_respects_the_limit_and_keeps_every_character(lines: list[str]) -> None:
    chunks = list(chunk_lines(lines))
    assert all(0 < len(c) <= MAX_SECTION_TEXT for c in chunks)
    assert "".join(chunks).replace("\n", "") == "".join(lines).replace("\n", "")


def test_home_view_is_valid() -> None:
    message = Message(blocks=tuple(Section(lines=(f"Zeile {i}",)) for i in range(150)))
    view = home_view(message)
    assert view["type"] == "home" and len(view["blocks"]) == 100
    assert view_problem(view) is None


# -- forms ----------------------------------------------------------------------------------
FORM = Form(
    form_id="anmeldung",
    title="Anmeldung zum Stadtlabor 2027",
    fields=(
        FormField("name", "Name", max_length=80, hint="Wie im Personalausweis"),
        FormField("email", "E-Mail", kind="email"),
        FormField("rolle", "Rolle", kind="select", options=tuple(f"R{i}" for i in range(130))),
        FormField("einwilligung", "Einwilligung", kind="consent"),
        FormField("notiz", "Notiz", kind="longtext", required=False, max_length=5000),
    ),
    submit_label="Anmelden",
    intro=("Willkommen <!channel>",),
    context={"jahrgang": "2027"},
)


def test_form_becomes_a_valid_modal() -> None:
    view = form_modal(FORM, {"form_id": "anmeldung", "channel": "C1"}, "de")
    assert view_problem(view) is None
    assert view["title"]["text"] == "Anmeldung zum Stadtlabo…"  # 24 characters at most
    assert view["blocks"][0]["text"]["text"] == "Willkommen &lt;!channel&gt;"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["name"]["element"]["max_length"] == 80
    assert inputs["notiz"]["optional"] is True and inputs["notiz"]["element"]["multiline"]
    assert inputs["notiz"]["element"]["max_length"] == 3000
    groups = inputs["rolle"]["element"]["option_groups"]
    assert [len(g["options"]) for g in groups] == [100, 30]
    assert inputs["einwilligung"]["element"]["type"] == "checkboxes"
    assert view["close"]["text"] == "Abbrechen"


def test_submitted_state_is_validated_per_field() -> None:
    state: dict[str, dict[str, dict[str, Any]]] = {
        "name": {"value": {"type": "plain_text_input", "value": "Anna"}},
        "email": {"value": {"type": "email_text_input", "value": "anna@"}},
        "rolle": {"value": {"type": "static_select", "selected_option": {"value": "101"}}},
        "einwilligung": {"value": {"type": "checkboxes", "selected_options": []}},
        "notiz": {"value": {"type": "plain_text_input", "value": None}},
    }
    raw = submitted_values(state)
    assert raw == {
        "name": "Anna",
        "email": "anna@",
        "rolle": "101",
        "einwilligung": "",
        "notiz": "",
    }
    cleaned, errors = validate(FORM, raw, translator("de"))
    assert set(errors) == {"email", "einwilligung"}
    assert "E-Mail-Adresse" in errors["email"]
    assert cleaned["rolle"] == "R100" and cleaned["notiz"] == ""
    raw.update(email="anna@musterstadt.de", einwilligung="ja")
    cleaned, errors = validate(FORM, raw, translator("en"))
    assert errors == {} and cleaned["einwilligung"] == "ja"


def test_result_modal_shows_the_answer_escaped() -> None:
    view = result_modal(Message.text("Danke <@U0BERT>"), "en")
    assert view_problem(view) is None and view["close"]["text"] == "Close"
    assert view["blocks"][0]["text"]["text"] == "Danke &lt;@U0BERT&gt;"
