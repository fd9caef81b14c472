"""Install sshsetup from this checkout into its own venv, then run it (default: ``sshsetup init``).

    python3 install.py [SSHSETUP ARGUMENTS]      # Windows: py install.py [...]

Only the standard library of the Python that runs it (3.10 or newer) is used, so it works with
the system Python of Debian/Ubuntu (where PEP 668 refuses ``pip install``), Homebrew's and
python.org's. Nothing is installed into that Python:

- the venv is ``~/.local/share/sshsetup/venv`` (``$XDG_DATA_HOME/sshsetup/venv`` if set;
  Windows: ``%LOCALAPPDATA%\\sshsetup\\venv``); a second run reuses it and upgrades sshsetup;
- the ``sshsetup`` command is linked as ``~/.local/bin/sshsetup`` (as pipx does; an existing
  file there that is not that link is left alone); on Windows it stays in the venv's Scripts.

Running it again after ``git pull`` updates the installed copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent
WINDOWS = os.name == "nt"


def say(text: str) -> None:
    print(f"install.py: {text}", file=sys.stderr, flush=True)


def fail(error: str, hint: str) -> int:
    print(f"error: {error}\nhint: {hint}", file=sys.stderr, flush=True)
    return 1


def venv_dir(environ: dict[str, str]) -> Path:
    if WINDOWS:
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "sshsetup" / "venv"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if WINDOWS else "bin/python")


def make_venv(venv: Path) -> int:
    py = venv_python(venv)
    if py.exists() and subprocess.run([str(py), "-c", "import pip"], capture_output=True).returncode == 0:
        return 0  # reuse it (a venv left half-made by an earlier failure is made again: --clear)
    say(f"creating the venv {venv}")
    r = subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], capture_output=True, text=True)
    if r.returncode == 0:
        return 0
    output = r.stdout + r.stderr  # Debian's venv prints its ensurepip message on stdout
    if "ensurepip" in output:
        return fail(f"{sys.executable} cannot make a venv: ensurepip is not available",
                    "on Debian/Ubuntu install the venv module once (sudo apt install python3-venv), then run this again")
    detail = (output.strip().splitlines() or ["no output"])[-1]
    return fail(f"{sys.executable} -m venv {venv} failed: {detail}", "run that command by hand to see its whole message")


def link_command(venv: Path) -> Path:
    """The path the user types: ~/.local/bin/sshsetup (POSIX), or the venv's own script (Windows)."""
    target = venv / ("Scripts/sshsetup.exe" if WINDOWS else "bin/sshsetup")
    if WINDOWS:
        return target
    link = Path.home() / ".local" / "bin" / "sshsetup"
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and os.readlink(link) == str(target):
        return link
    if link.exists() or link.is_symlink():
        say(f"{link} already exists and is not a link to {target}; left as it is")
        return target
    link.symlink_to(target)
    return link


def on_path(path: Path, environ: dict[str, str]) -> bool:
    dirs = [Path(d) for d in environ.get("PATH", "").split(os.pathsep) if d]
    return any(d.resolve() == path.parent.resolve() for d in dirs if d.exists())


def main(argv: list[str], environ: dict[str, str]) -> int:
    if sys.version_info < (3, 10):  # noqa: UP036 - this script runs on whatever python3 a machine has
        return fail(f"sshsetup needs Python 3.10 or newer; this is {sys.version.split()[0]}",
                    "run install.py with a newer python3 (e.g. python3.12 install.py)")
    venv = venv_dir(environ)
    rc = make_venv(venv)
    if rc:
        return rc
    py = venv_python(venv)
    say(f"installing sshsetup from {CHECKOUT} into {venv}")
    pip = subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", str(CHECKOUT)])
    if pip.returncode != 0:
        return fail(f"pip could not install sshsetup into {venv} (exit {pip.returncode})",
                    "pip's message is above; without a network, pip needs a local wheel house (PIP_FIND_LINKS, PIP_NO_INDEX)")
    command = link_command(venv)
    say(f"the sshsetup command is {command}")
    if not on_path(command, environ):
        say(f"{command.parent} is not on your PATH: add it (or open a new login shell), or type the full path")
    args = argv or ["init"]
    say("running: sshsetup " + " ".join(args))
    return subprocess.run([str(py), "-m", "sshsetup", *args]).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:], dict(os.environ)))
