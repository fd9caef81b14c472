"""Shell completion (click's) through the real entry point, as a shell calls it: a subprocess with
``_SSHSETUP_COMPLETE=bash_complete`` and ``COMP_WORDS``/``COMP_CWORD``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sshsetup.support.doctor import CHECKS, REMOTE_CHECKS
from tests.helpers import run_cli

SITES = ["judac", "jupiter", "jureca-dc", "jusuf", "juwels-booster", "juwels-cluster"]


def complete(words: str, shell: str = "bash") -> list[str]:
    """What the shell gets for the last word of ``words`` (bash: one "type,value" per line)."""
    parts = words.split(" ")
    env = {**os.environ, "_SSHSETUP_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    done = subprocess.run([sys.executable, "-m", "sshsetup"], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_site_ids_complete_for_every_site_option() -> None:
    want = [f"plain,{s}" for s in SITES if s.startswith("ju")]
    for words in ("sshsetup init --site ju", "sshsetup key-line --site ju", "sshsetup wait --site ju",
                  "sshsetup doctor --site ju", "sshsetup login --site ju", "sshsetup status --site ju",
                  "sshsetup logout --site ju", "sshsetup vscode --site ju"):
        assert complete(words) == want, words
    assert complete("sshsetup wait --site juw") == ["plain,juwels-booster", "plain,juwels-cluster"]


def test_zsh_gets_the_alias_as_the_description() -> None:
    assert complete("sshsetup wait --site jus", shell="zsh") == ["plain", "jusuf", "jsc-jusuf"]


def test_doctor_completes_check_ids() -> None:
    ids = [c.id for c in (*CHECKS, *REMOTE_CHECKS)]
    assert complete("sshsetup doctor auth.") == ["plain,auth.from-range", "plain,auth.probe"]
    assert complete("sshsetup doctor ") == [f"plain,{i}" for i in ids]


def test_drop_site_and_alias_complete_what_init_set_up(capsys: pytest.CaptureFixture[str], key: Path) -> None:
    r = run_cli(capsys, "init", "--user", "smith1", "--key", str(key), "--yes", "--no-vscode", "--from", "192.0.2.0/24",
                "--site", "jusuf", "--site", "juwels-booster", "--alias", "juwels-booster=booster")
    assert r.rc == 0, r.err
    assert complete("sshsetup init --drop-site ") == ["plain,jusuf", "plain,juwels-booster"]
    assert complete("sshsetup vscode --alias ") == ["plain,jsc-jusuf", "plain,booster"]
    assert complete("sshsetup vscode --alias b") == ["plain,booster"]


def test_init_alias_completes_the_site_part() -> None:
    assert complete("sshsetup init --alias juwels") == ["nospace,juwels-booster=", "nospace,juwels-cluster="]


def test_nothing_set_up_completes_no_alias_and_a_broken_sites_file_nothing(fake_home: Path) -> None:
    assert complete("sshsetup init --drop-site ") == []
    assert complete("sshsetup vscode --alias ") == []
    sites = fake_home / ".config" / "sshsetup" / "sites.toml"
    sites.parent.mkdir(parents=True)
    sites.write_text("[sites.x\n")  # not TOML: no candidates, no traceback
    assert complete("sshsetup wait --site ju") == []


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_documented_source_commands_print_a_script(shell: str) -> None:
    env = {**os.environ, "_SSHSETUP_COMPLETE": f"{shell}_source"}
    done = subprocess.run([sys.executable, "-m", "sshsetup"], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "_SSHSETUP_COMPLETE" in done.stdout, done.stderr


def test_bash_itself_completes_with_the_sourced_script() -> None:
    """The README's bash line in a real bash: source the script, then call its completion function."""
    bindir = Path(sys.executable).parent
    if not (bindir / "sshsetup").exists():
        pytest.skip("the sshsetup console script is not installed next to this Python")
    script = ('eval "$(_SSHSETUP_COMPLETE=bash_source sshsetup)"; COMP_WORDS=(sshsetup wait --site jus); COMP_CWORD=3; '
              '_sshsetup_completion sshsetup; printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "--norc", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (0, "jusuf\n"), done.stderr
