"""sshsetup.ssh.verify: the real ``ssh -G`` as the oracle, and the line that shadows ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.ssh import verify
from sshsetup.ssh.verify import Expected, Mismatch

OURS = "# BEGIN sshsetup (managed)\nHost jsc-x\n    HostName x.example.org\n    User smith1\n    IdentityFile ~/.ssh/id_jsc\n# END sshsetup\n"


def config(tmp_path: Path, before: str = "", after: str = "") -> Path:
    p = tmp_path / "config"
    p.write_text(before + OURS + after)
    return p


def test_ssh_g_is_the_real_client(tmp_path: Path) -> None:
    got = verify.ssh_g("jsc-x", config(tmp_path))
    assert (got["hostname"], got["user"], got["port"]) == (["x.example.org"], ["smith1"], ["22"])
    assert got["identityfile"] == ["~/.ssh/id_jsc"]  # ssh -G prints it unexpanded


def test_ssh_g_failure_is_ssh_s_last_line(tmp_path: Path) -> None:
    p = tmp_path / "config"
    p.write_text("Host a\n    NoSuchKeyword yes\n")
    with pytest.raises(RuntimeError) as exc:
        verify.ssh_g("a", p)
    assert str(exc.value) == f"{p}: terminating, 1 bad configuration options"


def test_verify_agrees(tmp_path: Path) -> None:
    p = config(tmp_path, before="Host other\n    User early\n\n")
    want = [Expected("jsc-x", {"hostname": "X.Example.ORG", "user": "smith1", "identityfile": "~/.ssh/id_jsc"})]
    assert verify.verify(want, p, True, tmp_path, tmp_path) == []


def test_verify_names_the_shadowing_line(tmp_path: Path) -> None:
    p = config(tmp_path, before="# mine\nHost jsc-*\n    User early\n\n")
    want = [Expected("jsc-x", {"user": "smith1", "hostname": "x.example.org"})]
    assert verify.verify(want, p, True, tmp_path, tmp_path) == [Mismatch("jsc-x", "user", "smith1", "early", f"{p}:3 (Host jsc-*)")]


def test_culprit_in_an_included_file_and_global_options(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    inc = tmp_path / "conf.d" / "a.conf"
    inc.write_text("Port 2200\n")
    p = config(tmp_path, before="Include conf.d/*.conf\nUser early\n")
    assert verify.find_culprit(p, "jsc-x", "port", tmp_path) == f"{inc}:1 (global options)"
    assert verify.find_culprit(p, "jsc-x", "user", tmp_path) == f"{p}:2 (global options)"
    assert verify.find_culprit(p, "jsc-x", "proxyjump", tmp_path) is None


def test_culprit_respects_host_patterns_and_stops_at_our_block(tmp_path: Path) -> None:
    p = config(tmp_path, before="Host !jsc-x *\n    User a\nHost other\n    User b\n", after="Host *\n    User late\n")
    assert verify.find_culprit(p, "jsc-x", "user", tmp_path) is None
    p = config(tmp_path, before="Match host foo\n    User m\n")
    assert verify.find_culprit(p, "jsc-x", "user", tmp_path) == f"{p}:2 (Match host foo (may apply))"


def test_a_failing_alias_is_a_mismatch_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "config"
    p.write_text("Host a\n    NoSuchKeyword yes\n")
    got = verify.verify([Expected("a", {"user": "x"})], p, True, tmp_path, tmp_path)
    assert got == [Mismatch("a", "ssh -G", "success", f"{p}: terminating, 1 bad configuration options", None)]
