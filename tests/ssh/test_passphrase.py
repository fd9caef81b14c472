from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from sshsetup.errors import BadInput
from sshsetup.ssh import passphrase


def test_read_file_first_line_only(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_bytes(b"a long passphrase\r\nsecond line\n")
    assert passphrase.read_file(str(f)) == b"a long passphrase"
    f.write_bytes(b"")
    assert passphrase.read_file(str(f)) == b""
    with pytest.raises(BadInput, match="does not exist"):
        passphrase.read_file(str(tmp_path / "missing"))
    with pytest.raises(BadInput, match="cannot read passphrase file"):
        passphrase.read_file(str(tmp_path))  # a directory


def test_read_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin:
        buffer = io.BytesIO(b"from stdin pass\nrest\n")

    monkeypatch.setattr(sys, "stdin", Stdin)
    assert passphrase.read_file("-") == b"from stdin pass"


@pytest.mark.parametrize(
    ("pw", "jsc", "allow_empty", "error"),
    [
        pytest.param(b"", True, True, "JSC requires a passphrase", id="empty-jsc"),
        pytest.param(b"", False, False, "empty passphrase", id="empty-needs-the-loud-option"),
        pytest.param(b"short", True, False, "shorter than 8", id="short-jsc"),
    ],
)
def test_check_refuses(pw: bytes, jsc: bool, allow_empty: bool, error: str) -> None:
    with pytest.raises(BadInput, match=error):
        passphrase.check(pw, jsc=jsc, allow_empty=allow_empty)


def test_obtain() -> None:
    assert passphrase.check(b"", jsc=False, allow_empty=True) == b""
    assert passphrase.check(b"short", jsc=False, allow_empty=False) == b"short"  # non-JSC: no length rule
    assert passphrase.obtain(None, None, jsc=False, allow_empty=True) == b""
    assert passphrase.obtain(None, lambda: "typed in twice", jsc=True, allow_empty=False) == b"typed in twice"
    with pytest.raises(BadInput, match="no terminal to ask on"):
        passphrase.obtain(None, None, jsc=True, allow_empty=False)


def test_init_reads_the_passphrase_from_stdin(fake_home: Path) -> None:
    """--passphrase-file - : the passphrase arrives on stdin, never on a command line."""
    r = subprocess.run([sys.executable, "-m", "sshsetup", "init", "--user", "smith1", "--site", "jusuf",
                        "--passphrase-file", "-", "--yes", "--no-vscode"],
                       input="correct horse battery\n", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    ok = subprocess.run(["ssh-keygen", "-y", "-P", "correct horse battery", "-f", str(key)], capture_output=True)
    assert ok.returncode == 0
    assert "correct horse battery" not in r.stdout + r.stderr
