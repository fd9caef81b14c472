"""``init`` with another user renders the session entries ``code`` added again, from the real ``ssh -G``.

An entry copies the site alias's user, key and the ControlPath ``ssh -G`` expanded (``%C`` hashes the
user): left as it was, it would log in as the old user and miss the site's live login (another TOTP code).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sshsetup.catalogue import load_catalogue
from sshsetup.slurm import session_alias
from sshsetup.ssh.block import session_entries
from sshsetup.ssh.client import Ssh
from tests.helpers import run_cli

SITE = load_catalogue(None, None)["juwels-booster"]
ATTACH = session_alias.alias_for(SITE.alias, "juwels-booster-develbooster-g1", SITE.id)
NODE = str(SITE.get("compute_node_example"))
HOP = session_alias.alias_for(SITE.alias, "juwels-booster-booster-g4", SITE.id)


def code_ran(cfg: Path) -> None:
    """What ``sshsetup code`` writes: an attaching entry and a proxyjump entry, from ``ssh -G`` as it runs it."""
    ssh = Ssh(cfg)
    login = ssh.dump(SITE.alias)
    command = session_alias.remote_command(".sshsetup/helper.py", "a" * 64, "sshsetup-code-develbooster-g1", [600])
    attach = session_alias.entry_lines(ATTACH, login, command, "juwels-booster-develbooster-g1")
    hop = session_alias.proxyjump_lines(HOP, ssh.dump(NODE), str(Path(login["controlpath"][0]).parent),
                                        "juwels-booster-booster-g4", NODE)
    text = cfg.read_text()
    for alias, lines in ((ATTACH, attach), (HOP, hop)):
        text = session_alias.record_entry(session_alias.upsert_entry(text, lines, cfg), cfg, alias, SITE.id)
    cfg.write_text(text)


@pytest.fixture
def short_home(fake_home: Path, key: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home whose ControlPath fits a socket's 104 bytes (pytest's temp paths are too long for one)."""
    home = Path(tempfile.mkdtemp(prefix="ssi-", dir="/tmp"))
    try:
        shutil.copytree(fake_home, home, dirs_exist_ok=True, symlinks=True)
        monkeypatch.setenv("HOME", str(home))
        yield home
    finally:
        shutil.rmtree(home)


def test_another_user_reaches_the_session_entries(capsys: pytest.CaptureFixture[str], short_home: Path) -> None:
    cfg = short_home / ".ssh" / "config"
    key = short_home / ".ssh" / "id_ed25519_jsc"
    args = ("init", "--site", SITE.id, "--key", str(key), "--compute-nodes", "--no-vscode", "--yes")
    assert run_cli(capsys, *args, "--user", "smith1").rc == 0
    code_ran(cfg)
    before = session_entries(cfg.read_text(), cfg)
    assert "    User smith1" in before[ATTACH] and "    User smith1" in before[HOP]

    r = run_cli(capsys, *args, "--user", "jones2")
    assert r.rc == 0, r.err
    text = cfg.read_text()
    after = session_entries(text, cfg)
    assert list(after) == [ATTACH, HOP]  # kept, in their order
    ssh = Ssh(cfg)
    login = ssh.dump(SITE.alias)
    assert login["user"] == ["jones2"]
    attach = dict(line.strip().split(" ", 1) for line in after[ATTACH][2:])
    assert attach["User"] == "jones2"
    assert attach["ControlPath"] == login["controlpath"][0].replace("%", "%%")  # the site's one login connection
    assert attach["ControlPath"] != dict(line.strip().split(" ", 1) for line in before[ATTACH][2:])["ControlPath"]
    assert attach["RemoteCommand"] == dict(line.strip().split(" ", 1) for line in before[ATTACH][2:])["RemoteCommand"]
    assert after[ATTACH][0] == before[ATTACH][0] and after[HOP][0] == before[HOP][0]  # same profile, same node
    changed = [(b, a) for b, a in zip(before[ATTACH], after[ATTACH], strict=True) if a != b]
    assert [b.split()[0] for b, _ in changed] == ["User", "ControlPath"]
    hop = [(b, a) for b, a in zip(before[HOP], after[HOP], strict=True) if a != b]
    assert hop == [("    User smith1", "    User jones2")]  # the node's own ControlMaster directory stays
    assert ssh.dump(HOP)["user"] == ["jones2"] and ssh.dump(ATTACH)["user"] == ["jones2"]

    again = run_cli(capsys, *args[:-1], "--yes")  # remembered user: nothing to change
    assert again.rc == 0 and cfg.read_text() == text
    assert re.search(r'"sessions":\{[^}]*"' + re.escape(ATTACH) + '"', text)
