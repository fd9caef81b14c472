"""Config checks in-process with the real ``ssh -G`` (``-F``: the test's HOME is not the passwd home)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sshsetup.support.doctor import checks_config
from sshsetup.support.doctor.model import Status as S
from sshsetup.support.doctor.model import Target
from tests.support.doctor.test_checks_local import ctx, make_key, run, write_block
from tests.testbed.require import require_exe

TB = Target("tb", "127.0.0.1", 22, site_id="tb")


@pytest.fixture(autouse=True)
def _real_ssh() -> None:
    """ssh -G is real here: missing, the tests skip locally and fail under CI=true."""
    require_exe("ssh")


def test_healthy_block(fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    make_key(key)
    cfg = write_block(fake_home, key)
    res = run(checks_config.CHECKS, ctx(TB))
    assert {k: r.status for k, r in res.items()} == {
        "config.encoding": S.OK, "config.include": S.OK, "config.block": S.OK, "config.ssh-g": S.OK,
        "config.resolves": S.OK, "config.controlmaster": S.SKIP, "config.handwritten": S.OK}
    assert res["config.ssh-g"].summary == "ssh -G tb: alice@127.0.0.1:22"
    assert res["config.block"].summary == f"managed block intact (11 lines; sites tb; key {key})"
    assert cfg.is_file()


def test_shadowing_block_is_named(fake_home: Path) -> None:
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    cfg = write_block(fake_home, key, before="Host t*\n    User bob\n    IdentitiesOnly no\n")
    text = cfg.read_text()  # upsert put our block first; move the user's block above it, as a later edit might
    ours = text[: text.index("# END sshsetup\n") + len("# END sshsetup\n")]
    cfg.write_text(text[len(ours):] + ours)
    r = run(checks_config.CHECKS, ctx(TB))["config.resolves"]
    assert r.status is S.FAIL
    assert r.summary == f"tb: ssh uses user 'bob', not 'alice', set at {cfg}:2 (Host t*)"
    assert r.hint == f"ssh takes the first value it finds: remove or narrow the user line at {cfg}:2 (Host t*), or move it below the sshsetup block"
    assert r.details[1] == f"identitiesonly: want 'yes', ssh uses 'no' (set at {cfg}:3 (Host t*))"


def test_site_not_in_block(fake_home: Path) -> None:
    write_block(fake_home, fake_home / "k", sites=("other",))
    r = run(checks_config.CHECKS, ctx(TB))["config.resolves"]
    assert (r.status, r.hint) == (S.FAIL, "add it: sshsetup init --site tb (with your other sites)")


@pytest.mark.parametrize(("data", "status", "summary"), [
    pytest.param(b"\xef\xbb\xbfHost x\n", S.FAIL, "starts with a UTF-8 byte-order mark", id="bom"),
    pytest.param("Host x\n".encode("utf-16"), S.FAIL, "is UTF-16: ssh cannot read it", id="utf16"),
    pytest.param(b"Host x\n# caf\xe9\n", S.WARN, "is not valid UTF-8 (line 2)", id="latin1"),
    pytest.param(b"Host x\n\x00", S.FAIL, "contains NUL bytes", id="nul"),
])
def test_encoding(fake_home: Path, data: bytes, status: S, summary: str) -> None:
    cfg = fake_home / ".ssh" / "config"
    cfg.parent.mkdir(mode=0o700)
    cfg.write_bytes(data)
    r = run(checks_config.CHECKS, ctx())["config.encoding"]
    assert r.status is status and summary in r.summary


def test_missing_and_bom_block(fake_home: Path) -> None:
    res = run(checks_config.CHECKS, ctx())
    assert res["config.block"].status is S.FAIL and res["config.block"].hint == "create it: sshsetup init"
    assert res["config.encoding"].status is S.SKIP


def test_duplicated_markers(fake_home: Path) -> None:
    cfg = write_block(fake_home, fake_home / "k")
    cfg.write_text(cfg.read_text() * 2)
    r = run(checks_config.CHECKS, ctx())["config.block"]
    assert r.status is S.FAIL and "has more than one sshsetup block" in r.summary
    assert r.hint is not None and "fix or delete the sshsetup marker lines" in r.hint


def test_include_missing_and_loop(fake_home: Path) -> None:
    cfg = write_block(fake_home, fake_home / "k", body="Include conf.d/*.conf\nInclude extra.conf\n")
    r = run(checks_config.CHECKS, ctx(TB))["config.include"]
    assert r.status is S.WARN and r.details == (f"{cfg}:13: Include extra.conf (no such file; ssh skips it silently)",)
    (cfg.parent / "extra.conf").write_text(f"Include {cfg.parent / 'loop.conf'}\n")  # ssh's ~ is the passwd home
    (cfg.parent / "loop.conf").write_text(f"Include {cfg.parent / 'extra.conf'}\n")
    res = run(checks_config.CHECKS, ctx(TB))
    r = res["config.include"]
    assert r.status is S.FAIL and "Include loop:" in r.summary
    assert r.hint == "remove the Include line that points back to an including file"
    assert res["config.ssh-g"].status is S.FAIL  # ssh itself gives up: Too many recursive configuration includes
    assert "Too many recursive configuration includes" in res["config.ssh-g"].summary


def test_ssh_g_fails_on_a_bad_option(fake_home: Path) -> None:
    write_block(fake_home, fake_home / "k", body="Hostt y\n")
    r = run(checks_config.CHECKS, ctx(TB))["config.ssh-g"]
    cfg = fake_home / ".ssh" / "config"
    n = cfg.read_text().splitlines().index("Hostt y") + 1
    assert (r.status, r.summary) == (S.FAIL, f"ssh -G tb fails: {cfg}: line {n}: Bad configuration option: hostt")
    assert r.details == (f"{cfg}: line {n}: Bad configuration option: hostt", f"{cfg}: terminating, 1 bad configuration options")
    assert r.hint == "fix the line ssh names (see: ssh -G tb)"


def test_controlmaster_with_windows_openssh(fake_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ``ssh`` on PATH answers ``-V`` as Win32-OpenSSH does and runs the real ssh for ``-G``."""
    real = shutil.which("ssh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text('#!/bin/sh\nif [ "$1" = -V ]; then echo "OpenSSH_for_Windows_8.6p1, LibreSSL 3.4.3" >&2; exit 0; fi\n'
                                 f'exec {real} "$@"\n')
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    write_block(fake_home, fake_home / "k", before="Host *\n    ControlMaster auto\n    ControlPath /tmp/cm-%C\n")
    r = run(checks_config.CHECKS, ctx(TB))["config.controlmaster"]
    assert r.status is S.FAIL and r.details == ("tb: ControlMaster auto",)
    assert r.hint == "remove ControlMaster/ControlPath/ControlPersist for these hosts (sshsetup init --client windows does)"


