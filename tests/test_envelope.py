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
