"""Misbehaving endpoints on loopback: a tarpit that never sends a banner, and a refused port."""

from __future__ import annotations

import select
import socket
import threading

from .sshd import free_port


class Tarpit:
    """A TCP server on ``host`` (default 127.0.0.1) that accepts and then stays silent.

    Connections are held open (whatever the client sends is read and dropped) until
    ``stop()``. ``connections`` counts accepted connections so far.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self._sock = socket.socket(fam, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(64)
        self._sock.setblocking(False)
        self.port: int = int(self._sock.getsockname()[1])
        self.connections = 0
        self._clients: list[socket.socket] = []
        self._stop_r, self._stop_w = socket.socketpair()
        self._thread = threading.Thread(target=self._loop, name=f"tarpit-{self.port}", daemon=True)
        self._started = False

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> Tarpit:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            watched = [self._sock, self._stop_r, *self._clients]
            readable, _, _ = select.select(watched, [], [])
            if self._stop_r in readable:
                break
            for s in readable:
                if s is self._sock:
                    try:
                        conn, _ = self._sock.accept()
                    except (BlockingIOError, OSError):
                        continue
                    self._clients.append(conn)
                    self.connections += 1
                else:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if not data:  # the client gave up: forget it
                        self._clients.remove(s)
                        s.close()
        for c in self._clients:
            c.close()
        self._clients.clear()

    def stop(self) -> None:
        if self._started and self._thread.is_alive():
            self._stop_w.send(b"x")
            self._thread.join(5)
        self._sock.close()
        self._stop_r.close()
        self._stop_w.close()

    def __enter__(self) -> Tarpit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def refused_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` where nothing listens now (connect gets ECONNREFUSED; tiny race)."""
    return free_port(host)
