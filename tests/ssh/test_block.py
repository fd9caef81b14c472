from __future__ import annotations

from pathlib import Path

import pytest

from sshsetup.errors import Refused
from sshsetup.ssh.block import HostEntry, find_block, needs_move, remembered_options, remove, upsert

P = Path("/x/config")
ENTRY = [HostEntry("jsc-booster", (("HostName", "juwels-booster.fz-juelich.de"), ("User", "smith1")), comment="JUWELS Booster")]
BLOCK = (
    "# BEGIN sshsetup (managed block: change it with 'sshsetup init', delete it with 'sshsetup remove')\n"
    '# sshsetup-options: {"sites":["juwels-booster"]}\n'
    "# JUWELS Booster\n"
    "Host jsc-booster\n"
    "    HostName juwels-booster.fz-juelich.de\n"
    "    User smith1\n"
    "# END sshsetup\n"
)
OPTS = {"sites": ["juwels-booster"]}


RESTORE = "\n# end of sshsetup's hosts: the lines below apply to every host again\nHost *\n"
BLOCK = BLOCK.replace("# END sshsetup\n", RESTORE.lstrip("\n").join(["\n", "# END sshsetup\n"]))


def test_the_whole_block_literal() -> None:
    assert BLOCK == (
        "# BEGIN sshsetup (managed block: change it with 'sshsetup init', delete it with 'sshsetup remove')\n"
        '# sshsetup-options: {"sites":["juwels-booster"]}\n'
        "# JUWELS Booster\n"
        "Host jsc-booster\n"
        "    HostName juwels-booster.fz-juelich.de\n"
        "    User smith1\n"
        "\n"
        "# end of sshsetup's hosts: the lines below apply to every host again\n"
        "Host *\n"
        "# END sshsetup\n"
    )
    assert upsert("", ENTRY, OPTS, "\n", P) == BLOCK


@pytest.mark.parametrize(
    "before",
    [
        pytest.param("", id="empty"),
        pytest.param("Host *\n  User x\n", id="host-star"),
        pytest.param("Port 22\n\n# mine\nHost a\n", id="global-option-and-comments"),
        pytest.param("IdentityFile ~/.ssh/id_rsa\nHostName x\nServerAliveInterval 5\nAddKeysToAgent 1h\n", id="top-level-overrides"),
        pytest.param("Include conf.d/*\nMatch host x\n", id="include-and-match"),
        pytest.param("Host=eq\n", id="host-equals"),
        pytest.param("\tHOST a\n", id="indented-upper"),
        pytest.param("Port 22", id="no-final-newline"),
        pytest.param("Port 22\r\nHost *\r\n", id="crlf"),
    ],
)
def test_block_goes_to_the_very_top_and_remove_restores(before: str) -> None:
    """Read before every user line; the user's bytes follow unchanged, and remove gives them back."""
    after = upsert(before, ENTRY, OPTS, "\n", P)
    assert after == BLOCK + before
    assert remove(after, P) == before
    assert upsert(after, ENTRY, OPTS, "\n", P) == after  # idempotent
    assert not needs_move(after, P)


def test_crlf_is_kept() -> None:
    before = "Port 22\r\nHost *\r\n  User x\r\n"
    after = upsert(before, ENTRY, OPTS, "\r\n", P)
    assert after == BLOCK.replace("\n", "\r\n") + before
    assert remove(after, P) == before


OLD_BLOCK = BLOCK.replace(RESTORE, "\n")  # how 0.x placed it: below the global options, no restoring line


@pytest.mark.parametrize(
    ("old", "user_bytes"),
    [
        pytest.param("Port 22\n" + OLD_BLOCK + "Host *\n  User x\n", "Port 22\nHost *\n  User x\n", id="below-globals"),
        pytest.param("Port 22\n" + OLD_BLOCK.replace('{"sites"', '{"eof_newline":true,"sites"'), "Port 22", id="appended-eof-newline"),
        pytest.param("# top\n" + OLD_BLOCK.replace('{"sites"', '{"created":true,"sites"'), "# top\n", id="created-flag-kept"),
    ],
)
def test_an_earlier_placement_moves_to_the_top(old: str, user_bytes: str) -> None:
    assert needs_move(old, P)
    new = upsert(old, ENTRY, OPTS, "\n", P)
    flags = remembered_options(old, P) == OPTS and find_block(old, P)
    assert flags
    created = bool(find_block(old, P).options.get("created"))  # type: ignore[union-attr]
    want = BLOCK.replace('{"sites"', '{"created":true,"sites"') if created else BLOCK
    assert new == want + user_bytes
    assert remove(new, P) == user_bytes
    assert not needs_move(new, P)


