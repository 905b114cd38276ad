"""The alumni circle: former participants who said ``alumni ja`` when their cohort closed (and,
later, contacts of the former network imported with consent). Their profile outlives the
cohort's retention period; ``alumni nein`` and ``vergessen`` remove them at once.

``wer kennt sich aus`` finds alumni through precomputed folded topic keys (table
``alumni_topic_keys``, indexed), so that a question reads only the alumni who match instead of
ranking every alumni profile in Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.actions import CommandAction
from bot.errors import UserFacingError
from bot.i18n import N_, translator
from bot.networking.ranking import Candidate, Match, Strength, query_keys
from bot.networking.topics import CURATED, canonical, fold_key, key, words_for
from bot.notify import tell, tell_organisers
from bot.outbox.enqueue import Outgoing, add
from bot.services import meetings as meetings_service
from bot.views import Button, Message
from storage.models import Cohort, Meeting, Participant, Person
from storage.models_alumni import AlumniGuest, AlumniImport, Alumnus
from storage.models_networking import Profile
from storage.ports import UnitOfWorkPort
from storage.repositories_alumni import AlumniRepository
from storage.uow import UnitOfWork

# The curated topics with the folded words that name them in a Vorhaben (five letters and more,
# as in the ranking: "Land" would be found in "Landkreis").
_VORHABEN_WORDS: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (topic, frozenset(k for k in (key(w) for w in words_for(topic)) if len(k) >= 5))
    for topic in CURATED
)


def repo(uow: UnitOfWork) -> AlumniRepository:
    return AlumniRepository(uow.session)


def topic_keys(topics: list[str] | tuple[str, ...], vorhaben: str) -> list[tuple[str, str, str]]:
    """(key, kind, tag) rows for a profile: each tag as typed, the curated topic it folds onto,
    and each curated topic its Vorhaben names."""
    rows: dict[tuple[str, str], str] = {}
    for tag in topics:
        tag = str(tag)
        rows.setdefault((key(tag), "tag"), tag)
        rows.setdefault((key(canonical(tag)[0]), "topic"), tag)
    text = fold_key(vorhaben) if vorhaben else ""
    if text:
        for topic, words in _VORHABEN_WORDS:
            if any(word in text for word in words):
                rows.setdefault((key(topic), "vorhaben"), topic)
    return [(k, kind, tag) for (k, kind), tag in rows.items() if k]


def refresh_keys(uow: UnitOfWork, person_id: int) -> None:
    """Rebuild an alumnus' keys from their profile (after ``profil aendern``); nothing for
    anyone else."""
    alumnus = repo(uow).of_person(person_id)
    if alumnus is None:
        return
    profile = uow.session.get(Profile, person_id)
    topics = [str(t) for t in profile.topics] if profile is not None else []
    vorhaben = (
        " ".join(t for t in (profile.vorhaben_title, profile.vorhaben_goal) if t)
        if profile is not None
        else ""
    )
    repo(uow).replace_keys(alumnus.id, topic_keys(topics, vorhaben))


def matches(uow: UnitOfWork, query: str, *, exclude: set[int], limit: int = 10) -> list[Match]:
    """The ``limit`` consenting alumni who match ``query`` best, each with their strongest
    match; people in ``exclude`` (the asker, the cohort's current participants) are left out.
    The database does the matching on the precomputed keys (an index lookup, not a scan)."""
    asked, topic_key = query_keys(query)
    found = []
    for hit, level in repo(uow).best_by_keys(asked, topic_key, exclude=exclude, limit=limit):
        candidate = Candidate(
            hit.person_id or 0,
            hit.name,
            hit.municipality,
            (),
            "",
            alumnus=True,
            alumni_year=hit.year,
        )
        found.append(Match(candidate, Strength(level), hit.tag))
    return found


# -- consent ------------------------------------------------------------------------------------


def _year(cohort: Cohort, tz: ZoneInfo) -> int:
    ended = cohort.ended_at or cohort.created_at
    return ended.astimezone(tz).year


def ask_at_close(
    uow: UnitOfWorkPort, cohort: Cohort, *, now: datetime, default_language: str
) -> int:
    """When a cohort closes: ask each confirmed participant once whether to join the alumni
    circle (buttons Ja/Nein; typed: ``alumni ja`` / ``alumni nein``). Returns how many asked."""
    asked = 0
    for participant in uow.participants.in_cohort(cohort.id, "confirmed"):
        person = uow.persons.get(participant.person_id)
        if person is None or person.erased_at is not None:
            continue
        tell(
            uow,
            person,
            N_(
                "Der Jahrgang „{cohort}“ ist abgeschlossen. Möchten Sie im Alumni-Kreis des "
                "Stadtlabors bleiben? Dann bleibt Ihr Profil (Themen, Vorhaben) über die "
                "Löschfrist hinaus erhalten, andere Jahrgänge finden Sie über „wer kennt sich "
                "aus“, und das Programmteam kann Sie zu offenen Treffen und in den Alumni-Raum "
                "einladen."
            ),
            now=now,
            default_language=default_language,
            key=f"alumni-ask:{cohort.id}:{person.id}",
            buttons=(
                Button(N_("Ja"), CommandAction("alumni", ("ja",), person.id), "primary"),
                Button(N_("Nein"), CommandAction("alumni", ("nein",), person.id)),
            ),
            note=N_(
                "Freiwillig und jederzeit widerrufbar: „alumni nein“ oder „vergessen“ löscht "
                "Ihren Alumni-Eintrag und Ihr Profil. Ohne Antwort wird Ihr Profil mit den "
                "übrigen Daten des Jahrgangs gelöscht."
            ),
            cohort=cohort.name,
        )
        asked += 1
    return asked


def _closed_cohort_of(uow: UnitOfWork, person_id: int) -> Cohort | None:
    """The most recently closed cohort the person was a confirmed participant of."""
    return uow.session.scalar(
        select(Cohort)
        .join(Participant, Participant.cohort_id == Cohort.id)
        .where(
            Participant.person_id == person_id,
            Participant.status == "confirmed",
            Cohort.ended_at.is_not(None),
        )
        .order_by(Cohort.ended_at.desc(), Cohort.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class State:
    alumnus: Alumnus | None
    eligible: bool  # a closed cohort to join from


def state(uow: UnitOfWork, person: Person) -> State:
    alumnus = repo(uow).of_person(person.id)
    return State(alumnus, alumnus is not None or _closed_cohort_of(uow, person.id) is not None)


def opt_in(uow: UnitOfWork, person: Person, *, now: datetime, tz: ZoneInfo) -> Alumnus:
    """``alumni ja``: join (or stay in) the circle; only after a closed cohort."""
    found = repo(uow).of_person(person.id)
    if found is not None:
        return found
    cohort = _closed_cohort_of(uow, person.id)
    if cohort is None:
        raise UserFacingError(
            N_(
                "Dem Alumni-Kreis können Sie beitreten, sobald Ihr Jahrgang abgeschlossen ist. "
                "Bis dahin finden Sie Ihren Jahrgang mit „wer kennt sich aus“."
            )
        )
    alumnus = Alumnus(
        person_id=person.id,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        year=_year(cohort, tz),
        topics=[],
        consent="ja",
        consent_at=now,
        source="cohort",
    )
    repo(uow).add(alumnus)
    refresh_keys(uow, person.id)
    return alumnus


def opt_out(uow: UnitOfWork, person: Person, *, now: datetime, default_language: str) -> bool:
    """``alumni nein``: the row, its keys and meeting answers go; the profile goes with the
    cohort's data (at once when the cohort's retention period is over). With an alumni room,
    the organisers are asked to remove the person (no platform lets the bot do it). True when
    there was a row."""
    alumnus = repo(uow).of_person(person.id)
    if alumnus is None:
        return False
    repo(uow).remove(alumnus)
    room = room_of(uow)
    if room is not None:
        tell_organisers(
            uow,
            N_(
                "{name} ist aus dem Alumni-Kreis ausgetreten. Bitte entfernen Sie die Person "
                "aus dem Alumni-Raum {room}."
            ),
            now=now,
            default_language=default_language,
            name=person.display_name or "?",
            room=room_link(*room),
        )
    return True


def keeps_profile(uow: UnitOfWork, person_id: int) -> bool:
    """An opted-in alumnus: the retention purge keeps their profile and how to reach them."""
    alumnus = repo(uow).of_person(person_id)
    return alumnus is not None and alumnus.consent == "ja"


# -- personal data (bot.services.privacy) ------------------------------------------------------


def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    alumnus = repo(uow).of_person(person_id)
    if alumnus is None:
        return {}
    return {
        "alumni": {
            "jahrgang": alumnus.cohort_name,
            "jahr": alumnus.year,
            "einwilligung": alumnus.consent,
            "einwilligung_am": alumnus.consent_at.isoformat(),
            "quelle": alumnus.source,
            "einladungen": [
                {"treffen": g.meeting_id, "antwort": g.answer}
                for g in repo(uow).guest_rows_of(alumnus.id)
            ],
        }
    }


def erase_person(
    uow: UnitOfWork, person_id: int, pseudonym: str, *, now: datetime, default_language: str
) -> None:
    """``vergessen``: the row, its keys and meeting answers go. With an alumni room the
    organisers are told, without the name (the erasure must not leave it in a message), to
    compare the room with ``alumni mitglieder``."""
    alumnus = repo(uow).of_person(person_id)
    if alumnus is None:
        return
    repo(uow).remove(alumnus)
    room = room_of(uow)
    if room is not None:
        tell_organisers(
            uow,
            N_(
                "Eine Person hat mit „vergessen“ ihre Daten löschen lassen und ist nicht mehr "
                "im Alumni-Kreis. Bitte gleichen Sie die Mitglieder des Alumni-Raums {room} mit "
                "„alumni mitglieder“ ab."
            ),
            now=now,
            default_language=default_language,
            room=room_link(*room),
        )


def retention_over(uow: UnitOfWork, person_id: int) -> bool:
    """Every cohort the person was registered in has been purged: only the alumni consent
    kept their data, and without it nothing may stay."""
    cohorts = {p.cohort_id for p in uow.participants.of_person(person_id)}
    if not cohorts:
        return False
    return all(
        (cohort := uow.cohorts.get(cohort_id)) is not None and cohort.purged_at is not None
        for cohort_id in cohorts
    )


# -- meetings opened for alumni ----------------------------------------------------------------


@dataclass(frozen=True)
class Guests:
    """The alumni guests of a meeting, for the organisers' attendance overview."""

    coming: list[str]
    declined: list[str]
    unanswered: list[str]


