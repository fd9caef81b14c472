"""The session job of ``sshsetup code`` / ``serve``: pure pieces (issue 14).

A *profile* is site + partition + resources; its job is found again by its name
``sshsetup-code-<profile>``. Here: the name, the ``sbatch`` words and the holder script
(a watchdog that cancels the job after ``--idle`` without a client and says why in the
job's comment), parsing ``squeue``'s output, the waiting state machine, and the lines
the user sees (the live PENDING line, walltime warnings, ``code --list``).
No I/O: ``sshsetup.slurm.session_remote`` runs the commands over the site's master.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sshsetup import validate
from sshsetup.errors import BadInput

PREFIX = "sshsetup-code-"
POLL_SECONDS = 5.0  # never poll faster than this (the issue: "at least 5 s apart")
WARN_LEADS = (900, 300)  # walltime warnings: 15 and 5 minutes before the end
DEFAULT_IDLE = 30 * 60
# squeue -o: fields joined by a separator no job name of ours contains; the comment is last (free text)
SEP = "|"
SQUEUE_FORMAT = SEP.join(("%i", "%j", "%T", "%r", "%M", "%L", "%l", "%D", "%N", "%P", "%V", "%k"))
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_SLURM_TIME = re.compile(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)")
_LISTENING = re.compile(r"listeningOn==?(\d+)")
_IDLE_SINCE = re.compile(r"sshsetup: idle since (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
ACTIVE = frozenset({"PENDING", "RUNNING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED"})


class Phase(str, enum.Enum):
    WAITING = "waiting"  # PENDING (or configuring): keep polling
    READY = "ready"  # RUNNING on a node: connect
    GONE = "gone"  # ended, cancelled or no longer known: stop


@dataclass(frozen=True)
class Profile:
    site: str
    partition: str
    gpus: int
    time: str  # canonical [D-]HH:MM:SS

    @property
    def key(self) -> str:
        return f"{self.site}-{self.partition}-g{self.gpus}"

    @property
    def job_name(self) -> str:
        name = PREFIX + self.key
        if not _NAME.fullmatch(name):
            raise BadInput(f"job name {validate.shown(name)} is not valid", hint="use a site id and partition of letters, digits, '.', '_', '-'")
        return name


@dataclass(frozen=True)
class Job:
    """One row of ``squeue -o SQUEUE_FORMAT``."""

    id: int
    name: str
    state: str
    reason: str
    elapsed: int  # seconds
    left: int | None  # seconds; None: no limit / not known
    limit: int | None
    nodes: int
    nodelist: str
    partition: str
    submitted: str  # ISO local time as Slurm prints it
    comment: str

    @property
    def node(self) -> str | None:
        """The one node a running single-node job runs on."""
        return self.nodelist if self.nodes == 1 and _NAME.fullmatch(self.nodelist or "") else None


# --------------------------------------------------------------------------- parsing


def slurm_seconds(text: str) -> int | None:
    """Slurm's ``[D-][HH:]MM:SS`` (``%M``, ``%L``) -> seconds; ``UNLIMITED``/``INVALID``/``N/A`` -> None."""
    m = _SLURM_TIME.fullmatch(text.strip())
    if m is None:
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def parse_squeue(text: str) -> list[Job]:
    """Rows of ``squeue -h -o SQUEUE_FORMAT``; lines that are not such rows are skipped."""
    jobs = []
    for line in text.splitlines():
        parts = line.split(SEP, 11)
        if len(parts) != 12 or not parts[0].strip().isdigit():
            continue
        jid, name, state, reason, elapsed, left, limit, nodes, nodelist, part, submitted, comment = parts
        jobs.append(Job(
            id=int(jid), name=name.strip(), state=state.strip().split()[0] if state.strip() else "", reason=reason.strip(),
            elapsed=slurm_seconds(elapsed) or 0, left=slurm_seconds(left), limit=slurm_seconds(limit),
            nodes=int(nodes) if nodes.strip().isdigit() else 0, nodelist=nodelist.strip(), partition=part.strip(),
            submitted=submitted.strip(), comment="" if comment.strip() in ("(null)", "") else comment.strip(),
        ))
    return jobs


