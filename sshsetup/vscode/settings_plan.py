"""The VS Code part of ``init`` and ``remove``: Remote-SSH settings in settings.json.

Every installed flavour (Code, Insiders, VSCodium) gets the same members. What each
member was before is kept in the manifest, so ``remove`` restores the exact bytes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sshsetup import files, textfile
from sshsetup.catalogue import Site
from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from sshsetup.vscode import paths as vscode_paths
from sshsetup.vscode import settings as vscode_settings
from sshsetup.vscode.jsonc import editor as jsonc

EXISTED = "existed"  # in a settings record: the file was there before sshsetup first wrote it (remove never deletes it)


@dataclass
class VSCodePlan:
    changes: list[files.FileChange] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)  # settings path -> record json (merged)
    notes: list[str] = field(default_factory=list)


def project_dirs(paths: Paths, sites: list[Site], user: str, project_dir: str | None, account: str | None, *,
                 dry_run: bool = False) -> tuple[dict[str, str | None], list[str]]:
    """serverInstallPath per alias: ``--project-dir``, or ``$PROJECT_<account>`` read with one ssh call per host.

    The call goes over the site's live login when there is one (``sshsetup login``); a site known to
    ask for a second factor without one is not contacted at all, and a dry run contacts nobody.
    """
    notes: list[str] = []
    if project_dir is not None:
        if not project_dir.startswith("/") or any(c in project_dir for c in "$~\n\"'"):
            raise BadInput(f"--project-dir {project_dir!r} must be a literal absolute path on the cluster",
                           hint="e.g. --project-dir /p/project1/myproject")
        return {s.alias: f"{project_dir.rstrip('/')}/{user}" for s in sites}, notes
    if account is None:
        return {}, notes
    from sshsetup import validate
    from sshsetup.ssh import master
    from sshsetup.ssh.client import Ssh

    validate.account(account)
    if dry_run:
        return {}, [f"note: dry run: would read $PROJECT_{account} on {s.alias} (one ssh call) for VS Code's "
                    "serverInstallPath; nothing was looked up" for s in sites]
    ssh = Ssh.for_paths(paths)
    blocked = {s.id for s in master.check(paths, ssh, sites).blocked}
    out: dict[str, str | None] = {}
    for s in sites:
        if s.id in blocked:
            notes.append(f"note: $PROJECT_{account} on {s.alias} not read: no live login ({master.login_hint([s.id])}, "
                         "then run sshsetup init again), or give the directory with --project-dir")
            continue
        done = ssh.run(ssh.argv(s.alias, f"printf '%s' \"${{PROJECT_{account}}}\"", connect_timeout=10), timeout=30)
        value = done.stdout.strip()
        if done.ok and value.startswith("/"):
            out[s.alias] = f"{value}/{user}"
        else:
            notes.append(f"note: could not read $PROJECT_{account} on {s.alias} (is the key uploaded yet?); "
                         "give the directory with --project-dir, or re-run init once the key works")
    return out, notes


def plan(paths: Paths, sites: list[Site], *, windows_client: bool, install_paths: dict[str, str | None],
         manifest: dict[str, Any], environ: dict[str, str] | None = None) -> VSCodePlan:
    env = dict(os.environ if environ is None else environ)
    host = vscode_paths.find_vscode(env, sys.platform, paths.home)
    out = VSCodePlan()
    if host.problem:
        out.notes.append(f"note: VS Code: {host.problem}")
        return out
    found = vscode_paths.installed(host)
    if not found:
        out.notes.append("note: VS Code was not found; after installing it, run sshsetup init again for its Remote-SSH settings")
        return out
    if host.wsl:
        out.notes.append(f"note: VS Code runs on Windows: its ssh reads {host.ssh_dir}/config, not this WSL one; "
                         "run sshsetup init in PowerShell with --client windows as well")
    desired = vscode_settings.Desired(tuple(s.alias for s in sites), install_paths, windows_client or host.windows)
    earlier = manifest.get("vscode_settings", {})
    for loc in found:
        path = loc.settings
        data = files.read_bytes(path)
        doc = textfile.decode(data, path, allow_bom=True) if data is not None else textfile.TextDoc("", False)
        try:
            new_text, record = vscode_settings.apply_settings(doc.text, desired)
        except jsonc.JSONCError as exc:
            raise exc.for_file(path) from None
        existed: object = data is not None
        if str(path) in earlier:
            record = vscode_settings.merge_records(vscode_settings.SettingsRecord.from_json(earlier[str(path)]), record)
            existed = earlier[str(path)].get("existed") if isinstance(earlier[str(path)], dict) else None
        out.records[str(path)] = {**record.to_json(), EXISTED: existed}
        out.changes.append(files.FileChange(path, doc.encode(new_text), mode=0o600, label=f"{loc.flavour.title} settings"))
    return out


def revert_changes(manifest: dict[str, Any]) -> tuple[list[files.FileChange], list[str]]:
    changes: list[files.FileChange] = []
    notes: list[str] = []
    for p, rec in manifest.get("vscode_settings", {}).items():
        path = Path(p)
        data = files.read_bytes(path)
        if data is None:
            continue
        doc = textfile.decode(data, path, allow_bom=True)
        record = vscode_settings.SettingsRecord.from_json(rec)
        try:
            text, left = vscode_settings.revert_settings(doc.text, record)
        except jsonc.JSONCError as exc:
            raise exc.for_file(path) from None
        notes += [f"note: {path}: {n}" for n in left]
        existed = rec.get(EXISTED) if isinstance(rec, dict) else None  # None: a record of an earlier version
        created = existed is not True and record.original == "" and text == ""
        changes.append(files.FileChange(path, None if created else doc.encode(text), label="VS Code settings"))
    return changes, notes
