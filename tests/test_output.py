from __future__ import annotations

import io
from pathlib import Path

import pytest

from sshsetup.files import Outcome, Verb
from sshsetup.output import outcome_line, use_color


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("env", "stream", "expected"),
    [
        ({}, Tty(), True),
        ({"NO_COLOR": "1"}, Tty(), False),
        ({"NO_COLOR": "0"}, Tty(), False),  # any non-empty value, "0" too
        ({"NO_COLOR": ""}, Tty(), True),  # no-color.org: "when present and not an empty string"
        ({"TERM": "dumb"}, Tty(), False),
        ({"TERM": "xterm-256color"}, Tty(), True),
        ({}, io.StringIO(), False),  # not a terminal
        ({}, object(), False),  # no isatty at all
    ],
)
def test_the_one_colour_policy(env: dict[str, str], stream: object, expected: bool) -> None:
    assert use_color(stream, env) is expected


def test_outcome_lines() -> None:
    assert outcome_line(Outcome(Path("/a"), Verb.CREATE), dry_run=False) == "  create           /a"
    assert outcome_line(Outcome(Path("/a"), Verb.UPDATE, Path("/a.bak")), dry_run=True) == "  would update     /a  (backup: a.bak)"
    assert outcome_line(Outcome(Path("/a"), Verb.IDENTICAL), dry_run=True) == "  identical        /a"
    assert outcome_line(Outcome(Path("/a"), Verb.REFUSE, reason="not ours"), dry_run=False) == "  refuse           /a  (not ours)"
