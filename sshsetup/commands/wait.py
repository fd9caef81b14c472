"""``sshsetup wait``: check that the uploaded key works, without upsetting JSC's firewall.

A few ``BatchMode=yes`` probes (default 6) spread over about 15 minutes with
doubling gaps — JSC blocks addresses that connect too often, so this never loops
fast. A server that accepts the key and then asks for a second factor counts as
the key working (``Authenticated using "publickey" with partial success``).
Outcomes that more probes cannot fix (refused, silent server, changed host key)
stop at once. What a probe shows about the host key (new, or changed) comes from
``sshsetup.ssh.hostkey``, which doctor's probe uses too.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from sshsetup import output, remembered
from sshsetup.catalogue import load_catalogue
from sshsetup.errors import EXIT_FAIL, EXIT_OK, BadInput
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.ssh.client import Master, Ssh
from sshsetup.ssh.hostkey import host_key_lines, new_host_key
from sshsetup.support import sshlog

WORKS = {"accepted", "partial-success-2fa", "passphrase-needed"}
RETRY = {"publickey-refused"}


@dataclass(frozen=True)
class ProbeResult:
    alias: str
    cause: str  # an sshlog cause id, or "unknown"
    title: str
    hint: str
    transcript: str

    def new_host_key(self) -> tuple[str, str, str] | None:
        """(host as known_hosts names it, key type, SHA256 fingerprint) when this probe added the host key."""
        return new_host_key(self.transcript)


def schedule(max_wait_s: float, probes: int) -> list[float]:
    """Start times of the probes: 0, then gaps w, 2w, 4w... summing to ``max_wait_s``."""
    if probes < 1:
        raise BadInput("--probes must be at least 1", hint="e.g. --probes 6")
    if max_wait_s < 0:
        raise BadInput("--max-wait cannot be negative", hint="give minutes, e.g. --max-wait 15")
    if probes == 1:
        return [0.0]
    unit = max_wait_s / (2 ** (probes - 1) - 1)
    times, t = [0.0], 0.0
    for i in range(probes - 1):
        t += unit * 2**i
        times.append(t)
    return times


def probe_argv(ssh: Ssh, alias: str, timeout: float) -> list[str]:
    """A probe of the key itself: its own connection (``Master.NONE``), never a live master."""
    return ssh.argv(alias, "true", verbose=1, connect_timeout=timeout, master=Master.NONE,
                    options={"StrictHostKeyChecking": "accept-new"})


def probe(ssh: Ssh, alias: str, timeout: float = 15.0) -> ProbeResult:
    done = ssh.run(probe_argv(ssh, alias, timeout), timeout=timeout + 10)
    text = done.stderr + ("\nConnection timed out during banner exchange\n" if done.timed_out else "")
    findings = sshlog.classify(text)
    ids = [f.cause for f in findings]
    for wanted in ("hostkey-changed", "too-many-failures", "partial-success-2fa", "accepted", "passphrase-needed",
                   "publickey-refused"):
        if wanted in ids:
            f = findings[ids.index(wanted)]
            return ProbeResult(alias, f.cause, f.title, f.hint, text)
    if findings:
        f = findings[0]
        return ProbeResult(alias, f.cause, f.title, f.hint, text)
    last = (text.strip().splitlines() or ["no output"])[-1]
    return ProbeResult(alias, "unknown", f"ssh failed: {last}", "run: sshsetup doctor", text)


@dataclass(frozen=True)
class WaitOptions:
    sites: tuple[str, ...] = ()
    sites_file: Path | None = None
    max_wait: float = 15.0  # minutes
    probes: int = 6


def run(paths: Paths, options: WaitOptions, *, say: Callable[[str], None] = output.say,
        sleep: Callable[[float], None] = time.sleep, outcomes: dict[str, ProbeResult | None] | None = None) -> Result:
    """Probe the sites (``--site``, else those ``init`` set up); progress goes to ``say`` as it happens.

    ``outcomes``: filled with the last probe per alias (None: a live login of ``sshsetup login``).
    """
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    sites = remembered.choose_sites(catalogue, options.sites, rem)
    ssh = Ssh.for_paths(paths)
    from sshsetup.ssh import master  # issue 13: a live login is used; no authentication behind the user's back

    live = {s.alias for s in master.admit(paths, ssh, sites)}
    by_alias = {s.alias: s for s in sites}
    code = probe_all(ssh, [s.alias for s in sites], max_wait_s=options.max_wait * 60, live=live,
                     partial_success=lambda alias: master.remember_partial_success(paths, by_alias[alias]),
                     probes=options.probes, say=say, sleep=sleep, key=rem.key or paths.default_key,
                     outcomes=outcomes, compare={s.alias: str(s.get("docs_url")) for s in sites if s.get("docs_url")})
    return Result("wait", code)


def probe_all(ssh: Ssh, aliases: list[str], *, max_wait_s: float, probes: int,
              say: Callable[[str], None], sleep: Callable[[float], None] = time.sleep, key: Path | None = None,
              outcomes: dict[str, ProbeResult | None] | None = None, compare: Mapping[str, str] | None = None,
              live: Collection[str] = (), partial_success: Callable[[str], None] = lambda _alias: None) -> int:
    """``key``: the private key the config names, put into the ``ssh-add`` hint in place of ``KEYFILE``;
    ``compare``: per alias, where its host key fingerprints are published (the catalogue's docs_url);
    ``live``: aliases with a live login (not probed); ``partial_success``: called when a probe saw one."""
    seen: dict[str, ProbeResult | None] = {} if outcomes is None else outcomes
    times = schedule(max_wait_s, probes)
    pending = list(aliases)
    failed = False
    for alias in [a for a in pending if a in live]:
        pending.remove(alias)
        seen[alias] = None
        say(f"✓ {alias}: the key works (the login of sshsetup login is live; no new authentication).")
    start = time.monotonic()
    for n, at in enumerate(times, 1):
        delay = at - (time.monotonic() - start)
        if delay > 0:
            _countdown(delay, n, len(times), say, sleep)
        for alias in list(pending):
            r = probe(ssh, alias)
            seen[alias] = r
            added = r.new_host_key()
            if added is not None:
                for line in host_key_lines(alias, added, (compare or {}).get(alias)):
                    say(line)
            if r.cause in WORKS:
                pending.remove(alias)
                say(f"✓ {alias}: the key works ({r.title}).")
                if r.cause == "partial-success-2fa":
                    partial_success(alias)
                    say(f"  {alias} asks for a second factor: a code (TOTP) will be asked at login; in VS Code keep remote.SSH.showLoginTerminal on.")
                if r.cause == "passphrase-needed":
                    say(f"  {agent_hint(r.hint, key)}")
            elif r.cause in RETRY:
                say(f"… {alias}: not accepted yet (probe {n} of {len(times)}): the upload may still be propagating.")
            else:
                pending.remove(alias)
                failed = True
                say(f"✗ {alias}: {r.title}")
                say(f"  hint: {filled(r.hint, alias, key)}")
        if not pending:
            break
    for alias in pending:
        failed = True
        say(f"✗ {alias}: still refused after {len(times)} probes over {max_wait_s / 60:.0f} min.")
        say("  hint: check in JuDoor that the key is uploaded for this system, then run: sshsetup doctor")
    return EXIT_FAIL if failed else EXIT_OK


def filled(hint: str, alias: str, key: Path | None) -> str:
    """A classifier hint with its placeholders filled in: ALIAS is the alias, KEYFILE the config's key."""
    text = re.sub(r"\bALIAS\b", alias, hint)
    return re.sub(r"\bKEYFILE\b", str(key), text) if key is not None else text


def agent_hint(hint: str, key: Path | None) -> str:
    """The ``passphrase-needed`` hint with the real key path: "To log in without typing the passphrase each time,
    add the key to your agent once: ssh-add PATH (macOS: ...)" (sshlog's "then retry" does not apply: it works)."""
    import re

    text = hint.replace("KEYFILE", str(key) if key is not None else "KEYFILE").removesuffix(", then retry")
    if sys.platform != "darwin":  # the path once: the Keychain variant only where there is a Keychain
        text = re.sub(r" \(macOS: [^)]*\)", "", text)
    return f"To log in without typing the passphrase each time, {text}."


def _countdown(delay: float, n: int, total: int, say: Callable[[str], None], sleep: Callable[[float], None]) -> None:
    if not sys.stderr.isatty():
        say(f"  next probe ({n} of {total}) in {delay:.0f} s")
        sleep(delay)
        return
    end = time.monotonic() + delay
    while (left := end - time.monotonic()) > 0:
        sys.stderr.write(f"\r  next probe ({n} of {total}) in {int(left) // 60}:{int(left) % 60:02d} ")
        sys.stderr.flush()
        sleep(min(1.0, left))
    sys.stderr.write("\r" + " " * 40 + "\r")
