"""Local checks in-process on real files under the test's HOME (modes, keys, a real ssh-agent)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sshsetup.paths import Paths
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh import keys
from sshsetup.support.doctor import checks_local
from sshsetup.support.doctor.model import Check, CheckResult, DoctorContext, Target
from sshsetup.support.doctor.model import Status as S
from sshsetup.support.doctor.runner import run_checks
from tests.testbed.require import require_exe


def ctx(*targets: Target) -> DoctorContext:
    return DoctorContext(paths=Paths.from_env(), targets=targets, probe_timeout=2, check_timeout=10, budget=30)


def run(checks: Sequence[Check], c: DoctorContext | None = None) -> dict[str, CheckResult]:
    return {r.id: r for r in run_checks(checks, c or ctx()).results}


def make_key(path: Path, passphrase: bytes | None = None, comment: str = "alice@laptop") -> keys.NewKey:
    key = keys.generate(passphrase, comment)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys.write_new_key(path, key)
    return key


def write_block(home: Path, key: Path, before: str = "", sites: Sequence[str] = ("tb",), body: str = "") -> Path:
    cfg = home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700, exist_ok=True)
    entries = [sshconfig.HostEntry("tb", (("HostName", "127.0.0.1"), ("User", "alice"), ("IdentityFile", str(key)),
                                          ("IdentitiesOnly", "yes")))]
    text = sshconfig.upsert(before, entries, {"sites": list(sites), "user": "alice", "key": str(key)}, "\n", cfg)
    cfg.write_text(text + body)
    cfg.chmod(0o600)
    return cfg


def test_nothing_set_up(fake_home: Path) -> None:
    res = run(checks_local.CHECKS)
    default = fake_home / ".ssh" / "id_ed25519_jsc"
    assert (res["key.exists"].status, res["key.exists"].summary) == (S.FAIL, f"the key {default} (the default) does not exist")
    assert res["key.permissions"].status is S.SKIP and res["key.type"].status is S.SKIP
    assert (res["local.permissions"].status, res["local.permissions"].hint) == (S.FAIL, "create it: sshsetup init")
    assert res["local.keychain"].status is S.SKIP


def test_home_differs_from_password_database(fake_home: Path) -> None:
    r = run(checks_local.CHECKS)["local.home"]
    pw = Paths.from_env().pw_home
    assert r.status is S.WARN and r.summary == f"$HOME is {fake_home}, but ssh takes ~ from the password database: {pw}"
    assert r.hint is not None and f"run sshsetup with HOME={pw}" in r.hint


def test_remembered_key_healthy(fake_home: Path) -> None:
    key = fake_home / "keys" / "mine"
    make_key(key, b"a good passphrase")
    write_block(fake_home, key)
    res = run(checks_local.CHECKS)
    assert [res[i].status for i in ("key.exists", "key.permissions", "key.passphrase", "key.type", "local.permissions")] == [S.OK] * 5
    assert res["key.type"].summary == "ED25519, 256 bits; the .pub matches"


@pytest.mark.parametrize(("mode", "status"), [(0o644, S.FAIL), (0o640, S.FAIL), (0o600, S.OK), (0o400, S.OK)])
def test_key_mode(fake_home: Path, mode: int, status: S) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    make_key(key, b"a good passphrase")
    key.chmod(mode)
    r = run(checks_local.CHECKS)["key.permissions"]
    assert r.status is status
    if status is S.FAIL:
        assert r.summary == f"{key} is mode {mode:04o}: readable by others, so ssh ignores it (UNPROTECTED PRIVATE KEY FILE)"
        assert r.hint == f"chmod 600 {key}"


def test_key_without_passphrase_and_wrong_pub(fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    make_key(key, None)
    assert run(checks_local.CHECKS)["key.passphrase"].hint == f"add one: ssh-keygen -p -f {key}"
    other = keys.generate(None, "x")
    Path(str(key) + ".pub").write_text(other.public_line)
    r = run(checks_local.CHECKS)["key.type"]
    assert r.status is S.FAIL and r.summary == f"{key}.pub does not match the private key {key}"
    assert r.hint == f"regenerate it: ssh-keygen -y -f {key} > {key}.pub"


def test_small_rsa_key_is_refused(fake_home: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = fake_home / ".ssh" / "id_ed25519_jsc"
    key.parent.mkdir(mode=0o700)
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    key.chmod(0o600)
    r = run(checks_local.CHECKS)["key.type"]
    assert (r.status, r.summary) == (S.FAIL, f"{key} is a 2048-bit RSA key; at least 3072 bits are needed")


@pytest.mark.parametrize(("what", "mode", "want"), [("config", 0o666, "chmod 600"), ("config", 0o620, "chmod 600"), ("dir", 0o777, "chmod 700")])
def test_ssh_dir_and_config_modes(fake_home: Path, what: str, mode: int, want: str) -> None:
    cfg = write_block(fake_home, fake_home / ".ssh" / "id_ed25519_jsc")
    target = cfg if what == "config" else cfg.parent
    target.chmod(mode)
    r = run(checks_local.CHECKS)["local.permissions"]
    assert r.status is S.FAIL and r.hint == f"{want} {target}"
    assert "writable by others (ssh refuses: Bad owner or permissions)" in r.summary


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    require_exe("ssh-agent")
    require_exe("ssh-add")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 5
    while not sock.exists() and time.monotonic() < end:
        time.sleep(0.01)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    yield sock
    proc.send_signal(signal.SIGTERM)
    proc.wait(5)


def test_agent_states(fake_home: Path, agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    make_key(key, None, comment="alice@laptop")
    r = run(checks_local.CHECKS)["local.agent"]
    assert (r.status, r.summary, r.hint) == (S.WARN, f"the agent is reachable but does not hold {key} (0 other key(s))", f"add it: ssh-add {key}")
    subprocess.run(["ssh-add", str(key)], check=True, capture_output=True, env={**os.environ, "SSH_AUTH_SOCK": str(agent)})
    r = run(checks_local.CHECKS)["local.agent"]
    assert r.status is S.OK and r.summary.startswith(f"the agent holds {key} (SHA256:")
    monkeypatch.setenv("SSH_AUTH_SOCK", str(agent) + ".gone")
    r = run(checks_local.CHECKS)["local.agent"]
    assert r.status is S.FAIL and r.hint == f'start a new agent: eval "$(ssh-agent)", then ssh-add {key}'
    monkeypatch.delenv("SSH_AUTH_SOCK")
    assert run(checks_local.CHECKS)["local.agent"].summary == "no ssh-agent (SSH_AUTH_SOCK is not set)"


def test_once_computes_once_per_run() -> None:
    c1, c2 = ctx(), ctx()
    calls: list[int] = []

    def make(n: int) -> int:
        calls.append(n)
        return n

    assert checks_local.once(c1, "x", None, lambda: make(1)) == 1
    assert checks_local.once(c1, "x", None, lambda: make(2)) == 1
    assert checks_local.once(c2, "x", None, lambda: make(3)) == 3
    assert calls == [1, 3]
