"""A strict, surgical JSONC editor for VS Code's settings.json and tasks.json.

Reading lives in ``jsonc_read``: what JSONC is accepted, ``JSONCError`` (with the
line and column), ``MISSING``, ``parse``, ``get``, ``get_raw`` and ``same_value``.
They are re-exported here, so callers import only ``jsonc``. An edit refuses the
same text the reader refuses; on "no document" it appends a new object.

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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from sshsetup.vscode.jsonc.reader import (
    _SCAN,
    MISSING,
    JSONCError,
    _Entry,
    _error,
    _explain,
    _line_start,
    _lookup,
    _Masked,
    _member,
    _Node,
    get,
    get_raw,
    parse,
    same_value,
)

__all__ = [
    "MISSING", "JSONCError", "delete", "delete_many", "get", "get_raw", "parse", "remove_array_item", "same_value",
    "set_raw", "set_value", "set_values", "upsert_array_item",
]

_HWS = re.compile(r"[ \t]*")
_EOL = re.compile(r"[\r\n]")
_INDENTED = re.compile(r"\n([ \t]+)[^ \t\r\n]")


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
    elif last and prev is not None and not text[prev.comma + 1 : first.start].strip():  # also "...,\n  last}"
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