def _label(uow: UnitOfWork, alumnus: Alumnus) -> str:
    person = uow.persons.get(alumnus.person_id) if alumnus.person_id else None
    name = (person.display_name if person else alumnus.name) or "?"
    place = (person.municipality if person else alumnus.municipality) or "–"
    year = f", {alumnus.year}" if alumnus.year else ""
    return f"{name} ({place}{year})"


def _meeting_text(meeting: Meeting, tz: ZoneInfo, language: str) -> dict[str, object]:
    place = ", ".join(x for x in (meeting.location, meeting.host_city) if x) or "–"
    return {
        "title": meeting.title,
        "span": meetings_service.span_label(meeting, tz, language),
        "place": place,
        "id": meeting.id,
    }


def _send(
    uow: UnitOfWork,
    alumnus: Alumnus,
    msgid: str,
    *,
    key: str,
    now: datetime,
    default_language: str,
    tz: ZoneInfo,
    meeting: Meeting,
    buttons: tuple[Button, ...] = (),
) -> bool:
    """To an alumnus by their route: a former participant wherever their messages go (chat,
    e-mail or both); an imported contact by e-mail. Through the outbox, idempotent by key."""
    if alumnus.person_id is not None:
        person = uow.persons.get(alumnus.person_id)
        if person is None or person.erased_at is not None:
            return False
        language = person.language or default_language
        params = _meeting_text(meeting, tz, language)
        return tell(
            uow,
            person,
            msgid,
            now=now,
            default_language=default_language,
            key=key,
            buttons=buttons,
            title=params["title"],
            span=params["span"],
            place=params["place"],
            id=params["id"],
        )
    if not alumnus.email:
        return False
    text = translator(default_language)(msgid).format(
        **_meeting_text(meeting, tz, default_language)
    )
    return add(uow, Outgoing.dm(key, ("email", alumnus.email), Message.text(text)), now)


