"""anmelden, abmelden, bestaetigen, ablehnen — the registration form and its outcomes."""

from __future__ import annotations

from bot.commands.registry import CommandRegistry, CommandSpec, Option
from bot.context import CommandContext, Reply
from bot.errors import NotFound, UserFacingError
from bot.forms import validate_field
from bot.i18n import N_
from bot.networking.profiles import ask_once as ask_for_profile
from bot.people import resolve_person
from bot.router import shorten
from bot.services import functions
from bot.services import registration as reg
from bot.views import Form, FormField, Message, Note, Section
from storage.models import Cohort

FORM_ID = "registration"
# option name in the one-line form → form field
OPTION_FIELDS = {
    "name": "name",
    "kommune": "kommune",
    "funktion": "funktion",
    "email": "email",
    "e-mail": "email",
    "bueroleitung": "bueroleitung",
    "buero": "bueroleitung",
    "zustimmung": "zustimmung",
    "municipality": "kommune",
    "function": "funktion",
    "consent": "zustimmung",
    "office": "bueroleitung",
}

# the options of "anmelden" (English names are mapped to the German ones)
SIGN_UP_OPTIONS = (
    Option("name", N_("Ihr Name")),
    Option("kommune", N_("Ihre Kommune"), ("municipality",)),
    Option("funktion", N_("Ihre Funktion, z. B. Oberbürgermeisterin"), ("function",)),
    Option("email", N_("Ihre E-Mail-Adresse"), ("e-mail",)),
    Option("bueroleitung", N_("Büroleitung (freiwillig)"), ("office", "buero")),
    Option("zustimmung", N_("ja: Sie willigen in den Datenschutzhinweis ein"), ("consent",)),
    Option("jahrgang", N_("der Jahrgang, wenn mehrere offen sind"), ("cohort",)),
)


def register(registry: CommandRegistry) -> None:
    add = registry.add
    add(
        CommandSpec(
            ("anmelden",),
            sign_up,
            N_("meldet Sie für den Jahrgang an (Formular; Datenschutzhinweis inklusive)"),
            'anmelden [name="…" kommune="…" funktion="…" email=… zustimmung=ja]',
            'anmelden name="Anna Muster" kommune="Musterstadt" funktion="Bürgermeisterin" '
            "email=anna@musterstadt.de zustimmung=ja",
            (("register",),),
            "jahrgang",
            options=SIGN_UP_OPTIONS,
        )
    )
    registry.add_form(FORM_ID, "anmelden", submit)
    add(
        CommandSpec(
            ("abmelden",),
            withdraw,
            N_("zieht Ihre Anmeldung zurück"),
            "abmelden",
            "abmelden",
            (("withdraw",),),
            "jahrgang",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("bestaetigen",),
            lambda ctx: decide(ctx, True),
            N_("bestätigt eine Anmeldung (moderierter Jahrgang)"),
            "bestaetigen PERSON",
            "bestaetigen @anna",
            (("confirm",),),
            "organisation",
            needs_cohort=True,
        )
    )
    add(
        CommandSpec(
            ("ablehnen",),
            lambda ctx: decide(ctx, False),
            N_("lehnt eine Anmeldung ab (moderierter Jahrgang)"),
            "ablehnen PERSON",
            "ablehnen @anna",
            (("decline",),),
            "organisation",
            needs_cohort=True,
        )
    )


def privacy_notice(ctx: CommandContext) -> str:
    if ctx.settings.privacy_notice:
        return ctx.settings.privacy_notice
    return ctx._(
        N_(
            "Datenschutzhinweis (Art. 13 DSGVO): Die Körber-Stiftung verarbeitet Ihren Namen, "
            "Ihre Kommune, Ihre Funktion, Ihre E-Mail-Adresse und Ihre Beiträge im Bot, um das "
            "Stadtlabor zu organisieren (Anmeldung, Termine, Umfragen, Feedback, "
            "Erinnerungen) und den Austausch zu vernetzen (Profil mit Vorhaben, monatliche "
            "Check-ins zum Vorhaben, Tandems). Grundlage ist "
            "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO); Sie können sie jederzeit mit "
            "„vergessen“ widerrufen. „meine-daten“ schickt Ihnen alles, was gespeichert ist. Die "
            "Daten werden {days} Tage nach Ende des Jahrgangs gelöscht."
        ),
        days=ctx.settings.retention_days,
    )


