"""``sshsetup serve jupyter``: a Jupyter server in a step of a session job, reached over the login master.

The server listens on a Unix socket in a 0700 directory (``~/.sshsetup/serve/<job>``), so
other users on the node cannot reach it; the helper on the login node relays a second
socket there into the job (one ``srun --overlap`` step per connection); and the local port
is ``ssh -O forward -L 127.0.0.1:LPORT:<socket>`` on the **existing** master: no new
authentication. The URL with its token goes into a 0600 file, never to the terminal.
``--stop`` cancels the forward (``ssh -O cancel``) and ends the step.
"""

from __future__ import annotations

import secrets
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sshsetup import files, state
from sshsetup.commands import code
from sshsetup.errors import EXIT_INTERRUPTED, EXIT_OK, BadInput, Refused
from sshsetup.result import Result
from sshsetup.slurm import session
from sshsetup.slurm.session_remote import Cluster, RemoteError, helper_text, remember_login_node
from sshsetup.ssh.client import Ssh

if TYPE_CHECKING:
    from sshsetup.paths import Paths

WHATS = ("jupyter", "tensorboard", "port")
STEP_NAME = "sshsetup-serve-jupyter"
START_TIMEOUT = 120.0

# validated values only: the job id (int) and the helper's path (its own fixed name); the token comes on stdin
_START = """\
set -e
d="$HOME/.sshsetup/serve/{job}"
umask 077
mkdir -p "$d"
chmod 700 "$d"
cat > "$d/token"
rm -f "$d/node.sock" "$d/login.sock"
JUPYTER_TOKEN=$(cat "$d/token") setsid nohup srun --jobid {job} --overlap --nodes=1 --ntasks=1 --job-name={step} \\
  bash -lc 'exec jupyter server --no-browser --ServerApp.sock="$0" --ServerApp.sock_mode=0600' "$d/node.sock" \\
  > "$d/server.log" 2>&1 < /dev/null &
setsid nohup python3 "$HOME/{helper}" relay-unix "$d/login.sock" {job} "$d/node.sock" > "$d/relay.log" 2>&1 < /dev/null &
echo $! > "$d/relay.pid"
echo "$d"
"""
_START_PORT = """\
set -e
d="$HOME/.sshsetup/serve/{job}"
umask 077
mkdir -p "$d"
chmod 700 "$d"
rm -f "$d/login.sock"
setsid nohup python3 "$HOME/{helper}" relay-unix "$d/login.sock" {job} {port} > "$d/relay.log" 2>&1 < /dev/null &
echo $! > "$d/relay.pid"
for i in $(seq 100); do [ -S "$d/login.sock" ] && break; sleep 0.1; done
echo "$d"
"""
_STOP = """\
d="$HOME/.sshsetup/serve/{job}"
for s in $(squeue -h -s -j {job} -o '%i %j' 2>/dev/null | awk '$2 == "{step}" {{print $1}}'); do scancel "$s"; done
[ -f "$d/relay.pid" ] && kill "$(cat "$d/relay.pid")" 2>/dev/null
rm -rf "$d"
true
"""


@dataclass(frozen=True)
class ServeOptions(code.SessionRequest):
    what: str | None = None
    port: int | None = None  # serve port N: a server already listening on the node's 127.0.0.1:N
    job: int | None = None
    list_: bool = False
    stop: bool = False


def run(paths: Paths, options: ServeOptions, *, interactive: bool = False, ssh: Ssh | None = None,
        say: code.Say = code._say, clock: code.Clock | None = None) -> Result:
    clock = clock or code.Clock()
    site = code._site(paths, code.CodeOptions(site=options.site, sites_file=options.sites_file))
    ssh = ssh or Ssh.for_paths(paths)
    doc = _load(paths)
    if not (options.list_ or options.stop):
        if options.what not in WHATS:
            raise BadInput(f"serve what? {options.what!r} is not known; allowed: {', '.join(WHATS)}", hint="e.g. sshsetup serve jupyter")
        if options.what == "tensorboard":
            raise Refused("sshsetup serve tensorboard is not available in this version",
                          hint="start it in the job on 127.0.0.1:PORT yourself, then: sshsetup serve port PORT --job J")
        if options.what == "port" and not (options.port and 0 < options.port < 65536):
            raise BadInput("serve port needs the port the server listens on, on the node's 127.0.0.1",
                           hint="e.g. sshsetup serve port 8888 --job 1234")
        if options.job is None:  # every option checked before the first connection
            given, project = code.account_for(paths, site, _code_options(options))
            code.profile_for(site, _code_options(options), given or project)
            session.parse_idle(options.idle)
    cluster = code.connect(paths, ssh, site, interactive=interactive, say=say)
    if options.list_:
        rows = [dict(v, job=int(k)) for k, v in doc.get("serves", {}).items() if v.get("site") == site.id]
        text = "".join(f"{r['job']}  {r['what']}  http://127.0.0.1:{r['port']}/"
                       + (f"  (URL with token: {r['url_file']})" if r.get("url_file") else "") + "\n" for r in rows)
        return Result("serve", EXIT_OK, output=text, notes=() if rows else ("No servers (sshsetup serve jupyter starts one).",),
                      data={"serves": rows})
    if options.stop:
        return stop(paths, ssh, cluster, doc, site.id, options.job)
    job_id, submitted = _job(paths, cluster, site, options, say, clock, interactive)
    if job_id is None:
        return Result("serve", EXIT_INTERRUPTED, notes=("Interrupted: nothing was started.",))
    try:
        if options.what == "port":
            assert options.port is not None
            return _start_port(paths, ssh, cluster, doc, site.id, job_id, options.port)
        return _start(paths, ssh, cluster, doc, site.id, job_id, clock, cancel_job=submitted and not options.persist)
    except BaseException:
        if submitted:
            cluster.cancel([job_id])
            say(f"Cancelled job {job_id} (this run submitted it; the start failed).")
        raise


