"""The record of accepted keys: kept in the login records (ssh/master.py's file) beside theirs, read tolerantly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sshsetup.commands import wait
from sshsetup.paths import Paths
from sshsetup.ssh import master
from sshsetup.support.doctor import checks_auth, logins


def test_record_keeps_the_login_records_and_is_0600(fake_home: Path) -> None:
    paths = Paths.from_env()
    doc = {"masters": {"jusuf": {"alias": "jsc-jusuf", "opened": 1.0}}, "second_factor": {"jureca": {"how": "x"}}}
    master.save(paths, dict(doc))
    logins.record(paths, ["jusuf", "tb"], 1000.0)
    logins.record(paths, ["tb"], 2000.4567)
    assert (logins.last_accepted(paths, "jusuf"), logins.last_accepted(paths, "tb"), logins.last_accepted(paths, "x")) == (1000.0, 2000.457, None)
    saved = json.loads(master.records_path(paths).read_text())
    assert saved == {**doc, "keys_accepted": {"jusuf": 1000.0, "tb": 2000.457}, "version": master.VERSION}
    assert master.records_path(paths).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["", "[", "[1]", '{"keys_accepted": []}', '{"keys_accepted": {"tb": "x"}}',
                                     '{"keys_accepted": {"tb": true}}', "[" * 100_000])
def test_a_damaged_record_reads_as_none(fake_home: Path, content: str) -> None:
    paths = Paths.from_env()
    master.records_path(paths).parent.mkdir(parents=True)
    master.records_path(paths).write_text(content)
    assert logins.last_accepted(paths, "tb") is None


def test_a_fifo_is_not_read(fake_home: Path) -> None:
    paths = Paths.from_env()
    master.records_path(paths).parent.mkdir(parents=True)
    os.mkfifo(master.records_path(paths))
    assert logins.last_accepted(paths, "tb") is None


def test_doctor_and_wait_mean_the_same_by_the_key_works() -> None:
    """Issue 18 item 3: one meaning of "works" (the server accepts the key; a terminal or the agent logs in)."""
    assert set(checks_auth.WORKS) == wait.WORKS
