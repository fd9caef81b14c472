"""``sshsetup triage DIR|FILE... [--json] [--reply]``: many tickets at once, for support staff.

Reads ``doctor --report`` bundles and pasted logs in any mix (a directory: every file in it,
recursively, hidden ones skipped), groups them by cause (``sshsetup.support.triage``) and prints
a table: cause, count, first and last seen, sshsetup and OpenSSH versions, files; "no rule
explains this" is a group of its own. ``--reply`` adds, per ticket, a draft answer in Markdown.
``--json`` prints the versioned envelope (kind ``triage``). A file that is not a log or a report
(binary, a broken or hostile report) is listed as refused with one line; a path that does not
exist is bad input (exit 2). Exit 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sshsetup.commands import explain
from sshsetup.errors import EXIT_OK, BadInput, Refused
from sshsetup.result import Result
from sshsetup.sanitize import shown
from sshsetup.support import sshlog, triage

if TYPE_CHECKING:
    from sshsetup.paths import Paths

MAX_FILES = 10_000
HEAD = 1 << 20  # bytes read to tell a report from a log and to find versions and sites


@dataclass(frozen=True)
class TriageOptions:
    sources: tuple[str, ...]  # files and directories
    json_out: bool = False
    reply: bool = False  # add each ticket's draft reply (to --json, or after the table)
    reply_file: Path | None = None  # --reply FILE: the draft answer for the one ticket given, written to FILE


def files(sources: tuple[str, ...]) -> Iterator[Path]:
    """The files to read, in a stable order; BadInput for a path that does not exist."""
    if not sources:
        raise BadInput("give the reports and logs to triage", hint="sshsetup triage DIR|FILE... (e.g. a folder of ticket attachments)")
    count = 0
    for src in sources:
        path = Path(src)
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
            candidates = found
        elif path.exists():
            candidates = [path]
        else:
            raise BadInput(f"{shown(src)} does not exist", hint="give report files (doctor --report), pasted logs, or folders of them")
        for p in candidates:
            count += 1
            if count > MAX_FILES:
                raise BadInput(f"more than {MAX_FILES} files to triage", hint="triage one folder of tickets at a time")
            yield p


def site_names(paths: Paths | None) -> dict[str, str]:
    """Host names and aliases of the catalogue's sites -> site id."""
    from sshsetup.catalogue import load_catalogue

    cat = load_catalogue(None, paths.sites_file if paths is not None else None)
    names: dict[str, str] = {}
    for site in cat.values():
        for name in (site.hostname, site.alias, site.id):
            if isinstance(name, str) and len(name) >= 4:
                names[name] = site.id
    return names


def _mtime(path: Path) -> str:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(microsecond=0).isoformat()
    except OSError:
        return ""


def read_ticket(path: Path, sites: dict[str, str]) -> triage.Ticket:
    """One file as a ticket; refused (one line why) when it is neither a log nor a report."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD)
            text_head = explain.decode(head)
            if triage.looks_like_report(text_head):
                rest = fh.read(triage.MAX_REPORT_BYTES + 1 - len(head))
                return triage.ticket_from_report(name, explain.decode(head + rest), sites=sites)
            fh.seek(0)
            findings, _n = sshlog.classify_stream(explain.read_pieces(fh, shown(name)))
    except BadInput as exc:  # read_pieces: "NAME is not a text log (...)"
        return triage.refused(name, exc.message.removeprefix(shown(name) + " is "))
    except OSError as exc:
        return triage.refused(name, f"cannot read it: {exc.strerror or exc}")
    return triage.log_ticket(name, findings, text_head, seen=_mtime(path), sites=sites)


def run(paths: Paths | None, options: TriageOptions) -> Result:
    """The command: read and group the tickets; the table (and replies) for stdout, the JSON payload."""
    sites = site_names(paths)
    tickets = [read_ticket(p, sites) for p in files(options.sources)]
    if options.reply_file is not None:
        _write_reply(options.reply_file, tickets)
    groups = triage.group(tickets)
    with_reply = options.reply or options.reply_file is not None
    text = triage.table(groups)
    if options.reply_file is not None:
        text += f"\nThe draft reply for {shown(tickets[0].source)} is in {options.reply_file}.\n"
    elif options.reply:
        text += "".join("\n---\n\n" + triage.reply(t) for g in groups for t in g.tickets)
    return Result(triage.JSON_KIND, EXIT_OK, output=text, data=triage.payload(groups, with_reply), version=triage.JSON_VERSION,
                  json_exit_code=False)


def _write_reply(path: Path, tickets: list[triage.Ticket]) -> None:
    """``--reply FILE``: one ticket's draft answer (Markdown) in a new file, through the one writer."""
    from sshsetup import files as writer

    if len(tickets) != 1:
        raise BadInput(f"--reply FILE writes the answer for one ticket; {len(tickets)} were given",
                       hint="give one report or log: sshsetup triage TICKET --reply FILE (without --reply: the table of all)")
    if os.path.lexists(path):
        raise Refused(f"{path} exists; a draft reply goes to a new file only", hint="give another file name, or move that file away")
    if not path.parent.is_dir():
        raise BadInput(f"cannot write the reply to {path}: the directory {path.parent} does not exist",
                       hint=f"create it first (mkdir -p {path.parent}), or give a file in an existing directory")
    change = writer.FileChange(path, triage.reply(tickets[0]).encode("utf-8"), 0o600, label="reply", exclusive=True)
    writer.apply(writer.plan([change]), dry_run=False)
