"""``sshsetup init`` on a real terminal (a pty): it asks for the user name, the
passphrase twice (never echoed) and a confirmation, then writes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

PASSPHRASE = "correct horse battery"
PROMPT = "Passphrase for the new key (at least 8 characters):"


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so ^C sends SIGINT to it."""
    import fcntl

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True, cwd=cwd,
                                     preexec_fn=_controlling_terminal)
        os.close(slave)
        self.seen = b""
        self.pos = 0  # output before this offset was matched already

    def expect(self, text: str, timeout: float = 20.0) -> None:
        """Wait for ``text`` in output not matched before."""
        end = time.monotonic() + timeout
        while text.encode() not in self.seen[self.pos :]:
            left = end - time.monotonic()
            assert left > 0, f"timed out waiting for {text!r}; screen so far:\n{self.seen.decode(errors='replace')}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    break
                self.seen += chunk
        at = self.seen.find(text.encode(), self.pos)
        assert at >= 0, self.seen.decode(errors="replace")
        self.pos = at + len(text)

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def interrupt(self) -> None:
        """Ctrl-C as typed: the terminal sends SIGINT to the foreground process."""
        os.write(self.master, b"\x03")

    def finish(self, timeout: float = 30.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the child is gone and the terminal is closed
                    break
                if not chunk:
                    break
                self.seen += chunk
            elif self.proc.poll() is not None:
                break
        os.close(self.master)
        return self.proc.wait(5)


def test_interactive_init_on_a_terminal(fake_home: Path) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "jusuf"], env)
    t.expect("Your JSC user name (as shown in JuDoor):")
    t.send("smith1")
    t.expect(PROMPT)
    t.send(PASSPHRASE)
    t.expect("Repeat for confirmation:")
    t.send(PASSPHRASE)
    t.expect("Write these changes? [Y/n]:")
    assert b"+Host jsc-jusuf" in t.seen  # the diff is shown before the question
    t.send("y")
    rc = t.finish()
    screen = t.seen.decode(errors="replace")
    assert rc == 0, screen
    assert PASSPHRASE not in screen  # never echoed or printed
    assert "Checked with ssh -G: jsc-jusuf resolve" in screen
    key = fake_home / ".ssh" / "id_ed25519_jsc"
    check = subprocess.run(["ssh-keygen", "-y", "-P", PASSPHRASE, "-f", str(key)], capture_output=True, text=True)
    pub = (fake_home / ".ssh" / "id_ed25519_jsc.pub").read_text()
    assert check.returncode == 0 and check.stdout == pub.rsplit(" ", 1)[0] + "\n"  # the comment is only in the .pub


def test_declining_writes_nothing(fake_home: Path, key: Path) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "jusuf", "--user", "smith1"], env)
    t.expect("Write these changes? [Y/n]:")
    t.send("n")
    assert t.finish() == 1
    assert "Aborted; nothing was changed." in t.seen.decode()
    assert not (fake_home / ".ssh" / "config").exists()


def test_mismatched_passphrases_are_asked_again(fake_home: Path) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "jusuf", "--user", "smith1", "--dry-run"], env)
    t.expect(PROMPT)
    t.send(PASSPHRASE)
    t.expect("Repeat for confirmation:")
    t.send("something else")
    t.expect("the two passphrases do not match; try again (2 tries left)\r\n")
    t.expect(PROMPT)
    t.send("short")
    t.expect("the passphrase is shorter than 8 characters; try again (1 try left)\r\n")
    t.expect(PROMPT)
    t.send(PASSPHRASE)
    t.expect("Repeat for confirmation:")
    t.send(PASSPHRASE)
    rc = t.finish()
    assert rc == 0, t.seen.decode(errors="replace")
    assert not (fake_home / ".ssh" / "id_ed25519_jsc").exists()  # a dry run writes no key


def test_three_wrong_tries_end_the_run_with_the_reason(fake_home: Path) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "jusuf", "--user", "smith1"], env)
    for _ in range(3):
        t.expect(PROMPT)
        t.send("short")
    rc = t.finish()
    lines = t.seen.decode(errors="replace").replace("\r\n", "\n").splitlines()
    assert rc == 2
    assert lines[-2:] == ["error: the passphrase is shorter than 8 characters (3 tries; nothing was changed)",
                          "hint: JSC asks for a secure passphrase: use a longer one"]
    assert not (fake_home / ".ssh").exists()


@pytest.mark.parametrize("at", ["Your JSC user name (as shown in JuDoor):", PROMPT, "Repeat for confirmation:",
                                "Write these changes? [Y/n]:"])
def test_ctrl_c_at_any_prompt_exits_130(fake_home: Path, at: str) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    t = Terminal([sys.executable, "-m", "sshsetup", "init", "--site", "jusuf", "--no-vscode"], env)
    answers = {"Your JSC user name (as shown in JuDoor):": "smith1", PROMPT: PASSPHRASE, "Repeat for confirmation:": PASSPHRASE}
    for prompt, answer in answers.items():
        t.expect(prompt)
        if prompt == at:
            break
        t.send(answer)
    else:
        t.expect(at)
    time.sleep(0.2)  # the prompt is read: the terminal is in the mode the prompt set
    t.interrupt()
    rc = t.finish()
    screen = t.seen.decode(errors="replace")
    assert (rc, "Aborted" in screen, "Traceback" in screen) == (130, False, False), screen
    assert screen.replace("\r\n", "\n").splitlines()[-1] == "Interrupted (^C); nothing was changed."  # on a line of its own
    assert not (fake_home / ".ssh" / "config").exists() and not (fake_home / ".ssh" / "id_ed25519_jsc").exists()


def test_ctrl_c_at_remove_s_question_exits_130_and_removes_nothing(fake_home: Path, key: Path) -> None:
    env = {**os.environ, "SSHSETUP_NO_CLIPBOARD": "1", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "sshsetup", "init", "--user", "smith1", "--key", str(key), "--yes",
                           "--no-vscode", "--site", "jusuf"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    before = (fake_home / ".ssh" / "config").read_bytes()
    t = Terminal([sys.executable, "-m", "sshsetup", "remove"], env)
    t.expect("Remove these? [Y/n]:")
    time.sleep(0.2)
    t.interrupt()
    rc = t.finish()
    screen = t.seen.decode(errors="replace").replace("\r\n", "\n")
    assert (rc, screen.splitlines()[-1]) == (130, "Interrupted (^C); nothing was changed."), screen
    assert (fake_home / ".ssh" / "config").read_bytes() == before
