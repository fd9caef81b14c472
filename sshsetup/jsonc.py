"""A strict, surgical JSONC editor for VS Code's settings.json and tasks.json.

JSONC here is what VS Code accepts: JSON plus ``//`` and ``/* */`` comments and
trailing commas. Single quotes, unquoted keys, NaN and other JSON5 extras are
refused with a ``JSONCError`` naming the line and column. The top-level value
must be an object. Text with no value at all (empty, blanks, comments only)
is "no document": ``parse`` gives ``MISSING`` and an edit appends a new object.

Every edit changes only the member it is about; all other bytes stay. A new
member goes after the last member's comma *and* after the comments that start
on that line, indented like its siblings; a comma the object lacks is added
right after the last value. New containers use the file's indent unit (tab or
N spaces, default 4) and line ending (CRLF when most lines use it). A one-line
object stays on one line. Replacing a whole container drops the comments in it;
deleting a member also deletes the comments that start on its last line.
Duplicate keys: VS Code lets the last one win, so ``get``/``set_*`` use the
last one and ``delete`` removes them all (afterwards the key is really gone).
The caller strips a UTF-8 BOM first (``textfile.decode(allow_bom=True)``).

How: comments and trailing commas are blanked to spaces (same length, so every
offset stays) and the stdlib's C decoder checks the rest and skips over values;
only the containers on the edited path are scanned. A decoder error position is
therefore also the position in the original text.
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
_HWS = re.compile(r"[ \t]*")
_EOL = re.compile(r"[\r\n]")
_WORD = re.compile(r"[A-Za-z0-9_$+.-]+")
_INDENTED = re.compile(r"\n([ \t]+)[^ \t\r\n]")
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


# ---- layout --------------------------------------------------------------------------------


def _layout(text: str) -> tuple[str, str]:
    """The line ending (CRLF when most lines use it) and indent unit (tab, else the smallest run of spaces)."""
    crlf = text.count("\r\n")
    eol = "\r\n" if crlf > text.count("\n") - crlf else "\n"
    sizes = []
    for i, m in enumerate(_INDENTED.finditer(text)):
        if m.group(1).startswith("\t"):
            return eol, "\t"
        sizes.append(len(m.group(1)) - len(m.group(1).lstrip(" ")))
        if i >= 200:
            break
    return eol, " " * min(sizes) if sizes and min(sizes) > 0 else "    "


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent(text: str, pos: int) -> str | None:
    """The indentation of the line ``pos`` starts, or None when something comes before it there."""
    ls = _line_start(text, pos)
    return None if text[ls:pos].strip(" \t") else text[ls:pos]


def _line_tail(text: str, pos: int) -> tuple[int, bool]:
    """Skip blanks and the comments that start on this line: (the line break after them, True) or (pos, False)."""
    q = pos
    while True:
        q = _HWS.match(text, q).end()  # type: ignore[union-attr]
        if text.startswith("//", q):
            m = _EOL.search(text, q)
            return (m.start() if m else len(text)), True
        if not text.startswith("/*", q):
            return (q, True) if q == len(text) or text[q] in "\r\n" else (pos, False)
        q = text.find("*/", q + 2) + 2  # the text is valid: the comment ends


def _dump(value: Any, indent: str | None, eol: str, unit: str) -> str:
    """JSON text for ``value``: one line when ``indent`` is None, else indented from ``indent``."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    return json.dumps(value, indent=unit, ensure_ascii=False, allow_nan=False).replace("\n", eol + indent)


Render = Callable[[str | None], str]  # indent (None: keep it on one line) -> value text


def _nest(keys: Sequence[str], leaf: Render, indent: str | None, eol: str, unit: str) -> str:
    """``{"k1": {"k2": leaf}}`` laid out like ``json.dumps``."""
    if not keys:
        return leaf(indent)
    key = json.dumps(keys[0], ensure_ascii=False) + ": "
    if indent is None:
        return "{" + key + _nest(keys[1:], leaf, None, eol, unit) + "}"
    inner = indent + unit
    return "{" + eol + inner + key + _nest(keys[1:], leaf, inner, eol, unit) + eol + indent + "}"


# ---- edits ---------------------------------------------------------------------------------


