"""VS Code itself (code-server, tests/testbed/vscode.py) loads and runs the tasks.json sshsetup wrote.

``tasks.fetchTasks()`` must return every sshsetup task as written (labels, type, command and args read
from sshsetup's own output, so new fields such as ``detail``/``group`` or regrouped labels do not
matter) next to the user's own tasks. Then VS Code's task runner runs the ``ssh <alias> …`` tasks
against the loopback sshd and the test bed's Slurm, its own prompts answered in headless Chromium:
a job is submitted, listed, cancelled; partition limits are read; an interactive allocation opens a
shell; an account with a space and a quote reaches Slurm as one argument.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sshsetup.vscode.jsonc import reader
from tests.testbed.agent import SshAgent
from tests.testbed.slurm import Slurm
from tests.testbed.sshd import Sshd
from tests.testbed.users import TestUser, run_as
from tests.testbed.vscode import CodeServer, Pick

from .conftest import CodeServerFactory

PASSPHRASE = "correct horse battery staple"
ALIAS = "jsc-testbed"

USER_TASKS = """\
// my own tasks
{
    "version": "2.0.0",
    "tasks": [
        {
            "label": "my build",
            "type": "shell",
            "command": "make",
            "args": ["-j", "2"], // trailing comma next
        },
    ],
}
"""

# An ssh argv recorder first on the task's PATH (~/.profile), so the test sees what VS Code started.
SSH_RECORDER = """\
#!/usr/bin/python3
import json, os, sys
with open(os.path.join(os.environ["HOME"], "ssh-argv.log"), "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv("/usr/bin/ssh", ["ssh"] + sys.argv[1:])
"""


def sshsetup_as(user: TestUser, py: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_as(user, [str(py), "-m", "sshsetup", *args], env={"SSHSETUP_NO_CLIPBOARD": "1", **(env or {})}, timeout=120)


def sites_toml(port: int) -> str:
    return (f'[sites.testbed]\nname = "Test bed"\nhostname = "127.0.0.1"\nport = {port}\nalias = "{ALIAS}"\n'
            'gpu_partitions = ["booster"]\ndevel_partitions = ["develbooster"]\n'
            'max_walltime = "24:00:00"\ndevel_max_walltime = "02:00:00"\n')


def write_tasks(u: TestUser, py: Path, port: int, env: dict[str, str] | None = None) -> tuple[Path, dict[str, Any]]:
    """``sshsetup init`` + ``sshsetup vscode --workspace ~/ws`` on a tasks.json with the user's own task."""
    u.write("sites.toml", sites_toml(port))
    u.write("pw", PASSPHRASE + "\n")
    (u.home / ".config" / "Code" / "User").mkdir(parents=True, exist_ok=True)
    ws = u.home / "ws"
    (ws / ".vscode").mkdir(parents=True)
    (ws / ".vscode" / "tasks.json").write_text(USER_TASKS)
    u.chown_tree()
    r = sshsetup_as(u, py, "init", "--site", "testbed", "--sites-file", f"{u.home}/sites.toml", "--user", u.name,
                    "--passphrase-file", f"{u.home}/pw", "--from", "127.0.0.1", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    r2 = sshsetup_as(u, py, "vscode", "--workspace", str(ws), "--where", "both", "--site", "testbed", "--sites-file",
                     f"{u.home}/sites.toml", "--account", "myproject", "--yes")
    assert r2.returncode == 0, r2.stderr
    return ws, reader.parse((ws / ".vscode" / "tasks.json").read_text())


def ours(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in doc["tasks"] if t["label"].startswith("sshsetup: ")]


def test_fetch_tasks_returns_what_sshsetup_wrote(test_user: TestUser, code_server: CodeServerFactory, user_py: Path) -> None:
    ws, doc = write_tasks(test_user, user_py, 22)
    cs = code_server(ws)
    fetched = {t["name"]: t for t in cs.probe.request("tasks") if t["source"] == "Workspace"}
    mine = ours(doc)
    assert len(mine) >= 10
    for t in mine:
        got = fetched.get(t["label"])
        assert got is not None, f"VS Code did not load {t['label']!r}; it has {sorted(fetched)}"
        assert (got["definition"]["type"], got["kind"], got["command"], got["args"]) == (
            t["type"], t["type"], t["command"], t["args"]), t["label"]
        if "cwd" in t.get("options", {}):
            assert got["cwd"] == t["options"]["cwd"]
        if "detail" in t:
            assert got["detail"] == t["detail"]
    own = fetched["my build"]
    assert (own["definition"]["type"], own["kind"], own["command"], own["args"]) == ("shell", "shell", "make", ["-j", "2"])
    assert sorted(fetched) == sorted(t["label"] for t in doc["tasks"])  # nothing VS Code rejected or added
    control = ws / ".vscode" / "control.json"  # a broken file beside it: VS Code must report that one
    control.write_text('{"a": 1 "b": 2}\n')
    tasks_json = ws / ".vscode" / "tasks.json"
    found = {e["file"]: e["diagnostics"] for e in cs.probe.request("diagnostics", files=[str(tasks_json), str(control)], wait_ms=4000)}
    assert [d["severity"] for d in found[str(control)]] == ["error"], found
    assert found[str(tasks_json)] == [], found  # VS Code's tasks.json schema: no problem


def find(doc: dict[str, Any], word: str) -> str:
    """The label of sshsetup's ``ssh <alias> …`` task with the shortest remote command that holds ``word``
    (found by what the task runs, not by its label: labels and groups may be reworded)."""
    found = sorted((len(t["args"][-1]), t["label"]) for t in ours(doc)
                   if t["command"] == "ssh" and ALIAS in t["args"] and word in t["args"][-1])
    assert found, (word, [t["label"] for t in ours(doc)])
    return found[0][1]


def wait_for(cond: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def jobs_of(slurm: Slurm, user: TestUser) -> list[str]:
    r = slurm.run(["squeue", "-h", "-u", user.name, "-o", "%i"])
    return r.stdout.split()


def test_vscode_runs_the_ssh_tasks_against_slurm(test_user: TestUser, slurm: Slurm, sshd_factory: Callable[..., Sshd],
                                                ssh_agent: SshAgent, code_server: CodeServerFactory, user_py: Path,
                                                artifacts: Path) -> None:
    u = test_user
    # the login node: Slurm's config, and a project directory for init --account (remote.SSH.serverInstallPath)
    sshd = sshd_factory(setenv={"SLURM_CONF": str(slurm.conf_path), "PROJECT_myproject": "/p/project1/myproject"})
    try:
        run_against(u, slurm, sshd, ssh_agent, code_server, user_py, artifacts)
    finally:
        run_as(u, ["ssh", "-O", "exit", ALIAS], env=ssh_agent.env)
        slurm.run(["scancel", "-u", u.name])
        wait_for(lambda: not jobs_of(slurm, u), "the test user's jobs gone")


def run_against(u: TestUser, slurm: Slurm, sshd: Sshd, ssh_agent: SshAgent, code_server: CodeServerFactory,
                user_py: Path, artifacts: Path) -> None:
    u.write(".ssh/known_hosts", sshd.known_hosts_text(), mode=0o644)
    ws, doc = write_tasks(u, user_py, sshd.port)
    line = sshsetup_as(u, user_py, "key-line").stdout.strip()
    sshd.authorize(u, line)  # what JuDoor does
    ssh_agent.add(u.ssh_dir / "id_ed25519_jsc", PASSPHRASE)
    r = sshsetup_as(u, user_py, "init", "--account", "myproject", "--from", "127.0.0.1", "--yes", env=ssh_agent.env)
    assert r.returncode == 0, r.stderr
    written = reader.parse((u.home / ".config" / "Code" / "User" / "settings.json").read_text())
    assert "remote.SSH.serverInstallPath" in written
    u.write("bin/ssh", SSH_RECORDER, mode=0o755)
    u.write("ws/job.sh", "#!/bin/bash\n#SBATCH --account=myproject\n#SBATCH --partition=develbooster\n"
            "#SBATCH --time=00:05:00\n#SBATCH --ntasks=1\nsleep 300\n", mode=0o755)
    u.chown_tree()
    # the login-node variants (sbatch ${file}, ...) run where code-server runs: here, with the test bed's Slurm
    u.write(".profile", f'PATH="$HOME/bin:$PATH"\nexport SLURM_CONF={slurm.conf_path}\n', mode=0o644)
    cs = code_server(ws, SSH_AUTH_SOCK=ssh_agent.env["SSH_AUTH_SOCK"], SLURM_CONF=str(slurm.conf_path))
    # the settings init --account added, as VS Code sees them (the settings test covers the rest)
    seen = cs.probe.request("settings", keys=sorted(k for k in written if k.startswith("remote.SSH.")))
    for k, v in seen.items():
        assert (v["user"], v["effective"]) == (written[k], written[k]), (k, v)
    assert seen["remote.SSH.serverInstallPath"]["type"] == "object"
    assert all(isinstance(p, str) for p in seen["remote.SSH.serverInstallPath"]["effective"].values())
    run_tasks(cs, u, slurm, doc, artifacts)


def argv_log(u: TestUser) -> list[list[str]]:
    p = u.home / "ssh-argv.log"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def local(doc: dict[str, Any], command: str) -> str:
    """The label of sshsetup's login-node task that runs ``command`` itself (no ssh)."""
    found = [t["label"] for t in ours(doc) if t["command"] == command]
    assert len(found) == 1, (command, [t["label"] for t in ours(doc)])
    return found[0]


def run_tasks(cs: CodeServer, u: TestUser, slurm: Slurm, doc: dict[str, Any], artifacts: Path) -> None:
    assert cs.browser is not None
    run_local_tasks(cs, u, slurm, doc)
    # the task picker, as a user sees it
    cs.browser.call("palette", command="Tasks: Run Task")
    cs.browser.call("wait", ms=1500)
    rows = cs.browser.call("rows")
    print(f"task picker: {rows}")
    cs.screenshot(artifacts / "task-picker.png")
    cs.browser.call("press", key="Escape")

    # submit: type a value (the script's path relative to the remote home)
    submit = find(doc, "sbatch")
    r = cs.run_task(submit, ["ws/job.sh"])
    assert r["end"]["exitCode"] == 0, cs.terminal_text()
    [job] = wait_for(lambda: jobs_of(slurm, u), "the submitted job in squeue")
    assert f"Submitted batch job {job}" in cs.terminal_text()

    # my jobs: no input
    r = cs.run_task(find(doc, "squeue --me"))
    assert r["end"]["exitCode"] == 0
    assert job in cs.terminal_text()

    # partition limits: pick from the list VS Code offers
    r = cs.run_task(find(doc, "sinfo"), [Pick("develbooster")])
    print(f"partition prompt: {r['prompts'][0]}")
    assert r["end"]["exitCode"] == 0, cs.terminal_text()
    assert "MaxTime=02:00:00" in cs.terminal_text()  # develbooster's limit, read live from Slurm
    assert argv_log(u)[-1][-1].endswith("develbooster\nSSHSETUP_END_OF_INPUT_7f3a\n)\"") or "develbooster" in argv_log(u)[-1][-1]

    # cancel: type the job id
    r = cs.run_task(find(doc, "scancel"), [job])
    assert r["end"]["exitCode"] == 0, cs.terminal_text()
    wait_for(lambda: job not in jobs_of(slurm, u), f"job {job} cancelled")

    # interactive allocation: accept the default account, pick a partition, type a time limit
    interactive = find(doc, "--pty")
    r = cs.run_task(interactive, [None, Pick("develbooster"), "00:05:00"], wait_end=False, timeout=60)
    assert r["prompts"][0]["value"] == "myproject", r["prompts"][0]
    wait_for(lambda: jobs_of(slurm, u), "the interactive allocation")
    cs.browser.call("wait", ms=2000)
    cs.browser.call("type", text='echo "alloc=$SLURM_JOB_ID:$SLURM_JOB_ACCOUNT:$SLURM_JOB_PARTITION"; exit\n')
    end = cs.probe.wait_event("end", interactive, since=len(cs.probe.events()) - 2, timeout=60)
    text = cs.terminal_text()
    cs.screenshot(artifacts / "terminal-after-interactive.png")
    assert end["exitCode"] == 0, text
    assert ":myproject:develbooster" in text, text

    # an account with a space and a quote stays one argument: Slurm's budget check names it whole
    odd = "my 'proj x"
    r = cs.run_task(interactive, [odd, Pick("develbooster"), None], timeout=60)
    text = cs.terminal_text()
    cs.screenshot(artifacts / "terminal-odd-account.png")
    print(f"odd account terminal:\n{text}")
    assert r["end"]["exitCode"] != 0
    assert f"Budget '{odd}' is not valid" in text, text
    last = argv_log(u)[-1]
    assert last[:2] == ["-t", ALIAS] and odd in last[2], last

    # the login-node variant (srun run by VS Code itself, no ssh) passes the same account the same way
    r = cs.run_task(local(doc, "srun"), [odd, Pick("develbooster"), None], timeout=60)
    text = cs.terminal_text()
    assert r["end"]["exitCode"] != 0
    assert f"Budget '{odd}' is not valid" in text, text


def run_local_tasks(cs: CodeServer, u: TestUser, slurm: Slurm, doc: dict[str, Any]) -> None:
    """The tasks for a workspace on the login node: submit the file open in the editor, list, cancel."""
    assert cs.browser is not None
    script = u.home / "ws" / "job.sh"
    assert cs.probe.request("open", file=str(script))["active"] == str(script)
    r = cs.run_task(local(doc, "sbatch"))
    assert r["end"]["exitCode"] == 0, cs.terminal_text()
    [job] = wait_for(lambda: jobs_of(slurm, u), "the job submitted from the editor")
    assert f"Submitted batch job {job}" in cs.terminal_text()
    r = cs.run_task(local(doc, "squeue"))
    assert r["end"]["exitCode"] == 0 and job in cs.terminal_text()
    r = cs.run_task(local(doc, "scancel"), [job])
    assert r["end"]["exitCode"] == 0, cs.terminal_text()
    wait_for(lambda: job not in jobs_of(slurm, u), f"job {job} cancelled")
