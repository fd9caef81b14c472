"""Check the written config with the real ``ssh -G``, and name what shadows us.

ssh takes the first value it finds for most keywords, so a ``Host``/``Match``
block or a global option *before* ours can override what we wrote. ``ssh -G``
is the ground truth; when it disagrees we scan the config (following
``Include``) for the line that set the value first.
"""

from __future__ import annotations

import fnmatch
import glob
import ipaddress
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sshsetup.errors import Refused
from sshsetup.ssh.block import BEGIN, HostEntry

_KV = re.compile(r"\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*?)\s*$")


@dataclass(frozen=True)
class Expected:
    alias: str
    values: dict[str, str]  # keyword (lower case) -> expected value (expanded)


@dataclass(frozen=True)
class Mismatch:
    alias: str
    keyword: str
    expected: str
    actual: str
    culprit: str | None  # "FILE:LINE (Host pattern)" or None


def ssh_g(alias: str, config: Path | None, timeout: float = 10.0) -> dict[str, list[str]]:
    argv = ["ssh", "-T", "-G"] + (["-F", str(config)] if config else []) + [alias]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip().splitlines() or ["ssh -G failed"])[-1])
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        k, _, v = line.partition(" ")
        out.setdefault(k, []).append(v)
    return out


def _host_matches(patterns: list[str], alias: str) -> bool:
    hit = False
    for pat in patterns:
        neg = pat.startswith("!")
        if fnmatch.fnmatchcase(alias.lower(), pat.lstrip("!").lower()):
            if neg:
                return False
            hit = True
    return hit


def _words(value: str) -> list[str]:
    try:
        return shlex.split(value, comments=False)
    except ValueError:
        return value.split()


def find_culprit(config: Path, alias: str, keyword: str, ssh_dir: Path, depth: int = 0) -> str | None:
    """The first line before our block that sets ``keyword`` for ``alias``."""
    try:
        lines = config.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    applies = True
    header = "global options"
    for n, line in enumerate(lines, 1):
        if line.strip().startswith(BEGIN):
            return None
        m = _KV.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        key, value = m.group(1).lower(), m.group(2)
        if key == "host":
            applies, header = _host_matches(_words(value), alias), f"Host {value}"
        elif key == "match":
            applies, header = True, f"Match {value} (may apply)"
        elif key == "include" and applies and depth < 16:
            for pat in _words(value):
                full = os.path.expanduser(pat) if pat.startswith("~") else str(ssh_dir / pat) if not os.path.isabs(pat) else pat
                for inc in sorted(glob.glob(full)):
                    found = find_culprit(Path(inc), alias, keyword, ssh_dir, depth + 1)
                    if found:
                        return found
        elif key == keyword and applies:
            return f"{config}:{n} ({header})"
    return None


def _norm(keyword: str, value: str, pw_home: Path) -> str:
    if keyword == "hostname":  # ssh lower-cases a host name and prints an IPv4-mapped IPv6 address dotted
        value = value.lower()
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            pass
        else:  # ssh may also connect to (and print) an IPv4-mapped address as plain IPv4
            value = str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip)
    if keyword == "identityfile":  # ssh -G prints the raw value: '%' escaped as '%%', '~' unexpanded
        value = value.replace("%%", "%")
        if value.startswith("~/"):
            value = str(pw_home / value[2:])
    return value


def verify(expected: list[Expected], config: Path, use_f: bool, pw_home: Path, ssh_dir: Path) -> list[Mismatch]:
    """Run ``ssh -G`` for every alias (concurrently) and compare."""

    def one(e: Expected) -> list[Mismatch]:
        try:
            got = ssh_g(e.alias, config if use_f else None)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            return [Mismatch(e.alias, "ssh -G", "success", str(exc), None)]
        out = []
        for k, want in e.values.items():
            actual = [_norm(k, v, pw_home) for v in got.get(k, [])]
            first = actual[0] if actual else ""
            if _norm(k, want, pw_home) != first:
                out.append(Mismatch(e.alias, k, want, first, find_culprit(config, e.alias, k, ssh_dir)))
        return out

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, max(1, len(expected)))) as pool:
        return [m for ms in pool.map(one, expected) for m in ms]