def _insert(text: str, c: _Node, render: Render) -> str:
    """Add an entry at the end of container ``c``."""
    eol, unit = _layout(text)
    if not c.entries:
        close, outer = c.end - 1, _HWS.match(text, _line_start(text, c.start)).group()  # type: ignore[union-attr]
        inner = outer + unit
        if _indent(text, close) is not None:  # the closing bracket is on its own line
            ls = _line_start(text, close)
            eol = "\r\n" if text.endswith("\r\n", 0, ls) else "\n"  # the line's own ending
            return text[:ls] + inner + render(inner) + eol + text[ls:]
        return text[:close] + eol + inner + render(inner) + eol + outer + text[close:]
    last = c.entries[-1]
    indent = _indent(text, last.start)
    if indent is not None:  # one entry per line
        end = last.comma + 1 if last.comma >= 0 else last.node.end
        at, _ = _line_tail(text, end)
        eol = "\r\n" if text.startswith("\r\n", at) else "\n" if text.startswith("\n", at) else eol
        if last.comma >= 0:
            return text[:at] + eol + indent + render(indent) + "," + text[at:]
        return text[:end] + "," + text[end:at] + eol + indent + render(indent) + text[at:]
    if last.comma >= 0:
        return text[: last.comma + 1] + " " + render(None) + "," + text[last.comma + 1 :]
    return text[: last.node.end] + ", " + render(None) + text[last.node.end :]


def _replace(text: str, entry: _Entry, render: Render) -> str:
    return text[: entry.node.start] + render(_indent(text, entry.start)) + text[entry.node.end :]


def _delete(text: str, c: _Node, i: int, j: int) -> str:
    """Remove entries ``i..j`` of ``c`` with their commas and, when they are alone on their lines, those lines."""
    ents, first, e = c.entries, c.entries[i], c.entries[j]
    prev = ents[i - 1] if i > 0 else None
    end = e.comma + 1 if e.comma >= 0 else e.node.end
    tail, at_eol = _line_tail(text, end)
    last = j == len(ents) - 1
    drop_prev_comma = prev is not None and e.comma < 0  # keep the no-trailing-comma style
    if at_eol and _indent(text, first.start) is not None:
        start, stop = _line_start(text, first.start), tail + (2 if text.startswith("\r\n", tail) else 1)
    elif last and prev is not None and not text[prev.comma + 1 : first.start].strip(" \t"):
        start, stop, drop_prev_comma = prev.comma + (e.comma >= 0), end, False
    elif last and prev is None and not (text[c.start + 1 : first.start] + text[end : c.end - 1]).strip(" \t"):
        start, stop = c.start + 1, c.end - 1
    else:
        start, stop = first.start, _HWS.match(text, end).end()  # type: ignore[union-attr]
    out = text[:start] + text[stop:]
    if drop_prev_comma and prev is not None:
        out = out[: prev.comma] + out[prev.comma + 1 :]
    return out


Leaf = Callable[[str | None, str, str], str]  # (indent, eol, unit) -> value text


def _put(text: str, path: Sequence[str], leaf: Leaf, same: Callable[[_Node], bool]) -> str:
    """Set ``path``; ``leaf`` renders the value; ``same(node)``: it is already there."""
    if not path:
        raise ValueError("an empty path names the whole document")
    root, chain = _lookup(text, path)
    eol, unit = _layout(text)
    render: Render = lambda ind: leaf(ind, eol, unit)  # noqa: E731
    if root is None:
        sep = "" if not text or text.endswith(("\n", "\r")) else eol
        return text + sep + _nest(path, render, "", eol, unit) + eol
    if len(chain) == len(path):
        return text if same(chain[-1].node) else _replace(text, chain[-1], render)
    parent = chain[-1].node if chain else root
    if parent.kind != "object":
        raise _error(text, parent.start, f"{'.'.join(path[: len(chain)])!r} is {parent.describe()}, not an object")
    key, rest = json.dumps(path[len(chain)], ensure_ascii=False), path[len(chain) + 1 :]
    return _insert(text, parent, lambda ind: key + ": " + _nest(rest, render, ind, eol, unit))


def set_value(text: str, path: Sequence[str], value: Any) -> str:
    """Set the member at ``path`` to ``value``, creating missing parent objects.

    An identical value (``same_value``) gives back ``text`` itself.
    """
    return _put(text, path, lambda ind, eol, unit: _dump(value, ind, eol, unit), lambda n: same_value(n.value(), value))


def _merge(group: dict[str, Any], ours: set[int], keys: Sequence[str], value: Any) -> bool:
    """Put ``value`` at ``keys`` in ``group``, through dicts made here only; False if it cannot."""
    node = group
    for key in keys[:-1]:
        if key in node and id(node[key]) not in ours:
            return False
        if key not in node:
            node[key] = {}
            ours.add(id(node[key]))
        node = node[key]
    node[keys[-1]] = value
    return True


