"""The guided end of ``sshsetup init`` on a terminal: from the key line to a tested login.

After init has printed the key line (stdout stays the line alone), on a terminal and without
``--no-guide``: the line framed on its own with "copy this line", copied to the clipboard (or
"no clipboard tool was found"), the JuDoor page opened in the browser (or its URL), a wait for
Enter, then ``sshsetup wait`` itself, ending with "✓ you can log in: ssh ALIAS" or the named cause.

Everything it states is read back from what init wrote: the sites from the config's block, the
line from the key-line records.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from sshsetup.catalogue import Site
from sshsetup.errors import EXIT_FAIL, EXIT_OK
from sshsetup.paths import Paths

RULE_WIDTH = 60
JUDOOR = "https://judoor.fz-juelich.de"


@dataclass(frozen=True)
class Io:
    """The guide's contact with the world (stand-ins in tests are external programs, not this)."""

    say: Callable[[str], None]
    enter: Callable[[str], None]  # shows the question, returns on Enter (Ctrl-C: KeyboardInterrupt)
    copy: Callable[[str], str | None] = field(default=lambda text: _copy(text))
    open_url: Callable[[str], bool] = field(default=lambda url: _open(url))


def _copy(text: str) -> str | None:
    from sshsetup import clipboard

    return clipboard.copy(text)


def can_open_browser(env: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
    """A graphical browser can be started: not on a Linux console without a display (webbrowser would
    pick a text browser that takes over this very terminal), unless ``$BROWSER`` names one."""
    env = dict(os.environ) if env is None else env
    if env.get("BROWSER"):
        return True
    if platform.startswith("linux"):
        return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("WSL_DISTRO_NAME"))
    return True


def _open(url: str) -> bool:
    if not can_open_browser():
        return False
    import webbrowser

    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


def framed(line: str) -> list[str]:
    """The line on its own between two rules, nothing on its left or right (so a copy is exact)."""
    head = "── copy this line "
    return ["", head + "─" * max(3, RULE_WIDTH - len(head)), line, "─" * RULE_WIDTH, ""]


@dataclass(frozen=True)
class Target:
    sites: list[Site]  # the JSC sites init set up, in the block's order
    line: str


def target(paths: Paths) -> Target | None:
    """What init wrote: the JSC sites of the block and the line recorded for them; None: nothing to guide."""
    from sshsetup import remembered
    from sshsetup.catalogue import load_catalogue
    from sshsetup.judoor import records

    rem = remembered.load(paths)
    if not rem.sites:
        return None
    sites = [s for s in remembered.choose_sites(load_catalogue(rem.sites_file, paths.sites_file), (), rem) if s.is_jsc]
    recs = records.load(paths.keylines)
    lines = {recs[s.id].line for s in sites if s.id in recs}
    if not sites or len(lines) != 1:
        return None
    return Target(sites, lines.pop())


def run(paths: Paths, io: Io, *, max_wait: float = 15.0, probes: int = 6) -> int:
    """The hand-off, then ``wait``; the exit code is wait's."""
    from sshsetup.commands import wait

    t = target(paths)
    if t is None:
        return EXIT_OK
    for text in framed(t.line):
        io.say(text)
    if os.environ.get("SSHSETUP_NO_CLIPBOARD") is not None:
        io.say("not copied to the clipboard (SSHSETUP_NO_CLIPBOARD is set): select the line above and copy it")
    else:
        tool = io.copy(t.line)
        io.say(f"✓ copied to the clipboard (with {tool})" if tool else
               "no clipboard tool was found (pbcopy, clip.exe, wl-copy, xclip): select the line above and copy it")
    url = str(t.sites[0].get("judoor_url", JUDOOR))
    io.say(f"✓ opened JuDoor in your browser: {url}" if io.open_url(url) else f"open JuDoor in a browser: {url}")
    io.say("In JuDoor > Manage SSH keys, add the line for each system: "
           + ", ".join(f"{s.name} ({s.alias})" for s in t.sites) + ".")
    io.enter("Press Enter when the line is saved in JuDoor, to check the login (Ctrl-C: check later with sshsetup wait)")
    outcomes: dict[str, wait.ProbeResult | None] = {}
    options = wait.WaitOptions(sites=tuple(s.id for s in t.sites), max_wait=max_wait, probes=probes)
    wait.run(paths, options, say=io.say, outcomes=outcomes)
    failed = False
    for s in t.sites:
        if s.alias not in outcomes:
            failed = True  # no probe ran: wait said why
            continue
        r = outcomes[s.alias]
        if r is None or r.cause in wait.WORKS:
            io.say(f"✓ you can log in: ssh {s.alias}")
            continue
        failed = True
        io.say(f"✗ you cannot log in to {s.alias} yet: {r.title}")
        io.say(f"  next: sshsetup doctor --site {s.id}   (it names the cause and the fix)")
    return EXIT_FAIL if failed else EXIT_OK
