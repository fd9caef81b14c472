"""``sshsetup remove``: undo everything sshsetup wrote, except keys (listed instead)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sshsetup import files, state, textfile
from sshsetup.errors import BadInput
from sshsetup.paths import Paths
from sshsetup.ssh import block as sshconfig


@dataclass
class RemoveResult:
    outcomes: list[files.Outcome] = field(default_factory=list)
    keys: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


def _ssh_config_change(path: Path) -> files.FileChange | None:
    old = files.read_bytes(path)
    if old is None:
        return None
    doc = textfile.decode(old, path, allow_bom=False)
    block = sshconfig.find_block(doc.text, path)
    if block is None:
        return None
    new_text = sshconfig.remove(doc.text, path)
    if block.options.get("created") and new_text == "":
        return files.FileChange(path, None, label="ssh config")
    return files.FileChange(path, doc.encode(new_text), label="ssh config")


def plan_changes(paths: Paths, manifest: dict[str, object], notes: list[str]) -> list[files.FileChange]:
    changes: list[files.FileChange] = []
    configs = {paths.ssh_config}
    if isinstance(manifest.get("ssh_config"), str):
        configs.add(Path(str(manifest["ssh_config"])))
    for cfg in sorted(configs):
        ch = _ssh_config_change(cfg)
        if ch is not None:
            changes.append(ch)
    changes += _vscode_changes(manifest, notes)
    return changes


def _vscode_changes(manifest: dict[str, object], notes: list[str]) -> list[files.FileChange]:
    """VS Code's settings members back to what they were; the workspaces' tasks.json as they were."""
    from sshsetup.vscode import settings_plan, tasks_file

    out, more = settings_plan.revert_changes(manifest)
    notes += more
    workspaces = manifest.get("workspaces", [])
    records = manifest.get(tasks_file.MANIFEST_KEY, {})
    for ws in workspaces if isinstance(workspaces, list) else []:
        path = tasks_file.tasks_path(Path(str(ws)))
        record = tasks_file.TasksRecord.from_json(records.get(str(path)) if isinstance(records, dict) else None)
        ch = tasks_file.remove_change(Path(str(ws)), record)
        if ch is not None:
            out.append(ch)
    return out


def run(
    paths: Paths,
    *,
    dry_run: bool,
    yes: bool,
    confirm: Callable[[str], bool] | None,
    show_diff: Callable[[str], None],
) -> RemoveResult:
    manifest = state.load(paths.manifest)
    notes: list[str] = []
    changes = plan_changes(paths, manifest, notes)
    planned = files.plan(changes)
    for p in planned:
        if dry_run or not yes:
            show_diff(files.diff(p))
    pending = [p for p in planned if p.verb is not files.Verb.IDENTICAL]
    result = RemoveResult(dry_run=dry_run, notes=notes)
    result.keys = [Path(k) for k in manifest.get("keys", []) if Path(k).exists()]
    control_dirs = [Path(d) for d in manifest.get("control_dirs", []) if Path(d).is_dir()]
    if (pending or control_dirs) and not dry_run and not yes:
        if confirm is None:
            raise BadInput("sshsetup remove needs confirmation", hint="re-run with --yes, or with --dry-run to see what it would remove")
        if not confirm("Remove these?"):
            from click.exceptions import Abort

            raise Abort()
    if dry_run:
        result.outcomes = files.apply(planned, dry_run=True)
        result.outcomes += [files.Outcome(d, files.Verb.DELETE) for d in control_dirs]
        return result
    with files.locked(paths.lock_file):
        result.outcomes = files.apply(planned, dry_run=False)
        for d in control_dirs:
            leftovers = list(d.iterdir())
            if leftovers:
                result.notes.append(f"kept {d}: it still holds {len(leftovers)} connection socket(s); close them with: ssh -O exit <alias>")
                continue
            d.rmdir()
            result.outcomes.append(files.Outcome(d, files.Verb.DELETE))
        for f in (paths.manifest, paths.keylines):
            if f.exists():
                f.unlink()
                result.outcomes.append(files.Outcome(f, files.Verb.DELETE))
    return result
