"""``sshsetup.support.triage``: tickets from logs and reports, grouping, the table, the reply
drafts and the JSON payload, with literal expectations; hostile reports refused in one line."""

from __future__ import annotations

import json
from typing import Any

from sshsetup.sanitize import is_clean
from sshsetup.support import triage
from tests.support.test_sshlog import read

SITES = {"jureca.fz-juelich.de": "jureca", "jsc-jureca": "jureca", "jusuf.fz-juelich.de": "jusuf"}


def report(**over: Any) -> str:
    doc: dict[str, Any] = {
        "sshsetup_report": 1, "created": "2026-11-29T14:30:00+00:00", "sshsetup": "0.1.0", "ssh": "OpenSSH_9.2p1 Debian-2+deb12u10",
        "status": "fail",
        "checks": [{"id": "net.tcp", "status": "ok", "summary": "port 22 open", "hint": None, "details": [], "subject": "jsc-jureca"},
                   {"id": "auth.probe", "status": "fail", "summary": "the server refused the key (Permission denied (publickey))",
                    "hint": "upload the key line; then run sshsetup doctor", "details": [], "subject": "jsc-jureca"}],
        "transcripts": {"jsc-jureca": read("publickey-not-uploaded")},
    }
    doc.update(over)
    return json.dumps(doc)


def test_a_log_ticket() -> None:
    t = triage.ticket_from_log("a.log", read("publickey-not-uploaded").replace("127.0.0.1", "jureca.fz-juelich.de"),
                               seen="2026-12-01T10:00:00+00:00", sites=SITES)
    assert (t.kind, t.causes, t.checks, t.site, t.ssh, t.explained) == (
        "log", ("publickey-refused",), (), "jureca", "OpenSSH_9.2p1", True)


def test_a_report_ticket() -> None:
    t = triage.ticket_from_report("r.json", report(), sites=SITES)
    assert (t.kind, t.causes, t.checks, t.site, t.seen, t.sshsetup, t.ssh) == (
        "report", ("publickey-refused",), (("auth.probe", "fail"),), "jureca", "2026-11-29T14:30:00+00:00", "0.1.0",
        "OpenSSH_9.2p1 Debian-2+deb12u10")


def test_hostile_reports_are_refused_in_one_line() -> None:
    cases = {
        "deep": ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested too deeply for a report"),
        "huge": ('{"x": "' + "a" * (triage.MAX_REPORT_BYTES + 1) + '"}', None),
        "checks not a list": (report(checks="all fine"), "its checks are not a list"),
        "check without id": (report(checks=[{"status": "fail"}]), "a check is not an object with a string id and a status ok/warn/fail/skip"),
        "bad status": (report(checks=[{"id": "x", "status": "\x1b[2J"}]), "a check is not an object with a string id and a status ok/warn/fail/skip"),
        "transcripts of numbers": (report(transcripts={"a": 1}), "its transcripts are not an object of strings"),
        "not a report": ('{"hello": "world"}', 'not an sshsetup report (no "sshsetup": "doctor-report" of a known version)'),
        "broken json": ('{"sshsetup_report": 1,', None),
        "too many checks": (report(checks=[{"id": "x", "status": "ok"}] * 501), "it has more than 500 checks"),
    }
    for name, (text, problem) in cases.items():
        t = triage.ticket_from_report(name, text)
        assert t.kind == "refused", name
        if problem is not None:
            assert t.problem == problem, name
    assert triage.ticket_from_report("h", cases["huge"][0]).problem.startswith("too large for a report (")
    assert triage.ticket_from_report("b", cases["broken json"][0]).problem.startswith("not valid JSON (")


def test_wrong_types_in_optional_fields_are_ignored() -> None:
    t = triage.ticket_from_report("r", report(created=5, sshsetup=["x"], ssh={"a": 1}))
    assert (t.kind, t.seen, t.sshsetup, t.ssh) == ("report", "", "", "")


def _tickets() -> list[triage.Ticket]:
    return [
        triage.ticket_from_report("r1.json", report(), sites=SITES),
        triage.ticket_from_report("r2.json", report(created="2026-12-02T08:00:00+00:00", sshsetup="0.2.0"), sites=SITES),
        triage.ticket_from_log("p.log", read("gh-vscode-wget-failed"), seen="2026-12-01T09:00:00+00:00", sites=SITES),
        triage.ticket_from_log("q.log", read("gh-vscode-neither-curl-wget"), seen="2026-12-01T11:00:00+00:00", sites=SITES),
        triage.ticket_from_log("odd.log", "something happened\n", seen="2026-12-03T07:00:00+00:00"),
        triage.ticket_from_log("ok.log", read("accepted"), seen="2026-12-03T07:30:00+00:00"),
        triage.refused("core", "not a text log (binary data)"),
    ]