def open_meeting(
    uow: UnitOfWork, meeting: Meeting, *, now: datetime, default_language: str, tz: ZoneInfo
) -> int:
    """``treffen N oeffnen fuer alumni``: mark it open and invite every consenting alumnus
    (Ja/Nein buttons; typed ``alumni treffen ID ja|nein``). Returns how many were invited."""
    if meeting.ends_at <= now:
        raise UserFacingError(N_("Treffen {n} ist schon vorbei."), n=meeting.number)
    if repo(uow).meeting_open(meeting.id) is not None:
        raise UserFacingError(N_("Treffen {n} ist bereits für Alumni geöffnet."), n=meeting.number)
    repo(uow).open_meeting(meeting.id, now)
    invited = 0
    for alumnus in repo(uow).opted_in():
        repo(uow).add_guest(
            AlumniGuest(meeting_id=meeting.id, alumnus_id=alumnus.id, invited_at=now)
        )
        args = ("treffen", str(meeting.id))
        sent = _send(
            uow,
            alumnus,
            N_(
                "Einladung für Alumni: Das Stadtlabor öffnet das Treffen „{title}“ ({span}, "
                "{place}) für den Alumni-Kreis. Kommen Sie? Antworten: alumni treffen {id} ja "
                "oder alumni treffen {id} nein"
            ),
            key=f"alumni-meeting:{meeting.id}:{alumnus.id}",
            now=now,
            default_language=default_language,
            tz=tz,
            meeting=meeting,
            buttons=(
                Button(
                    N_("Ja"), CommandAction("alumni", (*args, "ja"), alumnus.person_id), "primary"
                ),
                Button(N_("Nein"), CommandAction("alumni", (*args, "nein"), alumnus.person_id)),
            ),
        )
        invited += 1 if sent else 0
    return invited


