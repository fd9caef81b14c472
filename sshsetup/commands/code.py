"""``sshsetup code``: VS Code on a compute node, the allocation's whole life managed (issue 14).

Everything goes over the site's one login connection: the ControlMaster of ``sshsetup login``
(opened here, once, when there is none and the site asks for no code). Then: the helper is
installed (hash-checked) on the login node, the profile's ``Host`` entry is written into the
managed block, the profile's session job is reused or submitted, the wait shows a live line
(polled every 5 s), and VS Code is opened on ``ssh-remote+<entry>``. Without ``--persist`` the
command then holds the session: it warns before the walltime and, on Ctrl-C, cancels the job
it submitted. Ctrl-C while pending cancels the job this run submitted, never another one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup import files
from sshsetup.errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, BadInput, Refused, SshSetupError
from sshsetup.result import Result
from sshsetup.slurm import session, session_alias, session_vscode
from sshsetup.slurm.session_remote import Cluster, helper_sha256, helper_text, remember_login_node, remote_user
from sshsetup.ssh import master
from sshsetup.ssh.client import Master as SshMaster
from sshsetup.ssh.client import Ssh, shell_join

if TYPE_CHECKING:
    from sshsetup.catalogue import Site
    from sshsetup.paths import Paths

LEADS_ENV = "SSHSETUP_TEST_WALLTIME_LEADS"  # tests only: walltime warning leads in seconds, e.g. "90,45"
TRANSPORTS = ("srun", "proxyjump")
Say = Callable[[str], None]


@dataclass(frozen=True)
class SessionRequest:
    """What ``code`` and ``serve`` both ask of a session job: where, who pays, what resources, how long."""

    site: str | None = None
    account: str | None = None
    partition: str | None = None
    gpus: int | None = None
    time: str | None = None
    idle: str = "30m"
    persist: bool = False
    sites_file: Path | None = None


@dataclass(frozen=True)
class CodeOptions(SessionRequest):
    path: str | None = None
    transport: str | None = None
    no_open: bool = False
    begin: str | None = None  # sbatch --begin (start no earlier than)
    next_: bool = False
    list_: bool = False
    stop: bool = False
    stop_job: int | None = None


@dataclass
class Clock:
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic


def _say(msg: str) -> None:
    from sshsetup import output

    output.say(msg)


def run(paths: Paths, options: CodeOptions, *, interactive: bool = False, ssh: Ssh | None = None,
        say: Say = _say, clock: Clock | None = None) -> Result:
    clock = clock or Clock()
    site = _site(paths, options)
    ssh = ssh or Ssh.for_paths(paths)
    if options.list_ or options.stop or options.stop_job is not None:
        cluster = connect(paths, ssh, site, interactive=interactive, say=say)
        if options.list_:
            return list_sessions(cluster, "code")
        return stop_sessions(cluster, options.stop_job, "code")
    transport = options.transport or "srun"
    if transport not in TRANSPORTS:
        raise BadInput(f"--transport {transport!r} is not known; allowed: {', '.join(TRANSPORTS)}", hint="use --transport srun")
    given, project = account_for(paths, site, options)
    profile, account = profile_for(site, options, given or project)  # every option checked before the first connection
    idle = session.parse_idle(options.idle)
    session.sbatch_words(profile, account, begin=options.begin)
    leads = session.parse_leads(os.environ.get(LEADS_ENV))
    if transport == "proxyjump":
        from sshsetup.judoor import records

        rec = records.load(paths.keylines).get(site.id)
        warning = session_alias.key_line_warning(site.id, rec.ranges if rec else None)
        if warning:
            say(warning)
    cluster = connect(paths, ssh, site, interactive=interactive, say=say)
    account = given or budget(cluster, project, say)
    text = helper_text()
    helper = cluster.install_helper(text)
    remember_login_node(paths, site.id)  # sshsetup remove offers to delete it again
    alias = session_alias.alias_for(site.alias, profile.key, site.id)
    command = session_alias.remote_command(helper, helper_sha256(text), profile.job_name, leads)
    login_dump = ssh.dump(site.alias)
    outcomes: tuple[files.Outcome, ...] = ()
    if transport == "srun":
        outcomes = write_entry(paths, alias, session_alias.entry_lines(alias, login_dump, command, profile.key), site.id)
        settings, notes = session_vscode.ensure(paths)
        outcomes += tuple(settings)
        for note in notes:
            say(note)
    existing = session.pick(cluster.jobs(), profile.job_name)
    if options.next_:
        return queue_next(cluster, profile, account, existing, idle, outcomes)
    if existing is not None:
        job_id, submitted = existing.id, False
        say(f"Reusing session job {job_id} ({existing.state}) of profile {profile.key}.")
    else:
        try:
            job_id, submitted = submit(cluster, profile, account, idle, options.begin, say)
        except _SubmitInterrupted as exc:
            said = ", ".join(map(str, exc.found)) or "none"
            note = f"Interrupted while sbatch ran: cancelled the job(s) it submitted: {said}; no other job was touched."
            return Result("code", EXIT_INTERRUPTED, outcomes=outcomes, heading="", notes=("", note),
                          data={"job": exc.found[0] if exc.found else None, "cancelled": exc.found})
    try:  # from here until VS Code is open, a failure or Ctrl-C cancels the job this run submitted (never a reused one)
        job = wait_running(cluster, job_id, say, clock, interactive)
        if job is None:
            return Result("code", EXIT_FAIL, outcomes=outcomes, heading="",
                          notes=(f"✗ job {job_id} ended before it started: {_ended(cluster, job_id)}",),
                          data={"job": job_id, "alias": alias, "state": "gone"})
        if transport == "proxyjump":
            outcomes += node_entry(paths, ssh, site, alias, job, login_dump, profile.key)
        path = options.path or cluster.checked(["pwd"], "pwd").strip()
        argv = ["code", "--remote", f"ssh-remote+{alias}", path]
        opened = open_vscode(argv, options.no_open)
    except KeyboardInterrupt:
        return interrupted(cluster, job_id, submitted)
    except SshSetupError:
        if submitted:
            cluster.cancel([job_id])
            say(f"Cancelled job {job_id} (this run submitted it; the start failed).")
        raise
    data: dict[str, Any] = {"job": job_id, "node": job.node, "alias": alias, "profile": profile.key, "submitted": submitted,
                            "command": argv, "opened": opened, "persist": options.persist}
    lines = [f"✓ job {job_id} runs on {job.node}: VS Code connects with the entry {alias}"]
    lines.append(f"  opened: {shell_join(argv)}" if opened else f"  open it with: {shell_join(argv)}")
    if options.persist or not submitted:
        end = "it ends after " + (session.lead_text(idle) + " without a client" if idle else "its walltime") + \
              f" or with: sshsetup code --stop {job_id}"
        lines.append(f"  the job stays ({'--persist' if options.persist else 'reused'}): {end}")
        return Result("code", EXIT_OK, outcomes=outcomes, heading="", summary=tuple(lines), data=data)
    for line in lines:
        say(line)
    say(f"Holding the session: Ctrl-C ends it and cancels job {job_id}.")
    return hold(cluster, job_id, leads, say, clock, outcomes, data)


# --------------------------------------------------------------------------- steps


def _site(paths: Paths, options: CodeOptions) -> Site:
    from sshsetup.commands.login import chosen_sites

    sites = chosen_sites(paths, (options.site,) if options.site else (), options.sites_file)
    if len(sites) != 1:
        raise BadInput("more than one site is set up: say which one", hint="give --site ID (sshsetup sites lists them)")
    return sites[0]


def connect(paths: Paths, ssh: Ssh, site: Site, *, interactive: bool, say: Say) -> Cluster:
    """The site's one login connection: a live master, or one login now (1 authentication)."""
    gate = master.check(paths, ssh, [site])
    if gate.refusal is not None and interactive:
        from sshsetup.commands import login

        if login.offer(paths, gate):  # on a terminal: log in now (the code typed once) instead of refusing
            gate = master.check(paths, ssh, [site])
    if gate.refusal is not None:
        raise gate.refusal
    if not gate.live:
        from sshsetup.commands import login

        done = login.run(paths, login.LoginOptions(sites=(site.id,)), interactive=interactive, ssh=ssh)
        for note in done.notes:
            say(note)
        if done.exit_code != EXIT_OK:
            raise Refused(f"no login connection to {site.id}", hint=f"run: sshsetup login --site {site.id}")
    return Cluster(ssh, site.alias, remote_user(ssh, site.alias))


