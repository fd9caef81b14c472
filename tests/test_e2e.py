"""End to end, as a real user: sshsetup runs as the throwaway test user (its own
passwd home, its own ~/.ssh/config, no -F), against a real sshd on loopback.

What JuDoor does on the real system — put the line into authorized_keys — the test
does on the server side with the exact line sshsetup printed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.testbed.agent import SshAgent
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser, run_as
from tests.testbed.uservenv import user_python

PASSPHRASE = "correct horse battery staple"
NO_MUX = ["-o", "ControlMaster=no", "-o", "ControlPath=none"]  # every probe authenticates for real


@pytest.fixture(scope="session")
def py() -> Path:
    return user_python()


def sshsetup_as(user: TestUser, py: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_as(user, [str(py), "-m", "sshsetup", *args], env={"SSHSETUP_NO_CLIPBOARD": "1", **(env or {})}, timeout=120)


def setup_user(user: TestUser, sshd: Sshd) -> None:
    user.write("sites.toml", f'[sites.testbed]\nname = "Test bed"\nhostname = "127.0.0.1"\nport = {sshd.port}\nalias = "jsc-testbed"\n')
    user.write("pw", PASSPHRASE + "\n")
    user.write(".ssh/known_hosts", sshd.known_hosts_text(), mode=0o644)


def init_as(user: TestUser, py: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return sshsetup_as(user, py, "init", "--site", "testbed", "--sites-file", f"{user.home}/sites.toml", "--user", user.name,
                       "--passphrase-file", f"{user.home}/pw", "--yes", *extra)


def test_init_then_login(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent, py: Path) -> None:
    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    cfg = (test_user.ssh_dir / "config").read_text()
    assert "    IdentityFile ~/.ssh/id_ed25519_jsc\n" in cfg  # HOME is the passwd home: "~/" is right
    assert "Checked with ssh -G: jsc-testbed resolves as intended." in r.stderr or "jsc-testbed resolve" in r.stderr
    pub = (test_user.ssh_dir / "id_ed25519_jsc.pub").read_text().strip()
    line = r.stdout.strip()
    assert line == f'from="127.0.0.1/32" {pub}'
    sshd.authorize(test_user, line)  # what JuDoor does
    ssh_agent.add(test_user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    # cryptography writes no comment into the private key: ssh-add -l names the key by its path
    assert ssh_agent.list_keys()[0].endswith(f" {test_user.ssh_dir / 'id_ed25519_jsc'} (ED25519)")
    login = run_as(test_user, ["ssh", *NO_MUX, "jsc-testbed", "echo logged-in-as $(id -un)"], env=ssh_agent.env)
    assert (login.returncode, login.stdout) == (0, f"logged-in-as {test_user.name}\n"), login.stderr
    # the same alias through the ControlMaster the config sets up (a second command reuses it)
    first = run_as(test_user, ["ssh", "jsc-testbed", "true"], env=ssh_agent.env)
    assert first.returncode == 0, first.stderr
    again = run_as(test_user, ["ssh", "-O", "check", "jsc-testbed"], env=ssh_agent.env)
    assert again.returncode == 0 and "Master running" in again.stderr
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)
    # idempotent, then remove gives the home back as it was (keys stay)
    r2 = init_as(test_user, py, "--from", "127.0.0.1")
    assert r2.returncode == 0 and "Nothing changed" in r2.stderr, r2.stderr
    rm = sshsetup_as(test_user, py, "remove", "--yes")
    assert rm.returncode == 0, rm.stderr
    assert not (test_user.ssh_dir / "config").exists()
    assert (test_user.ssh_dir / "id_ed25519_jsc").exists()


@pytest.mark.parametrize(
    ("from_", "bind", "host", "ok"),
    [
        pytest.param("127.0.0.2", "127.0.0.2", "127.0.0.1", True, id="range-contains-client"),
        pytest.param("127.0.0.2", "127.0.0.3", "127.0.0.1", False, id="range-excludes-client"),
        pytest.param("127.0.0.0/8", None, "::1", False, id="ipv4-only-line-over-ipv6"),
        pytest.param("127.0.0.0/8,::1", None, "::1", True, id="line-with-ipv6-over-ipv6"),
        pytest.param("127.0.0.1/8", "127.0.0.9", "127.0.0.1", True, id="host-bits-normalised"),
    ],
)
def test_key_line_is_honoured_by_sshd(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent, py: Path,
                                      from_: str, bind: str | None, host: str, ok: bool) -> None:
    setup_user(test_user, sshd)
    assert init_as(test_user, py, "--from", "127.0.0.1").returncode == 0
    args = ["key-line"]
    for f in from_.split(","):
        args += ["--from", f]
    r = sshsetup_as(test_user, py, *args)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    if from_ == "127.0.0.1/8":
        assert "127.0.0.1/8 has host bits set" in r.stderr and line.startswith('from="127.0.0.0/8" ')
    sshd.authorize(test_user, line)
    ssh_agent.add(test_user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    argv = ["ssh", *NO_MUX, "-o", "BatchMode=yes", "-o", f"HostName={host}", "-o", "AddressFamily=any"]
    if bind:
        argv += ["-o", f"BindAddress={bind}"]
    got = run_as(test_user, [*argv, "jsc-testbed", "true"], env=ssh_agent.env)
    assert (got.returncode == 0) is ok, got.stderr
    if not ok:
        assert "Permission denied (publickey)" in got.stderr


def test_server_install_path_from_project_variable(test_user: TestUser, sshd_factory, ssh_agent: SshAgent, py: Path) -> None:  # type: ignore[no-untyped-def]
    """--account reads $PROJECT_<account> with one ssh call per host, once the key works."""
    import json as _json

    sshd = sshd_factory(setenv={"PROJECT_myproj": "/p/project1/myproj"})
    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1", "--no-vscode")
    sshd.authorize(test_user, r.stdout.strip())
    ssh_agent.add(test_user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    (test_user.home / ".config" / "Code" / "User").mkdir(parents=True)
    test_user.chown_tree(test_user.home / ".config")
    r = sshsetup_as(test_user, py, "init", "--account", "myproj", "--from", "127.0.0.1", "--yes", env=ssh_agent.env)
    assert r.returncode == 0, r.stderr
    settings = _json.loads((test_user.home / ".config" / "Code" / "User" / "settings.json").read_text())
    assert settings["remote.SSH.serverInstallPath"] == {"jsc-testbed": f"/p/project1/myproj/{test_user.name}"}


def test_doctor_as_the_user(test_user: TestUser, sshd: Sshd, ssh_agent: SshAgent, py: Path) -> None:
    """The whole doctor command as a person runs it: all ✓, then a refused key is named, then a report."""
    import json as _json
    import stat as _stat

    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1", "--no-vscode")
    assert r.returncode == 0, r.stderr
    sshd.authorize(test_user, r.stdout.strip())
    ssh_agent.add(test_user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    env = {**ssh_agent.env, "SSHSETUP_ASCII": "1"}
    ok = sshsetup_as(test_user, py, "doctor", "--timeout", "5", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "[ok] auth.probe (jsc-testbed): " in ok.stdout and "[XX]" not in ok.stdout
    assert ok.stdout.splitlines()[-1].startswith("0 failed, ")
    doc = _json.loads(sshsetup_as(test_user, py, "doctor", "--json", env=env).stdout)
    assert doc["version"] == 1 and doc["status"] in ("ok", "warn")
    assert {c["id"] for c in doc["checks"]} >= {"key.permissions", "config.resolves", "net.banner", "auth.from-range", "auth.probe"}

    sshd.unauthorize(test_user)  # the key is gone on the server (not uploaded / removed in JuDoor)
    bad = sshsetup_as(test_user, py, "doctor", "--timeout", "5", env=env)
    assert "[ok] net.family (jsc-testbed): ssh will connect over IPv4 (127.0.0.1) [AddressFamily inet]" in ok.stdout
    assert bad.returncode == 1
    line = next(ln for ln in bad.stdout.splitlines() if "auth.probe" in ln)
    assert line.startswith("[XX] auth.probe (jsc-testbed): "), bad.stdout
    report = test_user.home / "ticket.json"
    rep = sshsetup_as(test_user, py, "doctor", "--report", str(report), "--yes", env=env)
    assert rep.returncode == 1 and report.is_file(), rep.stderr
    assert _stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert str(test_user.home) not in text and test_user.name not in text and "PRIVATE KEY" not in text
    again = sshsetup_as(test_user, py, "doctor", "--from-report", str(report), env=env)
    assert again.returncode == 1 and "transcript (jsc-testbed), analysed again:" in again.stdout
