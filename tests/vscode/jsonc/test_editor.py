from __future__ import annotations

import time
from pathlib import Path

import pytest

from sshsetup import textfile
from sshsetup.errors import Refused
from sshsetup.vscode.jsonc import editor as jsonc
from tests.timing import budget

DATA = Path(__file__).parents[2] / "data" / "jsonc"
PLATFORM = ["remote.SSH.remotePlatform", "jsc-booster"]


def fixture(name: str) -> str:
    return (DATA / name).read_bytes().decode("utf-8")


S1 = fixture("settings_comments.jsonc")


# ---- reading --------------------------------------------------------------------------------


def test_parse_realistic_settings() -> None:
    assert jsonc.parse(S1) == {
        "editor.fontSize": 14,
        "http.proxy": "http://proxy.example.org//x",
        "note": "/* not a comment */ café",
        "files.exclude": ["a", "b"],
        "remote.SSH.remotePlatform": {"old-box": "linux", "mac-mini": "macOS"},
    }


@pytest.mark.parametrize("text", ["", "  \n", fixture("empty.jsonc"), fixture("comment_only.jsonc")])
def test_no_document(text: str) -> None:
    assert jsonc.parse(text) is jsonc.MISSING
    assert repr(jsonc.MISSING) == "MISSING" and not jsonc.MISSING
    assert jsonc.get(text, ["a"]) is jsonc.MISSING
    assert jsonc.get_raw(text, ["a"]) is None
    assert jsonc.delete(text, ["a"]) == text


def test_get_and_get_raw() -> None:
    assert jsonc.get(S1, ["remote.SSH.remotePlatform", "mac-mini"]) == "macOS"
    assert jsonc.get(S1, ["remote.SSH.remotePlatform", "nope"]) is jsonc.MISSING
    assert jsonc.get(S1, ["editor.fontSize", "x"]) is jsonc.MISSING  # through a number
    assert jsonc.get_raw(S1, ["files.exclude"]) == '["a", "b",]'
    assert jsonc.get_raw(S1, ["remote.SSH.remotePlatform"]) == (
        '{\n        "old-box": "linux",\n        "mac-mini": "macOS", // the mac\n    }'
    )


def test_values_of_every_kind() -> None:
    text = '{"s": "a\\"\\u00e9\\n", "i": -12, "f": 1.5e2, "t": true, "f2": false, "n": null, "e": {}, "l": []}'
    assert jsonc.parse(text) == {"s": 'a"é\n', "i": -12, "f": 150.0, "t": True, "f2": False, "n": None, "e": {}, "l": []}


def test_duplicate_keys_last_wins() -> None:
    text = '{\n  "a": 1,\n  "b": 2,\n  "a": 3\n}\n'
    assert jsonc.get(text, ["a"]) == 3
    assert jsonc.set_value(text, ["a"], 4) == '{\n  "a": 1,\n  "b": 2,\n  "a": 4\n}\n'
    assert jsonc.delete(text, ["a"]) == '{\n  "b": 2\n}\n'  # every duplicate goes


