"""A real VS Code in the test bed: code-server on 127.0.0.1, driven by headless Chromium.

Installed once per machine by ``tests/testbed/vscode_install.sh`` (``.ci/run`` starts it in the
background) into ``/var/cache/sshsetup-testbed/vscode-<hash of vscode.lock>``; the tests only wait
for that directory's ``done`` marker. code-server runs as the throwaway test user with
``--user-data-dir ~/.config/Code``: it reads the very ``settings.json`` that ``sshsetup init`` writes
for desktop VS Code, and the workspace's ``.vscode/tasks.json``. The probe extension
(``vscode_probe/extension``, copied as a plain folder into a sandbox extensions directory) answers
requests through files (``Probe``); the browser (``vscode_probe/driver.mjs``) answers VS Code's
prompts and takes screenshots (``Browser``).

Nothing here reaches beyond loopback: telemetry, update checks, the extension gallery and workspace
trust are off, code-server's HTTP(S) proxy is a closed loopback port, and Chromium resolves no name
but 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .require import in_ci, missing
from .sshd import free_port
from .users import TestUser, exe, popen_daemon, stop_process

HERE = Path(__file__).resolve().parent
LOCK = HERE / "vscode.lock"
PROBE = HERE / "vscode_probe"
INSTALLER = HERE / "vscode_install.sh"
CHROMIUM = "/usr/bin/chromium"
# read at import: the autouse fake_home fixture removes SSHSETUP_* variables during each test
CACHE_BASE = Path(os.environ.get("SSHSETUP_TESTBED_CACHE", "/var/cache/sshsetup-testbed"))
INSTALLING = os.environ.get("SSHSETUP_VSCODE_INSTALLING", "") == "1"  # .ci/run started the installer
WAIT_SECONDS = float(os.environ.get("SSHSETUP_VSCODE_WAIT", "900"))
ARTIFACTS = os.environ.get("SSHSETUP_TEST_ARTIFACTS", "")
PROBE_ID = "sshsetup-tests.sshsetup-probe-0.0.1"
COMPONENT = "VS Code (code-server)"


def lock_versions() -> dict[str, str]:
    out = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k.strip()] = v.strip()
    return out


def cache_dir() -> Path:
    """The same directory ``vscode_install.sh --dir`` prints."""
    return CACHE_BASE / f"vscode-{hashlib.sha256(LOCK.read_bytes()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Install:
    dir: Path

    @property
    def node(self) -> Path:
        return self.dir / "node" / "node_modules" / "node" / "bin" / "node"

    @property
    def entry(self) -> Path:
        return self.dir / "code-server" / "node_modules" / "code-server" / "out" / "node" / "entry.js"

    @property
    def playwright(self) -> Path:
        return self.dir / "playwright" / "node_modules" / "playwright-core"

    def install_seconds(self) -> str:
        p = self.dir / "install-seconds"
        return p.read_text().strip() if p.exists() else "?"


def _install_running() -> bool:
    """Whether vscode_install.sh holds its lock (it flocks ``vscode.install.lock`` while it works)."""
    try:
        fd = os.open(CACHE_BASE / "vscode.install.lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def require_vscode() -> Install:
    """The installed component, waiting for a background install; skip/fail (CI) when absent."""
    d = cache_dir()
    hint = f"run .ci/run, or {INSTALLER.relative_to(HERE.parents[1])} as root (log: {d}.log)"
    started = time.monotonic()
    deadline = started + WAIT_SECONDS
    while not (d / "done").exists():
        if (d / "failed").exists():
            missing(COMPONENT, f"the install failed (exit {(d / 'failed').read_text().strip()}); see {d}.log")
        if not d.exists() and not INSTALLING:
            missing(COMPONENT, f"{d} is not there; {hint}")
        # (a background install just started may not hold its lock yet: give it a minute)
        if d.exists() and not _install_running() and (not INSTALLING or time.monotonic() > started + 60):
            missing(COMPONENT, f"{d} is incomplete and no install is running; {hint}")
        if time.monotonic() > deadline:
            missing(COMPONENT, f"the install did not finish within {WAIT_SECONDS:.0f} s; see {d}.log")
        time.sleep(1)
    inst = Install(d)
    for p in (inst.node, inst.entry, inst.playwright / "index.mjs"):
        if not p.exists():
            missing(COMPONENT, f"{p} is missing from the cache; remove {d} and {hint}")
    if not os.access(CHROMIUM, os.X_OK):
        missing("Chromium", f"{CHROMIUM} is missing; {hint}")
    return inst


def artifacts_dir(fallback: Path) -> Path:
    """``$SSHSETUP_TEST_ARTIFACTS/vscode`` or ``fallback`` (created)."""
    d = Path(ARTIFACTS) / "vscode" if ARTIFACTS else fallback
    d.mkdir(parents=True, exist_ok=True)
    return d


# --------------------------------------------------------------------------- the probe


class ProbeError(RuntimeError):
    pass


class Probe:
    """Requests to the live probe: ``req-<pid>-<n>.json`` in, ``res-<pid>-<n>.json`` out; ``events.jsonl``.

    ``<pid>`` is the extension host named in ``ready.json``: after a reload the old host lives on (code-server
    keeps it for the reconnection grace time) and must not take a request its dead window cannot answer.
    """

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._n = 0

    def ready(self) -> dict[str, Any] | None:
        p = self.dir / "ready.json"
        return json.loads(p.read_text()) if p.exists() else None

    def request(self, op: str, *, timeout: float = 60.0, **kw: Any) -> Any:
        self._n += 1
        host = self.ready()
        if host is None:
            raise ProbeError(f"no probe is running to answer {op!r} (no ready.json)")
        name = f"{host['pid']}-{self._n:06d}.json"
        tmp = self.dir / f".req-{name}"
        tmp.write_text(json.dumps({"op": op, **kw}))
        os.chmod(tmp, 0o644)
        tmp.rename(self.dir / f"req-{name}")
        res = self.dir / f"res-{name}"
        deadline = time.monotonic() + timeout
        while not res.exists():
            if time.monotonic() > deadline:
                raise ProbeError(f"the probe did not answer {op!r} within {timeout} s")
            time.sleep(0.05)
        answer = json.loads(res.read_text())
        if not answer["ok"]:
            raise ProbeError(f"probe {op!r}: {answer['error']}")
        return answer["value"]

    def events(self) -> list[dict[str, Any]]:
        p = self.dir / "events.jsonl"
        return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []

    def wait_event(self, key: str, label: str, *, since: int = 0, timeout: float = 60.0) -> dict[str, Any]:
        """The first event ``{key: label, ...}`` after the ``since``-th (e.g. ``"end"``: exit code)."""
        deadline = time.monotonic() + timeout
        ready = self.ready()
        host = None if ready is None else ready["pid"]
        while True:
            for e in self.events()[since:]:
                if e.get("host", host) != host:
                    continue  # an extension host left over from before a reload
                if e.get(key) == label:
                    return e
                if e.get("failed") == label:
                    raise ProbeError(f"VS Code refused to run {label!r}: {e['error']}")
            if time.monotonic() > deadline:
                raise ProbeError(f"no {key!r} event for {label!r} within {timeout} s; events: {self.events()[since:]}")
            time.sleep(0.1)


# --------------------------------------------------------------------------- the browser


class Browser:
    """``vscode_probe/driver.mjs`` (Node 24 + playwright-core + Debian's Chromium), one JSON line per call."""

    def __init__(self, install: Install, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(profile / "home"),
            "SSHSETUP_PLAYWRIGHT": str(install.playwright),
            "SSHSETUP_CHROME_DIR": str(profile),
            "SSHSETUP_CHROMIUM": CHROMIUM,
        }
        self.log = profile / "driver.log"
        self._err = open(self.log, "wb")  # noqa: SIM115 - closed in close()
        self.proc = popen_daemon([str(install.node), str(PROBE / "driver.mjs")], env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=self._err)

    def call(self, op: str, *, timeout: float = 60.0, **kw: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"op": op, **kw}) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise ProbeError(f"browser: no answer to {op!r} within {timeout} s (log: {self.log})")
        line = self.proc.stdout.readline()
        if not line:
            raise ProbeError(f"browser exited during {op!r}: {self.log.read_text(errors='replace')[-2000:]}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise ProbeError(f"browser {op!r}: {answer['error']}")
        return answer["value"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call("close", timeout=15)
                self.proc.wait(10)
            except (ProbeError, OSError, subprocess.TimeoutExpired):
                pass
        stop_process(self.proc)
        self._err.close()


# --------------------------------------------------------------------------- code-server


@dataclass(frozen=True)
class Pick:
    """An answer to a pickString input: the row whose label starts with ``row``."""

    row: str


HARNESS_WORKSPACE_SETTINGS = {
    # the harness's own needs, as *workspace* settings: the user's settings.json stays sshsetup's
    "terminal.integrated.gpuAcceleration": "off",  # DOM renderer: the terminal's text can be read
    "terminal.integrated.fontSize": 10,  # the DOM holds only the visible rows: show many
    "workbench.startupEditor": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "chat.disableAIFeatures": True,
    "task.allowAutomaticTasks": "off",
}


class CodeServer:
    """code-server as ``user`` on ``127.0.0.1:<free port>``, user data ``~/.config/Code``, plus a browser."""

    def __init__(self, install: Install, user: TestUser, workspace: Path, sandbox: Path,
                 *, env: Mapping[str, str] | None = None) -> None:
        self.install, self.user, self.workspace, self.sandbox = install, user, workspace, sandbox
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.extensions = sandbox / "extensions"
        self.probe = Probe(sandbox / "probe")
        self.log = sandbox / "code-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.browser: Browser | None = None
        self.timings: dict[str, float] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    def _prepare(self) -> None:
        self.sandbox.mkdir(parents=True, exist_ok=True)
        self.sandbox.chmod(0o755)
        for d in (self.extensions, self.probe.dir):
            shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(PROBE / "extension", self.extensions / PROBE_ID)
        self.probe.dir.mkdir()
        for d in (self.extensions, self.probe.dir):
            os.chown(d, self.user.uid, self.user.gid)
            for root, dirs, files in os.walk(d):
                for n in dirs + files:
                    os.chown(os.path.join(root, n), self.user.uid, self.user.gid)
        (self.user.home / ".config" / "Code" / "User").mkdir(parents=True, exist_ok=True)
        vs = self.workspace / ".vscode"
        vs.mkdir(parents=True, exist_ok=True)
        if not (vs / "settings.json").exists():
            (vs / "settings.json").write_text(json.dumps(HARNESS_WORKSPACE_SETTINGS, indent=4) + "\n")
        self.user.chown_tree(self.user.home)

    def start(self, timeout: float = 90.0) -> CodeServer:
        self._prepare()
        h = self.user.home
        env = {
            "HOME": str(h), "USER": self.user.name, "LOGNAME": self.user.name, "SHELL": "/bin/bash",
            "LANG": "C.UTF-8", "PATH": f"{self.install.node.parent}:/usr/local/bin:/usr/bin:/bin",
            "XDG_CONFIG_HOME": f"{h}/.config", "XDG_DATA_HOME": f"{h}/.local/share",
            "XDG_CACHE_HOME": f"{h}/.cache", "XDG_STATE_HOME": f"{h}/.local/state",
            "SSHSETUP_PROBE_DIR": str(self.probe.dir),
            # anything code-server fetches over HTTP(S) goes to a closed loopback port
            "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
            "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost",
            "EXTENSIONS_GALLERY": json.dumps({"serviceUrl": "http://127.0.0.1:9/gallery",
                                              "itemUrl": "http://127.0.0.1:9/item"}),
            **self.extra_env,
        }
        argv = [exe("runuser"), "-u", self.user.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
                str(self.install.node), str(self.install.entry),
                "--auth", "none", "--bind-addr", f"127.0.0.1:{self.port}",
                "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--user-data-dir", f"{h}/.config/Code", "--extensions-dir", str(self.extensions),
                str(self.workspace)]
        t0 = time.monotonic()
        with open(self.log, "wb") as log:
            self.proc = popen_daemon(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=str(h))
        deadline = t0 + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ProbeError(f"code-server did not come up: {self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        self.timings["code-server"] = time.monotonic() - t0
        t1 = time.monotonic()
        self.browser = Browser(self.install, self.sandbox / "chrome")
        self.browser.call("open", url=self.url, timeout=120)
        while self.probe.ready() is None:
            if time.monotonic() > t1 + timeout:
                raise ProbeError(f"the probe extension did not start; code-server log: {self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        self.timings["workbench+probe"] = time.monotonic() - t1
        return self

    def reload(self, timeout: float = 90.0) -> None:
        """Reload the browser window: VS Code reads the settings afresh and restarts the probe."""
        assert self.browser is not None
        t0 = time.monotonic()
        (self.probe.dir / "ready.json").unlink(missing_ok=True)
        self.browser.call("reload", timeout=120)
        while self.probe.ready() is None:
            if time.monotonic() > t0 + timeout:
                raise ProbeError("the probe extension did not start again after a reload")
            time.sleep(0.1)
        self.timings["reload"] = time.monotonic() - t0

    def stop(self) -> None:
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        if self.proc is not None:
            stop_process(self.proc, children_first=True)
            self.proc = None

    def __enter__(self) -> CodeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- helpers for tests

    def run_task(self, label: str, answers: Sequence[str | Pick | None] = (), *, timeout: float = 60.0,
                 wait_end: bool = True) -> dict[str, Any]:
        """Run task ``label`` through VS Code (``tasks.executeTask``), answering its prompts in order.

        Each answer is typed into VS Code's input box (``None``: accept what it offers; ``Pick(x)``: click
        the list row starting with ``x``); returns
        ``{"prompts": [...], "end": {exitCode...} | None}``.
        """
        assert self.browser is not None
        self.wait_no_input()  # else the first answer could go to a quick pick still closing (the task picker)
        since = len(self.probe.events())
        self.probe.request("run", label=label)
        prompts = []
        for a in answers:
            prompts.append(self.browser.call("wait_input", timeout=30))
            if isinstance(a, Pick):
                self.browser.call("answer", pick=a.row)
            else:
                self.browser.call("answer", text=a)
        self.probe.wait_event("start", label, since=since, timeout=timeout)
        end = self.probe.wait_event("end", label, since=since, timeout=timeout) if wait_end else None
        return {"prompts": prompts, "end": end}

    def wait_no_input(self, timeout: float = 20.0) -> None:
        """Until no quick input (palette, picker, input box) is shown; Escape once more half-way."""
        assert self.browser is not None
        deadline = time.monotonic() + timeout
        pressed = False
        while self.browser.call("input_state") is not None:
            if time.monotonic() > deadline:
                raise ProbeError(f"a quick input stays open: {self.browser.call('input_state')}")
            if not pressed and time.monotonic() > deadline - timeout / 2:
                self.browser.call("press", key="Escape")
                pressed = True
            time.sleep(0.1)

    def terminal_text(self) -> str:
        assert self.browser is not None
        rows = self.browser.call("terminal_text")
        return "\n".join(r.rstrip() for r in rows).strip("\n")

    def screenshot(self, path: Path) -> Path:
        assert self.browser is not None
        self.browser.call("screenshot", file=str(path))
        return path


def ci_note() -> str:
    return "CI=true: a missing VS Code fails" if in_ci() else "locally: a missing VS Code skips"
