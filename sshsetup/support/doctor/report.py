"""``sshsetup doctor`` with ``--remote``, ``--report FILE`` and ``--from-report FILE``.

The report is ONE JSON file (UTF-8, ``indent=2``, sorted keys), redacted by
``sshsetup.support.redact`` before it is shown, and shown before it is written::

    {"sshsetup_report": 1, "created": "2026-11-29T14:30:00+00:00", "sshsetup": "0.1.0",
     "python": "3.11.7", "os": "Linux-6.1-x86_64", "ssh": "OpenSSH_9.2p1 ...",
     "status": "fail", "checks": [<the --json check objects>],
     "ssh_g": {"<alias>": ["hostname 93.199.0.0/16", "user smith1", ...]},
     "managed_block": "# BEGIN sshsetup ...", "transcripts": {"<alias>": "OpenSSH_9.2p1 ...\\ndebug1: ..."}}

``--from-report`` reads such a file offline: it prints the checks as ``doctor`` would
and runs ``sshlog`` again on each transcript (support staff, newer patterns).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import platform
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from sshsetup import __version__
from sshsetup.errors import BadInput
from sshsetup.support import redact, sshlog
from sshsetup.support.doctor import checks_auth, checks_config, checks_local, render
from sshsetup.support.doctor.model import CheckResult, DoctorContext, Report, Status

REPORT_VERSION = 1
TRANSCRIPT_LINES = 80  # the first 20 and the last 60 lines of a longer transcript
SSH_G_KEYS = ("hostname", "port", "user", "identityfile", "identitiesonly", "addressfamily", "bindaddress", "proxyjump",
              "proxycommand", "controlmaster", "controlpath", "controlpersist", "batchmode", "stricthostkeychecking",
              "userknownhostsfile", "connecttimeout", "serveraliveinterval", "addkeystoagent", "forwardagent", "macs")


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
    """Everything the report holds, not yet redacted."""
    ssh_g: dict[str, list[str]] = {}
    transcripts: dict[str, str] = {}
    for t in ctx.targets:
        r = checks_config.resolved(ctx, t.alias)
        ssh_g[t.alias] = [f"{k} {v}" for k in SSH_G_KEYS for v in (r.options or {}).get(k, [])] or [f"ssh -G failed: {r.error}"]
        probe = ctx.shared.get("auth.transcript", t.alias, checks_auth.AuthProbe)
        if probe is not None:
            transcripts[t.alias] = _short(probe.stderr)
    return {
        "sshsetup_report": REPORT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "sshsetup": __version__,
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
    text = json.dumps(red.value(bundle(ctx, report)), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    redact.check_clean(text, red.secrets)
    return text


def write_report(text: str, path: Path, yes: bool, confirm: Callable[[str], bool] | None, show: TextIO) -> bool:
    """Show ``text``, ask (unless ``yes``), write it with mode 0600. False when declined."""
    show.write(text)
    show.write(f"--- end of the report; it has not been written yet ({path}) ---\n")
    if not yes:
        if confirm is None:
            raise BadInput("writing the report needs a confirmation", hint="read it above, then re-run with --yes")
        if not confirm(f"Write this report to {path}?"):
            return False
    from sshsetup.files import atomic_write

    atomic_write(path, text.encode("utf-8"), 0o600)
    return True


def load_report(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise BadInput(f"{path} does not exist", hint="give the report file a user sent (sshsetup doctor --report FILE)") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} is not a readable sshsetup report: {exc}") from None
    if not isinstance(doc, dict) or doc.get("sshsetup_report") != REPORT_VERSION or not isinstance(doc.get("checks"), list):
        raise BadInput(f"{path} is not an sshsetup report (version {REPORT_VERSION})", hint="it must come from: sshsetup doctor --report FILE")
    return doc


def from_report(path: Path, out: TextIO, json_out: bool = False) -> int:
    """Re-render a report and re-run ``sshlog`` on its transcripts; exit code as the original run."""
    doc = load_report(path)
    results = tuple(CheckResult(str(c.get("id")), Status(c.get("status", "fail")), str(c.get("summary", "")), c.get("hint"),
                                tuple(c.get("details") or ()), c.get("subject")) for c in doc["checks"])
    rep = Report(results)
    findings = {alias: sshlog.classify(text) for alias, text in sorted((doc.get("transcripts") or {}).items())}
    if json_out:
        env = rep.to_json() | {"transcripts": {a: sshlog.to_json(f) for a, f in findings.items()}}
        out.write(json.dumps(env, sort_keys=True, indent=2, ensure_ascii=False) + "\n")
        return rep.exit_code
    out.write(f"report of {doc.get('created', '?')}: sshsetup {doc.get('sshsetup', '?')}, {doc.get('ssh', '?')}, {doc.get('os', '?')}\n")
    out.write(render.human(rep, render.use_ascii(out), render.use_colour(out)))
    for alias, found in findings.items():
        out.write(f"transcript ({alias}), analysed again:\n")
        for f in found or []:
            out.write(f"  {f.cause}: {f.title}\n    hint: {f.hint}\n")
        if not found:
            out.write("  no known cause found\n")
    return rep.exit_code
