"""The README promises what the code does: keep the two in step."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_bad_input import CASES

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quickstart_is_two_commands_and_ci_runs_the_test_command() -> None:
    block = re.search(r"## Quickstart\n\n```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) == 2
    assert lines[0].startswith("python3 -m pip install . && sshsetup init")
    assert lines[1].startswith("bash .ci/run")


def test_every_refusal_is_listed() -> None:
    listed = set(re.findall(r"^\| ([a-z0-9-]+) \| `", README, re.M))
    assert set(CASES) <= listed


def test_exit_codes_are_documented() -> None:
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert code in README
