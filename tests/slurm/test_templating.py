from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from sshsetup.errors import SshSetupError
from sshsetup.slurm import templating

REPO = Path(__file__).resolve().parents[2]


def test_template_root_falls_back_to_the_checkout():
    # python -m pytest runs the checkout, which has no sshsetup/templates package dir
    assert templating.template_root() == REPO / "templates"


def test_template_root_prefers_the_packaged_copy(tmp_path, monkeypatch):
    pkg = tmp_path / "sshsetup"
    (pkg / "templates").mkdir(parents=True)
    monkeypatch.setattr("importlib.resources.files", lambda name: pkg)
    assert templating.template_root() == pkg / "templates"


def test_template_root_missing_everywhere(tmp_path, monkeypatch):
    monkeypatch.setattr("importlib.resources.files", lambda name: tmp_path)
    monkeypatch.setattr(templating, "__file__", str(tmp_path / "sshsetup" / "slurm" / "templating.py"))
    with pytest.raises(SshSetupError, match="templates are missing") as exc:
        templating.template_root()
    assert exc.value.hint == "reinstall sshsetup: pipx reinstall sshsetup"


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
