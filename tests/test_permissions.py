"""Generated from the permission table: every refused cell is refused, every allowed one is not.

Each command is tried by an organiser, a host member, a participant, a waitlisted person and an
outsider. A refusal must be the permission message; anything else must not be.
"""

from __future__ import annotations

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.commands import build_registry
from bot.context import ROLES, Role
from bot.permissions import PERMISSIONS, access
from tests.conftest import START
from tests.helpers import Driver, make_settings

USERS: dict[Role, str] = {
    "organiser": "orga",
    "host": "hanna",
    "participant": "paul",
    "waitlisted": "wanda",
    "outsider": "otto",
}
REFUSALS = ("vorbehalten", "nur für Teilnehmende", "erst mit bestätigtem Platz")


def _signup(user: str) -> str:
    return (
        f'anmelden name="{user.title()}" kommune=Ort funktion=Stabsstelle '
        f"email={user}@example.org zustimmung=ja"
    )


# Commands that change state even without arguments get a fresh world per cell.
MUTATING = {"abmelden", "jahrgang abschliessen", "vergessen"}


def _world(tmp_path_factory: pytest.TempPathFactory) -> Driver:
    path = tmp_path_factory.mktemp("perm") / "p.db"
    bot: Bot = build_bot(
        make_settings(f"sqlite:///{path}", organizers="console:orga"), SimulatedClock(START)
    )
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Rechte" plaetze=2')
    for user in ("hanna", "paul", "wanda"):
        d.say(user, _signup(user))
    d.say("orga", "gastgeber @hanna ja")
    d.say("otto", "hilfe")
    return d


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Driver:
    return _world(tmp_path_factory)


def test_table_covers_every_command_and_role() -> None:
    keys = {spec.key for spec in build_registry().specs}
    assert keys <= set(PERMISSIONS), keys - set(PERMISSIONS)
    for key, row in PERMISSIONS.items():
        assert set(row) == set(ROLES), key


def test_roles_are_what_the_world_says(world: Driver) -> None:
    assert "Gastgeberstadt" in world.say("orga", "teilnehmende")
    assert "Warteliste" in world.say("wanda", _signup("wanda"))


REGISTERED = sorted({spec.key for spec in build_registry().specs})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", REGISTERED)
def test_permission_cell(
    world: Driver, tmp_path_factory: pytest.TempPathFactory, key: str, role: Role
) -> None:
    if key in MUTATING:
        world = _world(tmp_path_factory)
    user = USERS[role]
    answer = world.say(user, key)  # without arguments: must never change anything
    refused = any(marker in answer for marker in REFUSALS) and f"„{key}“" in answer
    if access(key, role) == "refused":
        assert refused, f"{key} as {role}: {answer!r}"
    else:
        assert not refused, f"{key} as {role}: {answer!r}"


def test_readme_mirrors_the_table() -> None:
    from pathlib import Path

    from bot.permissions import markdown_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table(REGISTERED) in readme
