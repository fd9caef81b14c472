"""``sshsetup vscode`` (tasks part): create or merge ``<workspace>/.vscode/tasks.json``.

tasks.json is JSONC; it is edited with ``sshsetup.vscode.jsonc.editor`` so the user's tasks, inputs,
comments and layout stay byte for byte. Our tasks are found by their label prefix
(``slurm_tasks.PREFIX``) and our inputs by their id prefix: each is replaced in place,
added when missing, and removed when sshsetup no longer generates it (e.g. after a
change of site). Rename a task to make it yours; sshsetup then leaves it alone.
An existing file is changed only after its diff was shown (``--yes`` or ``confirm``).

What the file was before sshsetup first wrote it is kept in the manifest (``remember``): whether
it existed, and its exact bytes when it held nothing of the user's (empty, ``{}``, a version, empty
arrays, comments only). ``remove_change`` then gives back exactly those bytes (or deletes a file
sshsetup created), and takes out a ``"version"`` it added; without a record it never deletes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sshsetup import files, textfile
from sshsetup.catalogue import Site, select
from sshsetup.errors import EXIT_FAIL, EXIT_OK, BadInput, Refused
from sshsetup.vscode import tasks as slurm_tasks
from sshsetup.vscode.jsonc import editor as jsonc

MANIFEST_KEY = "tasks_files"
RECORD_VERSION = 1


@dataclass(frozen=True)
class TasksRecord:
    """The tasks.json before sshsetup first changed it."""

    existed: bool
    original: str | None  # the whole text (BOM as U+FEFF), kept only when nothing in it was the user's
    version_added: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, "existed": self.existed, "original": self.original, "version_added": self.version_added}

    @classmethod
    def from_json(cls, data: Any) -> TasksRecord | None:
        """None for a record this version cannot read (``remove`` then never deletes the file)."""
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            return None
        existed, original, added = data.get("existed"), data.get("original"), data.get("version_added", False)
        if not isinstance(existed, bool) or not isinstance(original, (str, type(None))) or not isinstance(added, bool):
            return None
        return cls(existed, original, added)


@dataclass(frozen=True)
class TasksResult:
    path: Path
    outcomes: list[files.Outcome] = field(default_factory=list)
    diff: str = ""
    dry_run: bool = False
    messages: tuple[str, ...] = ()
    exit_code: int = EXIT_OK
    record: TasksRecord | None = None  # what the file was before this change (for the manifest: ``remember``)


def _nothing_of_the_users(value: Any) -> bool:
    """The parsed file holds no task, input or other member of the user's (comments aside)."""
    if value is jsonc.MISSING:
        return True
    return isinstance(value, dict) and all(
        (k == "version" and v == slurm_tasks.VERSION) or (k in ("tasks", "inputs") and v == []) for k, v in value.items()
    )


def record_of(data: bytes | None, value: Any) -> TasksRecord:
    """The record of a tasks.json as it is now (``data``: its bytes, None when missing; ``value``: parsed)."""
    if data is None:
        return TasksRecord(False, "")
    version_added = not isinstance(value, dict) or "version" not in value
    original = data.decode("utf-8") if _nothing_of_the_users(value) else None
    return TasksRecord(True, original, version_added)


def remember(manifest: dict[str, Any], result: TasksResult) -> None:
    """Keep the first record of each tasks.json sshsetup wrote in the manifest (call after a real write)."""
    written = any(o.verb in (files.Verb.CREATE, files.Verb.UPDATE) for o in result.outcomes)
    if result.record is None or result.dry_run or not written:
        return
    manifest.setdefault(MANIFEST_KEY, {}).setdefault(str(result.path), result.record.to_json())


def tasks_path(workspace: Path) -> Path:
    return workspace / ".vscode" / "tasks.json"


def _read(path: Path) -> tuple[textfile.TextDoc | None, Any]:
    data = files.read_bytes(path)
    if data is None:
        return None, jsonc.MISSING
    doc = textfile.decode(data, path, allow_bom=True)
    try:
        value = jsonc.parse(doc.text)
    except jsonc.JSONCError as exc:
        raise exc.for_file(path) from None
    if value is not jsonc.MISSING:
        version = value.get("version")
        if version is not None and version != slurm_tasks.VERSION:
            raise Refused(
                f"{path} has version {version!r}; sshsetup writes version {slurm_tasks.VERSION} tasks",
                hint=f"convert it in VS Code (it offers to migrate old tasks.json files), or move it away: {path}",
            )
    return doc, value


def _items(value: Any, key: str) -> list[Any]:
    items = value.get(key) if isinstance(value, dict) else None
    return items if isinstance(items, list) else []


def merge(text: str, value: Any, doc: dict[str, Any]) -> str:
    """Upsert our tasks (by label) and inputs (by id) into ``text``; drop our stale ones."""
    if value is jsonc.MISSING:
        return text + ("" if not text or text.endswith("\n") else "\n") + json.dumps(doc, indent=4, ensure_ascii=False) + "\n"
    if value.get("version") != slurm_tasks.VERSION:
        text = jsonc.set_value(text, ["version"], slurm_tasks.VERSION)
    for array, key, ours in (("tasks", "label", slurm_tasks.is_our_task), ("inputs", "id", slurm_tasks.is_our_input)):
        wanted = {item[key] for item in doc[array]}
        for old in _items(value, array):
            if ours(old) and old[key] not in wanted:
                text = jsonc.remove_array_item(text, [array], key, old[key])
        for item in doc[array]:
            text = jsonc.upsert_array_item(text, [array], key, item)
    return text


