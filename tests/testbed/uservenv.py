"""A Python environment the throwaway test user can execute.

The interpreter that runs pytest may live under /root (mode 0700), where the test
user cannot reach it. For end-to-end runs *as that user* (its own ``~``, its own
``~/.ssh/config``, exactly as a real user), build a venv from the system Python,
install sshsetup's dependencies from the package index once (cached under /tmp by a
hash of the dependency list and the checkout's path), and copy the checkout's package into it like a wheel
install would (``templates/`` -> ``sshsetup/templates``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .require import missing

ROOT = Path(__file__).resolve().parents[2]
# The runtime dependencies exactly as pyproject.toml declares them.
DEPS = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _system_python() -> str | None:
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def _make_readable(top: Path) -> None:
    for root, dirs, files in os.walk(top):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o444)
    os.chmod(top, 0o755)


def user_python() -> Path:
    """The path of a python (readable by every user) with sshsetup and its deps installed."""
    base = _system_python()
    if base is None:
        missing("system python3", "no /usr/bin/python3 to build the test user's venv")
        raise AssertionError("unreachable")
    # one venv per checkout: sessions of different checkouts never replace each other's copy of sshsetup
    tag = hashlib.sha256(("\n".join(DEPS) + base + str(ROOT)).encode()).hexdigest()[:12]
    venv = Path(f"/tmp/sshsetup-uservenv-{tag}")
    py = venv / "bin" / "python"
    if not (venv / ".ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            missing("python3-venv", made.stderr.strip()[-300:])
        pip = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *DEPS],
                             capture_output=True, text=True, timeout=600)
        if pip.returncode != 0:
            missing("sshsetup's dependencies for the test user's venv", pip.stderr.strip()[-300:])
        (venv / ".ready").write_text("ok\n")
    site = next((venv / "lib").glob("python3*/site-packages"))
    target = site / "sshsetup"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(ROOT / "sshsetup", target, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", target / "templates")
    _make_readable(venv)
    return py


if __name__ == "__main__":  # pragma: no cover - manual use
    print(user_python(), file=sys.stdout)