def registration_form(ctx: CommandContext, cohort: Cohort, given: dict[str, str]) -> Form:
    fields = (
        FormField(
            "name",
            ctx._(N_("Ihr Name")),
            max_length=200,
            initial=given.get("name") or ctx.person.display_name,
        ),
        FormField(
            "kommune", ctx._(N_("Ihre Kommune")), max_length=200, initial=given.get("kommune")
        ),
        FormField(
            "funktion",
            ctx._(N_("Ihre Funktion")),
            max_length=functions.FUNCTION_LENGTH,
            options=functions.FUNCTIONS,  # suggestions: any text is taken as typed
            hint=ctx._(N_("z. B. Oberbürgermeisterin, Kämmerer, Stabsstelle Demografie")),
            initial=given.get("funktion"),
        ),
        FormField(
            "email",
            ctx._(N_("Ihre E-Mail-Adresse")),
            kind="email",
            max_length=254,
            initial=given.get("email"),
        ),
        FormField(
            "bueroleitung",
            ctx._(
                N_(
                    "Büroleitung (freiwillig): Name oder @-Erwähnung; "
                    "sie erhält Kopien Ihrer Erinnerungen"
                )
            ),
            required=False,
            max_length=200,
            initial=given.get("bueroleitung"),
        ),
        FormField(
            "zustimmung",
            ctx._(N_("Ich habe den Datenschutzhinweis gelesen und willige ein (ja/nein)")),
            kind="consent",
            initial=given.get("zustimmung"),
        ),
    )
    return Form(
        FORM_ID,
        ctx._(N_("Anmeldung: {name}"), name=cohort.name)[:24],
        fields,
        ctx._(N_("Anmelden")),
        intro=(privacy_notice(ctx),),
        context={"cohort_id": str(cohort.id)},
    )


def _target_cohort(ctx: CommandContext) -> Cohort:
    if "jahrgang" in ctx.options:
        cohort = ctx.uow.cohorts.get_by_name(ctx.options["jahrgang"])
        if cohort is None:
            raise NotFound(
                N_("Einen Jahrgang „{name}“ kenne ich nicht."),
                name=shorten(ctx.options["jahrgang"]),
            )
        return cohort
    if ctx.cohort is not None:
        return ctx.cohort
    open_ = [
        c
        for c in ctx.uow.cohorts.active()
        if c.registration_deadline is None or c.registration_deadline > ctx.now
    ]
    if len(open_) == 1:
        return open_[0]
    if not open_:
        raise UserFacingError(N_("Zurzeit ist kein Jahrgang für Anmeldungen geöffnet."))
    raise UserFacingError(
        N_(
            "Für welchen Jahrgang? Schreiben Sie z. B. anmelden "
            'jahrgang="{example}". Offen sind: {names}.'
        ),
        example=open_[0].name,
        names=", ".join(c.name for c in open_),
    )


def sign_up(ctx: CommandContext) -> Reply:
    cohort = _target_cohort(ctx)
    existing = ctx.uow.participants.get(cohort.id, ctx.person.id)
    if existing is not None and existing.status in reg.ACTIVE:
        reg._already(ctx.uow, existing)
    if cohort.ended_at is not None:
        raise UserFacingError(N_("Der Jahrgang „{name}“ ist abgeschlossen."), name=cohort.name)
    form = registration_form(ctx, cohort, {})
    given: dict[str, str] = {}
    for key, value in ctx.options.items():
        name = OPTION_FIELDS.get(key)
        if name is None:
            continue
        field = next(f for f in form.fields if f.name == name)
        given[name] = validate_field(field, value) or ""
    form = registration_form(ctx, cohort, given)
    if all(f.initial or not f.required for f in form.fields):
        return submit(ctx, {f.name: f.initial or "" for f in form.fields}, cohort)
    return Reply(form=form)