def _job(paths: Paths, cluster: Cluster, site: Any, options: ServeOptions, say: code.Say, clock: code.Clock,
         interactive: bool) -> tuple[int | None, bool]:
    if options.job is not None:
        job = cluster.job(options.job)
        if job is None or session.phase(job) is not session.Phase.READY or not job.name.startswith(session.PREFIX):
            raise Refused(f"job {options.job} is not a running session job of yours", hint="list them with: sshsetup code --list")
        return job.id, False
    given, project = code.account_for(paths, site, _code_options(options))
    profile, account = code.profile_for(site, _code_options(options), given or project)
    existing = session.pick(cluster.jobs(), profile.job_name)
    if existing is not None:
        job_id, submitted = existing.id, False
    else:
        account = given or code.budget(cluster, project, say)
        job_id, submitted = code.submit(cluster, profile, account, session.parse_idle(options.idle), None, say)
    try:
        ready = code.wait_running(cluster, job_id, say, clock, interactive)
    except KeyboardInterrupt:
        if submitted:
            cluster.cancel([job_id])
            say(f"Interrupted: cancelled job {job_id} (this run submitted it); no other job was touched.")
        return None, False
    if ready is None:
        raise Refused(f"job {job_id} ended before it started", hint="see: sshsetup code --list")
    return job_id, submitted


def _code_options(options: ServeOptions) -> code.CodeOptions:
    return code.CodeOptions(site=options.site, account=options.account, partition=options.partition, gpus=options.gpus,
                            time=options.time)


def _start(paths: Paths, ssh: Ssh, cluster: Cluster, doc: dict[str, Any], site_id: str, job_id: int, clock: code.Clock,
           *, cancel_job: bool) -> Result:
    helper = cluster.install_helper(helper_text())
    remember_login_node(paths, site_id)
    token = secrets.token_hex(24)
    remote_dir = cluster.checked(["sh", "-c", _START.format(job=int(job_id), step=STEP_NAME, helper=helper)],
                                 "starting the server", input=token + "\n").strip().splitlines()[-1]
    port = _free_port()
    spec = f"127.0.0.1:{port}:{remote_dir}/login.sock"
    done = ssh.run(forward_argv(ssh, cluster.alias, "forward", spec), timeout=30)
    if not done.ok:
        raise RemoteError(f"ssh -O forward failed: {'; '.join(done.stderr_lines)}", hint=f"check the login: sshsetup status --site {site_id}")
    url = f"http://127.0.0.1:{port}/?token={token}"
    deadline = clock.now() + START_TIMEOUT
    while _status(port, token) != 200:
        if clock.now() > deadline:
            raise RemoteError(f"the Jupyter server in job {job_id} did not answer within {int(START_TIMEOUT)} s",
                              hint=f"its log on the login node: {remote_dir}/server.log")
        clock.sleep(1.0)
    url_file = paths.state_dir / "serve" / f"{job_id}-jupyter.url"
    changes = [files.FileChange(url_file, (url + "\n").encode(), mode=0o600, label="Jupyter URL", backup=False)]
    doc.setdefault("serves", {})[str(job_id)] = {"site": site_id, "what": "jupyter", "port": port, "spec": spec,
                                                 "alias": cluster.alias, "url_file": str(url_file), "remote_dir": remote_dir,
                                                 "cancel_job": cancel_job}
    changes.append(files.FileChange(_path(paths), state.dump(doc), mode=0o600, label="sshsetup serve records", backup=False))
    files.apply(files.plan(changes), dry_run=False)
    end = "--stop also cancels the job" if cancel_job else "the job stays after --stop"
    lines = (f"✓ Jupyter runs in job {job_id}: http://127.0.0.1:{port}/ (forwarded over the login of {cluster.alias})",
             f"  the URL with its token (for a browser or VS Code's \"Existing Jupyter Server\"): {url_file}",
             f"  stop it with: sshsetup serve --stop --job {job_id} ({end})")
    return Result("serve", EXIT_OK, notes=lines, data={"job": job_id, "port": port, "url_file": str(url_file)})


