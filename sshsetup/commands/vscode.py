"""``sshsetup vscode``: workspace tasks that submit, watch and cancel Slurm jobs, recorded for ``remove``.

``--where local|remote|both`` picks the tasks for a workspace on this laptop (``ssh <alias> ...``), on the
login node (Remote-SSH), or both; without it, ``tasks.guess_where`` decides and a note says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sshsetup import files, output, remembered, state, validate
from sshsetup.catalogue import Site, load_catalogue
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.vscode import tasks, tasks_file


@dataclass(frozen=True)
class VscodeOptions:
    workspace: Path = Path(".")
    site: str | None = None  # None: the first site init set up, else the first default site
    sites_file: Path | None = None
    account: str | None = None
    partition: str | None = None
    alias: str | None = None
    where: str | None = None  # local, remote, both; None: tasks.guess_where (from SSH_CONNECTION and the host name)
    dry_run: bool = False
    yes: bool = False


def run(paths: Paths, options: VscodeOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """``confirm``: asks before an existing tasks.json changes (interactive only)."""
    if options.alias is not None:  # it reaches ssh's command line in every task: an alias, never an option
        validate.alias(options.alias, what="--alias")
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    site = remembered.choose_sites(catalogue, (options.site,) if options.site else (), rem)[0]
    where, notes = _where(site, options.where)
    ws = options.workspace.resolve()
    ask = None
    if confirm is not None and ws.is_dir():  # the diff comes before the question
        change = tasks_file.tasks_change(catalogue, site.id, ws, options.account, options.partition, alias=options.alias,
                                         where=where)
        ask = output.DiffFirst(files.diff(files.plan([change])[0]), confirm)
    done = tasks_file.vscode_tasks(catalogue, site.id, ws, options.account, options.partition, options.dry_run,
                                   options.yes, alias=options.alias, confirm=ask, where=where)
    written = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE) for o in done.outcomes)
    if written and not options.dry_run:
        manifest = state.load(paths.manifest)
        state.add_unique(manifest, "workspaces", str(ws))
        tasks_file.remember(manifest, done)  # what tasks.json was before, so remove restores it exactly
        files.apply(files.plan([state.change(paths.manifest, manifest)]), dry_run=False)
    return Result("vscode", done.exit_code, outcomes=tuple(done.outcomes), dry_run=options.dry_run,
                  declined=done.exit_code != 0, diff="" if ask and ask.shown else done.diff, heading="", after=done.messages,
                  notes=notes)


_HALF = {"local": "tasks to run from this laptop (ssh)", "remote": "tasks to run on the login node",
         "both": "tasks for both a local and a login-node workspace"}


def _where(site: Site, given: str | None) -> tuple[str, tuple[str, ...]]:
    """``--where``, else the guess; the note says what was chosen and why (nothing when it was given)."""
    import os
    import socket

    if given is not None:
        return given, ()
    where, why = tasks.guess_where(site, os.environ, socket.gethostname())
    other = "; --where both adds the other half" if where != "both" else ""
    return where, (f"note: {_HALF[where]}: {why}{other}",)