def submit(ctx: CommandContext, values: dict[str, str], cohort: Cohort | None = None) -> Reply:
    if cohort is None:
        cohort_id = int(ctx.options.get("cohort_id", "0") or 0)
        cohort = ctx.uow.cohorts.get(cohort_id) if cohort_id else ctx.cohort
    if cohort is None:
        raise UserFacingError(N_("Dieses Formular ist veraltet. Bitte starten Sie neu."))
    form = registration_form(ctx, cohort, {})
    clean = {f.name: validate_field(f, values.get(f.name)) or "" for f in form.fields}
    details = reg.Details(
        clean["name"],
        clean["kommune"],
        clean["funktion"],
        clean["email"],
        clean["bueroleitung"] or None,
    )
    outcome = reg.register(
        ctx.uow,
        cohort=cohort,
        person=ctx.person,
        details=details,
        consent=clean["zustimmung"] == "ja",
        now=ctx.now,
        language=ctx.language,
        default_language=ctx.default_language,
        tz=ctx.tz,
    )
    _link_delegate(ctx, cohort, details.office_contact)
    if ctx.settings.profile_question:
        ask_for_profile(ctx.uow, ctx.person, now=ctx.now, default_language=ctx.default_language)
    ctx.uow.commit()
    return Reply(_outcome_message(ctx, cohort, outcome))


def _link_delegate(ctx: CommandContext, cohort: Cohort, contact: str | None) -> None:
    """An office contact who is in the chat becomes a delegate (gets reminder copies)."""
    if not contact:
        return
    try:
        delegate = resolve_person(ctx.uow, contact, ctx.request.conversation.platform)
    except UserFacingError:
        return
    participant = ctx.uow.participants.get(cohort.id, ctx.person.id)
    if participant is not None and delegate.id != ctx.person.id:
        participant.delegate_person_id = delegate.id


def _outcome_message(ctx: CommandContext, cohort: Cohort, outcome: reg.Outcome) -> Message:
    if outcome.status == "confirmed":
        text = ctx._(
            N_("Sie sind angemeldet: Platz {n} von {capacity} im Jahrgang „{name}“."),
            n=outcome.position,
            capacity=cohort.capacity,
            name=cohort.name,
        )
    elif outcome.status == "pending":
        text = ctx._(
            N_(
                "Danke! Ihre Anmeldung für „{name}“ liegt dem Programmteam zur "
                "Bestätigung vor. Sie erhalten Nachricht."
            ),
            name=cohort.name,
        )
    else:
        text = ctx._(
            N_(
                "Alle Plätze sind belegt. Sie stehen auf der Warteliste (Position {n}) "
                "und rücken automatisch nach, sobald ein Platz frei wird."
            ),
            n=outcome.position,
        )
    hint = ctx._(
        N_("„meine-daten“ zeigt Ihre gespeicherten Angaben, „abmelden“ zieht die Anmeldung zurück.")
    )
    return Message((Section((text,)), Note(hint)), fallback=text)


def withdraw(ctx: CommandContext) -> Reply:
    assert ctx.cohort is not None
    reg.withdraw(
        ctx.uow,
        cohort=ctx.cohort,
        person=ctx.person,
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    return Reply(
        Message.text(
            ctx._(
                N_("Sie sind vom Jahrgang „{name}“ abgemeldet. Schade – alles Gute!"),
                name=ctx.cohort.name,
            )
        )
    )


def decide(ctx: CommandContext, accept: bool) -> Reply:
    assert ctx.cohort is not None
    if not ctx.args:
        raise UserFacingError(N_("Bitte nennen Sie die Person, z. B. „bestaetigen @anna“."))
    person = resolve_person(ctx.uow, " ".join(ctx.args), ctx.request.conversation.platform)
    outcome = reg.decide(
        ctx.uow,
        actor_id=ctx.person.id,
        cohort=ctx.cohort,
        person=person,
        accept=accept,
        now=ctx.now,
        default_language=ctx.default_language,
    )
    ctx.uow.commit()
    name = person.display_name or "?"
    if outcome.status == "confirmed":
        return Reply(
            Message.text(
                ctx._(N_("{name} ist bestätigt (Platz {n})."), name=name, n=outcome.position)
            )
        )
    return Reply(
        Message.text(ctx._(N_("{name} ist abgelehnt und wurde benachrichtigt."), name=name))
    )
