from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.errors import Refused
from sshsetup.textfile import TextDoc, decode, detect_eol

P = Path("/h/.ssh/config")


@pytest.mark.parametrize(
    ("text", "eol"),
    [
        ("", "\n"),
        ("no newline at all", "\n"),
        ("a\nb\n", "\n"),
        ("a\r\nb\r\n", "\r\n"),
        ("a\r\nb\r\nc\n", "\r\n"),  # most lines decide
        ("a\r\nb\nc\n", "\n"),
        ("a\r\nb\n", "\n"),  # a tie keeps LF
    ],
)
def test_detect_eol(text: str, eol: str) -> None:
    assert detect_eol(text) == eol
    assert TextDoc(text, bom=False).eol == eol


def test_detect_eol_default_only_without_line_endings() -> None:
    assert detect_eol("", "\r\n") == "\r\n"
    assert detect_eol("x", "\r\n") == "\r\n"
    assert detect_eol("x\n", "\r\n") == "\n"


def test_decode_keeps_a_bom_where_allowed_and_encode_puts_it_back() -> None:
    doc = decode(b"\xef\xbb\xbf{}\r\n", P, allow_bom=True)
    assert (doc.text, doc.bom, doc.eol) == ("{}\r\n", True, "\r\n")
    assert doc.encode("[]\r\n") == b"\xef\xbb\xbf[]\r\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xef\xbb\xbfHost a\n", f"{P} starts with a UTF-8 byte-order mark, which ssh does not understand"),
        (b"\xff\xfeH\x00", f"{P} is UTF-16 encoded; sshsetup only edits UTF-8 files"),
        (b"Host a\n\x00", f"{P} contains NUL bytes; it is not a text file"),
        (b"Host a\nHost \xff\n", f"{P} is not valid UTF-8 (line 2)"),
    ],
)
def test_refusals(data: bytes, message: str) -> None:
    with pytest.raises(Refused) as exc:
        decode(data, P, allow_bom=False)
    assert exc.value.message == message
