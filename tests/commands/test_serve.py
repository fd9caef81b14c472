"""``sshsetup serve jupyter``: a real Jupyter server (jupyter_server) in a step of a real Slurm job.

The server listens on a Unix socket in a 0700 directory on the node; the local port is an
``ssh -O forward`` on the login master. The test user's ``jupyter`` comes from a venv the
test setup builds from the system Python (jupyter_server, as pyproject's test extras pin
it), put on PATH by the user's ~/.profile the way a module load would.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.test_code import RESOURCES, Session
from tests.commands.test_login import pkg  # noqa: F401 - a fixture
from tests.test_e2e import py  # noqa: F401 - py is a fixture
from tests.testbed.agent import SshAgent
from tests.testbed.require import missing
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser, run_as

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]
ROOT = Path(__file__).resolve().parents[2]
JUPYTER = next(d for d in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
               if d.startswith("jupyter_server"))


@pytest.fixture(scope="session")
def jupyter_bin() -> Path:
    """A venv (readable by every user) with jupyter_server: its bin directory."""
    base = "/usr/bin/python3"
    tag = hashlib.sha256((JUPYTER + base).encode()).hexdigest()[:12]
    venv = Path(f"/tmp/sshsetup-jupyter-{tag}")
    if not (venv / ".ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        made = subprocess.run([base, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            missing("python3-venv", made.stderr.strip()[-300:])
        pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", JUPYTER],
                             capture_output=True, text=True, timeout=900)
        if pip.returncode != 0:
            missing("jupyter_server for the test user", pip.stderr.strip()[-300:])
        (venv / ".ready").write_text("ok\n")
        subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
    return venv / "bin"


@pytest.fixture
def session(test_user: TestUser, slurm: Slurm, slurm_sshd: Sshd, ssh_agent: SshAgent, py: Path, pkg: Path,
            jupyter_bin: Path) -> Iterator[Session]:
    s = Session(test_user, slurm_sshd, slurm, ssh_agent, py, pkg)
    test_user.write(".profile", f'PATH="{jupyter_bin}:$PATH"\n', mode=0o644)
    yield s
    run_as(test_user, ["ssh", "-O", "exit", "jsc-testbed"], env=ssh_agent.env)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_serve_jupyter_through_the_master(session: Session) -> None:
    s = session
    r = s.sshsetup("serve", "jupyter", *RESOURCES, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    job, port = doc["job"], doc["port"]
    url_file = Path(doc["url_file"])
    assert url_file.stat().st_mode & 0o777 == 0o600
    url = url_file.read_text().strip()
    token = re.fullmatch(rf"http://127\.0\.0\.1:{port}/\?token=([0-9a-f]{{48}})", url).group(1)  # type: ignore[union-attr]
    assert token not in r.stdout + r.stderr  # the token is only in the 0600 file
    assert f"✓ Jupyter runs in job {job}: http://127.0.0.1:{port}/ (forwarded over the login of jsc-testbed)" in r.stderr
    assert status(f"http://127.0.0.1:{port}/api/status?token={token}") == 200
    assert status(f"http://127.0.0.1:{port}/api/status") == 403
    steps = s.squeue("--steps", "-o", "%i %j")
    assert re.search(rf"^{job}\.\d+ sshsetup-serve-jupyter$", steps, re.M), steps
    sock_dir = Path(s.user.home / ".sshsetup" / "serve" / str(job))
    assert sock_dir.stat().st_mode & 0o777 == 0o700
    listed = s.sshsetup("serve", "--list", "--site", "testbed")
    assert listed.stdout == f"{job}  jupyter  http://127.0.0.1:{port}/  (URL with token: {url_file})\n", listed.stderr

    stop = s.sshsetup("serve", "--stop", "--site", "testbed")
    assert stop.returncode == 0, stop.stderr
    assert stop.stderr == (f"✓ stopped Jupyter in job {job}: forward 127.0.0.1:{port} closed, step ended\n"
                           f"✓ cancelled job {job} (sshsetup serve submitted it; not --persist)\n")
    with pytest.raises(OSError):
        status(f"http://127.0.0.1:{port}/api/status?token={token}")
    assert not url_file.exists()
    s.slurm.wait_job_state(job, timeout=30)
    deadline = time.monotonic() + 20
    while "jupyter" in run_as(s.user, ["ps", "-u", s.user.name, "-o", "args="]).stdout:
        assert time.monotonic() < deadline, run_as(s.user, ["ps", "-u", s.user.name, "-o", "args="]).stdout
        time.sleep(0.2)
    assert s.auths() == 1


def test_serve_port_of_a_server_in_the_job(session: Session) -> None:
    """``serve port N --job J``: a server the user runs in the job on the node's 127.0.0.1:N, forwarded here."""
    from tests.testbed.sshd import free_port
    from tests.testbed.users import descendants, exe, kill_pids

    s = session
    r = s.sshsetup("code", *RESOURCES, "--persist", "--idle", "0", "--no-open")
    assert r.returncode == 0, r.stderr
    job = int(re.search(r"✓ job (\d+) runs on tbnode01", r.stderr).group(1))  # type: ignore[union-attr]
    node_port = free_port()
    s.user.write("www/index.html", "from-a-step\n", mode=0o644)
    env = s.user.env({"SLURM_CONF": str(s.slurm.conf_path)})
    server = subprocess.Popen([exe("runuser"), "-u", s.user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                               "srun", "--jobid", str(job), "--overlap", "--nodes=1", "--ntasks=1", "python3", "-m", "http.server",
                               str(node_port), "--bind", "127.0.0.1", "--directory", str(s.user.home / "www")],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        served = s.sshsetup("serve", "port", str(node_port), "--job", str(job), "--site", "testbed", "--json")
        assert served.returncode == 0, served.stderr
        port = json.loads(served.stdout)["port"]
        assert f"✓ 127.0.0.1:{node_port} of job {job}'s node is http://127.0.0.1:{port}/ here" in served.stderr
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=15) as resp:
                    assert resp.read() == b"from-a-step\n"
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        stop = s.sshsetup("serve", "--stop", "--job", str(job), "--site", "testbed")
        assert stop.stderr == f"✓ stopped port {node_port} of job {job}: forward 127.0.0.1:{port} closed, relay ended\n", stop.stderr
        with pytest.raises(OSError):
            status(f"http://127.0.0.1:{port}/")
    finally:
        kill_pids([server.pid, *descendants(server.pid)])
        server.wait(10)
    assert s.sshsetup("code", "--stop", str(job), "--site", "testbed").returncode == 0
    assert s.auths() == 1