def parse_job_id(stdout: str) -> int | None:
    """``sbatch --parsable`` prints ``ID`` or ``ID;cluster``."""
    lines = [ln.strip() for ln in stdout.splitlines() if ln.strip()]
    head = lines[-1].split(";")[0] if lines else ""
    return int(head) if head.isdigit() else None


def listening_port(line: str) -> int | None:
    """The port in VS Code server's ``listeningOn=PORT`` (or ``listeningOn==PORT==``) line."""
    m = _LISTENING.search(line)
    return int(m.group(1)) if m else None


def parse_idle(text: str) -> int:
    """``--idle``: ``30m``, ``1h``, ``90s``, ``45`` (minutes) or ``0`` (never) -> seconds."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value) * 60
    m = _DURATION.fullmatch(value)
    if not value or m is None or not any(m.groups()):
        raise BadInput(f"--idle {validate.shown(text)} is not a duration", hint="e.g. --idle 30m, --idle 2h, or --idle 0 (never)")
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    seconds = (h * 60 + mi) * 60 + s
    if 0 < seconds < 10:
        raise BadInput(f"--idle {text} is shorter than 10 seconds", hint="e.g. --idle 30m, or --idle 0 (never)")
    return seconds


def parse_leads(text: str | None) -> tuple[int, ...]:
    """The walltime warning leads in seconds, from the tests' environment variable (default 900, 300)."""
    if not text:
        return WARN_LEADS
    leads = tuple(int(x) for x in text.split(",") if x.strip().isdigit())
    return tuple(sorted((x for x in leads if x > 0), reverse=True)) or WARN_LEADS


# --------------------------------------------------------------------------- the state machine


def phase(job: Job | None) -> Phase:
    if job is None or job.state not in ACTIVE:
        return Phase.GONE
    if job.state == "RUNNING" and job.node is not None:
        return Phase.READY
    return Phase.WAITING


def pick(jobs: Sequence[Job], name: str) -> Job | None:
    """The session job to reuse: a running one first, else the oldest pending one of that name."""
    mine = [j for j in jobs if j.name == name and j.state in ACTIVE]
    running = [j for j in mine if j.state == "RUNNING"]
    return min(running or mine, key=lambda j: j.id) if mine else None


def submitted_since(jobs: Sequence[Job], name: str, known: Sequence[int], since_iso: str) -> list[Job]:
    """Jobs of ``name`` submitted at or after ``since_iso`` that were not there before (Ctrl-C before sbatch answered)."""
    return [j for j in jobs if j.name == name and j.id not in known and j.submitted >= since_iso]


# --------------------------------------------------------------------------- what is shown


def clock_text(seconds: int) -> str:
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def pending_line(job: Job, waited: float) -> str:
    """The live line while the job waits: id, state, Slurm's reason, elapsed."""
    reason = f" ({job.reason})" if job.reason and job.reason not in ("None", "(null)") else ""
    return f"job {job.id} {job.state}{reason}, waiting {clock_text(int(waited))}"