def test_grouping_counts_and_order() -> None:
    groups = triage.group(_tickets())
    assert [(g.label, g.count, g.explained, [t.source for t in g.tickets]) for g in groups] == [
        ("publickey-refused [auth.probe] @ jureca", 2, True, ["r1.json", "r2.json"]),
        ("vscode-server-download", 2, True, ["p.log", "q.log"]),
        ("login accepted: no failure in this log", 1, False, ["ok.log"]),
        ("no rule explains this", 1, False, ["odd.log"]),
        ("not a log or report (refused)", 1, False, ["core"]),
    ]
    assert (groups[0].first_seen, groups[0].last_seen, groups[0].values("sshsetup")) == (
        "2026-11-29T14:30:00+00:00", "2026-12-02T08:00:00+00:00", ["0.1.0", "0.2.0"])


def test_a_failing_check_without_a_transcript_cause_is_its_own_group() -> None:
    """A warning alone explains no failure; a failing check does, even without a transcript."""
    r = report(checks=[{"id": "vscode.settings", "status": "warn", "summary": "x", "hint": "y"}], transcripts={})
    [g] = triage.group([triage.ticket_from_report("r", r)])
    assert (g.label, g.explained) == ("no rule explains this", False)
    r = report(checks=[{"id": "net.tcp", "status": "fail", "summary": "x", "hint": "y"}], transcripts={})
    [g] = triage.group([triage.ticket_from_report("r", r)])
    assert (g.label, g.explained) == ("[net.tcp]", True)


def test_table_exact() -> None:
    assert triage.table(triage.group(_tickets())) == (
        'cause                                    count  first seen        last seen         sshsetup      OpenSSH                          files\n'
        'publickey-refused [auth.probe] @ jureca  2      2026-11-29 14:30  2026-12-02 08:00  0.1.0, 0.2.0  OpenSSH_9.2p1 Debian-2+deb12u10  r1.json, r2.json\n'
        'vscode-server-download                   2      2026-12-01 09:00  2026-12-01 11:00  -             -                                p.log, q.log\n'
        'login accepted: no failure in this log   1      2026-12-03 07:30  2026-12-03 07:30  -             OpenSSH_9.2p1                    ok.log\n'
        'no rule explains this                    1      2026-12-03 07:00  2026-12-03 07:00  -             -                                odd.log\n'
        'not a log or report (refused)            1      -                 -                 -             -                                core\n'
        '\n'
        'refused: core: not a text log (binary data)\n'
        '\n'
        '"no rule explains this": read these by hand; if they show a failure sshsetup should know, report it to sshsetup\'s maintainers\n'
    )


def test_reply_exact() -> None:
    t = triage.ticket_from_log("p.log", read("gh-ppk-invalid-format"))
    assert triage.reply(t) == (
        "<!-- draft reply for p.log -->\n"
        "\n"
        "**Cause:** The private key is a PuTTY .ppk file, which OpenSSH cannot read (invalid format).\n"
        "\n"
        "What your log shows:\n"
        "\n"
        "    line 2: Load key \"C:\\Users\\HP\\Documents\\asd.ppk\": invalid format\n"
        "\n"
        "What to do:\n"
        "\n"
        "1. convert it with PuTTYgen (Conversions > Export OpenSSH key) and point IdentityFile at the exported file, "
        "or make a new key with sshsetup init\n"
        "\n"
        "If this does not help, please reply with the report of `sshsetup doctor --report report.json` (it is redacted and shown "
        "to you before it is written) and the output of `ssh -vvv ALIAS true 2>&1`, run once in a terminal.\n")


def test_reply_for_the_unexplained_and_the_refused() -> None:
    odd = triage.ticket_from_log("odd.log", "something happened\n")
    assert triage.reply(odd) == (
        "<!-- draft reply for odd.log -->\n\n"
        "We could not tell the cause from what you sent: no rule of ours explains it, so we will read it by hand.\n\n"
        + triage.SEND_BACK + "\n")
    assert triage.reply(triage.refused("core", "not a text log (binary data)")) == (
        "<!-- draft reply for core -->\n\nWe could not read the file you sent (not a text log (binary data)).\n\n"
        + triage.SEND_BACK + "\n")


