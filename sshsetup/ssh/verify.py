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

from sshsetup.ssh.block import BEGIN

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
