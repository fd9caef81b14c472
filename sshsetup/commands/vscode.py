"""``sshsetup vscode``: workspace tasks that submit, watch and cancel Slurm jobs, recorded for ``remove``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sshsetup import files, output, remembered, state
from sshsetup.catalogue import load_catalogue
from sshsetup.paths import Paths
from sshsetup.result import Result
from sshsetup.vscode import tasks_file


@dataclass(frozen=True)
class VscodeOptions:
    workspace: Path = Path(".")
    site: str | None = None  # None: the first site init set up, else the first default site
    sites_file: Path | None = None
    account: str | None = None
    partition: str | None = None
    alias: str | None = None
    dry_run: bool = False
    yes: bool = False


def run(paths: Paths, options: VscodeOptions, *, confirm: Callable[[str], bool] | None) -> Result:
    """``confirm``: asks before an existing tasks.json changes (interactive only)."""
    rem = remembered.load(paths)
    catalogue = load_catalogue(remembered.sites_file(rem, options.sites_file), paths.sites_file)
    site = remembered.choose_sites(catalogue, (options.site,) if options.site else (), rem)[0]
    ws = options.workspace.resolve()
    ask = None
    if confirm is not None and ws.is_dir():  # the diff comes before the question
        change = tasks_file.tasks_change(catalogue, site.id, ws, options.account, options.partition, alias=options.alias)
        ask = output.DiffFirst(files.diff(files.plan([change])[0]), confirm)
    done = tasks_file.vscode_tasks(catalogue, site.id, ws, options.account, options.partition, options.dry_run,
                                   options.yes, alias=options.alias, confirm=ask)
    written = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE) for o in done.outcomes)
    if written and not options.dry_run:
        manifest = state.load(paths.manifest)
        state.add_unique(manifest, "workspaces", str(ws))
        tasks_file.remember(manifest, done)  # what tasks.json was before, so remove restores it exactly
        files.apply(files.plan([state.change(paths.manifest, manifest)]), dry_run=False)
    return Result("vscode", done.exit_code, outcomes=tuple(done.outcomes), dry_run=options.dry_run,
                  declined=done.exit_code != 0, diff="" if ask and ask.shown else done.diff, heading="", after=done.messages)
