"""Local checks: the ssh client, the two homes, ``~/.ssh`` permissions, the key, the agent.

Read-only. The key is the one the managed block remembers (``sshsetup init`` stores it
in the block's options line), else ``paths.default_key``. Helpers shared by the other
``checks_*`` modules of this package live here too: ``managed()`` (the block, read once
per run) and ``once()`` (compute a value once per run and host). Every ssh command line
comes from ``sshsetup.ssh.client`` (``ctx.ssh()``).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sshsetup import textfile
from sshsetup.errors import SshSetupError
from sshsetup.remembered import Remembered
from sshsetup.ssh import block as sshconfig
from sshsetup.ssh import keys
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, Shared, fail, ok, skip, warn

T = TypeVar("T")
_MEMOS: weakref.WeakKeyDictionary[Shared, dict[tuple[str, str | None], tuple[threading.Lock, list[Any]]]] = weakref.WeakKeyDictionary()
_GLOBAL = threading.Lock()


def once(ctx: DoctorContext, name: str, subject: str | None, make: Callable[[], T]) -> T:
    """``make()`` at most once per run (per ``ctx.shared``) and key; other callers wait for it.

    For values several checks need without a ``needs`` edge between them (the runner
    would skip the reader when the producer fails, e.g. ``auth.probe`` wants the range
    verdict even when ``auth.from-range`` fails). One lock per key: hosts stay concurrent.
    """
    with _GLOBAL:
        lock, box = _MEMOS.setdefault(ctx.shared, {}).setdefault((name, subject), (threading.Lock(), []))
    with lock:
        if not box:
            box.append(make())
        value: T = box[0]
        return value


def run(argv: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          check=False, env=env, errors="replace")


@dataclass(frozen=True)
class Managed:
    """What the managed block says (empty when there is none or it cannot be read)."""

    text: str | None  # the whole config (None: missing or unreadable)
    block: str | None
    remembered: Remembered = field(default_factory=Remembered)  # the options init stored in the block
    error: str | None = None
    hint: str | None = None


def managed(ctx: DoctorContext) -> Managed:
    def make() -> Managed:
        path = ctx.paths.ssh_config
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return Managed(None, None, error=f"{path} does not exist", hint="create it: sshsetup init")
        except OSError as exc:
            return Managed(None, None, error=f"cannot read {path}: {exc.strerror}", hint=f"check: ls -l {path}")
        try:
            text = textfile.decode(data, path, allow_bom=True).text
            found = sshconfig.find_block(text, path)
        except SshSetupError as exc:
            return Managed(None, None, error=exc.message, hint=exc.hint)
        if found is None:
            return Managed(text, None, error=f"{path} has no sshsetup block", hint="write it: sshsetup init")
        block = text[found.start : found.end]
        try:
            remembered = Remembered.from_options(found.options, path)
        except SshSetupError as exc:
            return Managed(text, block, error=exc.message, hint=exc.hint)
        return Managed(text, block, remembered)

    return once(ctx, "managed", None, make)


def key_path(ctx: DoctorContext) -> Path:
    return managed(ctx).remembered.key or ctx.paths.default_key


def ssh_version(ctx: DoctorContext) -> str | None:
    """The first line of ``ssh -V`` (None when there is no ssh)."""

    def make() -> str | None:
        if shutil.which("ssh") is None:
            return None
        proc = run([ctx.ssh().executable, "-V"], ctx.probe_timeout)
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return lines[0] if lines else ""

    return once(ctx, "ssh -V", None, make)


def windows_openssh(ctx: DoctorContext) -> bool:
    return sys.platform == "win32" or "OpenSSH_for_Windows" in (ssh_version(ctx) or "")


def check_ssh(ctx: DoctorContext) -> Finding:
    version = ssh_version(ctx)
    if version is None:
        how = "Settings > Apps > Optional features > OpenSSH Client" if sys.platform == "win32" else "e.g. sudo apt install openssh-client"
        return fail("no ssh client on PATH", f"install the OpenSSH client ({how})")
    m = re.search(r"OpenSSH_(?:for_Windows_)?(\d+)\.(\d+)", version)
    if m and (int(m[1]), int(m[2])) < (7, 3):
        return warn(f"{version}: older than 7.3 (no Include, no ProxyJump)", "update the OpenSSH client")
    return ok(version or "ssh -V printed nothing", None, (f"ssh at {shutil.which('ssh')}",))


def check_home(ctx: DoctorContext) -> Finding:
    p = ctx.paths
    if sys.platform == "win32":
        return skip("not applicable on Windows (ssh uses %USERPROFILE%)")
    if p.ssh_uses_default_config:
        return ok(f"$HOME is the password-database home ({p.home})")
    return warn(f"$HOME is {p.home}, but ssh takes ~ from the password database: {p.pw_home}",
                f"ssh (and VS Code) read {p.pw_home}/.ssh, not {p.ssh_dir}; run sshsetup with HOME={p.pw_home}")


def _problem(path: Path, is_dir: bool) -> tuple[str, str] | None:
    """(what is wrong, the fix) for a path ssh would refuse or warn about."""
    try:
        st = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(st.st_mode)
    if hasattr(os, "getuid") and st.st_uid not in (os.getuid(), 0):
        return f"{path} is owned by uid {st.st_uid}, not you", f"chown {os.getuid()} {path}"
    if mode & 0o022:
        want = "700" if is_dir else "600"
        return f"{path} is mode {mode:04o}, writable by others (ssh refuses: Bad owner or permissions)", f"chmod {want} {path}"
    return None


def check_permissions(ctx: DoctorContext) -> Finding:
    d, cfg = ctx.paths.ssh_dir, ctx.paths.ssh_config
    if sys.platform == "win32":
        return skip("Windows ACLs are not checked", None)
    if not d.is_dir():
        return fail(f"{d} does not exist", "create it: sshsetup init")
    for path, is_dir in ((cfg, False), (d, True)):
        bad = _problem(path, is_dir)
        if bad:
            return fail(bad[0], bad[1])
    modes = [f"{p} {stat.S_IMODE(p.stat().st_mode):04o}" for p in (d, cfg) if p.exists()]
    return ok("; ".join(modes) + " (owner and modes ssh accepts)")


def check_key_exists(ctx: DoctorContext) -> Finding:
    key = key_path(ctx)
    if key.is_file():
        return ok(f"{key} exists")
    where = "remembered in the managed block" if managed(ctx).remembered.key else "the default"
    return fail(f"the key {key} ({where}) does not exist",
                "create it with sshsetup init, or give your key: sshsetup init --key /path/to/private_key")


def check_key_permissions(ctx: DoctorContext) -> Finding:
    key = key_path(ctx)
    if sys.platform == "win32":
        return skip("Windows ACLs are not checked")
    st = key.stat()
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return fail(f"{key} is mode {mode:04o}: readable by others, so ssh ignores it (UNPROTECTED PRIVATE KEY FILE)",
                    f"chmod 600 {key}")
    if st.st_uid not in (os.getuid(), 0):
        return fail(f"{key} is owned by uid {st.st_uid}, not you", f"chown {os.getuid()} {key}")
    return ok(f"{key} is mode {mode:04o}")


def key_info(ctx: DoctorContext) -> tuple[keys.KeyInfo | None, SshSetupError | None]:
    def make() -> tuple[keys.KeyInfo | None, SshSetupError | None]:
        try:
            return keys.inspect_key(key_path(ctx)), None
        except SshSetupError as exc:
            return None, exc

    return once(ctx, "key info", None, make)


def check_key_passphrase(ctx: DoctorContext) -> Finding:
    info, err = key_info(ctx)
    if info is None:
        return skip(f"cannot read the key: {err.message if err else '?'}")
    if info.encrypted is None:
        return skip(f"cannot tell whether {info.path} has a passphrase (unknown format)")
    if not info.encrypted:
        return warn(f"{info.path} has no passphrase; JSC requires an encrypted private key",
                    f"add one: ssh-keygen -p -f {info.path}")
    return ok(f"{info.path} is encrypted with a passphrase")


def check_key_type(ctx: DoctorContext) -> Finding:
    info, err = key_info(ctx)
    if info is not None:
        return ok(f"{info.label}, {info.bits} bits; the .pub matches", None, (info.keygen_line(),))
    assert err is not None
    return fail(err.message, err.hint)


def agent_keys(ctx: DoctorContext) -> tuple[int | None, list[str]]:
    """(``ssh-add -l`` exit code or None without SSH_AUTH_SOCK/ssh-add, its lines)."""

    def make() -> tuple[int | None, list[str]]:
        if not os.environ.get("SSH_AUTH_SOCK") or shutil.which("ssh-add") is None:
            return None, []
        proc = run(["ssh-add", "-l"], ctx.probe_timeout)
        return proc.returncode, [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]

    return once(ctx, "ssh-add -l", None, make)


def check_agent(ctx: DoctorContext) -> Finding:
    rc, lines = agent_keys(ctx)
    key = key_path(ctx)
    if rc is None:
        return warn("no ssh-agent (SSH_AUTH_SOCK is not set)",
                    f"start one and add the key, e.g. eval \"$(ssh-agent)\" && ssh-add {key} (VS Code cannot ask for a passphrase)")
    if rc == 2 or rc not in (0, 1):
        return fail(f"cannot talk to the agent at SSH_AUTH_SOCK ({'; '.join(lines) or f'rc {rc}'})",
                    "start a new agent: eval \"$(ssh-agent)\", then ssh-add " + str(key))
    info, _ = key_info(ctx)
    if info is None:
        return ok(f"agent reachable, {len(lines) if rc == 0 else 0} key(s); cannot read {key} to compare")
    fp = keys.fingerprint(info.public_line)
    if rc == 0 and any(fp in ln for ln in lines):
        return ok(f"the agent holds {key} ({fp})", None, tuple(lines))
    n = len(lines) if rc == 0 else 0
    return warn(f"the agent is reachable but does not hold {key} ({n} other key(s))",
                f"add it: ssh-add {key}" + (" (macOS: ssh-add --apple-use-keychain)" if sys.platform == "darwin" else ""),
                tuple(lines))


def check_keychain(ctx: DoctorContext) -> Finding:
    if sys.platform != "darwin":
        return skip("not macOS")
    text = managed(ctx).text or ""
    has = {k: bool(re.search(rf"^\s*{k}\s*[= ]\s*yes", text, re.MULTILINE | re.IGNORECASE)) for k in ("UseKeychain", "AddKeysToAgent")}
    if all(has.values()):
        return ok("UseKeychain and AddKeysToAgent are set: the passphrase is kept in the Keychain")
    missing = " and ".join(k for k, v in has.items() if not v)
    return warn(f"{missing} not set: macOS asks for the passphrase again after a restart",
                f"store it once: ssh-add --apple-use-keychain {key_path(ctx)}; add 'UseKeychain yes' under Host * in ~/.ssh/config")


CHECKS: tuple[Check, ...] = (
    Check.once("local.ssh", "an ssh client is installed (ssh -V)", check_ssh),
    Check.once("local.home", "$HOME is the home ssh uses (password database)", check_home),
    Check.once("local.permissions", "~/.ssh and ~/.ssh/config have an owner and modes ssh accepts", check_permissions),
    Check.once("key.exists", "the key from the managed block exists", check_key_exists),
    Check.once("key.permissions", "the private key is mode 0600", check_key_permissions, needs=("key.exists",)),
    Check.once("key.passphrase", "the private key is encrypted (JSC requires it)", check_key_passphrase, needs=("key.exists",)),
    Check.once("key.type", "the key type and size are accepted and its .pub matches", check_key_type, needs=("key.exists",)),
    Check.once("local.agent", "an ssh-agent is reachable and holds the key", check_agent),
    Check.once("local.keychain", "macOS: the Keychain keeps the passphrase", check_keychain),
)