NO_BUDGET = ("no budget for the session job", "give --account NAME (at JSC: jutil user projects lists yours)")


def account_for(paths: Paths, site: Site, options: CodeOptions) -> tuple[str | None, str | None]:
    """(the account, or the project whose budget ``jutil`` gives on the login node).

    ``--account`` first; then the project ``init --account`` remembered: at a site with ``jutil``
    (JSC) its budget is asked for after the login (``budget``), elsewhere it is the account.
    """
    from sshsetup import remembered, validate

    if options.account:
        return options.account, None
    project = remembered.load(paths).account
    if project is None:
        raise BadInput(NO_BUDGET[0], hint=NO_BUDGET[1])
    validate.account(project, what="the remembered --account of init")
    return (None, project) if site.get("jutil") else (project, None)


def budget(cluster: Cluster, project: str | None, say: Say) -> str:
    """The budget of ``project`` from ``jutil env activate -p`` over the login: exactly one, or a refusal."""
    if project is None:
        raise BadInput(NO_BUDGET[0], hint=NO_BUDGET[1])
    found = cluster.budgets(project)
    if not found:
        raise BadInput(NO_BUDGET[0], hint=f"jutil env activate -p {project} set no $BUDGET_ACCOUNTS on {cluster.alias}: give --account NAME")
    if len(found) > 1:
        raise BadInput(f"project {project} has {len(found)} budgets on {cluster.alias}: {', '.join(found)}",
                       hint=f"say which one pays: --account {found[0]}")
    say(f"Budget {found[0]} (from jutil env activate -p {project} on {cluster.alias}).")
    return found[0]


