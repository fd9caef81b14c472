"""The guided ``init`` on a real terminal (a pty), end to end as a throwaway user against a real sshd.

The clipboard tool and the browser are stand-in programs on the user's PATH (``xclip``,
``$BROWSER``) that record what they were given: external programs, not sshsetup's code.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from sshsetup import initguide
from tests.commands.test_init_interactive import Terminal
from tests.test_e2e import PASSPHRASE, py, setup_user  # noqa: F401 - py is a fixture
from tests.testbed.sshd import Sshd
from tests.testbed.users import DEFAULT_PATH, TestUser, exe

JUDOOR = "http://127.0.0.1:9/judoor"  # a closed port: the stand-in browser never fetches it anyway
SITE = (f'[sites.testbed]\nname = "Test bed"\nhostname = "127.0.0.1"\nport = {{port}}\nalias = "jsc-testbed"\n'
        f'jsc = true\njudoor_url = "{JUDOOR}"\n')
XCLIP = '#!/bin/sh\n# stand-in for xclip: records its argv and what it was given\necho "$@" > "$HOME/xclip.args"\ncat > "$HOME/clipboard"\n'
BROWSER = '#!/bin/sh\n# stand-in browser: records the URL it was asked to open\necho "$@" > "$HOME/browser.args"\n'


def _user_terminal(user: TestUser, py: Path, *args: str, tools: bool = True) -> Terminal:  # noqa: F811 - py
    env = user.env({"PATH": f"{user.home}/bin:{DEFAULT_PATH}", "TERM": "dumb"})
    if tools:
        user.write("bin/xclip", XCLIP, mode=0o755)
        user.write("bin/browser", BROWSER, mode=0o755)
        env["BROWSER"] = f"{user.home}/bin/browser"
        (user.home / "bin").chmod(0o755)
    argv = [exe("runuser"), "-u", user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
            str(py), "-m", "sshsetup", "init", "--site", "testbed", "--sites-file", f"{user.home}/sites.toml",
            "--user", user.name, "--passphrase-file", f"{user.home}/pw", "--yes", *args]
    return Terminal(argv, {**os.environ}, cwd=user.home)


def _screen(t: Terminal) -> list[str]:
    return t.seen.decode(errors="replace").replace("\r\n", "\n").splitlines()


def test_guided_init_ends_with_a_working_login(test_user: TestUser, sshd: Sshd, py: Path) -> None:  # noqa: F811
    setup_user(test_user, sshd)
    test_user.write("sites.toml", SITE.format(port=sshd.port))
    t = _user_terminal(test_user, py)
    t.expect("Press Enter when the line is saved in JuDoor, to check the login (Ctrl-C: check later with sshsetup wait):")
    pub = (test_user.ssh_dir / "id_ed25519_jsc.pub").read_text().strip()
    line = f'from="127.0.0.1/32" {pub}'
    screen = _screen(t)
    at = screen.index(line)  # the key line on stdout (the same terminal here) ...
    framed = screen.index(line, at + 1)  # ... and framed on its own
    assert screen[framed - 1] == "── copy this line " + "─" * 42 and screen[framed + 1] == "─" * 60
    assert screen[framed + 2:framed + 6] == [
        "",
        "✓ copied to the clipboard (with xclip)",
        f"✓ opened JuDoor in your browser: {JUDOOR}",
        "In JuDoor > Manage SSH keys, add the line for each system: Test bed (jsc-testbed).",
    ]
    assert (test_user.home / "clipboard").read_text() == line
    assert (test_user.home / "xclip.args").read_text() == "-selection clipboard\n"
    assert (test_user.home / "browser.args").read_text() == f"{JUDOOR}\n"
    assert "(copied to the clipboard with" not in "\n".join(screen)  # copied once, by the guide
    sshd.authorize(test_user, (test_user.home / "clipboard").read_text())  # what JuDoor does with the pasted line
    t.send("")
    rc = t.finish(timeout=60)
    screen = _screen(t)
    assert rc == 0, "\n".join(screen)
    assert "✓ jsc-testbed: the key works (the server accepts the key" in "\n".join(screen)
    assert screen[-1] == "✓ you can log in: ssh jsc-testbed"


def test_guided_init_without_tools_says_so_and_names_the_cause(test_user: TestUser, sshd: Sshd, py: Path,  # noqa: F811
                                                                refused_port: int) -> None:
    setup_user(test_user, sshd)
    test_user.write("sites.toml", SITE.format(port=refused_port))
    t = _user_terminal(test_user, py, tools=False)
    t.expect("Press Enter when the line is saved in JuDoor")
    screen = _screen(t)
    assert "no clipboard tool was found (pbcopy, clip.exe, wl-copy, xclip): select the line above and copy it" in screen
    assert f"open JuDoor in a browser: {JUDOOR}" in screen  # no display, no $BROWSER: never a text browser here
    t.send("")
    rc = t.finish(timeout=60)
    screen = _screen(t)
    assert rc == 1, "\n".join(screen)
    assert "  hint: wrong host name or port, the host is down, or a firewall rejects you; check HostName/Port: ssh -G jsc-testbed" \
        in screen  # the real alias, not a placeholder
    assert screen[-2:] == ["✗ you cannot log in to jsc-testbed yet: the connection was refused",
                           "  next: sshsetup doctor --site testbed   (it names the cause and the fix)"]


def test_no_guide_and_a_pipe_keep_stdout_the_line_alone(test_user: TestUser, sshd: Sshd, py: Path) -> None:  # noqa: F811
    setup_user(test_user, sshd)
    test_user.write("sites.toml", SITE.format(port=sshd.port))
    t = _user_terminal(test_user, py, "--no-guide")
    rc = t.finish(timeout=60)
    screen = _screen(t)
    assert rc == 0, "\n".join(screen)
    assert "copy this line" not in "\n".join(screen) and "Press Enter" not in "\n".join(screen)
    assert not (test_user.home / "browser.args").exists()


def test_ctrl_c_at_the_enter_question_exits_130(fake_home: Path) -> None:
    """sshsetup itself on the pty (runuser would turn the ^C into its own SIGTERM to the child)."""
    (fake_home / "sites.toml").write_text(SITE.format(port=9))
    (fake_home / "pw").write_text(PASSPHRASE + "\n")
    env = {**os.environ, "TERM": "dumb", "SSHSETUP_NO_CLIPBOARD": "1"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "testbed", "--sites-file", str(fake_home / "sites.toml"),
                  "--user", "smith1", "--passphrase-file", str(fake_home / "pw"), "--yes", "--no-vscode"], env)
    t.expect("Press Enter when the line is saved in JuDoor")
    time.sleep(0.2)
    t.interrupt()
    rc = t.finish(timeout=30)
    assert (rc, _screen(t)[-1]) == (130, "Interrupted (^C): the setup is written; check the login later with: sshsetup wait")
    assert "not copied to the clipboard (SSHSETUP_NO_CLIPBOARD is set): select the line above and copy it" in _screen(t)


def test_end_of_input_at_the_enter_question_keeps_the_setup(fake_home: Path) -> None:
    (fake_home / "sites.toml").write_text(SITE.format(port=9))
    (fake_home / "pw").write_text(PASSPHRASE + "\n")
    env = {**os.environ, "TERM": "dumb", "SSHSETUP_NO_CLIPBOARD": "1"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "testbed", "--sites-file", str(fake_home / "sites.toml"),
                  "--user", "smith1", "--passphrase-file", str(fake_home / "pw"), "--yes", "--no-vscode"], env)
    t.expect("Press Enter when the line is saved in JuDoor")
    time.sleep(0.2)
    os.write(t.master, b"\x04")  # Ctrl-D
    rc = t.finish(timeout=30)
    assert (rc, _screen(t)[-1]) == (0, "Stopped before the check (end of input): the setup is written; "
                                       "check the login later with: sshsetup wait"), "\n".join(_screen(t))
    assert (fake_home / ".ssh" / "config").exists()


def test_a_text_browser_is_never_started_on_a_linux_console() -> None:
    assert not initguide.can_open_browser({}, "linux")
    assert initguide.can_open_browser({"DISPLAY": ":0"}, "linux")
    assert initguide.can_open_browser({"BROWSER": "firefox"}, "linux")
    assert initguide.can_open_browser({}, "darwin")


def test_the_frame_holds_the_line_alone() -> None:
    lines = initguide.framed('from="192.0.2.0/24" ssh-ed25519 AAAA c')
    assert lines == ["", "── copy this line " + "─" * 42, 'from="192.0.2.0/24" ssh-ed25519 AAAA c', "─" * 60, ""]
    assert not any(re.search(r"\S", ln) and ln.startswith(" ") for ln in lines)
