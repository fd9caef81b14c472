"""The ControlMaster of a site: is it live, stale or absent; what sshsetup recorded about it;
and the one policy every command that talks to a site follows (``require_login``).

The records (``<state dir>/logins.json``, written by the one writer) hold, per site id: when
``sshsetup login`` opened the master, when it expires, the login node it landed on, its
socket and pid; and which sites are known to ask for a second factor (learned from an
earlier ``partial success``). Pure functions decide; ``probe``/``clean_stale``/``save`` do
the little I/O (``ssh -G``, ``ssh -O check``, one socket connect, the state file).
"""

from __future__ import annotations

import enum
import os
import re
import socket
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup.errors import BadInput, Refused
from sshsetup.ssh.entries import TWO_FACTOR_KNOWN

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths
    from sshsetup.ssh.client import Ssh

VERSION = 1
# Without a catalogue value (login_for): users keep their one TOTP login open 4 h or 8 h (juelich_connect.sh:
# 4 h, github.com/oszypczy/hackaton; JUPITER notes: 8 h in ~/.ssh/cm/), public 2026 user scripts; confidence medium.
DEFAULT_FOR = "8h"
DEFAULT_FOR_SOURCE = "users keep the TOTP login 4-8 h (public 2026 user scripts); confidence medium"
KNOWN_TWO_FACTOR = TWO_FACTOR_KNOWN  # catalogue two_factor values that mean "a code will be asked" (one list, in ssh/entries)
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_PID = re.compile(r"Master running \(pid=(\d+)\)")


class State(str, enum.Enum):
    LIVE = "live"  # ssh -O check: Master running
    STALE = "stale"  # the socket file is there, nobody answers on it (laptop sleep, killed master)
    NONE = "none"  # no master
    OFF = "off"  # the alias has no ControlPath: every connection authenticates itself


@dataclass(frozen=True)
class Master:
    site: str
    alias: str
    state: State
    control_path: str | None
    pid: int | None = None
    record: Mapping[str, Any] | None = None  # what sshsetup login recorded (None: not opened by it)

    def expires(self) -> float | None:
        return _number(self.record, "expires")

    def opened(self) -> float | None:
        return _number(self.record, "opened")

    def login_node(self) -> str | None:
        v = (self.record or {}).get("login_node")
        return v if isinstance(v, str) and v else None


class LoginRequired(Refused):
    """A command would start an authentication the user did not ask for (exit 1)."""


def _number(doc: Mapping[str, Any] | None, key: str) -> float | None:
    v = (doc or {}).get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


# --------------------------------------------------------------------------- pure


def parse_duration(text: str, *, what: str = "--for") -> int:
    """``8h``, ``90m``, ``1h30m``, ``45s``, ``2d`` or plain minutes -> seconds (at least 60)."""
    value = text.strip().lower()
    m = _DURATION.fullmatch(value)
    if value.isdigit():
        seconds = int(value) * 60
    elif value and m and any(m.groups()):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        seconds = ((d * 24 + h) * 60 + mi) * 60 + s
    else:
        raise BadInput(f"{what} {text!r} is not a duration", hint=f"e.g. {what} 8h, 90m or 1h30m")
    if seconds < 60 or seconds > 7 * 86400:
        raise BadInput(f"{what} {text!r} is outside 1 minute .. 7 days", hint=f"e.g. {what} 8h")
    return seconds


def login_for(site: Site) -> str:
    """How long ``login`` keeps the master by default: the catalogue's ``login_for``, else 8h."""
    return str(site.get("login_for", DEFAULT_FOR))


def second_factor_reason(site: Site, doc: Mapping[str, Any]) -> str | None:
    """Why sshsetup believes ``site`` asks for a second factor, or None when it does not know that."""
    learned = doc.get("second_factor", {}).get(site.id) if isinstance(doc.get("second_factor"), dict) else None
    if isinstance(learned, dict):
        return f"learned: {learned.get('how', 'partial success')}"
    fact = site.facts.get("two_factor")
    if fact is not None and fact.value in KNOWN_TWO_FACTOR:
        return f"catalogue: two_factor = {fact.value} ({fact.source}; confidence {fact.confidence})"
    return None


def login_hint(site_ids: Sequence[str]) -> str:
    return "run: sshsetup login " + " ".join(f"--site {s}" for s in site_ids) + " (a TOTP code will be asked)"


def require_login(sites: Sequence[Site], live: Mapping[str, bool], doc: Mapping[str, Any]) -> LoginRequired | None:
    """The policy: a command may connect to a site itself only when it has a live master or is not
    known to ask for a second factor. Otherwise the refusal (one line, no connection made)."""
    need = [s.id for s in sites if not live.get(s.id) and second_factor_reason(s, doc) is not None]
    return LoginRequired(login_hint(need)) if need else None


def record(doc: dict[str, Any], site: Site, *, opened: float, seconds: int, login_node: str | None,
           control_path: str | None, pid: int | None) -> None:
    doc.setdefault("masters", {})[site.id] = {
        "alias": site.alias, "opened": round(opened, 3), "expires": round(opened + seconds, 3),
        "login_node": login_node or "", "control_path": control_path or "", "pid": pid,
    }


def forget(doc: dict[str, Any], site_id: str) -> bool:
    masters = doc.get("masters")
    return isinstance(masters, dict) and masters.pop(site_id, None) is not None