def profile_for(site: Site, options: CodeOptions, account: str | None = None) -> tuple[session.Profile, str]:
    from sshsetup.slurm.jobscript import make_spec

    account = account or options.account
    if not account:
        raise BadInput(NO_BUDGET[0], hint=NO_BUDGET[1])
    known = site.gpus_per_node
    if options.gpus is not None and (options.gpus < 1 or (known is not None and options.gpus > known)):
        allowed = f"1 to {known}" if known else "at least 1"
        raise BadInput(f"--gpus {options.gpus} is not possible on a {site.name} node; allowed: {allowed}",
                       hint=f"use --gpus {known or 1} or fewer: a session is one node")
    gpus = options.gpus if options.gpus is not None else known  # a session takes the node's GPUs (jobscript's python kind: 1)
    spec = make_spec(site, account, options.partition, 1, gpus, options.time, "python")
    return session.Profile(site.id, spec.partition, spec.gpus_per_node, spec.time), spec.account


def write_entry(paths: Paths, alias: str, lines: list[str], site_id: str) -> tuple[files.Outcome, ...]:
    path = paths.ssh_config
    old = files.read_bytes(path)
    if old is None:
        raise Refused(f"{path} does not exist", hint="run sshsetup init first")
    text = old.decode("utf-8")
    new = session_alias.record_entry(session_alias.upsert_entry(text, lines, path), path, alias, site_id)
    change = files.FileChange(path, new.encode("utf-8"), mode=0o600, label=f"ssh config (entry {alias})")
    return tuple(o for o in files.apply(files.plan([change]), dry_run=False) if o.verb is not files.Verb.IDENTICAL)


def node_entry(paths: Paths, ssh: Ssh, site: Site, alias: str, job: session.Job, login_dump: dict[str, list[str]],
               profile_key: str) -> tuple[files.Outcome, ...]:
    """The proxyjump transport's entry for the node the job runs on, with a ControlMaster beside the login's."""
    assert job.node is not None
    host = session_alias.node_host(site.compute_node_pattern, job.node)
    control = (login_dump.get("controlpath") or ["none"])[0]
    if control == "none":
        raise Refused(f"{site.alias} has no ControlPath: the node entry could not share a socket directory",
                      hint="run sshsetup init (not with --client windows) for the ControlMaster")
    lines = session_alias.proxyjump_lines(alias, ssh.dump(host), str(Path(control).parent), profile_key, job.node)
    outcomes = write_entry(paths, alias, lines, site.id)
    # open the node's master once, before VS Code's windows race to become it (one authentication on the node)
    argv = ssh.argv(alias, "true", master=SshMaster.OPEN, connect_timeout=15, options={"ControlPersist": "10m"})
    done = ssh.run(argv, timeout=60)
    if not done.ok:
        why = "; ".join(done.stderr_lines[-2:]) or f"exit {done.returncode}"
        raise Refused(f"the node {host} of job {job.id} refused the connection ({why})",
                      hint="at JSC only a user with a running job on that node gets in (pspam), and ProxyJump needs "
                           "10.0.0.0/8 in the key's from=: sshsetup key-line --from 10.0.0.0/8 ... and upload it in JuDoor")
    return outcomes


def submit(cluster: Cluster, profile: session.Profile, account: str, idle: int, begin: str | None,
           say: Say) -> tuple[int, bool]:
    words = session.sbatch_words(profile, account, begin=begin)
    known = [j.id for j in cluster.jobs(all_states=True) if j.name == profile.job_name]
    since = cluster.now_iso()
    try:
        job_id = cluster.sbatch(words, session.holder_script(profile, idle))
    except KeyboardInterrupt:
        found = _find_submitted(cluster, profile.job_name, known, since)
        cluster.cancel(found)
        raise _SubmitInterrupted(found) from None
    say(f"Submitted session job {job_id} (profile {profile.key}, {profile.time}).")
    return job_id, True


class _SubmitInterrupted(Exception):
    def __init__(self, found: list[int]) -> None:
        super().__init__("interrupted during sbatch")
        self.found = found


