"""The parts of ``remove`` owned by other features (VS Code settings, tasks)."""

from __future__ import annotations

from sshsetup import files
from sshsetup.paths import Paths


def changes(paths: Paths, manifest: dict[str, object]) -> list[files.FileChange]:
    return []
