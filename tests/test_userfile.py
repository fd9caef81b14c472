"""read_regular: regular files only, a cap on size, never a hang (real FIFOs, devices, sockets, symlinks)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from sshsetup.errors import BadInput, Refused
from sshsetup.userfile import human_size, read_regular

FILE_HINT = ("sshsetup reads regular files only (a pipe or device could block or never end); "
             "save the content to a file and give that")


def _refusal(path: Path | str, **kw: object) -> tuple[str, str | None]:
    with pytest.raises(BadInput) as exc:
        read_regular(path, **{"limit": 1024, "what": "key", **kw})  # type: ignore[arg-type]
    return exc.value.message, exc.value.hint


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    f = tmp_path / "k"
    f.write_bytes(b"x" * 1024)
    assert read_regular(f, limit=1024, what="key") == b"x" * 1024
    f.write_bytes(b"")
    assert read_regular(str(f), limit=1024, what="key") == b""


def test_one_byte_too_many_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "k"
    f.write_bytes(b"x" * 1025)
    assert _refusal(f) == (f"key {f} is larger than 1 KiB", "a key is never that big: check that this is the right file")


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    start = time.monotonic()
    assert _refusal(fifo) == (f"key {fifo} is a named pipe (FIFO), not a regular file", FILE_HINT)
    assert time.monotonic() - start < 1.0  # no writer ever opens it: a blocking open would hang forever


def test_a_fifo_with_data_in_it_is_refused_too(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer holds it open, with data waiting (Linux allows O_RDWR)
    try:
        os.write(fd, b"\0" * 4096)
        assert _refusal(fifo)[0] == f"key {fifo} is a named pipe (FIFO), not a regular file"
        assert os.read(fd, 8192) == b"\0" * 4096  # nothing was read from it
    finally:
        os.close(fd)


@pytest.mark.parametrize(("dev", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_devices_are_refused_without_reading(dev: str, kind: str) -> None:
    assert _refusal(dev) == (f"key {dev} is {kind}, not a regular file", FILE_HINT)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert _refusal(tmp_path) == (f"key {tmp_path} is a directory, not a regular file", "give the path of a file")


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        message, _ = _refusal(path)
    # open() on a socket fails with ENXIO on Linux; either way it is refused, never read
    assert message in (f"key {path} is a socket, not a regular file", f"cannot read key {path}: No such device or address")


def test_missing_and_unreadable(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "nope") == (f"key {tmp_path / 'nope'} does not exist", "check the path (it must be an existing file)")
    assert _refusal(tmp_path / "nope" / "x")[0] == f"key {tmp_path / 'nope' / 'x'} does not exist"
    f = tmp_path / "f"
    f.write_text("x")
    assert _refusal(f / "sub")[0] == f"cannot read key {f / 'sub'}: Not a directory"


def test_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"data")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert read_regular(link, limit=10, what="key") == b"data"
    assert _refusal(link, follow_symlinks=False) == (
        f"key {link} is a symlink; sshsetup does not follow it here", f"give the file the link points to: readlink -f {link}")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert _refusal(loop)[0] == f"key {loop} is a symlink loop"
    dev = tmp_path / "zero"
    dev.symlink_to("/dev/zero")
    assert _refusal(dev)[0] == f"key {dev} is a character device, not a regular file"


def test_the_error_class_and_an_empty_what(tmp_path: Path) -> None:
    with pytest.raises(Refused, match=f"^{tmp_path} is a directory, not a regular file$"):
        read_regular(tmp_path, limit=1, what="", error=Refused)


def test_human_size() -> None:
    assert [human_size(n) for n in (1000, 1024, 65536, 1 << 20, 3 << 20)] == ["1000 bytes", "1 KiB", "64 KiB", "1 MiB", "3 MiB"]