def test_same_value_is_strict() -> None:
    assert jsonc.same_value({"a": [1, True]}, {"a": [1, True]})
    assert not jsonc.same_value(1, True)
    assert not jsonc.same_value(1, 1.0)
    assert jsonc.same_value({"a": 1, "b": 2}, {"b": 2, "a": 1})


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "detail"),
    [
        pytest.param('{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' (in the object that starts at line 1), found '\"'", id="missing-comma"),
        pytest.param('{\n  "a": "abc\n}', 2, 8, "unterminated string", id="unterminated-string"),
        pytest.param('{\n  "a": 1 /* oops\n}', 2, 10, "unterminated /* comment", id="unterminated-comment"),
        pytest.param('{\n  "a": [1,\n', 3, 1, "expected a value, found end of file", id="truncated"),
        pytest.param("{'a': 1}", 1, 2, "expected a double-quoted key or '}', found \"'\" (JSONC strings and keys use double quotes)", id="single-quotes"),
        pytest.param("{a: 1}", 1, 2, "expected a double-quoted key or '}', found 'a'", id="unquoted-key"),
        pytest.param('{"a": NaN}', 1, 7, "expected a value, found 'NaN'", id="nan"),
        pytest.param('{"a": +1}', 1, 7, "expected a value, found '+1'", id="plus"),
        pytest.param('{"a": 0x1F}', 1, 8, "expected ',' or '}' (in the object that starts at line 1), found 'x1F'", id="hex"),
        pytest.param('{"a": 1,,}', 1, 9, "expected a double-quoted key or '}', found ','", id="double-comma"),
        pytest.param('{"a" 1}', 1, 6, "expected ':', found '1'", id="no-colon"),
        pytest.param('{"a": "\t"}', 1, 8, "control character '\\t' in a string (write it escaped, e.g. \\t)", id="tab-in-string"),
        pytest.param('{"a": "\\x41"}', 1, 8, "invalid escape '\\\\x' in a string", id="bad-escape"),
        pytest.param("[1, 2]", 1, 1, "expected '{' (the file must hold one JSON object), found '['", id="top-level-array"),
        pytest.param('{"a": 1}\n{"b": 2}', 2, 1, "expected end of file after the closing '}', found '{'", id="two-documents"),
        pytest.param("\ufeff{}", 1, 1, "unexpected byte-order mark (decode with textfile.decode first)", id="bom"),
    ],
)
def test_errors_name_line_and_column(text: str, line: int, column: int, detail: str) -> None:
    with pytest.raises(jsonc.JSONCError) as info:
        jsonc.parse(text)
    err = info.value
    assert (err.line, err.column, err.detail) == (line, column, detail)
    assert err.message == f"JSONC text: line {line} column {column}: {detail}"
    assert isinstance(err, Refused) and err.hint
    # an edit refuses the same way: nothing is written
    with pytest.raises(jsonc.JSONCError):
        jsonc.set_value(text, ["a"], 1)


def test_error_for_file_names_the_file() -> None:
    with pytest.raises(jsonc.JSONCError) as info:
        jsonc.parse('{\n  "a": 1\n  "b": 2\n}')
    err = info.value.for_file("/home/u/.config/Code/User/settings.json")
    assert err.message.startswith("/home/u/.config/Code/User/settings.json: line 3 column 3: expected")


def test_nesting_limit() -> None:
    deep = "[" * 300 + "]" * 300
    assert jsonc.get_raw('{"a": ' + deep + "}", ["a"]) == deep
    with pytest.raises(jsonc.JSONCError, match="line 1 column 1: nested too deeply"):
        jsonc.parse('{"a": ' + "[" * 5000 + "]" * 5000 + "}")  # too deep for the stdlib decoder too


def test_wrong_shapes_refuse() -> None:
    text = '{"remote.SSH.remotePlatform": "linux", "tasks": {}}'
    with pytest.raises(jsonc.JSONCError, match="'remote.SSH.remotePlatform' is a string, not an object"):
        jsonc.set_value(text, PLATFORM, "linux")
    with pytest.raises(jsonc.JSONCError, match="'tasks' is an object, not an array"):
        jsonc.upsert_array_item(text, ["tasks"], "label", {"label": "x"})
    with pytest.raises(ValueError):
        jsonc.set_value(text, [], 1)


# ---- set_value --------------------------------------------------------------------------------


def test_merge_into_existing_object_after_the_trailing_comment() -> None:
    assert jsonc.set_value(S1, PLATFORM, "linux") == S1.replace(
        '"mac-mini": "macOS", // the mac\n', '"mac-mini": "macOS", // the mac\n        "jsc-booster": "linux",\n'
    )


def test_crlf_tabs_no_trailing_comma_no_final_newline() -> None:
    text = fixture("settings_crlf_tabs.jsonc")
    assert jsonc.set_value(text, PLATFORM, "linux") == (
        '{\r\n\t"editor.tabSize": 4,\r\n\t"workbench.colorTheme": "none", /* last */\r\n'
        '\t"remote.SSH.remotePlatform": {\r\n\t\t"jsc-booster": "linux"\r\n\t}\r\n}'
    )


