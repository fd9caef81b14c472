"""Checks for a chain of Slurm jobs that together outlive one job's time limit (issue 15).

Pure functions: the caller passes the link's time (minutes, already checked against
the partition by ``jobscript``) and the chain options; ``check_chain`` either returns
a frozen ``ChainPlan`` or raises ``BadInput`` with the numbers that do not fit.
Nothing is written or submitted before this passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sshsetup.errors import BadInput

MIN_LEAD_SECONDS = 60
CONTINUE_EXIT = 75  # a link that stopped for the next one (sysexits EX_TEMPFAIL: "try again later")
DEFAULT_LEAD_SECONDS = 300
DEFAULT_EVERY_SECONDS = 1800
CAP_HOURS = 14 * 24  # N links x link time beyond this needs --yes
DURATION_HINT = "use seconds (90s), minutes (30m), hours (2h) or HH:MM:SS, e.g. --checkpoint-every 30m"

_UNIT = re.compile(r"\A([0-9]{1,7})([smh]?)\Z")
_CLOCK = re.compile(r"\A([0-9]{1,4}):([0-5][0-9]):([0-5][0-9])\Z")
_SECONDS = {"s": 1, "": 1, "m": 60, "h": 3600}
# a checkpoint dir goes into the script inside double quotes: only path characters and $NAME / ${NAME}
_DIR_WORD = re.compile(r"\A(?:[A-Za-z0-9_./+,:@%=-]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})+\Z")
DIR_HINT = "use a path of letters, digits and ./_-, with $VARIABLES allowed, e.g. --checkpoint-dir '$SCRATCH/ckpt'"


@dataclass(frozen=True)
class ChainPlan:
    links: int
    link_seconds: int
    every_seconds: int
    lead_seconds: int
    ckpt_dir: str
    dependency: bool  # False: job array --array=0-(N-1)%1; True: afterany chain

    @property
    def every(self) -> str:
        return fmt_seconds(self.every_seconds)

    @property
    def lead(self) -> str:
        return fmt_seconds(self.lead_seconds)

    @property
    def array(self) -> str:
        return f"0-{self.links - 1}%1"

    @property
    def signal(self) -> str:
        return f"B:USR1@{self.lead_seconds}"


def fmt_seconds(seconds: int) -> str:
    """1830 -> '30m30s'; 7200 -> '2h'; 45 -> '45s'."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


def parse_duration(option: str, value: str) -> int:
    """A duration option's text -> seconds; ``BadInput`` naming the option otherwise."""
    text = value.strip()
    m = _UNIT.match(text)
    if m is not None:
        return int(m.group(1)) * _SECONDS[m.group(2)]
    c = _CLOCK.match(text)
    if c is not None:
        return int(c.group(1)) * 3600 + int(c.group(2)) * 60 + int(c.group(3))
    raise BadInput(f"{option} {value!r} is not a duration", hint=DURATION_HINT)


def check_dir(value: str) -> str:
    """``--checkpoint-dir``: a leading ``~/`` becomes ``$HOME/``; only characters that are inert inside
    double quotes, so the text is safe in ``export SSHSETUP_CKPT_DIR="..."`` and ``$VARIABLES`` still work."""
    text = "$HOME" + value[1:] if value == "~" or value.startswith("~/") else value
    if not _DIR_WORD.match(text) or len(text) > 4096:
        raise BadInput(f"--checkpoint-dir {value!r} is not a path sshsetup can put in a job script", hint=DIR_HINT)
    return text


def default_dir(job_name: str, account: str, jsc_site: bool) -> str:
    """On JSC: the project's scratch file system (``$SCRATCH_<account>``); elsewhere next to the script."""
    if not jsc_site:
        return f"$SLURM_SUBMIT_DIR/{job_name}-ckpt"
    scratch = f"$SCRATCH_{account}" if re.fullmatch(r"[A-Za-z0-9_]+", account) else "$SCRATCH"
    return f"{scratch}/{job_name}-ckpt"


def under_home(path: str, home: str) -> bool:
    """Whether ``path`` is ``$HOME``/``~`` or below it (``home`` is the remote home, if known)."""
    if path in ("~", "$HOME", "${HOME}") or path.startswith(("~/", "$HOME/", "${HOME}/")):
        return True
    home = home.rstrip("/")
    return bool(home) and (path == home or path.startswith(home + "/"))


def check_chain(
    links: int,
    link_minutes: int,
    *,
    every: str | None = None,
    lead: str | None = None,
    ckpt_dir: str,
    jsc_site: bool,
    home: str = "",
    yes: bool = False,
    dependency: bool = False,
) -> ChainPlan:
    """All chain checks, in the order a user fixes them; the plan, or ``BadInput`` with numbers."""
    if links < 2:
        raise BadInput(f"--chain {links}: a chain needs at least 2 links", hint="use --chain 2 or more, or drop --chain")
    given, ckpt_dir = ckpt_dir, check_dir(ckpt_dir)
    every_s = DEFAULT_EVERY_SECONDS if every is None else parse_duration("--checkpoint-every", every)
    lead_s = DEFAULT_LEAD_SECONDS if lead is None else parse_duration("--signal-lead", lead)
    link_s = link_minutes * 60
    if lead_s < MIN_LEAD_SECONDS:
        raise BadInput(
            f"--signal-lead {fmt_seconds(lead_s)} is shorter than the minimum of 1m",
            hint="the last checkpoint must be written before the kill: use --signal-lead 1m or more (default 5m)",
        )
    if every_s < 1:
        raise BadInput("--checkpoint-every 0s: the interval must be at least 1s", hint=DURATION_HINT)
    if every_s + lead_s > link_s:
        raise BadInput(
            f"--checkpoint-every {fmt_seconds(every_s)} plus --signal-lead {fmt_seconds(lead_s)} is "
            f"{fmt_seconds(every_s + lead_s)}, longer than the link's {fmt_seconds(link_s)}: "
            "a link would end before its first checkpoint",
            hint=f"use --checkpoint-every {fmt_seconds(max(1, link_s - lead_s))} or less, or a longer --time",
        )
    if jsc_site and under_home(ckpt_dir, home):
        raise BadInput(
            f"--checkpoint-dir {given} is under $HOME, whose quota is small on JSC systems",
            hint="put checkpoints on $SCRATCH or $PROJECT, e.g. --checkpoint-dir '$SCRATCH/ckpt'",
        )
    total_h = links * link_s / 3600
    if total_h > CAP_HOURS and not yes:
        raise BadInput(
            f"--chain {links} x {fmt_seconds(link_s)} is {total_h:g}h, beyond the cap of {CAP_HOURS}h",
            hint="check the numbers, then re-run with --yes to write it anyway",
        )
    return ChainPlan(links, link_s, every_s, lead_s, ckpt_dir, dependency)