def close_meeting(
    uow: UnitOfWork, meeting: Meeting, *, now: datetime, default_language: str, tz: ZoneInfo
) -> int:
    """``treffen N schliessen fuer alumni``: the invitations are withdrawn (each invited
    alumnus is told) and the guests' answers go. Returns how many were told."""
    if repo(uow).meeting_open(meeting.id) is None:
        raise UserFacingError(N_("Treffen {n} ist nicht für Alumni geöffnet."), n=meeting.number)
    told = 0
    for guest in repo(uow).close_meeting(meeting.id):
        alumnus = repo(uow).get(guest.alumnus_id)
        if alumnus is None:
            continue
        told += _send(
            uow,
            alumnus,
            N_(
                "Das Treffen „{title}“ ({span}) ist nicht mehr für den Alumni-Kreis geöffnet; "
                "Ihre Einladung entfällt. Wir bitten um Verständnis."
            ),
            key=f"alumni-meeting-closed:{meeting.id}:{alumnus.id}:{now.isoformat()}",
            now=now,
            default_language=default_language,
            tz=tz,
            meeting=meeting,
        )
    return told


def answer_meeting(
    uow: UnitOfWork, person: Person, meeting_id: int, coming: bool, *, now: datetime
) -> Meeting:
    """An alumnus answers an invitation to an open meeting."""
    alumnus = repo(uow).of_person(person.id)
    if alumnus is None:
        raise UserFacingError(
            N_("Sie sind nicht im Alumni-Kreis. Beitreten: alumni ja (nach Ende Ihres Jahrgangs).")
        )
    meeting = uow.meetings.by_id(meeting_id)
    guest = repo(uow).guest(meeting_id, alumnus.id)
    if meeting is None or meeting.deleted_at is not None or guest is None:
        raise UserFacingError(
            N_("Zu diesem Treffen sind Sie nicht (mehr) eingeladen. „alumni“ zeigt Ihren Stand.")
        )
    if meeting.ends_at <= now:
        raise UserFacingError(N_("Treffen {n} ist schon vorbei."), n=meeting.number)
    guest.answer, guest.answered_at = ("ja" if coming else "nein"), now
    uow.session.flush()
    return meeting