def _find_submitted(cluster: Cluster, name: str, known: list[int], since: str) -> list[int]:
    """After Ctrl-C during sbatch: the job it may have made, by name and submit time (looked at twice)."""
    found: list[int] = []
    for pause in (0.0, 2.0):
        time.sleep(pause)
        found += [j.id for j in session.submitted_since(cluster.jobs(), name, known, since) if j.id not in found]
    return found


def wait_running(cluster: Cluster, job_id: int, say: Say, clock: Clock,
                 interactive: bool) -> session.Job | None:
    start = clock.now()
    while True:
        job = cluster.job(job_id)
        ph = session.phase(job)
        if ph is session.Phase.READY:
            if interactive:
                sys.stderr.write("\r\033[K")
            return job
        if ph is session.Phase.GONE or job is None:
            return None
        line = session.pending_line(job, clock.now() - start)
        if interactive:
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()
        else:
            say(line)
        clock.sleep(session.POLL_SECONDS)


def interrupted(cluster: Cluster, job_id: int, submitted: bool) -> Result:
    if submitted:
        cluster.cancel([job_id])
        note = f"Interrupted: cancelled job {job_id} (this run submitted it); no other job was touched."
    else:
        note = f"Interrupted: left job {job_id} as it was (this run did not submit it)."
    return Result("code", EXIT_INTERRUPTED, notes=("", note), data={"job": job_id, "cancelled": submitted})


def _ended(cluster: Cluster, job_id: int) -> str:
    job = cluster.job(job_id)
    if job is None:
        return "Slurm no longer knows it"
    return job.state + (f" ({job.comment})" if job.comment else (f" ({job.reason})" if job.reason not in ("", "None") else ""))


def open_vscode(argv: list[str], no_open: bool) -> bool:
    exe = None if no_open else shutil.which(argv[0])
    if exe is None:
        return False
    try:
        subprocess.Popen([exe, *argv[1:]], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    except OSError:
        return False  # the exact command is printed instead
    return True


def hold(cluster: Cluster, job_id: int, leads: tuple[int, ...], say: Say, clock: Clock,
         outcomes: tuple[files.Outcome, ...], data: dict[str, Any]) -> Result:
    said: list[int] = []
    interval = max(session.POLL_SECONDS, min(30.0, leads[-1] / 3))
    try:
        while True:
            job = cluster.job(job_id)
            if session.phase(job) is not session.Phase.READY or job is None:
                note = f"Job {job_id} ended: {_ended(cluster, job_id)}."
                return Result("code", EXIT_OK, outcomes=outcomes, heading="", notes=(note,), data={**data, "ended": True})
            if job.left is not None:
                for lead in session.due_warnings(job.left, leads, said):
                    say(session.walltime_warning(job_id, job.left, lead))
                said += [lead for lead in leads if job.left <= lead and lead not in said]
            clock.sleep(interval)
    except KeyboardInterrupt:
        cluster.cancel([job_id])
        note = f"Session ended: cancelled job {job_id} (this run submitted it); no other job was touched."
        return Result("code", EXIT_OK, outcomes=outcomes, heading="", notes=("", note), data={**data, "cancelled": True})


def queue_next(cluster: Cluster, profile: session.Profile, account: str, existing: session.Job | None, idle: int,
               outcomes: tuple[files.Outcome, ...]) -> Result:
    if existing is None:
        raise Refused(f"no session job of profile {profile.key} to follow", hint="start one first: sshsetup code")
    words = session.sbatch_words(profile, account, dependency=existing.id)
    job_id = cluster.sbatch(words, session.holder_script(profile, idle))
    line = f"✓ queued job {job_id} after job {existing.id} (--dependency=afterany:{existing.id}): it starts when {existing.id} ends"
    return Result("code", EXIT_OK, outcomes=outcomes, heading="", summary=(line,),
                  data={"job": job_id, "after": existing.id, "profile": profile.key})


def list_sessions(cluster: Cluster, kind: str) -> Result:
    rows = session.list_rows(cluster.jobs(all_states=True), cluster.now_iso())
    if not rows:
        return Result(kind, EXIT_OK, notes=("No session jobs (squeue shows none named sshsetup-code-*).",), data={"jobs": []})
    return Result(kind, EXIT_OK, output=session.list_table(rows), data={"jobs": rows})


def stop_sessions(cluster: Cluster, job_id: int | None, kind: str) -> Result:
    active = [j for j in cluster.jobs() if j.name.startswith(session.PREFIX) and j.state in session.ACTIVE]
    if job_id is not None:
        active = [j for j in active if j.id == job_id]
        if not active:
            raise Refused(f"job {job_id} is not a session job of yours that is pending or running",
                          hint="list them with: sshsetup code --list")
    cluster.cancel([j.id for j in active])
    lines = tuple(f"✓ cancelled job {j.id} ({j.name}, {j.state})" for j in active) or ("No session job to stop.",)
    return Result(kind, EXIT_OK, notes=lines, data={"cancelled": [j.id for j in active]})
