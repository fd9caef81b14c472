"""``sshsetup explain``: both outputs on the saved transcripts, literal text, terminal safety,
encodings, and refusals of what is not a log."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sshsetup.commands.explain import ExplainOptions, run
from sshsetup.errors import BadInput
from sshsetup.sanitize import is_clean
from tests.rendered import rendered
from tests.support.test_sshlog import DATA, EXPECTED, TITLES_AND_HINTS


def _run(source: str | Path, json_out: bool = False, stdin: bytes | None = None) -> str:
    result = run(None, ExplainOptions(str(source), json_out), stdin=io.BytesIO(stdin) if stdin is not None else None)
    printed = rendered(result, as_json=json_out)
    assert (printed.rc, printed.err) == (0, "")
    return printed.out


def test_options_are_frozen() -> None:
    o = ExplainOptions("-", True)
    with pytest.raises(AttributeError):
        o.source = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_json_per_transcript(name: str) -> None:
    doc = json.loads(_run(DATA / f"{name}.log", json_out=True))
    assert (doc["sshsetup"], doc["version"]) == ("explain", 1)
    assert [c["cause"] for c in doc["causes"]] == EXPECTED[name]
    for c in doc["causes"]:
        assert c["title"] == TITLES_AND_HINTS[c["cause"]][0]


def test_human_output_exact() -> None:
    assert _run(DATA / "too-many-failures.log") == (
        "too-many-failures: the server disconnected: too many authentication failures\n"
        "    line 50\n"
        "      50 | Received disconnect from 127.0.0.1 port 2222:2: Too many authentication failures\n"
        "    hint: ssh offered too many keys (agent or defaults) before the right one: add IdentitiesOnly yes and the "
        "IdentityFile to the host\n")


def test_human_output_two_lines() -> None:
    assert _run(DATA / "hostkey-changed.log") == (
        "hostkey-changed: the server's host key differs from the one in known_hosts (REMOTE HOST IDENTIFICATION HAS CHANGED)\n"
        "    lines 22, 34\n"
        "      22 | @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
        "      34 | Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.\n"
        "    hint: compare the new fingerprint with the one the site publishes; only if it matches, remove the old entry with the "
        "ssh-keygen -R command printed in the log\n")


def test_2fa_outcome_text() -> None:
    out = _run(DATA / "totp-unanswered.log")
    assert out.startswith("2fa-unanswered: the one-time code prompt was never answered (timeout, or no terminal to type it in)\n")
    assert out.endswith(
        "    hint: log in once from a terminal (ssh ALIAS) and type the code there; with sshsetup login the code is asked once "
        "per working session; in VS Code set \"remote.SSH.showLoginTerminal\": true\n")
    assert "(root@127.0.0.1) One-time password (OATH) for `root':" in out


def test_unknown_rather_than_a_guess(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_text("just\ntext\n")
    assert _run(f) == (
        "unknown: no known cause found in 2 lines\n"
        "    hint: paste the whole output of: ssh -v ALIAS true (or Remote-SSH: Show Log), or run: sshsetup doctor\n")
    doc = json.loads(_run(f, json_out=True))
    assert doc == {"sshsetup": "explain", "version": 1, "causes": [], "lines": 2}


def test_stdin_utf16_with_and_without_bom_latin1_and_utf8_bom(tmp_path: Path) -> None:
    raw = (DATA / "partial-success-2fa.log").read_text()
    for data in (raw.encode("utf-16"), raw.encode("utf-16-le"), raw.encode("utf-16-be"), b"\xef\xbb\xbf" + raw.encode(),
                 ("Schl\u00fcssel f\u00fcr M\u00fcller\n" + raw).encode("latin-1")):
        doc = json.loads(_run("-", json_out=True, stdin=data))
        assert [c["cause"] for c in doc["causes"]] == ["partial-success-2fa"], data[:20]
    f = tmp_path / "log.txt"
    f.write_bytes(b"\xef\xbb\xbf" + raw.encode())
    assert _run(f).startswith("partial-success-2fa: ")


def test_run_prints_the_envelope(tmp_path: Path) -> None:
    printed = rendered(run(None, ExplainOptions(str(DATA / "accepted.log"), json_out=True)), as_json=True)
    assert printed.rc == 0
    assert json.loads(printed.out)["causes"][0]["cause"] == "accepted"


HOSTILE = ("\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: write the clipboard
           "\x1b[2J\x1b[H"  # clear the screen, cursor home
           "\x1b]0;pwned\x1b\\"  # window title
           "root@127.0.0.1: Permission denied (publickey).\x1b[31m\u202e\n"
           "Warning: Permanently added 'host'\rAuthenticated to host (fake)\n"
           "\x9b6n\x07\x08\n")


def test_a_hostile_log_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    f = tmp_path / "hostile.log"
    f.write_text(HOSTILE)
    out = _run(f)
    assert all(is_clean(line) for line in out.splitlines())
    assert "\x1b" not in out and "\r" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    doc = json.loads(_run(f, json_out=True))
    assert [c["cause"] for c in doc["causes"]] == ["accepted"]  # a bare CR starts a line: the "login" after it wins


def test_binary_is_refused_in_one_line(tmp_path: Path) -> None:
    f = tmp_path / "core"
    f.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(BadInput) as e:
        _run(f)
    assert e.value.message == f"{f} is not a text log (binary data)"
    assert e.value.hint == "give the ssh -v output or the Remote-SSH log as text"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as e:
        _run(tmp_path / "nope.log")
    assert e.value.message == f"{tmp_path / 'nope.log'} does not exist"
    with pytest.raises(BadInput) as e:
        _run(tmp_path)
    assert e.value.message == f"{tmp_path} is a directory"


def test_a_name_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as e:
        _run(tmp_path / "x\x1b[2Jy.log")
    assert e.value.message == f"{tmp_path}/x\\x1b[2Jy.log does not exist"
