"""VS Code itself (code-server, tests/testbed/vscode.py) reads the settings.json sshsetup wrote.

One code-server, as the test user, reads the user's own file, then (after a window reload) the file after
``sshsetup init``, then after ``sshsetup remove``. (A running code-server 4.139 here did not notice
settings.json changing on disk, not even an in-place rewrite; a reload of the window reads it afresh.) What VS Code reports is compared
with what sshsetup's file holds and with what VS Code reported before: no hand-written expected file
stands in for sshsetup's output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sshsetup.vscode.jsonc import reader
from tests.testbed.users import TestUser, run_as
from tests.testbed.vscode import CodeServer

from .conftest import CodeServerFactory

PASSPHRASE = "correct horse battery staple"
SETTINGS = Path(".config/Code/User/settings.json")

# A user's own settings.json as editors leave it: BOM, CRLF, tabs, comments, trailing commas, and an
# existing remote.SSH.remotePlatform map that sshsetup must merge into.
USER_FILE = (
    "\ufeff// my own settings\r\n"
    "{\r\n"
    '\t"editor.fontSize": 15, // big\r\n'
    "\t/* a block\r\n\t   comment */\r\n"
    '\t"remote.SSH.remotePlatform": {\r\n'
    '\t\t"my-own-host": "linux", // added by hand\r\n'
    '\t\t"my-mac": "macos",\r\n'
    "\t},\r\n"
    '\t"files.trimTrailingWhitespace": true,\r\n'
    "}\r\n"
)

# The types Remote-SSH declares for the settings sshsetup writes (its package.json contributes).
REMOTE_SSH_TYPES = {
    "remote.SSH.remotePlatform": "object",
    "remote.SSH.serverInstallPath": "object",
    "remote.SSH.connectTimeout": "number",
    "remote.SSH.showLoginTerminal": "boolean",
    "remote.SSH.lockfilesInTmp": "boolean",
    "remote.SSH.useFlock": "boolean",
    "remote.SSH.maxReconnectionAttempts": "number",
    "remote.SSH.useLocalServer": "boolean",
}
SCHEMA_NOT_YET = "Unable to load schema from 'vscode://schemas/settings/"
OWN_KEYS = ("editor.fontSize", "files.trimTrailingWhitespace")


def sshsetup_as(user: TestUser, py: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_as(user, [str(py), "-m", "sshsetup", *args], env={"SSHSETUP_NO_CLIPBOARD": "1"}, timeout=120)


def vscode_view(cs: CodeServer, ws: Path, keys: list[str], file: Path, *, reload: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What a freshly loaded VS Code window makes of the settings: ``inspect()`` of ``keys``, problems in ``file``.

    A broken control file is checked alongside: VS Code must report it, so "no problem" is not blindness.
    Microsoft's Remote-SSH, which declares remote.SSH.*, is not installable here: VS Code draws those keys
    as unknown (faded), which is no diagnostic.

    A window that validated the file before the workbench had registered the settings schema says
    "Unable to load schema from 'vscode://schemas/settings/user'", or, lacking the schema's
    allowTrailingCommas, "Trailing comma" (which a settings file may have: the user's file here does):
    a state of VS Code under load, not of the file. The problems are then read again, and the window is
    loaded again (at most 3 reads in each of 3 windows); what VS Code says once the schema is there is
    the answer.
    """
    control = ws / "control.json"
    for attempt in range(3):
        if reload or attempt:
            cs.reload()
        control.write_text('{"a": 1 "b": 2}\n')
        settings = cs.probe.request("settings", keys=keys)
        for _ in range(3):
            found = {e["file"]: e["diagnostics"] for e in cs.probe.request("diagnostics", files=[str(file), str(control)], wait_ms=4000)}
            if not any(_schema_not_yet(d) for d in found[str(file)]):
                break
        assert [d["severity"] for d in found[str(control)]] == ["error"], found
        control.unlink()
        if not any(_schema_not_yet(d) for d in found[str(file)]):
            break
    return settings, found[str(file)]


def _schema_not_yet(d: dict[str, Any]) -> bool:
    return SCHEMA_NOT_YET in d["message"] or (d["message"] == "Trailing comma" and d["source"] == "jsonc")


def test_vscode_reads_what_init_wrote_and_remove_gives_back(test_user: TestUser, code_server: CodeServerFactory,
                                                             user_py: Path) -> None:
    u = test_user
    u.write("sites.toml", '[sites.testbed]\nname = "Test bed"\nhostname = "127.0.0.1"\nport = 22\nalias = "jsc-testbed"\n')
    u.write("pw", PASSPHRASE + "\n")
    path = u.home / SETTINGS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(USER_FILE.encode())
    ws = u.home / "ws"
    ws.mkdir()
    u.chown_tree()
    keys = sorted(set(REMOTE_SSH_TYPES) | set(OWN_KEYS))
    cs = code_server(ws)
    before, issues = vscode_view(cs, ws, keys, path, reload=False)
    assert before["editor.fontSize"]["effective"] == 15  # VS Code read the user's file (BOM, CRLF, comments)
    assert before["remote.SSH.remotePlatform"]["user"] == {"my-own-host": "linux", "my-mac": "macos"}
    assert issues == []

    r = sshsetup_as(u, user_py, "init", "--site", "testbed", "--sites-file", f"{u.home}/sites.toml", "--user", u.name,
                    "--passphrase-file", f"{u.home}/pw", "--from", "127.0.0.1", "--yes")
    assert r.returncode == 0, r.stderr
    text = path.read_bytes().decode("utf-8-sig")
    written = reader.parse(text)
    original = reader.parse(USER_FILE.lstrip("\ufeff"))
    changed = sorted(k for k in written if written[k] != original.get(k))
    assert changed and all(k.startswith("remote.SSH.") for k in changed), changed

    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), "the BOM is kept"
    after, issues = vscode_view(cs, ws, keys, path)
    report = {k: after[k] for k in changed}
    for k in changed:
        assert k in REMOTE_SSH_TYPES, f"sshsetup wrote {k}, which the test does not know the type of"
        assert after[k]["user"] == written[k], (k, report)  # VS Code's parser agrees with sshsetup's
        assert after[k]["effective"] == written[k], (k, report)
        assert after[k]["type"] == REMOTE_SSH_TYPES[k], (k, report)
    # the user's own entries: unchanged in the merged map, and their other settings still apply
    platform = after["remote.SSH.remotePlatform"]["user"]
    assert {h: platform[h] for h in ("my-own-host", "my-mac")} == {"my-own-host": "linux", "my-mac": "macos"}
    assert platform["jsc-testbed"] == "linux"
    assert all(isinstance(v, str) for v in platform.values())
    for k in OWN_KEYS:
        assert after[k] == before[k]
    assert issues == [], text

    rm = sshsetup_as(u, user_py, "remove", "--yes")
    assert rm.returncode == 0, rm.stderr
    back, issues = vscode_view(cs, ws, keys, path)
    assert back == before
    assert issues == []
