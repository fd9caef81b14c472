"""Small loopback servers for the doctor tests: a real sshd, a tarpit, a closer.

(The shared ones in tests/testbed/ do more; these stay tiny and need only the sshd
binary and root for the real server.)
"""

from __future__ import annotations

import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

from tests.testbed.require import require_exe, require_root


def free_port(host: str = "127.0.0.1") -> int:
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Server:
    """Accepts on ``host``; ``mode`` is "tarpit" (hold silently), "close" or "reset"."""

    def __init__(self, host: str = "127.0.0.1", mode: str = "tarpit", greeting: bytes = b"") -> None:
        self.mode, self.greeting = mode, greeting
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.host, self.port = host, int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.greeting:
                c.sendall(self.greeting)
            if self.mode == "tarpit":
                self.held.append(c)
                continue
            if self.mode == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    def close(self) -> None:
        self.sock.close()
        for c in self.held:
            c.close()


class RealSshd:
    """A real OpenSSH server on 127.0.0.1 and ::1 (testbed.md 1.2); nobody can log in."""

    def __init__(self, tmp: Path) -> None:
        sshd = require_exe("sshd", "/usr/sbin/sshd")
        require_root("sshd")
        keygen = require_exe("ssh-keygen")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.port = free_port()
        self.hostkey = tmp / "hostkey"
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "doctor-test", "-f", str(self.hostkey)], check=True)
        conf = tmp / "sshd_config"
        conf.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nListenAddress ::1\nHostKey {self.hostkey}\nPidFile none\n"
            "AuthorizedKeysFile none\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nLogLevel VERBOSE\n"
        )
        self.log = tmp / "sshd.log"
        self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(conf)], stdin=subprocess.DEVNULL, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("sshd did not start: " + self.log.read_text())

    def key_line(self) -> str:
        return " ".join(self.hostkey.with_suffix(".pub").read_text().split()[:2])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
