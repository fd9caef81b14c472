"""The two Remote-SSH settings the ``srun`` transport needs, recorded so ``sshsetup remove`` restores them.

* ``remote.SSH.enableRemoteCommand`` = true: Remote-SSH refuses a host whose entry has a
  ``RemoteCommand`` (the session entry runs the helper with one) unless this is on.
* ``remote.SSH.useLocalServer`` = true: with a RemoteCommand, Remote-SSH can only send its
  install script over the local-server mode's ``ssh -T`` connection.

Not on Windows clients: there ``init`` pins ``useLocalServer`` to false (Windows OpenSSH
breaks prompts with it), so the srun transport is not offered there.
The record goes into the manifest's ``vscode_settings`` (merged with init's), which
``remove`` already reverts member by member.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

from sshsetup import files, state, textfile
from sshsetup.vscode import paths as vscode_paths
from sshsetup.vscode import settings as vscode_settings
from sshsetup.vscode.jsonc import editor as jsonc

if TYPE_CHECKING:
    from sshsetup.paths import Paths

MEMBERS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("remote.SSH.enableRemoteCommand",), True),
    (("remote.SSH.useLocalServer",), True),
)


def apply(old_text: str) -> tuple[str, vscode_settings.SettingsRecord]:
    """Pure: the settings text with both members set, and what each was before."""
    changes = tuple(vscode_settings.Change(p, jsonc.get_raw(old_text, p), json.dumps(v)) for p, v in MEMBERS)
    return jsonc.set_values(old_text, list(MEMBERS)), vscode_settings.SettingsRecord(changes)


def ensure(paths: Paths, environ: dict[str, str] | None = None) -> tuple[list[files.Outcome], list[str]]:
    """Set both members in every installed flavour's settings.json (manifest first, then the files)."""
    env = dict(os.environ if environ is None else environ)
    host = vscode_paths.find_vscode(env, sys.platform, paths.home)
    if host.problem or host.windows:
        return [], ["note: VS Code on Windows: the srun transport needs remote.SSH.useLocalServer, which init keeps off there"]
    manifest = state.load(paths.manifest)
    earlier = manifest.get("vscode_settings", {})
    changes: list[files.FileChange] = []
    for loc in vscode_paths.installed(host):
        data = files.read_bytes(loc.settings)
        doc = textfile.decode(data, loc.settings, allow_bom=True) if data is not None else textfile.TextDoc("", False)
        if all(jsonc.get(doc.text, list(p)) == v for p, v in MEMBERS):
            continue
        try:
            new_text, record = apply(doc.text)
        except jsonc.JSONCError as exc:
            raise exc.for_file(loc.settings) from None
        if str(loc.settings) in earlier:
            record = vscode_settings.merge_records(vscode_settings.SettingsRecord.from_json(earlier[str(loc.settings)]), record)
        earlier[str(loc.settings)] = record.to_json()
        changes.append(files.FileChange(loc.settings, doc.encode(new_text), mode=0o600, label=f"{loc.flavour.title} settings"))
    if not changes:
        return [], []
    manifest["vscode_settings"] = earlier
    planned = files.plan([state.change(paths.manifest, manifest), *changes])
    return [o for o in files.apply(planned, dry_run=False) if o.path != paths.manifest], []
