"""The master's pure policy and records, and the stale-socket check on real Unix sockets."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sshsetup.catalogue import Fact, Site, parse_sites
from sshsetup.errors import BadInput
from sshsetup.ssh import master


def site(sid: str, two_factor: str | None = None, **extra: str) -> Site:
    facts = {"hostname": Fact("h.example.org", "test", "high"), **{k: Fact(v, "test", "high") for k, v in extra.items()}}
    if two_factor is not None:
        facts["two_factor"] = Fact(two_factor, "a public user report", "medium")
    return Site(sid, facts)


@pytest.mark.parametrize(("text", "seconds"), [("8h", 28800), ("90m", 5400), ("1h30m", 5400), ("2d", 172800),
                                                ("45", 2700), ("600s", 600)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert master.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "8x", "h", "30s", "8d", "-1h"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(BadInput) as info:
        master.parse_duration(text)
    assert info.value.message.startswith(f"--for {text!r} is")


def test_login_for_comes_from_the_catalogue_else_8h() -> None:
    assert master.login_for(site("a")) == "8h"
    assert master.login_for(site("a", login_for="4h")) == "4h"
    with pytest.raises(BadInput, match=r"login_for '8 hours' is not a duration"):
        parse_sites('[sites.x]\nhostname = "h.example.org"\nlogin_for = "8 hours"\n', "user sites file", "s.toml")


def test_require_login_refuses_in_one_line_only_for_known_second_factor_sites() -> None:
    jupiter, jusuf, plain = site("jupiter", "required"), site("jusuf"), site("plain", "unknown")
    learned: dict[str, object] = {}
    master.learn_second_factor(learned, "jusuf", "partial success", 1.0)
    refusal = master.require_login([jupiter, jusuf, plain], {}, learned)
    assert refusal is not None
    assert refusal.message == "run: sshsetup login --site jupiter --site jusuf (a TOTP code will be asked)"
    assert refusal.hint is None and refusal.exit_code == 1
    assert master.require_login([jupiter, jusuf], {"jupiter": True, "jusuf": True}, learned) is None
    assert master.require_login([plain], {}, {}) is None
    assert master.second_factor_reason(site("judac", "reported"), {}) == (
        "catalogue: two_factor = reported (a public user report; confidence medium)")


def test_records() -> None:
    doc: dict[str, object] = {}
    s = site("jusuf", alias="jsc-jusuf")
    master.record(doc, s, opened=100.0, seconds=60, login_node="jsfl02", control_path="/c/x", pid=7)
    assert doc["masters"] == {"jusuf": {"alias": "jsc-jusuf", "opened": 100.0, "expires": 160.0, "login_node": "jsfl02",
                                        "control_path": "/c/x", "pid": 7}}
    master.code_accepted(doc, "jusuf", 101.0)
    assert master.last_code(doc, "jusuf") == 101.0
    assert master.forget(doc, "jusuf") and not master.forget(doc, "jusuf")


def test_age_and_clock() -> None:
    assert (master.age(59), master.age(3725)) == ("0m59s", "1h02m")
    assert len(master.clock(1_800_000_000, 1_800_000_000)) == 5  # HH:MM today


def test_stale_socket_is_removed_and_a_live_one_is_not(tmp_path: Path) -> None:
    dead = tmp_path / "dead"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(dead))
    s.close()  # the file stays, nobody listens: what a killed master leaves
    assert master.socket_state(dead) == "refused"
    assert master.clean_stale(dead) and not dead.exists()
    live = tmp_path / "live"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(live))
        listener.listen(1)
        assert master.socket_state(live) == "alive"
        assert not master.clean_stale(live) and live.exists()
    plain = tmp_path / "plain"
    plain.write_text("not a socket")
    assert master.socket_state(plain) == "not-ours" and not master.clean_stale(plain) and plain.exists()
    assert master.socket_state(tmp_path / "absent") == "absent"


def test_control_persist_is_a_working_session_where_a_code_is_asked(tmp_path: Path) -> None:
    """Issue 13: ControlPersist per site from the catalogue: login_for where a second factor is known, else 10m."""
    from sshsetup.catalogue import load_catalogue
    from sshsetup.ssh.entries import control_persist

    cat = load_catalogue(None, tmp_path / "none.toml")
    assert control_persist(cat["jupiter"]) == "8h"  # two_factor required, login_for 8h
    assert control_persist(cat["judac"]) == "8h"  # two_factor reported
    assert control_persist(cat["juwels-booster"]) == "10m"  # not known to ask
    sf = tmp_path / "s.toml"
    sf.write_text('[sites.x]\nhostname = "x.example.org"\nlogin_for = "4h"\n'
                  'two_factor = { value = "required", source = "test", confidence = "high" }\n')
    assert control_persist(load_catalogue(sf, tmp_path / "none.toml")["x"]) == "4h"