def _unmerge(text: str, value: Any) -> str:
    for array, key, ours in (("tasks", "label", slurm_tasks.is_our_task), ("inputs", "id", slurm_tasks.is_our_input)):
        for old in _items(value, array):
            if ours(old):
                text = jsonc.remove_array_item(text, [array], key, old[key])
    raw = jsonc.get_raw(text, ["inputs"])
    if any(slurm_tasks.is_our_input(i) for i in _items(value, "inputs")) and raw is not None and re.sub(r"\s", "", raw) == "[]":
        text = jsonc.delete(text, ["inputs"])  # merge added the member for our inputs: take it out again
    return text


def tasks_change(
    catalogue: Mapping[str, Site],
    site_id: str,
    workspace: Path,
    account: str | None = None,
    partition: str | None = None,
    *,
    alias: str | None = None,
    where: str = "both",
) -> files.FileChange:
    """The new tasks.json for ``workspace`` (for callers that plan several files at once); ``where``: which
    half of the tasks (``slurm_tasks.make_tasks``); our tasks of the other half are taken out."""
    (site,) = select(catalogue, [site_id])
    doc = slurm_tasks.make_tasks(site, account or "", partition, alias, where)
    path = tasks_path(workspace)
    old, value = _read(path)
    try:
        new_text = merge(old.text if old else "", value, doc)
    except jsonc.JSONCError as exc:  # e.g. "tasks" is not an array
        raise exc.for_file(path) from None
    data = old.encode(new_text) if old else new_text.encode("utf-8")
    return files.FileChange(path, data, mode=0o644, label="VS Code tasks", dir_mode=0o755)


def _comments(text: str) -> int:
    return text.count("//") + text.count("/*")


def remove_change(workspace: Path, record: TasksRecord | None = None) -> files.FileChange | None:
    """Our tasks and inputs taken out again; with ``record``, the file as it was before sshsetup."""
    path = tasks_path(workspace)
    old, value = _read(path)
    if old is None or value is jsonc.MISSING:
        return None
    text = _unmerge(old.text, value)  # only arrays that hold our items are edited
    if text == old.text:
        return None
    if record is not None:
        left = jsonc.parse(text)
        if record.original is not None and _nothing_of_the_users(left) and _comments(text) <= _comments(record.original):
            if not record.existed:
                return files.FileChange(path, None, label="VS Code tasks")
            return files.FileChange(path, record.original.encode("utf-8"), label="VS Code tasks")
        if record.version_added and isinstance(left, dict) and left.get("version") == slurm_tasks.VERSION:
            text = jsonc.delete(text, ["version"])
    return files.FileChange(path, old.encode(text), label="VS Code tasks")


def _run(change: files.FileChange | None, path: Path, dry_run: bool, yes: bool, confirm: Callable[[str], bool] | None) -> TasksResult:
    if change is None:
        return TasksResult(path, [files.Outcome(path, files.Verb.IDENTICAL)], dry_run=dry_run)
    done = files.apply_confirmed(change, dry_run=dry_run, yes=yes, ask=confirm,
                                 question=lambda verb: f"{verb.value.capitalize()} {path}?")
    if done.declined:
        msg = f"{path} was left unchanged (diff above). Re-run with --yes to {done.outcomes[0].verb.value} it."
        return TasksResult(path, done.outcomes, done.diff, dry_run, (msg,), EXIT_FAIL)
    return TasksResult(path, done.outcomes, done.diff, dry_run)


def vscode_tasks(
    catalogue: Mapping[str, Site],
    site_id: str,
    workspace: Path,
    account: str | None = None,
    partition: str | None = None,
    dry_run: bool = False,
    yes: bool = False,
    *,
    alias: str | None = None,
    confirm: Callable[[str], bool] | None = None,
    where: str = "both",
) -> TasksResult:
    """Create or merge the workspace's tasks.json (a new file needs no confirmation)."""
    if not workspace.is_dir():
        raise BadInput(f"workspace {workspace} is not a directory", hint="give the folder you open in VS Code: --workspace DIR")
    path = tasks_path(workspace)
    data = files.read_bytes(path)
    before = record_of(data, _read(path)[1])
    change = tasks_change(catalogue, site_id, workspace, account, partition, alias=alias, where=where)
    return dataclasses.replace(_run(change, change.path, dry_run, yes, confirm), record=before)


def show(result: TasksResult) -> int:
    """Print a result the usual way (diff on stdout, outcome lines on stderr); the exit code."""
    from sshsetup.output import outcome_line, print_diff, say

    print_diff(result.diff)
    for o in result.outcomes:
        say(outcome_line(o, result.dry_run or result.exit_code != EXIT_OK))
    for msg in result.messages:
        say(msg)
    return result.exit_code
