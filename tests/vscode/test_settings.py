from __future__ import annotations

import json
from pathlib import Path

import pytest

from sshsetup.errors import BadInput, Refused
from sshsetup.vscode.jsonc import editor as jsonc
from sshsetup.vscode.settings import (
    Change,
    Desired,
    Difference,
    SettingsRecord,
    apply_settings,
    check_settings,
    merge_records,
    revert_settings,
)

DATA = Path(__file__).parents[1] / "data" / "jsonc"
ONE = Desired(("jsc-booster",))

EXISTING = """\
// my settings
{
    "editor.fontSize": 14,
    "remote.SSH.remotePlatform": {
        "old-box": "linux", // keep me
        "mac-mini": "macOS"
    },
    "remote.SSH.connectTimeout": 15 /* slow vpn */
}
"""

EXISTING_AFTER = """\
// my settings
{
    "editor.fontSize": 14,
    "remote.SSH.remotePlatform": {
        "old-box": "linux", // keep me
        "mac-mini": "macOS",
        "jsc-booster": "linux"
    },
    "remote.SSH.connectTimeout": 60, /* slow vpn */
    "remote.SSH.showLoginTerminal": true,
    "remote.SSH.lockfilesInTmp": true,
    "remote.SSH.useFlock": false,
    "remote.SSH.maxReconnectionAttempts": 3
}
"""


def test_apply_merges_and_records() -> None:
    new, record = apply_settings(EXISTING, ONE)
    assert new == EXISTING_AFTER
    assert record == SettingsRecord(
        (
            Change(("remote.SSH.remotePlatform", "jsc-booster"), None, '"linux"'),
            Change(("remote.SSH.connectTimeout",), "15", "60"),
            Change(("remote.SSH.showLoginTerminal",), None, "true"),
            Change(("remote.SSH.lockfilesInTmp",), None, "true"),
            Change(("remote.SSH.useFlock",), None, "false"),
            Change(("remote.SSH.maxReconnectionAttempts",), None, "3"),
        )
    )
    assert revert_settings(new, record) == (EXISTING, [])


def test_empty_file() -> None:
    desired = Desired(("jsc-booster", "jsc-jureca"), {"jsc-booster": "/p/project1/proj/jane/vscode", "jsc-jureca": None})
    new, record = apply_settings("", desired)
    assert new == """\
{
    "remote.SSH.remotePlatform": {
        "jsc-booster": "linux",
        "jsc-jureca": "linux"
    },
    "remote.SSH.connectTimeout": 60,
    "remote.SSH.showLoginTerminal": true,
    "remote.SSH.lockfilesInTmp": true,
    "remote.SSH.useFlock": false,
    "remote.SSH.maxReconnectionAttempts": 3,
    "remote.SSH.serverInstallPath": {
        "jsc-booster": "/p/project1/proj/jane/vscode"
    }
}
"""
    assert record.original == ""
    assert record.changes[:2] == (
        Change(("remote.SSH.remotePlatform",), None, None),
        Change(("remote.SSH.serverInstallPath",), None, None),
    )
    assert revert_settings(new, record) == ("", [])


@pytest.mark.parametrize(
    "name", ["settings_comments.jsonc", "settings_crlf_tabs.jsonc", "empty.jsonc", "comment_only.jsonc", "tasks.jsonc"]
)
@pytest.mark.parametrize("windows", [False, True])
def test_round_trip_on_fixtures(name: str, windows: bool) -> None:
    original = (DATA / name).read_bytes().decode()
    desired = Desired(("jsc-booster", "old-box"), {"old-box": "/p/x"}, windows_client=windows)
    new, record = apply_settings(original, desired)
    assert check_settings(new, desired) == []
    assert apply_settings(new, desired)[0] == new  # idempotent
    restored = SettingsRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert revert_settings(new, restored) == (original, [])


@pytest.mark.parametrize("text", ["{}", "{ }", "{\n}\n", '{"remote.SSH.remotePlatform": {}}', "// c\n{\n  // inside\n}"])
def test_round_trip_on_empty_objects(text: str) -> None:
    new, record = apply_settings(text, ONE)
    assert revert_settings(new, record) == (text, [])


def test_windows_client_pins_use_local_server() -> None:
    new, _ = apply_settings("{}", Desired(("h",), windows_client=True))
    assert jsonc.get(new, ["remote.SSH.useLocalServer"]) is False
    assert jsonc.get(apply_settings("{}", ONE)[0], ["remote.SSH.useLocalServer"]) is jsonc.MISSING


def test_revert_leaves_what_the_user_changed() -> None:
    new, record = apply_settings(EXISTING, ONE)
    edited = jsonc.set_value(new, ["remote.SSH.connectTimeout"], 120)
    edited = jsonc.set_value(edited, ["remote.SSH.remotePlatform", "jsc-booster"], "windows")
    edited = jsonc.delete(edited, ["remote.SSH.useFlock"])
    text, notes = revert_settings(edited, record)
    assert notes == [
        "left remote.SSH.connectTimeout as it is: it was changed after sshsetup set it",
        "left remote.SSH.remotePlatform.jsc-booster as it is: it was changed after sshsetup set it",
    ]
    assert jsonc.parse(text) == {
        "editor.fontSize": 14,
        "remote.SSH.remotePlatform": {"old-box": "linux", "mac-mini": "macOS", "jsc-booster": "windows"},
        "remote.SSH.connectTimeout": 120,
    }


