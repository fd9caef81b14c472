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

    res = run(Paths.from_env(), VscodeOptions(workspace=tmp_path, site="jusuf", where="both"), confirm=no)
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


# ------------------------------------------------------------------ --where (issue 18 item 11)

LOCAL_NOTE = ("note: tasks to run from this laptop (ssh): this shell did not come in over ssh (no SSH_CONNECTION): "
              "a local workspace; --where both adds the other half\n")


def _labels(ws: Path) -> list[str]:
    import pyjson5

    return [t["label"] for t in pyjson5.loads((ws / ".vscode" / "tasks.json").read_text())["tasks"]]


def test_without_ssh_only_the_laptop_tasks(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    r = run_cli(capsys, "vscode", "--workspace", str(tmp_path), "--site", "juwels-booster", "--yes")
    assert (r.rc, r.err) == (0, f"{LOCAL_NOTE}  create           {tmp_path / '.vscode' / 'tasks.json'}\n")
    labels = _labels(tmp_path)
    assert len(labels) == 8 and all(lbl.startswith("sshsetup: [laptop via jsc-booster] ") for lbl in labels)


def test_on_a_login_node_of_the_site_only_the_login_node_tasks(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine plays the login node: a sites file names it among the site's login nodes."""
    import socket

    host = socket.gethostname().split(".")[0].lower()
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.here]\nhostname = "login.example.org"\nlogin_nodes = ["{host}.example.org"]\n'
                     'gpu_partitions = ["gpu"]\ngpus_per_node = 2\n')
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50000 192.0.2.1 22")
    r = run_cli(capsys, "vscode", "--workspace", str(ws), "--site", "here", "--sites-file", str(sites), "--yes")
    assert r.rc == 0, r.err
    assert r.err.startswith(f"note: tasks to run on the login node: this is {host}, a login node of here in the catalogue; "
                            "--where both adds the other half\n")
    labels = _labels(ws)
    assert len(labels) == 8 and all(lbl.startswith("sshsetup: [login node] ") for lbl in labels)


def test_over_ssh_elsewhere_both_halves(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.7 50000 192.0.2.1 22")
    r = run_cli(capsys, "vscode", "--workspace", str(tmp_path), "--site", "juwels-booster", "--yes")
    host = socket.gethostname().split(".")[0].lower()
    assert r.err.startswith("note: tasks for both a local and a login-node workspace: reached over ssh, but "
                            f"{host} is not a login node of JUWELS Booster in the catalogue\n")
    assert len(_labels(tmp_path)) == 16


def test_changing_where_swaps_our_half_and_remove_leaves_the_users_tasks(capsys: pytest.CaptureFixture[str], key: Path,
                                                                        tmp_path: Path) -> None:
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode").rc == 0
    ws = tmp_path / "project"
    (ws / ".vscode").mkdir(parents=True)
    tasks = ws / ".vscode" / "tasks.json"
    tasks.write_text(USER_TASKS)
    assert run_cli(capsys, "vscode", "--workspace", str(ws), "--where", "both", "--yes").rc == 0
    assert len(_labels(ws)) == 17
    r = run_cli(capsys, "vscode", "--workspace", str(ws), "--where", "remote", "--yes")
    assert r.rc == 0 and r.err.startswith(f"  update           {tasks}  (backup: tasks.json.sshsetup-backup-")
    labels = _labels(ws)
    assert labels[0] == "build" and labels[1:] == [lbl for lbl in labels[1:] if lbl.startswith("sshsetup: [login node] ")]
    assert len(labels) == 9 and "sshsetupRemoteScript" not in tasks.read_text()  # only the inputs the tasks use
    assert run_cli(capsys, "remove", "--yes").rc == 0
    assert tasks.read_text() == USER_TASKS


def test_where_is_checked_by_click(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    r = run_cli(capsys, "vscode", "--workspace", str(tmp_path), "--where", "cluster")
    assert r.rc == 2 and "Invalid value for '--where': 'cluster' is not one of 'local', 'remote', 'both'." in r.err
