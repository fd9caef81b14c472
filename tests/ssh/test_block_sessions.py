"""The session entries of ``sshsetup code`` in the managed block: remembered, carried by ``upsert``, dropped with their site."""

from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.errors import Refused
from sshsetup.slurm import session_alias
from sshsetup.ssh.block import (
    HostEntry,
    find_block,
    remembered_options,
    remove,
    render_block,
    session_entries,
    set_option,
    upsert,
)

P = Path("config")
A = HostEntry("jsc-a", (("HostName", "a.example"),), comment="A (a)")
B = HostEntry("jsc-b", (("HostName", "b.example"),), comment="B (b)")
SESSION_A = ("# sshsetup code: session profile a-dev-g1", "Host jsc-a-code-dev-g1", "    HostName a.example",
             "    RemoteCommand cd && exec python3 .sshsetup/h.py attach 'x y'")
SESSION_B = ("# sshsetup code: session profile b-dev-g0", "Host jsc-b-code-dev-g0", "    HostName b.example")


def test_render_with_sessions_is_exact() -> None:
    assert render_block([A], {"sites": ["a"]}, "\n", [SESSION_A]) == (
        "# BEGIN sshsetup (managed block: change it with 'sshsetup init', delete it with 'sshsetup remove')\n"
        '# sshsetup-options: {"sites":["a"]}\n'
        "# A (a)\nHost jsc-a\n    HostName a.example\n\n"
        "# sshsetup code: session profile a-dev-g1\nHost jsc-a-code-dev-g1\n    HostName a.example\n"
        "    RemoteCommand cd && exec python3 .sshsetup/h.py attach 'x y'\n\n"
        "# end of sshsetup's hosts: the lines below apply to every host again\nHost *\n# END sshsetup\n")
    with pytest.raises(Refused, match="control character"):
        render_block([A], {}, "\n", [("# sshsetup code: session profile x", "Host x\rProxyCommand evil")])


def code_ran(text: str, lines: tuple[str, ...], site: str) -> str:
    """What ``sshsetup code`` writes: the entry, then the alias in the options."""
    return session_alias.record_entry(session_alias.upsert_entry(text, list(lines), P), P, lines[1][5:], site)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_init_again_keeps_them_byte_for_byte(eol: str) -> None:
    mine = f"Host mine{eol}    User me{eol}"
    first = upsert(mine, [A, B], {"sites": ["a", "b"]}, eol, P)
    after_code = code_ran(code_ran(first, SESSION_A, "a"), SESSION_B, "b")
    opts = find_block(after_code, P).options  # type: ignore[union-attr]
    assert opts == {"sites": ["a", "b"], "sessions": {"jsc-a-code-dev-g1": "a", "jsc-b-code-dev-g0": "b"}}
    assert list(session_entries(after_code, P)) == ["jsc-a-code-dev-g1", "jsc-b-code-dev-g0"]
    assert upsert(after_code, [A, B], opts, eol, P) == after_code  # init, same sites: identical
    assert after_code == render_block([A, B], opts, eol, [SESSION_A, SESSION_B]) + mine
    assert code_ran(after_code, SESSION_A, "a") == after_code  # code again: identical too
    assert remove(after_code, P) == mine  # remove takes them all


def test_drop_site_drops_only_its_sessions() -> None:
    after_code = code_ran(code_ran(upsert("", [A, B], {"sites": ["a", "b"]}, "\n", P), SESSION_A, "a"), SESSION_B, "b")
    dropped = upsert(after_code, [A], {"sites": ["a"], "sessions": {"jsc-a-code-dev-g1": "a"}}, "\n", P)
    assert dropped == render_block([A], {"sites": ["a"], "sessions": {"jsc-a-code-dev-g1": "a"}}, "\n", [SESSION_A])
    assert "jsc-b-code" not in dropped
    assert upsert(after_code, [A, B], {"sites": ["a", "b"]}, "\n", P) == render_block([A, B], {"sites": ["a", "b"]}, "\n")


def test_set_option_keeps_every_other_byte() -> None:
    text = "Host x\r\n" + render_block([A], {"sites": ["a"], "eof_newline": True}, "\r\n") + "tail"
    new = set_option(text, P, "sessions", {"e": "a"})
    assert new == text.replace('{"eof_newline":true,"sites":["a"]}', '{"eof_newline":true,"sessions":{"e":"a"},"sites":["a"]}')
    assert set_option(new, P, "sessions", None) == text
    with pytest.raises(Refused, match="no sshsetup block"):
        set_option("Host x\n", P, "sessions", {})


def test_an_earlier_versions_entries_are_found_by_their_alias() -> None:
    """A block written before the options remembered them: init still keeps them, with their site."""
    from sshsetup.catalogue import load_catalogue
    from sshsetup.initplan import unrecorded_sessions
    from sshsetup.remembered import Remembered

    cat = load_catalogue(None, None)
    sites = [cat["juwels-booster"], cat["jusuf"]]
    old = render_block([A], {"sites": ["juwels-booster", "jusuf"]}, "\n", [
        ("# sshsetup code: session profile juwels-booster-booster-g4", "Host jsc-booster-code-booster-g4", "    HostName x"),
        ("# sshsetup code: session profile jusuf-gpus-g1", "Host jsc-jusuf-code-gpus-g1", "    HostName y"),
        ("# sshsetup code: session profile other-x-g0", "Host elsewhere-code-x-g0", "    HostName z"),
    ])
    def rem(text: str) -> Remembered:
        return Remembered.from_options(remembered_options(text, P), P)

    assert unrecorded_sessions(old, P, sites, rem(old)) == {"jsc-booster-code-booster-g4": "juwels-booster", "jsc-jusuf-code-gpus-g1": "jusuf"}
    recorded = set_option(old, P, "sessions", {"jsc-jusuf-code-gpus-g1": "jusuf"})
    assert unrecorded_sessions(recorded, P, sites, rem(recorded)) == {"jsc-booster-code-booster-g4": "juwels-booster"}
    assert unrecorded_sessions("Host x\n", P, sites, Remembered()) == {}


def test_a_proxyjump_entry_names_its_node_and_is_replaced_whole_on_another_node() -> None:
    dump = {"hostname": ["10.1.2.3"], "port": ["22"], "user": ["alice1"], "proxyjump": ["jsc-a"]}
    one = session_alias.proxyjump_lines("jsc-a-code-dev-g1", dump, "/h/.ssh/cm", "a-dev-g1", "jwb0001")
    two = session_alias.proxyjump_lines("jsc-a-code-dev-g1", dump, "/h/.ssh/cm", "a-dev-g1", "jwb0002")
    assert one[0] == "# sshsetup code: session profile a-dev-g1 (proxyjump to node jwb0001)"
    assert session_alias.proxyjump_node(one[0]) == "jwb0001" and session_alias.proxyjump_node(SESSION_A[0]) is None
    assert session_alias.proxyjump_lines("x", dump, "/c", "k", "bad node")[0] == "# sshsetup code: session profile k"
    base = upsert("", [A], {"sites": ["a"]}, "\n", P)
    first = code_ran(code_ran(base, SESSION_A, "a"), tuple(one), "a")  # the srun entry of the profile, then proxyjump
    assert list(session_entries(first, P).values()) == [tuple(one)]
    assert list(session_entries(code_ran(first, tuple(two), "a"), P).values()) == [tuple(two)]  # no orphaned mark line
