"""``sshsetup explain``: a test per cause on the recorded transcripts, both outputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sshsetup.commands.explain import explain
from sshsetup.errors import BadInput
from sshsetup.support import sshlog
from tests.support.test_sshlog import DATA, EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_json_per_transcript(name: str) -> None:
    out = io.StringIO()
    assert explain(DATA / f"{name}.log", json_out=True, out=out) == 0
    doc = json.loads(out.getvalue())
    assert doc["version"] == 1
    assert [c["cause"] for c in doc["causes"]] == EXPECTED[name]
    assert all(c["hint"] == sshlog.CAUSES[c["cause"]].hint or c["cause"] == "publickey-refused" for c in doc["causes"])


def test_human_output_exact() -> None:
    out = io.StringIO()
    explain(DATA / "too-many-failures.log", out=out)
    c = sshlog.CAUSES["too-many-failures"]
    assert out.getvalue() == f"too-many-failures: {c.title}\n    line 50\n    hint: {c.hint}\n"


def test_human_output_two_causes() -> None:
    out = io.StringIO()
    explain(DATA / "hostkey-changed.log", out=out)
    c = sshlog.CAUSES["hostkey-changed"]
    assert out.getvalue() == f"hostkey-changed: {c.title}\n    lines 22, 34\n    hint: {c.hint}\n"


def test_stdin_and_utf16(tmp_path: Path) -> None:
    raw = (DATA / "partial-success-2fa.log").read_text()
    out = io.StringIO()
    explain("-", json_out=True, stdin=io.BytesIO(raw.encode("utf-16")), out=out)  # PowerShell's 2> file
    assert [c["cause"] for c in json.loads(out.getvalue())["causes"]] == ["partial-success-2fa"]
    f = tmp_path / "log.txt"
    f.write_bytes(b"\xef\xbb\xbf" + raw.encode())
    out = io.StringIO()
    explain(f, out=out)
    assert out.getvalue().startswith("partial-success-2fa: ")


def test_nothing_found(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_text("just\ntext\n")
    out = io.StringIO()
    assert explain(f, out=out) == 0
    assert out.getvalue() == (
        "no known cause found in 2 lines\n"
        "    hint: paste the whole output of: ssh -v ALIAS true (or Remote-SSH: Show Log), or run: sshsetup doctor\n"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as e:
        explain(tmp_path / "nope.log")
    assert e.value.message == f"{tmp_path / 'nope.log'} does not exist"
