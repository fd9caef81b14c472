"""``sshsetup init`` on a real terminal (a pty): it asks for the user name, the
passphrase twice (never echoed) and a confirmation, then writes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

PASSPHRASE = "correct horse battery"


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
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
    t.expect("Passphrase for the new key:")
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
    t.expect("Passphrase for the new key:")
    t.send(PASSPHRASE)
    t.expect("Repeat for confirmation:")
    t.send("something else")
    t.expect("Error: The two entered values do not match.")
    t.expect("Passphrase for the new key:")
    t.send(PASSPHRASE)
    t.expect("Repeat for confirmation:")
    t.send(PASSPHRASE)
    rc = t.finish()
    assert rc == 0, t.seen.decode(errors="replace")
    assert not (fake_home / ".ssh" / "id_ed25519_jsc").exists()  # a dry run writes no key
