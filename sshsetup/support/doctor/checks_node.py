"""The node of a ``proxyjump`` session entry (``sshsetup code --transport proxyjump``): is a job of yours running there?

At JSC a compute node admits you only while you have a job running on it (pspam), so an entry
whose job ended is refused with a bare "Permission denied". This check reads the entry's node
from the managed block and asks Slurm over the site's live login only (``ssh -O check`` first;
every authentication method off, so no new authentication can happen): ``squeue`` for a job
there, and for when the last one ended ``squeue`` (recently ended jobs) and then ``sacct``
(only where the cluster keeps job accounting; else the end time is unknown), with Slurm's standard
time format whatever ``SLURM_TIME_FORMAT`` the user's shell sets. Read-only.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from sshsetup.slurm import STANDARD_TIME
from sshsetup.support.doctor.model import Check, DoctorContext, Finding, ok, skip, warn

BEGIN, END = "__SSHSETUP_NODE_BEGIN__", "__SSHSETUP_NODE_END__"
_WORD = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_JOB = re.compile(r"\d{1,12}(?:_\d{1,12})?")
_ENDED = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d")
_TODAY = re.compile(r"^today=(\d{4}-\d\d-\d\d)$", re.M)


@dataclass(frozen=True)
class NodeEntry:
    alias: str
    site_id: str
    node: str


def entries(ctx: DoctorContext) -> list[NodeEntry]:
    """The proxyjump session entries of the block whose site doctor looks at."""
    from sshsetup import files, textfile
    from sshsetup.slurm import session_alias
    from sshsetup.ssh import block

    data = files.read_bytes(ctx.paths.ssh_config)
    if data is None:
        return []
    text = textfile.decode(data, ctx.paths.ssh_config, allow_bom=False).text
    found = block.find_block(text, ctx.paths.ssh_config)
    sessions = found.options.get("sessions") if found is not None else None
    if not isinstance(sessions, dict):
        return []
    ids = {s.id for s in ctx.sites}
    out = []
    for alias, lines in block.session_entries(text, ctx.paths.ssh_config).items():
        node = session_alias.proxyjump_node(lines[0])
        site_id = sessions.get(alias)
        if node is not None and isinstance(site_id, str) and site_id in ids:
            out.append(NodeEntry(alias, site_id, node))
    return out


def script(user: str, node: str) -> str:
    """squeue (running, and recently ended with their end time), then sacct: fields split by '|'.

    Both print times in the ISO form parse() reads whatever SLURM_TIME_FORMAT the user's shell sets, and in
    the cluster's time zone: its date comes first, so that "today" is the cluster's, not the laptop's.
    """
    return (f"echo {BEGIN}; echo \"today=$(date +%Y-%m-%d)\"; {STANDARD_TIME}echo squeue; squeue -h -t all -u {user} -w {node} -o '%i|%T|%e' 2>&1; "
            f"echo sacct; out=$(sacct -X -n -P -u {user} -N {node} -S now-7days -o JobID,State,End 2>&1); echo \"rc=$?\"; "
            f"printf '%s\\n' \"$out\" | tail -n 50; echo {END}")


@dataclass(frozen=True)
class Answer:
    running: str | None  # the job id running on the node
    ended: tuple[str, str] | None  # (job id, end time HH:MM or YYYY-MM-DD HH:MM) of the newest ended job
    accounting: bool  # sacct answered


def parse(out: str, today: str) -> Answer:
    """The answer of ``script``; ``today`` (YYYY-MM-DD) unless the cluster said its own date."""
    part = out.split(BEGIN, 1)[-1].split(END, 1)[0]
    said = _TODAY.search(part)
    today = said.group(1) if said else today
    squeue, _, sacct = part.partition("\nsacct\n")
    rows = [r for r in (ln.split("|") for ln in squeue.splitlines()[1:]) if len(r) == 3 and _JOB.fullmatch(r[0].strip())]
    running = next((r[0].strip() for r in rows if r[1].strip() == "RUNNING"), None)
    head, _, body = sacct.partition("\n")
    accounting = head.strip() == "rc=0" and not re.search(r"(?i)\berror\b", body)
    acct_rows = [r for r in (ln.split("|") for ln in body.splitlines()) if len(r) == 3 and _JOB.fullmatch(r[0].strip())]
    ended = [(r[0].strip(), m) for r in rows + (acct_rows if accounting else [])
             if r[1].strip().split(" ")[0] not in ("RUNNING", "PENDING", "") and (m := _ENDED.fullmatch(r[2].strip()))]
    if not ended:
        return Answer(running, None, accounting)
    job, m = max(ended, key=lambda e: e[1].group(0))
    when = m.group(2) if m.group(1) == today else f"{m.group(1)} {m.group(2)}"
    return Answer(running, (job, when), accounting)


def check_node_job(ctx: DoctorContext) -> Finding:
    from sshsetup.slurm.session_remote import NO_AUTH
    from sshsetup.ssh import master
    from sshsetup.ssh.client import Master

    found = entries(ctx)
    if not found:
        return skip("no proxyjump session entry in the sshsetup block (sshsetup code --transport proxyjump adds one)")
    ssh = ctx.ssh()
    doc = master.load(ctx.paths)
    sites = {s.id: s for s in ctx.sites}
    said: list[str] = []
    worst = ok
    hint = None
    for e in found:
        site = sites[e.site_id]
        if master.probe(ssh, site, doc, timeout=ctx.probe_timeout).state is not master.State.LIVE:
            said.append(f"{e.alias}: node {e.node} not asked: no open login to {site.id}")
            hint = hint or f"sshsetup login --site {site.id}, then sshsetup doctor again"
            worst = warn if worst is ok else worst
            continue
        user = (ssh.dump(site.alias).get("user") or [""])[0]
        if not (_WORD.fullmatch(user) and _WORD.fullmatch(e.node)):
            said.append(f"{e.alias}: node {e.node} not asked: no usable user for {site.alias}")
            worst = warn
            continue
        argv = ssh.argv(site.alias, script(user, e.node), master=Master.REUSE, connect_timeout=10, options=NO_AUTH)
        done = ssh.run(argv, timeout=max(5.0, ctx.check_timeout - 1))
        if BEGIN not in done.stdout:
            said.append(f"{e.alias}: Slurm on {site.alias} did not answer about node {e.node}")
            worst = warn
            continue
        answer = parse(done.stdout, time.strftime("%Y-%m-%d"))
        if answer.running is not None:
            said.append(f"{e.alias}: your job {answer.running} runs on node {e.node}")
            continue
        worst = warn
        hint = hint or f"the node admits you only while a job of yours runs there: sshsetup code --site {site.id} --transport proxyjump"
        if answer.ended is not None:
            said.append(f"{e.alias}: no running job on node {e.node}; your job {answer.ended[0]} on that node ended at {answer.ended[1]}")
        elif answer.accounting:
            said.append(f"{e.alias}: no running job on node {e.node}; no job of yours ran there in the last 7 days")
        else:
            said.append(f"{e.alias}: no running job on node {e.node}; when your last job there ended is unknown"
                        " (the cluster keeps no job accounting)")
    return worst("; ".join(said), hint if worst is not ok else None)


CHECKS: tuple[Check, ...] = (
    Check.once("node.session-job", "a proxyjump session entry's node runs a job of yours (JSC admits you only then)",
               check_node_job),
)
