"""VS Code workspace tasks for Slurm on a JSC login node (``.vscode/tasks.json``, version 2.0.0).

Pure: a ``Site`` and the options in, task and input dicts out.

Every task is a ``"type": "process"`` task: VS Code runs ``[command, *args]`` with no
shell in between, so a test can run exactly the same argv. Two sets:

* remote tasks run where the workspace is open; over Remote-SSH that is the login node;
* local tasks run ``ssh <alias> <one command string>`` from a local workspace. The remote
  command is the remote argv joined with ``shlex.join``: ssh joins its arguments with
  spaces and the remote shell splits them again, and a badly split ``sbatch`` can still
  exit 0 (tests/slurm/test_integration.py).

VS Code replaces ``${input:...}`` and ``${file}`` inside every string before it runs a
task. Each such reference is therefore a whole argv element of its own (never part of a
shell script): in a remote task it is passed through untouched; in a local task
``shlex.join`` puts it in single quotes, so the typed value reaches the remote command
as one word (a value containing ``'`` would break out and is the user's own doing).
Scripts run by ``bash -c`` take their inputs as positional parameters (``"$1"``).

Where a task runs is in its label and its ``detail`` (shown under the label in "Run Task"):
``sshsetup: [login node] ...`` / "Runs on the login node" (remote) and ``sshsetup: [laptop via
<alias>] ...`` / "Runs from this laptop" (local), at the end of the detail. VS Code's own task ``group`` cannot say it: its
schema allows only "build", "test" and "none". ``where`` picks the half a workspace needs
(``guess_where``: the simple rule ``vscode`` uses when ``--where`` is not given); "both" when unsure.

Our tasks' labels start with ``PREFIX`` and our inputs' ids with ``INPUT_PREFIX``; that is
how ``commands/vscode_tasks.py`` finds them again to update or remove them.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sshsetup.catalogue import Partition, Site
from sshsetup.errors import BadInput
from sshsetup.slurm.jobscript import DEFAULT_MINUTES, catalogue_partitions, check_account, fmt_minutes

PREFIX = "sshsetup: "
INPUT_PREFIX = "sshsetup"
VERSION = "2.0.0"
ACCOUNT = "${input:sshsetupAccount}"
PARTITION = "${input:sshsetupPartition}"
JOB_ID = "${input:sshsetupJobId}"
TIME = "${input:sshsetupTime}"
REMOTE_SCRIPT = "${input:sshsetupRemoteScript}"
# After what the task does: VS Code's picker shows one row of the detail, so what tells the tasks apart comes first.
ON_LOGIN_NODE = " Runs on the login node (for a workspace opened there over Remote-SSH)."
REMOTE_LABEL = "[login node] "
WHERE = ("local", "remote", "both")


def from_laptop(alias: str) -> str:
    """The end of a local task's detail: where to run it, and where it runs."""
    return f" Runs from this laptop (a local workspace): ssh {alias} runs it on the login node."


def local_label(alias: str) -> str:
    return f"[laptop via {alias}] "


def _short(host: str) -> str:
    return host.lower().rstrip(".").split(".")[0]


def guess_where(site: Site, env: Mapping[str, str], hostname: str) -> tuple[str, str]:
    """Which tasks a workspace here needs, and why: the rule of ``vscode`` without ``--where``.

    * "remote" when this shell came in over ssh (``SSH_CONNECTION``) and this machine's short host
      name is one of the site's login nodes in the catalogue (``juwels21`` of juwels21.fz-juelich.de),
      or its login host name's first label (a Remote-SSH workspace on the login node);
    * "local" when nobody came in over ssh (no ``SSH_CONNECTION``): one's own laptop or desktop;
    * "both" otherwise (another machine reached over ssh): sshsetup cannot tell.
    """
    if not env.get("SSH_CONNECTION"):
        return "local", "this shell did not come in over ssh (no SSH_CONNECTION): a local workspace"
    names = {_short(n) for n in (*site.get("login_nodes", []), site.hostname)}
    if _short(hostname) in names:
        return "remote", f"this is {_short(hostname)}, a login node of {site.name} in the catalogue"
    return "both", f"reached over ssh, but {_short(hostname) or '(no host name)'} is not a login node of {site.name} in the catalogue"