def test_revert_keeps_a_created_document_the_user_commented() -> None:
    new, record = apply_settings("", ONE)
    new = new.replace("{\n", "{\n    // mine\n", 1)
    assert revert_settings(new, record) == ("{\n    // mine\n}\n", [])


def test_revert_keeps_a_created_map_that_gained_other_hosts() -> None:
    new, record = apply_settings("{}", ONE)
    new = jsonc.set_value(new, ["remote.SSH.remotePlatform", "other"], "linux")
    text, notes = revert_settings(new, record)
    assert notes == []
    assert jsonc.parse(text) == {"remote.SSH.remotePlatform": {"other": "linux"}}


def test_user_value_equal_to_ours_survives_revert() -> None:
    text = '{\n  "remote.SSH.useFlock": false\n}\n'
    new, record = apply_settings(text, ONE)
    assert Change(("remote.SSH.useFlock",), "false", "false") in record.changes
    assert revert_settings(new, record) == (text, [])


def test_merge_records_keeps_the_first_old_value() -> None:
    first_text, first = apply_settings(EXISTING, ONE)
    both = Desired(("jsc-booster", "jsc-jureca"))
    second_text, second = apply_settings(first_text, both)
    merged = merge_records(first, second)
    assert merged.changes[0] == Change(("remote.SSH.remotePlatform", "jsc-booster"), None, '"linux"')
    assert Change(("remote.SSH.connectTimeout",), "15", "60") in merged.changes
    assert Change(("remote.SSH.remotePlatform", "jsc-jureca"), None, '"linux"') in merged.changes
    assert revert_settings(second_text, merged) == (EXISTING, [])


def test_merge_records_keeps_the_first_original() -> None:
    text1, rec1 = apply_settings("", ONE)
    text2, rec2 = apply_settings(text1, Desired(("a",)))
    merged = merge_records(rec1, rec2)
    assert merged.original == ""
    assert merged.changes[0] == Change(("remote.SSH.remotePlatform",), None, None)
    assert revert_settings(text2, merged) == ("", [])


def test_wrong_shape_refuses() -> None:
    with pytest.raises(jsonc.JSONCError, match="'remote.SSH.remotePlatform' is a string, not an object"):
        apply_settings('{"remote.SSH.remotePlatform": "linux"}', ONE)


def test_broken_file_refuses() -> None:
    with pytest.raises(jsonc.JSONCError, match="line 1 column 9: expected .,. or .}."):
        apply_settings('{"a": 1 "b": 2}', ONE)


@pytest.mark.parametrize(
    "desired",
    [
        Desired(("has space",)),
        Desired(("",)),
        Desired(("a",), {"b": "/p"}),
        Desired(("a",), {"a": "relative/dir"}),
        Desired(("a",), {"a": "$PROJECT/vscode"}),
        Desired(("a",), {"a": "~/vscode"}),
    ],
)
def test_bad_input(desired: Desired) -> None:
    with pytest.raises(BadInput):
        apply_settings("{}", desired)


def test_check_settings_lists_differences() -> None:
    diffs = check_settings(EXISTING, ONE)
    assert [d.describe() for d in diffs] == [
        'remote.SSH.remotePlatform.jsc-booster is not set (want "linux")',
        "remote.SSH.connectTimeout is 15 (want 60)",
        "remote.SSH.showLoginTerminal is not set (want true)",
        "remote.SSH.lockfilesInTmp is not set (want true)",
        "remote.SSH.useFlock is not set (want false)",
        "remote.SSH.maxReconnectionAttempts is not set (want 3)",
    ]
    assert diffs[1] == Difference(("remote.SSH.connectTimeout",), 60, 15)
    assert check_settings(EXISTING_AFTER, ONE) == []
    assert [d.describe() for d in check_settings('{"remote.SSH.useFlock": 0}', ONE)][4] == (
        "remote.SSH.useFlock is 0 (want false)"
    )


def test_existing_per_alias_maps() -> None:
    assert sorted(jsonc.get(EXISTING, ["remote.SSH.remotePlatform"])) == ["mac-mini", "old-box"]
    assert jsonc.get(EXISTING, ["remote.SSH.serverInstallPath"]) is jsonc.MISSING


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"version": 2, "original": None, "changes": []},
        {"version": 1, "original": 3, "changes": []},
        {"version": 1, "original": None, "changes": [{"path": [], "old": None, "new": None}]},
        {"version": 1, "original": None, "changes": [{"path": ["a"], "old": 1, "new": None}]},
        {"version": 1, "original": None, "changes": [{"path": "a"}]},
        [],
    ],
)
def test_damaged_record_refuses(data: object) -> None:
    with pytest.raises(Refused, match="record of the VS Code settings"):
        SettingsRecord.from_json(data)
