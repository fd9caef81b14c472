"""A Python environment the throwaway test user can execute.

The interpreter that runs pytest may live under /root (mode 0700), where the test
user cannot reach it. For end-to-end runs *as that user* (its own ``~``, its own
``~/.ssh/config``, exactly as a real user), build a venv from the system Python,
install sshsetup's dependencies and coverage from the package index once (cached under /tmp by a
hash of the dependency list and the checkout's path), and copy the checkout's package into it like a wheel
install would (``templates/`` -> ``sshsetup/templates``).

pytest-xdist workers share the venv: building it and copying the package happen under a file
lock, and the package is copied again only when the checkout's files changed (a test of another
worker may be running the copy at that moment).

Coverage of these processes (they run as the test user, through ``runuser``/sshd with a clean
environment): when the pytest process is itself measured, ``a0_sshsetup_testcov.pth`` in the
venv points every Python start at ``coverage-rc`` (``COVERAGE_PROCESS_START``; coverage's own
``a1_coverage.pth`` then starts measuring), and the data files go to ``coverage-data/`` (mode
1777). ``collect_coverage`` moves them beside the main data file for ``coverage combine``;
``[tool.coverage.paths]`` in pyproject.toml maps the copy back to ``sshsetup/``. Without
coverage the .pth file is removed, so nothing is measured.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .require import missing

ROOT = Path(__file__).resolve().parents[2]
# The runtime dependencies exactly as pyproject.toml declares them, and the coverage of this venv.
DEPS = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
COVERAGE = f"coverage=={metadata.version('coverage')}"
PTH = "a0_sshsetup_testcov.pth"  # sorts before coverage's own a1_coverage.pth
COVERAGE_RC = """\
[run]
branch = True
parallel = True
source_pkgs = sshsetup
omit = */sshsetup/__main__.py
data_file = {data}/.coverage
patch = _exit
    fork
sigterm = True
"""


def _system_python() -> str | None:
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def venv_dir() -> Path | None:
    """``/tmp/sshsetup-uservenv-<hash>`` for this checkout and system Python (None without one)."""
    base = _system_python()
    if base is None:
        return None
    # one venv per checkout: sessions of different checkouts never replace each other's copy of sshsetup
    tag = hashlib.sha256(("\n".join((*DEPS, COVERAGE)) + base + str(ROOT)).encode()).hexdigest()[:12]
    return Path(f"/tmp/sshsetup-uservenv-{tag}")


def coverage_data_dir() -> Path | None:
    """Where the test user's measured processes write their data files."""
    venv = venv_dir()
    return None if venv is None else venv / "coverage-data"


def _under_coverage() -> bool:
    cov = sys.modules.get("coverage")
    return cov is not None and cov.Coverage.current() is not None


def _make_readable(top: Path) -> None:
    for root, dirs, files in os.walk(top):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | 0o444)
    os.chmod(top, 0o755)


def _tree_hash(*tops: Path) -> str:
    h = hashlib.sha256()
    for top in tops:
        for p in sorted(top.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(top)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _set_coverage_hook(venv: Path, site: Path) -> None:
    pth = site / PTH
    if not _under_coverage():
        pth.unlink(missing_ok=True)
        return
    data = venv / "coverage-data"
    data.mkdir(exist_ok=True)
    data.chmod(0o1777)
    rc = venv / "coverage-rc"
    rc.write_text(COVERAGE_RC.format(data=data))
    rc.chmod(0o644)
    pth.write_text(
        "import os; os.environ.pop('COVERAGE_PROCESS_CONFIG', None); "
        f"os.environ['COVERAGE_PROCESS_START'] = {str(rc)!r}\n"
    )
    pth.chmod(0o644)


def user_python() -> Path:
    """The path of a python (readable by every user) with sshsetup and its deps installed."""
    base = _system_python()
    venv = venv_dir()
    if base is None or venv is None:
        missing("system python3", "no /usr/bin/python3 to build the test user's venv")
        raise AssertionError("unreachable")
    py = venv / "bin" / "python"
    with _locked(Path(f"{venv}.lock")):
        if not (venv / ".ready").exists():
            shutil.rmtree(venv, ignore_errors=True)
            made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
            if made.returncode != 0:
                missing("python3-venv", made.stderr.strip()[-300:])
            pip = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *DEPS, COVERAGE],
                                 capture_output=True, text=True, timeout=600)
            if pip.returncode != 0:
                missing("sshsetup's dependencies for the test user's venv", pip.stderr.strip()[-300:])
            (venv / ".ready").write_text("ok\n")
        site = next((venv / "lib").glob("python3*/site-packages"))
        target = site / "sshsetup"
        stamp = venv / ".sshsetup-tree"
        tree = _tree_hash(ROOT / "sshsetup", ROOT / "templates")
        if not (target.is_dir() and stamp.exists() and stamp.read_text() == tree):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / "sshsetup", target, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copytree(ROOT / "templates", target / "templates")
            stamp.write_text(tree)
        _make_readable(venv)
        _set_coverage_hook(venv, site)  # after: the data directory stays 1777
    return py


def collect_coverage(into: Path) -> list[Path]:
    """Move the test user's coverage data files into ``into`` (the main data file's directory)."""
    data = coverage_data_dir()
    moved: list[Path] = []
    if data is None or not data.is_dir():
        return moved
    for f in sorted(data.glob(".coverage.*")):
        dest = into / f"{f.name}.testuser"
        shutil.move(str(f), dest)
        moved.append(dest)
    return moved


def clear_coverage() -> None:
    """Remove data files an earlier (killed) run left behind."""
    data = coverage_data_dir()
    if data is not None and data.is_dir():
        for f in data.glob(".coverage*"):
            f.unlink(missing_ok=True)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(user_python(), file=sys.stdout)