FOLLOW_SCRIPT = (
    "job=$(squeue --me --noheader --states=all --sort=-i --format=%i | head -n 1)\n"
    'if [ -z "$job" ]; then echo "sshsetup: you have no recent jobs (squeue --me --states=all)"; exit 1; fi\n'
    "out=$(scontrol show job \"$job\" | sed -n 's/^ *StdOut=//p')\n"
    'echo "sshsetup: job $job writes to $out (stop with Ctrl+C)"\n'
    'exec tail -n +1 -F "$out"\n'
)
LIMITS_SCRIPT = "sinfo --format='%P %a %l %D %G' && scontrol show partition \"$1\"\n"
SUBMIT_REMOTE_SCRIPT = 'cd "$(dirname "$1")" && sbatch "$(basename "$1")"\n'


@dataclass(frozen=True)
class Command:
    key: str  # stable part of the label
    title: str
    argv: tuple[str, ...]
    detail: str
    interactive: bool = False  # needs a terminal (ssh -t), own panel


def _bash(script: str, *args: str) -> tuple[str, ...]:
    return ("bash", "-c", script, "sshsetup", *args)


def _partitions(site: Site) -> dict[str, Partition] | None:
    parts = catalogue_partitions(site)
    if parts == {}:
        raise BadInput(f"site {site.id} has no GPU partitions, so no Slurm tasks", hint="choose a system with a batch system: sshsetup sites")
    return parts


def default_partition(site: Site, partition: str | None) -> str:
    """The partition the pick list starts on: the option, else the first devel, else the first GPU partition."""
    parts = _partitions(site)
    if partition is not None:
        if parts is not None and partition not in parts:
            raise BadInput(
                f"partition {partition!r} is not a GPU partition of {site.name}; allowed: {', '.join(parts)}",
                hint=f"use --partition {next(iter(parts))}, or add {partition} to gpu_partitions of [sites.{site.id}] in your sites file",
            )
        return partition
    if parts is None:
        return ""
    devel = [p.name for p in parts.values() if p.kind == "devel"]
    return devel[0] if devel else next(iter(parts))


def _interactive_argv(site: Site) -> tuple[str, ...]:
    gpus = site.gpus_per_node
    gres = (f"--gres=gpu:{gpus}",) if gpus else ()
    return (
        "srun", f"--account={ACCOUNT}", f"--partition={PARTITION}", "--nodes=1", "--ntasks=1", *gres,
        f"--time={TIME}", "--cpu-bind=none", "--pty", "/bin/bash", "-i",
    )  # fmt: skip


def commands(site: Site) -> list[Command]:
    """What runs on the login node; the same list drives the remote and the local tasks."""
    return [
        Command("jobs", "my jobs (squeue --me)", ("squeue", "--me"), "List your pending and running jobs."),
        Command("cancel", "cancel a job (scancel)", ("scancel", JOB_ID), "Cancel one job by its id."),
        Command("show", "show a job (scontrol show job)", ("scontrol", "show", "job", JOB_ID), "Everything Slurm knows about one job."),
        Command(
            "follow", "follow the newest job's output (tail -F)", _bash(FOLLOW_SCRIPT),
            "Find your newest job's StdOut with scontrol show job and follow it.", interactive=True,
        ),
        Command(
            "interactive", "interactive shell on a compute node (srun --pty)", _interactive_argv(site),
            f"An interactive allocation on {site.name}; exit the shell to give the node back.", interactive=True,
        ),
        Command(
            "limits", "partition limits (sinfo, scontrol show partition)", _bash(LIMITS_SCRIPT, PARTITION),
            "The limits Slurm enforces right now (MaxTime, nodes, GPUs), read live.",
        ),
        Command("quota", "quotas (jutil user dataquota)", ("jutil", "user", "dataquota"), "Your disk and file-count quotas ($HOME has few inodes)."),
    ]  # fmt: skip


def _presentation(interactive: bool) -> dict[str, Any]:
    if interactive:
        return {"reveal": "always", "focus": True, "panel": "dedicated", "clear": True}
    return {"reveal": "always", "panel": "shared", "clear": True}


