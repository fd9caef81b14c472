"""Edges of the managed block that the mutation run (python -m tests.mutation) found unchecked."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.errors import Refused
from sshsetup.ssh.block import HostEntry, find_block, remembered_options, remove, render_block, upsert

P = Path("/x/config")
ENTRY = [HostEntry("jsc-booster", (("HostName", "juwels-booster.fz-juelich.de"),), comment="JUWELS Booster")]
OPTS = {"sites": ["juwels-booster"]}
HEAD = "# BEGIN sshsetup (managed block: change it with 'sshsetup init', delete it with 'sshsetup remove')\n"


RESTORE = "\n# end of sshsetup's hosts: the lines below apply to every host again\nHost *\n"


def block(options: str = '{"sites":["juwels-booster"]}') -> str:
    return (f"{HEAD}# sshsetup-options: {options}\n# JUWELS Booster\nHost jsc-booster\n    HostName juwels-booster.fz-juelich.de\n"
            f"{RESTORE}# END sshsetup\n")


def test_two_entries_are_separated_by_one_blank_line() -> None:
    two = [HostEntry("a", (("User", "x"),)), HostEntry("b", (("User", "y"), ("Port", "2222")), comment="B")]
    assert render_block(two, {}, "\r\n") == (
        HEAD.replace("\n", "\r\n") + "# sshsetup-options: {}\r\nHost a\r\n    User x\r\n\r\n# B\r\nHost b\r\n    User y\r\n"
        "    Port 2222\r\n" + RESTORE.replace("\n", "\r\n") + "# END sshsetup\r\n"
    )


def test_remove_without_a_block_returns_the_text() -> None:
    assert remove("Host a\n", P) == "Host a\n"
    assert remove("", P) == ""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("# BEGIN sshsetup\n# BEGIN sshsetup\n# END sshsetup\n", "line 1, line 2, line 3", id="two-begins"),
        pytest.param("# BEGIN sshsetup\n# END sshsetup\n# END sshsetup\n", "line 1, line 2, line 3", id="two-ends"),
    ],
)
def test_one_marker_too_many_is_refused(text: str, where: str) -> None:
    with pytest.raises(Refused) as exc:
        find_block(text, P)
    assert (exc.value.message, exc.value.hint) == (
        f"{P} has more than one sshsetup block ({where})",
        f"fix or delete the sshsetup marker lines in {P} by hand ({where}), then run sshsetup again",
    )


def test_line_numbers_count_a_leading_empty_line() -> None:
    with pytest.raises(Refused) as exc:
        find_block("\n# BEGIN sshsetup\n", P)
    assert exc.value.message == f"{P}: the sshsetup block starting at line 2 is not closed"


def test_a_created_config_stays_created_and_is_not_a_remembered_option() -> None:
    text = block('{"created":true,"sites":["juwels-booster"]}')
    new = upsert(text, ENTRY, {"sites": ["jusuf"]}, "\n", P)
    found = find_block(new, P)
    assert found is not None and found.options == {"created": True, "sites": ["jusuf"]}
    assert remembered_options(new, P) == {"sites": ["jusuf"]}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # the block is read first (byte 0) and ends with "Host *": the user's lines keep their meaning below it
        pytest.param("\n# a\n# b\nHost x\n", block() + "\n# a\n# b\nHost x\n", id="comments-after-a-leading-empty-line"),
        pytest.param("# c\n\nHost x\n", block() + "# c\n\nHost x\n", id="a-blank-line-ends-the-comments-of-the-host"),
    ],
)
def test_where_the_block_goes(before: str, after: str) -> None:
    assert upsert(before, ENTRY, OPTS, "\n", P) == after
    assert remove(after, P) == before


def test_crlf_without_a_final_newline_comes_back_as_it_was() -> None:
    before = "Port 22\r\nUser x"
    after = upsert(before, ENTRY, OPTS, "\r\n", P)
    assert after == block().replace("\n", "\r\n") + before
    assert remove(after, P) == before


def test_a_last_line_ending_in_a_bare_cr() -> None:
    """Once a bug (the block went after 'Port 2222\\r' on the same line); with the block at byte 0 the user's bytes follow it."""
    before = "Port 22\r"
    after = upsert(before, ENTRY, OPTS, "\n", P)
    assert after == block() + before
    assert find_block(after, P) is not None
    assert remove(after, P) == before
