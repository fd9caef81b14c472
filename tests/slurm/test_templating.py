from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from sshsetup.errors import SshSetupError
from sshsetup.slurm import templating

REPO = Path(__file__).resolve().parents[2]


def test_template_root_falls_back_to_the_checkout():
    # python -m pytest runs the checkout, which has no sshsetup/templates package dir
    assert templating.template_root() == REPO / "templates"


def _installed_copy(tmp_path: Path, *, templates: bool) -> Path:
    """sshsetup as an installer lays it out: the package in a site directory, with its templates inside
    (``sshsetup/templates``, as the wheel's force-include does) or without them (a broken install)."""
    import shutil

    site = tmp_path / "site-packages"
    shutil.copytree(REPO / "sshsetup", site / "sshsetup", ignore=shutil.ignore_patterns("__pycache__"))
    if templates:
        shutil.copytree(REPO / "templates", site / "sshsetup" / "templates")
    assert not (site / "templates").exists()  # no checkout templates where template_root falls back to
    return site


def _run_copy(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=site.parent, timeout=60)


def test_an_installed_copy_uses_its_packaged_templates(tmp_path: Path) -> None:
    site = _installed_copy(tmp_path, templates=True)
    r = _run_copy(site, "-c", "import sshsetup; from sshsetup.slurm import templating; "
                              "print(sshsetup.__file__); print(templating.template_root())")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{site}/sshsetup/__init__.py\n{site}/sshsetup/templates\n"


def test_an_install_without_templates_says_so(tmp_path: Path) -> None:
    """The error a user sees, from the real command: one error line, one hint line, nothing written."""
    site = _installed_copy(tmp_path, templates=False)
    r = _run_copy(site, "-m", "sshsetup", "jobscript", "--site", "juwels-booster", "--account", "myproject")
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr == "error: sshsetup's templates are missing\nhint: reinstall sshsetup: pipx reinstall sshsetup\n"


def test_environment_is_strict():
    env = templating.make_env()
    assert env.undefined is jinja2.StrictUndefined
    assert env.keep_trailing_newline and env.trim_blocks and env.lstrip_blocks
    assert env.autoescape is False
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()
    assert env.from_string("a\n{% if x %}\nb\n{% endif %}\nc\n").render(x=False) == "a\nc\n"


def test_render_unknown_template():
    with pytest.raises(SshSetupError, match="template jobs/nope.j2 is missing"):
        templating.render("jobs/nope.j2")


@pytest.mark.parametrize("name", sorted(str(p.relative_to(REPO / "templates")) for p in (REPO / "templates" / "jobs").glob("[!_]*.j2")))
@pytest.mark.parametrize("chain", [False, True])
def test_every_template_renders(name, chain):
    from sshsetup.slurm.chain import check_chain
    from sshsetup.slurm.jobscript import JobSpec

    plan = check_chain(3, 60, ckpt_dir="/c", jsc_site=False) if chain else None
    spec = JobSpec("s", "S", "python", "acct", "p", 2, 4, 32, "01:00:00", "job", "i", "python x.py", True, ("n1",), plan)
    text = templating.render(name, spec=spec, marker="# m", continue_exit=75)
    assert text.endswith("\n") and not text.endswith("\n\n") and "\n\n\n" not in text
    assert "# note: n1\n" in text
    assert ("exit 75\n" in text) == chain


@pytest.mark.parametrize("value", ["a\ncurl x | sh", "a\rb", "tab\there", "esc\x1b[2J", "c1\x9b"])
def test_no_value_reaches_a_script_unless_it_is_one_line(value: str) -> None:
    """Issue 12 item 2, by construction: whatever a caller passes, a printed value cannot start a new shell line."""
    from sshsetup.errors import SshSetupError
    from sshsetup.slurm.templating import make_env

    with pytest.raises(SshSetupError) as e:
        make_env().from_string("#SBATCH --partition={{ v }}\n").render(v=value)
    assert e.value.message == f"refusing to write {value!r} into a job script: it is not one line"
    assert make_env().from_string("x={{ v }}").render(v="jwb*i.juwels $SCRATCH/ckpt") == "x=jwb*i.juwels $SCRATCH/ckpt"