# ---- the pre-write check: the candidate config, with the real ssh, before anything is replaced

CHECK_SUFFIX = ".sshsetup-check"  # not ".sshsetup-tmp": a concurrent run's stale-temp cleaning must not take it
SSH_G_TIMEOUT = 10.0  # seconds for one ``ssh -G`` (it reads files only; no network)
MULTI_VALUED = frozenset({"identityfile", "certificatefile", "sendenv", "setenv", "localforward", "remoteforward",
                          "dynamicforward", "globalknownhostsfile", "userknownhostsfile", "canonicaldomains"})


@dataclass(frozen=True)
class Target:
    """A name ssh resolves through a managed entry, and the keywords (lower case) that entry sets."""

    name: str
    keywords: tuple[str, ...]


def targets(entries: list[HostEntry], examples: dict[str, str]) -> list[Target]:
    """Each managed alias, and for a compute-node pattern its example name (``examples``: pattern -> name)."""
    out = []
    for e in entries:
        name = examples.get(e.pattern, e.pattern)
        if any(c in name for c in "*?!,") or " " in name:
            continue  # a pattern without an example: ssh cannot be asked about it
        out.append(Target(name, tuple(dict.fromkeys(k.lower() for k, _ in e.options))))
    return out


class SshRejects(Refused):
    """ssh itself refuses a config: ``lines`` are its own messages (file, line, keyword), all of them,
    joined into the one error line."""

    def __init__(self, message: str, lines: list[str], hint: str) -> None:
        super().__init__(message + ": " + "; ".join(lines), hint=hint)
        self.lines = tuple(lines)


_WHERE = re.compile(r"^(?P<file>.+?):? line (?P<line>\d+): (?P<what>.*)$")
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>|\bYOUR[ _-]?(?:USER|NAME|LOGIN)", re.IGNORECASE)
NBSP = "\u00a0"


def placeholder(text: str) -> str | None:
    """The placeholder a course snippet left in ``text`` (``[ADD YOUR USERNAME HERE]``, ``<user>``), if any."""
    m = _PLACEHOLDER.search(text)
    return m.group(0) if m else None


def _line_of(file: str, n: int) -> str:
    try:
        lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[n - 1] if 0 < n <= len(lines) else ""


def known_hint(lines: list[str]) -> str | None:
    """The hint for a known cause of ssh's complaint, from the line it names."""
    for msg in lines:
        m = _WHERE.match(msg)
        if m is None:
            continue
        file, n, what = m.group("file"), int(m.group("line")), m.group("what")
        text = _line_of(file, n)
        if NBSP in text or "\\302\\240" in what:
            return (f"line {n} of {file} contains non-breaking spaces (pasted from a web page or PDF); "
                    "retype them as ordinary spaces, then run sshsetup init again")
        if "usekeychain" in what.lower():
            return (f"UseKeychain (line {n} of {file}) is known only to Apple's ssh: put the line "
                    "'IgnoreUnknown UseKeychain' at the top of that file, then run sshsetup init again")
        found = placeholder(text)
        if found:
            return (f"line {n} of {file} still holds the placeholder {found!r} of a course snippet: "
                    "put your own value there (or delete that entry: sshsetup writes its own), then run sshsetup init again")
        return f"fix line {n} of {file} as ssh says (sshsetup never edits your lines), then run sshsetup init again"
    return None


