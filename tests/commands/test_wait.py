"""``sshsetup wait`` as the real user against a real sshd: the key becomes valid while
it waits (as after a JuDoor upload), a 2FA server counts as working, a refused port stops."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from sshsetup.commands.wait import schedule
from sshsetup.errors import BadInput
from tests.test_e2e import PASSPHRASE, init_as, py, setup_user, sshsetup_as  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser
from tests.timing import budget, scaled


def test_schedule_doubles_and_sums_to_max_wait() -> None:
    assert schedule(900, 6) == pytest.approx([0, 29.03, 87.10, 203.23, 435.48, 900.0], abs=0.01)
    assert schedule(900, 1) == [0.0]
    with pytest.raises(BadInput):
        schedule(900, 0)


def test_waits_until_the_key_is_accepted(test_user: TestUser, sshd: Sshd, py: Path) -> None:
    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    since = sshd.log_offset()

    def upload_later() -> None:  # right after the first probe was refused (a fixed delay loses to a slow start)
        sshd.wait_for_log(r"Connection closed by authenticating user", since=since, timeout=scaled(20))
        sshd.authorize(test_user, line)

    t = threading.Thread(target=upload_later)
    t.start()
    start = time.monotonic()
    w = sshsetup_as(test_user, py, "wait", "--max-wait", str(4 / 60), "--probes", "4")  # probes at 0, 0.57, 1.7, 4 s
    t.join()
    assert w.returncode == 0, w.stderr
    assert "… jsc-testbed: not accepted yet (probe 1 of 4)" in w.stderr
    assert "✓ jsc-testbed: the key works" in w.stderr
    assert time.monotonic() - start < budget(4.0, 4.0)


def test_without_agent_the_accepted_key_is_enough(test_user: TestUser, sshd: Sshd, py: Path) -> None:
    """No agent, passphrase-protected key: the server's "accepts key" answer proves the upload."""
    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1")
    sshd.authorize(test_user, r.stdout.strip())
    w = sshsetup_as(test_user, py, "wait", "--max-wait", "0", "--probes", "1")
    assert w.returncode == 0, w.stderr
    assert "✓ jsc-testbed: the key works (the server accepts the key" in w.stderr
    key = test_user.ssh_dir / "id_ed25519_jsc"
    hint = f"  To log in without typing the passphrase each time, add the key to your agent once: ssh-add {key}.\n"
    assert hint in w.stderr
    assert "KEYFILE" not in w.stderr
    assert w.stderr.count("ssh-add") == 1


def test_second_factor_counts_as_working(test_user: TestUser, sshd_factory, ssh_agent: SshAgent, py: Path) -> None:  # type: ignore[no-untyped-def]
    sshd = sshd_factory(extra_config=["AuthenticationMethods publickey,keyboard-interactive", "KbdInteractiveAuthentication yes"])
    setup_user(test_user, sshd)
    r = init_as(test_user, py, "--from", "127.0.0.1")
    sshd.authorize(test_user, r.stdout.strip())
    ssh_agent.add(test_user.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    w = sshsetup_as(test_user, py, "wait", "--max-wait", "0", "--probes", "1", env=ssh_agent.env)
    assert w.returncode == 0, w.stderr
    assert "a code (TOTP) will be asked at login" in w.stderr


def test_refused_port_stops_at_once(test_user: TestUser, sshd: Sshd, py: Path, refused_port: int) -> None:
    setup_user(test_user, sshd)
    test_user.write("sites.toml", f'[sites.testbed]\nhostname = "127.0.0.1"\nport = {refused_port}\nalias = "jsc-testbed"\n')
    assert init_as(test_user, py, "--from", "127.0.0.1").returncode == 0
    start = time.monotonic()
    w = sshsetup_as(test_user, py, "wait", "--max-wait", "1", "--probes", "5")
    assert w.returncode == 1
    assert "✗ jsc-testbed: the connection was refused" in w.stderr
    assert time.monotonic() - start < budget(1.0, 9.0)  # no further probes


def test_a_new_host_key_is_shown_once_with_how_to_compare_it(test_user: TestUser, sshd: Sshd, py: Path) -> None:
    setup_user(test_user, sshd)
    test_user.write(".ssh/known_hosts", "", mode=0o644)  # the host was never seen
    r = init_as(test_user, py, "--from", "127.0.0.1")
    sshd.authorize(test_user, r.stdout.strip())
    w = sshsetup_as(test_user, py, "wait", "--max-wait", "0", "--probes", "1")
    assert w.returncode == 0, w.stderr
    known = (test_user.ssh_dir / "known_hosts").read_text()
    fp = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=known, capture_output=True, text=True, check=True).stdout.split()
    host = f"[127.0.0.1]:{sshd.port}"
    assert (f"  new host key of jsc-testbed: {fp[3].strip('()')} {fp[1]} (now in known_hosts as {host})\n"
            f"  compare it with the fingerprint the site's support gives you; if it differs, do not log in: "
            f"remove it (ssh-keygen -R '{host}') and tell the support.\n") in w.stderr
    again = sshsetup_as(test_user, py, "wait", "--max-wait", "0", "--probes", "1")
    assert again.returncode == 0 and "new host key" not in again.stderr  # once


def test_a_changed_host_key_is_never_accepted(test_user: TestUser, sshd: Sshd, py: Path, tmp_path: Path) -> None:
    setup_user(test_user, sshd)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = (tmp_path / "other.pub").read_text().split()
    wrong = f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n"
    test_user.write(".ssh/known_hosts", wrong, mode=0o644)
    r = init_as(test_user, py, "--from", "127.0.0.1")
    sshd.authorize(test_user, r.stdout.strip())
    w = sshsetup_as(test_user, py, "wait", "--max-wait", "1", "--probes", "3")
    assert w.returncode == 1
    assert ("✗ jsc-testbed: the server's host key differs from the one in known_hosts "
            "(REMOTE HOST IDENTIFICATION HAS CHANGED)") in w.stderr
    assert "new host key" not in w.stderr and "probe 2" not in w.stderr  # stopped at once
    assert (test_user.ssh_dir / "known_hosts").read_text() == wrong  # nothing was replaced
