"""A managed alias must not take over one of the user's own ``Host`` entries (issue 12 item 3).

A sites file that says ``alias = "github.com"`` would make ``ssh github.com`` go to the site,
and the user's own ``IdentityFile`` for GitHub would be offered there. The rule:

- every ``Host`` line outside the managed block (Includes followed) is read, patterns and
  negations as ssh reads them (``*``, ``?``, ``!``, case-insensitive);
- a managed alias that such a line matches is a takeover, unless
  - the line is a catch-all: its only positive patterns are ``*`` (``Host *``, ``Host * !x``), or
  - the user's section reaches the site's own host anyway: its ``HostName`` (``%h`` expanded) is
    the site's host name, or it has no ``HostName`` and the alias is that host name. That is a
    user's own entry for the same machine (``handwritten``), reported and adoptable with ``--alias``;
- a compute-node pattern (checked with or without ``--compute-nodes``) that matches a plain alias of a user's ``Host`` line
  is a takeover likewise (its ProxyJump would apply to the user's host).

Only aliases a sites file or ``--alias`` gave are checked: the packaged catalogue's are not.
``Match`` blocks are not read (their criteria need ssh to evaluate them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sshsetup.catalogue import Site
from sshsetup.errors import BadInput
from sshsetup.ssh import userconfig
from sshsetup.ssh.userconfig import words


@dataclass(frozen=True)
class UserHost:
    """One ``Host`` line of the user's (outside the managed block) and the first HostName of its section."""

    file: Path
    line: int
    patterns: tuple[str, ...]
    hostname: str | None

    @property
    def catch_all(self) -> bool:
        return all(p == "*" for p in self.patterns if not p.startswith("!"))

    def matches(self, name: str) -> bool:
        """Whether ssh applies this section to ``name`` (a negated pattern that matches wins)."""
        hit = False
        for p in self.patterns:
            if p.startswith("!"):
                if match(p[1:], name):
                    return False
            elif match(p, name):
                hit = True
        return hit

    def reaches(self, name: str) -> str:
        """The host ``ssh name`` reaches by this section (lower case)."""
        if self.hostname is None:
            return name.lower()
        return self.hostname.replace("%h", name).replace("%%", "%").lower()


@dataclass(frozen=True)
class Takeover:
    site_id: str
    what: str  # "alias" or "compute_node_pattern"
    value: str
    host: UserHost

    def error(self) -> BadInput:
        where = f"{self.host.file}:{self.host.line}"
        line = "Host " + " ".join(self.host.patterns)
        if self.what == "alias":
            return BadInput(
                f"[sites.{self.site_id}] alias {self.value} would take over your own '{line}' ({where})",
                hint=f"ssh {self.value} would reach the site instead; give the site another alias: "
                     f"--alias {self.site_id}=NAME (or alias = \"...\" in the sites file)",
            )
        return BadInput(
            f"[sites.{self.site_id}] compute_node_pattern {self.value} would take over your own '{line}' ({where})",
            hint="the pattern must match the site's compute nodes only; fix compute_node_pattern in the sites file",
        )


def match(pattern: str, name: str) -> bool:
    """ssh's pattern match: ``*`` any run, ``?`` one character, nothing else special, case-insensitive."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(rx, name.lower(), re.DOTALL) is not None


def user_hosts(text: str, file: Path, ssh_dir: Path) -> list[UserHost]:
    """Every ``Host`` line outside the managed block, in ssh's order, Includes followed."""
    out: list[UserHost] = []
    current: UserHost | None = None
    for ln in userconfig.lines(text, file, ssh_dir):
        if ln.key in ("host", "match"):
            if current is not None:
                out.append(current)
            current = UserHost(ln.file, ln.number, tuple(words(ln.value)), None) if ln.key == "host" else None
        elif ln.key == "hostname" and current is not None and current.hostname is None and ln.value.strip():
            current = UserHost(current.file, current.line, current.patterns, words(ln.value)[0])
    if current is not None:
        out.append(current)
    return out


def checked(site: Site) -> bool:
    """The sites whose aliases are checked: from a sites file, or renamed with ``--alias``."""
    alias = site.facts.get("alias")
    return site.origin != "catalogue" or (alias is not None and alias.source == "--alias")


def find(text: str, file: Path, ssh_dir: Path, sites: Sequence[Site]) -> list[Takeover]:
    """The takeovers of the user's config ``text`` by the managed aliases and node patterns (pure but for Includes)."""
    todo = [s for s in sites if checked(s)]
    lower = text.lower()
    if not todo or "host" not in lower and "include" not in lower:
        return []
    hosts = user_hosts(text, file, ssh_dir)
    out: list[Takeover] = []
    for s in todo:
        target = s.hostname.lower()
        for h in hosts:
            if not h.catch_all and h.matches(s.alias) and h.reaches(s.alias) != target:
                out.append(Takeover(s.id, "alias", s.alias, h))
                break
        pattern = s.compute_node_pattern
        if pattern:
            for h in hosts:
                plain = [p for p in h.patterns if not p.startswith("!") and "*" not in p and "?" not in p]
                if any(match(pattern, p) for p in plain):
                    out.append(Takeover(s.id, "compute_node_pattern", pattern, h))
                    break
    return out


def refuse(config: Path, ssh_dir: Path, sites: Sequence[Site]) -> None:
    """Raise the first takeover of the user's ``config`` (read as UTF-8, errors replaced) by ``sites``."""
    from sshsetup.files import read_bytes

    if not any(checked(s) for s in sites):
        return
    data = read_bytes(config)
    if data is None:
        return
    found = find(data.decode("utf-8", errors="replace"), config, ssh_dir, sites)
    if found:
        raise found[0].error()
