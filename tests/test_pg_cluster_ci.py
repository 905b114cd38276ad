"""The throwaway PostgreSQL cluster may be skipped on a laptop, never on CI (issue 14)."""

from __future__ import annotations

import os

import pytest

from tests.support import pg_cluster


def test_missing_binaries_fail_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_cluster, "BINARIES", [])
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        pg_cluster.require_binaries()


def test_missing_binaries_skip_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_cluster, "BINARIES", [])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        pg_cluster.require_binaries()


def test_installed_binaries_neither_skip_nor_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_cluster, "BINARIES", ["/usr/lib/postgresql/15/bin"])
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    monkeypatch.setenv("CI", "true")
    pg_cluster.require_binaries()
