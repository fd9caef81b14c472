from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests import timing  # reads SSHSETUP_TEST_TIME_FACTOR before fake_home removes SSHSETUP_* variables
from tests.testbed import uservenv

pytest_plugins = ["tests.testbed.fixtures"]

REAL_HOME = os.environ.get("HOME", "")


def pytest_report_header() -> str:
    return (f"time margins: x{timing.FACTOR:g} ({timing.ENV}; default {timing.DEFAULT:g}, {timing.UNDER_COVERAGE:g} under coverage,"
            " times workers/cores under pytest-xdist)")


# pytest-xdist (addopts in pyproject.toml: --dist loadgroup, one test at a time to whichever worker is free).
# The longest tests go first, so that they overlap with the short ones instead of ending the run alone
# (measured with --durations; order only, nothing is skipped).
LONG_FIRST = (
    "tests/test_crash_safety.py::test_kill_while_creating_a_key",
    "tests/slurm/test_chain_real.py",
    "tests/test_crash_safety.py::test_kill_init_anywhere",
    "tests/ssh/test_block_properties.py::test_init_then_ssh_g_then_remove",
    "tests/commands/test_code.py::test_walltime_warnings_and_next",
    "tests/commands/test_code.py::test_idle_watchdog_cancels_and_says_why",
    "tests/slurm/test_example_train.py",
    "tests/slurm/test_multinode.py",
    "tests/test_fuzz_sites_block.py",
    "tests/commands/test_serve.py",
    "tests/test_concurrency.py",
    "tests/test_e2e.py",
    "tests/commands/test_login.py",
    "tests/commands/test_code.py",
    "tests/vscode/jsonc/test_properties.py",
)
# These run torchrun jobs (2 to 4 training processes each, on 2 cores): one worker runs them, one at a time.
# (Their ports differ anyway: MASTER_PORT is 20000 + job id % 10000, and each test cluster has its own FirstJobId.)
VSCODE_PREFIX = "tests/vscode/real/"
TORCHRUN_MODULES = ("tests/slurm/test_chain_real.py", "tests/slurm/test_example_train.py", "tests/slurm/test_multinode.py")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the group marker into the node id's "@group"
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _is_worker(config):
        return  # -n 0: file order
    for item in items:
        module = item.nodeid.split("::")[0]
        if module in TORCHRUN_MODULES:
            item.add_marker(pytest.mark.xdist_group("torchrun"))
        if module.startswith(VSCODE_PREFIX):  # code-server + Chromium: one at a time, after its background install
            item.add_marker(pytest.mark.xdist_group("vscode"))

    def rank(item: pytest.Item) -> int:
        if item.nodeid.startswith(VSCODE_PREFIX):
            return len(LONG_FIRST) + 1  # last: .ci/run installs VS Code in the background meanwhile
        return next((i for i, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: the rest keeps its order


@pytest.hookimpl(trylast=True)  # after xdist's own hook: the group must show in the node id now
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    if not _is_worker(config) or not config.getvalue("loadgroup"):
        return
    loose = [item.nodeid for item in session.items
             if item.nodeid.split("::")[0] in TORCHRUN_MODULES or item.nodeid.startswith(VSCODE_PREFIX)]
    loose = [nodeid for nodeid in loose if "@" not in nodeid]
    if loose:
        raise pytest.UsageError(f"pytest-xdist put no group on {loose[0]} (and {len(loose) - 1} more): the torchrun and "
                                "VS Code tests would run side by side; use the pytest that pyproject.toml pins")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # a pytest-xdist worker (the controller has none)


def _coverage_data_dir() -> Path | None:
    """The directory of the running coverage's data file, when pytest itself is measured."""
    import sys

    cov = sys.modules.get("coverage")
    current = None if cov is None else cov.Coverage.current()
    return None if current is None else Path(current.config.data_file).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config) and _coverage_data_dir() is not None:
        uservenv.clear_coverage()  # data files of an earlier, killed run


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Hand the test user's coverage data (tests/testbed/uservenv.py) to ``coverage combine``.

    In the xdist controller (or a run without workers), after every worker and fixture has ended.
    """
    into = _coverage_data_dir()
    if not _is_worker(session.config) and into is not None:
        uservenv.collect_coverage(into)


@pytest.fixture(autouse=True)
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME and config dirs: the real ~ is never touched."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ("HOME", "USERPROFILE"):
        monkeypatch.setenv(var, str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    for var in list(os.environ):
        if var.startswith(("SSHSETUP_", "VSCODE_")) or var in ("SSH_AUTH_SOCK", "NO_COLOR", "WSL_DISTRO_NAME"):
            monkeypatch.delenv(var, raising=False)
    # Never reach a real public service: the echo and RDAP lookups point at a closed port.
    monkeypatch.setenv("SSHSETUP_IP_ECHO_URLS", "http://127.0.0.1:9/")
    monkeypatch.setenv("SSHSETUP_RDAP_URL", "http://127.0.0.1:9/")
    return home


@pytest.fixture(autouse=True, scope="session")
def _never_the_real_home() -> None:
    from sshsetup import paths

    original = paths.Paths.from_env

    def guarded(environ=None):  # type: ignore[no-untyped-def]
        p = original(environ)
        if REAL_HOME and Path(p.home).resolve() == Path(REAL_HOME).resolve():
            raise AssertionError("YouForgotToRedirectHome: a test resolved the real home directory")
        return p

    paths.Paths.from_env = guarded  # type: ignore[method-assign]


@pytest.fixture
def key(fake_home: Path) -> Path:
    """An existing passphrase-protected key at the default place (cheap: -a 2)."""
    ssh = fake_home / ".ssh"
    ssh.mkdir(mode=0o700, exist_ok=True)
    k = ssh / "id_ed25519_jsc"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-C", "me@here", "-f", str(k)], check=True)
    return k
