"""Property tests for the JSONC editor, checked against the independent parser pyjson5.

Random documents (comments everywhere, tabs or spaces, LF or CRLF, trailing commas, one-line
and multi-line containers, no final newline) get random edit sequences. After every edit:
pyjson5 and ``jsonc.parse`` both read the expected value; bytes outside the edited member are
unchanged; no comment outside it is lost; and the inverse edit restores the old bytes.
``apply_settings`` -> ``revert_settings`` must restore the original bytes.

Examples: ``SSHSETUP_HYPOTHESIS_EXAMPLES`` (default 200); ``SSHSETUP_HYPOTHESIS_PROFILE=nightly``
runs 10,000.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import random
import re
from typing import Any

import pyjson5
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sshsetup.vscode import settings as vscode_settings
from sshsetup.vscode.jsonc import editor as jsonc

settings.register_profile("sshsetup-ci", max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("sshsetup-nightly", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
_PROFILE = settings.get_profile("sshsetup-" + os.environ.get("SSHSETUP_HYPOTHESIS_PROFILE", "ci"))
_EXAMPLES = os.environ.get("SSHSETUP_HYPOTHESIS_EXAMPLES")
SETTINGS = settings(_PROFILE, max_examples=int(_EXAMPLES)) if _EXAMPLES else _PROFILE

PER_ALIAS = ["remote.SSH.remotePlatform", "remote.SSH.serverInstallPath"]
KEYS = ["a", "b", "label", 'q"uote', "back\\slash", "é", "//x", "/*y*/", "", "remote.SSH.connectTimeout", *PER_ALIAS]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda f: f == 0 or abs(f) > 1e-6),
    st.text(alphabet='ab "\\/é€\u2028\t\n*{}[],:', max_size=6),
)
values = st.recursive(
    scalars, lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.sampled_from(KEYS), ch, max_size=4), max_leaves=10
)
documents = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
COMMENT_ID = re.compile(r"<[cr]\d+>")


class Renderer:
    """Write a value as JSONC with random (but valid) layout and numbered comments."""

    def __init__(self, rnd: random.Random, tag: str = "c") -> None:
        self.rnd, self.tag, self.n = rnd, tag, 0
        self.unit = rnd.choice(["\t", "  ", "    "])
        self.eol = rnd.choice(["\n", "\r\n"])

    def comment(self, line_ok: bool) -> str:
        self.n += 1
        text = f"<{self.tag}{self.n}> " + self.rnd.choice(["", '"q" // x', "{ , }", "é*", "/"])
        if line_ok and self.rnd.random() < 0.5:
            return f"// {text}"
        return f"/* {text}{self.rnd.choice(['', self.eol + ' * more'])} */"

    def maybe(self, p: float, line_ok: bool = False) -> str:
        return " " + self.comment(line_ok) if self.rnd.random() < p else ""

    def key(self, k: str) -> str:
        return json.dumps(k, ensure_ascii=self.rnd.random() < 0.3) + self.rnd.choice([": ", ":", " : "])

    def value(self, v: Any, level: int, inline: bool) -> str:
        if isinstance(v, dict):
            return self.container("{", "}", [(self.key(k), x) for k, x in v.items()], level, inline)
        if isinstance(v, list):
            return self.container("[", "]", [("", x) for x in v], level, inline)
        return json.dumps(v, ensure_ascii=self.rnd.random() < 0.3)

    def container(self, open_: str, close: str, items: list[tuple[str, Any]], level: int, inline: bool) -> str:
        r, eol = self.rnd, self.eol
        if not items:
            return r.choice([open_ + close, open_ + " " + close, open_ + eol + self.unit * level + close])
        trailing = r.random() < 0.4
        if inline or (level > 0 and r.random() < 0.25):
            parts = [k + self.value(x, level, True) + self.maybe(0.1) for k, x in items]
            return open_ + self.maybe(0.1) + ", ".join(parts) + ("," if trailing else "") + close
        ind = self.unit * (level + 1)
        out = open_ + self.maybe(0.1, True) + eol
        for i, (k, x) in enumerate(items):
            if r.random() < 0.15:
                out += ind + self.comment(True) + eol
            out += ind + k + self.value(x, level + 1, False)
            out += "," if i < len(items) - 1 or trailing else ""
            out += self.maybe(0.25, True) + eol
        if r.random() < 0.15:
            out += ind + self.comment(True) + eol
        return out + self.unit * level + close

    def document(self, doc: dict[str, Any]) -> str:
        head = "".join(self.comment(True) + self.eol for _ in range(self.rnd.choice([0, 0, 1])))
        body = self.value(doc, 0, inline=self.rnd.random() < 0.1)
        return head + body + self.maybe(0.1, True) + (self.eol if self.rnd.random() < 0.7 else "")


def ids(text: str) -> collections.Counter[str]:
    return collections.Counter(COMMENT_ID.findall(text))


def is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(ch in it for ch in small)


def check_parses(text: str, expected: Any) -> None:
    assert pyjson5.decode(text) == expected
    assert jsonc.parse(text) == expected


def draw_path(data: st.DataObject, model: dict[str, Any], existing: bool) -> list[str] | None:
    """A key path through objects: existing keys, or (unless ``existing``) ending in a new one."""
    path: list[str] = []
    node: Any = model
    while isinstance(node, dict):
        keys = sorted(node)
        if existing and not keys:
            return path or None
        choice = data.draw(st.sampled_from(keys + ([] if existing else KEYS)))
        path.append(choice)
        if choice not in node:
            return path + data.draw(st.lists(st.sampled_from(KEYS), max_size=2))
        if data.draw(st.booleans()):
            return path
        node = node[choice]
    return path


def model_set(model: dict[str, Any], path: list[str], value: Any) -> None:
    node = model
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def locate(text: str, path: list[str]) -> tuple[int, int, int, int]:
    """(key start, value start, value end, member end) of an existing member, via the parser's offsets."""
    _, chain = jsonc._lookup(text, path)
    assert len(chain) == len(path)
    e = chain[-1]
    return e.start, e.node.start, e.node.end, e.comma + 1 if e.comma >= 0 else e.node.end


