"""The VS Code Remote-SSH settings sshsetup writes, and how it takes them back.

Pure functions over the text of settings.json (docs/reference.md gives each reason and its source):

* ``remote.SSH.remotePlatform`` = {alias: "linux"}: no OS prompt for our hosts.
* ``remote.SSH.connectTimeout`` = 60: time to type a TOTP code (default 15 s).
* ``remote.SSH.showLoginTerminal`` = true: the only place to answer the 2FA prompt.
* ``remote.SSH.lockfilesInTmp`` = true and ``remote.SSH.useFlock`` = false: install locks
  hang on network home directories (NFS/GPFS), vscode-remote-release#2718.
* ``remote.SSH.maxReconnectionAttempts`` = 3: fail fast after a job or node is gone
  (NERSC uses 2 for compute-node sessions).
* ``remote.SSH.serverInstallPath`` = {alias: dir} when given: keep the ~thousands of server
  files out of the 10,000-file $HOME quota.
* Windows clients: ``remote.SSH.useLocalServer`` = false. It is already what Remote-SSH does
  on Windows ("still disabled by default on windows due to issues", maintainer,
  vscode-remote-release#9468, 2024), and ``true`` there has broken password/2FA prompts with
  Windows OpenSSH (#2569). Writing it pins the behaviour our TOTP advice relies on should
  the default change.

Only our keys inside the per-alias maps are touched. ``apply_settings`` returns a
``SettingsRecord`` with the exact old text of every member it set, so that
``revert_settings`` can give back the original bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sshsetup.errors import BadInput, Refused
from sshsetup.vscode.jsonc import editor as jsonc

REMOTE_PLATFORM = "remote.SSH.remotePlatform"
SERVER_INSTALL_PATH = "remote.SSH.serverInstallPath"
PER_ALIAS = (REMOTE_PLATFORM, SERVER_INSTALL_PATH)
GLOBAL: tuple[tuple[str, Any], ...] = (
    ("remote.SSH.connectTimeout", 60),
    ("remote.SSH.showLoginTerminal", True),
    ("remote.SSH.lockfilesInTmp", True),
    ("remote.SSH.useFlock", False),
    ("remote.SSH.maxReconnectionAttempts", 3),
)
WINDOWS_ONLY: tuple[tuple[str, Any], ...] = (("remote.SSH.useLocalServer", False),)
RECORD_VERSION = 1

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Desired:
    aliases: tuple[str, ...]
    server_install_path: Mapping[str, str | None] = field(default_factory=dict)  # alias -> absolute dir
    windows_client: bool = False

    def members(self) -> list[tuple[Path_, Any]]:
        """Every (path, value) we set, in order; validates the input."""
        for alias in self.aliases:
            if not alias or re.search(r"\s", alias):
                raise BadInput(f"invalid host alias {alias!r}", hint="use a name without spaces, e.g. jsc-booster")
        out: list[tuple[Path_, Any]] = [((REMOTE_PLATFORM, a), "linux") for a in dict.fromkeys(self.aliases)]
        out += [((key,), value) for key, value in GLOBAL]
        for alias, where in self.server_install_path.items():
            if where is None:
                continue
            if alias not in self.aliases:
                raise BadInput(f"serverInstallPath given for {alias!r}, which is not one of our hosts")
            if not where.startswith("/") or "$" in where or "~" in where:
                raise BadInput(
                    f"serverInstallPath for {alias} must be a literal absolute path, not {where!r}",
                    hint="resolve it on the login node first, e.g. ssh HOST 'echo $PROJECT_<project>/$USER'",
                )
            out.append(((SERVER_INSTALL_PATH, alias), where))
        if self.windows_client:
            out += [((key,), value) for key, value in WINDOWS_ONLY]
        return out


@dataclass(frozen=True)
class Change:
    path: Path_
    old: str | None  # the exact source text before; None: the member did not exist
    new: str | None  # the JSON text we wrote; None: an object that holds our per-alias keys


@dataclass(frozen=True)
class SettingsRecord:
    changes: tuple[Change, ...]
    original: str | None = None  # the whole text before, kept only when it had no settings at all

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "original": self.original,
            "changes": [{"path": list(c.path), "old": c.old, "new": c.new} for c in self.changes],
        }

    @classmethod
    def from_json(cls, data: Any) -> SettingsRecord:
        try:
            if data["version"] != RECORD_VERSION:
                raise ValueError(f"version {data['version']!r}")
            changes = tuple(Change(tuple(c["path"]), c["old"], c["new"]) for c in data["changes"])
            ok = all(all(isinstance(p, str) for p in c.path) and c.path for c in changes)
            ok = ok and all(isinstance(v, (str, type(None))) for c in changes for v in (c.old, c.new))
            if not ok or not isinstance(data["original"], (str, type(None))):
                raise ValueError("bad field types")
            return cls(changes, data["original"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Refused(
                f"sshsetup's record of the VS Code settings it changed is damaged ({exc})",
                hint="check ~/.config/sshsetup state, or remove the remote.SSH settings by hand",
            ) from None


def _is_empty_object(text: str) -> bool:
    return jsonc.parse(text) in (jsonc.MISSING, {})


def apply_settings(old_text: str, desired: Desired) -> tuple[str, SettingsRecord]:
    """Set every desired member; the record says what each was before. Raises JSONCError."""
    members = desired.members()
    original = old_text if _is_empty_object(old_text) else None
    text = old_text
    changes: list[Change] = []
    for key in PER_ALIAS:
        if any(path[0] == key for path, _ in members):
            raw = jsonc.get_raw(text, [key])
            if raw is None or jsonc.get(text, [key]) == {}:
                changes.append(Change((key,), raw, None))
    for path, value in members:
        changes.append(Change(path, jsonc.get_raw(text, path), json.dumps(value, ensure_ascii=False)))
    return jsonc.set_values(text, members), SettingsRecord(tuple(changes), original)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def revert_settings(text: str, record: SettingsRecord) -> tuple[str, list[str]]:
    """Undo ``record``: a member goes back to its old text only while it still holds what we wrote.

    Returns the new text and one note per member left alone (the user changed it since).
    """
    notes: list[str] = []
    leaves = [c for c in record.changes if c.new is not None]
    current = [jsonc.get(text, c.path) for c in leaves]  # one read of the text
    gone = []
    for c, value in zip(reversed(leaves), reversed(current), strict=True):
        if value is jsonc.MISSING:
            continue
        if not jsonc.same_value(value, json.loads(c.new or "null")):
            notes.append(f"left {'.'.join(c.path)} as it is: it was changed after sshsetup set it")
        elif c.old is None:
            gone.append(c.path)
        else:
            text = jsonc.set_raw(text, c.path, c.old)
    text = jsonc.delete_many(text, gone)  # one edit for our neighbouring members: fast on big files
    maps = [c for c in record.changes if c.new is None]  # a map we created or found empty ...
    empty = [c for c in maps if _squash(jsonc.get_raw(text, c.path) or "x") == "{}"]  # ... is empty again
    for c in empty:
        if c.old is not None:
            text = jsonc.set_raw(text, c.path, c.old)
    text = jsonc.delete_many(text, [c.path for c in empty if c.old is None])
    if record.original is not None and jsonc.parse(text) == {}:
        squashed, before = _squash(text), _squash(record.original)
        if squashed in (before, before + "{}"):
            text = record.original
    return text, notes


def merge_records(earlier: SettingsRecord, later: SettingsRecord) -> SettingsRecord:
    """One record for two runs: the earliest old text of each member, the latest value written."""
    by_path = {c.path: c for c in earlier.changes}
    order = [c.path for c in earlier.changes]
    for c in later.changes:
        if c.path in by_path:
            by_path[c.path] = Change(c.path, by_path[c.path].old, c.new if by_path[c.path].new is not None else None)
        else:
            by_path[c.path] = c
            order.append(c.path)
    original = earlier.original if earlier.original is not None else later.original
    return SettingsRecord(tuple(by_path[p] for p in order), original)


@dataclass(frozen=True)
class Difference:
    path: Path_
    expected: Any
    actual: Any  # jsonc.MISSING when the member is absent

    def describe(self) -> str:
        name = ".".join(self.path)
        want = json.dumps(self.expected)
        if self.actual is jsonc.MISSING:
            return f"{name} is not set (want {want})"
        return f"{name} is {json.dumps(self.actual)} (want {want})"


def check_settings(text: str, desired: Desired) -> list[Difference]:
    """The desired members whose value differs (for doctor). Raises JSONCError on a broken file."""
    out = []
    for path, value in desired.members():
        actual = jsonc.get(text, path)
        if actual is jsonc.MISSING or not jsonc.same_value(actual, value):
            out.append(Difference(path, value, actual))
    return out
