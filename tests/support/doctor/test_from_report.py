"""``--from-report``: a stranger's file is hostile input. Wrong types, deep nesting, odd files: error + hint; escapes shown escaped."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from sshsetup.errors import BadInput
from sshsetup.support.doctor import from_report
from tests.rendered import rendered

HINT = "it must be a file written by: sshsetup doctor --report FILE (ask for it again)"
CHECK = {"id": "local.ssh", "status": "ok", "summary": "OpenSSH_9.2p1", "hint": None, "details": [], "subject": None}


def report(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"sshsetup": "doctor-report", "version": 2, "created": "2026-11-29T14:30:00+00:00",
                           "sshsetup_version": "0.1.0", "ssh": "OpenSSH_9.2p1", "os": "Linux", "checks": [CHECK], "transcripts": {}}
    doc.update(fields)
    return doc


def refused(tmp_path: Path, content: str | bytes) -> BadInput:
    f = tmp_path / "r.json"
    f.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(BadInput) as e:
        from_report.from_report(f)
    return e.value


def test_a_good_report_prints_as_doctor_would(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text(json.dumps(report()))
    printed = rendered(from_report.from_report(f, ascii_only=True))
    assert printed.rc == 0
    assert printed.out == ("report of 2026-11-29T14:30:00+00:00: sshsetup 0.1.0, OpenSSH_9.2p1, Linux\n"
                           "[ok] local.ssh: OpenSSH_9.2p1\n0 failed, 0 warnings, 1 ok, 0 skipped\n")


@pytest.mark.parametrize(("fields", "where"), [
    pytest.param({"checks": {"a": 1}}, "checks must be a list", id="checks-object"),
    pytest.param({"checks": ["x"]}, "checks[0] must be an object", id="check-string"),
    pytest.param({"checks": [CHECK, {**CHECK, "status": 5}]}, "checks[1].status must be one of ok, warn, fail, skip", id="status-int"),
    pytest.param({"checks": [{**CHECK, "status": "broken"}]}, "checks[0].status must be one of ok, warn, fail, skip", id="status-unknown"),
    pytest.param({"checks": [{**CHECK, "id": None}]}, "checks[0].id must be a string", id="id-null"),
    pytest.param({"checks": [{**CHECK, "summary": ["a"]}]}, "checks[0].summary must be a string", id="summary-list"),
    pytest.param({"checks": [{**CHECK, "hint": 3}]}, "checks[0].hint must be a string or null", id="hint-int"),
    pytest.param({"checks": [{**CHECK, "details": "abc"}]}, "checks[0].details must be a list of strings", id="details-string"),
    pytest.param({"checks": [{**CHECK, "details": [1]}]}, "checks[0].details must be a list of strings", id="details-int"),
    pytest.param({"checks": [{**CHECK, "subject": {}}]}, "checks[0].subject must be a string or null", id="subject-object"),
    pytest.param({"transcripts": ["x"]}, "transcripts must be an object of strings", id="transcripts-list"),
    pytest.param({"transcripts": {"a": 1}}, "transcripts must be an object of strings", id="transcript-int"),
    pytest.param({"created": 1}, "created must be a string", id="created-int"),
])
def test_wrong_types_are_named(tmp_path: Path, fields: dict[str, Any], where: str) -> None:
    e = refused(tmp_path, json.dumps(report(**fields)))
    assert (e.message, e.hint) == (f"{tmp_path}/r.json is not a valid sshsetup report: {where}", HINT)


@pytest.mark.parametrize(("content", "message"), [
    pytest.param("[" * 100_000 + "]" * 100_000, "is nested too deeply to be an sshsetup report", id="deep-list"),
    pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, "is nested too deeply to be an sshsetup report", id="deep-object"),
    pytest.param(b"\xff\xfe{}", "is not UTF-8 text: not an sshsetup report", id="not-utf8"),
    pytest.param("{nope", "is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)): "
                 "not an sshsetup report", id="not-json"),
    pytest.param('{"sshsetup": "doctor", "version": 1, "checks": []}',
                 "is not an sshsetup report (not an sshsetup doctor-report document)", id="other-envelope"),
    pytest.param('{"sshsetup": "doctor-report", "version": 9, "checks": []}',
                 "is not an sshsetup report (unsupported doctor-report document version 9)", id="newer-version"),
    pytest.param('{"sshsetup_report": 7, "checks": []}', "is an sshsetup report of an unknown version", id="legacy-unknown"),
    pytest.param("[1, 2]", "is not an sshsetup report (not an sshsetup doctor-report document)", id="a-list"),
])
def test_what_is_not_a_report(tmp_path: Path, content: str | bytes, message: str) -> None:
    e = refused(tmp_path, content)
    assert e.message == f"{tmp_path}/r.json {message}"
    assert e.hint in (HINT, "read it with a newer sshsetup")


def test_odd_files_never_hang_or_fill_memory(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(BadInput, match="fifo is not a regular file"):
        from_report.from_report(tmp_path / "fifo")
    with pytest.raises(BadInput, match="is not a regular file"):
        from_report.from_report(tmp_path)
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(from_report.MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(BadInput, match="is larger than 4 MiB: not an sshsetup report"):
        from_report.from_report(big)


def test_version_1_reports_are_still_read(tmp_path: Path) -> None:
    f = tmp_path / "r.json"
    f.write_text(json.dumps({"sshsetup_report": 1, "created": "c", "sshsetup": "0.0.9", "ssh": "s", "os": "o", "checks": [CHECK]}))
    printed = rendered(from_report.from_report(f, ascii_only=True))
    assert printed.rc == 0
    assert printed.out.splitlines()[0] == "report of c: sshsetup 0.0.9, s, o"


def test_every_string_of_a_report_is_shown_escaped(tmp_path: Path) -> None:
    esc = "\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2J\r\u202e\x9b"
    shown = "\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\x1b[2J\\x0d\\u202e\\x9b"
    doc = report(created=esc, sshsetup_version=esc, ssh=esc, os=esc,
                 checks=[{"id": "x" + esc, "status": "fail", "summary": esc, "hint": esc, "details": [esc], "subject": esc}],
                 transcripts={"h" + esc: "Permission denied (publickey)." + esc})
    f = tmp_path / "r.json"
    f.write_text(json.dumps(doc))
    printed = rendered(from_report.from_report(f, ascii_only=True))
    assert printed.rc == 1
    text = printed.out
    assert not any(c in text for c in "\x1b\x07\r\u202e\x9b")
    assert text.splitlines()[:4] == [
        f"report of {shown}: sshsetup {shown}, {shown}, {shown}",
        f"[XX] x{shown} ({shown}): {shown}",
        f"    hint: {shown}",
        "1 failed, 0 warnings, 0 ok, 0 skipped",
    ]
    assert text.splitlines()[4] == f"transcript (h{shown}), analysed again:"


def test_a_hostile_transcript_is_analysed_in_bounded_time(tmp_path: Path) -> None:
    """sshlog's patterns are fine for real logs; 4 MiB of 'Load key ' on one line took minutes before the bound."""
    import time

    f = tmp_path / "r.json"
    f.write_text(json.dumps(report(transcripts={f"h{i}": "Load key " * 10_000 for i in range(40)})))
    t0 = time.monotonic()
    printed = rendered(from_report.from_report(f, ascii_only=True))
    assert printed.rc == 0
    assert time.monotonic() - t0 < 20
    assert "transcript (h0), analysed again (its first 200 lines, 1000 characters each):\n  no known cause found\n" in printed.out
