from __future__ import annotations

import json

import pytest

from sshsetup import envelope


def test_dumps_is_sorted_indented_and_tagged():
    text = envelope.dumps("sites", 2, {"b": 1, "a": "ü"})
    assert text == '{\n  "a": "ü",\n  "b": 1,\n  "sshsetup": "sites",\n  "version": 2\n}\n'


def test_control_characters_are_escaped_by_json():
    assert "\\u001b]52;c;" in envelope.dumps("explain", 1, {"line": "\x1b]52;c;AAAA\x07"})


def test_payload_may_not_override_the_tag():
    with pytest.raises(ValueError, match="may not set"):
        envelope.document("doctor", 1, {"version": 9})


def test_parse_round_trip_and_refusals():
    assert envelope.parse(envelope.dumps("doctor", 1, {"x": 1}), "doctor", 1)["x"] == 1
    with pytest.raises(ValueError, match="not an sshsetup doctor document"):
        envelope.parse(json.dumps({"sshsetup": "sites", "version": 1}), "doctor", 1)
    with pytest.raises(ValueError, match="unsupported doctor document version 2"):
        envelope.parse(envelope.dumps("doctor", 2, {}), "doctor", 1)
    with pytest.raises(ValueError, match="version True"):
        envelope.parse(json.dumps({"sshsetup": "doctor", "version": True}), "doctor", 1)


def test_terminal_unsafe_characters_are_escaped_but_letters_kept() -> None:
    from sshsetup.envelope import dumps, parse

    hostile = "J\u00fclich \x1b]52;c;x\x07 \x9b31m \u202egnp.exe \u200b\u2028 \ufeff \x7f"
    text = dumps("explain", 1, {"line": hostile})
    assert '"line": "J\u00fclich \\u001b]52;c;x\\u0007 \\u009b31m \\u202egnp.exe \\u200b\\u2028 \\ufeff \\u007f"' in text
    assert not any(c in text for c in "\x1b\x07\x9b\u202e\u200b\u2028\ufeff\x7f")
    assert parse(text, "explain", 1)["line"] == hostile
