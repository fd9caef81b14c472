"""Exact output of the renderers."""

from __future__ import annotations

import io
import json

from sshsetup import output
from sshsetup.support.doctor import render
from sshsetup.support.doctor.model import CheckResult, Report, Status
from tests.rendered import rendered

REPORT = Report((
    CheckResult("net.dns", Status.OK, "login.example.org: IPv4 192.0.2.1; IPv6 none", subject="jusuf"),
    CheckResult("net.banner", Status.FAIL, "IPv4: accepted the connection but sent no SSH banner within 5 s", "wait", ("d1",), "jusuf"),
    CheckResult("net.hostkey", Status.WARN, "not known", "connect once"),
    CheckResult("auth.login", Status.SKIP, "skipped: needs net.banner, which did not pass", subject="jusuf"),
))


class Stream(io.StringIO):
    def __init__(self, encoding: str, tty: bool) -> None:
        super().__init__()
        self._enc, self._tty = encoding, tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._enc

    def isatty(self) -> bool:
        return self._tty


def test_human_unicode() -> None:
    assert render.human(REPORT) == (
        "✓ net.dns (jusuf): login.example.org: IPv4 192.0.2.1; IPv6 none\n"
        "✗ net.banner (jusuf): IPv4: accepted the connection but sent no SSH banner within 5 s\n"
        "    hint: wait\n"
        "! net.hostkey: not known\n"
        "    hint: connect once\n"
        "- auth.login (jusuf): skipped: needs net.banner, which did not pass\n"
        "1 failed, 1 warnings, 1 ok, 1 skipped\n"
    )


def test_human_ascii_colour_verbose() -> None:
    rep = Report(REPORT.results[1:3])
    assert render.human(rep, ascii_only=True, colour=True, verbose=True) == (
        "\033[31m[XX]\033[0m net.banner (jusuf): IPv4: accepted the connection but sent no SSH banner within 5 s\n"
        "    hint: wait\n"
        "    d1\n"
        "\033[33m[!!]\033[0m net.hostkey: not known\n"
        "    hint: connect once\n"
        "1 failed, 1 warnings, 0 ok, 0 skipped\n"
    )


def test_ascii_and_colour_decisions() -> None:
    assert render.use_ascii(Stream("utf-8", False), {}) is False
    assert render.use_ascii(Stream("cp1252", False), {}) is True
    assert render.use_ascii(Stream("ascii", False), {}) is True
    assert render.use_ascii(Stream("utf-8", False), {"SSHSETUP_ASCII": "1"}) is True
    assert output.use_color(Stream("utf-8", True), {}) is True
    assert output.use_color(Stream("utf-8", True), {"NO_COLOR": "1"}) is False
    assert output.use_color(Stream("utf-8", False), {}) is False


def test_untrusted_text_is_shown_escaped() -> None:
    """A banner or a report can carry OSC 52, a screen clear, a CR that overwrites the line, a bidi override."""
    evil = "SSH-2.0-x\x1b]52;c;Y3VybCBldmlsfHNo\x07\x1b[2J\r✓ all good\u202e"
    rep = Report((CheckResult("net.banner", Status.FAIL, f"IPv4: {evil}", f"hint {evil}", (f"d {evil}",), "h\x1b[31m"),))
    text = render.human(rep, verbose=True)
    esc = "SSH-2.0-x\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\x1b[2J\\x0d✓ all good\\u202e"
    assert text == (f"✗ net.banner (h\\x1b[31m): IPv4: {esc}\n    hint: hint {esc}\n    d {esc}\n"
                    "1 failed, 0 warnings, 0 ok, 0 skipped\n")
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u202e" not in text


def test_json_envelope_is_sorted_and_versioned() -> None:
    text = rendered(render.result(Report(REPORT.results[2:3]), "text"), as_json=True).out
    assert text == (
        '{\n  "checks": [\n    {\n      "details": [],\n      "hint": "connect once",\n      "id": "net.hostkey",\n'
        '      "status": "warn",\n      "subject": null,\n      "summary": "not known"\n    }\n  ],\n'
        '  "sshsetup": "doctor",\n  "status": "warn",\n  "version": 1\n}\n'
    )
    assert json.loads(rendered(render.result(REPORT, ""), as_json=True).out)["status"] == "fail"
    assert rendered(render.result(REPORT, "text\n", notes=("a note",))) == (1, "text\n", "a note\n")


def test_spinner_only_on_a_tty() -> None:
    quiet, loud = Stream("utf-8", False), Stream("utf-8", True)
    for s in (quiet, loud):
        sp = render.Spinner(s)
        sp(1, 2, REPORT.results[0])
        sp.clear()
    assert quiet.getvalue() == ""
    assert loud.getvalue() == "\r[1/2] net.dns (jusuf)\r                     \r"
