"""The srun transport's two Remote-SSH settings: set once, recorded, and given back by ``remove``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.paths import Paths
from sshsetup.slurm import session_vscode
from tests.helpers import run_cli

OLD = '{\n  // mine\n  "editor.fontSize": 14,\n  "remote.SSH.useLocalServer": false\n}\n'


def test_apply_is_pure_and_records_the_old_text() -> None:
    new, record = session_vscode.apply(OLD)
    assert new == ('{\n  // mine\n  "editor.fontSize": 14,\n  "remote.SSH.useLocalServer": true,\n'
                   '  "remote.SSH.enableRemoteCommand": true\n}\n')
    assert [(c.path, c.old, c.new) for c in record.changes] == [
        (("remote.SSH.enableRemoteCommand",), None, "true"), (("remote.SSH.useLocalServer",), "false", "true")]


def test_ensure_then_remove_gives_the_bytes_back(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = fake_home / ".config" / "Code" / "User" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(OLD)
    paths = Paths.from_env()
    outcomes, notes = session_vscode.ensure(paths, environ={"HOME": str(fake_home)})
    assert notes == [] and [(o.path, o.verb.value) for o in outcomes] == [(settings, "update")]
    assert '"remote.SSH.enableRemoteCommand": true' in settings.read_text()
    assert session_vscode.ensure(paths, environ={"HOME": str(fake_home)}) == ([], [])  # nothing to do twice
    r = run_cli(capsys, "remove", "--yes")
    assert r.rc == 0, r.err
    assert settings.read_text() == OLD
