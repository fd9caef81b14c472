"""Decode a user's text file without losing anything, or refuse it.

sshsetup edits text line by line and never normalises: the line endings, a
missing final newline and (where allowed) a UTF-8 BOM all survive an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sshsetup.errors import Refused

UTF8_BOM = b"\xef\xbb\xbf"


def detect_eol(text: str, default: str = "\n") -> str:
    """The line ending of ``text``: CRLF if most lines end with it, LF if most do not, ``default`` without any."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    if crlf == lf == 0:
        return default
    return "\r\n" if crlf > lf else "\n"


@dataclass(frozen=True)
class TextDoc:
    text: str  # without the BOM
    bom: bool

    @property
    def eol(self) -> str:
        """The file's line ending (see :func:`detect_eol`)."""
        return detect_eol(self.text)

    def encode(self, text: str) -> bytes:
        data = text.encode("utf-8")
        return UTF8_BOM + data if self.bom else data


def decode(data: bytes, path: Path, *, allow_bom: bool) -> TextDoc:
    """Decode UTF-8 text, refusing what an edit could damage."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused(
            f"{path} is UTF-16 encoded; sshsetup only edits UTF-8 files",
            hint=f"convert it to UTF-8 without BOM (ssh cannot read UTF-16 either), e.g. in VS Code: 'Save with Encoding' > UTF-8: {path}",
        )
    bom = data.startswith(UTF8_BOM)
    if bom and not allow_bom:
        raise Refused(
            f"{path} starts with a UTF-8 byte-order mark, which ssh does not understand",
            hint=f"save it as UTF-8 without BOM, then run sshsetup again: {path}",
        )
    body = data[len(UTF8_BOM) :] if bom else data
    if b"\x00" in body:
        raise Refused(f"{path} contains NUL bytes; it is not a text file", hint=f"check the file by hand: {path}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise Refused(
            f"{path} is not valid UTF-8 (line {line})",
            hint=f"re-save it as UTF-8, then run sshsetup again: {path}",
        ) from None
    return TextDoc(text=text, bom=bom)
