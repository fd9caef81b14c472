"""The README's Quickstart, first command, as a plain user on a fresh account.

A throwaway user (its own empty home, PATH with only the system's directories, so
``python3`` is the system Python) runs the first Quickstart line exactly as the README
has it, with two substitutions: the forge URL becomes a local clone of this checkout's
working tree, and ``init --help`` is appended so that ``sshsetup init`` starts and stops
without asking anything. No network: pip gets ``PIP_NO_INDEX=1`` and a local wheel house
(``SSHSETUP_TEST_WHEELHOUSE``, made by ``.ci/run`` for the system Python), and no pip
configuration file of the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sshsetup import __version__
from tests.testbed.require import missing
from tests.testbed.users import TestUser, run_as

ROOT = Path(__file__).resolve().parents[1]
# Read at import: the autouse fake_home fixture removes every SSHSETUP_* variable from the environment.
WHEELHOUSE = os.environ.get("SSHSETUP_TEST_WHEELHOUSE", "")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the throwaway user needs Linux (useradd, runuser)")


def quickstart_first_line() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quickstart\n.*?```sh\n(.*?)```", text, re.S)
    assert block is not None, "README.md has no Quickstart code block"
    return block.group(1).splitlines()[0].split("  #")[0].strip()


def forge_copy(base: Path) -> Path:
    """A git repository named sshsetup holding this checkout's working tree (tracked and new files)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split("\0")
    repo = base / "forge" / "sshsetup"
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    git = ["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@localhost"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the working tree"], check=True)
    return repo


def test_first_command_installs_and_starts_init(test_user: TestUser, testbed_dir: Path) -> None:
    if not WHEELHOUSE or not any(Path(WHEELHOUSE).glob("*.whl")):
        missing("a local wheel house for the Quickstart test",
                "set SSHSETUP_TEST_WHEELHOUSE to a directory of wheels for the system Python (bash .ci/run makes one)")
    line = quickstart_first_line()
    url = re.match(r"git clone (\S+) && ", line)
    assert url is not None, line
    base = testbed_dir / f"quickstart-{test_user.name}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    wheels = base / "wheels"
    shutil.copytree(WHEELHOUSE, wheels)
    repo = forge_copy(base)
    test_user.chown_tree(base)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_CONFIG_FILE": os.devnull}
    try:
        command = line.replace(url.group(1), str(repo)) + " init --help"
        r = run_as(test_user, ["sh", "-c", command], env=env, timeout=600)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Usage: sshsetup init"), r.stdout
        venv = test_user.home / ".local" / "share" / "sshsetup" / "venv"
        assert f"install.py: creating the venv {venv}\n" in r.stderr
        assert "install.py: running: sshsetup init --help\n" in r.stderr
        link = test_user.home / ".local" / "bin" / "sshsetup"
        assert os.readlink(link) == str(venv / "bin" / "sshsetup")
        assert (venv / "pyvenv.cfg").stat().st_uid == test_user.uid  # made by the user, no root needed
        # the command the README tells the user to type next
        version = run_as(test_user, [str(link), "--version"])
        assert (version.returncode, version.stdout) == (0, f"sshsetup, version {__version__}\n"), version.stderr
        # nothing went into the system Python
        ambient = run_as(test_user, ["python3", "-c", "import sshsetup"], cwd="/")  # not the home: it holds the clone
        assert ambient.returncode == 1 and "No module named 'sshsetup'" in ambient.stderr
        # a second run (after git pull) reuses the venv and upgrades in place
        again = run_as(test_user, ["sh", "-c", "python3 sshsetup/install.py --version"], env=env, timeout=600)
        assert (again.returncode, again.stdout) == (0, f"sshsetup, version {__version__}\n"), again.stderr
        assert "creating the venv" not in again.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


DEBIAN_VENV_WITHOUT_ENSUREPIP = """\
import sys
print("The virtual environment was not created successfully because ensurepip is not")
print("available.  On Debian/Ubuntu systems, you need to install the python3-venv")
print("package using the following command.")
print()
print("    apt install python3.11-venv")
sys.exit(1)
"""


def test_a_python_without_ensurepip_is_named_with_the_package_to_install(tmp_path: Path, fake_home: Path) -> None:
    """Debian's python3 without python3-venv: one error line, a hint naming the package, nothing installed.

    The stand-in is the system's ``venv`` module as Debian patches it (its message, on stdout, exit 1),
    found first on PYTHONPATH.
    """
    fake = tmp_path / "fake"
    (fake / "venv").mkdir(parents=True)
    (fake / "venv" / "__init__.py").write_text("")
    (fake / "venv" / "__main__.py").write_text(DEBIAN_VENV_WITHOUT_ENSUREPIP)
    env = {"PATH": os.environ["PATH"], "HOME": str(fake_home), "PYTHONPATH": str(fake), "LANG": "C.UTF-8"}
    r = subprocess.run([sys.executable, str(ROOT / "install.py"), "init", "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout) == (1, ""), r.stderr
    assert r.stderr.splitlines()[-2:] == [
        f"error: {sys.executable} cannot make a venv: ensurepip is not available",
        "hint: on Debian/Ubuntu install the venv module once (sudo apt install python3-venv), then run this again",
    ]
    assert not (fake_home / ".local" / "bin").exists()


def _installer():  # install.py is a script at the top of the checkout, not a module of the package
    import importlib.util

    spec = importlib.util.spec_from_file_location("sshsetup_install_script", ROOT / "install.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: the command is a link in ~/.local/bin")
def test_an_existing_sshsetup_command_that_is_not_our_link_is_left_alone(fake_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    install = _installer()
    venv = fake_home / ".local" / "share" / "sshsetup" / "venv"
    mine = fake_home / ".local" / "bin" / "sshsetup"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"#!/bin/sh\necho my own sshsetup\n")
    assert install.link_command(venv) == venv / "bin" / "sshsetup"
    assert mine.read_bytes() == b"#!/bin/sh\necho my own sshsetup\n" and not mine.is_symlink()
    assert f"install.py: {mine} already exists and is not a link to {venv / 'bin' / 'sshsetup'}; left as it is\n" in capsys.readouterr().err
    mine.unlink()
    assert install.link_command(venv) == mine and os.readlink(mine) == str(venv / "bin" / "sshsetup")
    assert install.link_command(venv) == mine  # a second run keeps its own link
