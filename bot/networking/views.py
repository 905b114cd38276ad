"""Neutral views of profiles and "wer kennt sich aus" answers (each adapter renders them)."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.actions import CommandAction
from bot.i18n import N_
from bot.networking.ranking import Match, Strength
from bot.networking.tandem_followup import Insight, RoundStatus
from bot.networking.topics import suggestions
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section
from storage.models import Person
from storage.models_networking import Profile, TandemRound

Translate = Callable[..., str]


def profile_message(_: Translate, person: Person, profile: Profile | None, own: bool) -> Message:
    name = person.display_name or "?"
    lines = [f"{_(N_('Kommune'))}: {person.municipality or '–'}"]
    if profile is None:
        hint = (
            _(N_("Noch kein Profil. Zum Beispiel: {example}"), example=EXAMPLE)
            if own
            else _(N_("{name} hat noch kein Profil angelegt."), name=name)
        )
        return Message((Header(name), Section(tuple(lines)), Note(hint)), fallback=name)
    lines += [
        f"{_(N_('Größe'))}: {profile.size_class or '–'}",
        f"{_(N_('Themen'))}: {', '.join(map(str, profile.topics)) or '–'}",
        f"{_(N_('Vorhaben'))}: {profile.vorhaben_title or '–'}",
        f"{_(N_('Ziel'))}: {profile.vorhaben_goal or '–'}",
        f"{_(N_('Stand'))}: {profile.vorhaben_stage or '–'}",
    ]
    blocks: list[Header | Section | Note | Actions] = [Header(name), Section(tuple(lines))]
    if own:
        blocks.append(Note(_(N_("Ändern: {example}"), example=EXAMPLE)))
    else:
        ref = f'"{name}"'
        blocks.append(
            Actions((Button(_(N_("Vorstellen lassen")), CommandAction("vorstellen", (ref,))),))
        )
    return Message(tuple(blocks), fallback=name)


EXAMPLE = (
    'profil aendern themen="Pflege, Mobilität" vorhaben="Seniorenbüro im Rathaus" '
    'ziel="eine Anlaufstelle für alle Fragen" stand=Planung'
)


def reason(_: Translate, match: Match) -> str:
    if match.strength is Strength.EXACT:
        return _(N_("Expertise: {topic}"), topic=match.topic)
    if match.strength is Strength.SYNONYM:
        return _(N_("Expertise: {topic} (verwandtes Thema)"), topic=match.topic)
    vorhaben = match.candidate.vorhaben
    if not vorhaben:  # an alumnus: found by the topic their Vorhaben names
        return _(N_("Vorhaben zum Thema {topic}"), topic=match.topic)
    short = vorhaben if len(vorhaben) <= 80 else vorhaben[:79] + "…"
    return _(N_("Vorhaben: „{vorhaben}“"), vorhaben=short)


def experts_message(_: Translate, query: str, matches: list[Match]) -> Message:
    if not matches:
        text = _(
            N_(
                "Zu „{query}“ hat im Jahrgang noch niemand Expertise oder ein Vorhaben "
                "eingetragen. Themen, die es gibt: {topics}"
            ),
            query=query,
            topics=", ".join(suggestions(limit=8)),
        )
        return Message.text(text)
    items = tuple(f"{m.candidate.name} ({_where(_, m)}) – {reason(_, m)}" for m in matches)
    head = _(N_("Wer sich mit „{query}“ auskennt"), query=query)
    reachable = [m for m in matches if m.candidate.person_id]
    if not reachable:  # imported alumni only: the programme team puts people in touch
        return Message(
            (
                Header(head),
                Bullets(items),
                Note(_(N_("Kontakt zu Alumni vermittelt das Programmteam."))),
            ),
            fallback=head,
        )
    first = f'"{reachable[0].candidate.name}" thema="{query}"'
    return Message(
        (
            Header(head),
            Bullets(items),
            Note(_(N_("Kontakt gewünscht? Schreiben Sie: vorstellen {who}"), who=first)),
        ),
        fallback=head,
    )


def _where(_: Translate, match: Match) -> str:
    """The municipality, and for an alumnus "Alumni, Jahrgang 2025"."""
    where = match.candidate.municipality or "–"
    if not match.candidate.alumnus:
        return where
    year = match.candidate.alumni_year
    if year is None:  # imported from the former network
        return f"{where}; " + _(N_("Alumni, früheres Netzwerk"))
    return f"{where}; " + _(N_("Alumni, Jahrgang {year}"), year=year)


def _who(person: Person) -> str:
    return f"{person.display_name or '?'} ({person.municipality or '–'})"


def tandems_message(
    _: Translate,
    tandem_round: TandemRound,
    groups: list[list[Person]],
    unplaced: list[Person],
    tz: ZoneInfo,
) -> Message:
    head = _(
        N_("Tandem-Runde {number} bis {due}: {count} Tandems")
        if len(groups) != 1
        else N_("Tandem-Runde {number} bis {due}: 1 Tandem"),
        number=tandem_round.number,
        due=tandem_round.due_at.astimezone(tz).strftime("%d.%m.%Y"),
        count=len(groups),
    )
    items = tuple(" – ".join(_who(p) for p in group) for group in groups)
    blocks: list[Header | Section | Bullets | Note] = [Header(head)]
    if tandem_round.theme:
        blocks.append(Section((_(N_("Thema: {theme}"), theme=tandem_round.theme),)))
    blocks.append(Bullets(items))
    if unplaced:
        blocks.append(
            Note(
                _(
                    N_(
                        "Ohne neuen Partner in diesem Jahrgang (alle Paare gab es schon): "
                        "{names}. Bitte stellen Sie sie selbst vor."
                    ),
                    names=", ".join(_who(p) for p in unplaced),
                )
            )
        )
    else:
        blocks.append(Note(_(N_("Alle haben eine Direktnachricht mit drei Gesprächsfragen."))))
    return Message(tuple(blocks), fallback=head)


def tandem_status_message(
    _: Translate, tandem_round: TandemRound, status: RoundStatus, tz: ZoneInfo
) -> Message:
    """The organisers' rate of a round: counts, and the insights without names unless
    allowed (sorted by text, so that nothing says whose answer came last)."""
    head = _(
        N_(
            "Tandem-Runde {number} (bis {due}): {met} von {tandems} Tandems haben sich ausgetauscht"
        ),
        number=tandem_round.number,
        due=tandem_round.due_at.astimezone(tz).strftime("%d.%m.%Y"),
        met=status.met,
        tandems=status.tandems,
    )
    counts = _(
        N_("Antworten: {answers} von {members} (ja: {yes}, nein: {no})"),
        answers=status.answers,
        members=status.members,
        yes=status.yes,
        no=status.no,
    )
    blocks: list[Header | Section | Bullets | Note] = [Header(head), Section((counts,))]
    if status.insights:
        blocks.append(Section((_(N_("Erkenntnisse:")),)))
        blocks.append(Bullets(tuple(_insight(_, i) for i in status.insights)))
    else:
        blocks.append(Section((_(N_("Noch keine Erkenntnisse.")),)))
    blocks.append(
        Note(
            _(
                N_(
                    "Ein Tandem zählt als ausgetauscht, wenn mindestens eine Person „ja“ "
                    "geantwortet hat. Namen nur, wo die Person es erlaubt hat."
                )
            )
        )
    )
    return Message(tuple(blocks), fallback=head)


def _insight(_: Translate, insight: Insight) -> str:
    text = insight.text if insight.met else _(N_("(nicht getroffen) {text}"), text=insight.text)
    return f"{text} — {insight.name}" if insight.name else text