def test_replace_in_place_keeps_flags() -> None:
    text = upsert("", ENTRY, {**OPTS, "created": True}, "\n", P) + "Host z\n"
    other = [HostEntry("jsc-jusuf", (("HostName", "jusuf.fz-juelich.de"),))]
    new = upsert(text, other, {"sites": ["jusuf"]}, "\n", P)
    assert new.startswith('# BEGIN sshsetup (managed block: change it with \'sshsetup init\', delete it with \'sshsetup remove\')\n'
                          '# sshsetup-options: {"created":true,"sites":["jusuf"]}\n')
    assert new.endswith("Host jsc-jusuf\n    HostName jusuf.fz-juelich.de\n" + RESTORE + "# END sshsetup\nHost z\n")
    assert remembered_options(new, P) == {"sites": ["jusuf"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(BLOCK + BLOCK, "/x/config has more than one sshsetup block (line 1, line 10, line 11, line 20)", id="duplicated"),
        pytest.param("# END sshsetup\n# BEGIN sshsetup\n", "/x/config: the sshsetup markers are reversed (line 1, line 2)", id="reversed"),
        pytest.param("Port 1\n# BEGIN sshsetup\nHost a\n", "/x/config: the sshsetup block starting at line 2 is not closed", id="unclosed"),
        pytest.param("Host a\n# END sshsetup\n", "/x/config: '# END sshsetup' at line 2 has no '# BEGIN sshsetup' line", id="end-only"),
        pytest.param("# BEGIN sshsetup\n# sshsetup-options: {bad\n# END sshsetup\n", "/x/config: the sshsetup options line in the block is damaged", id="bad-options"),
    ],
)
def test_malformed_markers_are_refused(text: str, message: str) -> None:
    with pytest.raises(Refused) as exc:
        find_block(text, P)
    assert exc.value.message == message
    assert exc.value.hint is not None and "by hand" in exc.value.hint
    for fn in (lambda: upsert(text, ENTRY, OPTS, "\n", P), lambda: remove(text, P)):
        with pytest.raises(Refused):
            fn()


def test_whole_block_and_quoting() -> None:
    e = [HostEntry("a", (("IdentityFile", "/My Keys/id"),))]
    text = upsert("", e, {}, "\n", P)
    assert '    IdentityFile "/My Keys/id"\n' in text
    block = find_block(text, P)
    assert block is not None and text[block.start : block.end] == text
    assert find_block("Host a\n", P) is None
    assert remembered_options("Host a\n", P) == {}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (HostEntry("a", (("HostName", "a.org"),), "Evil\nHost *\n    ProxyCommand touch /tmp/x-%h\n#"),
         "refusing to write an ssh config comment containing the control character \\n"),
        (HostEntry("a\rb", (("HostName", "a.org"),)), "refusing to write an ssh config pattern containing the control character \\r"),
        (HostEntry("a", (("HostName", "a.org\n    ForwardAgent yes"),)),
         "refusing to write an ssh config value containing the control character \\n"),
        (HostEntry("a", (("Host\x00Name", "a.org"),)), "refusing to write an ssh config keyword containing the control character \\x00"),
        (HostEntry("a", (("HostName", "a\x85b"),)), "refusing to write an ssh config value containing the control character \\x85"),
    ],
)
def test_block_writer_never_emits_a_second_line(entry: HostEntry, message: str) -> None:
    with pytest.raises(Refused) as info:
        upsert("", [entry], {}, "\n", Path("/c"))
    assert info.value.message == message
    assert info.value.hint == "this is a bug or a hostile sites file; report it with 'sshsetup doctor --report'"
