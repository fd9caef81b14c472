"""One owner per concept (issue 10 item 3): each rule lives in one place, and every user of it agrees.

- colour: ``output.use_color`` (no-color.org: NO_COLOR set and not empty);
- line endings: ``textfile.detect_eol``;
- sshsetup's own JSON records: ``state.change`` (manifest, key-line records, named ranges);
- Slurm accounts: ``validate.account``, ASCII only (jobscript, VS Code tasks, init --account).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sshsetup import state, validate
from sshsetup.errors import BadInput
from sshsetup.judoor import records
from sshsetup.judoor.keyline import named_change
from sshsetup.output import DiffFirst, use_color
from sshsetup.slurm.jobscript import check_account
from sshsetup.textfile import TextDoc, detect_eol


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


def test_diff_first_shows_the_diff_once_before_the_question(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []

    def answer(question: str) -> bool:
        seen.append(capsys.readouterr().out + question)
        return False

    ask = DiffFirst("--- a\n+++ a\n", answer)
    assert ask("Replace a?") is False and ask("Replace a?") is False
    assert seen == ["--- a\n+++ a\nReplace a?", "Replace a?"] and ask.shown


@pytest.mark.parametrize(
    ("text", "eol"),
    [
        ("", "\n"),
        ("no newline at all", "\n"),
        ("a\nb\n", "\n"),
        ("a\r\nb\r\n", "\r\n"),
        ("a\r\nb\r\nc\n", "\r\n"),  # most lines decide
        ("a\r\nb\nc\n", "\n"),
        ("a\r\nb\n", "\n"),  # a tie keeps LF
    ],
)
def test_detect_eol(text: str, eol: str) -> None:
    assert detect_eol(text) == eol
    assert TextDoc(text, bom=False).eol == eol


def test_detect_eol_default_only_without_line_endings() -> None:
    assert detect_eol("", "\r\n") == "\r\n"
    assert detect_eol("x", "\r\n") == "\r\n"
    assert detect_eol("x\n", "\r\n") == "\n"


def test_one_layout_for_every_record_file(tmp_path: Path) -> None:
    """Manifest, key-line records and named ranges: sorted, indented, final newline, 0600, no backup."""
    doc = {"version": 1, "b": [1], "a": "x"}
    assert state.dump(doc) == b'{\n  "a": "x",\n  "b": [\n    1\n  ],\n  "version": 1\n}\n'
    ch = state.change(tmp_path / "m.json", doc)
    assert (ch.mode, ch.backup, ch.label) == (0o600, False, "sshsetup state")
    named = named_change(tmp_path / "ranges.json", {"office": ["134.94.0.0/16"], "home": ["93.199.0.0/16"]})
    assert named.new == state.dump({"version": 1, "ranges": {"home": ["93.199.0.0/16"], "office": ["134.94.0.0/16"]}})
    assert (named.mode, named.backup, named.label) == (0o600, False, "named ranges")
    rec = records.KeyLineRecord("jusuf", "jsc-jusuf", "SHA256:x", ("10.0.0.0/8",), "2026-01-01T00:00:00+00:00", "from=...")
    kl = records.updated(tmp_path / "keylines.json", [rec])
    assert kl.new is not None and kl.new == state.dump(json.loads(kl.new))
    assert (kl.mode, kl.backup, kl.label) == (0o600, False, "key-line state")


ACCOUNT_HINT = "give your compute project (budget) as shown in JuDoor: letters, digits, '_' and '-', e.g. training2500"


@pytest.mark.parametrize("value", ["training2500", "my_proj", "cjsc-1", "A" * 64])
def test_account_accepts(value: str) -> None:
    assert validate.account(value) == value
    assert check_account(value) == value  # jobscript and the VS Code tasks use the same rule


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("my_proj;rm", "my_proj;rm"),
        ("projét", "projét"),  # non-ASCII letters: $PROJECT_<account> is an ASCII shell name
        ("проект", "проект"),
        ("a.b", "a.b"),
        ("", "''"),
        ("a b", "'a b'"),
        ("a\n", "'a\\n'"),
        ("A" * 65, "A" * 65),
    ],
)
def test_account_refuses(value: str, shown: str) -> None:
    with pytest.raises(BadInput) as exc:
        validate.account(value)
    assert (exc.value.message, exc.value.hint) == (f"--account {shown} is not a valid Slurm account", ACCOUNT_HINT)


def test_account_names_the_option() -> None:
    with pytest.raises(BadInput, match=r"^account x\.y is not a valid Slurm account$"):
        validate.account("x.y", what="account")
