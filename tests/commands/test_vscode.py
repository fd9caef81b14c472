from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli

USER_TASKS = '{\n  // mine\n  "version": "2.0.0",\n  "tasks": [\n    {"label": "build", "type": "shell", "command": "make"},\n  ],\n}\n'


def test_vscode_tasks_then_remove(capsys: pytest.CaptureFixture[str], key: Path, tmp_path: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    ws = tmp_path / "project"
    (ws / ".vscode").mkdir(parents=True)
    tasks = ws / ".vscode" / "tasks.json"
    tasks.write_text(USER_TASKS)
    r = run_cli(capsys, "vscode", "--workspace", str(ws), "--account", "myproj", "--yes")
    assert r.rc == 0, r.err
    import pyjson5

    doc = pyjson5.loads(tasks.read_text())
    labels = [t["label"] for t in doc["tasks"]]
    assert labels[0] == "build" and any(lbl.startswith("sshsetup: ") for lbl in labels)
    assert "jsc-booster" in tasks.read_text()  # the first site init set up
    again = run_cli(capsys, "vscode", "--workspace", str(ws), "--account", "myproj", "--yes")
    assert "identical" in again.err
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert tasks.read_text() == USER_TASKS


def test_vscode_tasks_dry_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    r = run_cli(capsys, "vscode", "--workspace", str(tmp_path), "--site", "jusuf", "--dry-run")
    assert r.rc == 0
    assert r.out.startswith(f"--- /dev/null\n+++ {tmp_path / '.vscode' / 'tasks.json'}\n")
    assert not (tmp_path / ".vscode").exists()
    body = "".join(line[1:] for line in r.out.splitlines(keepends=True)[3:] if line.startswith("+"))
    assert json.loads(body)["version"] == "2.0.0"


def test_the_diff_is_shown_before_the_question(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from sshsetup.commands.vscode import VscodeOptions, run
    from sshsetup.paths import Paths
    from sshsetup.render import show

    tasks = tmp_path / ".vscode" / "tasks.json"
    tasks.parent.mkdir()
    tasks.write_text(USER_TASKS)
    on_screen: list[str] = []

    def no(question: str) -> bool:
        on_screen.append(capsys.readouterr().out)
        return False

    res = run(Paths.from_env(), VscodeOptions(workspace=tmp_path, site="jusuf"), confirm=no)
    assert len(on_screen) == 1 and on_screen[0].startswith(f"--- {tasks}\n+++ {tasks}\n")
    assert show(res) == 1 and tasks.read_text() == USER_TASKS
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"  would update     {tasks}\n{tasks} was left unchanged (diff above). Re-run with --yes to update it.\n"


@pytest.mark.parametrize("before", [b"", b"{}", b"{}\n", b'{"version": "2.0.0"}\n', b'{"version": "2.0.0", "tasks": []}\r\n',
                                    b"\xef\xbb\xbf{}", None])
def test_remove_gives_back_the_tasks_file_that_was_there(capsys: pytest.CaptureFixture[str], key: Path, tmp_path: Path,
                                                         before: bytes | None) -> None:
    """Issue 11 item 4: a tasks.json with nothing of the user's in it is restored byte for byte, one sshsetup made is deleted."""
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    ws = tmp_path / "project"
    (ws / ".vscode").mkdir(parents=True)
    tasks = ws / ".vscode" / "tasks.json"
    if before is not None:
        tasks.write_bytes(before)
    assert run_cli(capsys, "vscode", "--workspace", str(ws), "--account", "myproj", "--yes").rc == 0
    assert b"sshsetup: " in tasks.read_bytes()
    assert run_cli(capsys, "remove", "--yes").rc == 0
    if before is None:
        assert not tasks.exists()
    else:
        assert tasks.read_bytes() == before
