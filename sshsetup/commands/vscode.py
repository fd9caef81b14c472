"""Glue for ``sshsetup vscode``: workspace tasks, recorded for ``remove``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sshsetup import files, state
from sshsetup.catalogue import load_catalogue
from sshsetup.paths import Paths
from sshsetup.vscode import tasks_file as vscode_tasks


def run(paths: Paths, *, workspace: Path, site_id: str | None, sites_file: Path | None, account: str | None,
        partition: str | None, alias: str | None, dry_run: bool, yes: bool,
        confirm: Callable[[str], bool] | None) -> int:
    from sshsetup.commands.key_line import remembered, sites_file_for

    catalogue = load_catalogue(sites_file_for(paths, sites_file), paths.sites_file)
    rem = remembered(paths)
    remembered_sites = rem.get("sites")
    sid = site_id or (str(remembered_sites[0]) if isinstance(remembered_sites, list) and remembered_sites else "juwels-booster")
    ws = workspace.resolve()
    result = vscode_tasks.vscode_tasks(catalogue, str(sid), ws, account, partition, dry_run, yes, alias=alias, confirm=confirm)
    written = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE) for o in result.outcomes)
    if written and not dry_run:
        manifest = state.load(paths.manifest)
        state.add_unique(manifest, "workspaces", str(ws))
        files.apply(files.plan([state.change(paths.manifest, manifest)]), dry_run=False)
    return vscode_tasks.show(result)