def learn_second_factor(doc: dict[str, Any], site_id: str, how: str, now: float) -> None:
    doc.setdefault("second_factor", {})[site_id] = {"how": how, "seen": round(now, 3)}


def code_accepted(doc: dict[str, Any], site_id: str, now: float) -> None:
    doc.setdefault("codes", {})[site_id] = round(now, 3)


def last_code(doc: Mapping[str, Any], site_id: str) -> float | None:
    codes = doc.get("codes")
    return _number(codes, site_id) if isinstance(codes, dict) else None


def clock(epoch: float, now: float) -> str:
    """``17:40`` today, ``Fri 17:40`` within a week, else the date."""
    t, n = time.localtime(epoch), time.localtime(now)
    if (t.tm_year, t.tm_yday) == (n.tm_year, n.tm_yday):
        return time.strftime("%H:%M", t)
    if abs(epoch - now) < 6 * 86400:
        return time.strftime("%a %H:%M", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def age(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


# --------------------------------------------------------------------------- I/O


def records_path(paths: Paths) -> Path:
    return paths.state_dir / "logins.json"


def load(paths: Paths) -> dict[str, Any]:
    from sshsetup import state

    doc = state.load(records_path(paths))
    doc.pop("damaged", None)
    return doc


def save(paths: Paths, doc: dict[str, Any]) -> None:
    from sshsetup import files, state

    doc["version"] = VERSION
    change = files.FileChange(records_path(paths), state.dump(doc), mode=0o600, label="sshsetup login records",
                              backup=False)
    files.apply(files.plan([change]), dry_run=False)


def probe(ssh: Ssh, site: Site, doc: Mapping[str, Any], *, timeout: float = 10.0) -> Master:
    """The master of ``site``'s alias: ``ssh -G`` for its socket, ``ssh -O check``; no connection to the server."""
    masters = doc.get("masters")
    rec = masters.get(site.id) if isinstance(masters, dict) else None
    rec = rec if isinstance(rec, dict) else None
    try:
        dumped = ssh.dump(site.alias, timeout=timeout)
    except RuntimeError:
        return Master(site.id, site.alias, State.NONE, None, record=rec)
    path = (dumped.get("controlpath") or ["none"])[0]
    if path == "none":
        return Master(site.id, site.alias, State.OFF, None, record=rec)
    done = ssh.control(site.alias, "check", timeout=timeout)
    if done.ok:
        m = _PID.search(done.stderr)
        return Master(site.id, site.alias, State.LIVE, path, int(m.group(1)) if m else None, rec)
    if socket_state(Path(path)) == "refused":
        return Master(site.id, site.alias, State.STALE, path, record=rec)
    return Master(site.id, site.alias, State.NONE, path, record=rec)


def socket_state(path: Path) -> str:
    """``absent``, ``not-ours`` (not a socket of this user), ``refused`` (nobody listens) or ``alive``."""
    try:
        st = path.lstat()
    except OSError:
        return "absent"
    if not stat.S_ISSOCK(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        return "not-ours"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2.0)
        s.connect(str(path))
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "not-ours"
    finally:
        s.close()
    return "alive"


def clean_stale(path: Path) -> bool:
    """Remove a dead master's socket: only our own socket file that nobody answers on."""
    if socket_state(path) != "refused":
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class Gate:
    live: tuple[Site, ...]  # go over their master (Master.REUSE): no new authentication
    blocked: tuple[Site, ...]  # no live master and known to ask for a second factor: do not connect
    refusal: LoginRequired | None  # the one-line refusal naming every blocked site


def check(paths: Paths, ssh: Ssh, sites: Sequence[Site]) -> Gate:
    """The policy applied: which sites a command may reach over a live master, which not at all."""
    doc = load(paths)
    masters = {s.id: probe(ssh, s, doc) for s in sites}
    live = {k: m.state is State.LIVE for k, m in masters.items()}
    refusal = require_login(sites, live, doc)
    blocked = tuple(s for s in sites if not live[s.id] and second_factor_reason(s, doc) is not None)
    return Gate(tuple(s for s in sites if live[s.id]), blocked, refusal)


def gate(paths: Paths, ssh: Ssh, sites: Sequence[Site]) -> list[Site]:
    """For a command about to connect to ``sites`` by itself: the sites with a live master
    (use it); raises ``LoginRequired`` when one without is known to ask for a second factor."""
    g = check(paths, ssh, sites)
    if g.refusal is not None:
        raise g.refusal
    return list(g.live)


def admit(paths: Paths, ssh: Ssh, sites: Sequence[Site]) -> list[Site]:
    """``gate`` for a command that may offer the login on a terminal (``wait``): the sites with a
    live master; the refusal when one without is known to ask for a second factor."""
    g = check(paths, ssh, sites)
    if g.refusal is not None and _on_terminal():
        from sshsetup.commands.login import offer

        if offer(paths, g):
            g = check(paths, ssh, sites)
    if g.refusal is not None:
        raise g.refusal
    return list(g.live)


def _on_terminal() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stderr.isatty()


def remember_partial_success(paths: Paths, site: Site) -> None:
    """A probe saw "partial success": from now on the site needs ``sshsetup login`` first."""
    doc = load(paths)
    if site.id not in (doc.get("second_factor") or {}):
        learn_second_factor(doc, site.id, "partial success (a second factor was asked after the key)", time.time())
        save(paths, doc)
