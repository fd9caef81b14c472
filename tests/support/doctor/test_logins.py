"""The record of accepted logins: tolerant reading, one writer, the time as a person reads it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from sshsetup import files
from sshsetup.commands import wait
from sshsetup.paths import Paths
from sshsetup.support.doctor import checks_auth, logins

T1 = dt.datetime(2026, 12, 1, 13, 2, 11, tzinfo=dt.timezone.utc)


def test_recorded_keeps_the_other_hosts_and_is_0600(fake_home: Path) -> None:
    paths = Paths.from_env()
    files.apply(files.plan([logins.recorded(paths, ["a", "b"], T1)]), dry_run=False)
    later = T1 + dt.timedelta(hours=1)
    files.apply(files.plan([logins.recorded(paths, ["b"], later)]), dry_run=False)
    assert logins.load(paths) == {"a": T1, "b": later}
    assert logins.path(paths).read_text() == (
        '{\n  "accepted": {\n    "a": "2026-12-01T13:02:11+00:00",\n    "b": "2026-12-01T14:02:11+00:00"\n  },\n  "version": 1\n}\n')
    assert logins.path(paths).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["", "[", "[1]", '{"accepted": []}', '{"accepted": {"a": 5, "b": "x", "c": "2026-12-01T13:02:11"}}',
                                     "[" * 100_000])
def test_a_damaged_record_reads_as_empty(fake_home: Path, content: str) -> None:
    paths = Paths.from_env()
    logins.path(paths).parent.mkdir(parents=True)
    logins.path(paths).write_text(content)
    assert logins.load(paths) == {}


def test_a_fifo_is_not_read(fake_home: Path) -> None:
    paths = Paths.from_env()
    logins.path(paths).parent.mkdir(parents=True)
    os.mkfifo(logins.path(paths))
    assert logins.load(paths) == {}


def test_when_text() -> None:
    local = T1.astimezone()
    assert logins.when_text(T1, now=T1 + dt.timedelta(minutes=5)) == local.strftime("%H:%M")
    assert logins.when_text(T1, now=T1 + dt.timedelta(days=3)) == local.strftime("%Y-%m-%d %H:%M")


def test_doctor_and_wait_mean_the_same_by_the_key_works() -> None:
    """Issue 18 item 3: one meaning of "works" (the server accepts the key; a terminal or the agent logs in)."""
    assert set(checks_auth.WORKS) == wait.WORKS