def test_a_hand_written_entry_for_a_managed_host_is_a_warning(capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    """Issue 11 item 3: doctor names the user's own 'Host booster' with file and line and compares user and key."""
    from tests.helpers import run_cli

    key = fake_home / ".ssh" / "id_ed25519_jsc"
    make_key(key)
    cfg = fake_home / ".ssh" / "config"
    mine = "Host booster\n    HostName juwels-booster.fz-juelich.de\n    User other1\n"
    cfg.write_text(mine)
    assert run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode",
                   "--site", "juwels-booster", "--from", "192.0.2.0/24").rc == 0
    before = cfg.read_bytes()
    r = run_cli(capsys, "doctor", "config.handwritten", "--site", "juwels-booster", "-v")
    assert r.rc == 0, r.err
    assert "! config.handwritten: 1 entry of yours reaches a managed host with another user or key than sshsetup's" in r.out
    assert "hint: use one name: sshsetup init --alias juwels-booster=booster, or edit your entry" in r.out
    assert f"{cfg}:1: your own 'Host booster' reaches juwels-booster.fz-juelich.de too (user other1 (sshsetup: smith1)" in r.out
    assert cfg.read_bytes() == before
    assert run_cli(capsys, "init", "--yes", "--no-vscode", "--alias", "juwels-booster=booster", "--from", "192.0.2.0/24").rc == 0
    r = run_cli(capsys, "doctor", "config.handwritten", "--site", "juwels-booster")
    assert "✓ config.handwritten: 1 entry of yours reaches a managed host (same user and key)" in r.out
