"""``sshsetup doctor --from-report FILE``: read a report offline, print it as doctor would, re-run ``sshlog``.

A report comes from a stranger: it is read as hostile input. Only a regular file of at most
``report.MAX_BYTES`` is read; every field is type-checked (a wrong type, a nesting too deep for
the JSON parser, or text that is not UTF-8 is one ``error:`` line with a ``hint:``, exit 2); every
string it holds reaches the terminal only through ``sshsetup.sanitize`` (in ``render.human`` and
here). The text and the JSON payload are one ``Result`` (``sshsetup.render`` prints it).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sshsetup import envelope
from sshsetup.errors import BadInput
from sshsetup.result import Result
from sshsetup.sanitize import shown
from sshsetup.support import sshlog
from sshsetup.support.doctor import render
from sshsetup.support.doctor.model import CheckResult, Report, Status
from sshsetup.support.doctor.report import KIND, LEGACY_MARK, MAX_BYTES, VERSION

ANALYSED_LINES, LINE_CHARS, ANALYSED_TRANSCRIPTS = 200, 1000, 50  # sshsetup writes 80 short lines per host
HINT = "it must be a file written by: sshsetup doctor --report FILE (ask for it again)"
_STATUSES = ", ".join(s.value for s in Status)


@dataclass(frozen=True)
class LoadedReport:
    """The fields of a report that ``--from-report`` uses, checked."""

    created: str
    version: str  # sshsetup's version that wrote it
    ssh: str
    os: str
    report: Report
    transcripts: dict[str, str]


class _Bad(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where} must be {what}")


def _read(path: Path) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist", hint="give the report file a user sent (sshsetup doctor --report FILE)") from None
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}", hint=HINT) from None
    if not stat.S_ISREG(st.st_mode):
        raise BadInput(f"{path} is not a regular file", hint=HINT)
    if st.st_size > MAX_BYTES:
        raise BadInput(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB: not an sshsetup report", hint=HINT)
    try:
        with path.open("rb") as fh:
            return fh.read(MAX_BYTES + 1)[:MAX_BYTES]
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}", hint=HINT) from None


def _text(doc: Mapping[str, Any], key: str, where: str, *, optional: bool = True) -> str:
    value = doc.get(key)
    if value is None and optional:
        return "?"
    if not isinstance(value, str):
        raise _Bad(f"{where}{key}", "a string")
    return value


def _result(c: object, where: str) -> CheckResult:
    if not isinstance(c, dict):
        raise _Bad(where, "an object")
    status = c.get("status")
    if status not in {s.value for s in Status}:
        raise _Bad(f"{where}.status", f"one of {_STATUSES}")
    hint, subject, details = c.get("hint"), c.get("subject"), c.get("details", [])
    if hint is not None and not isinstance(hint, str):
        raise _Bad(f"{where}.hint", "a string or null")
    if subject is not None and not isinstance(subject, str):
        raise _Bad(f"{where}.subject", "a string or null")
    if not isinstance(details, list) or not all(isinstance(d, str) for d in details):
        raise _Bad(f"{where}.details", "a list of strings")
    return CheckResult(_text(c, "id", f"{where}.", optional=False), Status(status), _text(c, "summary", f"{where}.", optional=False),
                       hint, tuple(details), subject)


def parse(doc: object) -> LoadedReport:
    """Check a decoded report; ``_Bad`` names the first field that is wrong."""
    if not isinstance(doc, dict):
        raise _Bad("the document", "an object")
    legacy = LEGACY_MARK in doc
    checks = doc.get("checks")
    if not isinstance(checks, list):
        raise _Bad("checks", "a list")
    results = tuple(_result(c, f"checks[{i}]") for i, c in enumerate(checks))
    transcripts = doc.get("transcripts") or {}
    if not isinstance(transcripts, dict) or not all(isinstance(v, str) for v in transcripts.values()):
        raise _Bad("transcripts", "an object of strings")
    version = _text(doc, "sshsetup" if legacy else "sshsetup_version", "")
    return LoadedReport(_text(doc, "created", ""), version, _text(doc, "ssh", ""), _text(doc, "os", ""), Report(results),
                        {str(k): v for k, v in transcripts.items()})


def load(path: Path) -> LoadedReport:
    data = _read(path)
    try:
        text = data.decode("utf-8-sig")
        doc = json.loads(text)
    except RecursionError:
        raise BadInput(f"{path} is nested too deeply to be an sshsetup report", hint=HINT) from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text: not an sshsetup report", hint=HINT) from None
    except ValueError as exc:
        raise BadInput(f"{path} is not JSON ({exc}): not an sshsetup report", hint=HINT) from None
    if isinstance(doc, dict) and LEGACY_MARK in doc:
        if doc.get(LEGACY_MARK) != 1:
            raise BadInput(f"{path} is an sshsetup report of an unknown version", hint="read it with a newer sshsetup")
    else:
        try:
            envelope.parse(text, KIND, VERSION)
        except ValueError as exc:
            raise BadInput(f"{path} is not an sshsetup report ({exc})", hint=HINT) from None
    try:
        return parse(doc)
    except _Bad as exc:
        raise BadInput(f"{path} is not a valid sshsetup report: {exc}", hint=HINT) from None


def bounded(transcript: str) -> tuple[str, bool]:
    """What of a transcript is analysed (a hostile one cannot make the analysis slow), and whether it was cut."""
    lines = transcript.splitlines()
    kept = [ln[:LINE_CHARS] for ln in lines[:ANALYSED_LINES]]
    return "\n".join(kept), len(lines) > ANALYSED_LINES or any(len(ln) > LINE_CHARS for ln in lines[:ANALYSED_LINES])


def from_report(path: Path, ascii_only: bool = False, colour: bool = False) -> Result:
    """Re-render a report and re-run ``sshlog`` on its transcripts, as data; exit code as the original run."""
    loaded = load(path)
    rep = loaded.report
    analysed = {alias: bounded(text) for alias, text in sorted(loaded.transcripts.items())[:ANALYSED_TRANSCRIPTS]}
    findings = {alias: sshlog.classify(text) for alias, (text, _) in analysed.items()}
    lines = [shown(f"report of {loaded.created}: sshsetup {loaded.version}, {loaded.ssh}, {loaded.os}") + "\n",
             render.human(rep, ascii_only, colour)]
    for alias, found in findings.items():
        cut = analysed[alias][1]
        lines.append(f"transcript ({shown(alias)}), analysed again" + (f" (its first {ANALYSED_LINES} lines, {LINE_CHARS} characters each)"
                                                                      if cut else "") + ":\n")
        lines.extend(f"  {f.cause}: {shown(f.title)}\n    hint: {shown(f.hint)}\n" for f in found)
        if not found:
            lines.append("  no known cause found\n")
    return render.result(rep, "".join(lines), extra={"transcripts": {a: sshlog.to_json(f) for a, f in findings.items()}})