def test_reply_from_checks_only() -> None:
    r = report(checks=[{"id": "net.tcp", "status": "fail", "summary": "port 22 refused", "hint": "check the port; or the VPN"}],
               transcripts={})
    assert triage.reply(triage.ticket_from_report("r.json", r)) == (
        "<!-- draft reply for r.json -->\n\n"
        "**Cause:** the check net.tcp failed: port 22 refused.\n\n"
        "What your report shows:\n\n"
        "    net.tcp: port 22 refused\n\n"
        "What to do:\n\n"
        "1. check the port\n"
        "2. or the VPN\n\n"
        + triage.SEND_BACK + "\n")


ESC = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[1A\r\u202e"


def test_a_hostile_report_and_log_never_reach_the_terminal_raw() -> None:
    hostile = report(created=ESC, sshsetup=ESC + "0.1", ssh="OpenSSH_9.2" + ESC,
                     checks=[{"id": "auth.probe" + ESC, "status": "fail", "summary": ESC + "fine", "hint": ESC + "do; this",
                              "subject": "jsc-jureca" + ESC}],
                     transcripts={"jsc-jureca" + ESC: ESC + "root@h: Permission denied (publickey).\n" + ESC})
    tickets = [triage.ticket_from_report("r" + ESC + ".json", hostile),
               triage.ticket_from_log("l" + ESC + ".log", ESC + "Load key \"x.ppk\": invalid format" + ESC + "\n", seen=ESC)]
    groups = triage.group(tickets)
    text = triage.table(groups) + "".join(triage.reply(t) for t in tickets)
    assert all(is_clean(line) for line in text.splitlines())
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in text
    assert "\\x1b]52;c;" in text  # shown escaped, not dropped
    assert "putty-key" in [g.label for g in groups]


def test_payload() -> None:
    doc = triage.payload(triage.group(_tickets()[:1] + _tickets()[-1:]), with_reply=False)
    assert doc == {
        "groups": [
            {"label": "publickey-refused [auth.probe] @ jureca", "explained": True, "count": 1, "first_seen": "2026-11-29T14:30:00+00:00",
             "last_seen": "2026-11-29T14:30:00+00:00", "sshsetup": ["0.1.0"], "ssh": ["OpenSSH_9.2p1 Debian-2+deb12u10"],
             "files": ["r1.json"]},
            {"label": "not a log or report (refused)", "explained": False, "count": 1, "first_seen": None, "last_seen": None,
             "sshsetup": [], "ssh": [], "files": ["core"]},
        ],
        "tickets": [
            {"source": "r1.json", "kind": "report", "group": "publickey-refused [auth.probe] @ jureca", "causes": ["publickey-refused"],
             "checks": [{"id": "auth.probe", "status": "fail"}], "site": "jureca", "seen": "2026-11-29T14:30:00+00:00",
             "sshsetup": "0.1.0", "ssh": "OpenSSH_9.2p1 Debian-2+deb12u10"},
            {"source": "core", "kind": "refused", "group": "not a log or report (refused)", "causes": [], "checks": [],
             "site": None, "seen": None, "sshsetup": None, "ssh": None, "problem": "not a text log (binary data)"},
        ],
    }
    with_reply = triage.payload(triage.group(_tickets()[:1]), with_reply=True)
    assert with_reply["tickets"][0]["reply"].startswith("<!-- draft reply for r1.json -->\n\n**Cause:** The server refused the key")


def test_reply_when_the_log_shows_a_successful_login() -> None:
    t = triage.ticket_from_log("ok.log", read("accepted"))
    assert triage.reply(t) == (
        "<!-- draft reply for ok.log -->\n\n"
        "**Cause:** none in what you sent: it shows that authentication succeeded, so the failure you see comes later "
        "(after the login).\n\n" + triage.SEND_BACK + "\n")


def test_many_files_in_one_group_are_cut_in_the_table() -> None:
    tickets = [triage.ticket_from_log(f"t{i:02}.log", "user@h: Permission denied (publickey).\n") for i in range(11)]
    line = triage.table(triage.group(tickets)).splitlines()[1]
    assert line.endswith("t00.log, t01.log, t02.log, t03.log, t04.log, t05.log, t06.log, t07.log and 3 more (--json lists all)")