def _task(label: str, command: str, args: list[str], detail: str, interactive: bool, cwd: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {"label": label, "type": "process", "command": command, "args": args}
    if cwd is not None:
        task["options"] = {"cwd": cwd}
    task["detail"] = detail
    task["problemMatcher"] = []
    task["presentation"] = _presentation(interactive)
    return task


def remote_tasks(site: Site) -> list[dict[str, Any]]:
    """Tasks for a workspace opened on the login node over Remote-SSH."""
    out = [
        _task(
            f"{PREFIX}{REMOTE_LABEL}submit the current file (sbatch)", "sbatch", ["${file}"],
            "Submit the job script open in the editor; its output goes next to it." + ON_LOGIN_NODE, False,
            cwd="${fileDirname}",
        )
    ]  # fmt: skip
    for c in commands(site):
        out.append(_task(PREFIX + REMOTE_LABEL + c.title, c.argv[0], list(c.argv[1:]), c.detail + ON_LOGIN_NODE, c.interactive))
    return out


HEREDOC_END = "SSHSETUP_END_OF_INPUT_7f3a"


def remote_word(word: str) -> str:
    """One word of the remote command line, for the login node's POSIX shell.

    VS Code puts what the user typed into ``${input:...}`` (and ``${file}``) as raw text, so such
    a word cannot be single-quoted (a typed ``'`` would end the quotes and run the rest). It becomes
    a quoted here-document instead: nothing in it is expanded, and since VS Code's input box holds
    one line, the typed text can never contain the end marker on a line of its own.
    """
    if "${" in word:
        return f'"$(cat <<\'{HEREDOC_END}\'\n{word}\n{HEREDOC_END}\n)"'
    return shlex.quote(word)


def ssh_args(alias: str, argv: tuple[str, ...], interactive: bool) -> list[str]:
    """``ssh`` arguments running ``argv`` on ``alias`` as one command string whose words stay words."""
    return [*(["-t"] if interactive else []), alias, " ".join(remote_word(w) for w in argv)]


def local_tasks(site: Site, alias: str) -> list[dict[str, Any]]:
    """Tasks for a local workspace: each runs one command on ``alias`` through ssh."""
    prefix = PREFIX + local_label(alias)
    submit = _bash(SUBMIT_REMOTE_SCRIPT, REMOTE_SCRIPT)
    out = [
        _task(
            f"{prefix}submit a job script on the cluster (sbatch)", "ssh", ssh_args(alias, submit, False),
            f"Submit a job script that is already on {alias}; its output goes next to it." + from_laptop(alias), False,
        )
    ]  # fmt: skip
    for c in commands(site):
        out.append(_task(prefix + c.title, "ssh", ssh_args(alias, c.argv, c.interactive), c.detail + from_laptop(alias),
                         c.interactive))
    return out


def inputs(site: Site, account: str, partition: str, alias: str) -> list[dict[str, Any]]:
    parts = _partitions(site)
    if parts is None:
        part_input: dict[str, Any] = {
            "id": "sshsetupPartition", "type": "promptString",
            "description": f"Slurm partition on {site.name} (list them: sinfo -s)", "default": partition,
        }  # fmt: skip
    else:
        options = []
        for p in parts.values():
            shown = f"up to {fmt_minutes(p.max_time_minutes)}" if p.max_time_minutes else "limit: ask Slurm"
            options.append({"label": f"{p.name} ({p.kind}, {shown})", "value": p.name})
        part_input = {
            "id": "sshsetupPartition", "type": "pickString",
            "description": f"Slurm partition on {site.name}", "options": options, "default": partition,
        }  # fmt: skip
    limit = parts[partition].max_time_minutes if parts and partition in parts else None
    return [
        {"id": "sshsetupAccount", "type": "promptString", "description": "Slurm account: your compute project (budget) in JuDoor", "default": account},
        part_input,
        {"id": "sshsetupJobId", "type": "promptString", "description": "Slurm job id (see: squeue --me)"},
        {"id": "sshsetupTime", "type": "promptString", "description": "Time limit, HH:MM:SS", "default": fmt_minutes(min(DEFAULT_MINUTES, limit or DEFAULT_MINUTES))},
        {"id": "sshsetupRemoteScript", "type": "promptString", "description": f"Job script on {alias}: absolute path, or relative to your home there"},
    ]  # fmt: skip


def make_tasks(site: Site, account: str = "", partition: str | None = None, alias: str | None = None,
               where: str = "both") -> dict[str, Any]:
    """The whole tasks.json document sshsetup would write into an empty workspace.

    ``where``: "remote" (the login-node tasks), "local" (the ssh tasks) or "both"; only the inputs
    the chosen tasks use are written."""
    if where not in WHERE:
        raise BadInput(f"--where {where!r} is not known; allowed: {', '.join(WHERE)}", hint="leave it out: sshsetup picks by where it runs")
    if account:
        check_account(account)
    alias = alias or site.alias
    part = default_partition(site, partition)
    tasks = (remote_tasks(site) if where != "local" else []) + (local_tasks(site, alias) if where != "remote" else [])
    used = json.dumps(tasks)
    return {
        "version": VERSION,
        "tasks": tasks,
        "inputs": [i for i in inputs(site, account, part, alias) if f"${{input:{i['id']}}}" in used],
    }


def is_our_task(task: object) -> bool:
    return isinstance(task, dict) and isinstance(task.get("label"), str) and task["label"].startswith(PREFIX)


def is_our_input(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].startswith(INPUT_PREFIX)