def _temp_beside(config: Path, data: bytes) -> Path:
    """The candidate as a temp file next to the real config (0600); where that directory does not
    exist or takes no file (read-only, full), in the system's temp directory: ssh resolves a
    relative ``Include`` from ~/.ssh either way, and the real write then reports the problem."""
    import tempfile

    for where in ((config.parent,) if config.parent.is_dir() else ()) + (Path(tempfile.gettempdir()),):
        try:
            fd, name = tempfile.mkstemp(dir=where, prefix=f".{config.name}.", suffix=CHECK_SUFFIX)
        except OSError:
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError:
            Path(name).unlink(missing_ok=True)
            continue
        return Path(name)
    raise Refused(f"cannot check {config}: no directory takes a temporary file",
                  hint=f"check the free space and permissions of {config.parent} and of the temp directory")


def _compare(t: Target, got: dict[str, list[str]], want: dict[str, list[str]]) -> list[Mismatch]:
    out = []
    for k in t.keywords:
        w, g = want.get(k, []), got.get(k, [])
        ok = g[: len(w)] == w if k in MULTI_VALUED else g == w
        if not ok:
            out.append(Mismatch(t.name, k, " ".join(w), " ".join(g), None))
    return out


def check_candidate(config: Path, candidate: bytes, block: str, wanted: list[Target]) -> None:
    """Refuse unless ssh reads ``candidate`` (the new bytes of ``config``) and resolves every
    target exactly as it resolves them from the managed ``block`` alone.

    Raises ``SshRejects`` with ssh's own messages when ssh cannot read the candidate (naming the
    user's file and line when the config as it is now fails already), ``Refused`` when a value
    the block sets does not win.
    """
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from sshsetup.ssh.client import Ssh

    if shutil.which(Ssh().executable) is None:
        raise Refused("cannot check the ssh config: the OpenSSH client (ssh) is not installed; nothing was changed",
                      hint="install it (Debian/Ubuntu: apt install openssh-client; Windows: Settings > Optional features "
                           "> OpenSSH Client), then run sshsetup init again")
    cand = _temp_beside(config, candidate)
    ref = _temp_beside(config, block.encode("utf-8"))
    try:
        def dump(path: Path, name: str) -> dict[str, list[str]] | str:
            try:
                return Ssh(config=path).dump(name, timeout=SSH_G_TIMEOUT)
            except (RuntimeError, ValueError) as exc:
                return str(exc)

        with ThreadPoolExecutor(max_workers=min(8, max(1, 2 * len(wanted)))) as pool:
            got = list(pool.map(lambda t: dump(cand, t.name), wanted))
            want = list(pool.map(lambda t: dump(ref, t.name), wanted))
        failed = next((g for g in got if isinstance(g, str)), None)
        if failed is not None:
            now = dump(config, wanted[0].name) if config.exists() else {}
            if isinstance(now, str):  # the user's file fails as it is: ssh names their line
                lines = now.splitlines()
                raise SshRejects(f"ssh rejects {config}, so sshsetup changed nothing", lines,
                                 known_hint(lines) or f"fix {config} as ssh says, then run sshsetup init again")
            lines = [ln.replace(str(cand), f"{config} (as sshsetup would write it)") for ln in failed.splitlines()]
            raise SshRejects(f"ssh would not read the config sshsetup would write to {config}; nothing was changed",
                             lines, "this is a bug in sshsetup; report it with 'sshsetup doctor --report'")
        bad = next((w for w in want if isinstance(w, str)), None)
        if bad is not None:
            raise SshRejects("ssh does not read the managed block on its own; nothing was changed", bad.splitlines(),
                             "this is a bug in sshsetup; report it with 'sshsetup doctor --report'")
        mismatches = [m for t, g, w in zip(wanted, got, want, strict=True)
                      for m in _compare(t, g, w)]  # type: ignore[arg-type]
    finally:
        cand.unlink(missing_ok=True)
        ref.unlink(missing_ok=True)
    if mismatches:
        what = "; ".join(f"{m.alias}: {m.keyword} would be {m.actual!r}, not {m.expected!r}" for m in mismatches)
        raise Refused(f"ssh would not use what sshsetup writes ({what}); nothing was changed",
                      hint="something outside ~/.ssh/config overrides the block; report it with 'sshsetup doctor --report'")
