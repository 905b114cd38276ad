"""profil, profil aendern, wer kennt sich aus, vorstellen, vorstellen annehmen|ablehnen (and, from
tandem_commands, tandems starten, tandems, tandems stand and tandem; from checkin_commands,
checkin, checkin tag and checkins): the networking feature's command table and its scheduled
work."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import PermissionDenied, UserFacingError
from bot.i18n import N_
from bot.networking import (
    alumni,
    alumni_commands,
    checkin_commands,
    intro_room,
    introductions,
    profiles,
    tandem_commands,
    views,
)
from bot.networking.ranking import merge, rank
from bot.networking.topics import canonical, close_to, suggestions
from bot.people import resolve_person
from bot.scheduling.due import DueHandlers
from bot.views import Form, FormField, Message, Note, Section
from storage.models import Person

FORM_ID = "profile"
GROUP = "jahrgang"  # shown in "hilfe" with the other cohort commands
# option (German and English) → field of profiles.Changes
OPTIONS = {
    "groesse": "size",
    "size": "size",
    "themen": "topics",
    "topics": "topics",
    "vorhaben": "vorhaben",
    "project": "vorhaben",
    "ziel": "goal",
    "goal": "goal",
    "stand": "stage",
    "stage": "stage",
}


# the options of "profil aendern": one table for parsing, "hilfe" and refusals
PROFILE_OPTIONS = (
    Option(
        "groesse",
        N_(
            "Größe der Kommune: Landgemeinde, Kleinstadt, Mittelstadt, Großstadt oder Einwohnerzahl"
        ),
        ("size",),
    ),
    Option("themen", N_("Ihre Themen, mit Komma getrennt"), ("topics",)),
    Option("vorhaben", N_("Ihr Vorhaben in diesem Jahr (Titel)"), ("project",)),
    Option("ziel", N_("Ziel des Vorhabens"), ("goal",)),
    Option("stand", N_("Stand des Vorhabens"), ("stage",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("profil",),
            show_profile,
            N_("zeigt Ihr Profil (Themen, Vorhaben) oder das einer Person aus Ihrem Jahrgang"),
            "profil [PERSON]",
            "profil @anna",
            (("profile",),),
            GROUP,
        )
    )
    add(
        CommandSpec(
            ("profil", "aendern"),
            edit_profile,
            N_("ändert Ihr Profil: Größe der Kommune, Themen, Vorhaben, Ziel, Stand"),
            'profil aendern [groesse=…] [themen="…, …"] [vorhaben="…"] [ziel="…"] [stand=…]',
            views.EXAMPLE,
            (("profile", "edit"),),
            GROUP,
            options=PROFILE_OPTIONS,
        )
    )
    registry.add_form(FORM_ID, "profil aendern", submit_profile)
    tandem_commands.register(registry)
    checkin_commands.register(registry)
    alumni_commands.register(registry)
    add(
        CommandSpec(
            ("wer", "kennt", "sich", "aus"),
            who_knows,
            N_("findet Teilnehmende Ihres Jahrgangs mit Expertise oder Vorhaben zu einem Thema"),
            "wer kennt sich aus mit THEMA",
            "wer kennt sich aus mit Mobilität",
            (("who", "knows"),),
            GROUP,
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("vorstellen",),
            introduce,
            N_("bittet eine Person aus Ihrem Jahrgang, ob ich Sie einander vorstellen darf"),
            "vorstellen PERSON [thema=…]",
            "vorstellen @ben thema=Mobilität",
            (("introduce",),),
            GROUP,
            needs_cohort=True,
            options=(Option("thema", N_("das gemeinsame Thema"), ("topic",)),),
        )
    )
    add(
        CommandSpec(
            ("vorstellen", "annehmen"),
            accept,
            N_("nimmt eine Anfrage zur Vorstellung an und eröffnet eine gemeinsame Unterhaltung"),
            "vorstellen annehmen [PERSON]",
            "vorstellen annehmen",
            (("introduce", "accept"),),
            GROUP,
        )
    )
    add(
        CommandSpec(
            ("vorstellen", "ablehnen"),
            decline,
            N_("lehnt eine Anfrage zur Vorstellung freundlich ab"),
            "vorstellen ablehnen [PERSON]",
            "vorstellen ablehnen",
            (("introduce", "decline"),),
            GROUP,
        )
    )


def register_due(handlers: DueHandlers) -> None:
    handlers.add(introductions.KIND_EXPIRE, introductions.expire)
    tandem_commands.register_due(handlers)
    checkin_commands.register_due(handlers)


def show_profile(ctx: CommandContext) -> Reply:
    if not ctx.args:
        own = profiles.get(ctx.uow, ctx.person.id)
        return Reply(views.profile_message(ctx._, ctx.person, own, own=True))
    target = resolve_person(ctx.uow, " ".join(ctx.args), ctx.request.conversation.platform)
    if target.id == ctx.person.id:
        own = profiles.get(ctx.uow, ctx.person.id)
        return Reply(views.profile_message(ctx._, ctx.person, own, own=True))
    if ctx.role != "organiser" and (
        ctx.role == "waitlisted"
        or ctx.cohort is None
        or not profiles.visible_to(ctx.uow, ctx.cohort.id, target.id)
    ):
        raise PermissionDenied(
            N_(
                "Profile anderer sehen nur bestätigte Teilnehmende desselben Jahrgangs und das "
                "Programmteam. Ihr eigenes Profil zeigt „profil“."
            )
        )
    shown = profiles.get(ctx.uow, target.id)
    return Reply(views.profile_message(ctx._, target, shown, own=False))


def _changes(values: dict[str, str], *, keep_empty: bool) -> profiles.Changes:
    given: dict[str, str] = {}
    for option, value in values.items():
        name = OPTIONS.get(option)
        if name is not None and (value.strip() or not keep_empty):
            given[name] = value
    return profiles.Changes(**given)


def profile_form(ctx: CommandContext) -> Form:
    dash = ctx._(N_("(„-“ lässt den Wert, wie er ist)"))
    return Form(
        FORM_ID,
        ctx._(N_("Ihr Profil")),
        (
            FormField(
                "themen",
                ctx._(N_("Ihre Themen, mit Komma getrennt, z. B. {examples}"), examples=_ex()),
                required=False,
                max_length=600,
                hint=dash,
            ),
            FormField(
                "vorhaben",
                ctx._(N_("Ihr Vorhaben in diesem Jahr (Titel)")),
                required=False,
                hint=dash,
            ),
            FormField(
                "ziel",
                ctx._(N_("Das Ziel des Vorhabens")),
                "longtext",
                required=False,
                max_length=1000,
                hint=dash,
            ),
            FormField(
                "stand",
                ctx._(N_("Stand")),
                "select",
                required=False,
                options=profiles.STAGES,
                hint=dash,
            ),
        ),
        ctx._(N_("Speichern")),
        intro=(
            ctx._(
                N_(
                    "Ihr Profil ist für Ihren Jahrgang und das Programmteam sichtbar; "
                    "„vergessen“ löscht es."
                )
            ),
        ),
    )


def _ex() -> str:
    return ", ".join(suggestions(limit=4))


def edit_profile(ctx: CommandContext) -> Reply:
    if ctx.args:  # words outside an option: most likely a value that needed quotes
        raise UserFacingError(
            N_(
                "Bitte setzen Sie Werte mit Leerzeichen oder Kommas in Anführungszeichen, "
                'z. B. themen="Pflege, Mobilität".'
            )
        )
    changes = _changes(ctx.options, keep_empty=False)
    if changes == profiles.Changes():
        if ctx.options:
            raise UserFacingError(
                N_("Das verstehe ich nicht. Zum Beispiel: {example}"), example=views.EXAMPLE
            )
        return Reply(form=profile_form(ctx))
    return _save(ctx, changes)


def submit_profile(ctx: CommandContext, values: dict[str, str]) -> Reply:
    return _save(ctx, _changes(values, keep_empty=True))


def _save(ctx: CommandContext, changes: profiles.Changes) -> Reply:
    saved = profiles.save(ctx.uow, ctx.person, changes, now=ctx.now)
    ctx.uow.commit()
    message = views.profile_message(ctx._, ctx.person, saved.profile, own=True)
    notes = []
    if saved.unknown_place or saved.ambiguous_place:
        why = (
            N_("Ihre Kommune „{place}“ gibt es mehrmals in den Ortsdaten.")
            if saved.ambiguous_place
            else N_("Ihre Kommune „{place}“ finde ich nicht in den Ortsdaten.")
        )
        notes.append(
            ctx._(why, place=ctx.person.municipality or "–")
            + " "
            + ctx._(
                N_(
                    "Bitte geben Sie die Größe an, z. B. „profil aendern groesse=Kleinstadt“ "
                    "oder die Einwohnerzahl („groesse=12000“)."
                )
            )
        )
    if changes.topics:
        notes += _free_tag_hints(ctx, [str(t) for t in saved.profile.topics])
    head = ctx._(N_("Ihr Profil ist gespeichert."))
    return Reply(
        Message(
            (Section((head,)), *message.blocks, *(Note(n) for n in notes)),
            fallback=head,
        )
    )


def _free_tag_hints(ctx: CommandContext, tags: list[str]) -> list[str]:
    """Tags not on the curated list are kept as typed; a close topic is offered, not forced."""
    hints = []
    for tag in tags:
        if canonical(tag)[1] != "free":
            continue
        near = close_to(tag)
        if near:
            hints.append(
                ctx._(
                    N_("„{tag}“ steht nicht in der Themenliste. Meinten Sie: {topics}?"),
                    tag=tag,
                    topics=", ".join(near),
                )
            )
    return hints


def who_knows(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    words = list(ctx.args)
    if words and words[0].casefold() in ("mit", "about", "with"):
        words = words[1:]
    query = " ".join(words).strip().rstrip("?").strip()
    if not query:
        raise UserFacingError(
            N_("Mit welchem Thema? Zum Beispiel: wer kennt sich aus mit Mobilität")
        )
    members = profiles.of_cohort(ctx.uow, ctx.cohort.id)
    candidates = [
        profiles.candidate_of(person, profile)
        for person, profile in members
        if person.id != ctx.person.id
    ]
    # Opted-in alumni (only members of a cohort get here: needs_cohort and MEMBERS), after
    # the current participants at equal strength; someone in both lists counts as a member.
    exclude = {ctx.person.id, *(person.id for person, _profile in members)}
    found = merge(
        rank(query, candidates, limit=len(candidates)),
        alumni.matches(ctx.uow, query, exclude=exclude),
    )
    return Reply(views.experts_message(ctx._, query, found), private=True)


def introduce(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Wem soll ich Sie vorstellen? Zum Beispiel: vorstellen @ben"))
    other = resolve_person(ctx.uow, " ".join(ctx.args), ctx.request.conversation.platform)
    introductions.introduce(
        ctx.uow,
        cohort=ctx.cohort,
        requester=ctx.person,
        other=other,
        topic=ctx.options.get("thema") or ctx.options.get("topic"),
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_(
                    "Ich habe {name} gefragt, ob eine Vorstellung passt. Sobald {name} annimmt, "
                    "eröffne ich eine Unterhaltung mit Ihnen beiden; die Anfrage gilt 14 Tage."
                ),
                name=other.display_name or "?",
            )
        )
    )


def _requester(ctx: CommandContext) -> Person | None:
    if not ctx.args:
        return None
    return resolve_person(ctx.uow, " ".join(ctx.args), ctx.request.conversation.platform)


def accept(ctx: CommandContext) -> Reply:
    requester, how = introductions.accept(
        ctx.uow,
        ctx.person,
        requester=_requester(ctx),
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    text = (
        N_("Schön! Ich eröffne gleich eine Unterhaltung mit {name} und Ihnen.")
        if how == intro_room.GROUP
        else N_(
            "Schön! {name} und Sie erhalten von mir eine Nachricht mit der Vorstellung und "
            "den Kontaktdaten."
        )
    )
    return Reply(Message.text(ctx._(text, name=requester.display_name or "?")))


def decline(ctx: CommandContext) -> Reply:
    introductions.decline(
        ctx.uow,
        ctx.person,
        requester=_requester(ctx),
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(ctx._(N_("In Ordnung, ich habe freundlich abgesagt – ohne Gründe zu nennen.")))
    )
