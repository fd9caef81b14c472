"""Many tickets at once, for support staff: group ``doctor --report`` bundles and pasted logs by cause.

Pure: ``ticket_from_report`` / ``ticket_from_log`` turn one input (its text, already read) into a
``Ticket``; ``group`` groups tickets by their cause signature (the failing check ids with their
statuses, the classified ssh causes, the site); ``table``, ``reply`` and ``payload`` render them.
Nothing here reads a file or prints: ``sshsetup.commands.triage`` does.

Every string that comes from a ticket is shown through ``sshsetup.sanitize`` (``shown``) in the
text outputs; a report that is not one (wrong types, too deep, too large) becomes a ``refused``
ticket with one line saying why, never an exception. "No rule explains this" is a group of its
own: what staff must read by hand, and what to report to sshsetup's maintainers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sshsetup.sanitize import shown
from sshsetup.support import sshlog

JSON_KIND = "triage"
JSON_VERSION = 1
MAX_REPORT_BYTES = 8 << 20  # a real report is some kB (80 lines per transcript)
REPORT_VERSIONS = (2,)  # doctor --report's envelope versions triage reads (and the legacy version 1)
MAX_FIELD = 200  # characters kept of a version, site or date string
MAX_CHECKS = 500
MAX_FILES_SHOWN = 8  # file names per group in the table
HEAD = 1 << 20  # characters of a log searched for its OpenSSH version and site
NOT_A_CAUSE = {"accepted", "2fa-accepted"}
UNEXPLAINED = "no rule explains this"
NO_FAILURE = "login accepted: no failure in this log"
_OPENSSH = re.compile(r"OpenSSH_for_Windows_[0-9][0-9A-Za-z.]{0,20}|OpenSSH_[0-9][0-9A-Za-z.]{0,20}")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?")
SEND_BACK = ("If this does not help, please reply with the report of `sshsetup doctor --report report.json` "
             "(it is redacted and shown to you before it is written) and the output of `ssh -vvv ALIAS true 2>&1`, "
             "run once in a terminal.")


@dataclass(frozen=True)
class Ticket:
    source: str  # the file, as given (shown escaped when printed)
    kind: str  # "report", "log" or "refused"
    causes: tuple[str, ...] = ()  # sshlog cause ids, in the order found
    checks: tuple[tuple[str, str], ...] = ()  # failing or warning checks: (id, status)
    site: str = ""  # the site(s) the ticket is about, "" if unknown
    seen: str = ""  # when: the report's "created", else the file's time (ISO)
    sshsetup: str = ""  # sshsetup's version, from a report
    ssh: str = ""  # the OpenSSH version
    findings: tuple[sshlog.Finding, ...] = field(default=(), compare=False)
    check_hints: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)  # (id, summary, hint)
    problem: str = ""  # why a file was refused

    @property
    def failing(self) -> tuple[str, ...]:
        """The ids of the checks that failed (warnings are not a cause)."""
        return tuple(cid for cid, status in self.checks if status == "fail")

    @property
    def explained(self) -> bool:
        return bool(set(self.causes) - NOT_A_CAUSE) or bool(self.failing)

    @property
    def signature(self) -> tuple[tuple[str, ...], tuple[str, ...], str]:
        """What a group shares: the failing checks, the classified ssh causes, the site."""
        return (self.failing, tuple(c for c in self.causes if c not in NOT_A_CAUSE), self.site)


@dataclass(frozen=True)
class Group:
    label: str
    tickets: tuple[Ticket, ...]
    explained: bool

    @property
    def count(self) -> int:
        return len(self.tickets)

    def values(self, attr: str) -> list[str]:
        return sorted({getattr(t, attr) for t in self.tickets if getattr(t, attr)})

    @property
    def first_seen(self) -> str:
        seen = self.values("seen")
        return seen[0] if seen else ""

    @property
    def last_seen(self) -> str:
        seen = self.values("seen")
        return seen[-1] if seen else ""


def _str(value: Any) -> str:
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _site_of(text: str, sites: Mapping[str, str]) -> str:
    """The site ids whose host name or alias the text names (bounded: substring tests only)."""
    found = sorted({site for name, site in sites.items() if name and name in text})
    return ",".join(found)


def log_ticket(source: str, findings: Sequence[sshlog.Finding], head: str, *, seen: str = "",
               sites: Mapping[str, str] | None = None) -> Ticket:
    """A pasted log (ssh -v, Remote-SSH: Show Log, a terminal) from its findings and its first part."""
    head = head[:HEAD]
    m = _OPENSSH.search(head)
    return Ticket(source, "log", tuple(f.cause for f in findings), site=_site_of(head, sites or {}),
                  seen=seen if _ISO.fullmatch(seen[:MAX_FIELD]) else "",
                  ssh=m.group(0) if m else "", findings=tuple(findings))


def ticket_from_log(source: str, text: str, *, seen: str = "", sites: Mapping[str, str] | None = None) -> Ticket:
    """A pasted log given whole."""
    return log_ticket(source, sshlog.classify(text), text, seen=seen, sites=sites)


def refused(source: str, problem: str) -> Ticket:
    return Ticket(source, "refused", problem=problem)


def _checks(raw: Any) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str], ...], list[str]] | str:
    if not isinstance(raw, list):
        return "its checks are not a list"
    if len(raw) > MAX_CHECKS:
        return f"it has more than {MAX_CHECKS} checks"
    failing: list[tuple[str, str]] = []
    hints: list[tuple[str, str, str]] = []
    subjects: list[str] = []
    for c in raw:
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or c.get("status") not in ("ok", "warn", "fail", "skip"):
            return "a check is not an object with a string id and a status ok/warn/fail/skip"
        if isinstance(c.get("subject"), str):
            subjects.append(_str(c["subject"]))
        if c["status"] in ("warn", "fail"):
            failing.append((_str(c["id"]), c["status"]))
            hints.append((_str(c["id"]), _str(c.get("summary")) if isinstance(c.get("summary"), str) else "",
                          c["hint"][:2000] if isinstance(c.get("hint"), str) else ""))
    return tuple(failing), tuple(hints), subjects


def ticket_from_report(source: str, text: str, *, sites: Mapping[str, str] | None = None) -> Ticket:
    """A ``doctor --report`` bundle; a refused ticket when it is not one."""
    if len(text) > MAX_REPORT_BYTES:
        return refused(source, f"too large for a report ({len(text)} characters; a report is a few kB)")
    try:
        doc = json.loads(text)
    except RecursionError:
        return refused(source, "nested too deeply for a report")
    except ValueError as exc:
        return refused(source, f"not valid JSON ({str(exc)[:120]})")
    if not isinstance(doc, dict):
        return refused(source, "not an sshsetup report (not a JSON object)")
    if doc.get("sshsetup") == "doctor-report" and doc.get("version") in REPORT_VERSIONS:
        version = doc.get("sshsetup_version")  # version 2 on: the envelope
    elif doc.get("sshsetup_report") == 1:
        version = doc.get("sshsetup")  # version 1: {"sshsetup_report": 1, "sshsetup": "0.1.0", ...}
    else:
        return refused(source, "not an sshsetup report (no \"sshsetup\": \"doctor-report\" of a known version)")
    checked = _checks(doc.get("checks"))
    if isinstance(checked, str):
        return refused(source, checked)
    failing, hints, subjects = checked
    transcripts = doc.get("transcripts", {})
    if not isinstance(transcripts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in transcripts.items()):
        return refused(source, "its transcripts are not an object of strings")
    findings: list[sshlog.Finding] = []
    for _alias, transcript in sorted(transcripts.items()):
        findings.extend(sshlog.classify(transcript))
    causes = tuple(dict.fromkeys(f.cause for f in findings))
    aliases = sorted(set(subjects) | set(transcripts))
    site = ",".join(sorted({(sites or {}).get(a, a) for a in aliases}))[:MAX_FIELD]
    created = _str(doc.get("created"))
    return Ticket(source, "report", causes, failing, site, created if _ISO.fullmatch(created) else "", _str(version),
                  _str(doc.get("ssh")), tuple(findings), hints)


def looks_like_report(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:1] == "{"


def _label(t: Ticket) -> str:
    failing, causes, site = t.signature
    label = " + ".join(causes)
    if failing:
        label += (" " if label else "") + "[" + ", ".join(failing) + "]"
    return label + (f" @ {site}" if site else "")


def group(tickets: Iterable[Ticket]) -> list[Group]:
    """Explained groups by count (largest first), then the unexplained group, then the refused files."""
    by_sig: dict[Any, list[Ticket]] = {}
    unexplained: list[Ticket] = []
    accepted: list[Ticket] = []
    refused_: list[Ticket] = []
    for t in tickets:
        if t.kind == "refused":
            refused_.append(t)
        elif not t.explained and t.causes:
            accepted.append(t)
        elif t.explained:
            by_sig.setdefault(t.signature, []).append(t)
        else:
            unexplained.append(t)
    groups = [Group(_label(ts[0]), tuple(ts), True) for ts in by_sig.values()]
    groups.sort(key=lambda g: (-g.count, g.label))
    if accepted:
        groups.append(Group(NO_FAILURE, tuple(accepted), False))
    if unexplained:
        groups.append(Group(UNEXPLAINED, tuple(unexplained), False))
    if refused_:
        groups.append(Group("not a log or report (refused)", tuple(refused_), False))
    return groups


def _when(iso: str) -> str:
    return shown(iso[:16].replace("T", " ")) if iso else "-"


def _files(g: Group) -> str:
    names = [t.source for t in g.tickets]
    more = len(names) - MAX_FILES_SHOWN
    return ", ".join(names[:MAX_FILES_SHOWN]) + (f" and {more} more (--json lists all)" if more > 0 else "")


def table(groups: Sequence[Group]) -> str:
    """The text table; every ticket string shown escaped."""
    if not groups:
        return "no tickets\n"
    rows = [("cause", "count", "first seen", "last seen", "sshsetup", "OpenSSH", "files")]
    for g in groups:
        rows.append((shown(g.label), str(g.count), _when(g.first_seen), _when(g.last_seen),
                     shown(", ".join(g.values("sshsetup"))) or "-", shown(", ".join(g.values("ssh"))) or "-",
                     shown(_files(g))))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:6])) + "  " + r[6] for r in rows]
    out = [ln.rstrip() for ln in lines]
    for g in groups:
        if g.label.startswith("not a log"):
            out.append("")
            out.extend(f"refused: {shown(t.source)}: {shown(t.problem)}" for t in g.tickets)
    if any(not g.explained and g.label == UNEXPLAINED for g in groups):
        out.append("")
        out.append(f"\"{UNEXPLAINED}\": read these by hand; if they show a failure sshsetup should know, report it to sshsetup's maintainers")
    return "\n".join(out) + "\n"


def _steps(hint: str) -> list[str]:
    return [s.strip() for s in hint.split("; ") if s.strip()]


def reply(t: Ticket) -> str:
    """A draft answer in Markdown for one ticket: the cause in one sentence, the evidence quoted
    (escaped), the fix steps, and what to send back if it does not help."""
    out = [f"<!-- draft reply for {shown(t.source)} -->"]
    findings = [f for f in t.findings if f.cause not in NOT_A_CAUSE]
    if t.kind == "refused":
        out += ["", f"We could not read the file you sent ({shown(t.problem)}).", "", SEND_BACK]
        return "\n".join(out) + "\n"
    if findings:
        main = findings[0]
        out += ["", f"**Cause:** {shown(main.title[0].upper() + main.title[1:])}."]
        if len(findings) > 1:
            out.append("Also found: " + "; ".join(shown(f.title) for f in findings[1:]) + ".")
        quoted = [(n, e) for f in findings for n, e in zip(f.lines, f.evidence, strict=False) if e][:6]
        if quoted:
            out += ["", "What your log shows:", ""]
            out += [f"    line {n}: {shown(e)}" for n, e in quoted]
        steps = [s for f in findings for s in _steps(f.hint)]
    elif t.check_hints:
        cid, summary, _ = t.check_hints[0]
        out += ["", f"**Cause:** the check {shown(cid)} failed: {shown(summary)}."]
        out += ["", "What your report shows:", ""]
        out += [f"    {shown(c)}: {shown(s)}" for c, s, _h in t.check_hints[:6]]
        steps = [s for _c, _s, h in t.check_hints for s in _steps(shown(h))]
    elif t.causes:
        ok = next(f for f in t.findings if f.cause in NOT_A_CAUSE)
        out += ["", f"**Cause:** none in what you sent: it shows that {shown(ok.title)}, so the failure you see comes later "
                    "(after the login)."]
        steps = []
    else:
        out += ["", "We could not tell the cause from what you sent: no rule of ours explains it, so we will read it by hand."]
        steps = []
    if steps:
        out += ["", "What to do:", ""]
        out += [f"{i}. {shown(s)}" for i, s in enumerate(dict.fromkeys(steps), 1)]
    out += ["", SEND_BACK]
    return "\n".join(out) + "\n"


def payload(groups: Sequence[Group], with_reply: bool) -> dict[str, Any]:
    """The JSON payload (``envelope.dumps("triage", 1, ...)``); JSON escapes control characters itself."""
    doc_groups = []
    tickets = []
    for g in groups:
        doc_groups.append({"label": g.label, "explained": g.explained, "count": g.count, "first_seen": g.first_seen or None,
                           "last_seen": g.last_seen or None, "sshsetup": g.values("sshsetup"), "ssh": g.values("ssh"),
                           "files": [t.source for t in g.tickets]})
        for t in g.tickets:
            item: dict[str, Any] = {"source": t.source, "kind": t.kind, "group": g.label, "causes": list(t.causes),
                                    "checks": [{"id": c, "status": s} for c, s in t.checks], "site": t.site or None,
                                    "seen": t.seen or None, "sshsetup": t.sshsetup or None, "ssh": t.ssh or None}
            if t.problem:
                item["problem"] = t.problem
            if with_reply:
                item["reply"] = reply(t)
            tickets.append(item)
    return {"groups": doc_groups, "tickets": tickets}
