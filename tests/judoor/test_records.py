"""sshsetup.judoor.records: key-line's records per site, and when they change."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from sshsetup.files import FileChange
from sshsetup.judoor import records
from sshsetup.judoor.records import KeyLineRecord

LINE = 'from="10.0.0.0/8" ssh-ed25519 AAAA x@y'


def rec(site: str = "jusuf", ranges: tuple[str, ...] = ("10.0.0.0/8",), generated: str = "2026-11-29T14:30:00+00:00") -> KeyLineRecord:
    return KeyLineRecord(site, f"jsc-{site}", "SHA256:abc", ranges, generated, LINE)


def write(path: Path, change: FileChange) -> None:
    assert change.new is not None
    path.write_bytes(change.new)


def test_load_missing_or_damaged_is_empty(tmp_path: Path) -> None:
    p = tmp_path / "keylines.json"
    assert records.load(p) == {}
    for junk in ("{", "[]", '{"version": 1}', '{"records": {"x": {"site": "x"}}}', '{"records": {"x": 1}}'):
        p.write_text(junk)
        assert records.load(p) == {}, junk


def test_updated_writes_the_documented_json(tmp_path: Path) -> None:
    p = tmp_path / "keylines.json"
    ch = records.updated(p, [rec()])
    assert (ch.path, ch.mode, ch.label, ch.backup) == (p, 0o600, "key-line state", False)
    assert ch.new is not None and json.loads(ch.new) == {"version": 1, "records": {"jusuf": {
        "site": "jusuf", "alias": "jsc-jusuf", "fingerprint": "SHA256:abc", "ranges": ["10.0.0.0/8"],
        "generated": "2026-11-29T14:30:00+00:00", "line": LINE}}}
    assert ch.new.endswith(b"}\n")
    write(p, ch)
    assert records.load(p) == {"jusuf": rec()}


def test_an_unchanged_record_keeps_its_date_a_changed_one_is_replaced(tmp_path: Path) -> None:
    p = tmp_path / "keylines.json"
    write(p, records.updated(p, [rec(), rec("judac")]))
    later = "2026-12-01T08:00:00+00:00"
    same = records.updated(p, [rec(generated=later)])
    assert same.new == p.read_bytes()  # same key, ranges and line: the file stays as it is
    write(p, records.updated(p, [rec(ranges=("10.0.0.0/16",), generated=later)]))
    assert records.load(p) == {"judac": rec("judac"), "jusuf": rec(ranges=("10.0.0.0/16",), generated=later)}


def test_age_and_now() -> None:
    r = rec()
    assert r.generated_at() == dt.datetime(2026, 11, 29, 14, 30, tzinfo=dt.timezone.utc)
    assert r.age_seconds(dt.datetime(2026, 11, 29, 15, 30, 30, tzinfo=dt.timezone.utc)) == 3630.0
    now = records.now_iso()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", now), now
    assert 0 <= KeyLineRecord("s", "a", "f", (), now, "l").age_seconds() < 60
