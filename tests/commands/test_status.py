"""``sshsetup status`` and ``logout`` in-process, with real ssh -G / ssh -O and real sockets (no server)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from sshsetup import envelope
from tests.helpers import run_cli


def sites_and_config(home: Path, refused_port: int, control: str | None) -> Path:
    sites = home / "sites.toml"
    sites.write_text(f'[sites.testbed]\nhostname = "127.0.0.1"\nport = {refused_port}\nalias = "jsc-testbed"\n'
                     'two_factor = { value = "required", source = "test", confidence = "high" }\n')
    ssh = home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    lines = ["Host jsc-testbed", "    HostName 127.0.0.1", f"    Port {refused_port}"]
    if control:
        lines += ["    ControlMaster auto", f"    ControlPath {control}"]
    (ssh / "config").write_text("\n".join(lines) + "\n")
    return sites


def test_no_controlpath_is_named(capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    sites = sites_and_config(fake_home, 9, None)
    r = run_cli(capsys, "status", "--site", "testbed", "--sites-file", str(sites))
    assert r.rc == 0
    assert r.err == ("- testbed (jsc-testbed): no ControlMaster (ssh -G shows ControlPath none): every connection "
                     "authenticates on its own\n")


def test_not_logged_in_names_the_login_command_and_json(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                        tmp_path: Path) -> None:
    sites = sites_and_config(fake_home, 9, f"{tmp_path}/cm-%n")
    r = run_cli(capsys, "status", "--site", "testbed", "--sites-file", str(sites))
    assert (r.rc, r.err) == (0, "- testbed (jsc-testbed): not logged in\n"
                                "  run: sshsetup login --site testbed (a TOTP code will be asked)\n")
    r = run_cli(capsys, "status", "--site", "testbed", "--sites-file", str(sites), "--json")
    doc = envelope.parse(r.out, "status", 1)
    assert doc["sites"] == [{
        "site": "testbed", "alias": "jsc-testbed", "state": "none", "control_path": f"{tmp_path}/cm-jsc-testbed",
        "pid": None, "opened_by_login": False, "login_node": None, "opened": None, "expires": None, "age_seconds": None,
        "stale_removed": False, "second_factor": "catalogue: two_factor = required (test; confidence high)", "used_by": []}]
    assert doc["warnings"] == [] and doc["exit_code"] == 0


def test_stale_socket_is_named_and_removed(capsys: pytest.CaptureFixture[str], fake_home: Path, tmp_path: Path) -> None:
    sites = sites_and_config(fake_home, 9, f"{tmp_path}/cm-%n")
    sock = tmp_path / "cm-jsc-testbed"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(sock))
    s.close()
    r = run_cli(capsys, "status", "--site", "testbed", "--sites-file", str(sites), "--json")
    row = json.loads(r.out)["sites"][0]
    assert (row["state"], row["stale_removed"]) == ("stale", True)
    assert not sock.exists()


def test_logout_without_a_login(capsys: pytest.CaptureFixture[str], fake_home: Path, tmp_path: Path) -> None:
    sites = sites_and_config(fake_home, 9, f"{tmp_path}/cm-%n")
    r = run_cli(capsys, "logout", "--site", "testbed", "--sites-file", str(sites))
    assert (r.rc, r.err) == (0, "- testbed (jsc-testbed): not logged in\n")


def test_login_bad_duration_changes_nothing(capsys: pytest.CaptureFixture[str], fake_home: Path, tmp_path: Path) -> None:
    sites = sites_and_config(fake_home, 9, f"{tmp_path}/cm-%n")
    r = run_cli(capsys, "login", "--site", "testbed", "--sites-file", str(sites), "--for", "8 hours")
    assert (r.rc, r.err) == (2, "error: --for '8 hours' is not a duration\nhint: e.g. --for 8h, 90m or 1h30m\n")


def test_login_without_a_terminal_classifies_the_failure(capsys: pytest.CaptureFixture[str], fake_home: Path,
                                                         tmp_path: Path, refused_port: int) -> None:
    sites = sites_and_config(fake_home, refused_port, f"{tmp_path}/cm-%n")
    r = run_cli(capsys, "login", "--site", "testbed", "--sites-file", str(sites))
    assert r.rc == 1
    assert r.err.startswith("✗ testbed (jsc-testbed): the connection was refused\n  hint: wrong host name or port")


def test_login_refuses_an_alias_without_controlmaster(capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    sites = sites_and_config(fake_home, 9, None)
    r = run_cli(capsys, "login", "--site", "testbed", "--sites-file", str(sites))
    assert r.rc == 1
    assert r.err.startswith("✗ testbed (jsc-testbed): no ControlMaster for this alias")
    assert "use WSL, or accept one prompt per connection" in r.err


def test_windows_warns_that_vscode_bypasses_the_master(fake_home: Path, tmp_path: Path) -> None:
    from sshsetup.commands import status
    from sshsetup.paths import Paths

    sites = sites_and_config(fake_home, 9, f"{tmp_path}/cm-%n")
    result = status.run(Paths.from_env(), status.StatusOptions(sites=("testbed",), sites_file=sites), platform="win32")
    assert result.notes[-1] == ("warning: Windows' own OpenSSH has no ControlMaster: every VS Code connection asks for "
                                "the code again; use WSL (its ssh has ControlMaster), or accept one prompt per connection")
    assert result.data["warnings"] == [status.WINDOWS]