def _start_port(paths: Paths, ssh: Ssh, cluster: Cluster, doc: dict[str, Any], site_id: str, job_id: int,
                node_port: int) -> Result:
    helper = cluster.install_helper(helper_text())
    remember_login_node(paths, site_id)
    remote_dir = cluster.checked(["sh", "-c", _START_PORT.format(job=int(job_id), helper=helper, port=int(node_port))],
                                 "starting the relay").strip().splitlines()[-1]
    port = _free_port()
    spec = f"127.0.0.1:{port}:{remote_dir}/login.sock"
    done = ssh.run(forward_argv(ssh, cluster.alias, "forward", spec), timeout=30)
    if not done.ok:
        raise RemoteError(f"ssh -O forward failed: {'; '.join(done.stderr_lines)}", hint=f"check the login: sshsetup status --site {site_id}")
    doc.setdefault("serves", {})[str(job_id)] = {"site": site_id, "what": f"port {node_port}", "port": port, "spec": spec,
                                                 "alias": cluster.alias, "url_file": "", "remote_dir": remote_dir,
                                                 "cancel_job": False}
    files.apply(files.plan([files.FileChange(_path(paths), state.dump(doc), mode=0o600, label="sshsetup serve records",
                                             backup=False)]), dry_run=False)
    lines = (f"✓ 127.0.0.1:{node_port} of job {job_id}'s node is http://127.0.0.1:{port}/ here (over the login of {cluster.alias})",
             f"  stop it with: sshsetup serve --stop --job {job_id}")
    return Result("serve", EXIT_OK, notes=lines, data={"job": job_id, "port": port, "node_port": node_port})


def stop(paths: Paths, ssh: Ssh, cluster: Cluster, doc: dict[str, Any], site_id: str, job_id: int | None) -> Result:
    serves: dict[str, Any] = doc.get("serves", {})
    chosen = [k for k, v in serves.items() if v.get("site") == site_id and (job_id is None or k == str(job_id))]
    if job_id is not None and not chosen:
        raise Refused(f"no server of job {job_id} was started by sshsetup serve", hint="list them with: sshsetup serve --list")
    lines = []
    changes = []
    for k in chosen:
        rec = serves.pop(k)
        ssh.run(forward_argv(ssh, cluster.alias, "cancel", str(rec["spec"])), timeout=30)
        cluster.checked(["sh", "-c", _STOP.format(job=int(k), step=STEP_NAME)], "stopping the server")
        if rec.get("url_file"):
            changes.append(files.FileChange(Path(str(rec["url_file"])), None, label="Jupyter URL", backup=False))
        if rec.get("what") == "jupyter":
            lines.append(f"✓ stopped Jupyter in job {k}: forward 127.0.0.1:{rec['port']} closed, step ended")
        else:
            lines.append(f"✓ stopped {rec.get('what')} of job {k}: forward 127.0.0.1:{rec['port']} closed, relay ended")
        if rec.get("cancel_job"):
            cluster.cancel([int(k)])
            lines.append(f"✓ cancelled job {k} (sshsetup serve submitted it; not --persist)")
    changes.append(files.FileChange(_path(paths), state.dump(doc), mode=0o600, label="sshsetup serve records", backup=False))
    files.apply(files.plan(changes), dry_run=False)
    return Result("serve", EXIT_OK, notes=tuple(lines) or ("No server to stop.",), data={"stopped": [int(k) for k in chosen]})


def forward_argv(ssh: Ssh, alias: str, operation: str, spec: str) -> list[str]:
    """``ssh -O forward|cancel -L SPEC``: talks to the live master only (``Ssh.control_argv`` knows check/exit/stop)."""
    if operation not in ("forward", "cancel"):
        raise ValueError(operation)
    probe = ssh.control_argv(alias, "check")  # the one owner builds the base (config file, destination check)
    return [*probe[:-4], "-O", operation, "-L", spec, "--", alias]


def _status(port: int, token: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _path(paths: Paths) -> Path:
    return paths.state_dir / "serve.json"


def _load(paths: Paths) -> dict[str, Any]:
    doc = state.load(_path(paths))
    doc.pop("damaged", None)
    return doc


