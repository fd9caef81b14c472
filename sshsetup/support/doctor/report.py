"""``sshsetup doctor --report FILE``: one redacted JSON bundle for a support ticket.

The report is the one envelope (``sshsetup.envelope``), kind ``doctor-report``, UTF-8,
``indent=2``, sorted keys, redacted by ``sshsetup.support.redact`` before it is shown, and
shown before it is written::

    {"sshsetup": "doctor-report", "version": 2, "created": "2026-11-29T14:30:00+00:00",
     "sshsetup_version": "0.1.0", "python": "3.11.7", "os": "Linux-6.1-x86_64", "ssh": "OpenSSH_9.2p1 ...",
     "status": "fail", "checks": [<the --json check objects>],
     "ssh_g": {"<alias>": ["hostname 93.199.0.0/16", "user <user>", ...]},
     "managed_block": "# BEGIN sshsetup ...", "transcripts": {"<alias>": "OpenSSH_9.2p1 ...\\ndebug1: ..."}}

(Version 1, read by ``--from-report`` still, was ``{"sshsetup_report": 1, "sshsetup": "0.1.0", ...}``.)

The file goes through the one writer (``sshsetup.files``): a new file is created with O_EXCL
and mode 0600; an existing file is replaced only when it is an earlier sshsetup report (its
bytes are kept as a backup); anything else, and a directory that does not exist, is refused
before a single check runs.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import platform
import socket
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from sshsetup import __version__, envelope, files
from sshsetup.errors import BadInput, Refused
from sshsetup.sanitize import shown, shown_block
from sshsetup.support import redact
from sshsetup.support.doctor import checks_auth, checks_config, checks_local
from sshsetup.support.doctor.model import DoctorContext, Report

KIND = "doctor-report"
VERSION = 2
LEGACY_MARK = "sshsetup_report"  # version 1: {"sshsetup_report": 1, ...}
MAX_BYTES = 4 * 1024 * 1024  # a real report is well under 1 MiB
TRANSCRIPT_LINES = 80  # the first 20 and the last 60 lines of a longer transcript
SSH_G_KEYS = ("hostname", "port", "user", "identityfile", "identitiesonly", "addressfamily", "bindaddress", "proxyjump",
              "proxycommand", "localcommand", "controlmaster", "controlpath", "controlpersist", "batchmode",
              "stricthostkeychecking", "userknownhostsfile", "connecttimeout", "serveraliveinterval", "addkeystoagent",
              "forwardagent", "macs", "setenv", "sendenv")
NEW_NAME_HINT = "give a new file name, e.g. --report sshsetup-report.json"


def _short(transcript: str) -> str:
    lines = transcript.splitlines()
    if len(lines) > TRANSCRIPT_LINES:
        lines = [*lines[:20], f"[... {len(lines) - TRANSCRIPT_LINES} lines left out ...]", *lines[-(TRANSCRIPT_LINES - 20):]]
    return "\n".join(lines)


def redactor(ctx: DoctorContext, secrets: Sequence[str] = ()) -> redact.Redactor:
    info, _ = checks_local.key_info(ctx)
    comments = [info.comment] if info and info.comment else []
    host = socket.gethostname()
    users = [getpass.getuser()]
    return redact.Redactor.create(
        homes=[str(ctx.paths.home), str(ctx.paths.pw_home), str(ctx.paths.home.resolve()), str(ctx.paths.pw_home.resolve())],
        users=users, hostnames=[host, host.split(".")[0]], comments=comments, secrets=secrets)


def bundle(ctx: DoctorContext, report: Report) -> dict[str, Any]:
    """Everything the report holds (the envelope's payload), not yet redacted."""
    ssh_g: dict[str, list[str]] = {}
    transcripts: dict[str, str] = {}
    for t in ctx.targets:
        r = checks_config.resolved(ctx, t.alias)
        ssh_g[t.alias] = [f"{k} {v}" for k in SSH_G_KEYS for v in (r.options or {}).get(k, [])] or [f"ssh -G failed: {r.error}"]
        probe = ctx.shared.get("auth.transcript", t.alias, checks_auth.AuthProbe)
        if probe is not None:
            transcripts[t.alias] = _short(probe.stderr)
    return {
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "sshsetup_version": __version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "ssh": checks_local.ssh_version(ctx),
        "status": report.status.value,
        "checks": [r.to_json() for r in report.results],
        "ssh_g": ssh_g,
        "managed_block": checks_local.managed(ctx).block,
        "transcripts": transcripts,
    }


def report_text(ctx: DoctorContext, report: Report, secrets: Sequence[str] = ()) -> str:
    """The redacted JSON text; refuses (``Refused``) if a private key or a secret is still in it."""
    red = redactor(ctx, secrets)
    payload = red.value(bundle(ctx, report))
    assert isinstance(payload, dict)
    text = envelope.dumps(KIND, VERSION, payload)
    redact.check_clean(text, red.secrets)
    return text


def is_report(data: bytes) -> bool:
    """True for the bytes of an sshsetup report (this version or an earlier one)."""
    if len(data) > MAX_BYTES:
        return False
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return False
    if not isinstance(doc, dict):
        return False
    legacy = doc.get(LEGACY_MARK)
    return doc.get("sshsetup") == KIND or (isinstance(legacy, int) and not isinstance(legacy, bool))


def check_destination(path: Path) -> None:
    """Refuse a ``--report`` path that cannot or must not be written (nothing is touched)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"cannot write the report to {path}: the directory {parent} does not exist",
                       hint=f"create it first (mkdir -p {parent}), or give a file in an existing directory")
    try:
        st = os.stat(path)  # through a symlink: what a write would change
    except FileNotFoundError:
        if os.path.lexists(path):
            raise Refused(f"{path} is a symlink to a file that does not exist; it was not changed", hint=NEW_NAME_HINT) from None
        return
    except OSError as exc:
        raise Refused(f"cannot check {path}: {exc.strerror or exc}", hint=NEW_NAME_HINT) from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{path} is a directory", hint=f"give a file name in it, e.g. --report {path / 'sshsetup-report.json'}")
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{path} is not a regular file; it was not changed", hint=NEW_NAME_HINT)
    if st.st_size > MAX_BYTES or not is_report(files.read_bytes(path) or b""):
        raise Refused(f"{path} exists and is not an sshsetup report; it was not changed", hint=NEW_NAME_HINT)


def report_change(path: Path, text: str) -> files.FileChange:
    """The one writer's change for ``path``: refused unless it is new or an earlier report."""
    data = text.encode("utf-8")
    try:
        check_destination(path)
    except (BadInput, Refused) as exc:
        return files.FileChange(path, data, 0o600, label="report", refuse=exc.message)
    return files.FileChange(path, data, 0o600, label="report", backup=True, exclusive=True)


def write_report(text: str, path: Path, *, yes: bool, confirm: Callable[[str], bool] | None,
                 show: TextIO) -> files.Outcome | None:
    """Show ``text``, ask (unless ``yes``), write it; None when declined. Raises when refused."""
    check_destination(path)  # with its own error and hint (again: the file may have appeared meanwhile)
    show.write(shown_block(text))
    show.write(f"--- end of the report; it has not been written yet ({shown(str(path))}) ---\n")
    if not yes:
        if confirm is None:
            raise BadInput("writing the report needs a confirmation", hint="read it above, then re-run with --yes")
        if not confirm(f"Write this report to {path}?"):
            return None
    planned = files.plan([report_change(path, text)])
    (outcome,) = files.apply(planned, dry_run=False)
    if outcome.verb is files.Verb.REFUSE:
        raise Refused(outcome.reason or f"{path} was not written", hint=NEW_NAME_HINT)
    return outcome