def test_empty_file_gets_a_new_object() -> None:
    expected = '{\n    "remote.SSH.remotePlatform": {\n        "jsc-booster": "linux"\n    }\n}\n'
    assert jsonc.set_value(fixture("empty.jsonc"), PLATFORM, "linux") == expected


def test_comment_only_file_keeps_its_comments() -> None:
    text = fixture("comment_only.jsonc")
    assert jsonc.set_value(text, ["remote.SSH.connectTimeout"], 60) == text + '{\n    "remote.SSH.connectTimeout": 60\n}\n'
    assert jsonc.set_value("// c", ["a"], 1) == '// c\n{\n    "a": 1\n}\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("{}", '{\n    "a": {\n        "b": 1\n    }\n}', id="empty-inline"),
        pytest.param("{\n}\n", '{\n    "a": {\n        "b": 1\n    }\n}\n', id="empty-lines"),
        pytest.param("// head\n{\n  // inside\n}", '// head\n{\n  // inside\n  "a": {\n    "b": 1\n  }\n}', id="comment-inside"),
        pytest.param('{"x": 1}', '{"x": 1, "a": {"b": 1}}', id="one-line-stays-one-line"),
        pytest.param('{"x": 1,}', '{"x": 1, "a": {"b": 1},}', id="one-line-trailing-comma"),
        pytest.param('{\n  "x": 1}', '{\n  "x": 1,\n  "a": {\n    "b": 1\n  }}', id="brace-after-last"),
        pytest.param('{\n  "x": {}\n}', '{\n  "x": {},\n  "a": {\n    "b": 1\n  }\n}', id="two-space-indent"),
        pytest.param('{\n  "a": {}\n}', '{\n  "a": {\n    "b": 1\n  }\n}', id="expand-empty-parent"),
        pytest.param('{\n  "a": {"c": 2}\n}', '{\n  "a": {"c": 2, "b": 1}\n}', id="one-line-parent"),
    ],
)
def test_layouts(text: str, expected: str) -> None:
    assert jsonc.set_value(text, ["a", "b"], 1) == expected


def test_replace_a_scalar_with_an_object_keeps_the_comment() -> None:
    assert jsonc.set_value('{\n\t"a": 1 // old\n}', ["a"], {"b": 1}) == '{\n\t"a": {\n\t\t"b": 1\n\t} // old\n}'


def test_replace_only_the_value() -> None:
    text = '{\n    "remote.SSH.remotePlatform": {"jsc-booster": "windows" /* wrong */}\n}\n'
    new = jsonc.set_value(text, PLATFORM, "linux")
    assert new == '{\n    "remote.SSH.remotePlatform": {"jsc-booster": "linux" /* wrong */}\n}\n'


def test_identical_value_returns_the_same_text() -> None:
    text = '{"remote.SSH.remotePlatform": {"jsc-booster": "linux"}, "n": [1, {"x": true}]}'
    assert jsonc.set_value(text, PLATFORM, "linux") is text
    assert jsonc.set_value(text, ["n"], [1, {"x": True}]) is text
    assert jsonc.set_value(text, ["n"], [1, {"x": 1}]) != text  # true is not 1


def test_keys_are_escaped() -> None:
    assert jsonc.set_value("{}", ['q"uote', "é"], "\\") == '{\n    "q\\"uote": {\n        "é": "\\\\"\n    }\n}'


def test_bom_is_kept_by_the_caller(tmp_path: Path) -> None:
    data = (DATA / "bom.jsonc").read_bytes()
    doc = textfile.decode(data, tmp_path / "settings.json", allow_bom=True)
    new = doc.encode(jsonc.set_value(doc.text, ["b"], 2))
    assert new == b'\xef\xbb\xbf{\n  "a": 1,\n  "b": 2\n}\n'


# ---- set_raw / delete -------------------------------------------------------------------------