def guests(uow: UnitOfWork, meeting: Meeting) -> Guests | None:
    """None when the meeting is not open for alumni."""
    if repo(uow).meeting_open(meeting.id) is None:
        return None
    coming: list[str] = []
    declined: list[str] = []
    unanswered: list[str] = []
    for guest in repo(uow).guests(meeting.id):
        alumnus = repo(uow).get(guest.alumnus_id)
        if alumnus is None:
            continue
        label = _label(uow, alumnus)
        {"ja": coming, "nein": declined}.get(guest.answer or "", unanswered).append(label)
    return Guests(coming, declined, unanswered)


# -- the alumni room ----------------------------------------------------------------------------

ROOM_KEY = "alumni:room"


def room_of(uow: UnitOfWork) -> tuple[str, str] | None:
    """(platform, channel or room id) of the alumni room, if the organisers set one."""
    raw = uow.state.get(ROOM_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    return str(data["platform"]), str(data["channel"])


def room_link(platform: str, channel: str) -> str:
    """A link that opens the room (Slack: the channel; Matrix: matrix.to)."""
    if platform == "slack":
        return f"https://slack.com/app_redirect?channel={channel}"
    if platform == "matrix":
        return f"https://matrix.to/#/{channel}"
    return f"#{channel.lstrip('#')}"


def parse_room(text: str) -> str:
    """``#kanal``, a Slack mention ``<#C0123|kanal>``, a Matrix ``!id:server`` or
    ``#alias:server``: the id to keep."""
    value = text.strip()
    if value.startswith("<#") and value.endswith(">"):
        value = value[2:-1].split("|", 1)[0]
    elif not value.startswith("#") or ":" not in value:
        value = value.lstrip("#")
    if not value or any(c.isspace() for c in value) or len(value) > 255:
        raise UserFacingError(
            N_(
                "Bitte nennen Sie den Kanal oder Raum, z. B. „alumni raum #alumni“ (Slack, "
                "Konsole) oder „alumni raum #alumni:example.org“ (Matrix)."
            )
        )
    return value


def invite_to_room(
    uow: UnitOfWork, alumnus: Alumnus, *, now: datetime, default_language: str
) -> bool:
    """Send an alumnus the room's link by DM (no messenger here can add people to a channel
    itself). Once per room and alumnus."""
    room = room_of(uow)
    if room is None or alumnus.person_id is None:
        return False
    person = uow.persons.get(alumnus.person_id)
    if person is None or person.erased_at is not None:
        return False
    return tell(
        uow,
        person,
        N_(
            "Der Alumni-Kreis des Stadtlabors hat einen eigenen Raum: {link} – Sie sind "
            "herzlich eingeladen, dort dabei zu sein."
        ),
        now=now,
        default_language=default_language,
        key=f"alumni-room:{room[0]}:{room[1]}:{alumnus.id}",
        link=room_link(*room),
    )


def set_room(
    uow: UnitOfWork, platform: str, channel: str | None, *, now: datetime, default_language: str
) -> int:
    """``alumni raum #kanal`` (None: ``alumni raum aus``). Every alumnus gets the link;
    returns how many."""
    if channel is None:
        uow.state.delete(ROOM_KEY)
        return 0
    uow.state.put(ROOM_KEY, json.dumps({"platform": platform, "channel": channel}))
    uow.session.flush()
    return sum(
        invite_to_room(uow, alumnus, now=now, default_language=default_language)
        for alumnus in repo(uow).opted_in()
    )


def members(uow: UnitOfWork) -> list[str]:
    """The alumni circle for the organisers: "Name (Kommune, Jahr)", by name."""
    return sorted((_label(uow, a) for a in repo(uow).opted_in()), key=fold_key)


def contacts_without_consent(uow: UnitOfWork) -> int:
    """Imported contacts of the former network without consent: a count, nothing else."""
    total = uow.session.scalar(select(func.sum(AlumniImport.without_consent)))
    return int(total or 0)
