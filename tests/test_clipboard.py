from __future__ import annotations

import shutil
import sys

import pytest

from sshsetup import clipboard

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX shell scripts")

LINE = 'from="93.199.0.0/16,10.0.0.0/8" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA me@laptop'
CAT = shutil.which("cat") or "/bin/cat"


@pytest.fixture
def bindir(tmp_path, monkeypatch):
    """A PATH with only fake clipboard tools (real processes that record their stdin and argv)."""
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", str(d))
    return d


def fake_tool(bindir, name, status=0, sleep=False):
    out, args = bindir / f"{name}.stdin", bindir / f"{name}.args"
    body = f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\n{CAT} > '{out}'\n"
    if sleep:
        body += "while :; do :; done\n"
    body += f"exit {status}\n"
    tool = bindir / name
    tool.write_text(body)
    tool.chmod(0o755)
    return out, args


def test_default_order_uses_the_first_available(bindir):
    out, args = fake_tool(bindir, "xclip")
    fake_tool(bindir, "wl-copy")
    assert clipboard.copy(LINE) == "wl-copy"
    assert (bindir / "wl-copy.stdin").read_text() == LINE
    assert not out.exists() and not args.exists()


def test_xclip_gets_the_clipboard_selection(bindir):
    out, args = fake_tool(bindir, "xclip")
    assert clipboard.copy(LINE) == "xclip"
    assert out.read_text() == LINE
    assert args.read_text() == "-selection\nclipboard\n"


def test_a_failing_tool_is_skipped(bindir):
    fake_tool(bindir, "broken", status=1)
    out, _ = fake_tool(bindir, "works")
    assert clipboard.copy(LINE, [(), ("missing-tool",), ("broken",), ("works",)]) == "works"
    assert out.read_text() == LINE
    assert (bindir / "broken.stdin").read_text() == LINE  # it really ran


def test_no_tool_returns_none(bindir):
    assert clipboard.copy(LINE) is None
    assert clipboard.copy(LINE, []) is None


def test_a_hanging_tool_is_given_up(bindir):
    fake_tool(bindir, "stuck", sleep=True)
    assert clipboard.copy(LINE, [("stuck",)], timeout=0.5) is None


def test_a_tool_that_cannot_start_does_not_raise(bindir):
    bad = bindir / "notexec"
    bad.write_text("#!/nonexistent/interpreter\n")
    bad.chmod(0o755)
    assert clipboard.copy(LINE, [("notexec",)]) is None