def test_set_raw_restores_exactly() -> None:
    raw = jsonc.get_raw(S1, ["remote.SSH.remotePlatform"])
    assert raw is not None
    changed = jsonc.set_value(S1, ["remote.SSH.remotePlatform"], {"x": "linux"})
    assert jsonc.set_raw(changed, ["remote.SSH.remotePlatform"], raw) == S1
    assert jsonc.set_raw(S1, ["remote.SSH.remotePlatform"], raw) is S1
    assert jsonc.set_raw('{"a": 1}', ["b"], "[1, /* c */ 2]") == '{"a": 1, "b": [1, /* c */ 2]}'


@pytest.mark.parametrize("raw", ["", " 1", "1 ", "1 // c", "{'a': 1}", "1, 2"])
def test_set_raw_wants_exactly_one_value(raw: str) -> None:
    with pytest.raises(jsonc.JSONCError):
        jsonc.set_raw("{}", ["a"], raw)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        pytest.param(S1, ["files.exclude"], S1.replace('    "files.exclude": ["a", "b",],\n', ""), id="middle"),
        pytest.param(S1, ["remote.SSH.remotePlatform", "mac-mini"], S1.replace('        "mac-mini": "macOS", // the mac\n', ""), id="last-with-comment"),
        pytest.param('{\n  "a": 1,\n  "b": 2 // x\n}', ["b"], '{\n  "a": 1\n}', id="last-no-trailing-comma"),
        pytest.param('{\r\n\t"a": 1,\r\n\t"b": 2\r\n}', ["a"], '{\r\n\t"b": 2\r\n}', id="crlf-first"),
        pytest.param('{"a": 1, "b": 2}', ["a"], '{"b": 2}', id="inline-first"),
        pytest.param('{"a": 1, "b": 2}', ["b"], '{"a": 1}', id="inline-last"),
        pytest.param('{"a": 1, "b": 2,}', ["b"], '{"a": 1,}', id="inline-last-trailing-comma"),
        pytest.param('{ "a": 1 }', ["a"], "{}", id="inline-only"),
        pytest.param('{\n  "a": 1\n}', ["a"], "{\n}", id="only-member"),
        pytest.param('{\n  // keep me\n  "a": 1,\n  "b": 2\n}', ["a"], '{\n  // keep me\n  "b": 2\n}', id="comment-above-stays"),
        pytest.param('{"a": 1}', ["zz"], '{"a": 1}', id="missing"),
        pytest.param('{"a": 1}', ["a", "b"], '{"a": 1}', id="through-a-scalar"),
    ],
)
def test_delete(text: str, path: list[str], expected: str) -> None:
    assert jsonc.delete(text, path) == expected


# ---- arrays (tasks.json) ---------------------------------------------------------------------

TASKS = fixture("tasks.jsonc")
TUNNEL = {"label": "jsc-tunnel", "type": "shell", "command": "ssh", "args": ["-N", "jsc"]}


def test_upsert_appends_then_replaces_then_removes() -> None:
    added = jsonc.upsert_array_item(TASKS, ["tasks"], "label", TUNNEL)
    assert added == TASKS.replace(
        "        },\n    ]",
        "        },\n"
        "        {\n"
        '            "label": "jsc-tunnel",\n'
        '            "type": "shell",\n'
        '            "command": "ssh",\n'
        '            "args": [\n'
        '                "-N",\n'
        '                "jsc"\n'
        "            ]\n"
        "        },\n"
        "    ]",
    )
    assert jsonc.upsert_array_item(added, ["tasks"], "label", TUNNEL) is added
    changed = jsonc.upsert_array_item(added, ["tasks"], "label", {**TUNNEL, "command": "ssh -v"})
    assert changed == added.replace('"command": "ssh",', '"command": "ssh -v",')
    assert jsonc.remove_array_item(added, ["tasks"], "label", "jsc-tunnel") == TASKS
    assert jsonc.remove_array_item(TASKS, ["tasks"], "label", "jsc-tunnel") == TASKS
    assert jsonc.remove_array_item(TASKS, ["nothing"], "label", "x") == TASKS


def test_upsert_creates_the_array() -> None:
    assert jsonc.upsert_array_item('{"version": "2.0.0"}', ["tasks"], "label", {"label": "a"}) == (
        '{"version": "2.0.0", "tasks": [{"label": "a"}]}'
    )
    assert jsonc.upsert_array_item('{\n  "tasks": []\n}', ["tasks"], "label", {"label": "a"}) == (
        '{\n  "tasks": [\n    {\n      "label": "a"\n    }\n  ]\n}'
    )


