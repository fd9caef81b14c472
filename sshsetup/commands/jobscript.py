"""``sshsetup jobscript``: a checked Slurm job script, printed or written to ``-o FILE``.

Writing goes through ``files.apply_confirmed``. An existing file is replaced only if it
is ours (its second line is ``jobscript.MARKER``) and only after its diff was shown:
with ``--yes``, or when ``confirm`` says yes; ``--dry-run`` shows the diff and writes
nothing. A file sshsetup did not generate is never overwritten (``Refused``): the
user moves it away or picks another name, so no hand-written script can be lost.

``--chain N`` turns the script into one link of a chain (``slurm/chain.py`` checks it
first); ``--example FILE`` writes the example training program the same careful way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sshsetup import files, output, remembered
from sshsetup.catalogue import Site, load_catalogue
from sshsetup.errors import EXIT_FAIL, EXIT_OK, BadInput, Refused
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.slurm import limits, submit
from sshsetup.slurm.jobscript import is_ours, make_spec, render_jobscript, with_chain
from sshsetup.ssh.client import Ssh

EXAMPLE_MARKER = "written by ``sshsetup jobscript --example"
EXAMPLE = "e.g. sshsetup jobscript --site juwels-booster --account training2500"


@dataclass(frozen=True)
class JobscriptOptions:
    site: str | None
    account: str | None
    sites_file: Path | None = None
    partition: str | None = None
    nodes: int | None = None
    gpus_per_node: int | None = None
    cpus_per_task: int | None = None
    time: str | None = None
    kind: str = "python"
    output: Path | None = None
    dry_run: bool = False
    yes: bool = False
    chain: int | None = None
    checkpoint_dir: str | None = None
    checkpoint_every: str | None = None
    signal_lead: str | None = None
    afterany: bool = False
    example: Path | None = None
    submit: bool = False
    follow: bool = False
    venv: str | None = None  # the user's own environment (its directory); checked by jobscript.venv_path


def example_text() -> str:
    from sshsetup.slurm.templating import template_root

    return (template_root() / "examples" / "train.py").read_text(encoding="utf-8")


def is_example(text: str) -> bool:
    return EXAMPLE_MARKER in "\n".join(text.splitlines()[:2])


def _payload(options: JobscriptOptions) -> str | None:
    if options.example is None:
        return None
    from sshsetup.ssh.client import shell_join

    name = shell_join([str(options.example)])
    return f"python {name}" if options.kind == "python" else name


def _chain_only(options: JobscriptOptions) -> None:
    given = [name for name, value in (("--checkpoint-dir", options.checkpoint_dir), ("--checkpoint-every", options.checkpoint_every),
                                      ("--signal-lead", options.signal_lead), ("--afterany", options.afterany or None)) if value is not None]
    if given and options.chain is None:
        raise BadInput(f"{given[0]} is an option of a chain", hint="add --chain N (N links, each up to --time)")


def _site(paths: Paths, options: JobscriptOptions) -> Site:
    """``--site``, else the one site ``init`` set up (as ``code``: with several, the user says which)."""
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    if options.site is None and not rem.sites:
        raise BadInput("jobscript needs --site: init has set up no site", hint=EXAMPLE)
    sites = remembered.choose_sites(catalogue, (options.site,) if options.site else (), rem)
    if len(sites) != 1:
        raise BadInput("more than one site is set up: say which one", hint="give --site ID (sshsetup sites lists them)")
    return sites[0]


def script(paths: Paths, options: JobscriptOptions) -> tuple[str, tuple[str, ...]]:
    """The checked script text and its notes; nothing written, nothing submitted."""
    if options.account is None:
        raise BadInput("jobscript needs --account", hint=EXAMPLE)
    _chain_only(options)
    if options.follow and not options.submit:
        raise BadInput("--follow follows a job that --submit submits", hint="add --submit")
    if options.follow and options.chain is not None:
        raise BadInput("--follow follows one job, not a chain", hint="drop --follow; watch the links with: squeue --me")
    site = _site(paths, options)
    ssh = Ssh.for_paths(paths)
    if options.submit:
        submit.require_live(paths, ssh, site)  # before anything is written: no login, no submission
    live = limits.live(paths, ssh, site, save=not options.dry_run)  # None without a live login: the catalogue decides
    spec = make_spec(site, options.account, options.partition, options.nodes, options.gpus_per_node, options.time,
                     options.kind, cpus_per_task=options.cpus_per_task, payload=_payload(options), live=live,
                     venv=options.venv)
    if options.chain is not None:
        spec = with_chain(spec, options.chain, every=options.checkpoint_every, lead=options.signal_lead,
                          ckpt_dir=options.checkpoint_dir, yes=options.yes, dependency=options.afterany)
    source = () if live is None else (f"limits from {live.source()} on {site.alias}",)
    return render_jobscript(spec), tuple(f"note: {note}" for note in (*source, *spec.notes))


def _write(out: Path, text: str, label: str, ours: Callable[[str], bool], options: JobscriptOptions,
           confirm: Callable[[str], bool] | None) -> tuple[files.Confirmed, output.DiffFirst | None]:
    new = text.encode("utf-8")
    old = files.read_bytes(out)
    if old is not None and old != new and not ours(old.decode("utf-8", errors="replace")):
        raise Refused(
            f"{out} exists and was not generated by sshsetup jobscript; not overwriting it",
            hint=f"write to another file (-o NEW_FILE) or move it away first: mv {out} {out}.orig",
        )
    change = files.FileChange(out, new, mode=0o644, label=label)
    ask = None if confirm is None else output.DiffFirst(files.diff(files.plan([change])[0]), confirm)
    done = files.apply_confirmed(change, dry_run=options.dry_run, yes=options.yes, ask=ask,
                                 question=lambda _verb: f"Replace {out}?")
    return done, ask


def run(paths: Paths, options: JobscriptOptions, *, confirm: Callable[[str], bool] | None,
        say: Callable[[str], None] = output.say, write: Callable[[str], None] | None = None) -> Result:
    """Without ``output`` the script is the result's output (stdout); ``confirm`` asks before replacing a file.

    ``--submit --follow`` streams while it waits: queue states to ``say`` (stderr), the job's output to ``write``.
    """
    writes: list[tuple[Path, str, str, Callable[[str], bool]]] = []
    if options.example is not None:
        writes.append((options.example, example_text(), "example training program", is_example))
    text, notes = "", tuple[str, ...]()
    if options.site is not None or options.account is not None or options.example is None:
        text, notes = script(paths, options)
        if options.output is not None:
            writes.append((options.output, text, "job script", is_ours))
    data: dict[str, object] = {"script": text} if text else {}
    stdout = text if options.output is None and not options.submit else ""
    outcomes: list[files.Outcome] = []
    diffs: list[str] = []
    declined: list[Path] = []
    for out, new, label, ours in writes:
        done, ask = _write(out, new, label, ours, options, confirm)
        outcomes += done.outcomes
        diffs.append("" if ask and ask.shown else done.diff)
        if done.declined:
            declined.append(out)
    after = tuple(f"{out} differs from the new {'script' if out == options.output else 'example'} (diff above); left unchanged. "
                  "Re-run with --yes to replace it." for out in declined)
    summary: tuple[str, ...] = ()
    code = EXIT_FAIL if declined else EXIT_OK
    if options.submit and not declined and not options.dry_run:
        summary, code = _submit(paths, options, text, notes, data, say, write)
        notes = ()
    elif options.submit and options.dry_run:
        summary = ("--dry-run: not submitted.",)
    return Result("jobscript", code, outcomes=tuple(outcomes), dry_run=options.dry_run, declined=bool(declined),
                  diff="".join(diffs), output=stdout, notes=notes, heading="" if outcomes else None, after=after,
                  summary=summary, data=data)


def _submit(paths: Paths, options: JobscriptOptions, text: str, notes: tuple[str, ...], data: dict[str, object],
            say: Callable[[str], None], write: Callable[[str], None] | None) -> tuple[tuple[str, ...], int]:
    site = _site(paths, options)
    ssh = Ssh.for_paths(paths)
    for note in notes:  # said now: the wait can be long
        say(note)
    job_id = submit.sbatch(ssh, site, text)
    data["job_id"] = job_id
    if not options.follow:
        fields = submit.job_fields(ssh, site, job_id)
        path = fields.get("StdOut", "")
        if options.chain is not None:
            path = _record_chain(paths, site, options, text, job_id, fields)
        data["stdout_path"] = path
        more = f"; watch it: sshsetup jobs --site {site.id} {job_id}" if options.chain is not None else ""
        return (f"Submitted job {job_id} on {site.alias}; its output: {path or '(see squeue --me)'}{more}",), EXIT_OK
    say(f"Submitted job {job_id} on {site.alias}; following it (Ctrl+C stops following, not the job)")
    got = submit.follow(ssh, site, job_id, say=say, write=write or _stdout)
    data.update(state=got.state, exit_code=got.exit_code, stdout_path=got.stdout_path,
                queued_seconds=round(got.queued_seconds, 3), run_seconds=round(got.run_seconds, 3))
    line = (f"job {job_id}: {got.state}, exit code {got.exit_code or '?'}, "
            f"{got.queued_seconds:.0f}s in the queue, {got.run_seconds:.0f}s running; output: {got.stdout_path}")
    return (line,), EXIT_OK if got.state == "COMPLETED" else EXIT_FAIL


def _record_chain(paths: Paths, site: Site, options: JobscriptOptions, text: str, job_id: int,
                  fields: dict[str, str]) -> str:
    """Remember the chain for ``sshsetup jobs``: its one output file, checkpoint dir and link time."""
    import re
    import time

    from sshsetup.commands import jobs

    name = re.search(r"^#SBATCH --job-name=(\S+)$", text, re.M)
    ckpt = re.search(r'^export SSHSETUP_CKPT_DIR="([^"]*)"$', text, re.M)
    limit = re.search(r"^#SBATCH --time=(\S+)$", text, re.M)
    work = fields.get("WorkDir", "")
    if name is None or ckpt is None or limit is None or not work:
        return fields.get("StdOut", "")
    from sshsetup.slurm.chain import check_dir
    from sshsetup.slurm.jobscript import canonical_time

    path = f"{work}/{name.group(1)}-{'chain' if options.afterany else job_id}.out"
    ckpt_dir = ckpt.group(1)
    for var in ("$SLURM_SUBMIT_DIR", "${SLURM_SUBMIT_DIR}"):  # not set on the login node, where jobs looks
        ckpt_dir = ckpt_dir.replace(var, work)
    try:
        ckpt_dir = check_dir(ckpt_dir)
    except BadInput:
        ckpt_dir = ckpt.group(1)
    jobs.record(paths, site, chain_id=job_id, links=options.chain or 0, link_seconds=canonical_time(limit.group(1))[1] * 60,
                array=not options.afterany, stdout=path, ckpt_dir=ckpt_dir, now=time.time())
    return path


def _stdout(text: str) -> None:
    import click

    click.echo(text, nl=False)
