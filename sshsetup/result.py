"""What a command hands back: data, never printed output.

A command returns one ``Result``; ``render.show`` prints it (text or the JSON envelope)
and gives back its exit code. The command decides the exit code (and every line of prose)
from what happened; the renderer only decides where each part goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sshsetup.errors import EXIT_OK
from sshsetup.files import Outcome, Verb


@dataclass(frozen=True)
class Result:
    """Printed in this order: diff (stdout), notes, heading + outcomes, summary, output (stdout), after."""

    kind: str  # the command; also the JSON envelope's kind
    exit_code: int = EXIT_OK
    outcomes: tuple[Outcome, ...] = ()  # what the one writer did (or would do, with dry_run or declined)
    dry_run: bool = False
    declined: bool = False  # a change needed agreement and got none: the outcomes were not applied
    diff: str = ""  # unified diff of every file, shown before anything else (stdout)
    output: str = ""  # the command's own product for stdout: a script, a key line, a table
    notes: tuple[str, ...] = ()  # prose for stderr, before the outcomes
    heading: str | None = None  # the line above the outcomes; None: "Done:" (or the dry-run line), "": none
    unchanged: str | None = None  # shown instead of heading and outcomes when nothing changed (None: show them)
    summary: tuple[str, ...] = ()  # prose for stderr, after the outcomes and before the output
    after: tuple[str, ...] = ()  # prose for stderr, after the output
    data: Mapping[str, Any] = field(default_factory=dict)  # the --json payload
    version: int = 1  # the JSON document's version (raise when a field changes meaning)
    json_exit_code: bool = True  # False: a document older than the envelope's exit_code keeps its fields exactly

    @property
    def changed(self) -> bool:
        return any(o.verb not in (Verb.IDENTICAL, Verb.REFUSE) for o in self.outcomes)


def outcome_data(o: Outcome) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": str(o.path), "verb": o.verb.value}
    if o.backup:
        doc["backup"] = str(o.backup)
    if o.reason:
        doc["reason"] = o.reason
    return doc
