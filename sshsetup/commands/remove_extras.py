"""The parts of ``remove`` owned by other features (VS Code settings, workspace tasks)."""

from __future__ import annotations

from pathlib import Path

from sshsetup import files
from sshsetup.paths import Paths


def changes(paths: Paths,  # noqa: ARG001 - the shape every remove part has
            manifest: dict[str, object], notes: list[str]) -> list[files.FileChange]:
    from sshsetup.vscode import settings_plan as init_vscode
    from sshsetup.vscode import tasks_file as vscode_tasks

    out, more = init_vscode.revert_changes(manifest)
    notes += more
    workspaces = manifest.get("workspaces", [])
    for ws in workspaces if isinstance(workspaces, list) else []:
        ch = vscode_tasks.remove_change(Path(str(ws)))
        if ch is not None:
            out.append(ch)
    return out
