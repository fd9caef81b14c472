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
    with pytest.raises(BadInput, match="is a directory, not a regular file"):
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


# ---------------------------------------------------------------- issue 12 item 7: files nobody could type


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"a long passphrase\n", b"a long passphrase", id="lf"),
        pytest.param(b"a long passphrase\r\n", b"a long passphrase", id="crlf"),
        pytest.param(b"a long passphrase", b"a long passphrase", id="no-newline"),
        pytest.param(b"a long passphrase\r\n\r\n", b"a long passphrase", id="crlf-blank-line"),
        pytest.param("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\n".encode(), "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e".encode(), id="utf8"),
        pytest.param(b"x" * 1023 + b"\n", b"x" * 1023, id="1023-bytes"),
        pytest.param(b"  spaces kept  \n", b"  spaces kept  ", id="spaces"),
    ],
)
def test_passphrase_files_that_work(tmp_path: Path, data: bytes, expected: bytes) -> None:
    f = tmp_path / "pw"
    f.write_bytes(data)
    notes: list[str] = []
    assert passphrase.read_file(str(f), notes) == expected
    assert notes == []


def test_a_bom_is_stripped_and_said(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_bytes(b"\xef\xbb\xbfa long passphrase\r\n")  # Notepad's "UTF-8"
    notes: list[str] = []
    assert passphrase.read_file(str(f), notes) == b"a long passphrase"
    assert notes == [f"note: removed the UTF-8 byte-order mark at the start of passphrase file {f}; it is not part of the passphrase"]


@pytest.mark.parametrize(
    ("data", "error", "hint"),
    [
        pytest.param(b"a long\0passphrase\n", "passphrase file {f} contains a NUL byte",
                     "ssh's prompt stops at NUL, so that key could never be unlocked: write the passphrase as plain text", id="nul"),
        pytest.param(b"caf\xe9 au lait\n", "passphrase file {f} is not valid UTF-8 (byte 4: 0xe9; Latin-1 or another legacy encoding?)",
                     "save the file as UTF-8 (without BOM): that is what a UTF-8 terminal sends when you type it", id="latin1"),
        pytest.param(b"x" * 1024 + b"\n", "passphrase file {f} is 1024 bytes long; ssh reads at most 1023",
                     "use a passphrase of at most 1023 bytes", id="1024-bytes"),
        pytest.param(b"\xef\xbb\xbf" + b"x" * 1024, "passphrase file {f} is 1024 bytes long; ssh reads at most 1023",
                     "use a passphrase of at most 1023 bytes", id="bom-then-1024"),
        pytest.param(b"x" * (64 * 1024 + 1), "passphrase file {f} is larger than 64 KiB",
                     "a passphrase file is never that big: check that this is the right file", id="huge"),
    ],
)
def test_passphrase_files_nobody_could_type_are_refused(tmp_path: Path, data: bytes, error: str, hint: str) -> None:
    f = tmp_path / "pw"
    f.write_bytes(data)
    with pytest.raises(BadInput) as exc:
        passphrase.read_file(str(f))
    assert (exc.value.message, exc.value.hint) == (error.format(f=f), hint)


def test_a_fifo_or_device_is_refused_not_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(BadInput, match=f"^passphrase file {fifo} is a named pipe \\(FIFO\\), not a regular file$"):
        passphrase.read_file(str(fifo))
    with pytest.raises(BadInput, match="^passphrase file /dev/zero is a character device, not a regular file$"):
        passphrase.read_file("/dev/zero")


def test_stdin_is_checked_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin:
        buffer = io.BytesIO(b"\xef\xbb\xbfcaf\xe9 au lait\r\n")

    monkeypatch.setattr(sys, "stdin", Stdin)
    with pytest.raises(BadInput, match=r"^the passphrase on standard input is not valid UTF-8 \(byte 4: 0xe9"):
        passphrase.read_file("-")


def test_a_typed_passphrase_is_checked_too() -> None:
    with pytest.raises(BadInput, match="^the typed passphrase is 1100 bytes long; ssh reads at most 1023$"):
        passphrase.obtain(None, lambda: "y" * 1100, jsc=True, allow_empty=False)


def test_init_with_a_bom_passphrase_file_says_so_and_the_key_opens(fake_home: Path) -> None:
    """The whole way: Notepad's BOM + CRLF file -> a key that the passphrase as typed unlocks."""
    pw = fake_home / "pw.txt"
    pw.write_bytes(b"\xef\xbb\xbfcorrect horse battery\r\n")
    r = subprocess.run([sys.executable, "-m", "sshsetup", "init", "--user", "smith1", "--site", "jusuf",
                        "--passphrase-file", str(pw), "--yes", "--no-vscode"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"note: removed the UTF-8 byte-order mark at the start of passphrase file {pw}; it is not part of the passphrase" in r.stderr
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    ok = subprocess.run(["ssh-keygen", "-y", "-P", "correct horse battery", "-f", str(key)], capture_output=True)
    assert ok.returncode == 0
