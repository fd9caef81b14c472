from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sshsetup import __version__
from sshsetup.cli import cli
from tests.helpers import run_cli

COMMANDS = sorted(cli.commands)


def test_every_command_is_wired() -> None:
    assert COMMANDS == ["code", "doctor", "explain", "init", "jobs", "jobscript", "key-line", "login", "logout", "remove",
                        "serve", "sites", "status", "triage", "vscode", "wait"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    r = run_cli(capsys, command, "--help")
    assert r.rc == 0 and r.out.startswith(f"Usage: sshsetup {command} ")


def test_version_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(capsys, "--version")
    assert (r.rc, r.out) == (0, f"sshsetup, version {__version__}\n")
    r = run_cli(capsys, "frobnicate")
    assert r.rc == 2 and "No such command 'frobnicate'" in r.err
    r = run_cli(capsys, "doctor", "no.such.check")
    assert r.rc == 2 and r.err.startswith("error: unknown check")


def test_python_dash_m_and_no_traceback_on_crash(tmp_path: Path, fake_home: Path) -> None:
    """An unexpected error: a 'please report' line with the version and a log path, exit 3."""
    code = (
        "import sys, sshsetup.cli as c\n"
        "def boom(): raise ZeroDivisionError('x')\n"
        "c.cli.add_command(__import__('click').command('boom')(boom))\n"
        "sys.exit(c.main(['boom']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert line.startswith(f"error: sshsetup {__version__} hit an unexpected ZeroDivisionError; please report this with the log: ")
    log = Path(line.rsplit(": ", 1)[1])
    assert log.is_file() and "ZeroDivisionError" in log.read_text() and log.is_relative_to(fake_home)
    r = subprocess.run([sys.executable, "-m", "sshsetup", "--version"], capture_output=True, text=True)
    assert r.stdout == f"sshsetup, version {__version__}\n"


def test_explain_reads_stdin_and_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "ssh.log"
    log.write_text("debug1: Authentications that can continue: publickey\nuser@host: Permission denied (publickey).\n")
    r = run_cli(capsys, "explain", str(log))
    assert r.rc == 0 and "Permission denied" in r.out + r.err
    r = run_cli(capsys, "explain", str(tmp_path / "missing.log"))
    assert r.rc == 2


def test_version_matches_pyproject() -> None:
    import re

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', text, re.M).group(1) == __version__  # type: ignore[union-attr]


def test_every_json_is_the_one_envelope(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    r = run_cli(capsys, "sites", "--json")
    doc = json.loads(r.out)
    assert (r.rc, doc["sshsetup"], doc["version"], doc["exit_code"]) == (0, "sites", 1, 0)
    assert doc["sites"][0]["id"] == "juwels-booster"


def test_key_line_json_is_the_envelope(capsys: pytest.CaptureFixture[str], key: Path) -> None:
    import json

    r = run_cli(capsys, "key-line", "--key", str(key), "--from", "192.0.2.0/24", "--site", "jusuf", "--json")
    doc = json.loads(r.out)
    assert (r.rc, doc["sshsetup"], doc["version"], doc["exit_code"]) == (0, "key-line", 1, 0)
    assert doc["line"].startswith('from="192.0.2.0/24" ssh-ed25519 ') and doc["ranges"] == ["192.0.2.0/24"]
    assert [s["id"] for s in doc["sites"]] == ["jusuf"] and r.err == ""


def test_commands_export_frozen_options_and_run() -> None:
    """One module per command, named after it: a frozen options dataclass and run(paths, options, ...)."""
    import dataclasses
    import importlib
    import inspect

    for name, cls in [("init", "InitOptions"), ("remove", "RemoveOptions"), ("key_line", "KeyLineOptions"),
                      ("wait", "WaitOptions"), ("vscode", "VscodeOptions"), ("jobscript", "JobscriptOptions"),
                      ("sites", "SitesOptions"), ("jobs", "JobsOptions")]:
        module = importlib.import_module(f"sshsetup.commands.{name}")
        options = getattr(module, cls)
        assert dataclasses.is_dataclass(options) and options.__dataclass_params__.frozen, name  # type: ignore[attr-defined]
        assert list(inspect.signature(module.run).parameters)[:2] == ["paths", "options"], name
