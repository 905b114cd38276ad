"""Pytest fixtures for Matrix tests against a real Synapse (see tests/support/synapse.py).

Wire into ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.fixtures_matrix"]``.
Importing the fixtures into several modules is harmless too: all ``synapse`` fixture
definitions share one server per process (reference counted).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from .synapse import DEFAULT_VENV, MatrixUser, SynapseServer, synapse_installed

__all__ = ["MatrixUser", "matrix_user", "synapse"]

_counter = itertools.count(1)
_shared: SynapseServer | None = None
_users = 0


@pytest.fixture(scope="session")
def synapse() -> Iterator[SynapseServer]:
    """One Synapse per test session. Skips without ``.venv-synapse`` unless ``CI=true``,
    where a missing install is a failure (so CI cannot silently skip Matrix tests)."""
    if not synapse_installed(DEFAULT_VENV):
        reason = f"Synapse not installed in {DEFAULT_VENV}; run .ci/install-synapse.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    global _shared, _users
    if _shared is None:
        _shared = SynapseServer().start()
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0:
            _shared.stop()
            _shared = None


@pytest.fixture
def matrix_user(synapse: SynapseServer) -> Callable[[str], MatrixUser]:
    """Factory registering a fresh user per call: ``matrix_user("anna")`` ->
    ``(user_id, access_token, password)``; localparts get a unique suffix."""

    def register(prefix: str = "user") -> MatrixUser:
        localpart = f"{prefix}{next(_counter)}_{os.getpid()}"
        password = f"pw-{localpart}"
        user_id, token = synapse.register_user(localpart, password)
        return user_id, token, password

    return register
