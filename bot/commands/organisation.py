"""Organiser tools: ankuendigen, rolle, gastgeber, protokoll."""

from __future__ import annotations

from bot import confirm
from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import UserFacingError
from bot.i18n import N_, format_when
from bot.people import resolve_person
from bot.router import fold
from bot.services import audit, cohorts
from bot.services.participants import set_host, set_organiser
from bot.views import Bullets, Header, Message, Section
from storage.models import Person

YES = {"ja", "yes", "true", "1"}
NO = {"nein", "no", "false", "0"}


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("ankuendigen",),
            announce,
            N_("schickt eine Ankündigung in alle Kanäle des Jahrgangs"),
            'ankuendigen "TEXT" [email=ja]',
            'ankuendigen "Die Anmeldung ist geöffnet." email=ja',
            (("announce",),),
            "organisation",
            needs_cohort=True,
            options=(
                Option(
                    "email",
                    N_("ja: auch per E-Mail an alle bestätigten Teilnehmenden"),
                    ("mail",),
                ),
            ),
        )
    )
    add(
        CommandSpec(
            ("rolle",),
            role,
            N_("macht eine Person zum Programmteam oder zurück"),
            "rolle PERSON organisation|teilnehmend",
            "rolle @anna organisation",
            (("role",),),
            "organisation",
        )
    )
    add(
        CommandSpec(
            ("gastgeber",),
            host,
            N_("markiert eine teilnehmende Person als Mitglied der Gastgeberstadt"),
            "gastgeber PERSON ja|nein",
            "gastgeber @ben ja",
            (("host",),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("protokoll",),
            audit_log,
            N_("zeigt die letzten Aktionen des Programmteams"),
            "protokoll",
            "protokoll",
            (("audit",),),
            "organisation",
        )
    )


def announce(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    text = " ".join(ctx.args).strip()
    if not text:
        raise UserFacingError(
            N_('Bitte geben Sie den Text an, z. B. ankuendigen "Die Anmeldung ist geöffnet."')
        )
    if len(text) > 3000:
        raise UserFacingError(
            N_("Die Ankündigung ist zu lang ({length} Zeichen); höchstens {limit} sind möglich."),
            length=len(text),
            limit=3000,
        )
    by_mail = _by_mail(ctx)
    message = Message((Header("📣 " + ctx.cohort.name), Section((text,))), fallback=text[:150])
    if not confirm.approved(ctx, message):
        return confirm.preview(ctx, message)
    count, mails = cohorts.announce(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort=ctx.cohort,
        message=message,
        now=ctx.now,
        by_mail=by_mail,
    )
    ctx.uow.commit()
    if count == 1:
        lines = [ctx._(N_("Ankündigung an 1 Kanal verschickt."))]
    else:
        lines = [ctx._(N_("Ankündigung an {n} Kanäle verschickt."), n=count)]
    if by_mail:
        lines.append(ctx._(N_("Per E-Mail an {n} bestätigte Teilnehmende."), n=mails))
    return Reply(Message.text(*lines))


def _by_mail(ctx: CommandContext) -> bool:
    """``email=ja|nein`` (default: no mail); anything else is refused, not guessed."""
    given = ctx.options.get("email")
    if given is None:
        return False
    if fold(given) in YES:
        return True
    if fold(given) in NO:
        return False
    raise UserFacingError(
        N_(
            "email= versteht „ja“ oder „nein“, z. B. ankuendigen "
            '"Die Anmeldung ist geöffnet." email=ja'
        )
    )


def _person_and_flag(
    ctx: CommandContext, yes: set[str], no: set[str], usage: str
) -> tuple[Person, bool]:
    if len(ctx.args) < 2 or fold(ctx.args[-1]) not in yes | no:
        raise UserFacingError(N_("So geht es: {usage}"), usage=usage)
    person = resolve_person(ctx.uow, " ".join(ctx.args[:-1]), ctx.request.conversation.platform)
    return person, fold(ctx.args[-1]) in yes


def role(ctx: CommandContext) -> Reply:
    person, organiser = _person_and_flag(
        ctx,
        {"organisation", "organiser", "organisator", "organisatorin"},
        {"teilnehmend", "participant", "teilnehmer", "teilnehmerin"},
        "rolle PERSON organisation|teilnehmend",
    )
    set_organiser(ctx.uow, actor_id=ctx.person.id, person=person, organiser=organiser, now=ctx.now)
    ctx.uow.commit()
    name = person.display_name or "?"
    if organiser:
        return Reply(Message.text(ctx._(N_("{name} gehört jetzt zum Programmteam."), name=name)))
    return Reply(
        Message.text(
            ctx._(N_("{name} ist jetzt teilnehmend (nicht mehr im Programmteam)."), name=name)
        )
    )


def host(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    person, flag = _person_and_flag(ctx, YES, NO, "gastgeber PERSON ja|nein")
    set_host(
        ctx.uow, actor_id=ctx.person.id, cohort=ctx.cohort, person=person, host=flag, now=ctx.now
    )
    ctx.uow.commit()
    name = person.display_name or "?"
    msg = (
        N_("{name} gehört jetzt zur Gastgeberstadt.")
        if flag
        else N_("{name} gehört nicht mehr zur Gastgeberstadt.")
    )
    return Reply(Message.text(ctx._(msg, name=name)))


def audit_log(ctx: CommandContext) -> Reply:
    entries = audit.lines(ctx.uow, ctx.cohort.id if ctx.cohort else None, limit=20)
    if not entries:
        return Reply(Message.text(ctx._(N_("Das Protokoll ist noch leer."))))
    lines = []
    for e in entries:
        actor = e.actor if e.actor is not None else ctx._(audit.SYSTEM)
        subject = f" → {e.subject}" if e.subject else ""
        change = f" ({e.change})" if e.change else ""
        when = format_when(e.at.astimezone(ctx.tz), ctx.language)
        lines.append(f"{when}: {actor}: {e.action}{subject}{change}")
    return Reply(
        Message(
            (Header(ctx._(N_("Protokoll"))), Bullets(tuple(lines))), fallback=ctx._(N_("Protokoll"))
        )
    )