def line_region(text: str, start: int, end: int) -> str:
    """The lines of a member, with the comments that start on its last line (they go with it)."""
    ls = text.rfind("\n", 0, start) + 1
    while m := re.match(r"[ \t]*/\*", text[end:]):
        end = text.index("*/", end + m.end()) + 2
    le = text.find("\n", end)
    return text[ls : len(text) if le < 0 else le + 1]


def check_set(old: str, new: str, path: list[str], model_before: dict[str, Any], raw: str | None) -> None:
    existing = jsonc.get(old, path) is not jsonc.MISSING
    if existing:
        _, vs, ve, _ = locate(old, path)
        if new != old:
            assert new.startswith(old[:vs]) and new.endswith(old[ve:])
            new_raw = new[vs : len(new) - (len(old) - ve)]
            assert ids(new) - ids(new_raw) == ids(old) - ids(old[vs:ve])
            assert jsonc.set_raw(new, path, old[vs:ve]) == old  # the inverse edit
        return
    assert is_subsequence(old, new)
    assert ids(new) == ids(old) + (ids(raw) if raw else collections.Counter())
    # the inverse: delete the first key that did not exist; exact unless its parent was empty
    depth = next(i for i in range(len(path)) if jsonc.get(old, path[: i + 1]) is jsonc.MISSING)
    parent = jsonc.get(old, path[:depth]) if depth else jsonc.parse(old)
    if parent:
        assert jsonc.delete(new, path[: depth + 1]) == old


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.data())
def test_random_edit_sequences(doc: dict[str, Any], rnd: random.Random, data: st.DataObject) -> None:
    r = Renderer(rnd)
    text = r.document(doc)
    model = copy.deepcopy(doc)
    check_parses(text, model)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["set", "set", "raw", "delete", "upsert", "remove_item"]))
        path = draw_path(data, model, existing=op in ("delete", "remove_item"))
        if not path:
            continue
        old, before = text, copy.deepcopy(model)
        current = jsonc.get(text, path)
        if op in ("set", "raw"):
            value = data.draw(values)
            raw = Renderer(rnd, "r").value(value, 0, inline=True) if op == "raw" else None
            text = jsonc.set_value(text, path, value) if raw is None else jsonc.set_raw(text, path, raw)
            model_set(model, path, value)
            check_set(old, text, path, before, raw)
        elif op == "delete":
            key_start, _, _, member_end = locate(text, path)
            region = line_region(text, key_start, member_end)
            text = jsonc.delete(text, path)
            parent = model
            for key in path[:-1]:
                parent = parent[key]
            del parent[path[-1]]
            assert is_subsequence(text, old)
            assert len(old) - len(text) <= len(region) + 1
            assert ids(old) - ids(region) <= ids(text) <= ids(old)
        else:
            label = data.draw(st.sampled_from(["x", "y"]))
            if current is not jsonc.MISSING and not isinstance(current, list):
                with pytest.raises(jsonc.JSONCError):
                    jsonc.upsert_array_item(text, path, "label", {"label": label})
                continue
            items = [] if current is jsonc.MISSING else current
            match = [i for i, x in enumerate(items) if isinstance(x, dict) and x.get("label") == label]
            if op == "upsert":
                item = {"label": label, "v": data.draw(scalars)}
                text = jsonc.upsert_array_item(text, path, "label", item)
                if match:
                    items[match[-1]] = item
                else:
                    items.append(item)
                model_set(model, path, items)
                assert is_subsequence(old, text) or match
            else:
                text = jsonc.remove_array_item(text, path, "label", label)
                if current is not jsonc.MISSING:
                    model_set(model, path, [x for i, x in enumerate(items) if i not in match])
                assert is_subsequence(text, old)
        check_parses(text, model)


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.booleans(), st.booleans())
def test_apply_then_revert_restores_the_bytes(doc: dict[str, Any], rnd: random.Random, windows: bool, sip: bool) -> None:
    text = Renderer(rnd).document(doc)
    desired = vscode_settings.Desired(
        ("jsc-booster", "a"), {"a": "/p/project1/x/u/vscode"} if sip else {}, windows_client=windows
    )
    if any(k in doc and not isinstance(doc[k], dict) for k in PER_ALIAS[: 1 + sip]):
        with pytest.raises(jsonc.JSONCError):
            vscode_settings.apply_settings(text, desired)
        return
    new, record = vscode_settings.apply_settings(text, desired)
    expected = copy.deepcopy(doc)
    for path, value in desired.members():
        model_set(expected, list(path), value)
    assert pyjson5.decode(new) == expected
    replaced = sum((ids(c.old) for c in record.changes if c.old is not None and c.new is not None), collections.Counter())
    assert ids(new) == ids(text) - replaced  # only comments inside a replaced value go
    assert vscode_settings.check_settings(new, desired) == []
    again, _ = vscode_settings.apply_settings(new, desired)
    assert again == new
    record = vscode_settings.SettingsRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert vscode_settings.revert_settings(new, record) == (text, [])


