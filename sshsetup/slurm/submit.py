"""``jobscript --submit [--follow]``: submit over the live login, watch the queue, follow the output.

Everything goes over the site's live ControlMaster (``Master.REUSE``); without one nothing
is sent and the user is told to log in (``ssh.master``'s policy: no authentication behind
the user's back, and one connection for all the polls). The script travels on sbatch's
stdin, so no file is written on the cluster but the job's own output. Every remote command
line is fixed text plus validated values (a job id is digits; a path goes through
``shell_join``). What the cluster prints passes ``sanitize`` before it reaches the terminal.
"""

from __future__ import annotations

import base64
import codecs
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sshsetup.errors import SshSetupError
from sshsetup.sanitize import shown, shown_block

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths
    from sshsetup.ssh.client import Completed, Ssh

FINISHED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL",
            "DEADLINE", "REVOKED", "SPECIAL_EXIT")
MARK = "#sshsetup-output"
CHUNK = 1 << 16
_JOB_ID = re.compile(r"\A(\d{1,12})(?:;\S+)?\Z")
_FIELD = re.compile(r"(\w+)=(\S*)")


class SubmitFailed(SshSetupError):
    """sbatch or the connection refused the job (exit 1)."""


@dataclass(frozen=True)
class Outcome:
    job_id: int
    state: str  # the job's last state (COMPLETED, FAILED...); "SUBMITTED" without --follow
    exit_code: str  # Slurm's "rc:signal", "" if unknown
    stdout_path: str
    queued_seconds: float  # submit -> running (queue wait)
    run_seconds: float  # running -> finished, as seen from here


def _remote(ssh: Ssh, site: Site, command: str, *, input: str | None = None, timeout: float = 30.0) -> Completed:
    from sshsetup.ssh.client import Master

    return ssh.run(ssh.argv(site.alias, command, master=Master.REUSE, connect_timeout=10), timeout=timeout, input=input)


def require_live(paths: Paths, ssh: Ssh, site: Site) -> None:
    """The one connection must be there already; never start a login for the user."""
    from sshsetup.ssh import master

    gate = master.check(paths, ssh, [site])
    if gate.refusal is not None:
        raise gate.refusal
    if not gate.live:
        raise master.LoginRequired(f"--submit needs the login of {site.id} first: run sshsetup login --site {site.id}")


def sbatch(ssh: Ssh, site: Site, script: str) -> int:
    """``sbatch --parsable`` with the script on stdin; the job id."""
    done = _remote(ssh, site, "sbatch --parsable", input=script, timeout=60)
    m = _JOB_ID.match(done.stdout.strip())
    if not done.ok or m is None:
        why = shown(" / ".join(done.stderr_lines[-3:]) or done.stdout.strip() or f"exit {done.returncode}")
        raise SubmitFailed(f"sbatch on {site.alias} refused the job: {why}", hint="fix the script or the options and submit again")
    return int(m.group(1))


def job_fields(ssh: Ssh, site: Site, job_id: int) -> dict[str, str]:
    """``scontrol -o show job ID`` as fields (empty once Slurm forgot the job)."""
    done = _remote(ssh, site, f"scontrol -o show job {int(job_id)}")
    return dict(_FIELD.findall(done.stdout)) if done.ok else {}


def _poll(ssh: Ssh, site: Site, job_id: int, path: str, offset: int) -> tuple[dict[str, str], bytes]:
    """The job's fields and up to CHUNK new bytes of its output from ``offset``: one remote command."""
    from sshsetup.ssh.client import shell_join

    command = (f"scontrol -o show job {int(job_id)}; echo {shell_join([MARK])}; "
               f"tail -c +{int(offset) + 1} {shell_join([path])} 2>/dev/null | head -c {CHUNK} | base64")
    done = _remote(ssh, site, command)
    head, _, body = done.stdout.partition(MARK)
    try:
        data = base64.b64decode("".join(body.split()), validate=True)
    except ValueError:
        data = b""
    return dict(_FIELD.findall(head)), data


def follow(ssh: Ssh, site: Site, job_id: int, *, say: Callable[[str], None], write: Callable[[str], None],
           interval: float = 2.0, clock: Callable[[], float] = time.monotonic) -> Outcome:
    """Queue state changes to ``say`` (stderr), the job's output to ``write`` (stdout), until the job ends."""
    t0 = clock()
    running_at: float | None = None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    offset, last, path = 0, "", ""
    fields: dict[str, str] = {}
    while True:
        fields, data = _poll(ssh, site, job_id, path, offset) if path else (job_fields(ssh, site, job_id), b"")
        path = path or fields.get("StdOut", "")
        if data:
            offset += len(data)
            write(shown_block(decoder.decode(data)))
        state = fields.get("JobState", "")
        if state and state != last:
            reason = fields.get("Reason", "None")
            if state == "PENDING":
                why = f" ({shown(reason)})" if reason not in ("None", "") else ""
                say(f"job {job_id}: waiting in the queue{why}")
            elif state == "RUNNING":
                running_at = clock()
                say(f"job {job_id}: running on {shown(fields.get('NodeList', '?'))}, output {shown(path)}")
            last = state
        if not fields or state in FINISHED:
            if len(data) == CHUNK:
                continue  # more output is waiting: read it before saying the end
            _, data = _poll(ssh, site, job_id, path, offset) if path else ({}, b"")
            if data:
                offset += len(data)
                write(shown_block(decoder.decode(data)))
            tail = decoder.decode(b"", final=True)
            if tail:
                write(shown_block(tail))
            break
        time.sleep(min(interval, 0.5) if clock() - t0 < 10 else interval)  # quick at first: most first jobs start soon
    end = clock()
    started = running_at if running_at is not None else end
    return Outcome(job_id, state or "UNKNOWN", fields.get("ExitCode", ""), path, started - t0, end - started)
