from __future__ import annotations

import json
from pathlib import Path

import pytest

from sshsetup.files import Outcome, Verb
from sshsetup.render import show
from sshsetup.result import Result


def test_text_puts_products_on_stdout_and_prose_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    res = Result("init", outcomes=(Outcome(Path("/h/.ssh/config"), Verb.UPDATE),), output="line\n",
                 notes=("a note",), after=("after",), exit_code=0)
    assert show(res) == 0
    out, err = capsys.readouterr()
    assert out == "line\n"
    assert err == "a note\nDone:\n  update           /h/.ssh/config\nafter\n"


def test_dry_run_wording(capsys: pytest.CaptureFixture[str]) -> None:
    show(Result("remove", dry_run=True, outcomes=(Outcome(Path("/x"), Verb.DELETE),)))
    assert capsys.readouterr().err == "Dry run: nothing was written.\n  would delete     /x\n"


def test_json_envelope_carries_exit_code_and_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    res = Result("jobscript", exit_code=1, data={"script": "#!/bin/bash\n"},
                 outcomes=(Outcome(Path("/j.sh"), Verb.REFUSE, reason="not ours"),))
    assert show(res, as_json=True) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"sshsetup": "jobscript", "version": 1, "exit_code": 1, "dry_run": False, "script": "#!/bin/bash\n",
                   "outcomes": [{"path": "/j.sh", "verb": "refuse", "reason": "not ours"}]}
    assert not res.changed


def test_the_order_of_every_part(capsys: pytest.CaptureFixture[str]) -> None:
    res = Result("init", outcomes=(Outcome(Path("/c"), Verb.CREATE),), diff="--- a\n+++ b\n", notes=("n",),
                 summary=("s",), output="product\n", after=("a",))
    show(res)
    assert capsys.readouterr() == ("--- a\n+++ b\nproduct\n", "n\nDone:\n  create           /c\ns\na\n")


def test_heading_unchanged_and_declined(capsys: pytest.CaptureFixture[str]) -> None:
    same = (Outcome(Path("/c"), Verb.IDENTICAL),)
    show(Result("init", outcomes=same, unchanged="Nothing changed."))
    assert capsys.readouterr().err == "Nothing changed.\n"
    show(Result("vscode", outcomes=same, heading=""))  # no unchanged line: the outcomes are the message
    assert capsys.readouterr().err == "  identical        /c\n"
    show(Result("remove", outcomes=(Outcome(Path("/c"), Verb.DELETE),), heading="Removed:", unchanged="Nothing to remove."))
    assert capsys.readouterr().err == "Removed:\n  delete           /c\n"
    rc = show(Result("jobscript", exit_code=1, outcomes=(Outcome(Path("/j"), Verb.UPDATE),), declined=True, heading="",
                     after=("left unchanged",)))
    assert rc == 1 and capsys.readouterr().err == "  would update     /j\nleft unchanged\n"


def test_json_keeps_stdout_for_the_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert show(Result("sites", data={"sites": []}, notes=("saved",), output="table\n", after=("x",)), as_json=True) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"sshsetup": "sites", "version": 1, "exit_code": 0, "sites": []}
    assert err == "saved\n"


def test_an_older_document_keeps_its_fields_without_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    res = Result("explain", data={"causes": [], "lines": 2}, output="unknown\n", json_exit_code=False)
    assert show(res, as_json=True) == 0
    assert capsys.readouterr() == ('{\n  "causes": [],\n  "lines": 2,\n  "sshsetup": "explain",\n  "version": 1\n}\n', "")
