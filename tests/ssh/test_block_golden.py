"""Golden files: the whole managed block for each ssh client, and what ``init --dry-run`` prints.

A change of any value the block sets (ServerAliveInterval, AddKeysToAgent, MACs, ...) or of its
layout fails here. After a deliberate change, regenerate with ``SSHSETUP_UPDATE_GOLDEN=1`` and
review the diff of ``tests/ssh/golden/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sshsetup.catalogue import DEFAULT_SITES, load_catalogue, select
from sshsetup.ssh import block
from sshsetup.ssh.entries import EntryOptions, site_entries
from tests.helpers import run_cli

GOLDEN = Path(__file__).parent / "golden"
UPDATE = bool(os.environ.get("SSHSETUP_UPDATE_GOLDEN"))
SITES = select(load_catalogue(None, None), DEFAULT_SITES)
KEY = "~/.ssh/id_ed25519_jsc"


def golden(name: str, got: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(got)
    assert got == path.read_bytes(), f"{name} differs from the golden file (SSHSETUP_UPDATE_GOLDEN=1 rewrites it)"


def rendered(*, windows: bool = False, macos: bool = False, compute: bool = False) -> bytes:
    eo = EntryOptions(
        user="smith1", identity_file=KEY, windows_client=windows, macos_keychain=macos,
        control_dir=None if windows else "~/.ssh/cm", compute_nodes=compute,
        address_family={s.alias: s.address_family for s in SITES},
    )
    options = {"sites": [s.id for s in SITES], "user": "smith1", "key": "/home/smith1/.ssh/id_ed25519_jsc", "compute_nodes": compute}
    if windows or macos:
        options["client"] = "windows" if windows else "macos"
    eol = "\r\n" if windows else "\n"
    return block.render_block(site_entries(SITES, eo), options, eol).encode("utf-8")


@pytest.mark.parametrize(
    ("name", "kw"),
    [
        pytest.param("block-openssh.txt", {}, id="openssh"),
        pytest.param("block-windows.txt", {"windows": True}, id="windows"),
        pytest.param("block-macos.txt", {"macos": True}, id="macos"),
        pytest.param("block-compute-nodes.txt", {"compute": True}, id="compute-nodes"),
    ],
)
def test_the_whole_block(name: str, kw: dict[str, bool]) -> None:
    golden(name, rendered(**kw))


def test_the_windows_block_is_the_openssh_one_with_crlf_and_macs_instead_of_controlmaster() -> None:
    win = rendered(windows=True).decode().replace("\r\n", "\n")
    unix = rendered().decode()
    macs = "    MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com\n"
    control = "    ControlMaster auto\n    ControlPath ~/.ssh/cm/%C\n    ControlPersist 10m\n"
    assert win == unix.replace(control, macs).replace('"compute_nodes":false', '"client":"windows","compute_nodes":false')


def normalise(text: str, home: Path, pub: str) -> str:
    text = text.replace(str(home), "{HOME}").replace(pub, "{PUBLIC KEY}")
    return re.sub(r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:{FINGERPRINT}", text)


def test_init_dry_run(capsys: pytest.CaptureFixture[str], fake_home: Path, key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a HOME too long for a ControlMaster socket, whatever the temp directory: the note below is always there
    long_home = fake_home / ("h" * 60)
    (long_home / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(long_home))
    key.rename(long_home / ".ssh" / key.name)
    Path(str(key) + ".pub").rename(long_home / ".ssh" / (key.name + ".pub"))
    key, fake_home = long_home / ".ssh" / key.name, long_home
    (fake_home / ".ssh" / "config").write_text("Host mine\n  HostName mine.example.org\n")
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--dry-run", "--no-vscode", "--from", "134.94.0.0/16")
    assert r.rc == 0, r.err
    pub = Path(str(key) + ".pub").read_text().strip()
    out = f"# exit {r.rc}\n# stdout\n{r.out}# stderr\n{r.err}"
    golden("init-dry-run.txt", normalise(out, fake_home, pub).encode("utf-8"))
