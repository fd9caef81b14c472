"""sshsetup.removeplan: what ``remove`` plans and does, through its public ``run``."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from sshsetup import removeplan
from sshsetup.errors import BadInput
from sshsetup.files import Outcome, Verb
from sshsetup.paths import Paths
from tests.helpers import run_cli, snapshot, without_own_lock

USER_CONFIG = b"Host mine\r\n  HostName mine.example.org\r\n"


def set_up(capsys: pytest.CaptureFixture[str], home: Path, key: Path) -> Paths:
    (home / ".ssh" / "config").write_bytes(USER_CONFIG)
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    capsys.readouterr()
    return Paths.from_env()


def test_nothing_to_remove(fake_home: Path) -> None:
    shown: list[str] = []
    before = snapshot(fake_home)
    r = removeplan.run(Paths.from_env(), dry_run=False, yes=True, confirm=None, show_diff=shown.append)
    assert (r.outcomes, r.keys, r.notes, shown) == ([], [], [], [])
    assert without_own_lock(snapshot(fake_home), before) == before  # only the lock (and its state dir) is new


def test_dry_run_shows_and_changes_nothing(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    paths = set_up(capsys, fake_home, key)
    before = snapshot(fake_home)
    shown: list[str] = []
    r = removeplan.run(paths, dry_run=True, yes=False, confirm=None, show_diff=shown.append)
    assert [(o.path, o.verb) for o in r.outcomes] == [(paths.ssh_config, Verb.UPDATE)]
    assert r.keys == [key] and r.dry_run is True
    assert len(shown) == 1 and shown[0].startswith(f"--- {paths.ssh_config}\n+++ {paths.ssh_config}\n") and "-# BEGIN sshsetup" in shown[0]
    assert snapshot(fake_home) == before


def test_asks_first_and_refuses_without_a_way_to_ask(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    paths = set_up(capsys, fake_home, key)
    before = snapshot(fake_home)
    with pytest.raises(BadInput) as exc:
        removeplan.run(paths, dry_run=False, yes=False, confirm=None, show_diff=lambda _d: None)
    assert (exc.value.message, exc.value.hint) == (
        "sshsetup remove needs confirmation", "re-run with --yes, or with --dry-run to see what it would remove")
    asked: list[str] = []
    with pytest.raises(click.exceptions.Abort):
        removeplan.run(paths, dry_run=False, yes=False, confirm=lambda q: asked.append(q) or False, show_diff=lambda _d: None)
    assert asked == ["Remove these?"]
    assert snapshot(fake_home) == before


def test_remove_restores_the_config_and_keeps_the_key(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path) -> None:
    paths = set_up(capsys, fake_home, key)
    key_bytes = key.read_bytes()
    r = removeplan.run(paths, dry_run=False, yes=True, confirm=None, show_diff=lambda _d: None)
    assert (paths.ssh_config.read_bytes(), key.read_bytes()) == (USER_CONFIG, key_bytes)
    assert r.outcomes[0].path == paths.ssh_config and r.outcomes[0].verb is Verb.UPDATE
    assert Outcome(paths.manifest, Verb.DELETE) in r.outcomes and not paths.manifest.exists()
    assert r.keys == [key]
