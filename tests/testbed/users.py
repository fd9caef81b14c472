"""A dedicated, throwaway Unix user for the real-component tests (testbed.md 1.3, 1.4).

The OpenSSH client takes ``~`` from the passwd database, not from ``$HOME``; so a test
that wants a plain ``ssh alias`` to read ``~/.ssh/config`` from a temporary directory
runs ssh as a user whose passwd home *is* that directory. Everything here needs root.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

USER_PREFIX = "sshsetup-"
USER_COMMENT = "sshsetup testbed user (temporary)"
_USER_RE = re.compile(r"^sshsetup-[0-9a-f]{6}$")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

try:
    _libc_name = ctypes.util.find_library("c")
    _LIBC_LOADED: ctypes.CDLL | None = ctypes.CDLL(_libc_name, use_errno=True) if _libc_name else None
except OSError:  # pragma: no cover
    _LIBC_LOADED = None


def exe(name: str) -> str:
    """Absolute path of a tool, also finding /usr/sbin ones when PATH lacks sbin."""
    return shutil.which(name, path=os.environ.get("PATH", "") + os.pathsep + DEFAULT_PATH) or name


def make_testbed_dir(prefix: str = "sshsetup-tb-") -> Path:
    """A fresh ``/tmp/<prefix>XXXXXX`` with mode 0755 (pytest's tmp base is 0700, 2.8)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    d.chmod(0o755)
    return d


# --------------------------------------------------------------------------- processes


def _proc_stat(pid: int) -> tuple[int, str] | None:
    """(ppid, state) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rfind(")") + 2 :].split()
    return int(rest[1]), rest[0]


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (PID 1 may reap late, 2.8)."""
    st = _proc_stat(pid)
    return st is not None and st[1] not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    """All living descendants of ``pid`` (children first-level first)."""
    children: dict[int, list[int]] = {}
    for p in _all_pids():
        st = _proc_stat(p)
        if st is not None:
            children.setdefault(st[0], []).append(p)
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def pids_of_uid(uid: int) -> list[int]:
    """Living processes whose real uid is ``uid``."""
    out: list[int] = []
    for p in _all_pids():
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid and alive(p):
                        out.append(p)
                    break
        except (OSError, ValueError, IndexError):
            continue
    return out


def processes_mentioning(text: str) -> list[int]:
    """Living processes (not this one) whose command line contains ``text``."""
    needle = text.encode()
    out: list[int] = []
    for p in _all_pids():
        if p == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmd and alive(p):
            out.append(p)
    return out


def kill_pids(pids: Iterable[int], timeout: float = 3.0) -> None:
    """SIGTERM the given pids (by id), wait, then SIGKILL whatever is left."""
    pids = [p for p in pids if p != os.getpid()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            if alive(p):
                try:
                    os.kill(p, sig)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(alive(p) for p in pids):
            time.sleep(0.02)


_LIBC = _LIBC_LOADED


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM if pytest dies (PR_SET_PDEATHSIG; Linux only).

    Only a safety net for a killed test run: teardown stops everything by itself. The
    kernel drops the setting when the child changes uid, so it helps for root daemons.
    """
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def popen_daemon(argv: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
    """``Popen`` in a new session (own process group), with ``die_with_parent``."""
    return subprocess.Popen(list(argv), start_new_session=True, preexec_fn=die_with_parent, **kw)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0, *, children_first: bool = False) -> None:
    """Stop a daemon started with ``start_new_session=True``: its group, its children, itself.

    ``children_first``: end the descendants before the process itself (for wrappers such as
    ``runuser``, which on SIGTERM waits 2 s before it SIGKILLs its child).
    """
    if proc.poll() is None:
        kids = descendants(proc.pid)
        if children_first:
            kill_pids(kids, timeout=timeout)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout)
        kill_pids(kids, timeout=timeout)
    else:
        proc.wait()


# --------------------------------------------------------------------------- the user


@dataclass(frozen=True)
class TestUser:
    """A throwaway local user; ``home`` is its passwd home (mode 0755, owned by it)."""

    __test__ = False  # not a pytest test class

    name: str
    uid: int
    gid: int
    home: Path
    base: Path  # private dir holding the home; removed at teardown

    @property
    def ssh_dir(self) -> Path:
        return self.home / ".ssh"

    def chown(self, path: Path | str) -> None:
        os.chown(path, self.uid, self.gid)

    def chown_tree(self, path: Path | str | None = None) -> None:
        """Give ``path`` (default: the whole home) and everything below it to the user.

        For files a test wrote as root into the user's home (e.g. sshsetup run in-process
        with ``HOME=user.home``): ssh, run as the user, must be able to read its key.
        """
        top = Path(path) if path is not None else self.home
        self.chown(top)
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                os.chown(os.path.join(root, n), self.uid, self.gid, follow_symlinks=False)

    def write(self, rel: str | Path, text: str, mode: int = 0o600) -> Path:
        """Write ``home/rel`` (parents created, all owned by the user) and return its path."""
        path = self.home / rel
        parent = path.parent
        missing: list[Path] = []
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for d in reversed(missing):
            d.mkdir(mode=0o700)
            self.chown(d)
        path.write_text(text)
        path.chmod(mode)
        self.chown(path)
        return path

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The clean environment ``run_as`` gives a command (plus ``extra``)."""
        env = {
            "PATH": DEFAULT_PATH,
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
        }
        if extra:
            env.update(extra)
        return env


def _run(argv: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a shadow-utils tool; retry while another session holds the passwd/group lock."""
    deadline = time.monotonic() + 15
    while True:
        r = subprocess.run([exe(argv[0]), *argv[1:]], capture_output=True, text=True, timeout=60)
        if r.returncode != 0 and "lock" in r.stderr.lower() and time.monotonic() < deadline:
            time.sleep(0.1)
            continue
        if check:
            r.check_returncode()
        return r


def create_user(base: Path | None = None) -> TestUser:
    """Create ``sshsetup-<6 hex>`` with home ``<base>/home`` (0755) and ``~/.ssh`` (0700).

    The shadow field is set to ``*`` (no password, *not* locked: with ``UsePAM no`` a
    locked ``!`` account cannot log in even with a key, 1.4).
    """
    if base is None:
        base = make_testbed_dir("sshsetup-user-")
    home = base / "home"
    for _ in range(20):
        name = USER_PREFIX + secrets.token_hex(3)
        try:
            pwd.getpwnam(name)
        except KeyError:
            break
    else:  # pragma: no cover
        raise RuntimeError("could not find a free test user name")
    _run(["useradd", "-M", "-U", "-d", str(home), "-s", "/bin/bash", "-c", USER_COMMENT, name])
    try:
        _run(["usermod", "-p", "*", name])
        pw = pwd.getpwnam(name)
        user = TestUser(name=name, uid=pw.pw_uid, gid=pw.pw_gid, home=home, base=base)
        reset_home(user)
    except BaseException:
        _run(["userdel", name], check=False)
        raise
    return user


def reset_home(user: TestUser) -> None:
    """Kill the user's leftover processes, then give it an empty home with ``~/.ssh`` 0700."""
    kill_pids(pids_of_uid(user.uid))
    if user.home.exists():
        shutil.rmtree(user.home)
    user.home.mkdir(mode=0o755)
    user.home.chmod(0o755)
    user.chown(user.home)
    user.ssh_dir.mkdir(mode=0o700)
    user.chown(user.ssh_dir)


def delete_user(user: TestUser) -> None:
    """Kill the user's processes, ``userdel`` it and remove its directory."""
    for _ in range(3):
        kill_pids(pids_of_uid(user.uid))
        r = _run(["userdel", user.name], check=False)
        if r.returncode in (0, 6):  # 6: no such user
            break
        time.sleep(0.2)
    else:
        raise RuntimeError(f"userdel {user.name} failed: {r.stderr.strip()}")
    shutil.rmtree(user.base, ignore_errors=True)


def remove_stale_users() -> list[str]:
    """Delete testbed users left by a crashed run: our name and comment, home gone, no processes."""
    removed: list[str] = []
    for pw in pwd.getpwall():
        if not _USER_RE.match(pw.pw_name) or pw.pw_gecos != USER_COMMENT:
            continue
        if os.path.exists(pw.pw_dir) or os.path.exists(os.path.dirname(pw.pw_dir)):
            continue  # maybe a concurrent session's user
        if pids_of_uid(pw.pw_uid):
            continue
        if _run(["userdel", pw.pw_name], check=False).returncode == 0:
            removed.append(pw.pw_name)
    return removed


def run_as(
    user: TestUser,
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = 60.0,
    cwd: Path | str | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as ``user`` via ``runuser -u USER -- env -i ... argv``.

    The command gets a clean environment (``user.env(env)``: PATH, HOME=its passwd home,
    USER, LOGNAME, SHELL, LANG=C.UTF-8, plus ``env``), runs in ``cwd`` (default: the
    user's home), stdin is ``input`` (or /dev/null). Returns the CompletedProcess with
    text stdout/stderr; raises CalledProcessError only when ``check``.
    """
    full_env = user.env(env)
    cmd = [exe("runuser"), "-u", user.name, "--", "env", "-i"]
    cmd += [f"{k}={v}" for k, v in full_env.items()]
    cmd += [os.fspath(a) for a in argv]
    return subprocess.run(
        cmd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=os.fspath(cwd) if cwd is not None else str(user.home),
        check=check,
    )


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    public_line: str  # "ssh-ed25519 AAAA... comment"
    passphrase: str | None


def make_key(
    user: TestUser,
    name: str = "id_ed25519_jsc",
    *,
    passphrase: str | None = None,
    comment: str = "sshsetup-test",
    directory: Path | None = None,
) -> KeyPair:
    """An ed25519 key pair in ``directory`` (default ``~/.ssh``), owned by ``user``.

    Generated with ``cryptography`` in-process, so a passphrase never appears on a
    command line; the encrypted format is OpenSSH's own (bcrypt KDF), which ssh reads.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    priv = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, enc)
    pub = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    line = f"{pub.decode()} {comment}"
    d = directory if directory is not None else user.ssh_dir
    priv_path = d / name
    pub_path = d / f"{name}.pub"
    priv_path.write_bytes(priv)
    priv_path.chmod(0o600)
    pub_path.write_text(line + "\n")
    pub_path.chmod(0o644)
    for p in (priv_path, pub_path):
        user.chown(p)
    return KeyPair(private=priv_path, public=pub_path, public_line=line, passphrase=passphrase)
