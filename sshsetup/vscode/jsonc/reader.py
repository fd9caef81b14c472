"""Reading JSONC for VS Code's settings.json and tasks.json: the strict reader behind ``jsonc``.

JSONC here is what VS Code accepts: JSON plus ``//`` and ``/* */`` comments and
trailing commas. Single quotes, unquoted keys, NaN and other JSON5 extras are
refused with a ``JSONCError`` naming the line and column. The top-level value
must be an object. Text with no value at all (empty, blanks, comments only)
is "no document": ``parse`` gives ``MISSING`` (and an edit appends a new object).
Duplicate keys: VS Code lets the last one win, so ``get``/``get_raw`` use the last one.
The caller strips a UTF-8 BOM first (``textfile.decode(allow_bom=True)``).
The editor, ``jsonc``, builds on the offsets kept here and re-exports the public names.

How: comments and trailing commas are blanked to spaces (same length, so every
offset stays) and the stdlib's C decoder checks the rest and skips over values;
only the containers on the path looked up (or edited) are scanned. A decoder
error position is therefore also the position in the original text.
"""

from __future__ import annotations

import bisect
import json
import json.scanner
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from sshsetup.errors import Refused

_HINT = "fix the file by hand (VS Code underlines the problem), then run sshsetup again"
_WS = re.compile(r"[ \t\r\n]*")
_COLON = re.compile(r"[ \t\r\n]*:[ \t\r\n]*")
_AFTER = re.compile(r"[ \t\r\n]*(,?)[ \t\r\n]*")
_WORD = re.compile(r"[A-Za-z0-9_$+.-]+")
_KINDS: Final = {"{": "object", "[": "array", '"': "string", "t": "literal", "f": "literal", "n": "literal"}
_ANY_STR = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"'  # a string token, valid or not (the decoder judges)
_CONSTANT = re.compile(rf"{_ANY_STR}|(-?(?:NaN|Infinity))")
_BRACKETS = re.compile(rf"{_ANY_STR}|[\[\]{{}}]")
_COMMENTS = re.compile(rf"(?:[^\"/]+|{_ANY_STR})+|//[^\r\n]*|/\*[\s\S]*?\*/")
_COMMAS = re.compile(rf"(?:[^\",]+|{_ANY_STR}|,(?![ \t\r\n]*[}}\]]))+|,")
_EXPECTED: Final = {
    "Expecting value": "a value",
    "Expecting property name enclosed in double quotes": "a double-quoted key or '}'",
    "Expecting ':' delimiter": "':'",
    "Extra data": "end of file after the closing '}'",
}


def _reject(name: str) -> None:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_reject)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]  # typeshed


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final[Any] = _Missing()


class JSONCError(Refused):
    """The text is not JSONC (or not the shape an edit needs); nothing may be written."""

    def __init__(self, detail: str, line: int, column: int, *, where: str = "JSONC text") -> None:
        self.detail, self.line, self.column, self.where = detail, line, column, where
        super().__init__(f"{where}: line {line} column {column}: {detail}", hint=_HINT)

    def for_file(self, path: object) -> JSONCError:
        """The same error, naming the file."""
        return JSONCError(self.detail, self.line, self.column, where=str(path))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _error(text: str, pos: int, detail: str) -> JSONCError:
    return JSONCError(detail, _line_of(text, pos), pos - _line_start(text, pos) + 1)


def _found(text: str, pos: int) -> str:
    m = _WORD.match(text, pos)
    found = "end of file" if pos >= len(text) else repr(m.group()[:20] if m else text[pos])
    return found + (" (JSONC strings and keys use double quotes)" if text.startswith("'", pos) else "")


class _Masked:
    """The text with comments and trailing commas blanked (same offsets), and where those commas were."""

    def __init__(self, text: str) -> None:
        self.trailing: list[int] = []
        blank = _COMMENTS.sub(_blank_comment, text) if "/" in text else text
        self.text = _COMMAS.sub(self._blank_comma, blank) if re.search(r",[ \t\r\n]*[}\]]", blank) else blank

    def _blank_comma(self, m: re.Match[str]) -> str:
        if m.group() != ",":
            return m.group()
        j = m.start() - 1
        while j >= 0 and m.string[j] in " \t\r\n":
            j -= 1
        if j < 0 or m.string[j] not in ']}"0123456789el':  # not after a value: leave it to fail
            return ","
        self.trailing.append(m.start())
        return " "

    def comma_in(self, start: int, end: int) -> int:
        i = bisect.bisect_left(self.trailing, start)
        return self.trailing[i] if i < len(self.trailing) and self.trailing[i] < end else -1


def _blank_comment(m: re.Match[str]) -> str:
    s = m.group()
    return " " * len(s) if s.startswith(("//", "/*")) else s


