"""sshsetup.textfile: a user's text file decodes losslessly, or is refused with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup import textfile
from sshsetup.errors import Refused

P = Path("/home/u/.ssh/config")


def refusal(data: bytes, allow_bom: bool = False) -> tuple[str, str | None]:
    with pytest.raises(Refused) as exc:
        textfile.decode(data, P, allow_bom=allow_bom)
    return exc.value.message, exc.value.hint


@pytest.mark.parametrize(("text", "eol"), [("", "\n"), ("a", "\n"), ("a\nb\n", "\n"), ("a\r\nb\r\n", "\r\n"), ("a\r\nb\r\nc\n", "\r\n"),
                                           ("a\r\nb\n", "\n"), ("a\rb\r", "\n")])
def test_eol_is_what_most_lines_use(text: str, eol: str) -> None:
    assert textfile.decode(text.encode(), P, allow_bom=False).eol == eol


def test_round_trip_keeps_every_byte() -> None:
    data = "Host é\r\n  User x\n# no final newline".encode()
    doc = textfile.decode(data, P, allow_bom=False)
    assert (doc.text, doc.bom) == (data.decode(), False)
    assert doc.encode(doc.text) == data


def test_bom_kept_where_allowed() -> None:
    doc = textfile.decode(b"\xef\xbb\xbf{}\n", P, allow_bom=True)
    assert (doc.text, doc.bom) == ("{}\n", True)
    assert doc.encode('{"a": 1}\n') == b'\xef\xbb\xbf{"a": 1}\n'


def test_bom_refused_for_ssh() -> None:
    assert refusal(b"\xef\xbb\xbfHost a\n") == (
        f"{P} starts with a UTF-8 byte-order mark, which ssh does not understand", f"save it as UTF-8 without BOM, then run sshsetup again: {P}")


@pytest.mark.parametrize("data", [b"\xff\xfe" + "Host a\n".encode("utf-16-le"), b"\xfe\xff" + "Host a\n".encode("utf-16-be")])
@pytest.mark.parametrize("allow_bom", [False, True])
def test_utf16_refused(data: bytes, allow_bom: bool) -> None:
    assert refusal(data, allow_bom) == (
        f"{P} is UTF-16 encoded; sshsetup only edits UTF-8 files",
        f"convert it to UTF-8 without BOM (ssh cannot read UTF-16 either), e.g. in VS Code: 'Save with Encoding' > UTF-8: {P}",
    )


def test_nul_refused() -> None:
    assert refusal(b"Host a\n\0") == (f"{P} contains NUL bytes; it is not a text file", f"check the file by hand: {P}")
    assert refusal(b"\xef\xbb\xbf\0", allow_bom=True) == (f"{P} contains NUL bytes; it is not a text file", f"check the file by hand: {P}")


def test_invalid_utf8_names_the_line() -> None:
    hint = f"re-save it as UTF-8, then run sshsetup again: {P}"
    assert refusal(b"\xe9") == (f"{P} is not valid UTF-8 (line 1)", hint)
    assert refusal(b"a\nb\n# caf\xe9\n") == (f"{P} is not valid UTF-8 (line 3)", hint)
    assert refusal(b"a\r\n\xf0\x9f\x98") == (f"{P} is not valid UTF-8 (line 2)", hint)  # cut inside a character
