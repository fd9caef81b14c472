"""The bad-input catalogue: every refused input gets one line plus a hint,
the documented exit code, no traceback, and no file changed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import run_cli, snapshot

BEGIN = "# BEGIN sshsetup (managed)\n"


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    rc: int
    error: str  # the exact error line (after "error: ")
    setup: Callable[[Path], None] | None = None


def _cfg(data: bytes) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / ".ssh" / "config").write_bytes(data)

    return setup


def _sites(text: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / "sites.toml").write_text(text)

    return setup


def _rsa2048(home: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(home / "rsa")], check=True)


def _pw(text: str) -> Callable[[Path], None]:
    def setup(home: Path) -> None:
        (home / "pw").write_text(text)

    return setup


H = "{home}"
INIT = ("init", "--yes", "--user", "smith1")
KEYED = (*INIT, "--key", f"{H}/.ssh/id")
CASES = {
    "user-space": Case(("init", "--yes", "--user", "smith 1"), 2, "--user 'smith 1' is not a valid user name"),
    "user-newline": Case(("init", "--yes", "--user", "smith1\nHost *"), 2, "--user 'smith1\\nHost *' is not a valid user name"),
    "user-hash": Case(("init", "--yes", "--user", "smith#1"), 2, "--user smith#1 is not a valid user name"),
    "user-quote": Case(("init", "--yes", "--user", 'smith"1'), 2, "--user smith\"1 is not a valid user name"),
    "user-empty": Case(("init", "--yes", "--user", ""), 2, "--user '' is not a valid user name"),
    "user-missing": Case(("init", "--yes", "--key", f"{H}/.ssh/id"), 2, "--user is required"),
    "unknown-site": Case((*KEYED, "--site", "juwels"), 2, "unknown site 'juwels'"),
    "site-injection": Case((*KEYED, "--site", "jusuf\nHost *"), 2, "unknown site 'jusuf\\nHost *'"),
    "key-missing": Case((*INIT, "--key", f"{H}/nokey"), 2, f"key {H}/nokey does not exist"),
    "key-rsa2048": Case((*INIT, "--key", f"{H}/rsa"), 2, f"{H}/rsa is a 2048-bit RSA key; at least 3072 bits are needed", _rsa2048),
    "key-is-pub": Case((*INIT, "--key", f"{H}/.ssh/id.pub"), 2, f"{H}/.ssh/id.pub is a public key"),
    "passphrase-empty-jsc": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2,
                                 "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites", _pw("\n")),
    "passphrase-short": Case((*INIT, "--passphrase-file", f"{H}/pw"), 2, "the passphrase is shorter than 8 characters", _pw("abc\n")),
    "passphrase-file-missing": Case((*INIT, "--passphrase-file", f"{H}/nope"), 2, f"passphrase file {H}/nope does not exist"),
    "insecure-empty-for-jsc": Case((*INIT, "--insecure-empty-passphrase", "--passphrase-file", f"{H}/pw"), 2,
                                   "JSC requires a passphrase on the private key; an empty passphrase is refused for JSC sites", _pw("")),
    "config-utf16": Case(KEYED, 1, f"{H}/.ssh/config is UTF-16 encoded; sshsetup only edits UTF-8 files", _cfg("Host a\n".encode("utf-16"))),
    "config-bom": Case(KEYED, 1, f"{H}/.ssh/config starts with a UTF-8 byte-order mark, which ssh does not understand", _cfg(b"\xef\xbb\xbfHost a\n")),
    "config-nul": Case(KEYED, 1, f"{H}/.ssh/config contains NUL bytes; it is not a text file", _cfg(b"Host a\n\0\n")),
    "config-latin1": Case(KEYED, 1, f"{H}/.ssh/config is not valid UTF-8 (line 2)", _cfg(b"Host a\n# caf\xe9\n")),
    "markers-duplicated": Case(KEYED, 1, f"{H}/.ssh/config has more than one sshsetup block (line 1, line 2, line 3, line 4)",
                               _cfg(b"# BEGIN sshsetup\n# END sshsetup\n# BEGIN sshsetup\n# END sshsetup\n")),
    "markers-reversed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup markers are reversed (line 1, line 2)",
                             _cfg(b"# END sshsetup\n# BEGIN sshsetup\n")),
    "markers-unclosed": Case(KEYED, 1, f"{H}/.ssh/config: the sshsetup block starting at line 2 is not closed",
                             _cfg(b"Host x\n# BEGIN sshsetup\n")),
    "remove-markers-unclosed": Case(("remove", "--yes"), 1, f"{H}/.ssh/config: the sshsetup block starting at line 1 is not closed",
                                    _cfg(b"# BEGIN sshsetup\nHost x\n")),
    "config-is-directory": Case(KEYED, 1, f"{H}/.ssh/config is a directory, not a file",
                                lambda h: (h / ".ssh" / "config").mkdir()),
    "config-symlink-loop": Case(KEYED, 1, f"{H}/.ssh/config is a symlink loop",
                                lambda h: ((h / ".ssh" / "config").symlink_to(h / ".ssh" / "loop"), (h / ".ssh" / "loop").symlink_to(h / ".ssh" / "config"))),
    "sites-file-missing": Case((*KEYED, "--sites-file", f"{H}/none.toml"), 2, f"sites file {H}/none.toml does not exist"),
    "sites-file-syntax": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                              f"{H}/sites.toml: Expected '=' after a key in a key/value pair (at line 2, column 6)", _sites("[sites.x]\nhost name = 1\n")),
    "sites-file-wildcard-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                      f"{H}/sites.toml:3: [sites.x] alias x* is not a valid ssh alias", _sites('[sites.x]\nhostname = "a.org"\nalias = "x*"\n')),
    "sites-file-bad-host": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                f"{H}/sites.toml:2: [sites.x] hostname -a.org is not a valid host name", _sites('[sites.x]\nhostname = "-a.org"\n')),
    "sites-file-hash-alias": Case((*KEYED, "--sites-file", f"{H}/sites.toml"), 2,
                                  f"{H}/sites.toml:3: [sites.x] alias a#b is not a valid ssh alias", _sites('[sites.x]\nhostname = "a.org"\nalias = "a#b"\n')),
    "unknown-option": Case(("init", "--frobnicate"), 2, ""),
    "bad-client": Case(("init", "--client", "putty"), 2, ""),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=k) for k, c in CASES.items()])
def test_refused(case: Case, capsys: pytest.CaptureFixture[str], fake_home: Path) -> None:
    ssh = fake_home / ".ssh"
    ssh.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-f", str(ssh / "id")], check=True)
    if case.setup:
        case.setup(fake_home)
    before = snapshot(fake_home)
    args = [a.replace(H, str(fake_home)) for a in case.args]
    r = run_cli(capsys, *args)
    assert r.rc == case.rc, r.err
    assert "Traceback" not in r.err + r.out
    lines = r.err.splitlines()
    if case.error:
        assert lines == [f"error: {case.error.replace(H, str(fake_home))}", lines[1]]
        assert lines[1].startswith("hint: ") and len(lines[1]) > 10
    else:  # click usage errors: its own usage line and a hint to --help
        assert "Error:" in r.err and "--help" in r.err
    assert snapshot(fake_home) == before
