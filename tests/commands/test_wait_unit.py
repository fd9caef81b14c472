"""``wait`` in-process (the real-sshd runs as the user are in tests/test_wait.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from sshsetup.commands import wait
from sshsetup.ssh.client import Ssh
from tests.timing import scaled


def test_refused_port_stops_after_one_probe(tmp_path: Path, refused_port: int) -> None:
    cfg = tmp_path / "config"
    cfg.write_text(f"Host dead\n  HostName 127.0.0.1\n  Port {refused_port}\n  UserKnownHostsFile /dev/null\n")
    said: list[str] = []
    slept: list[float] = []
    rc = wait.probe_all(Ssh(cfg), ["dead"], max_wait_s=60, probes=4, say=said.append, sleep=slept.append)
    assert rc == 1
    assert said[0] == "✗ dead: the connection was refused"
    assert said[1].startswith("  hint: wrong host name or port")
    assert slept == []  # no second probe


def test_probe_classifies_a_silent_server(tmp_path: Path, tarpit) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "config"
    cfg.write_text(f"Host pit\n  HostName 127.0.0.1\n  Port {tarpit.port}\n  UserKnownHostsFile /dev/null\n")
    r = wait.probe(Ssh(cfg), "pit", timeout=1)
    assert r.cause == "banner-timeout", r.transcript


def test_gives_up_after_the_probes(tmp_path: Path, sshd, key: Path) -> None:  # type: ignore[no-untyped-def]
    """A real sshd that never authorises the key: every probe is refused, then wait gives up."""
    cfg = tmp_path / "config"
    cfg.write_text(f"Host tb\n  HostName 127.0.0.1\n  Port {sshd.port}\n  User nobody\n  IdentityFile {key}\n"
                   "  IdentitiesOnly yes\n  UserKnownHostsFile /dev/null\n")
    said: list[str] = []
    slept: list[float] = []  # time is the boundary: the gaps are recorded, not slept
    max_wait = scaled(3)  # the probes' own time counts against it: a slow ssh start must not use up the gaps
    rc = wait.probe_all(Ssh(cfg), ["tb"], max_wait_s=max_wait, probes=3, say=said.append, sleep=slept.append)
    assert rc == 1
    assert [s for s in said if s.startswith("…")] == [
        f"… tb: not accepted yet (probe {n} of 3): the upload may still be propagating." for n in (1, 2, 3)
    ]
    assert said[-2] == "✗ tb: still refused after 3 probes over 0 min."
    assert len(slept) == 2 and all(0 < s <= max_wait for s in slept)


def test_probe_argv_is_built_by_the_one_ssh_client(tmp_path: Path) -> None:
    """BatchMode, no master (neither used nor created), accept-new, -F the managed file."""
    cfg = tmp_path / "config"
    cfg.write_text("Host x\n")
    assert wait.probe_argv(Ssh(cfg), "jsc-jusuf", 15) == [
        "ssh", "-F", str(cfg), "-T", "-v", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-o", "ControlMaster=no",
        "-o", "ControlPath=none", "-o", "StrictHostKeyChecking=accept-new", "--", "jsc-jusuf", "true",
    ]
    assert wait.probe_argv(Ssh(None), "jsc-jusuf", 15)[:3] == ["ssh", "-T", "-v"]


def test_run_probes_the_remembered_sites(capsys, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    """wait chooses its sites like every command: --site, else those init set up (an unknown one is refused)."""
    import pytest

    from sshsetup.commands.wait import WaitOptions
    from sshsetup.errors import BadInput
    from sshsetup.paths import Paths

    with pytest.raises(BadInput, match="unknown site 'nope'"):
        wait.run(Paths.from_env(), WaitOptions(sites=("nope",)), say=print)


def test_agent_hint_names_the_real_key_once() -> None:
    from sshsetup.support import sshlog

    hint = sshlog.CAUSES["passphrase-needed"].hint
    text = wait.agent_hint(hint, Path("/home/u/.ssh/id_ed25519_jsc"))
    if sys.platform == "darwin":
        assert text.count("/home/u/.ssh/id_ed25519_jsc") == 2
    else:
        assert text == ("To log in without typing the passphrase each time, "
                        "add the key to your agent once: ssh-add /home/u/.ssh/id_ed25519_jsc.")


def test_host_key_lines_name_where_to_compare() -> None:
    text = ("debug1: Server host key: ssh-ed25519 SHA256:abcDEF123+/x\n"
            "Warning: Permanently added 'juwels-booster.fz-juelich.de' (ED25519) to the list of known hosts.\n")
    found = wait.new_host_key(text)
    assert found == ("juwels-booster.fz-juelich.de", "ED25519", "SHA256:abcDEF123+/x")
    assert wait.host_key_lines("jsc-booster", found, "https://apps.fz-juelich.de/jsc/hps/juwels/") == [
        "  new host key of jsc-booster: ED25519 SHA256:abcDEF123+/x (now in known_hosts as juwels-booster.fz-juelich.de)",
        "  compare it with the one the site publishes (look in the system's documentation, "
        "https://apps.fz-juelich.de/jsc/hps/juwels/, or ask its support); if it differs, do not log in: remove it (ssh-keygen -R 'juwels-booster.fz-juelich.de') "
        "and tell the support.",
    ]
    assert wait.new_host_key("debug1: Server host key: ssh-ed25519 SHA256:abc\n") is None  # known already: nothing to show