def set_values(text: str, items: Sequence[tuple[Sequence[str], Any]]) -> str:
    """``set_value`` for each (path, value) in turn, with the same result; members new to one
    object go in with a single edit, which is much faster on a big file."""
    i = 0
    while i < len(items):
        path = items[i][0]
        root, chain = _lookup(text, path)
        parent = chain[-1].node if chain else root
        depth, j = len(chain), i
        group: dict[str, Any] = {}
        if parent is not None and parent.kind == "object" and depth < len(path):
            taken, ours = {e.key for e in parent.entries}, {id(group)}
            while j < len(items):
                p, v = items[j]
                if list(p[:depth]) != list(path[:depth]) or len(p) <= depth or p[depth] in taken:
                    break
                if not _merge(group, ours, p[depth:], v):
                    break
                j += 1
        if j == i:
            text, i = set_value(text, *items[i]), i + 1
            continue
        assert parent is not None
        eol, unit = _layout(text)
        members = [(json.dumps(k, ensure_ascii=False) + ": ", v) for k, v in group.items()]

        def render(ind: str | None, members: list[tuple[str, Any]] = members, eol: str = eol, unit: str = unit) -> str:
            sep = "," + (" " if ind is None else eol + ind)
            return sep.join(k + _dump(v, ind, eol, unit) for k, v in members)

        text, i = _insert(text, parent, render), j
    return text


def set_raw(text: str, path: Sequence[str], raw: str) -> str:
    """Set the member at ``path`` to the JSONC value text ``raw``, exactly as given."""
    m = _Masked(raw)
    try:
        end = _SCAN(m.text, 0)[1]
    except StopIteration:
        end = -1
    except (ValueError, RecursionError) as exc:
        raise _explain(raw, m.text, exc) from None
    if end != len(raw):
        raise _error(raw, max(end, 0), "exactly one value, with no blanks or comments around it")
    return _put(text, path, lambda *_: raw, lambda n: text[n.start : n.end] == raw)


def delete(text: str, path: Sequence[str]) -> str:
    """Remove the member at ``path`` (every duplicate of it); missing members are fine."""
    return delete_many(text, [path])


def _own_lines(text: str, e: _Entry) -> bool:
    """The entry has its lines to itself: nothing before it, nothing but blanks after it."""
    tail = _HWS.match(text, e.comma + 1 if e.comma >= 0 else e.node.end).end()  # type: ignore[union-attr]
    return _indent(text, e.start) is not None and (tail == len(text) or text[tail] in "\r\n")


def delete_many(text: str, paths: Sequence[Sequence[str]]) -> str:
    """``delete`` for every path, with the same result; neighbouring members of one object go
    in a single edit, which is much faster on a big file."""
    groups: dict[tuple[str, ...], set[str]] = {}
    for path in paths:
        if path:
            groups.setdefault(tuple(path[:-1]), set()).add(path[-1])
    for prefix, keys in groups.items():
        while True:
            root, chain = _lookup(text, prefix)
            parent = chain[-1].node if chain else root
            if parent is None or len(chain) != len(prefix) or parent.kind != "object":
                break
            ents, runs = parent.entries, list[list[int]]()
            for i in (i for i, e in enumerate(ents) if e.key in keys):
                gap = text[ents[i - 1].node.end : ents[i].start].replace(",", "", 1) if i else "x"
                if runs and runs[-1][1] == i - 1 and not gap.strip() and _own_lines(text, ents[i]):
                    runs[-1][1] = i
                else:
                    runs.append([i, i])
            after = len(ents) + 1
            for i, j in reversed(runs):  # a later run changes nothing before the entry ahead of it
                if j + 1 == after:
                    break  # ... but that entry went too: read the text again
                text, after = _delete(text, parent, i, j), i
            else:
                break
    return text


def _array(text: str, path: Sequence[str], key: str, key_value: Any) -> tuple[_Node | None, int]:
    """The array at ``path`` (None if absent) and the index of its last object with ``key`` = ``key_value``."""
    entry = _member(text, path)
    if entry is None:
        return None, -1
    if entry.node.kind != "array":
        raise _error(text, entry.node.start, f"{'.'.join(path)!r} is {entry.node.describe()}, not an array")
    for i in range(len(entry.node.entries) - 1, -1, -1):
        item = entry.node.entries[i].node.value()
        if isinstance(item, dict) and key in item and same_value(item[key], key_value):
            return entry.node, i
    return entry.node, -1


def upsert_array_item(text: str, path: Sequence[str], key: str, item: dict[str, Any]) -> str:
    """Replace the (last) object in the array at ``path`` whose ``key`` equals ``item[key]``, or append ``item``."""
    node, i = _array(text, path, key, item[key])
    if node is None:
        return set_value(text, path, [item])
    eol, unit = _layout(text)
    render: Render = lambda ind: _dump(item, ind, eol, unit)  # noqa: E731
    if i < 0:
        return _insert(text, node, render)
    old = node.entries[i]
    return text if same_value(old.node.value(), item) else _replace(text, old, render)


def remove_array_item(text: str, path: Sequence[str], key: str, key_value: Any) -> str:
    """Remove every object in the array at ``path`` whose ``key`` equals ``key_value``."""
    while True:
        node, i = _array(text, path, key, key_value)
        if node is None or i < 0:
            return text
        text = _delete(text, node, i, i)