def _explain(text: str, masked: str, exc: Exception) -> JSONCError:
    """The decoder's complaint about the blanked text, said about the original (same offsets)."""
    if isinstance(exc, RecursionError):
        return _error(text, _ws(masked, 0), "nested too deeply")
    if not isinstance(exc, json.JSONDecodeError):  # NaN or Infinity (parse_constant)
        pos = next(m.start(1) for m in _CONSTANT.finditer(masked) if m.group(1))
        return _error(text, pos, f"expected a value, found {_found(text, pos)}")
    pos, msg = exc.pos, exc.msg
    if text.startswith("\ufeff", pos):
        return _error(text, pos, "unexpected byte-order mark (decode with textfile.decode first)")
    if text.startswith("/*", pos):
        return _error(text, pos, "unterminated /* comment")
    if msg.startswith("Unterminated string") or msg.startswith("Invalid control") and text[pos] in "\r\n":
        return _error(text, masked.rfind('"', 0, pos + 1), "unterminated string")
    if msg.startswith("Invalid control"):
        return _error(text, pos, f"control character {text[pos]!r} in a string (write it escaped, e.g. \\t)")
    if msg.startswith("Invalid \\"):
        pos = text.rindex("\\", 0, pos + 1)
        return _error(text, pos, f"invalid escape {text[pos : pos + 2]!r} in a string")
    expected = _EXPECTED.get(msg, msg)
    if msg == "Expecting ',' delimiter":  # name the container that is still open
        opened: list[int] = []
        for t in _BRACKETS.finditer(masked, 0, pos):
            if t.group() in "{[":
                opened.append(t.start())
            elif t.group() in "}]":
                opened.pop()
        kind, close = ("object", "}") if masked[opened[-1]] == "{" else ("array", "]")
        expected = f"',' or '{close}' (in the {kind} that starts at line {_line_of(text, opened[-1])})"
    return _error(text, pos, f"expected {expected}, found {_found(text, pos)}")


class _Node:
    """A value in accepted text: its kind, offsets and (decoded afresh on each call) value."""

    __slots__ = ("kind", "start", "end", "_entries", "_src")

    def __init__(self, kind: str, start: int, end: int, src: _Masked) -> None:
        self.kind, self.start, self.end, self._src = kind, start, end, src
        self._entries: list[_Entry] | None = None

    @property
    def entries(self) -> list[_Entry]:
        if self._entries is None:
            self._entries = _scan(self._src, self)
        return self._entries

    def value(self) -> Any:
        return _SCAN(self._src.text, self.start)[0]

    def describe(self) -> str:
        names = {"object": "an object", "array": "an array", "string": "a string", "number": "a number"}
        return names.get(self.kind) or self._src.text[self.start : self.end]


class _Entry:
    """An object member (``key`` set, ``start`` at the key) or an array item."""

    __slots__ = ("key", "start", "node", "comma")

    def __init__(self, key: str | None, start: int, node: _Node, comma: int) -> None:
        self.key, self.start, self.node, self.comma = key, start, node, comma  # comma: offset or -1


def _ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _scan(m: _Masked, c: _Node) -> list[_Entry]:
    """The entries of a container (the decoder skips over each value)."""
    s, out, scan, colon, after = m.text, [], _SCAN, _COLON.match, _AFTER.match
    pos = _ws(s, c.start + 1)
    while s[pos] not in "}]":
        at, key = pos, None
        if c.kind == "object":
            key, pos = scan(s, pos)
            pos = colon(s, pos).end()  # type: ignore[union-attr]
        end = scan(s, pos)[1]
        sep = after(s, end)
        comma = sep.start(1) if sep.group(1) else m.comma_in(end, sep.end())  # type: ignore[union-attr]
        out.append(_Entry(key, at, _Node(_KINDS.get(s[pos], "number"), pos, end, m), comma))
        pos = sep.end()  # type: ignore[union-attr]
    return out


_last: list[tuple[str, _Node]] = []  # the last document read: an edit often reads the same text twice


def _document(text: str) -> _Node | None:
    """The top-level object, or None for no document; raises JSONCError."""
    if _last and (_last[0][0] is text or _last[0][0] == text):
        return _last[0][1]
    m = _Masked(text)
    start = _ws(m.text, 0)
    if start == len(text):
        return None
    try:
        value = _DECODER.decode(m.text)
    except (ValueError, RecursionError) as exc:
        raise _explain(text, m.text, exc) from None
    if not isinstance(value, dict):
        raise _error(text, start, f"expected '{{' (the file must hold one JSON object), found {_found(text, start)}")
    root = _Node("object", start, len(m.text.rstrip(" \t\r\n")), m)
    _last[:] = [(text, root)]
    return root


def _lookup(text: str, path: Sequence[str]) -> tuple[_Node | None, list[_Entry]]:
    """The root and the chain of entries that ``path`` names (shorter when a key is missing)."""
    root = node = _document(text)
    chain: list[_Entry] = []
    for key in path:
        found = [e for e in node.entries if e.key == key] if node is not None and node.kind == "object" else []
        if not found:
            break
        chain.append(found[-1])
        node = found[-1].node
    return root, chain


def _member(text: str, path: Sequence[str]) -> _Entry | None:
    _, chain = _lookup(text, path)
    return chain[-1] if path and len(chain) == len(path) else None


def parse(text: str) -> Any:
    """The value of the document, or ``MISSING`` for no document (empty or comments only)."""
    root = _document(text)
    return MISSING if root is None else root.value()


def get(text: str, path: Sequence[str]) -> Any:
    """The value at ``path`` (a list of object keys), or ``MISSING``."""
    entry = _member(text, path)
    return MISSING if entry is None else entry.node.value()


def get_raw(text: str, path: Sequence[str]) -> str | None:
    """The exact source text of the value at ``path`` (comments inside included), or None."""
    entry = _member(text, path)
    return None if entry is None else text[entry.node.start : entry.node.end]


def same_value(a: Any, b: Any) -> bool:
    """JSON equality that tells ``true`` from ``1`` and ``1`` from ``1.0``; key order is ignored."""
    return json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(b, sort_keys=True, ensure_ascii=False)
