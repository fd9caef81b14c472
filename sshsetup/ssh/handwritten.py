"""The user's own ``Host`` entries for the machines sshsetup manages (pure scan + ``ssh -G``).

A course teaches ``Host booster`` with ``HostName juwels-booster.fz-juelich.de``; sshsetup then
adds its own alias for the same machine. ``find`` names each such entry (file and line) and
compares its effective user and key with the managed entry's, so that init and doctor can say
so. The user's lines are never edited: they may keep their entry, or adopt its name for the
managed entry (``InitOptions.aliases``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sshsetup.catalogue import Site
from sshsetup.ssh import userconfig
from sshsetup.ssh.userconfig import words

MAX_ALIASES = 64  # ssh -G runs at most this many times (concurrently): a config with more hosts is scanned in part
_PERCENT_HOSTNAME = re.compile(r"^[ \t]*hostname[ \t=][^\r\n%]*%", re.IGNORECASE | re.MULTILINE)
_INCLUDE = re.compile(r"^[ \t]*include[ \t=]", re.IGNORECASE | re.MULTILINE)
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@%+:-]{0,254}")


@dataclass(frozen=True)
class HandWritten:
    """A user's ``Host`` line whose alias reaches the host of a managed site."""

    file: Path
    line: int
    alias: str
    site_id: str
    managed_alias: str
    hostname: str
    user: str  # what ssh uses for the user's alias
    our_user: str
    identity_files: tuple[str, ...]  # the user's alias offers these keys, in order
    our_identity_file: str

    @property
    def adopted(self) -> bool:
        """The managed entry uses the user's alias (it wins for every option it sets)."""
        return self.alias == self.managed_alias

    @property
    def same_user(self) -> bool:
        return self.user == self.our_user

    @property
    def same_key(self) -> bool:
        return bool(self.identity_files) and self.identity_files[0] == self.our_identity_file

    def note(self) -> str:
        theirs = self.identity_files[0] if self.identity_files else "(none)"
        from sshsetup.ssh.verify import placeholder

        what = "a placeholder of a course snippet; " if placeholder(self.user) else ""
        user = f"user {self.user}" + ("" if self.same_user else f" ({what}sshsetup: {self.our_user})")
        key = f"key {theirs}" + ("" if self.same_key else f" (sshsetup: {self.our_identity_file})")
        where = f"{self.file}:{self.line}"
        if self.adopted:
            return f"note: {where}: your own 'Host {self.alias}' now gets the managed settings first; {user}, {key}"
        return (f"note: {where}: your own 'Host {self.alias}' reaches {self.hostname} too ({user}, {key}); "
                f"sshsetup leaves it alone and adds '{self.managed_alias}'. To use your name instead: "
                f"--alias {self.site_id}={self.alias}")


@dataclass(frozen=True)
class HostLine:
    """A plain alias on a user's ``Host`` line, and the HostName its own section sets (if any)."""

    file: Path
    line: int
    alias: str
    hostname: str | None


def _sections(text: str, file: Path, ssh_dir: Path, depth: int) -> tuple[list[HostLine], bool]:
    """The plain aliases of the user's Host lines with their HostName, and whether a wildcard
    section sets a HostName with ``%`` (which may reach a managed host under any name)."""
    del depth  # Includes are followed by userconfig.lines
    out: list[HostLine] = []
    pending: list[HostLine] = []
    wildcard_percent = False
    wildcard = False

    def close() -> None:
        out.extend(pending)
        pending.clear()

    for ln in userconfig.lines(text, file, ssh_dir):
        if ln.key in ("host", "match"):
            close()
            ws = words(ln.value) if ln.key == "host" else []
            pending += [HostLine(ln.file, ln.number, w, None) for w in ws if _PLAIN.fullmatch(w)]
            wildcard = ln.key == "match" or any(not _PLAIN.fullmatch(w) for w in ws)
        elif ln.key == "hostname":
            host = words(ln.value)[0] if ln.value.strip() else ""
            pending[:] = [HostLine(h.file, h.line, h.alias, h.hostname or host) for h in pending]
            wildcard_percent = wildcard_percent or (wildcard and "%" in host)
        elif ln.key == "include":
            close()
    close()
    return out, wildcard_percent


def host_lines(text: str, file: Path, ssh_dir: Path) -> list[tuple[Path, int, str]]:
    """(file, line, alias) of every plain alias on a ``Host`` line outside the managed block, Includes followed."""
    return [(h.file, h.line, h.alias) for h in _sections(text, file, ssh_dir, 0)[0]]


def candidates(text: str, file: Path, ssh_dir: Path, hostnames: set[str]) -> list[HostLine]:
    """The host lines that may reach one of ``hostnames`` (lower case): only these are asked of ``ssh -G``.

    An alias may: be such a host name, have a HostName in its own section that is one or holds a
    ``%`` token, or get its HostName from a wildcard section with a ``%`` token.
    """
    lower = text.lower()
    if not any(h in lower for h in hostnames) and not _PERCENT_HOSTNAME.search(text) and not _INCLUDE.search(text):
        return []  # the fast way out for a big config that has nothing to do with the managed hosts
    lines, wildcard_percent = _sections(text, file, ssh_dir, 0)
    first: dict[str, HostLine] = {}
    for h in lines:
        first.setdefault(h.alias, h)  # the first Host line that names an alias is the one ssh uses first
    out = []
    for h in first.values():
        own = (h.hostname or "").lower()
        if h.alias.lower() in hostnames or own in hostnames or "%" in own or (wildcard_percent and not own):
            out.append(h)
    return out[:MAX_ALIASES]


def find(user_config: Path, shown_as: Path, sites: Sequence[Site], our_user: str, our_key: str,
         ssh_dir: Path) -> list[HandWritten]:
    """The user's entries (``user_config``: the user's part only, reported as ``shown_as``) for managed hosts."""
    from concurrent.futures import ThreadPoolExecutor

    from sshsetup.ssh.client import Ssh
    from sshsetup.ssh.verify import SSH_G_TIMEOUT

    try:
        text = user_config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    hosts = {s.hostname.lower(): s for s in sites}
    found = {h.alias: h for h in candidates(text, shown_as, ssh_dir, set(hosts))}
    names = list(found)
    if not names:
        return []
    ssh = Ssh(config=user_config)

    def dump(name: str) -> dict[str, list[str]] | None:
        try:
            return ssh.dump(name, timeout=SSH_G_TIMEOUT)
        except (RuntimeError, ValueError):
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        dumps = list(pool.map(dump, names))
    out = []
    for name, got in zip(names, dumps, strict=True):
        host = (got or {}).get("hostname", [""])[0].lower()
        site = hosts.get(host)
        if got is None or site is None:
            continue
        file, line = found[name].file, found[name].line
        keys = tuple(v.replace("%%", "%") for v in got.get("identityfile", []))
        out.append(HandWritten(file, line, name, site.id, site.alias, site.hostname, got.get("user", [""])[0],
                               our_user, keys, our_key.replace("%%", "%")))
    return out