def test_remove_every_match() -> None:
    text = '{"tasks": [{"label": "a"}, 1, {"label": "b"}, {"label": "a", "x": 1}]}'
    assert jsonc.remove_array_item(text, ["tasks"], "label", "a") == '{"tasks": [1, {"label": "b"}]}'


# ---- speed -------------------------------------------------------------------------------------


def big_settings() -> str:
    lines = ["// big settings file", "{"]
    for i in range(2000):
        lines.append(f'    // setting {i}: /* "quoted" */ comment')
        lines.append(f'    "ext{i}.option": {{"enabled": true, "list": [1, 2.5, "x{i}"], "name": "value {i}"}},')
    lines.append('    "remote.SSH.remotePlatform": {"old": "linux"},')
    lines.append("}")
    return "\n".join(lines) + "\n"


def test_editing_200_kb_is_fast() -> None:
    text = big_settings()
    assert len(text) > 190_000
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        new = jsonc.set_value(text, PLATFORM, "linux")
        best = min(best, time.perf_counter() - start)
    assert jsonc.get(new, PLATFORM) == "linux"
    assert best < budget(0.0, 0.1), f"one edit of a 200 KB file took {best * 1000:.0f} ms"


# ---- batches ---------------------------------------------------------------------------------


def test_set_values_adds_new_neighbours_in_one_edit() -> None:
    items = [(["remote.SSH.remotePlatform", "jsc-booster"], "linux"), (["remote.SSH.connectTimeout"], 60), (["x", "y"], [1])]
    one_by_one = S1
    for path, value in items:
        one_by_one = jsonc.set_value(one_by_one, path, value)
    assert jsonc.set_values(S1, items) == one_by_one
    assert one_by_one.endswith(
        '    "remote.SSH.connectTimeout": 60,\n'
        '    "x": {\n'
        '        "y": [\n'
        "            1\n"
        "        ]\n"
        "    },\n"
        "    // a comment before the closing brace\n"
        "}\n"
    )


def test_delete_many_removes_neighbours_and_keeps_comments() -> None:
    text = '{\n  "a": 1,\n  "b": 2,\n  // about c\n  "c": 3,\n  "d": 4\n}\n'
    assert jsonc.delete_many(text, [["b"], ["c"], ["d"], ["nope"], []]) == '{\n  "a": 1\n  // about c\n}\n'
    assert jsonc.delete_many(text, []) == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{\n    "a": 1,\n    "b": 2}\n', id="brace-on-last-members-line"),
        pytest.param('{\n    "a": 1}', id="one-member-no-newline"),
        pytest.param('{\n  "a": {\n    "x": 1}}\n', id="nested-closing-braces"),
        pytest.param('{\n    "a": 1, // c\n    "b": 2 }\n', id="blank-before-brace"),
        pytest.param('{\n "a": 1,\n "b": 2,}', id="trailing-comma-before-brace"),
        pytest.param('{\r\n\t"a": 1,\r\n\t"b": 2}\r\n', id="crlf-tabs"),
    ],
)
def test_add_then_delete_is_byte_exact_when_the_brace_shares_the_last_line(text: str) -> None:
    added = jsonc.set_value(text, ["c"], 3)
    assert jsonc.parse(added) == {**jsonc.parse(text), "c": 3}
    assert jsonc.delete(added, ["c"]) == text
    two = jsonc.set_values(text, [(["c"], 3), (["d", "e"], True)])
    assert jsonc.delete_many(two, [["c"], ["d"]]) == text


def test_array_item_round_trip_when_the_bracket_shares_the_last_line() -> None:
    text = '{"tasks": [\n  {"label": "x"}]}'
    added = jsonc.upsert_array_item(text, ["tasks"], "label", {"label": "y"})
    assert jsonc.parse(added) == {"tasks": [{"label": "x"}, {"label": "y"}]}
    assert jsonc.remove_array_item(added, ["tasks"], "label", "y") == text