def lead_text(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


def due_warnings(left: int, leads: Sequence[int], said: Sequence[int]) -> list[int]:
    """The leads to warn about now: time left is at most the lead, not said yet (the smallest once)."""
    due = [lead for lead in leads if left <= lead and lead not in said]
    return due[-1:] if due else []


def walltime_warning(job_id: int, left: int, lead: int) -> str:
    """The local terminal's warning; ``left`` (from squeue, rounded to the poll) is said when it is well below the lead."""
    when = lead_text(lead) if left > lead - 60 else f"{clock_text(left)} (min:s)"
    return f"warning: job {job_id} reaches its walltime in {when}: save your work"


def node_hours(job: Job) -> float:
    return round(job.nodes * job.elapsed / 3600, 2)


def idle_seconds(job: Job, now_iso: str | None) -> int | None:
    """From the watchdog's comment ``sshsetup: idle since <ISO time>`` and the login node's clock; None: in use or unknown."""
    m = _IDLE_SINCE.fullmatch(job.comment)
    if m is None or now_iso is None or job.state != "RUNNING":
        return None
    try:
        return max(0, int((datetime.fromisoformat(now_iso) - datetime.fromisoformat(m.group(1))).total_seconds()))
    except ValueError:
        return None


def list_rows(jobs: Sequence[Job], now_iso: str | None = None) -> list[dict[str, object]]:
    return [
        {"job": j.id, "name": j.name, "state": j.state, "node": j.nodelist if j.state == "RUNNING" else "",
         "reason": j.reason, "elapsed": j.elapsed, "left": j.left, "idle": idle_seconds(j, now_iso),
         "node_hours": node_hours(j), "comment": j.comment}
        for j in jobs if j.name.startswith(PREFIX)
    ]


def list_table(rows: Sequence[dict[str, object]]) -> str:
    head = ("JOB", "NAME", "STATE", "NODE", "LEFT", "IDLE", "NODE-HOURS", "NOTE")
    body = [
        (str(r["job"]), str(r["name"]), str(r["state"]), str(r["node"] or "-"),
         clock_text(int(r["left"])) if isinstance(r["left"], int) else "-",
         clock_text(int(r["idle"])) if isinstance(r["idle"], int) else "-", f"{r['node_hours']:.2f}",
         str(r["comment"] or (r["reason"] if r["state"] == "PENDING" else "")))
        for r in rows
    ]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n" for line in (head, *body))


# --------------------------------------------------------------------------- the job


def sbatch_words(profile: Profile, account: str, *, begin: str | None = None, dependency: int | None = None) -> list[str]:
    """``sbatch`` and its options for the holder job (the script comes on stdin)."""
    words = ["sbatch", "--parsable", f"--job-name={profile.job_name}", f"--account={validate.account(account)}",
             f"--partition={validate.partition(profile.partition, what='--partition')}", "--nodes=1", "--ntasks=1",
             f"--time={profile.time}", "--output=/dev/null"]
    if profile.gpus:
        words.append(f"--gres=gpu:{int(profile.gpus)}")
    if begin is not None:
        if not re.fullmatch(r"[A-Za-z0-9:+_-]{1,40}", begin):
            raise BadInput(f"--begin {validate.shown(begin)} is not a Slurm time", hint="e.g. --begin now+1hour or --begin 16:00")
        words.append(f"--begin={begin}")
    if dependency is not None:
        words.append(f"--dependency=afterany:{int(dependency)}")
    return words


HOLDER = """\
#!/bin/bash
# sshsetup code: the session job of profile {key}.
# It holds the node; VS Code's server and `sshsetup serve` run in steps of it (srun --overlap).
# Watchdog: no step for {idle_text} -> the job cancels itself and says why in its comment.
# Its comment says "sshsetup: idle since <time>" while no client is there (sshsetup code --list shows it).
idle={idle}
tick={tick}
last=$(date +%s)
active=1
trap 'exit 0' TERM
while :; do
  sleep "$tick" &
  wait $!
  if squeue -h -s -j "$SLURM_JOB_ID" -o %i 2>/dev/null | grep -Eq '^[0-9]+\\.[0-9]+$'; then
    last=$(date +%s)
    if [ "$active" = 0 ]; then
      active=1
      scontrol update JobId="$SLURM_JOB_ID" Comment="sshsetup: in use"
    fi
    continue
  fi
  if [ "$active" = 1 ]; then
    active=0
    scontrol update JobId="$SLURM_JOB_ID" Comment="sshsetup: idle since $(date -d "@$last" +%Y-%m-%dT%H:%M:%S)"
  fi
  if [ "$idle" -gt 0 ] && [ $(( $(date +%s) - last )) -ge "$idle" ]; then
    scontrol update JobId="$SLURM_JOB_ID" Comment="sshsetup: cancelled after {idle_text} without a client ($(date +%H:%M))"
    scancel "$SLURM_JOB_ID"
    exit 0
  fi
done
"""


def holder_script(profile: Profile, idle: int) -> str:
    tick = max(2, min(30, idle // 4)) if idle else 30
    return HOLDER.format(key=profile.key, idle=int(idle), tick=tick, idle_text=lead_text(idle) if idle else "ever (--idle 0)")