def reference_parse(text: str) -> Any:
    """An independent, char-by-char JSONC reader: drop comments and trailing commas, then json.loads."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            while i < n and text[i] not in "\r\n":
                i += 1
            out.append(" ")
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            out.append(" ")
            i = end + 2
        else:
            out.append(ch)
            i += 1
    tokens = "".join(out)
    cleaned: list[str] = []
    in_string = False
    for k, ch in enumerate(tokens):
        if ch == "," and not in_string:
            after = tokens[k + 1 :].lstrip(" \t\r\n")[:1]
            before = "".join(cleaned).rstrip(" \t\r\n")[-1:]
            if after in ("}", "]") and before and before not in "{[,:":
                continue
        if ch == '"' and not (in_string and (len(cleaned) - len("".join(cleaned).rstrip("\\"))) % 2):
            in_string = not in_string
        cleaned.append(ch)
    if not "".join(cleaned).strip(" \t\r\n"):
        return jsonc.MISSING
    value = json.loads("".join(cleaned), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.data())
def test_parse_agrees_with_a_reference_reader(doc: dict[str, Any], rnd: random.Random, data: st.DataObject) -> None:
    """The fast path (blank comments and trailing commas in place, then the C decoder) accepts
    what a simple char-by-char reader accepts, with the same value, also on damaged text."""
    text = Renderer(rnd).document(doc)
    for _ in range(data.draw(st.integers(0, 3))):
        i = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.sampled_from(["", ",", '"', "/", "*", "/*", "//", "\n", "}", "]", "{", "[", ":", "1", "'", "\\", "NaN"]))
        text = text[:i] + piece + text[i + data.draw(st.integers(0, 2)) :]
    try:
        expected = reference_parse(text)
    except (ValueError, RecursionError):
        with pytest.raises(jsonc.JSONCError):
            jsonc.parse(text)
    else:
        assert jsonc.parse(text) == expected
        if expected is not jsonc.MISSING:
            assert pyjson5.decode(text) == expected


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.data())
def test_set_values_is_set_value_in_turn(doc: dict[str, Any], rnd: random.Random, data: st.DataObject) -> None:
    text = Renderer(rnd).document(doc)
    items = []
    for _ in range(data.draw(st.integers(1, 6))):
        path = draw_path(data, doc, existing=False) or [data.draw(st.sampled_from(KEYS))]
        items.append((path, data.draw(values)))
    try:
        expected = text
        for path, value in items:
            expected = jsonc.set_value(expected, path, value)
    except jsonc.JSONCError:
        with pytest.raises(jsonc.JSONCError):
            jsonc.set_values(text, items)
    else:
        assert jsonc.set_values(text, items) == expected


@SETTINGS
@given(documents, st.randoms(use_true_random=False), st.data())
def test_delete_many_is_delete_in_turn(doc: dict[str, Any], rnd: random.Random, data: st.DataObject) -> None:
    """The same value as one delete at a time. The bytes can differ only in a comment that sits
    between a deleted value and its comma (deleted with the member one way, kept the other)."""
    text = Renderer(rnd).document(doc)
    paths = [draw_path(data, doc, existing=data.draw(st.booleans())) or ["a"] for _ in range(data.draw(st.integers(1, 6)))]
    expected = text
    for path in paths:
        expected = jsonc.delete(expected, path)
    result = jsonc.delete_many(text, paths)
    assert pyjson5.decode(result) == pyjson5.decode(expected)
    assert ids(expected) <= ids(result) <= ids(text)
    if not re.search(r"\*/\s*,", text):
        assert result == expected
