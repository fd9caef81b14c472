"""sshsetup.output: the outcome lines users read, prose on stderr, diffs on stdout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sshsetup import output
from sshsetup.files import Outcome, Verb

P = Path("/home/u/.ssh/config")


@pytest.mark.parametrize(
    ("outcome", "dry_run", "line"),
    [
        (Outcome(P, Verb.CREATE), False, "  create           /home/u/.ssh/config"),
        (Outcome(P, Verb.CREATE), True, "  would create     /home/u/.ssh/config"),
        (Outcome(P, Verb.UPDATE, backup=P.with_name("config.sshsetup-backup-S")), True,
         "  would update     /home/u/.ssh/config  (backup: config.sshsetup-backup-S)"),
        (Outcome(P, Verb.DELETE), True, "  would delete     /home/u/.ssh/config"),
        (Outcome(P, Verb.IDENTICAL), True, "  identical        /home/u/.ssh/config"),
        (Outcome(P, Verb.REFUSE, reason="not ours"), False, "  refuse           /home/u/.ssh/config  (not ours)"),
    ],
)
def test_outcome_line(outcome: Outcome, dry_run: bool, line: str) -> None:
    assert output.outcome_line(outcome, dry_run) == line


def test_say_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    output.say("hello")
    output.say()
    assert capsys.readouterr() == ("", "hello\n\n")


def test_diff_to_stdout_as_is_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_diff("--- a\n+++ a\n@@ -1 +1 @@\n-x\n+y\n")
    output.print_diff("")
    assert capsys.readouterr() == ("--- a\n+++ a\n@@ -1 +1 @@\n-x\n+y\n", "")


def test_no_colour_without_a_terminal() -> None:
    assert output.use_color(io.StringIO()) is False
